// Package auth is the identity service the console and the API call:
// password and single sign-on sign-in, TOTP MFA and recovery codes, login
// throttling, database sessions with idle and absolute timeouts, anti-forgery
// tokens, API tokens, and user management with role and client scope. It
// builds the identity.Principal of every authenticated request.
//
// It lives apart from package identity because it uses the store, which in
// turn uses identity's types.
package auth

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
)

// Config tunes the service; zero fields take the defaults.
type Config struct {
	SessionIdle time.Duration // sign out after this long without a request (default 30 min)
	SessionMax  time.Duration // sign out this long after sign-in (default 12 h)
	// Password is the argon2id cost; hashes made with other parameters are
	// recomputed at the next successful sign-in.
	Password identity.PasswordParams
	Account  identity.ThrottlePolicy // per-account throttling (default identity.DefaultAccountPolicy)
	IP       identity.ThrottlePolicy // per-address throttling (default identity.DefaultIPPolicy)
	// Issuer names the service in authenticator apps (default "Custodia").
	Issuer string
	// TouchInterval is how often a session's last-seen time is written (default 1 min).
	TouchInterval time.Duration
	// TokenAuditInterval is the least time between two "token.use" audit
	// entries of one token (default 1 min): a token used in a burst is
	// audited on its first use of each minute.
	TokenAuditInterval time.Duration
	// MaxConcurrentHashes bounds simultaneous argon2id computations (memory; default 4).
	MaxConcurrentHashes int
}

func (c *Config) defaults() {
	if c.SessionIdle <= 0 {
		c.SessionIdle = 30 * time.Minute
	}
	if c.SessionMax <= 0 {
		c.SessionMax = 12 * time.Hour
	}
	if c.Password.Memory == 0 {
		c.Password = identity.DefaultPasswordParams
	}
	if c.Account.MaxFailures == 0 {
		c.Account = identity.DefaultAccountPolicy
	}
	if c.IP.MaxFailures == 0 {
		c.IP = identity.DefaultIPPolicy
	}
	if c.Issuer == "" {
		c.Issuer = "Custodia"
	}
	if c.TouchInterval <= 0 {
		c.TouchInterval = time.Minute
	}
	if c.TokenAuditInterval <= 0 {
		c.TokenAuditInterval = time.Minute
	}
	if c.MaxConcurrentHashes <= 0 {
		c.MaxConcurrentHashes = 4
	}
}

// Errors with a user-facing message; callers test them with errors.Is (and
// errors.As for *identity.ThrottledError and identity.FieldErrors).
var (
	// ErrBadCredentials: wrong username or password (never says which).
	ErrBadCredentials = errors.New("wrong username or password")
	// ErrInactive: the account is disabled.
	ErrInactive = errors.New("this account is disabled; ask an administrator")
	// ErrBadCode: the TOTP or recovery code is wrong or was already used.
	ErrBadCode = errors.New("wrong or already used code")
	// ErrSessionInvalid: the session is unknown, expired or signed out.
	ErrSessionInvalid = errors.New("your session has expired; sign in again")
	// ErrMFAPending: the session has not passed its second factor yet.
	ErrMFAPending = errors.New("enter the code from your authenticator app")
	// ErrMFAEnrolled: TOTP is already enrolled (reset it first).
	ErrMFAEnrolled = errors.New("two-factor authentication is already set up")
	// ErrForbidden: the principal may not do this to this object.
	ErrForbidden = errors.New("you are not allowed to do this")
	// ErrCSRF: the anti-forgery token is missing or wrong.
	ErrCSRF = errors.New("the form has expired; reload the page and try again")
	// ErrBadToken: the API token is unknown, revoked or expired.
	ErrBadToken = errors.New("the API token is unknown, revoked or expired")
)

// Service is the identity service. It is safe for concurrent use.
type Service struct {
	st    *store.Store
	keys  *secret.Keyring
	cfg   Config
	now   func() time.Time
	hashq chan struct{} // semaphore bounding argon2id work
	dummy string        // a hash verified for unknown usernames (equal timing)

	mu          sync.Mutex
	rateAudited map[string]time.Time // rate-limited audit events ("token:ID", "throttled:…") → last entry
}

// NewService returns the service. clock is time.Now unless a test injects one.
func NewService(st *store.Store, keys *secret.Keyring, cfg Config, clock func() time.Time) *Service {
	cfg.defaults()
	if clock == nil {
		clock = time.Now
	}
	return &Service{
		st: st, keys: keys, cfg: cfg, now: func() time.Time { return clock().UTC() },
		hashq:       make(chan struct{}, cfg.MaxConcurrentHashes),
		dummy:       identity.HashPassword(identity.RandomPassword(), cfg.Password),
		rateAudited: map[string]time.Time{},
	}
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// hash and verify run argon2id under the concurrency bound.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashq }()
	return identity.HashPassword(password, s.cfg.Password), nil
}

