package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
)

var secretNameRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

func secretAD(name string) []byte { return []byte("secrets:" + name) }

// PutSecret stores a named secret (e.g. "smtp.password", "oidc.client_secret")
// sealed with the master key; administrators only (p == nil is the system).
// The audit trail records the name, never the value.
func (s *Service) PutSecret(ctx context.Context, p *identity.Principal, name string, value []byte) error {
	if p != nil && p.Role != identity.RoleAdmin {
		return ErrForbidden
	}
	if !secretNameRE.MatchString(name) {
		return identity.FieldErrors{"name": "Use a lower-case name of letters, digits, dots, dashes or underscores."}
	}
	sealed, err := s.keys.Seal(value, secretAD(name))
	if err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error { return tx.PutSecret(ctx, name, sealed, s.keys.KeyID(), s.now()) })
}

// Secret returns the value of a named secret for the server's own use (never
// show it). A missing secret wraps store.ErrNotFound.
func (s *Service) Secret(ctx context.Context, name string) ([]byte, error) {
	sealed, err := s.st.Secret(ctx, name)
	if err != nil {
		return nil, err
	}
	v, err := s.keys.Open(sealed, secretAD(name))
	if err != nil {
		return nil, fmt.Errorf("secret %q: %w", name, err)
	}
	return v, nil
}

// DeleteSecret removes a named secret (administrators only).
func (s *Service) DeleteSecret(ctx context.Context, p *identity.Principal, name string) error {
	if p != nil && p.Role != identity.RoleAdmin {
		return ErrForbidden
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteSecret(ctx, name) })
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("secret %q: %w", name, store.ErrNotFound)
	}
	return err
}
