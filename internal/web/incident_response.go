package web

import "net/http"

// IncidentResponseDeps are the services the regulatory-clock, breach-register
// and notification pages need; with them unset they register no pages.
type IncidentResponseDeps struct{}

// incidentResponseRoutes lists the incident-response console routes.
func (s *Server) incidentResponseRoutes() []route { return nil }

// incidentResponseSection is the data of the incident page's regulatory
// section (clocks, breach flag, notification drafts), rendered there with
// {{template "incident_response_section" .}}; nil renders nothing.
func (s *Server) incidentResponseSection(r *http.Request, incidentID int64) (any, error) {
	_, _ = r, incidentID
	return nil, nil
}
