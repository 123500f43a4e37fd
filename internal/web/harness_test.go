package web

import (
	"context"
	"encoding/base32"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/identity/sso"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/server"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// testClock is the identity service's clock; tests move it on so that a
// TOTP code is never reused within a time step.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is the real handler stack (server middleware, authz router, console)
// on a fresh SQLite database, with a small organization.
type env struct {
	t     testing.TB
	st    *store.Store
	svc   *auth.Service
	web   *Server
	srv   *httptest.Server
	clock *testClock
	// The organization: clients A and B, one site, a team per client.
	clientA, clientB org.Client
	site             org.Site
	teamA, teamB     org.Team
	personA, personB org.Person
	seeds            map[string][]byte // username → TOTP seed
}

const testPassword = "correct horse battery staple 42"

// newEnv is newStack with a small organization.
func newEnv(tb testing.TB) *env {
	tb.Helper()
	e := newStack(tb)
	e.seedSmall()
	return e
}

// newStack starts the stack on an empty database.
func newStack(tb testing.TB) *env { return newStackSSO(tb, nil) }

// newStackSSO is newStack with single sign-on: mkSSO gets the console's
// base URL (the listener exists before the server starts) and returns the
// relying party.
func newStackSSO(tb testing.TB, mkSSO func(keys *secret.Keyring, baseURL string) *sso.SSO) *env {
	tb.Helper()
	hs := httptest.NewUnstartedServer(nil)
	baseURL := "http://" + hs.Listener.Addr().String()
	st := storetest.SQLite(tb)
	keys, err := secret.New(secret.Generate())
	if err != nil {
		tb.Fatal(err)
	}
	clock := &testClock{now: time.Now().UTC()}
	svc := auth.NewService(st, keys, auth.Config{
		Password:    identity.PasswordParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		SessionIdle: 1000 * time.Hour, SessionMax: 2000 * time.Hour,
	}, clock.Now)
	cat, err := i18n.Load()
	if err != nil {
		tb.Fatal(err)
	}
	var logw io.Writer = io.Discard
	if os.Getenv("CUSTODIA_TEST_LOG") == "1" {
		logw = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := config.Defaults()
	var rp *sso.SSO
	if mkSSO != nil {
		rp = mkSSO(keys, baseURL)
		cfg.OIDCDisplayName = "Test IdP"
	}
	w, err := NewServer(Deps{Config: cfg, Store: st, Identity: svc, SSO: rp, Catalog: cat, Logger: logger, Now: clock.Now})
	if err != nil {
		tb.Fatalf("NewServer: %v", err)
	}
	srv, err := server.New(server.Deps{Config: cfg, Store: st, Logger: logger, Auth: svc,
		NeedsMFAEnrolment: svc.NeedsMFAEnrolment, Deny: w.Deny, Registrars: []server.Registrar{w}})
	if err != nil {
		tb.Fatalf("server.New: %v", err)
	}
	e := &env{t: tb, st: st, svc: svc, web: w, clock: clock, seeds: map[string][]byte{}}
	hs.Config.Handler = srv
	hs.Start()
	e.srv = hs
	tb.Cleanup(e.srv.Close)
	return e
}

// seedSmall creates two clients (A: a bank, B: a telco), a site, a team and
// a person for each client.
func (e *env) seedSmall() {
	tb, st, ctx := e.t, e.st, context.Background()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := st.EnsureOperator(ctx, "Test Operator"); err != nil {
		tb.Fatal(err)
	}
	e.clientA = org.Client{Code: "bank", Name: "Bank X", Active: true}
	e.clientB = org.Client{Code: "telco", Name: "Telco Y", Active: true}
	must(st.CreateClient(ctx, &e.clientA))
	must(st.CreateClient(ctx, &e.clientB))
	e.site = org.Site{Code: "mad", Name: "Madrid", Country: "ES", Timezone: "Europe/Madrid"}
	must(st.CreateSite(ctx, &e.site))
	e.teamA = org.Team{Code: "bank-1", Name: "Bank team 1", SiteID: e.site.ID, ClientID: e.clientA.ID}
	e.teamB = org.Team{Code: "telco-1", Name: "Telco team 1", SiteID: e.site.ID, ClientID: e.clientB.ID}
	must(st.CreateTeam(ctx, &e.teamA))
	must(st.CreateTeam(ctx, &e.teamB))
	e.personA = org.Person{EmployeeID: "A001", FullName: "Ana García", Email: "ana@example.com", JobRole: "agent",
		SiteID: e.site.ID, TeamID: e.teamA.ID, ClientIDs: []int64{e.clientA.ID}, Active: true}
	e.personB = org.Person{EmployeeID: "B001", FullName: "Bob Smith", Email: "bob@example.com", JobRole: "agent",
		SiteID: e.site.ID, TeamID: e.teamB.ID, ClientIDs: []int64{e.clientB.ID}, Active: true}
	must(st.CreatePerson(ctx, &e.personA))
	must(st.CreatePerson(ctx, &e.personB))
}

// addUser creates a user with testPassword; withTOTP enrols TOTP through
// the identity service and keeps the seed for computing codes.
func (e *env) addUser(username string, role identity.Role, withTOTP bool, mod func(*identity.User)) *identity.User {
	e.t.Helper()
	ctx := context.Background()
	u := identity.User{Username: username, Email: username + "@example.com", DisplayName: strings.ToUpper(username[:1]) + username[1:], Role: role, AllClients: true}
	if mod != nil {
		mod(&u)
	}
	created, _, err := e.svc.CreateUser(ctx, nil, auth.NewUser{User: u, Password: testPassword})
	if err != nil {
		e.t.Fatalf("CreateUser(%s): %v", username, err)
	}
	if withTOTP {
		p := created.Principal()
		en, err := e.svc.BeginTOTPEnrolment(ctx, p)
		if err != nil {
			e.t.Fatal(err)
		}
		seed := seedOf(e.t, en.Secret)
		e.clock.Advance(31 * time.Second)
		if _, err := e.svc.ConfirmTOTPEnrolment(ctx, p, identity.TOTPCode(seed, identity.TOTPStep(e.clock.Now()))); err != nil {
			e.t.Fatalf("confirm TOTP of %s: %v", username, err)
		}
		e.seeds[username] = seed
		created.TOTPEnabled = true
	}
	return created
}

func seedOf(tb testing.TB, secretText string) []byte {
	tb.Helper()
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secretText)
	if err != nil {
		tb.Fatalf("decode TOTP secret %q: %v", secretText, err)
	}
	return seed
}

// totp returns a fresh code for the user's seed, moving the clock to a new step.
func (e *env) totp(seed []byte) string {
	e.clock.Advance(31 * time.Second)
	return identity.TOTPCode(seed, identity.TOTPStep(e.clock.Now()))
}

// browser is a cookie-keeping HTTP client that does not follow redirects.
type browser struct {
	e      *env
	c      *http.Client
	lang   string
	last   *doc
	status int
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type response struct {
	status   int
	location string
	header   http.Header
	body     string
	doc      *doc
}

func (b *browser) do(req *http.Request) *response {
	b.e.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	r := &response{status: res.StatusCode, location: res.Header.Get("Location"), header: res.Header, body: string(body)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		r.doc = parseHTML(b.e.t, r.body)
		checkPageHygiene(b.e.t, r.doc)
		b.last = r.doc
	}
	return r
}

func (b *browser) get(path string) *response {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	return b.do(req)
}

// csrf is the anti-forgery token of the last page seen.
func (b *browser) csrf() string {
	if b.last == nil {
		return ""
	}
	if n := b.last.find("input[name=csrf_token]"); n != nil {
		v, _ := attr(n, "value")
		return v
	}
	return ""
}

// post submits a form; the token of the last page is added unless the
// values carry one (use "-" to send none).
func (b *browser) post(path string, vals url.Values) *response {
	b.e.t.Helper()
	if vals == nil {
		vals = url.Values{}
	}
	switch vals.Get("csrf_token") {
	case "":
		vals.Set("csrf_token", b.csrf())
	case "-":
		vals.Del("csrf_token")
	}
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// signIn signs in with password (and TOTP when the user has a seed) and
// fails the test unless it ends on a page of the console.
func (b *browser) signIn(username string) {
	b.e.t.Helper()
	b.get("/login")
	r := b.post("/login", url.Values{"username": {username}, "password": {testPassword}})
	if r.status != http.StatusSeeOther {
		b.e.t.Fatalf("POST /login as %s = %d, want 303; body:\n%s", username, r.status, truncateForLog(r.body))
	}
	if strings.HasPrefix(r.location, "/login/mfa") {
		b.get(r.location)
		r = b.post("/login/mfa", url.Values{"code": {b.e.totp(b.e.seeds[username])}, "next": {"/"}})
		if r.status != http.StatusSeeOther {
			b.e.t.Fatalf("POST /login/mfa as %s = %d; body:\n%s", username, r.status, truncateForLog(r.body))
		}
	}
}

func wantStatus(tb testing.TB, what string, r *response, want int) {
	tb.Helper()
	if r.status != want {
		tb.Fatalf("%s = %d, want %d (Location %q); body:\n%s", what, r.status, want, r.location, truncateForLog(r.body))
	}
}
