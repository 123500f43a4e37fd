package web

// IncidentsDeps are the services the incidents pages need; with them unset the
// module registers no pages.
type IncidentsDeps struct{}

// incidentsRoutes lists the incidents module's console routes.
func (s *Server) incidentsRoutes() []route { return nil }
