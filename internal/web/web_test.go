package web

import (
	"net/http"
	"testing"
)

func TestLoginPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.get("/login")
	wantStatus(t, "GET /login", r, http.StatusOK)
	r.doc.mustFind(t, "form[action=/login] input#f-username[name=username]")
	r.doc.mustFind(t, "input#f-password[type=password]")
	if got := text(r.doc.find("h1")); got != "Sign in" {
		t.Errorf("h1 = %q, want Sign in", got)
	}
}
