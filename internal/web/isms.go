package web

// ISMSDeps are the services the isms pages need; with them unset the
// module registers no pages.
type ISMSDeps struct{}

// ismsRoutes lists the isms module's console routes.
func (s *Server) ismsRoutes() []route { return nil }
