package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
)

type tokensData struct {
	Tokens    []identity.APIToken
	Roles     []Option
	Clients   []Option
	Plaintext string // the new token, shown once
	Now       time.Time
}

func (s *Server) tokensView(r *http.Request, t *identity.APIToken) (*view, *tokensData, error) {
	list, err := s.id.APITokens(r.Context(), principal(r), true)
	if err != nil {
		return nil, nil, err
	}
	rf, err := s.loadRefs(r.Context(), scope(r))
	if err != nil {
		return nil, nil, err
	}
	d := &tokensData{Tokens: list, Now: s.now()}
	v := s.newView(r, "tokens.title", d)
	for _, role := range identity.Roles {
		if role == identity.RoleAgent {
			continue
		}
		d.Roles = append(d.Roles, Option{Value: string(role), Label: v.RoleName(role), Selected: t != nil && t.Role == role})
	}
	for _, c := range rf.clients {
		d.Clients = append(d.Clients, Option{Value: itoa64(c.ID), Label: c.Name, Selected: t != nil && slices.Contains(t.ClientIDs, c.ID)})
	}
	return v, d, nil
}

func (s *Server) tokenList(w http.ResponseWriter, r *http.Request) error {
	v, _, err := s.tokensView(r, &identity.APIToken{Role: identity.RoleAuditor})
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "tokens", v)
}

// tokenCreate creates a token and shows it once, in this response only.
func (s *Server) tokenCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	t := &identity.APIToken{Name: strings.TrimSpace(f.Get("name")), AllClients: f.Get("all_clients") == "on"}
	fe := identity.FieldErrors{}
	if t.Name == "" {
		fe["name"] = "is required"
	}
	role, err := identity.ParseRole(f.Get("role"))
	if err != nil || role == identity.RoleAgent {
		fe["role"] = "Choose one of the roles."
	}
	t.Role = role
	for _, c := range f["client_ids"] {
		id, err := strconv.ParseInt(c, 10, 64)
		if err != nil || id <= 0 {
			fe["client_ids"] = "contains an invalid choice"
			break
		}
		t.ClientIDs = append(t.ClientIDs, id)
	}
	if days := strings.TrimSpace(f.Get("expires_days")); days != "" {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 3650 {
			fe["expires_days"] = "must be a number of days between 1 and 3650"
		} else {
			t.ExpiresAt = s.now().Add(time.Duration(n) * 24 * time.Hour)
		}
	}
	var plaintext string
	err = fe.Err()
	if err == nil {
		plaintext, _, err = s.id.CreateAPIToken(r.Context(), principal(r), auth.NewAPIToken{
			Name: t.Name, Role: t.Role, AllClients: t.AllClients, ClientIDs: t.ClientIDs, ExpiresAt: t.ExpiresAt})
	}
	v, d, verr := s.tokensView(r, t)
	if verr != nil {
		return verr
	}
	if err != nil {
		v.Form = f
		if v.setFieldErrors(err) {
			return s.render(w, http.StatusUnprocessableEntity, "tokens", v)
		}
		return err
	}
	d.Plaintext = plaintext
	v.Form = nil
	return s.render(w, http.StatusOK, "tokens", v)
}

func (s *Server) tokenRevoke(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.id.RevokeAPIToken(r.Context(), principal(r), id); err != nil {
		return err
	}
	return redirect(w, r, withFlash("/tokens", "token_revoked"))
}
