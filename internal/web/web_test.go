package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
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
	if got := r.header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") {
		t.Errorf("CSP = %q", got)
	}
	// Anonymous requests for console pages go to the sign-in page.
	r = b.get("/people")
	wantStatus(t, "anonymous GET /people", r, http.StatusSeeOther)
	if !strings.HasPrefix(r.location, "/login?next=") {
		t.Errorf("Location = %q, want /login?next=…", r.location)
	}
}

func TestLanguageNegotiation(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.lang = "es-ES,es;q=0.9,en;q=0.5"
	r := b.get("/login")
	if got := text(r.doc.find("h1")); got != "Iniciar sesión" {
		t.Errorf("h1 with Accept-Language es = %q, want Iniciar sesión", got)
	}
	if v, _ := attr(r.doc.find("html"), "lang"); v != "es" {
		t.Errorf("html lang = %q, want es", v)
	}
	// An anonymous visitor may switch language; the choice is kept in a cookie.
	b.lang = "es"
	r = b.get("/login?lang=en")
	wantStatus(t, "GET /login?lang=en", r, http.StatusSeeOther)
	r = b.get("/login")
	if got := text(r.doc.find("h1")); got != "Sign in" {
		t.Errorf("h1 after switching to en = %q, want Sign in", got)
	}
}

func TestSignInWithTOTP(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", identity.RoleAdmin, true, nil)
	b := e.browser()
	b.get("/login")
	r := b.post("/login", url.Values{"username": {"alice"}, "password": {"wrong password!"}})
	wantStatus(t, "POST /login with a wrong password", r, http.StatusUnauthorized)
	if !r.doc.hasText(".form-error", "Wrong username or password.") {
		t.Errorf("no bad-credentials message")
	}
	r = b.post("/login", url.Values{"username": {"", ""}, "password": {""}})
	wantStatus(t, "POST /login empty", r, http.StatusUnprocessableEntity)
	r.doc.mustFind(t, "input#f-username[aria-invalid=true]")
	r.doc.mustFind(t, "p#f-username-error.field-error")

	r = b.post("/login", url.Values{"username": {"alice"}, "password": {testPassword}, "next": {"/people"}})
	wantStatus(t, "POST /login", r, http.StatusSeeOther)
	if !strings.HasPrefix(r.location, "/login/mfa") {
		t.Fatalf("Location = %q, want /login/mfa", r.location)
	}
	// Until the second factor passes, the session reaches nothing.
	if r := b.get("/people"); r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/login") {
		t.Fatalf("GET /people before MFA = %d %q, want a redirect to /login", r.status, r.location)
	}
	r = b.get("/login/mfa?next=/people")
	wantStatus(t, "GET /login/mfa", r, http.StatusOK)
	r = b.post("/login/mfa", url.Values{"code": {"000000"}, "next": {"/people"}})
	wantStatus(t, "POST /login/mfa with a wrong code", r, http.StatusUnprocessableEntity)
	if n := r.doc.mustFind(t, "p#f-code-error"); !strings.Contains(text(n), "not valid") {
		t.Errorf("code error = %q", text(n))
	}
	r = b.post("/login/mfa", url.Values{"code": {e.totp(e.seeds["alice"])}, "next": {"/people"}})
	wantStatus(t, "POST /login/mfa", r, http.StatusSeeOther)
	if r.location != "/people" {
		t.Errorf("Location = %q, want /people", r.location)
	}
	r = b.get("/")
	wantStatus(t, "GET / signed in", r, http.StatusOK)
	nav := text(r.doc.mustFind(t, "nav.menu"))
	for _, want := range []string{"People", "Teams", "Clients", "Users and roles", "API tokens", "Audit trail"} {
		if !strings.Contains(nav, want) {
			t.Errorf("navigation %q lacks %q", nav, want)
		}
	}
	// Modules that are not built in are not linked.
	for _, absent := range []string{"ISMS", "Incidents", "Workstations", "Supervision"} {
		if strings.Contains(nav, absent) {
			t.Errorf("navigation %q links the missing module %q", nav, absent)
		}
	}
	// Sign out ends the session.
	r = b.post("/logout", nil)
	wantStatus(t, "POST /logout", r, http.StatusSeeOther)
	if r := b.get("/"); r.status != http.StatusSeeOther {
		t.Errorf("GET / after sign-out = %d, want 303", r.status)
	}
}

