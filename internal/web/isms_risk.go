package web

// ISMSRiskDeps are the services the asset, risk, policy and audit pages
// need; with them unset they register no pages.
type ISMSRiskDeps struct{}

// ismsRiskRoutes lists the asset, risk, policy and audit console routes.
func (s *Server) ismsRiskRoutes() []route { return nil }
