package api

// ISMSRiskDeps are the services the isms risk operations need; with them unset
// the module declares no operations.
type ISMSRiskDeps struct{}

// declareISMSRisk declares the isms risk operations.
func (s *Server) declareISMSRisk() {}
