package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
)

// Enrolment is what the MFA enrolment page shows: the secret as text, the
// otpauth:// URL and the same URL as a PNG QR code. Never log any of it.
type Enrolment struct {
	Secret string
	URL    string
	QRPNG  []byte
}

// BeginTOTPEnrolment creates a new (pending) TOTP seed for the principal's
// own account, replacing any earlier pending one. The seed is stored sealed;
// it becomes active with ConfirmTOTPEnrolment.
func (s *Service) BeginTOTPEnrolment(ctx context.Context, p *identity.Principal) (*Enrolment, error) {
	if p == nil || p.TokenID != 0 {
		return nil, ErrForbidden
	}
	creds, err := s.st.UserCredentials(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	if creds.TOTPEnabled {
		return nil, ErrMFAEnrolled
	}
	seed := identity.NewTOTPSeed()
	defer clear(seed)
	sealed, err := s.keys.Seal(seed, totpAD(p.UserID))
	if err != nil {
		return nil, err
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		return tx.SetTOTP(ctx, p.UserID, sealed, false, "user.mfa_enrol_start", s.now())
	})
	if err != nil {
		return nil, err
	}
	url := identity.TOTPURL(s.cfg.Issuer, p.Username, seed)
	png, err := identity.QRCodePNG(url)
	if err != nil {
		return nil, err
	}
	return &Enrolment{Secret: identity.TOTPSecretText(seed), URL: url, QRPNG: png}, nil
}

// ConfirmTOTPEnrolment activates the pending seed when code matches it and
// returns 10 new recovery codes, to be shown once. A wrong code is ErrBadCode.
func (s *Service) ConfirmTOTPEnrolment(ctx context.Context, p *identity.Principal, code string) ([]string, error) {
	if p == nil || p.TokenID != 0 {
		return nil, ErrForbidden
	}
	now := s.now()
	creds, err := s.st.UserCredentials(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	if creds.TOTPEnabled {
		return nil, ErrMFAEnrolled
	}
	if creds.TOTPSecret == nil {
		return nil, fmt.Errorf("no enrolment in progress: %w", ErrBadCode)
	}
	seed, err := s.keys.Open(creds.TOTPSecret, totpAD(p.UserID))
	if err != nil {
		return nil, fmt.Errorf("open pending TOTP seed of user %d: %w", p.UserID, err)
	}
	step, ok := identity.MatchTOTP(seed, code, now)
	clear(seed)
	if !ok {
		return nil, ErrBadCode
	}
	codes := identity.NewRecoveryCodes()
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i] = identity.HashRecoveryCode(c)
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if ok, err := tx.UseTOTPStep(ctx, p.UserID, step); err != nil {
			return err
		} else if !ok {
			return ErrBadCode
		}
		if err := tx.SetTOTP(ctx, p.UserID, creds.TOTPSecret, true, "user.mfa_enrol", now); err != nil {
			return err
		}
		return tx.ReplaceRecoveryCodes(ctx, p.UserID, hashes, now)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// RegenerateRecoveryCodes replaces the principal's recovery codes with 10
// new ones (shown once); the old ones stop working.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, p *identity.Principal) ([]string, error) {
	if p == nil || p.TokenID != 0 {
		return nil, ErrForbidden
	}
	creds, err := s.st.UserCredentials(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	if !creds.TOTPEnabled {
		return nil, errors.New("set up two-factor authentication first")
	}
	codes := identity.NewRecoveryCodes()
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i] = identity.HashRecoveryCode(c)
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error { return tx.ReplaceRecoveryCodes(ctx, p.UserID, hashes, s.now()) })
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// RecoveryCodesLeft counts the user's unused recovery codes.
func (s *Service) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	return s.st.RecoveryCodesLeft(ctx, userID)
}

// ResetMFA removes a user's TOTP and recovery codes and ends their sessions
// (an administrator helping a user who lost their phone). The user must
// enrol again at the next sign-in if their role requires MFA.
func (s *Service) ResetMFA(ctx context.Context, p *identity.Principal, userID int64) error {
	if p == nil || p.Role != identity.RoleAdmin {
		return ErrForbidden
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetTOTP(ctx, userID, nil, false, "user.mfa_reset", s.now()); err != nil {
			return err
		}
		if err := tx.DeleteRecoveryCodes(ctx, userID); err != nil {
			return err
		}
		_, err := tx.DeleteUserSessions(ctx, userID, "")
		return err
	})
}