func TestForcedMFAEnrolment(t *testing.T) {
	e := newEnv(t)
	e.addUser("sec", identity.RoleSecurity, false, nil)
	b := e.browser()
	b.get("/login")
	r := b.post("/login", url.Values{"username": {"sec"}, "password": {testPassword}})
	wantStatus(t, "POST /login", r, http.StatusSeeOther)
	if r.location != "/profile/mfa" {
		t.Fatalf("Location = %q, want /profile/mfa", r.location)
	}
	if r := b.get("/people"); r.status != http.StatusSeeOther || r.location != "/profile/mfa" {
		t.Fatalf("GET /people before enrolment = %d %q, want 303 /profile/mfa", r.status, r.location)
	}
	r = b.get("/profile/mfa")
	wantStatus(t, "GET /profile/mfa", r, http.StatusOK)
	img := r.doc.mustFind(t, ".qr img")
	if src, _ := attr(img, "src"); !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Errorf("QR src = %.40q, want a PNG data URL", src)
	}
	if alt, _ := attr(img, "alt"); alt == "" {
		t.Errorf("QR image has no alt text")
	}
	seed := seedOf(t, text(r.doc.mustFind(t, "#totp-secret")))
	r = b.post("/profile/mfa", url.Values{"code": {"123456"}})
	wantStatus(t, "POST /profile/mfa with a wrong code", r, http.StatusUnprocessableEntity)
	r.doc.mustFind(t, "p#f-code-error")
	r = b.post("/profile/mfa", url.Values{"code": {e.totp(seed)}})
	wantStatus(t, "POST /profile/mfa", r, http.StatusOK)
	if n := len(r.doc.findAll("#recovery-codes li")); n != identity.RecoveryCodeCount {
		t.Errorf("%d recovery codes shown, want %d", n, identity.RecoveryCodeCount)
	}
	if r := b.get("/people"); r.status != http.StatusOK {
		t.Errorf("GET /people after enrolment = %d, want 200", r.status)
	}
}

func TestAgentPortal(t *testing.T) {
	e := newEnv(t)
	e.addUser("agent1", identity.RoleAgent, false, func(u *identity.User) {
		u.AllClients = false
		u.ClientIDs = []int64{e.clientA.ID}
		u.PersonID = e.personA.ID
	})
	b := e.browser()
	b.get("/login")
	r := b.post("/login", url.Values{"username": {"agent1"}, "password": {testPassword}, "next": {"/people"}})
	wantStatus(t, "POST /login", r, http.StatusSeeOther)
	if r.location != "/profile" {
		t.Errorf("agent lands on %q, want /profile", r.location)
	}
	r = b.get("/profile")
	wantStatus(t, "GET /profile", r, http.StatusOK)
	if !strings.Contains(r.body, "A001") || !strings.Contains(r.body, "Ana García") {
		t.Errorf("profile does not show the agent's own record")
	}
	if links := r.doc.findAll("nav.menu a"); len(links) != 0 {
		t.Errorf("agent sees %d navigation links, want none", len(links))
	}
	for _, path := range []string{"/people", "/clients", "/audit", "/users", fmt.Sprintf("/people/%d", e.personA.ID)} {
		if r := b.get(path); r.status != http.StatusForbidden {
			t.Errorf("agent GET %s = %d, want 403", path, r.status)
		}
	}
	if r := b.get("/"); r.status != http.StatusSeeOther || r.location != "/profile" {
		t.Errorf("agent GET / = %d %q, want 303 /profile", r.status, r.location)
	}
}

