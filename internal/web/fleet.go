package web

// FleetDeps are the services the fleet pages need; with them unset the
// module registers no pages.
type FleetDeps struct{}

// fleetRoutes lists the fleet module's console routes.
func (s *Server) fleetRoutes() []route { return nil }
