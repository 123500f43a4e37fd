package sso_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/identity/sso"
	"github.com/custodia/custodia/internal/identity/sso/ssotest"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

const redirectURI = "http://127.0.0.1:8080/auth/oidc/callback"

func newSSO(t *testing.T, p *ssotest.Provider, keys *secret.Keyring) *sso.SSO {
	t.Helper()
	roles, err := sso.ParseRoleMap("cc-ciso=security, cc-admins=admin,cc-sup=supervisor")
	if err != nil {
		t.Fatal(err)
	}
	s, err := sso.New(context.Background(), sso.Config{
		Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret, RedirectURL: redirectURI,
		RoleClaim: "groups", ClientsClaim: "custodia_clients", RoleMap: roles,
	}, keys)
	if err != nil {
		t.Fatalf("sso.New (discovery): %v", err)
	}
	return s
}

// signIn drives a browser through the provider: it follows the redirects
// from the authorization URL to the provider's login step and back until the
// provider redirects to our callback, and returns that callback request with
// the state cookie attached.
func signIn(t *testing.T, s *sso.SSO, now time.Time) *http.Request {
	t.Helper()
	authURL, cookie, err := s.Start("/people?page=2", now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(authURL, "code_challenge=") || !strings.Contains(authURL, "code_challenge_method=S256") || !strings.Contains(authURL, "nonce=") {
		t.Fatalf("authorization URL lacks PKCE or nonce: %s", authURL)
	}
	jar, _ := cookiejar.New(nil)
	var callback string
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirectURI) {
			callback = req.URL.String()
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatalf("authorization request: %v", err)
	}
	resp.Body.Close()
	if callback == "" {
		t.Fatalf("provider did not redirect to the callback (status %d at %s)", resp.StatusCode, resp.Request.URL)
	}
	r := httptest.NewRequest("GET", callback, nil)
	r.AddCookie(&http.Cookie{Name: sso.StateCookie, Value: cookie})
	return r
}

func TestSSOEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		keys, _ := secret.New(secret.Generate())
		provider := ssotest.Start(t, redirectURI)
		s := newSSO(t, provider, keys)
		svc := auth.NewService(st, keys, auth.Config{Password: identity.PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}, nil)
		now := time.Now()
		var bank, telco int64
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			ts := store.TimeArg(now)
			var err error
			if bank, err = tx.InsertID(ctx, "INSERT INTO clients (code, name, name_lower, created_at, updated_at) VALUES ('bankx', 'Bank X', 'bank x', ?, ?) RETURNING id", ts, ts); err != nil {
				return err
			}
			telco, err = tx.InsertID(ctx, "INSERT INTO clients (code, name, name_lower, created_at, updated_at) VALUES ('telcoy', 'Telco Y', 'telco y', ?, ?) RETURNING id", ts, ts)
			return err
		}); err != nil {
			t.Fatal(err)
		}

		// First sign-in: a supervisor of Bank X, created on the fly.
		provider.SetUser(ssotest.User{Subject: "u-123", Email: "Marta.Gil@Example.com", Name: "Marta Gil",
			Claims: map[string]any{"groups": []any{"everyone", "cc-sup"}, "custodia_clients": []any{"bankx", "nosuch"}}})
		ext, returnTo, err := s.Finish(ctx, signIn(t, s, now), now)
		if err != nil {
			t.Fatalf("Finish: %v", err)
		}
		if returnTo != "/people?page=2" {
			t.Errorf("returnTo = %q", returnTo)
		}
		if ext.Issuer != provider.Issuer || ext.Subject != "u-123" || ext.Email != "marta.gil@example.com" || ext.Role != identity.RoleSupervisor ||
			ext.AllClients || !slices.Equal(ext.ClientCodes, []string{"bankx", "nosuch"}) {
			t.Fatalf("Finish = %+v", ext)
		}
		res, err := svc.SSOLogin(ctx, ext, "127.0.0.1", "test")
		if err != nil {
			t.Fatalf("SSOLogin: %v", err)
		}
		p, err := svc.SessionPrincipal(ctx, res.Token)
		if err != nil {
			t.Fatalf("SessionPrincipal: %v", err)
		}
		if p.Role != identity.RoleSupervisor || p.AllClients || !p.CanSeeClient(bank) || p.CanSeeClient(telco) || p.Username != "marta.gil@example.com" {
			t.Fatalf("principal = %+v", p)
		}

		// Second sign-in: the provider now says security officer for all clients.
		provider.SetUser(ssotest.User{Subject: "u-123", Email: "marta.gil@example.com", Name: "Marta Gil",
			Claims: map[string]any{"groups": []any{"cc-ciso"}, "custodia_clients": "*"}})
		ext, _, err = s.Finish(ctx, signIn(t, s, now), now)
		if err != nil {
			t.Fatal(err)
		}
		res2, err := svc.SSOLogin(ctx, ext, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		if res2.User.ID != res.User.ID || res2.Principal.Role != identity.RoleSecurity || !res2.Principal.AllClients {
			t.Fatalf("second sign-in = %+v", res2.Principal)
		}
		if svc.NeedsMFAEnrolment(res2.Principal) {
			t.Error("SSO security officer sent to local MFA enrolment")
		}
		var n int
		if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'user.role_change'").Scan(&n); err != nil || n != 1 {
			t.Errorf("user.role_change entries = %d, %v; want 1", n, err)
		}
		if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'user.create' AND detail LIKE '%marta%'").Scan(&n); err != nil || n != 1 {
			t.Errorf("user.create entries = %d, %v; want 1", n, err)
		}

		// No known role: refused.
		provider.SetUser(ssotest.User{Subject: "u-999", Email: "x@example.com", Claims: map[string]any{"groups": []any{"everyone"}}})
		if _, _, err := s.Finish(ctx, signIn(t, s, now), now); !errors.Is(err, sso.ErrNoRole) {
			t.Fatalf("claims without a role: %v, want ErrNoRole", err)
		}
	})
}