func TestPeopleListScopeSearchAndPaging(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 60 {
		p := org.Person{EmployeeID: fmt.Sprintf("A1%02d", i), FullName: fmt.Sprintf("Agent %02d Pérez", i),
			Email: fmt.Sprintf("a%d@example.com", i), SiteID: e.site.ID, TeamID: e.teamA.ID, ClientIDs: []int64{e.clientA.ID}, Active: true}
		if err := e.st.CreatePerson(ctx, &p); err != nil {
			t.Fatal(err)
		}
	}
	e.addUser("supa", identity.RoleSupervisor, false, func(u *identity.User) {
		u.AllClients = false
		u.ClientIDs = []int64{e.clientA.ID}
		u.TeamIDs = []int64{e.teamA.ID}
	})
	b := e.browser()
	b.signIn("supa")
	r := b.get("/people")
	wantStatus(t, "GET /people", r, http.StatusOK)
	if got := len(r.doc.findAll("table.people tbody tr")); got != peoplePageSize {
		t.Errorf("first page has %d rows, want %d", got, peoplePageSize)
	}
	if !r.doc.hasText(".count", "61") {
		t.Errorf("count = %q, want 61 results", text(r.doc.find(".count")))
	}
	if strings.Contains(r.body, "Bob Smith") {
		t.Errorf("supervisor of client A sees client B's person")
	}
	next := r.doc.mustFind(t, "nav.pager a[rel=next]")
	href, _ := attr(next, "href")
	r = b.get(href)
	if got := len(r.doc.findAll("table.people tbody tr")); got != 11 {
		t.Errorf("second page has %d rows, want 11", got)
	}
	// Accent-insensitive search.
	r = b.get("/people?q=" + url.QueryEscape("agent 07 perez"))
	if got := len(r.doc.findAll("table.people tbody tr")); got != 1 || !strings.Contains(r.body, "Agent 07 Pérez") {
		t.Errorf("search found %d rows", got)
	}
	// Out of scope: 404, as if it did not exist.
	if r := b.get(fmt.Sprintf("/people/%d", e.personB.ID)); r.status != http.StatusNotFound {
		t.Errorf("GET client B's person = %d, want 404", r.status)
	}
	if r := b.get(fmt.Sprintf("/people/%d", e.personA.ID)); r.status != http.StatusOK {
		t.Errorf("GET client A's person = %d, want 200", r.status)
	}
	// Supervisors read; they do not import.
	if r := b.get("/people/import"); r.status != http.StatusForbidden {
		t.Errorf("supervisor GET /people/import = %d, want 403", r.status)
	}
	if r := b.get("/people?client_id=abc&active=maybe&offset=-4"); r.status != http.StatusOK {
		t.Errorf("junk filters = %d, want 200", r.status)
	}
}

