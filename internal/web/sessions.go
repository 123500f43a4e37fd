package web

import (
	"net/http"

	"github.com/custodia/custodia/internal/identity"
)

type sessionsData struct {
	Sessions []identity.Session
	Current  string
	// UserID is whose sessions are listed (the admin's user page reuses this).
	UserID int64
}

// sessionsPage lists the signed-in user's own sessions.
func (s *Server) sessionsPage(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	list, err := s.id.Sessions(r.Context(), p, p.UserID)
	if err != nil {
		return err
	}
	v := s.newView(r, "sessions.title", &sessionsData{Sessions: list, Current: p.SessionID, UserID: p.UserID})
	return s.render(w, http.StatusOK, "sessions", v)
}

// sessionRevoke ends one of the user's own sessions (revoking the current
// one signs out).
func (s *Server) sessionRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	p := principal(r)
	id := r.PostForm.Get("session_id")
	if id == "" {
		return errStatus(http.StatusBadRequest, "error.bad_request")
	}
	if err := s.id.RevokeSession(r.Context(), p, p.UserID, id); err != nil {
		return err
	}
	if id == p.SessionID {
		return redirect(w, r, "/login")
	}
	return redirect(w, r, withFlash("/sessions", "session_revoked"))
}
