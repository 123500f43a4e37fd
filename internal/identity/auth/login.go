package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
)

// LoginResult is a successful first step of sign-in.
type LoginResult struct {
	// Token goes in the session cookie (HttpOnly, SameSite=Lax, Secure under
	// TLS). It is shown nowhere else and stored only as its digest.
	Token   string
	Session *identity.Session
	User    *identity.User
	// Principal is set when the session is fully signed in (no MFA step pending).
	Principal *identity.Principal
	// NeedMFA: the user has TOTP; ask for a code (VerifyMFA) before anything else.
	NeedMFA bool
	// NeedEnrolMFA: the role requires MFA and none is enrolled; the session
	// may only reach the enrolment pages until it is.
	NeedEnrolMFA bool
	// MustChangePassword: the password was one-time; ask for a new one.
	MustChangePassword bool
}

// PasswordLogin checks a local username and password. Failures are
// ErrBadCredentials (never saying whether the user exists), a
// *identity.ThrottledError saying how long to wait, or ErrInactive (only
// after a correct password). Every attempt is audited ("auth.login",
// "auth.login_failed", "auth.login_throttled", "auth.login_refused").
func (s *Service) PasswordLogin(ctx context.Context, username, password, ip, userAgent string) (*LoginResult, error) {
	now := s.now()
	username = identity.NormalizeUsername(username)
	if len(username) > 128 || len(password) > identity.MaxPasswordLength {
		return nil, ErrBadCredentials
	}
	if err := s.checkThrottle(ctx, username, ip, now); err != nil {
		return nil, err
	}
	u, err := s.st.UserByUsername(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	var hash string
	if u != nil {
		creds, err := s.st.UserCredentials(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		hash = creds.PasswordHash
	}
	ok, rehash, err := s.verify(ctx, hash, password)
	if err != nil && !errors.Is(err, identity.ErrBadHash) {
		return nil, err
	}
	if !ok {
		why := "unknown username"
		if u != nil {
			why = "wrong password"
		}
		return nil, s.recordFailure(ctx, u, username, ip, why, now)
	}
	if !u.Usable(now) {
		why := "account disabled"
		if u.Active {
			why = "account expired"
		}
		_ = s.st.Audit(ctx, audit.Record{Action: "auth.login_refused", Actor: u.Username, ActorUserID: u.ID,
			ObjectType: "user", ObjectID: fmt.Sprint(u.ID), IP: ip, Detail: why})
		return nil, ErrInactive
	}
	var newHash string
	if rehash {
		if newHash, err = s.hash(ctx, password); err != nil {
			return nil, err
		}
	}
	return s.startSession(ctx, u, ip, userAgent, "password", func(tx *store.Tx) error {
		// With TOTP the failures are cleared only once the second factor
		// passes, so re-entering the password does not reset code guessing.
		if !u.TOTPEnabled {
			if err := tx.ClearLoginAttempts(ctx, identity.AccountKey(username)); err != nil {
				return err
			}
		}
		if newHash != "" {
			return tx.SetPasswordHash(ctx, u.ID, newHash, u.MustChangePassword, "user.password_rehash", now)
		}
		return nil
	})
}

// startSession creates the session of a user whose first factor passed.
func (s *Service) startSession(ctx context.Context, u *identity.User, ip, userAgent, method string, also func(*store.Tx) error) (*LoginResult, error) {
	now := s.now()
	token := identity.NewSessionToken()
	sess := &identity.Session{
		ID: identity.Digest(token), UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.cfg.SessionMax),
		IP: ip, UserAgent: truncate(userAgent, 300), MFAPassed: !u.TOTPEnabled || method == "sso", CSRFSecret: identity.NewCSRFSecret(),
	}
	detail := "signed in with " + method
	switch {
	case !sess.MFAPassed:
		detail += "; second factor pending"
	case u.NeedsMFAEnrolment() && method != "sso":
		detail += "; must enrol two-factor authentication"
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		if err := tx.RecordLogin(ctx, u.ID, now); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "auth.login", Actor: u.Username, ActorUserID: u.ID,
			ObjectType: "user", ObjectID: fmt.Sprint(u.ID), IP: ip, Detail: detail + " (session " + sess.ID[:12] + ")"})
	})
	if err != nil {
		return nil, err
	}
	res := &LoginResult{Token: token, Session: sess, User: u, NeedMFA: !sess.MFAPassed,
		NeedEnrolMFA: u.NeedsMFAEnrolment() && method != "sso", MustChangePassword: u.MustChangePassword}
	if sess.MFAPassed {
		res.Principal = u.Principal()
		res.Principal.SessionID = sess.ID
	}
	return res, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// checkThrottle refuses (and audits) an attempt while the account name or
// the address is locked.
func (s *Service) checkThrottle(ctx context.Context, username, ip string, now time.Time) error {
	acct, err := s.st.LoginAttempt(ctx, identity.AccountKey(username))
	if err != nil {
		return err
	}
	wait := acct.RetryAfter(now)
	if ip != "" {
		byIP, err := s.st.LoginAttempt(ctx, identity.IPKey(ip))
		if err != nil {
			return err
		}
		wait = max(wait, byIP.RetryAfter(now))
	}
	if wait == 0 {
		return nil
	}
	// Refusals during a lockout are audited once a minute per account and
	// address, so hammering a locked account does not flood the trail.
	if s.shouldAudit("throttled:"+identity.AccountKey(username)+"|"+identity.IPKey(ip), now) {
		_ = s.st.Audit(ctx, audit.Record{Action: "auth.login_throttled", Actor: "anonymous", IP: ip,
			Detail: "sign-in refused while locked for " + identity.HumanWait(wait)})
	}
	return &identity.ThrottledError{RetryAfter: wait}
}