// upload posts a multipart form with a file.
func (b *browser) upload(path, field, filename, content string, vals url.Values) *response {
	b.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if vals == nil {
		vals = url.Values{}
	}
	if vals.Get("csrf_token") == "" {
		vals.Set("csrf_token", b.csrf())
	}
	for k, vs := range vals {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, _ := mw.CreateFormFile(field, filename)
	io.WriteString(fw, content)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func TestPeopleImport(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", identity.RoleAdmin, true, nil)
	b := e.browser()
	b.signIn("alice")
	b.get("/people/import")
	csv := "employee_id,full_name,email,site,team,clients\n" +
		"N001,Nuria López,nuria@example.com,mad,bank-1,bank\n" +
		"N002,Nico Ruiz,not-an-email,mad,bank-1,bank\n" +
		"A001,Ana García Díaz,ana@example.com,mad,bank-1,bank\n"
	r := b.upload("/people/import", "file", "people.csv", csv, nil)
	wantStatus(t, "POST /people/import (preview)", r, http.StatusOK)
	stats := text(r.doc.mustFind(t, "ul.stats"))
	for _, want := range []string{"1 to create", "1 to update", "1 rows with errors"} {
		if !strings.Contains(stats, want) {
			t.Errorf("preview counts %q lack %q", stats, want)
		}
	}
	errRow := text(r.doc.mustFind(t, "table.import-errors tbody tr"))
	if !strings.HasPrefix(errRow, "3 N002") || !strings.Contains(errRow, "email") {
		t.Errorf("error row = %q, want line 3, N002 and the email problem", errRow)
	}
	// The preview changed nothing.
	if _, err := e.st.PersonByEmployeeID(context.Background(), identity.Scope{All: true}, "N001"); err == nil {
		t.Fatalf("the preview imported N001")
	}
	hidden, _ := attr(r.doc.mustFind(t, "form[action=/people/import/apply] input[name=csv]"), "value")
	// Applying without confirming the valid rows is refused, next to the checkbox.
	r = b.post("/people/import/apply", url.Values{"csv": {hidden}})
	wantStatus(t, "apply without confirmation", r, http.StatusUnprocessableEntity)
	r.doc.mustFind(t, "p#f-accept_valid_rows-error")
	if _, err := e.st.PersonByEmployeeID(context.Background(), identity.Scope{All: true}, "N001"); err == nil {
		t.Fatalf("an unconfirmed import was applied")
	}
	r = b.post("/people/import/apply", url.Values{"csv": {hidden}, "accept_valid_rows": {"on"}})
	wantStatus(t, "apply", r, http.StatusSeeOther)
	r = b.get(r.location)
	wantStatus(t, "GET people after import", r, http.StatusOK)
	if !r.doc.hasText(".flash", "1 created, 1 updated, 0 deactivated, 1 invalid") {
		t.Errorf("flash = %q", text(r.doc.find(".flash")))
	}
	if !r.doc.hasText("table.people", "Nuria López") || !r.doc.hasText("table.people", "Ana García Díaz") {
		t.Errorf("imported people not listed")
	}
	if r.doc.hasText("table.people", "Nico Ruiz") {
		t.Errorf("the invalid row was imported")
	}
	// A file that cannot be read at all: an error next to the file field.
	b.get("/people/import")
	r = b.upload("/people/import", "file", "x.csv", "just,a,header\n", nil)
	wantStatus(t, "upload a bad file", r, http.StatusUnprocessableEntity)
	r.doc.mustFind(t, "p#f-file-error")
}

func TestPersonFormFieldErrorsAndCSRF(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", identity.RoleAdmin, true, nil)
	b := e.browser()
	b.signIn("alice")
	b.get("/people/new")
	r := b.post("/people", url.Values{"employee_id": {"Z9"}, "full_name": {"Zoe"}, "email": {"nope"}, "start_date": {"2024-13-45"}})
	wantStatus(t, "POST /people invalid", r, http.StatusUnprocessableEntity)
	for _, f := range []string{"email", "start_date"} {
		in := r.doc.mustFind(t, "#f-"+f)
		if v, _ := attr(in, "aria-describedby"); v != "f-"+f+"-error" {
			t.Errorf("%s aria-describedby = %q", f, v)
		}
		r.doc.mustFind(t, "p#f-"+f+"-error.field-error")
	}
	if v, _ := attr(r.doc.mustFind(t, "#f-full_name"), "value"); v != "Zoe" {
		t.Errorf("the form lost the typed name: %q", v)
	}
	// Without the anti-forgery token the change is refused.
	r = b.post("/people", url.Values{"csrf_token": {"-"}, "employee_id": {"Z9"}, "full_name": {"Zoe"}, "email": {"zoe@example.com"}})
	wantStatus(t, "POST /people without CSRF token", r, http.StatusForbidden)
	r = b.post("/people", url.Values{"csrf_token": {"forged"}, "employee_id": {"Z9"}, "full_name": {"Zoe"}, "email": {"zoe@example.com"}})
	wantStatus(t, "POST /people with a forged CSRF token", r, http.StatusForbidden)
	if _, err := e.st.PersonByEmployeeID(context.Background(), identity.Scope{All: true}, "Z9"); err == nil {
		t.Fatalf("a request without a valid CSRF token created a person")
	}
	// A valid one: POST-redirect-GET to the person.
	b.get("/people/new")
	r = b.post("/people", url.Values{"employee_id": {"Z9"}, "full_name": {"Zoe"}, "email": {"zoe@example.com"},
		"site_id": {fmt.Sprint(e.site.ID)}, "client_ids": {fmt.Sprint(e.clientA.ID)}, "active": {"on"}})
	wantStatus(t, "POST /people", r, http.StatusSeeOther)
	r = b.get(r.location)
	if !r.doc.hasText("h1", "Zoe") || !r.doc.hasText(".flash", "Changes saved.") {
		t.Errorf("person page after create: h1 %q flash %q", text(r.doc.find("h1")), text(r.doc.find(".flash")))
	}
	// Deactivate.
	p, _ := e.st.PersonByEmployeeID(context.Background(), identity.Scope{All: true}, "Z9")
	r = b.post(fmt.Sprintf("/people/%d/deactivate", p.ID), url.Values{"leave_date": {"2030-01-31"}})
	wantStatus(t, "deactivate", r, http.StatusSeeOther)
	p, _ = e.st.PersonByEmployeeID(context.Background(), identity.Scope{All: true}, "Z9")
	if p.Active || org.FormatDate(p.LeaveDate) != "2030-01-31" {
		t.Errorf("after deactivate: active %v leave %s", p.Active, org.FormatDate(p.LeaveDate))
	}
}

func TestProfileLanguagePreference(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", identity.RoleAdmin, true, nil)
	b := e.browser()
	b.signIn("alice")
	r := b.get("/profile")
	wantStatus(t, "GET /profile", r, http.StatusOK)
	r = b.post("/profile/language", url.Values{"locale": {"es"}})
	wantStatus(t, "POST /profile/language", r, http.StatusSeeOther)
	// The user's preference wins over the browser's language.
	b.lang = "en-US"
	r = b.get("/people")
	if got := text(r.doc.find("h1")); got != "Personas" {
		t.Errorf("h1 after choosing Spanish = %q, want Personas", got)
	}
	r = b.post("/profile/language", url.Values{"locale": {"xx"}})
	wantStatus(t, "POST /profile/language xx", r, http.StatusUnprocessableEntity)
	// Password change: mismatched confirmation is a field error.
	b.get("/profile")
	r = b.post("/profile/password", url.Values{"current_password": {testPassword}, "new_password": {"a brand new secret 1"}, "confirm_password": {"other"}})
	wantStatus(t, "password mismatch", r, http.StatusUnprocessableEntity)
	r.doc.mustFind(t, "p#f-confirm_password-error")
	r = b.post("/profile/password", url.Values{"current_password": {"wrong wrong wrong"}, "new_password": {"a brand new secret 1"}, "confirm_password": {"a brand new secret 1"}})
	wantStatus(t, "wrong current password", r, http.StatusUnprocessableEntity)
	if got := text(r.doc.mustFind(t, "p#f-current_password-error")); got != "La contraseña actual es incorrecta." {
		t.Errorf("current password error = %q, want the Spanish message", got)
	}
}

func TestAdminPages(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", identity.RoleAdmin, true, nil)
	b := e.browser()
	b.signIn("alice")
	for _, path := range []string{"/", "/clients", "/clients/new", fmt.Sprintf("/clients/%d", e.clientA.ID), "/sites", "/sites/new",
		fmt.Sprintf("/sites/%d", e.site.ID), "/teams", "/teams/new", fmt.Sprintf("/teams/%d", e.teamA.ID), "/people",
		fmt.Sprintf("/people/%d", e.personA.ID), fmt.Sprintf("/people/%d/edit", e.personA.ID), "/people/new", "/people/import",
		"/users", "/users/new", "/tokens", "/audit", "/profile", "/sessions"} {
		if r := b.get(path); r.status != http.StatusOK {
			t.Errorf("GET %s = %d, want 200; body:\n%s", path, r.status, truncateForLog(r.body))
		}
	}
	for _, path := range []string{"/people/999999", "/clients/abc", "/teams/0", "/nope"} {
		if r := b.get(path); r.status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, r.status)
		}
	}
	// Create a client: a duplicate code is a field error.
	b.get("/clients/new")
	r := b.post("/clients", url.Values{"code": {"insure"}, "name": {"Insurer Z"}, "active": {"on"}})
	wantStatus(t, "POST /clients", r, http.StatusSeeOther)
	b.get("/clients/new")
	r = b.post("/clients", url.Values{"code": {"insure"}, "name": {"Again"}})
	wantStatus(t, "POST /clients duplicate", r, http.StatusUnprocessableEntity)
	r.doc.mustFind(t, "p#f-code-error")
	// Create a user: the one-time password is shown once.
	b.get("/users/new")
	r = b.post("/users", url.Values{"username": {"bob"}, "email": {"bob@example.com"}, "role": {"supervisor"},
		"client_ids": {fmt.Sprint(e.clientA.ID)}, "team_ids": {fmt.Sprint(e.teamA.ID)}})
	wantStatus(t, "POST /users", r, http.StatusOK)
	if otp := text(r.doc.mustFind(t, "#one-time-password")); len(otp) < 12 {
		t.Errorf("one-time password %q too short", otp)
	}
	b.get("/users/new")
	r = b.post("/users", url.Values{"username": {"X"}, "email": {"nope"}, "role": {"king"}})
	wantStatus(t, "POST /users invalid", r, http.StatusUnprocessableEntity)
	r.doc.mustFind(t, "p#f-role-error")
	r.doc.mustFind(t, "p#f-email-error")
	// API token: created, shown once, listed by prefix, revoked.
	b.get("/tokens")
	r = b.post("/tokens", url.Values{"name": {"siem"}, "role": {"auditor"}, "all_clients": {"on"}, "expires_days": {"30"}})
	wantStatus(t, "POST /tokens", r, http.StatusOK)
	tok := text(r.doc.mustFind(t, "#new-token"))
	if !identity.LooksLikeAPIToken(tok) {
		t.Fatalf("new token %q does not look like a token", tok)
	}
	r = b.get("/tokens")
	if strings.Contains(r.body, tok) {
		t.Errorf("the token is shown again on the list")
	}
	if !strings.Contains(r.body, identity.TokenDisplayPrefix(tok)) {
		t.Errorf("the token's prefix is not listed")
	}
	revoke := ""
	for _, f := range r.doc.findAll("form.inline") {
		if a, _ := attr(f, "action"); strings.HasPrefix(a, "/tokens/") {
			revoke = a
		}
	}
	if revoke == "" {
		t.Fatalf("no revoke form on the token list")
	}
	r = b.post(revoke, nil)
	wantStatus(t, "POST "+revoke, r, http.StatusSeeOther)
	r = b.get(r.location)
	if !r.doc.hasText("table", "Revoked or expired") || !r.doc.hasText(".flash", "revoked") {
		t.Errorf("token not shown as revoked")
	}
	// The audit trail shows these changes and filters by actor.
	r = b.get("/audit?actor=alice")
	wantStatus(t, "GET /audit", r, http.StatusOK)
	if !r.doc.hasText("table.audit", "client.create") {
		t.Errorf("audit trail lacks client.create")
	}
	r = b.get("/audit?actor=nobody")
	if len(r.doc.findAll("table.audit tbody tr")) != 0 {
		t.Errorf("filter by an unknown actor still lists entries")
	}
	r = b.get("/audit?from=yesterday")
	wantStatus(t, "GET /audit bad date", r, http.StatusUnprocessableEntity)
	r.doc.mustFind(t, "p#f-from-error")
}

