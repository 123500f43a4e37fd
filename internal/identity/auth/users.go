package auth

import (
	"context"
	"errors"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
)

// NewUser is the input of CreateUser.
type NewUser struct {
	identity.User
	// Password is the initial password; empty generates a one-time password
	// (returned once, to be changed at first sign-in) unless SSOOnly.
	Password string
	// SSOOnly creates an account without a local password.
	SSOOnly bool
}

// CreateUser creates a user; only an administrator (or the system, p == nil,
// from the command line) may. Invalid input is identity.FieldErrors (unknown
// clients, teams or person included). It returns the one-time password when
// one was generated — show it once, never log it.
func (s *Service) CreateUser(ctx context.Context, p *identity.Principal, in NewUser) (*identity.User, string, error) {
	if p != nil && p.Role != identity.RoleAdmin {
		return nil, "", ErrForbidden
	}
	u := in.User
	u.ID = 0
	u.Active = true
	u.Normalize()
	fe := identity.FieldErrors{}
	if err := u.Validate(); err != nil {
		errors.As(err, &fe)
	}
	oneTime := ""
	pw := in.Password
	switch {
	case in.SSOOnly:
		pw = ""
	case pw == "":
		pw = identity.RandomPassword()
		oneTime = pw
		u.MustChangePassword = true
	default:
		if msg := identity.CheckPasswordPolicy(u.Username, pw); msg != "" {
			fe["password"] = msg
		}
	}
	if len(fe) > 0 {
		return nil, "", fe
	}
	hash := ""
	if pw != "" {
		var err error
		if hash, err = s.hash(ctx, pw); err != nil {
			return nil, "", err
		}
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, &u, hash, s.now()) })
	if err != nil {
		return nil, "", err
	}
	return &u, oneTime, nil
}

// UpdateUser changes a user's profile, role, scope, locale or active flag
// (administrators only). Deactivating ends the user's sessions and revokes
// their tokens at once. The last active administrator cannot be demoted or
// deactivated. Credentials are not touched.
func (s *Service) UpdateUser(ctx context.Context, p *identity.Principal, u *identity.User) error {
	if p == nil || p.Role != identity.RoleAdmin {
		return ErrForbidden
	}
	u.Normalize()
	if err := u.Validate(); err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		before, err := tx.User(ctx, u.ID)
		if err != nil {
			return err
		}
		if before.Role == identity.RoleAdmin && before.Active && (u.Role != identity.RoleAdmin || !u.Active) {
			n, err := tx.CountActiveAdmins(ctx, u.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				field := "role"
				if !u.Active {
					field = "active"
				}
				return identity.FieldErrors{field: "This is the last active administrator; make another administrator first."}
			}
		}
		return tx.UpdateUser(ctx, u, s.now())
	})
}

// UpdateProfile changes the principal's own display name and language.
func (s *Service) UpdateProfile(ctx context.Context, p *identity.Principal, displayName, locale string) error {
	if p == nil || p.TokenID != 0 {
		return ErrForbidden
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.User(ctx, p.UserID)
		if err != nil {
			return err
		}
		u.DisplayName, u.Locale = displayName, locale
		u.Normalize()
		if err := u.Validate(); err != nil {
			return err
		}
		return tx.UpdateUser(ctx, u, s.now())
	})
}

// ChangePassword sets the principal's own password after checking the
// current one; the user's other sessions end.
func (s *Service) ChangePassword(ctx context.Context, p *identity.Principal, current, newPassword string) error {
	if p == nil || p.TokenID != 0 {
		return ErrForbidden
	}
	creds, err := s.st.UserCredentials(ctx, p.UserID)
	if err != nil {
		return err
	}
	if ok, _, err := s.verify(ctx, creds.PasswordHash, current); err != nil && !errors.Is(err, identity.ErrBadHash) {
		return err
	} else if !ok {
		return identity.FieldErrors{"current_password": "The current password is wrong."}
	}
	if current == newPassword {
		return identity.FieldErrors{"new_password": "Choose a password different from the current one."}
	}
	return s.setPassword(ctx, p.UserID, p.Username, newPassword, false, "user.password_change", p.SessionID)
}

// ResetPassword sets another user's password (administrators only). An
// empty password generates a one-time password, returned once, which the
// user must change at the next sign-in. The user's sessions end.
func (s *Service) ResetPassword(ctx context.Context, p *identity.Principal, userID int64, password string) (string, error) {
	if p == nil || p.Role != identity.RoleAdmin {
		return "", ErrForbidden
	}
	u, err := s.st.User(ctx, userID)
	if err != nil {
		return "", err
	}
	oneTime := ""
	if password == "" {
		password = identity.RandomPassword()
		oneTime = password
	}
	return oneTime, s.setPassword(ctx, userID, u.Username, password, oneTime != "", "user.password_reset", "")
}

func (s *Service) setPassword(ctx context.Context, userID int64, username, password string, mustChange bool, action, keepSession string) error {
	if msg := identity.CheckPasswordPolicy(username, password); msg != "" {
		return identity.FieldErrors{"new_password": msg}
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetPasswordHash(ctx, userID, hash, mustChange, action, s.now()); err != nil {
			return err
		}
		_, err := tx.DeleteUserSessions(ctx, userID, keepSession)
		return err
	})
}

// User returns a user (administrators, or the user themself).
func (s *Service) User(ctx context.Context, p *identity.Principal, id int64) (*identity.User, error) {
	if !selfOrAdmin(p, id) {
		return nil, ErrForbidden
	}
	return s.st.User(ctx, id)
}

// Users lists users (administrators only) and the total matching f.
func (s *Service) Users(ctx context.Context, p *identity.Principal, f identity.UserFilter) ([]identity.User, int, error) {
	if p == nil || p.Role != identity.RoleAdmin {
		return nil, 0, ErrForbidden
	}
	return s.st.Users(ctx, f)
}

// EnsureFirstAdmin creates the administrator "admin" with a one-time
// password when the database has no user at all (the first start). It
// returns created=false when users exist. Print the password once, to the
// terminal only.
func (s *Service) EnsureFirstAdmin(ctx context.Context) (username, oneTimePassword string, created bool, err error) {
	n, err := s.st.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", "", false, err
	}
	pw := identity.RandomPassword()
	hash, err := s.hash(ctx, pw)
	if err != nil {
		return "", "", false, err
	}
	u := identity.User{Username: "admin", DisplayName: "Administrator", Role: identity.RoleAdmin, AllClients: true,
		Active: true, MustChangePassword: true}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if n, err := tx.CountUsers(ctx); err != nil || n > 0 {
			if err == nil {
				err = errNotFirst
			}
			return err
		}
		return tx.CreateUser(ctx, &u, hash, s.now())
	})
	if errors.Is(err, errNotFirst) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, err
	}
	return u.Username, pw, true, nil
}

var errNotFirst = errors.New("users exist")
