package api

import (
	"net/http"

	"github.com/custodia/custodia/internal/identity"
)

// Me describes the caller.
type Me struct {
	UserID     int64         `json:"user_id"`
	Username   string        `json:"username"`
	Role       identity.Role `json:"role"`
	AllClients bool          `json:"all_clients"`
	ClientIDs  []int64       `json:"client_ids"`
	TeamIDs    []int64       `json:"team_ids,omitempty"`
	PersonID   int64         `json:"person_id,omitempty"`
	Locale     string        `json:"locale"`
	// TokenID is set when the caller authenticated with an API token.
	TokenID int64 `json:"token_id,omitempty"`
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, meOf(principal(r)))
	return nil
}

func meOf(p *identity.Principal) Me {
	me := Me{UserID: p.UserID, Username: p.Username, Role: p.Role, AllClients: p.AllClients,
		ClientIDs: p.ClientIDs, TeamIDs: p.TeamIDs, PersonID: p.PersonID, Locale: p.Locale, TokenID: p.TokenID}
	if me.ClientIDs == nil {
		me.ClientIDs = []int64{}
	}
	return me
}