func TestStaticAssets(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.get("/login")
	link := r.doc.mustFind(t, "link[rel=stylesheet]")
	href, _ := attr(link, "href")
	if !regexp.MustCompile(`^/static/[0-9a-f]{12}/app\.css$`).MatchString(href) {
		t.Fatalf("stylesheet href = %q, want a checksum URL", href)
	}
	r = b.get(href)
	wantStatus(t, "GET "+href, r, http.StatusOK)
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control = %q", cc)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q", ct)
	}
	if r := b.get("/static/000000000000/app.css"); r.status != http.StatusNotFound {
		t.Errorf("stale hash = %d, want 404", r.status)
	}
}

// TestCatalogueCoversConsole checks that every message key the templates
// and handlers use exists in the catalogue (in both languages: Load checks).
func TestCatalogueCoversConsole(t *testing.T) {
	e := newEnv(t)
	re := regexp.MustCompile(`\bT "([a-z_]+\.[a-z_.]+)"|"((?:layout|nav|flash|login|mfa|home|people|import|clients|sites|teams|profile|sessions|users|tokens|audit|common|error|validation|form)\.[a-z_.]+)"`)
	var sources []string
	for name := range templateNames(t) {
		b, _ := templateFS.ReadFile(name)
		sources = append(sources, string(b))
	}
	for _, f := range goSources(t) {
		sources = append(sources, f)
	}
	for _, src := range sources {
		for _, m := range re.FindAllStringSubmatch(src, -1) {
			key := m[1] + m[2]
			if strings.HasSuffix(key, ".") {
				continue
			}
			if !e.web.cat.Has(key) {
				t.Errorf("message %q is used but not in the catalogue", key)
			}
		}
	}
	for _, m := range append(append([]Module{}, foundation...), Module{Key: ModuleISMS}, Module{Key: ModuleIncidents},
		Module{Key: ModuleCulture}, Module{Key: ModuleWorkstations}, Module{Key: ModuleDataProtection}, Module{Key: ModuleSupervision}) {
		if !e.web.cat.Has("nav." + m.Key) {
			t.Errorf("navigation label nav.%s missing", m.Key)
		}
	}
	for _, a := range []org.ImportAction{org.ActionCreate, org.ActionUpdate, org.ActionDeactivate, org.ActionUnchanged, org.ActionError} {
		if !e.web.cat.Has("import.action." + string(a)) {
			t.Errorf("import.action.%s missing", a)
		}
	}
	for _, r := range identity.Roles {
		if !e.web.cat.Has("role." + string(r)) {
			t.Errorf("role.%s missing", r)
		}
	}
}