// recordFailure counts a failed attempt against the account name and the
// address, audits it, and returns the error to show.
func (s *Service) recordFailure(ctx context.Context, u *identity.User, username, ip, why string, now time.Time) error {
	var lock time.Duration
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		keys := []struct {
			key    string
			policy identity.ThrottlePolicy
		}{{identity.AccountKey(username), s.cfg.Account}}
		if ip != "" {
			keys = append(keys, struct {
				key    string
				policy identity.ThrottlePolicy
			}{identity.IPKey(ip), s.cfg.IP})
		}
		for _, k := range keys {
			a, err := tx.LoginAttempt(ctx, k.key)
			if err != nil {
				return err
			}
			lock = max(lock, k.policy.Fail(a, now))
			if err := tx.PutLoginAttempt(ctx, a); err != nil {
				return err
			}
		}
		rec := audit.Record{Action: "auth.login_failed", Actor: "anonymous", IP: ip, ObjectType: "user", Detail: why}
		if u != nil {
			rec.ObjectID = fmt.Sprint(u.ID)
		}
		if lock > 0 {
			rec.Detail += "; locked for " + identity.HumanWait(lock)
		}
		return tx.Audit(ctx, rec)
	})
	if err != nil {
		return err
	}
	if lock > 0 {
		return &identity.ThrottledError{RetryAfter: lock}
	}
	return ErrBadCredentials
}

// VerifyMFA completes the sign-in of a session waiting for its second factor
// with a TOTP code (each time step is accepted once) or an unused recovery
// code. Wrong codes count towards the account's throttling.
func (s *Service) VerifyMFA(ctx context.Context, token, code, ip string) (*identity.Principal, error) {
	now := s.now()
	sess, u, err := s.liveSession(ctx, token)
	if err != nil {
		return nil, err
	}
	if sess.MFAPassed {
		p := u.Principal()
		p.SessionID = sess.ID
		return p, nil
	}
	if err := s.checkThrottle(ctx, u.Username, ip, now); err != nil {
		return nil, err
	}
	creds, err := s.st.UserCredentials(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	accepted := false
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		how := ""
		if identity.LooksLikeRecoveryCode(code) {
			ok, err := tx.UseRecoveryCode(ctx, u.ID, identity.HashRecoveryCode(code), now)
			if err != nil || !ok {
				return err
			}
			how = "recovery code"
		} else {
			if !creds.TOTPEnabled || creds.TOTPSecret == nil {
				return nil
			}
			seed, err := s.keys.Open(creds.TOTPSecret, totpAD(u.ID))
			if err != nil {
				return fmt.Errorf("open TOTP seed of user %d: %w", u.ID, err)
			}
			step, ok := identity.MatchTOTP(seed, code, now)
			clear(seed)
			if !ok {
				return nil
			}
			if ok, err = tx.UseTOTPStep(ctx, u.ID, step); err != nil || !ok {
				return err
			}
			how = "TOTP"
		}
		accepted = true
		if err := tx.ClearLoginAttempts(ctx, identity.AccountKey(u.Username)); err != nil {
			return err
		}
		return tx.PassSessionMFA(ctx, sess.ID, u.ID, how)
	})
	if err != nil {
		return nil, err
	}
	if !accepted {
		if err := s.recordFailure(ctx, u, u.Username, ip, "wrong second-factor code", now); !errors.Is(err, ErrBadCredentials) {
			return nil, err
		}
		return nil, ErrBadCode
	}
	p := u.Principal()
	p.SessionID = sess.ID
	return p, nil
}

// PendingSession returns the session of token while it waits for its
// second factor (for the MFA page and its CSRF token).
func (s *Service) PendingSession(ctx context.Context, token string) (*identity.Session, *identity.User, error) {
	return s.liveSession(ctx, token)
}

// Logout ends the session of token. An unknown session is not an error.
func (s *Service) Logout(ctx context.Context, token string) error {
	id := identity.Digest(token)
	sess, err := s.st.Session(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteSession(ctx, id, sess.UserID, "session.logout") })
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// Sessions lists the user's sessions (the principal's own, or any user's for
// an administrator).
func (s *Service) Sessions(ctx context.Context, p *identity.Principal, userID int64) ([]identity.Session, error) {
	if !selfOrAdmin(p, userID) {
		return nil, ErrForbidden
	}
	return s.st.Sessions(ctx, userID)
}

// RevokeSession ends one session (its ID as listed by Sessions) of the user;
// the principal must be that user or an administrator.
func (s *Service) RevokeSession(ctx context.Context, p *identity.Principal, userID int64, sessionID string) error {
	if !selfOrAdmin(p, userID) {
		return ErrForbidden
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteSession(ctx, sessionID, userID, "session.revoke") })
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("session: %w", store.ErrNotFound)
	}
	return err
}

// RevokeOtherSessions ends every session of the user but the principal's
// current one (all of them when an administrator acts on another user).
func (s *Service) RevokeOtherSessions(ctx context.Context, p *identity.Principal, userID int64) (int64, error) {
	if !selfOrAdmin(p, userID) {
		return 0, ErrForbidden
	}
	keep := ""
	if p.UserID == userID {
		keep = p.SessionID
	}
	var n int64
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.DeleteUserSessions(ctx, userID, keep)
		return err
	})
	return n, err
}

func selfOrAdmin(p *identity.Principal, userID int64) bool {
	return p != nil && (p.Role == identity.RoleAdmin || (p.UserID == userID && p.TokenID == 0))
}

func totpAD(userID int64) []byte { return []byte(fmt.Sprintf("users.totp_secret:%d", userID)) }
