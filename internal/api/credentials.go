package api

import (
	"context"
	"net/http"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
)

// Credentials is what the API needs of the identity service for passwords
// and two-factor authentication (auth.Service).
type Credentials interface {
	ChangePassword(ctx context.Context, p *identity.Principal, current, newPassword string) error
	ResetPassword(ctx context.Context, p *identity.Principal, userID int64, password string) (string, error)
	BeginTOTPEnrolment(ctx context.Context, p *identity.Principal) (*auth.Enrolment, error)
	ConfirmTOTPEnrolment(ctx context.Context, p *identity.Principal, code string) ([]string, error)
	RegenerateRecoveryCodes(ctx context.Context, p *identity.Principal) ([]string, error)
	ResetMFA(ctx context.Context, p *identity.Principal, userID int64) error
}

// PasswordChange changes the caller's own password.
type PasswordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// PasswordReset sets another user's password; empty generates a one-time one.
type PasswordReset struct {
	Password string `json:"password,omitempty" doc:"the new password; empty generates a one-time password the user must change"`
}

// OneTimePassword is a generated password, shown once.
type OneTimePassword struct {
	OneTimePassword string `json:"one_time_password,omitempty"`
}

// TOTPEnrolment is a pending TOTP seed to add to an authenticator app.
type TOTPEnrolment struct {
	Secret string `json:"secret" doc:"base32 seed for manual entry"`
	URL    string `json:"otpauth_url" doc:"otpauth:// URL (what the QR code holds)"`
}

// TOTPCode confirms an enrolment.
type TOTPCode struct {
	Code string `json:"code"`
}

// RecoveryCodes are single-use codes, shown once.
type RecoveryCodes struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func (s *Server) changeMyPassword(w http.ResponseWriter, r *http.Request) error {
	if s.creds == nil {
		return errUnavailable
	}
	var in PasswordChange
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.creds.ChangePassword(r.Context(), principal(r), in.CurrentPassword, in.NewPassword); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) resetUserPassword(w http.ResponseWriter, r *http.Request) error {
	if s.creds == nil {
		return errUnavailable
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in PasswordReset
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	oneTime, err := s.creds.ResetPassword(r.Context(), principal(r), id, in.Password)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, OneTimePassword{OneTimePassword: oneTime})
	return nil
}

func (s *Server) resetUserMFA(w http.ResponseWriter, r *http.Request) error {
	if s.creds == nil {
		return errUnavailable
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.creds.ResetMFA(r.Context(), principal(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) beginMyTOTP(w http.ResponseWriter, r *http.Request) error {
	if s.creds == nil {
		return errUnavailable
	}
	enr, err := s.creds.BeginTOTPEnrolment(r.Context(), principal(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, TOTPEnrolment{Secret: enr.Secret, URL: enr.URL})
	return nil
}

func (s *Server) confirmMyTOTP(w http.ResponseWriter, r *http.Request) error {
	if s.creds == nil {
		return errUnavailable
	}
	var in TOTPCode
	if err := decode(r, &in); err != nil {
		return err
	}
	codes, err := s.creds.ConfirmTOTPEnrolment(r.Context(), principal(r), in.Code)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, RecoveryCodes{RecoveryCodes: codes})
	return nil
}

func (s *Server) regenerateMyRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	if s.creds == nil {
		return errUnavailable
	}
	p := principal(r)
	if p.TokenID != 0 {
		return httpErr(http.StatusForbidden, "An API token has no recovery codes.")
	}
	enabled, _, err := s.store.UserMFAState(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	if !enabled {
		return httpErr(http.StatusConflict, "Set up two-factor authentication first.")
	}
	codes, err := s.creds.RegenerateRecoveryCodes(r.Context(), p)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, RecoveryCodes{RecoveryCodes: codes})
	return nil
}
