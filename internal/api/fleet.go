package api

// FleetDeps are the services the fleet operations need; with them unset the
// module declares no operations.
type FleetDeps struct{}

// declareFleet declares the fleet module's operations.
func (s *Server) declareFleet() {}
