package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
)

// NewAPIToken is the input of CreateAPIToken.
type NewAPIToken struct {
	Name       string
	Role       identity.Role
	AllClients bool
	ClientIDs  []int64
	ExpiresAt  time.Time // zero = never
}

// CreateAPIToken creates an API token for the principal and returns its
// plaintext — shown once, stored only as its SHA-256. An administrator may
// give any role; anyone else only their own role. The client scope must lie
// within the principal's. Invalid input is identity.FieldErrors.
func (s *Service) CreateAPIToken(ctx context.Context, p *identity.Principal, in NewAPIToken) (string, *identity.APIToken, error) {
	if p == nil || p.TokenID != 0 {
		return "", nil, ErrForbidden
	}
	now := s.now()
	in.Name = strings.TrimSpace(in.Name)
	slices.Sort(in.ClientIDs)
	in.ClientIDs = slices.Compact(in.ClientIDs)
	fe := identity.FieldErrors{}
	if in.Name == "" || len([]rune(in.Name)) > 100 {
		fe["name"] = "Give the token a name of 1 to 100 characters."
	}
	if _, err := identity.ParseRole(string(in.Role)); err != nil {
		fe["role"] = "Choose one of the roles."
	} else if p.Role != identity.RoleAdmin && in.Role != p.Role {
		fe["role"] = "You can only create tokens with your own role."
	}
	switch {
	case in.AllClients && len(in.ClientIDs) > 0:
		fe["client_ids"] = "Choose either all clients or some clients, not both."
	case in.AllClients && !p.AllClients:
		fe["client_ids"] = "You cannot give a token access to all clients."
	case !in.AllClients:
		for _, c := range in.ClientIDs {
			if !p.CanSeeClient(c) {
				fe["client_ids"] = fmt.Sprintf("Client %d is outside your scope.", c)
				break
			}
		}
	}
	if !in.ExpiresAt.IsZero() && !in.ExpiresAt.After(now) {
		fe["expires_at"] = "The expiry must be in the future."
	}
	if len(fe) > 0 {
		return "", nil, fe
	}
	plain := identity.NewAPIToken()
	t := &identity.APIToken{Name: in.Name, Prefix: identity.TokenDisplayPrefix(plain), Role: in.Role, AllClients: in.AllClients,
		ClientIDs: in.ClientIDs, CreatedBy: p.UserID, CreatedAt: now, ExpiresAt: in.ExpiresAt.UTC()}
	if err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.CreateAPIToken(ctx, t, identity.Digest(plain)) }); err != nil {
		return "", nil, err
	}
	return plain, t, nil
}

// APITokens lists tokens: every token for an administrator, otherwise the principal's own.
func (s *Service) APITokens(ctx context.Context, p *identity.Principal, includeRevoked bool) ([]identity.APIToken, error) {
	if p == nil {
		return nil, ErrForbidden
	}
	f := identity.APITokenFilter{IncludeRevoked: includeRevoked}
	if p.Role != identity.RoleAdmin {
		f.CreatedBy = p.UserID
	}
	return s.st.APITokens(ctx, f)
}

// RevokeAPIToken revokes a token: its creator or an administrator may.
func (s *Service) RevokeAPIToken(ctx context.Context, p *identity.Principal, id int64) error {
	if p == nil {
		return ErrForbidden
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		t, err := tx.APIToken(ctx, id)
		if err != nil {
			return err
		}
		if p.Role != identity.RoleAdmin && t.CreatedBy != p.UserID {
			return fmt.Errorf("api token %d: %w", id, store.ErrNotFound)
		}
		return tx.RevokeAPIToken(ctx, id, s.now())
	})
}

// TokenPrincipal returns the principal of an API token (the Bearer
// credential): its role and client scope, acting on behalf of its creator.
// An unknown, revoked or expired token, or one whose creator is disabled, is
// ErrBadToken. Uses are audited as "token.use", at most once per token per
// Config.TokenAuditInterval (the token's last-used time is updated then too).
func (s *Service) TokenPrincipal(ctx context.Context, bearer string) (*identity.Principal, error) {
	if !identity.LooksLikeAPIToken(bearer) {
		return nil, ErrBadToken
	}
	now := s.now()
	t, err := s.st.APITokenByHash(ctx, identity.Digest(bearer))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, err
	}
	if !t.Valid(now) {
		return nil, ErrBadToken
	}
	p := &identity.Principal{UserID: t.CreatedBy, Username: t.Name, Role: t.Role, AllClients: t.AllClients,
		ClientIDs: t.ClientIDs, TokenID: t.ID}
	if p.ClientIDs == nil {
		p.ClientIDs = []int64{}
	}
	if t.CreatedBy != 0 {
		u, err := s.st.User(ctx, t.CreatedBy)
		if err != nil || !u.Usable(now) || u.External {
			return nil, ErrBadToken
		}
		// A token never outranks its creator as they are now: a creator
		// who lost the token's role disables it, and a creator whose client
		// scope shrank narrows it.
		if u.Role != identity.RoleAdmin && u.Role != t.Role {
			return nil, ErrBadToken
		}
		if !u.AllClients {
			var keep []int64
			for _, c := range u.ClientIDs {
				if t.AllClients || slices.Contains(t.ClientIDs, c) {
					keep = append(keep, c)
				}
			}
			p.AllClients, p.ClientIDs = false, append([]int64{}, keep...)
		}
		p.Locale = u.Locale
		switch t.Role {
		case identity.RoleSupervisor:
			p.TeamIDs = u.TeamIDs
		case identity.RoleAgent:
			p.PersonID = u.PersonID
		}
	}
	if s.shouldAuditUse(t.ID, now) {
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			return tx.UseAPIToken(ctx, t, now, fmt.Sprintf("API token %q (%s) used", t.Name, t.Prefix))
		})
		if err != nil {
			s.forgetAuditUse(t.ID)
			return nil, err
		}
	}
	return p, nil
}

func (s *Service) shouldAuditUse(id int64, now time.Time) bool {
	return s.shouldAudit("token:"+strconv.FormatInt(id, 10), now)
}

// shouldAudit reports whether an event of key may be audited at now: at
// most once per Config.TokenAuditInterval.
func (s *Service) shouldAudit(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.rateAudited[key]; ok && now.Sub(last) < s.cfg.TokenAuditInterval {
		return false
	}
	s.rateAudited[key] = now
	return true
}

func (s *Service) forgetAuditUse(id int64) {
	s.mu.Lock()
	delete(s.rateAudited, "token:"+strconv.FormatInt(id, 10))
	s.mu.Unlock()
}