func TestSSOStateChecks(t *testing.T) {
	ctx := context.Background()
	keys, _ := secret.New(secret.Generate())
	provider := ssotest.Start(t, redirectURI)
	provider.SetUser(ssotest.User{Subject: "u-1", Email: "a@example.com", Claims: map[string]any{"groups": "cc-admins"}})
	s := newSSO(t, provider, keys)
	now := time.Now()

	// The callback of another browser's sign-in (login CSRF): our cookie, their state.
	r := signIn(t, s, now)
	_, mine, _ := s.Start("/", now)
	r.Header.Del("Cookie")
	r.AddCookie(&http.Cookie{Name: sso.StateCookie, Value: mine})
	if _, _, err := s.Finish(ctx, r, now); !errors.Is(err, sso.ErrState) {
		t.Errorf("foreign state: %v, want ErrState", err)
	}
	// No cookie at all.
	r = signIn(t, s, now)
	r.Header.Del("Cookie")
	if _, _, err := s.Finish(ctx, r, now); !errors.Is(err, sso.ErrState) {
		t.Errorf("no cookie: %v, want ErrState", err)
	}
	// Too slow.
	r = signIn(t, s, now)
	if _, _, err := s.Finish(ctx, r, now.Add(sso.StateLifetime+time.Second)); !errors.Is(err, sso.ErrState) {
		t.Errorf("expired: %v, want ErrState", err)
	}
	// A code is good once.
	r = signIn(t, s, now)
	if _, _, err := s.Finish(ctx, r, now); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if _, _, err := s.Finish(ctx, r, now); !errors.Is(err, sso.ErrProvider) {
		t.Errorf("replayed code: %v, want ErrProvider", err)
	}
	// The provider reports an error.
	r = httptest.NewRequest("GET", redirectURI+"?error=access_denied&state=x", nil)
	if _, _, err := s.Finish(ctx, r, now); !errors.Is(err, sso.ErrProvider) {
		t.Errorf("provider error: %v, want ErrProvider", err)
	}
	// An open redirect in returnTo is neutralized.
	if _, c, _ := s.Start("//evil.example/x", now); c == "" {
		t.Error("no cookie")
	}
}

func TestParseRoleMap(t *testing.T) {
	m, err := sso.ParseRoleMap("a=admin, b = auditor")
	if err != nil || m["a"] != identity.RoleAdmin || m["b"] != identity.RoleAuditor {
		t.Fatalf("ParseRoleMap = %v, %v", m, err)
	}
	for _, bad := range []string{"a", "a=boss", "=admin"} {
		if _, err := sso.ParseRoleMap(bad); err == nil {
			t.Errorf("ParseRoleMap(%q) accepted", bad)
		}
	}
}
