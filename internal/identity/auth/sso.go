package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
)

// SSOLogin signs in a user the OpenID Connect provider vouched for (see
// package sso). The account is found by issuer and subject; on first
// sign-in it is created (audited "user.create"), and on every sign-in its
// role and client scope follow the provider's claims (audited
// "user.role_change" when they change). Unknown client codes are ignored
// (and noted in the audit trail). A disabled account is ErrInactive. The
// session counts as having passed MFA: enforce MFA at the provider.
func (s *Service) SSOLogin(ctx context.Context, ext *identity.ExternalIdentity, ip, userAgent string) (*LoginResult, error) {
	if ext == nil || ext.Issuer == "" || ext.Subject == "" {
		return nil, errors.New("single sign-on identity without issuer or subject")
	}
	if _, err := identity.ParseRole(string(ext.Role)); err != nil {
		return nil, err
	}
	var u *identity.User
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		ids, err := tx.ClientIDsByCodes(ctx, ext.ClientCodes)
		if err != nil {
			return err
		}
		var clientIDs []int64
		var unknown []string
		for _, c := range ext.ClientCodes {
			if id, ok := ids[c]; ok {
				clientIDs = append(clientIDs, id)
			} else {
				unknown = append(unknown, c)
			}
		}
		slices.Sort(clientIDs)
		note := ""
		if len(unknown) > 0 {
			note = "; unknown client codes ignored: " + strings.Join(unknown, ",")
		}
		existing, err := tx.UserByOIDC(ctx, ext.Issuer, ext.Subject)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if existing == nil {
			nu := identity.User{Username: ssoUsername(ext), Email: ext.Email, DisplayName: ext.Name, Role: ext.Role,
				AllClients: ext.AllClients, ClientIDs: clientIDs, Active: true, OIDCIssuer: ext.Issuer, OIDCSubject: ext.Subject}
			nu.Normalize()
			if err := nu.Validate(); err != nil {
				var fe identity.FieldErrors
				if errors.As(err, &fe) && fe["email"] != "" {
					nu.Email = "" // a provider's odd e-mail does not block the sign-in
				}
				if errors.As(err, &fe) && fe["username"] != "" {
					nu.Username = "sso-" + identity.Digest(ext.Issuer + "\x00" + ext.Subject)[:12]
				}
			}
			if err := tx.CreateUser(ctx, &nu, "", s.now()); err != nil {
				var fe identity.FieldErrors
				if !errors.As(err, &fe) || fe["username"] == "" {
					return err
				}
				return fmt.Errorf("single sign-on: the username %q is taken by another account; ask an administrator", nu.Username)
			}
			if note != "" {
				if err := tx.Audit(ctx, audit.Record{Action: "user.sso_claims", ObjectType: "user", ObjectID: fmt.Sprint(nu.ID), Detail: strings.TrimPrefix(note, "; ")}); err != nil {
					return err
				}
			}
			u = &nu
			return nil
		}
		if !existing.Active {
			u = existing
			return nil
		}
		changed := *existing
		changed.Role, changed.AllClients, changed.ClientIDs = ext.Role, ext.AllClients, clientIDs
		if changed.Role != identity.RoleSupervisor {
			changed.TeamIDs = nil
		}
		if ext.Name != "" {
			changed.DisplayName = ext.Name
		}
		if changed.Role != existing.Role || changed.AllClients != existing.AllClients || !slices.Equal(changed.ClientIDs, existing.ClientIDs) ||
			changed.DisplayName != existing.DisplayName || !slices.Equal(changed.TeamIDs, existing.TeamIDs) {
			changed.Normalize()
			if err := tx.UpdateUser(ctx, &changed, s.now()); err != nil {
				return err
			}
		}
		u = &changed
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !u.Usable(s.now()) || u.External {
		// External accounts sign in with their own password and TOTP only.
		_ = s.st.Audit(ctx, audit.Record{Action: "auth.login_refused", Actor: u.Username, ActorUserID: u.ID,
			ObjectType: "user", ObjectID: fmt.Sprint(u.ID), IP: ip, Detail: "account disabled, expired or external (single sign-on)"})
		return nil, ErrInactive
	}
	return s.startSession(ctx, u, ip, userAgent, "sso", nil)
}

func ssoUsername(ext *identity.ExternalIdentity) string {
	switch {
	case ext.Email != "":
		return ext.Email
	case ext.Username != "":
		return ext.Username
	}
	return "sso-" + identity.Digest(ext.Issuer + "\x00" + ext.Subject)[:12]
}
