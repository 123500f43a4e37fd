package api

// IncidentsDeps are the services the incidents operations need; with them unset the
// module declares no operations.
type IncidentsDeps struct{}

// declareIncidents declares the incidents module's operations.
func (s *Server) declareIncidents() {}
