package web

// DataProtectionDeps are the services the dataprotection pages need; with them unset the
// module registers no pages.
type DataProtectionDeps struct{}

// dataProtectionRoutes lists the dataprotection module's console routes.
func (s *Server) dataProtectionRoutes() []route { return nil }