func (s *Service) verify(ctx context.Context, hash, password string) (ok, rehash bool, err error) {
	if err := s.acquire(ctx); err != nil {
		return false, false, err
	}
	defer func() { <-s.hashq }()
	if hash == "" {
		_, _, _ = identity.VerifyPassword(s.dummy, password, s.cfg.Password)
		return false, false, nil
	}
	return identity.VerifyPassword(hash, password, s.cfg.Password)
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashq <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SessionPrincipal returns the principal of the session whose cookie value
// is token, and refreshes its idle timer. An unknown, expired or signed-out
// session, or one of a disabled user, is ErrSessionInvalid; one still
// waiting for its second factor is ErrMFAPending.
func (s *Service) SessionPrincipal(ctx context.Context, token string) (*identity.Principal, error) {
	p, _, err := s.Session(ctx, token)
	return p, err
}

// Session is SessionPrincipal that also returns the session.
func (s *Service) Session(ctx context.Context, token string) (*identity.Principal, *identity.Session, error) {
	sess, u, err := s.liveSession(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	if !sess.MFAPassed {
		return nil, sess, ErrMFAPending
	}
	p := u.Principal()
	p.SessionID = sess.ID
	return p, sess, nil
}

// liveSession loads a session and its user and enforces the timeouts.
func (s *Service) liveSession(ctx context.Context, token string) (*identity.Session, *identity.User, error) {
	if token == "" || len(token) > 128 {
		return nil, nil, ErrSessionInvalid
	}
	now := s.now()
	sess, err := s.st.Session(ctx, identity.Digest(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrSessionInvalid
	}
	if err != nil {
		return nil, nil, err
	}
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.cfg.SessionIdle {
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			return tx.DeleteSession(ctx, sess.ID, sess.UserID, "session.expire")
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
		return nil, nil, ErrSessionInvalid
	}
	u, err := s.st.User(ctx, sess.UserID)
	if err != nil {
		return nil, nil, ErrSessionInvalid
	}
	if !u.Usable(now) {
		return nil, nil, ErrSessionInvalid
	}
	if now.Sub(sess.LastSeenAt) >= s.cfg.TouchInterval {
		if err := s.st.TouchSession(ctx, sess.ID, now); err != nil {
			return nil, nil, err
		}
		sess.LastSeenAt = now
	}
	return sess, u, nil
}

// NeedsMFAEnrolment reports whether the principal is a local account whose
// role requires TOTP and who has not enrolled it yet: such a session may
// only reach the MFA-optional routes (enrolment, profile, sign-out). Single
// sign-on accounts rely on the identity provider's MFA. On a database error
// it answers true (deny).
func (s *Service) NeedsMFAEnrolment(p *identity.Principal) bool {
	if p == nil || p.TokenID != 0 || !p.Role.RequiresMFA() {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	enabled, hasPassword, err := s.st.UserMFAState(ctx, p.UserID)
	if err != nil {
		return true
	}
	return hasPassword && !enabled
}

// CSRFToken returns the anti-forgery token forms of the principal's session
// carry (hidden field identity.CSRFField or header identity.CSRFHeader).
func (s *Service) CSRFToken(ctx context.Context, p *identity.Principal) (string, error) {
	if p == nil || p.SessionID == "" {
		return "", ErrSessionInvalid
	}
	sec, err := s.st.SessionCSRFSecret(ctx, p.SessionID)
	if err != nil {
		return "", ErrSessionInvalid
	}
	return identity.CSRFToken(sec), nil
}

// SessionCSRFToken returns the anti-forgery token of a session (e.g. one
// waiting for its second factor, whose MFA form must carry it).
func SessionCSRFToken(sess *identity.Session) string { return identity.CSRFToken(sess.CSRFSecret) }

// CheckCSRF verifies the anti-forgery token of a state-changing request
// authenticated by the session cookie: the X-CSRF-Token header or the
// csrf_token form field must match the session's token (constant time).
func (s *Service) CheckCSRF(r *http.Request, p *identity.Principal) error {
	if p == nil || p.SessionID == "" {
		return ErrCSRF
	}
	sec, err := s.st.SessionCSRFSecret(r.Context(), p.SessionID)
	if err != nil {
		return ErrCSRF
	}
	return CheckSessionCSRF(r, sec)
}

// CheckSessionCSRF checks r's anti-forgery token against a session secret.
func CheckSessionCSRF(r *http.Request, csrfSecret []byte) error {
	tok := r.Header.Get(identity.CSRFHeader)
	if tok == "" {
		tok = r.PostFormValue(identity.CSRFField)
	}
	if !identity.ValidCSRFToken(csrfSecret, tok) {
		return ErrCSRF
	}
	return nil
}

// Cleanup removes expired sessions and stale throttling records; the server
// calls it periodically (e.g. every 10 minutes).
func (s *Service) Cleanup(ctx context.Context) error {
	now := s.now()
	if _, err := s.st.DeleteExpiredSessions(ctx, now, now.Add(-s.cfg.SessionIdle)); err != nil {
		return err
	}
	if err := s.st.DeleteStaleLoginAttempts(ctx, now.Add(-48*time.Hour)); err != nil {
		return err
	}
	s.mu.Lock()
	for k, at := range s.rateAudited {
		if now.Sub(at) > s.cfg.TokenAuditInterval {
			delete(s.rateAudited, k)
		}
	}
	s.mu.Unlock()
	return nil
}
