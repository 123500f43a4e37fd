package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
)

// TestOneTimePasswordMustBeChanged: a user whose password was one-time (an
// administrator created the account without choosing one) reaches only the
// profile until they choose a new password; then the console opens.
func TestOneTimePasswordMustBeChanged(t *testing.T) {
	e := newEnv(t)
	u, oneTime, err := e.svc.CreateUser(context.Background(), nil, auth.NewUser{User: identity.User{
		Username: "newsup", Email: "newsup@example.com", DisplayName: "New Supervisor", Role: identity.RoleSupervisor, AllClients: true}})
	if err != nil || oneTime == "" || !u.MustChangePassword {
		t.Fatalf("CreateUser = %v, one-time %q, must change %v; want a one-time password", err, oneTime, u.MustChangePassword)
	}
	b := e.browser()
	b.get("/login")
	r := b.post("/login", url.Values{"username": {"newsup"}, "password": {oneTime}})
	wantStatus(t, "POST /login", r, http.StatusSeeOther)

	r = b.get("/people")
	wantStatus(t, "GET /people before the change", r, http.StatusSeeOther)
	if r.location != "/profile" {
		t.Fatalf("GET /people before the change redirects to %q, want /profile", r.location)
	}
	wantStatus(t, "GET /profile", b.get("/profile"), http.StatusOK)

	r = b.post("/profile/password", url.Values{"current_password": {oneTime}, "new_password": {testPassword}, "confirm_password": {testPassword}})
	wantStatus(t, "POST /profile/password", r, http.StatusSeeOther)
	wantStatus(t, "GET /people after the change", b.get("/people"), http.StatusOK)
}