func TestLoginThrottling(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", identity.RoleAdmin, true, nil)
	b := e.browser()
	b.get("/login")
	var r *response
	for range 12 {
		r = b.post("/login", url.Values{"username": {"alice"}, "password": {"not the password"}})
		if r.status == http.StatusTooManyRequests {
			break
		}
		wantStatus(t, "POST /login wrong password", r, http.StatusUnauthorized)
	}
	wantStatus(t, "POST /login after many failures", r, http.StatusTooManyRequests)
	if msg := text(r.doc.mustFind(t, ".form-error")); !strings.Contains(msg, "Try again in") {
		t.Errorf("throttling message = %q", msg)
	}
	// Even the right password waits, and the message never says whether the account exists.
	r = b.post("/login", url.Values{"username": {"alice"}, "password": {testPassword}})
	wantStatus(t, "POST /login throttled with the right password", r, http.StatusTooManyRequests)
	b.lang = "es"
	r = b.post("/login", url.Values{"username": {"alice"}, "password": {testPassword}})
	if msg := text(r.doc.mustFind(t, ".form-error")); !strings.Contains(msg, "Inténtelo de nuevo dentro de") {
		t.Errorf("Spanish throttling message = %q", msg)
	}
}

func TestMFAStepRejectsForgedForm(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", identity.RoleAdmin, true, nil)
	b := e.browser()
	b.get("/login")
	r := b.post("/login", url.Values{"username": {"alice"}, "password": {testPassword}})
	wantStatus(t, "POST /login", r, http.StatusSeeOther)
	r = b.post("/login/mfa", url.Values{"csrf_token": {"forged"}, "code": {e.totp(e.seeds["alice"])}})
	wantStatus(t, "POST /login/mfa with a forged token", r, http.StatusForbidden)
	if r := b.get("/people"); r.status != http.StatusSeeOther {
		t.Errorf("the forged MFA form signed in: GET /people = %d", r.status)
	}
}

