package web

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity/sso"
	"github.com/custodia/custodia/internal/identity/sso/ssotest"
	"github.com/custodia/custodia/internal/secret"
)

// TestSSOSignIn signs in through the console's /auth/oidc/start and
// /auth/oidc/callback against a real OpenID provider started by the test.
func TestSSOSignIn(t *testing.T) {
	var provider *ssotest.Provider
	e := newStackSSO(t, func(keys *secret.Keyring, base string) *sso.SSO {
		provider = ssotest.Start(t, base+"/auth/oidc/callback")
		roles, err := sso.ParseRoleMap("cc-sup=supervisor,cc-ciso=security")
		if err != nil {
			t.Fatal(err)
		}
		rp, err := sso.New(context.Background(), sso.Config{Issuer: provider.Issuer, ClientID: provider.ClientID,
			ClientSecret: provider.ClientSecret, RedirectURL: base + "/auth/oidc/callback",
			RoleClaim: "groups", ClientsClaim: "custodia_clients", RoleMap: roles}, keys)
		if err != nil {
			t.Fatalf("sso.New: %v", err)
		}
		return rp
	})
	e.seedSmall()
	b := e.browser()
	r := b.get("/login")
	if !r.doc.hasText("a[href=/auth/oidc/start]", "Sign in with Test IdP") {
		t.Fatalf("no single sign-on button on the sign-in page")
	}
	jar, _ := cookiejar.New(nil)
	follow := &http.Client{Jar: jar, Timeout: 20 * time.Second}

	// A security officer of the bank only.
	provider.SetUser(ssotest.User{Subject: "sub-1", Email: "marta@example.com", Name: "Marta Gil",
		Claims: map[string]any{"groups": []any{"cc-ciso"}, "custodia_clients": []any{"bank"}}})
	res, err := follow.Get(e.srv.URL + "/auth/oidc/start?next=/people")
	if err != nil {
		t.Fatalf("single sign-on: %v", err)
	}
	body := readAll(res)
	if res.StatusCode != http.StatusOK || !strings.HasSuffix(res.Request.URL.Path, "/people") {
		t.Fatalf("after single sign-on: %d at %s\n%s", res.StatusCode, res.Request.URL, truncateForLog(body))
	}
	if !strings.Contains(body, "Ana García") || strings.Contains(body, "Bob Smith") {
		t.Errorf("the SSO security officer of the bank does not see exactly the bank's people")
	}

	// Claims that map to no role: refused on the sign-in page.
	provider.SetUser(ssotest.User{Subject: "sub-2", Email: "nobody@example.com", Claims: map[string]any{"groups": []any{"everyone"}}})
	jar2, _ := cookiejar.New(nil)
	follow.Jar = jar2
	res, err = follow.Get(e.srv.URL + "/auth/oidc/start")
	if err != nil {
		t.Fatal(err)
	}
	body = readAll(res)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Single sign-on failed") {
		t.Errorf("sign-in without a role = %d, want 401 with the failure message", res.StatusCode)
	}
	// A callback that this browser did not start is refused.
	if r := b.get("/auth/oidc/callback?state=x&code=y"); r.status != http.StatusUnauthorized {
		t.Errorf("forged callback = %d, want 401", r.status)
	}
}

func readAll(res *http.Response) string {
	defer res.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}
