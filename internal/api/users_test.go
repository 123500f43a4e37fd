package api

import (
	"context"
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

func TestUsersAndTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		adm := f.admin()
		code, body, _ := f.call(t, adm, "POST", "/api/v1/users", `{"username":"marta","role":"supervisor","client_ids":[`+itoa64(f.clientA.ID)+`],"team_ids":[`+itoa64(f.teamA.ID)+`]}`)
		if code != 201 || len(body["one_time_password"].(string)) < 12 || body["must_change_password"] != true {
			t.Fatalf("POST /users = %d %v", code, body)
		}
		uid := itoa64(int64(body["id"].(float64)))
		code, body, _ = f.call(t, adm, "POST", "/api/v1/users", `{"username":"x","role":"emperor"}`)
		if code != 422 || !hasField(body, "role") {
			t.Errorf("POST bad user = %d %v, want 422 on role", code, body)
		}
		code, body, _ = f.call(t, adm, "POST", "/api/v1/users", `{"username":"marta","role":"agent"}`)
		if code != 409 && code != 422 {
			t.Errorf("POST duplicate username = %d %v, want 409 or 422", code, body)
		}
		// A scoped administrator cannot grant a client they do not see.
		scoped := &identity.Principal{UserID: f.adminUser.ID, Username: "admin", Role: identity.RoleAdmin, ClientIDs: []int64{f.clientA.ID}}
		code, body, _ = f.call(t, scoped, "PATCH", "/api/v1/users/"+uid, `{"client_ids":[`+itoa64(f.clientB.ID)+`]}`)
		if code != 422 || !hasField(body, "client_ids") {
			t.Errorf("PATCH grant out-of-scope client = %d %v, want 422", code, body)
		}
		code, body, _ = f.call(t, adm, "PATCH", "/api/v1/users/"+uid, `{"display_name":"Marta Ruiz"}`)
		if code != 200 || body["display_name"] != "Marta Ruiz" || body["role"] != "supervisor" {
			t.Errorf("PATCH user = %d %v", code, body)
		}
		code, body, _ = f.call(t, adm, "GET", "/api/v1/users?role=supervisor", "")
		if code != 200 || body["total"].(float64) != 1 {
			t.Errorf("GET /users?role=supervisor = %d %v", code, body)
		}
		code, body, _ = f.call(t, adm, "POST", "/api/v1/users/"+uid+"/deactivate", "")
		if code != 200 || body["active"] != false {
			t.Errorf("deactivate user = %d %v", code, body)
		}

		// Tokens: the secret is shown once, works, and stops working when revoked.
		code, body, _ = f.call(t, adm, "POST", "/api/v1/tokens", `{"name":"siem","role":"auditor","client_ids":[`+itoa64(f.clientA.ID)+`]}`)
		if code != 201 || body["token"] == nil || body["prefix"] == nil {
			t.Fatalf("POST /tokens = %d %v", code, body)
		}
		secret := body["token"].(string)
		tid := itoa64(int64(body["id"].(float64)))
		p, err := f.svc.TokenPrincipal(context.Background(), secret)
		if err != nil || p.Role != identity.RoleAuditor || p.AllClients {
			t.Fatalf("TokenPrincipal(new token) = %+v, %v", p, err)
		}
		code, body, _ = f.call(t, adm, "GET", "/api/v1/tokens", "")
		if code != 200 || strings.Contains(mustJSON(body), secret) || len(body["items"].([]any)) != 1 {
			t.Errorf("GET /tokens = %d %v (must not contain the secret)", code, body)
		}
		if code, _, _ := f.call(t, adm, "DELETE", "/api/v1/tokens/"+tid, ""); code != 204 {
			t.Errorf("DELETE token = %d, want 204", code)
		}
		if _, err := f.svc.TokenPrincipal(context.Background(), secret); err == nil {
			t.Error("revoked token still authenticates")
		}
		code, body, _ = f.call(t, adm, "POST", "/api/v1/tokens", `{"name":"","role":"auditor","expires_at":"2001-01-01T00:00:00Z"}`)
		if code != 422 || !hasField(body, "name") || !hasField(body, "expires_at") {
			t.Errorf("POST bad token = %d %v", code, body)
		}

		// Me: language preference.
		code, body, _ = f.call(t, adm, "PATCH", "/api/v1/me", `{"locale":"es"}`)
		if code != 200 || body["locale"] != "es" {
			t.Errorf("PATCH /me = %d %v", code, body)
		}
		code, body, _ = f.call(t, adm, "PATCH", "/api/v1/me", `{"locale":"fr"}`)
		if code != 422 || !hasField(body, "locale") {
			t.Errorf("PATCH /me locale fr = %d %v", code, body)
		}
		u, err := f.svc.User(context.Background(), adm, f.adminUser.ID)
		if err != nil || u.Locale != "es" {
			t.Errorf("after PATCH /me: locale = %q, %v", u.Locale, err)
		}
		code, body, _ = f.call(t, adm, "GET", "/api/v1/me/sessions", "")
		if code != 200 || body["items"] == nil {
			t.Errorf("GET /me/sessions = %d %v", code, body)
		}
		if code, _, _ := f.call(t, adm, "DELETE", "/api/v1/me/sessions/"+strings.Repeat("a", 64), ""); code != 404 {
			t.Errorf("DELETE unknown session = %d, want 404", code)
		}
	})
}