func TestUserEditScopeAndDeactivate(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", identity.RoleAdmin, true, nil)
	bob := e.addUser("bob", identity.RoleSupervisor, false, func(u *identity.User) {
		u.AllClients = false
		u.ClientIDs = []int64{e.clientA.ID}
	})
	bb := e.browser()
	bb.signIn("bob") // bob has a session the administrator will see and end
	b := e.browser()
	b.signIn("alice")
	path := fmt.Sprintf("/users/%d", bob.ID)
	r := b.get(path)
	wantStatus(t, "GET "+path, r, http.StatusOK)
	if n := len(r.doc.findAll("table.sessions tbody tr")); n != 1 {
		t.Errorf("bob has %d sessions listed, want 1", n)
	}
	// Change the scope to client B and a team of B.
	r = b.post(path, url.Values{"email": {"bob@example.com"}, "display_name": {"Bob"}, "role": {"supervisor"},
		"client_ids": {fmt.Sprint(e.clientB.ID)}, "team_ids": {fmt.Sprint(e.teamB.ID)}, "person_id": {"0"}, "active": {"on"}})
	wantStatus(t, "POST "+path, r, http.StatusSeeOther)
	u, err := e.st.User(context.Background(), bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.ClientIDs) != 1 || u.ClientIDs[0] != e.clientB.ID || len(u.TeamIDs) != 1 || u.TeamIDs[0] != e.teamB.ID {
		t.Errorf("after the change: clients %v teams %v", u.ClientIDs, u.TeamIDs)
	}
	// Deactivate: bob's session ends at once.
	b.get(path)
	r = b.post(path, url.Values{"email": {"bob@example.com"}, "role": {"supervisor"},
		"client_ids": {fmt.Sprint(e.clientB.ID)}, "team_ids": {fmt.Sprint(e.teamB.ID)}})
	wantStatus(t, "deactivate bob", r, http.StatusSeeOther)
	if r := bb.get("/people"); r.status != http.StatusSeeOther {
		t.Errorf("deactivated bob still reaches /people: %d", r.status)
	}
	// The last administrator cannot demote herself: a field error.
	alice, err := e.st.UserByUsername(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	apath := fmt.Sprintf("/users/%d", alice.ID)
	b.get(apath)
	r = b.post(apath, url.Values{"email": {"alice@example.com"}, "role": {"auditor"}, "all_clients": {"on"}, "active": {"on"}})
	wantStatus(t, "demote the last administrator", r, http.StatusUnprocessableEntity)
	r.doc.mustFind(t, "p#f-role-error")
}

func TestModuleNavigation(t *testing.T) {
	e := newEnv(t)
	e.web.modules = []Module{{Key: ModuleIncidents, Path: "/incidents", Roles: []identity.Role{identity.RoleAdmin, identity.RoleSecurity}}}
	e.addUser("alice", identity.RoleAdmin, true, nil)
	e.addUser("dana", identity.RoleDPO, true, nil)
	a := e.browser()
	a.signIn("alice")
	if r := a.get("/"); !r.doc.hasText("nav.menu", "Incidents") || r.doc.hasText("nav.menu", "ISMS") {
		t.Errorf("admin navigation = %q, want Incidents and no ISMS", text(r.doc.find("nav.menu")))
	}
	d := e.browser()
	d.signIn("dana")
	if r := d.get("/"); r.doc.hasText("nav.menu", "Incidents") || r.doc.hasText("nav.menu", "Users and roles") {
		t.Errorf("DPO navigation = %q: shows a module or page not for the role", text(r.doc.find("nav.menu")))
	}
}

func TestImportPastedText(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice", identity.RoleAdmin, true, nil)
	b := e.browser()
	b.signIn("alice")
	b.get("/people/import")
	r := b.post("/people/import", url.Values{"text": {"employee_id,full_name,email\nP1,Pablo Texto,pablo@example.com\n"}})
	wantStatus(t, "POST /people/import (pasted)", r, http.StatusOK)
	if !r.doc.hasText("ul.stats", "1 to create") {
		t.Errorf("preview = %q", text(r.doc.find("ul.stats")))
	}
	r = b.post("/people/import", url.Values{"text": {""}})
	wantStatus(t, "POST /people/import (nothing)", r, http.StatusUnprocessableEntity)
	r.doc.mustFind(t, "p#f-file-error")
}
