package api

import (
	"context"
	"net/http"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
)

// Tokens is what the API needs of the identity service for API tokens.
type Tokens interface {
	CreateAPIToken(ctx context.Context, p *identity.Principal, in auth.NewAPIToken) (string, *identity.APIToken, error)
	APITokens(ctx context.Context, p *identity.Principal, includeRevoked bool) ([]identity.APIToken, error)
	RevokeAPIToken(ctx context.Context, p *identity.Principal, id int64) error
}

// APIToken describes an API token; the token itself is never shown again
// after its creation.
type APIToken struct {
	ID         int64         `json:"id"`
	Name       string        `json:"name"`
	Prefix     string        `json:"prefix" doc:"the token's first characters, to recognise it"`
	Role       identity.Role `json:"role"`
	AllClients bool          `json:"all_clients"`
	ClientIDs  []int64       `json:"client_ids"`
	CreatedBy  int64         `json:"created_by,omitempty"`
	CreatedAt  time.Time     `json:"created_at"`
	ExpiresAt  *time.Time    `json:"expires_at,omitempty"`
	LastUsedAt *time.Time    `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time    `json:"revoked_at,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func tokenOut(t *identity.APIToken) APIToken {
	out := APIToken{ID: t.ID, Name: t.Name, Prefix: t.Prefix, Role: t.Role, AllClients: t.AllClients, ClientIDs: t.ClientIDs,
		CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, ExpiresAt: optTime(t.ExpiresAt), LastUsedAt: optTime(t.LastUsedAt), RevokedAt: optTime(t.RevokedAt)}
	if out.ClientIDs == nil {
		out.ClientIDs = []int64{}
	}
	return out
}

// TokenInput creates an API token.
type TokenInput struct {
	Name       string        `json:"name"`
	Role       identity.Role `json:"role"`
	AllClients bool          `json:"all_clients,omitempty"`
	ClientIDs  []int64       `json:"client_ids,omitempty"`
	ExpiresAt  *time.Time    `json:"expires_at,omitempty" doc:"RFC 3339; absent means the token never expires"`
}

// CreatedToken is a new token with its secret, shown this once.
type CreatedToken struct {
	APIToken
	Token string `json:"token" doc:"the secret to send as Authorization: Bearer …; shown only now"`
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	if s.tokens == nil {
		return errUnavailable
	}
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	revoked, err := queryBool(r, "include_revoked")
	if err != nil {
		return err
	}
	list, err := s.tokens.APITokens(r.Context(), principal(r), revoked != nil && *revoked)
	if err != nil {
		return err
	}
	out := make([]APIToken, len(list))
	for i := range list {
		out[i] = tokenOut(&list[i])
	}
	writeJSON(w, http.StatusOK, pageOf(out, limit, offset))
	return nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	if s.tokens == nil {
		return errUnavailable
	}
	var in TokenInput
	if err := decode(r, &in); err != nil {
		return err
	}
	nt := auth.NewAPIToken{Name: in.Name, Role: in.Role, AllClients: in.AllClients, ClientIDs: in.ClientIDs}
	if in.ExpiresAt != nil {
		nt.ExpiresAt = *in.ExpiresAt
	}
	plain, t, err := s.tokens.CreateAPIToken(r.Context(), principal(r), nt)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, CreatedToken{APIToken: tokenOut(t), Token: plain})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if s.tokens == nil {
		return errUnavailable
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.tokens.RevokeAPIToken(r.Context(), principal(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