func mustJSON(v any) string {
	b, _ := jsonMarshal(v)
	return string(b)
}

func TestPasswordAndMFA(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	ctx := context.Background()
	u, _, err := f.svc.CreateUser(ctx, nil, auth.NewUser{User: identity.User{Username: "sara", Role: identity.RoleSupervisor, ClientIDs: []int64{f.clientA.ID}}, Password: "a long enough passphrase 1"})
	must(t, err)
	p := u.Principal()
	p.SessionID = strings.Repeat("0", 64)
	if code, body, _ := f.call(t, p, "POST", "/api/v1/me/recovery-codes", ""); code != 409 {
		t.Errorf("recovery codes without MFA = %d %v, want 409", code, body)
	}
	code, body, _ := f.call(t, p, "POST", "/api/v1/me/mfa", "")
	if code != 200 || body["secret"] == nil || !strings.HasPrefix(body["otpauth_url"].(string), "otpauth://") {
		t.Fatalf("begin TOTP = %d %v", code, body)
	}
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(body["secret"].(string), "="))
	must(t, err)
	if code, body, _ := f.call(t, p, "POST", "/api/v1/me/mfa/confirm", `{"code":"000000"}`); code != 422 || !hasField(body, "code") {
		t.Errorf("confirm with a wrong code = %d %v, want 422 on code", code, body)
	}
	code, body, _ = f.call(t, p, "POST", "/api/v1/me/mfa/confirm", `{"code":"`+identity.TOTPCode(seed, identity.TOTPStep(time.Now()))+`"}`)
	if code != 200 || len(body["recovery_codes"].([]any)) != 10 {
		t.Fatalf("confirm TOTP = %d %v", code, body)
	}
	if code, _, _ := f.call(t, p, "POST", "/api/v1/me/mfa", ""); code != 409 {
		t.Errorf("begin TOTP again = %d, want 409", code)
	}
	if code, body, _ := f.call(t, p, "POST", "/api/v1/me/recovery-codes", ""); code != 200 || len(body["recovery_codes"].([]any)) != 10 {
		t.Errorf("regenerate recovery codes = %d %v", code, body)
	}
	if code, body, _ := f.call(t, p, "POST", "/api/v1/me/password", `{"current_password":"wrong","new_password":"another long passphrase 2"}`); code != 422 || !hasField(body, "current_password") {
		t.Errorf("change password with a wrong current one = %d %v", code, body)
	}
	if code, body, _ := f.call(t, p, "POST", "/api/v1/me/password", `{"current_password":"a long enough passphrase 1","new_password":"another long passphrase 2"}`); code != 204 {
		t.Errorf("change password = %d %v", code, body)
	}
	adm := f.admin()
	code, body, _ = f.call(t, adm, "POST", "/api/v1/users/"+itoa64(u.ID)+"/password", "")
	if code != 200 || len(body["one_time_password"].(string)) < 12 {
		t.Errorf("reset password = %d %v", code, body)
	}
	if code, _, _ := f.call(t, adm, "POST", "/api/v1/users/"+itoa64(u.ID)+"/mfa/reset", ""); code != 204 {
		t.Errorf("reset MFA = %d", code)
	}
	if enabled, _, err := f.st.UserMFAState(ctx, u.ID); err != nil || enabled {
		t.Errorf("after MFA reset: enabled = %v, %v", enabled, err)
	}
}
