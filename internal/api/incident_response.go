package api

// IncidentResponseDeps are the services the incident response operations need; with them unset
// the module declares no operations.
type IncidentResponseDeps struct{}

// declareIncidentResponse declares the incident response operations.
func (s *Server) declareIncidentResponse() {}
