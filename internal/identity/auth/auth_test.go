package auth

import (
	"context"
	"encoding/base32"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fastParams keep argon2id cheap in tests.
var fastParams = identity.PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type env struct {
	svc   *Service
	st    *store.Store
	keys  *secret.Keyring
	clock *fakeClock
	dir   string
}

func newEnv(t *testing.T, st *store.Store) *env {
	t.Helper()
	dir := t.TempDir()
	keys, err := secret.LoadOrCreate(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	svc := NewService(st, keys, Config{SessionIdle: 30 * time.Minute, SessionMax: 8 * time.Hour, Password: fastParams}, clock.Now)
	return &env{svc: svc, st: st, keys: keys, clock: clock, dir: dir}
}

const goodPassword = "correct horse battery staple"

var sysAdmin = &identity.Principal{UserID: 0, Username: "root", Role: identity.RoleAdmin, AllClients: true}

func (e *env) user(t *testing.T, name string, role identity.Role) *identity.User {
	t.Helper()
	u, _, err := e.svc.CreateUser(context.Background(), sysAdmin, NewUser{
		User: identity.User{Username: name, Email: name + "@example.com", Role: role, AllClients: true}, Password: goodPassword})
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", name, err)
	}
	return u
}

// client inserts a client row and returns its id.
func client(t *testing.T, st *store.Store, code string) int64 {
	t.Helper()
	var id int64
	now := store.TimeArg(time.Now())
	err := st.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		id, err = tx.InsertID(context.Background(), "INSERT INTO clients (code, name, name_lower, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id", code, code, code, now, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// enrol enrols TOTP for the user of p and returns the seed and recovery codes.
func (e *env) enrol(t *testing.T, p *identity.Principal) ([]byte, []string) {
	t.Helper()
	ctx := context.Background()
	en, err := e.svc.BeginTOTPEnrolment(ctx, p)
	if err != nil {
		t.Fatalf("BeginTOTPEnrolment: %v", err)
	}
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(en.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := url.Parse(en.URL); err != nil || u.Scheme != "otpauth" || u.Query().Get("secret") != en.Secret {
		t.Fatalf("otpauth URL %q: %v", en.URL, err)
	}
	if len(en.QRPNG) < 8 || string(en.QRPNG[1:4]) != "PNG" {
		t.Fatalf("QR code is not a PNG")
	}
	if _, err := e.svc.ConfirmTOTPEnrolment(ctx, p, "000000x"); !errors.Is(err, ErrBadCode) {
		t.Fatalf("ConfirmTOTPEnrolment(bad) = %v, want ErrBadCode", err)
	}
	codes, err := e.svc.ConfirmTOTPEnrolment(ctx, p, identity.TOTPCode(seed, identity.TOTPStep(e.clock.Now())))
	if err != nil {
		t.Fatalf("ConfirmTOTPEnrolment: %v", err)
	}
	if len(codes) != identity.RecoveryCodeCount {
		t.Fatalf("got %d recovery codes", len(codes))
	}
	return seed, codes
}

func TestPasswordLoginAndSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		e.user(t, "sara", identity.RoleSupervisor)
		if _, err := e.svc.PasswordLogin(ctx, "sara", "wrong password!", "10.0.0.1", "ua"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
		if _, err := e.svc.PasswordLogin(ctx, "nobody", goodPassword, "10.0.0.1", "ua"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("unknown user: %v", err)
		}
		res, err := e.svc.PasswordLogin(ctx, "SARA", goodPassword, "10.0.0.1", "ua")
		if err != nil {
			t.Fatalf("PasswordLogin: %v", err)
		}
		if res.NeedMFA || res.NeedEnrolMFA || res.Principal == nil || res.Principal.Role != identity.RoleSupervisor {
			t.Fatalf("PasswordLogin = %+v", res)
		}
		p, err := e.svc.SessionPrincipal(ctx, res.Token)
		if err != nil || p.Username != "sara" || p.SessionID == "" {
			t.Fatalf("SessionPrincipal = %+v, %v", p, err)
		}
		// The cookie token is not what the database stores.
		var n int
		if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM sessions WHERE id = ?", res.Token).Scan(&n); err != nil || n != 0 {
			t.Fatalf("session stored under its token: %d, %v", n, err)
		}
		// Idle timeout: activity keeps it alive, 30 idle minutes end it.
		e.clock.Add(20 * time.Minute)
		if _, err := e.svc.SessionPrincipal(ctx, res.Token); err != nil {
			t.Fatalf("after 20 min: %v", err)
		}
		e.clock.Add(29 * time.Minute)
		if _, err := e.svc.SessionPrincipal(ctx, res.Token); err != nil {
			t.Fatalf("after 29 more min (touched at 20): %v", err)
		}
		e.clock.Add(31 * time.Minute)
		if _, err := e.svc.SessionPrincipal(ctx, res.Token); !errors.Is(err, ErrSessionInvalid) {
			t.Fatalf("after 31 idle min: %v, want ErrSessionInvalid", err)
		}
		// Absolute timeout: active all along, still ends after SessionMax.
		res2, err := e.svc.PasswordLogin(ctx, "sara", goodPassword, "10.0.0.1", "ua")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 16; i++ {
			e.clock.Add(29 * time.Minute)
			if _, err := e.svc.SessionPrincipal(ctx, res2.Token); err != nil {
				t.Fatalf("active session ended early at step %d: %v", i, err)
			}
		}
		e.clock.Add(29 * time.Minute) // 8h13m after sign-in
		if _, err := e.svc.SessionPrincipal(ctx, res2.Token); !errors.Is(err, ErrSessionInvalid) {
			t.Fatalf("after SessionMax: %v, want ErrSessionInvalid", err)
		}
		// List, revoke one, log out.
		a, _ := e.svc.PasswordLogin(ctx, "sara", goodPassword, "10.0.0.1", "ua-a")
		b, _ := e.svc.PasswordLogin(ctx, "sara", goodPassword, "10.0.0.2", "ua-b")
		pa, _ := e.svc.SessionPrincipal(ctx, a.Token)
		list, err := e.svc.Sessions(ctx, pa, pa.UserID)
		if err != nil || len(list) != 2 {
			t.Fatalf("Sessions = %d, %v; want 2", len(list), err)
		}
		other := &identity.Principal{UserID: pa.UserID + 100, Role: identity.RoleSecurity}
		if err := e.svc.RevokeSession(ctx, other, pa.UserID, b.Session.ID); !errors.Is(err, ErrForbidden) {
			t.Fatalf("RevokeSession by someone else: %v", err)
		}
		if err := e.svc.RevokeSession(ctx, pa, pa.UserID, b.Session.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SessionPrincipal(ctx, b.Token); !errors.Is(err, ErrSessionInvalid) {
			t.Fatalf("revoked session: %v", err)
		}
		if err := e.svc.Logout(ctx, a.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SessionPrincipal(ctx, a.Token); !errors.Is(err, ErrSessionInvalid) {
			t.Fatalf("logged-out session: %v", err)
		}
		assertNoSecretsInAudit(t, st, goodPassword, a.Token, b.Token, res.Token)
	})
}

func TestThrottling(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		e.user(t, "tom", identity.RoleAgent)
		for i := 0; i < 4; i++ {
			if _, err := e.svc.PasswordLogin(ctx, "tom", "bad password "+string(rune('a'+i)), "10.1.1.1", ""); !errors.Is(err, ErrBadCredentials) {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		_, err := e.svc.PasswordLogin(ctx, "tom", "bad password e", "10.1.1.1", "")
		var th *identity.ThrottledError
		if !errors.As(err, &th) || th.RetryAfter != 5*time.Minute {
			t.Fatalf("5th failure = %v, want a 5-minute lock", err)
		}
		if !strings.Contains(err.Error(), "5 minutes") {
			t.Errorf("message %q does not say how long to wait", err)
		}
		// Even the right password is refused while locked (from any address).
		if _, err := e.svc.PasswordLogin(ctx, "tom", goodPassword, "10.9.9.9", ""); !errors.As(err, &th) {
			t.Fatalf("locked account accepted the right password: %v", err)
		}
		// An unknown username locks the same way and says the same thing.
		for i := 0; i < 5; i++ {
			_, err = e.svc.PasswordLogin(ctx, "ghost", "whatever password", "10.2.2.2", "")
		}
		if !errors.As(err, &th) {
			t.Fatalf("unknown user not throttled alike: %v", err)
		}
		// The second lock lasts longer.
		e.clock.Add(5*time.Minute + time.Second)
		for i := 0; i < 5; i++ {
			_, err = e.svc.PasswordLogin(ctx, "tom", "bad password x", "10.3.3.3", "")
		}
		if !errors.As(err, &th) || th.RetryAfter != 10*time.Minute {
			t.Fatalf("second lock = %v, want 10 minutes", err)
		}
		e.clock.Add(10*time.Minute + time.Second)
		if _, err := e.svc.PasswordLogin(ctx, "tom", goodPassword, "10.1.1.1", ""); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
		// Per address: 20 failures over many accounts lock the address.
		e.clock.Add(time.Hour)
		for i := 0; i < 20; i++ {
			_, err = e.svc.PasswordLogin(ctx, "user"+string(rune('a'+i)), "some password", "10.4.4.4", "")
		}
		if !errors.As(err, &th) {
			t.Fatalf("20 failures from one address: %v, want throttled", err)
		}
		if _, err := e.svc.PasswordLogin(ctx, "tom", goodPassword, "10.4.4.4", ""); !errors.As(err, &th) {
			t.Fatalf("locked address accepted a sign-in: %v", err)
		}
		if _, err := e.svc.PasswordLogin(ctx, "tom", goodPassword, "10.5.5.5", ""); err != nil {
			t.Fatalf("other address: %v", err)
		}
		var n int
		if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login_failed'").Scan(&n); err != nil || n < 30 {
			t.Errorf("auth.login_failed entries = %d, %v", n, err)
		}
	})
}

func TestMFA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		e.user(t, "ada", identity.RoleAdmin)
		res, err := e.svc.PasswordLogin(ctx, "ada", goodPassword, "127.0.0.1", "")
		if err != nil {
			t.Fatal(err)
		}
		if !res.NeedEnrolMFA || res.NeedMFA || res.Principal == nil {
			t.Fatalf("admin without TOTP: %+v, want a session limited to enrolment", res)
		}
		if !e.svc.NeedsMFAEnrolment(res.Principal) {
			t.Fatal("NeedsMFAEnrolment = false for an admin without TOTP")
		}
		seed, codes := e.enrol(t, res.Principal)
		if e.svc.NeedsMFAEnrolment(res.Principal) {
			t.Fatal("NeedsMFAEnrolment = true after enrolment")
		}
		if _, err := e.svc.BeginTOTPEnrolment(ctx, res.Principal); !errors.Is(err, ErrMFAEnrolled) {
			t.Fatalf("second enrolment: %v", err)
		}
		// Next sign-in: the session is useless until the second factor.
		e.clock.Add(time.Minute)
		res, err = e.svc.PasswordLogin(ctx, "ada", goodPassword, "127.0.0.1", "")
		if err != nil || !res.NeedMFA || res.Principal != nil {
			t.Fatalf("PasswordLogin with TOTP = %+v, %v", res, err)
		}
		if _, err := e.svc.SessionPrincipal(ctx, res.Token); !errors.Is(err, ErrMFAPending) {
			t.Fatalf("SessionPrincipal before MFA = %v, want ErrMFAPending", err)
		}
		if _, err := e.svc.VerifyMFA(ctx, res.Token, "123456x", "127.0.0.1"); !errors.Is(err, ErrBadCode) {
			t.Fatalf("VerifyMFA(bad) = %v", err)
		}
		code := identity.TOTPCode(seed, identity.TOTPStep(e.clock.Now()))
		if _, err := e.svc.VerifyMFA(ctx, res.Token, code, "127.0.0.1"); err != nil {
			t.Fatalf("VerifyMFA: %v", err)
		}
		if p, err := e.svc.SessionPrincipal(ctx, res.Token); err != nil || p.Role != identity.RoleAdmin {
			t.Fatalf("SessionPrincipal after MFA = %v, %v", p, err)
		}
		// The same code is not accepted twice (another session, same step).
		res2, _ := e.svc.PasswordLogin(ctx, "ada", goodPassword, "127.0.0.1", "")
		if _, err := e.svc.VerifyMFA(ctx, res2.Token, code, "127.0.0.1"); !errors.Is(err, ErrBadCode) {
			t.Fatalf("reused TOTP code: %v, want ErrBadCode", err)
		}
		// A code from the previous step (clock skew) works once.
		e.clock.Add(30 * time.Second)
		prev := identity.TOTPCode(seed, identity.TOTPStep(e.clock.Now()))
		e.clock.Add(30 * time.Second)
		if _, err := e.svc.VerifyMFA(ctx, res2.Token, prev, "127.0.0.1"); err != nil {
			t.Fatalf("code of the previous step: %v", err)
		}
		// Recovery codes: single use, any formatting.
		res3, _ := e.svc.PasswordLogin(ctx, "ada", goodPassword, "127.0.0.1", "")
		if _, err := e.svc.VerifyMFA(ctx, res3.Token, strings.ToUpper(strings.ReplaceAll(codes[0], "-", " ")), "127.0.0.1"); err != nil {
			t.Fatalf("recovery code: %v", err)
		}
		res4, _ := e.svc.PasswordLogin(ctx, "ada", goodPassword, "127.0.0.1", "")
		if _, err := e.svc.VerifyMFA(ctx, res4.Token, codes[0], "127.0.0.1"); !errors.Is(err, ErrBadCode) {
			t.Fatalf("used recovery code accepted again: %v", err)
		}
		if left, _ := e.svc.RecoveryCodesLeft(ctx, res.User.ID); left != identity.RecoveryCodeCount-1 {
			t.Fatalf("recovery codes left = %d", left)
		}
		// TOTP guessing is throttled on the account.
		var th *identity.ThrottledError
		for i := 0; i < 5; i++ {
			_, err = e.svc.VerifyMFA(ctx, res4.Token, "00000"+string(rune('0'+i)), "127.0.0.1")
		}
		if !errors.As(err, &th) {
			t.Fatalf("5 wrong codes: %v, want throttled", err)
		}
		// The TOTP seed is stored sealed.
		var raw []byte
		if err := st.QueryRow(ctx, "SELECT totp_secret FROM users WHERE id = ?", res.User.ID).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), string(seed)) {
			t.Fatal("TOTP seed stored in clear")
		}
		assertNoSecretsInAudit(t, st, goodPassword, identity.TOTPSecretText(seed), codes[0], codes[1], res.Token, res2.Token)
	})
}

func TestAPITokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		bank, telco := client(t, st, "bankx"), client(t, st, "telcoy")
		admin := e.user(t, "ada", identity.RoleAdmin).Principal()
		plain, tok, err := e.svc.CreateAPIToken(ctx, admin, NewAPIToken{Name: "siem", Role: identity.RoleAuditor,
			ClientIDs: []int64{bank}, ExpiresAt: e.clock.Now().Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(plain, "cust_") || !strings.HasPrefix(plain, tok.Prefix) {
			t.Fatalf("token %q / prefix %q", plain[:5], tok.Prefix)
		}
		p, err := e.svc.TokenPrincipal(ctx, plain)
		if err != nil {
			t.Fatal(err)
		}
		if p.Role != identity.RoleAuditor || p.AllClients || !p.CanSeeClient(bank) || p.CanSeeClient(telco) || p.TokenID != tok.ID {
			t.Fatalf("TokenPrincipal = %+v", p)
		}
		// Audited once per minute of use.
		for i := 0; i < 5; i++ {
			if _, err := e.svc.TokenPrincipal(ctx, plain); err != nil {
				t.Fatal(err)
			}
		}
		e.clock.Add(61 * time.Second)
		if _, err := e.svc.TokenPrincipal(ctx, plain); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'token.use'").Scan(&n); err != nil || n != 2 {
			t.Fatalf("token.use entries = %d, %v; want 2", n, err)
		}
		if _, err := e.svc.TokenPrincipal(ctx, plain[:len(plain)-1]+"x"); !errors.Is(err, ErrBadToken) {
			t.Fatalf("altered token: %v", err)
		}
		// Expiry.
		e.clock.Add(24 * time.Hour)
		if _, err := e.svc.TokenPrincipal(ctx, plain); !errors.Is(err, ErrBadToken) {
			t.Fatalf("expired token: %v", err)
		}
		// Scope: a scoped security officer cannot mint wider tokens.
		sec := &identity.Principal{UserID: admin.UserID, Username: "sec", Role: identity.RoleSecurity, ClientIDs: []int64{bank}}
		_, _, err = e.svc.CreateAPIToken(ctx, sec, NewAPIToken{Name: "x", Role: identity.RoleSecurity, ClientIDs: []int64{telco}})
		var fe identity.FieldErrors
		if !errors.As(err, &fe) || fe["client_ids"] == "" {
			t.Fatalf("out-of-scope client: %v", err)
		}
		_, _, err = e.svc.CreateAPIToken(ctx, sec, NewAPIToken{Name: "x", Role: identity.RoleAdmin, ClientIDs: []int64{bank}})
		if !errors.As(err, &fe) || fe["role"] == "" {
			t.Fatalf("higher role: %v", err)
		}
		_, _, err = e.svc.CreateAPIToken(ctx, sec, NewAPIToken{Name: "x", Role: identity.RoleSecurity, AllClients: true})
		if !errors.As(err, &fe) || fe["client_ids"] == "" {
			t.Fatalf("all clients from a scoped user: %v", err)
		}
		_, _, err = e.svc.CreateAPIToken(ctx, admin, NewAPIToken{Name: "x", Role: identity.RoleAuditor, ClientIDs: []int64{99999}})
		if !errors.As(err, &fe) || fe["client_ids"] == "" {
			t.Fatalf("unknown client: %v", err)
		}
		// Revoke.
		plain2, tok2, err := e.svc.CreateAPIToken(ctx, admin, NewAPIToken{Name: "backup", Role: identity.RoleAuditor, AllClients: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.TokenPrincipal(ctx, plain2); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RevokeAPIToken(ctx, admin, tok2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.TokenPrincipal(ctx, plain2); !errors.Is(err, ErrBadToken) {
			t.Fatalf("revoked token: %v", err)
		}
		// A token follows its creator: demoting the creator disables tokens
		// of a role they no longer have; narrowing their scope narrows it.
		sup := e.user(t, "sup", identity.RoleSupervisor)
		supP := sup.Principal()
		plain3, _, err := e.svc.CreateAPIToken(ctx, supP, NewAPIToken{Name: "sup-tok", Role: identity.RoleSupervisor, AllClients: true})
		if err != nil {
			t.Fatal(err)
		}
		sup.AllClients, sup.ClientIDs = false, []int64{bank}
		if err := e.svc.UpdateUser(ctx, admin, sup); err != nil {
			t.Fatal(err)
		}
		if p3, err := e.svc.TokenPrincipal(ctx, plain3); err != nil || p3.AllClients || !p3.CanSeeClient(bank) || p3.CanSeeClient(telco) {
			t.Fatalf("token of a narrowed creator = %+v, %v", p3, err)
		}
		sup.Role = identity.RoleAgent
		if err := e.svc.UpdateUser(ctx, admin, sup); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.TokenPrincipal(ctx, plain3); !errors.Is(err, ErrBadToken) {
			t.Fatalf("token of a demoted creator: %v, want ErrBadToken", err)
		}
		list, err := e.svc.APITokens(ctx, admin, true)
		if err != nil || len(list) != 3 || list[1].RevokedAt.IsZero() {
			t.Fatalf("APITokens = %+v, %v", list, err)
		}
		// Stored hashed only.
		if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM api_tokens WHERE token_hash = ? OR token_hash = ?", plain, plain2).Scan(&n); err != nil || n != 0 {
			t.Fatalf("token stored in clear: %d %v", n, err)
		}
		assertNoSecretsInAudit(t, st, plain, plain2, goodPassword)
	})
}

func TestUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		name, pw, created, err := e.svc.EnsureFirstAdmin(ctx)
		if err != nil || !created || name != "admin" || len(pw) < 12 {
			t.Fatalf("EnsureFirstAdmin = %q, created %v, %v", name, created, err)
		}
		if _, _, created, err := e.svc.EnsureFirstAdmin(ctx); err != nil || created {
			t.Fatalf("second EnsureFirstAdmin created %v, %v", created, err)
		}
		res, err := e.svc.PasswordLogin(ctx, "admin", pw, "", "")
		if err != nil || !res.MustChangePassword || !res.NeedEnrolMFA {
			t.Fatalf("first admin sign-in = %+v, %v", res, err)
		}
		admin := res.Principal
		// Password policy.
		var fe identity.FieldErrors
		for _, bad := range []string{"short", "admin", "password1234", "aaaaaaaaaaaaaaaa"} {
			if err := e.svc.ChangePassword(ctx, admin, pw, bad); !errors.As(err, &fe) || fe["new_password"] == "" {
				t.Errorf("ChangePassword(%q) = %v, want a field error", bad, err)
			}
		}
		if err := e.svc.ChangePassword(ctx, admin, "not it at all", goodPassword); !errors.As(err, &fe) || fe["current_password"] == "" {
			t.Errorf("ChangePassword(wrong current) = %v", err)
		}
		if err := e.svc.ChangePassword(ctx, admin, pw, goodPassword); err != nil {
			t.Fatal(err)
		}
		if p, err := e.svc.SessionPrincipal(ctx, res.Token); err != nil || p.UserID != admin.UserID {
			t.Fatalf("current session ended by own password change: %v", err)
		}
		// Validation.
		_, _, err = e.svc.CreateUser(ctx, admin, NewUser{User: identity.User{Username: "x", Email: "nope", Role: "boss"}})
		if !errors.As(err, &fe) || fe["username"] == "" || fe["email"] == "" || fe["role"] == "" {
			t.Fatalf("CreateUser(bad) = %v", err)
		}
		agent := &identity.Principal{UserID: 99, Role: identity.RoleAgent}
		if _, _, err := e.svc.CreateUser(ctx, agent, NewUser{User: identity.User{Username: "eve", Role: identity.RoleAdmin}}); !errors.Is(err, ErrForbidden) {
			t.Fatalf("agent creating a user: %v", err)
		}
		// One-time password for a new user.
		bank := client(t, st, "bankx")
		u, oneTime, err := e.svc.CreateUser(ctx, admin, NewUser{User: identity.User{Username: "Luis", Role: identity.RoleSupervisor, ClientIDs: []int64{bank}}})
		if err != nil || oneTime == "" || !u.MustChangePassword {
			t.Fatalf("CreateUser = %+v, one-time password %v, %v", u, oneTime != "", err)
		}
		// The last administrator cannot demote themself.
		me, _ := e.svc.User(ctx, admin, admin.UserID)
		me.Role = identity.RoleSecurity
		if err := e.svc.UpdateUser(ctx, admin, me); !errors.As(err, &fe) || fe["role"] == "" {
			t.Fatalf("demoting the last admin: %v", err)
		}
		// Deactivating a user ends their sessions.
		lr, err := e.svc.PasswordLogin(ctx, "luis", oneTime, "", "")
		if err != nil {
			t.Fatal(err)
		}
		u.Active = false
		if err := e.svc.UpdateUser(ctx, admin, u); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SessionPrincipal(ctx, lr.Token); !errors.Is(err, ErrSessionInvalid) {
			t.Fatalf("deactivated user's session: %v", err)
		}
		if _, err := e.svc.PasswordLogin(ctx, "luis", oneTime, "", ""); !errors.Is(err, ErrInactive) {
			t.Fatalf("deactivated user sign-in: %v", err)
		}
		list, total, err := e.svc.Users(ctx, admin, identity.UserFilter{})
		if err != nil || total != 2 || len(list) != 2 {
			t.Fatalf("Users = %d/%d, %v", len(list), total, err)
		}
		assertNoSecretsInAudit(t, st, pw, oneTime, goodPassword)
	})
}

func TestRehashOnLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		u := e.user(t, "rita", identity.RoleAgent)
		stronger := fastParams
		stronger.Time = 2
		svc2 := NewService(st, e.keys, Config{Password: stronger}, e.clock.Now)
		if _, err := svc2.PasswordLogin(ctx, "rita", goodPassword, "", ""); err != nil {
			t.Fatal(err)
		}
		creds, _ := st.UserCredentials(ctx, u.ID)
		if !strings.Contains(creds.PasswordHash, "t=2,") {
			t.Fatalf("hash not upgraded: %s", creds.PasswordHash[:30])
		}
		if _, err := svc2.PasswordLogin(ctx, "rita", goodPassword, "", ""); err != nil {
			t.Fatalf("sign-in with the rehashed password: %v", err)
		}
	})
}

func TestCSRF(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		e.user(t, "sara", identity.RoleSupervisor)
		a, _ := e.svc.PasswordLogin(ctx, "sara", goodPassword, "", "")
		b, _ := e.svc.PasswordLogin(ctx, "sara", goodPassword, "", "")
		tok, err := e.svc.CSRFToken(ctx, a.Principal)
		if err != nil || tok != SessionCSRFToken(a.Session) {
			t.Fatalf("CSRFToken = %v", err)
		}
		for _, tc := range []struct {
			name   string
			p      *identity.Principal
			header string
			form   string
			ok     bool
		}{
			{"header", a.Principal, tok, "", true},
			{"form", a.Principal, "", tok, true},
			{"missing", a.Principal, "", "", false},
			{"other session's token", b.Principal, tok, "", false},
			{"garbage", a.Principal, "x" + tok, "", false},
			{"no principal", nil, tok, "", false},
		} {
			body := url.Values{identity.CSRFField: {tc.form}}.Encode()
			r := httptest.NewRequest("POST", "/x", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.header != "" {
				r.Header.Set(identity.CSRFHeader, tc.header)
			}
			err := e.svc.CheckCSRF(r, tc.p)
			if (err == nil) != tc.ok {
				t.Errorf("%s: CheckCSRF = %v, want ok=%v", tc.name, err, tc.ok)
			}
		}
	})
}

func TestRotateKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st)
		res0 := e.user(t, "ada", identity.RoleAdmin)
		seed, _ := e.enrol(t, res0.Principal())
		if err := e.svc.PutSecret(ctx, nil, "smtp", []byte("smtp-pass")); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.PutSecret(ctx, &identity.Principal{Role: identity.RoleAuditor}, "smtp", []byte("x")); !errors.Is(err, ErrForbidden) {
			t.Fatalf("auditor storing a secret: %v", err)
		}
		newKeys, oldFile, n, err := RotateMasterKey(ctx, st, e.dir, e.clock.Now())
		if err != nil || n != 2 || oldFile == "" {
			t.Fatalf("RotateMasterKey = %d, %q, %v", n, oldFile, err)
		}
		// Only the new key file is loaded now.
		loaded, err := secret.LoadOrCreate(e.dir, "")
		if err != nil || loaded.KeyID() != newKeys.KeyID() || loaded.KeyID() == e.keys.KeyID() {
			t.Fatalf("after rotation loaded key %v (%v)", loaded.KeyID(), err)
		}
		only, _ := secret.LoadOrCreate(e.dir, "")
		got, err := st.Secret(ctx, "smtp")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.keys.Open(got, []byte("secrets:smtp")); err == nil {
			t.Fatal("old key still opens the rotated secret")
		}
		// A service on the new key only opens the secret and the TOTP seed.
		svc := NewService(st, only, Config{Password: fastParams}, e.clock.Now)
		if pt, err := svc.Secret(ctx, "smtp"); err != nil || string(pt) != "smtp-pass" {
			t.Fatalf("secret after rotation = %q, %v", pt, err)
		}
		assertNoSecretsInAudit(t, st, "smtp-pass")
		e.clock.Add(time.Minute)
		res, err := svc.PasswordLogin(ctx, "ada", goodPassword, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.VerifyMFA(ctx, res.Token, identity.TOTPCode(seed, identity.TOTPStep(e.clock.Now())), ""); err != nil {
			t.Fatalf("TOTP after key rotation: %v", err)
		}
	})
}

// assertNoSecretsInAudit fails if any audit row contains one of the secrets.
func assertNoSecretsInAudit(t *testing.T, st *store.Store, secrets ...string) {
	t.Helper()
	rows, err := st.Query(context.Background(), `SELECT seq, actor, action, object_type, object_id, request_id, ip,
		before_digest, after_digest, detail FROM audit_log`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	count := 0
	for rows.Next() {
		var seq int64
		var f [9]string
		if err := rows.Scan(&seq, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8]); err != nil {
			t.Fatal(err)
		}
		count++
		row := strings.Join(f[:], "|")
		for _, s := range secrets {
			if s != "" && strings.Contains(row, s) {
				t.Errorf("audit entry %d (%s) contains a secret", seq, f[1])
			}
		}
	}
	if count == 0 {
		t.Error("no audit entries written")
	}
}
