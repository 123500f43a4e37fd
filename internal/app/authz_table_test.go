package app

import (
	"context"
	"encoding/base32"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/api"
	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// access is the expected authorization of one route.
type access struct {
	// public routes admit anonymous callers (and everyone else).
	public bool
	// authenticated routes admit every signed-in role.
	authenticated bool
	// roles admitted otherwise.
	roles []identity.Role
	// scoped: the route's {id} names a client-owned resource; callers
	// limited to client A get it for A's resource and 404 for B's.
	scoped bool
	// anonStatus overrides what an anonymous caller gets (default 401 on the
	// API, a redirect to /login on the console).
	anonStatus int
	// allClientsOnly: callers limited to some clients get 403 from the
	// handler (the audit export covers every client; only those who see
	// every client create clients).
	allClientsOnly bool
	// handlerAuth: the route authenticates its caller itself with a
	// credential that is not a user's (a device's): no user nor anonymous
	// caller is admitted, and none gets a 2xx or a 5xx.
	handlerAuth bool
}

// Product modules extend the authorization test from their own test files
// (authz_<module>_test.go), in init functions, without touching this one.
var (
	// moduleTables are the modules' rows of the table, by module.
	moduleTables = map[string]map[string]access{}
	// moduleSeeders create each module's resources of client A and B in
	// the world (keep their ids in w.ids).
	moduleSeeders []func(t *testing.T, w *world)
	// moduleTargets fill a route's path parameters; the first that
	// answers true wins.
	moduleTargets []func(w *world, rt authz.Route, inScope bool) (string, bool)
	// moduleRequests build a route's request body; the first non-nil wins.
	moduleRequests []func(w *world, rt authz.Route, target string, a *actor) *http.Request
)

// table is the whole expected table: the foundation's plus the modules'.
func table(t *testing.T) map[string]access {
	all := map[string]access{}
	for k, v := range expected {
		all[k] = v
	}
	for mod, rows := range moduleTables {
		for k, v := range rows {
			if _, dup := all[k]; dup {
				t.Errorf("module %s: route %s is already in the table", mod, k)
			}
			all[k] = v
		}
	}
	return all
}

var (
	rAdmin, rSec, rDPO, rAud, rSup, rAgent = identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor, identity.RoleSupervisor, identity.RoleAgent

	everyone  = access{public: true}
	signedIn  = access{authenticated: true}
	staffRead = access{roles: []identity.Role{rAdmin, rSec, rDPO, rAud, rSup}}
	staffID   = access{roles: []identity.Role{rAdmin, rSec, rDPO, rAud, rSup}, scoped: true}
	adminOnly = access{roles: []identity.Role{rAdmin}}
	adminID   = access{roles: []identity.Role{rAdmin}, scoped: true}
	managers  = access{roles: []identity.Role{rAdmin, rSec}}
	managerID = access{roles: []identity.Role{rAdmin, rSec}, scoped: true}
	govern    = access{roles: []identity.Role{rAdmin, rSec, rDPO, rAud}}
)

// expected is the authorization table: EVERY registered route must be here.
var expected = map[string]access{
	// Operations.
	"GET /healthz": everyone,
	"GET /readyz":  everyone,
	"GET /metrics": {roles: []identity.Role{rAdmin, rSec}, anonStatus: http.StatusForbidden},

	// API: meta and the caller's own.
	"GET /api/v1/openapi.json":         everyone,
	"GET /api/v1/me":                   signedIn,
	"PATCH /api/v1/me":                 signedIn,
	"GET /api/v1/me/person":            signedIn,
	"GET /api/v1/me/sessions":          signedIn,
	"DELETE /api/v1/me/sessions/{sid}": signedIn,
	"POST /api/v1/me/password":         signedIn,
	"POST /api/v1/me/mfa":              signedIn,
	"POST /api/v1/me/mfa/confirm":      signedIn,
	"POST /api/v1/me/recovery-codes":   signedIn,

	// API: organization.
	"GET /api/v1/clients":        staffRead,
	"GET /api/v1/clients/{id}":   staffID,
	"POST /api/v1/clients":       {roles: []identity.Role{rAdmin}, allClientsOnly: true},
	"PATCH /api/v1/clients/{id}": adminID,
	"GET /api/v1/sites":          staffRead,
	"GET /api/v1/sites/{id}":     staffRead,
	"POST /api/v1/sites":         adminOnly,
	"PATCH /api/v1/sites/{id}":   adminOnly,
	"GET /api/v1/teams":          staffRead,
	"GET /api/v1/teams/{id}":     staffID,
	"POST /api/v1/teams":         adminOnly,
	"PATCH /api/v1/teams/{id}":   adminID,

	// API: people.
	"GET /api/v1/people":                  staffRead,
	"GET /api/v1/people/{id}":             staffID,
	"POST /api/v1/people":                 managers,
	"PATCH /api/v1/people/{id}":           managerID,
	"POST /api/v1/people/{id}/deactivate": managerID,
	"POST /api/v1/people/import":          managers,

	// API: users, tokens, audit.
	"GET /api/v1/users":                        adminOnly,
	"GET /api/v1/users/{id}":                   adminOnly,
	"POST /api/v1/users":                       adminOnly,
	"PATCH /api/v1/users/{id}":                 adminOnly,
	"POST /api/v1/users/{id}/deactivate":       adminOnly,
	"GET /api/v1/users/{id}/sessions":          adminOnly,
	"DELETE /api/v1/users/{id}/sessions/{sid}": adminOnly,
	"POST /api/v1/users/{id}/password":         adminOnly,
	"POST /api/v1/users/{id}/mfa/reset":        adminOnly,
	"GET /api/v1/tokens":                       adminOnly,
	"POST /api/v1/tokens":                      adminOnly,
	"DELETE /api/v1/tokens/{id}":               adminOnly,
	"GET /api/v1/audit":                        govern,
	"GET /api/v1/audit/export":                 {roles: []identity.Role{rAdmin, rSec, rDPO, rAud}, allClientsOnly: true},

	// Console: sign-in and the signed-in user's own pages.
	"GET /static/{hash}/{name}":    everyone,
	"GET /login":                   everyone,
	"POST /login":                  everyone,
	"GET /login/mfa":               everyone,
	"POST /login/mfa":              everyone,
	"GET /auth/oidc/start":         everyone,
	"GET /auth/oidc/callback":      everyone,
	"POST /logout":                 signedIn,
	"GET /{$}":                     signedIn,
	"GET /profile":                 signedIn,
	"POST /profile/language":       signedIn,
	"POST /profile/password":       signedIn,
	"GET /profile/mfa":             signedIn,
	"POST /profile/mfa":            signedIn,
	"POST /profile/recovery-codes": signedIn,
	"GET /sessions":                signedIn,
	"POST /sessions/revoke":        signedIn,

	// Console: organization.
	"GET /clients":       staffRead,
	"GET /clients/new":   {roles: []identity.Role{rAdmin}, allClientsOnly: true},
	"POST /clients":      {roles: []identity.Role{rAdmin}, allClientsOnly: true},
	"GET /clients/{id}":  staffID,
	"POST /clients/{id}": adminID,
	"GET /sites":         staffRead,
	"GET /sites/new":     adminOnly,
	"POST /sites":        adminOnly,
	"GET /sites/{id}":    staffRead,
	"POST /sites/{id}":   adminOnly,
	"GET /teams":         staffRead,
	"GET /teams/new":     adminOnly,
	"POST /teams":        adminOnly,
	"GET /teams/{id}":    staffID,
	"POST /teams/{id}":   adminID,

	// Console: people.
	"GET /people":                  staffRead,
	"GET /people/new":              managers,
	"POST /people":                 managers,
	"GET /people/{id}":             staffID,
	"GET /people/{id}/edit":        managerID,
	"POST /people/{id}":            managerID,
	"POST /people/{id}/deactivate": managerID,
	"GET /people/import":           managers,
	"POST /people/import":          managers,
	"POST /people/import/apply":    managers,

	// Console: users, tokens, audit.
	"GET /users":                       adminOnly,
	"GET /users/new":                   adminOnly,
	"POST /users":                      adminOnly,
	"GET /users/{id}":                  adminOnly,
	"POST /users/{id}":                 adminOnly,
	"POST /users/{id}/sessions/revoke": adminOnly,
	"POST /users/{id}/mfa/reset":       adminOnly,
	"GET /tokens":                      adminOnly,
	"POST /tokens":                     adminOnly,
	"POST /tokens/{id}/revoke":         adminOnly,
	"GET /audit":                       govern,
}

// testClock is the identity service's clock; each sign-in moves it on so
// that TOTP codes are never reused.
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

// world is the seeded application: clients A and B, a team and a person in
// each, and one user per role scoped to client A.
type world struct {
	app              *App
	st               *store.Store
	clock            *testClock
	clientA, clientB org.Client
	site             org.Site
	teamA, teamB     org.Team
	personA, personB org.Person
	victimUser       *identity.User
	victimToken      int64
	actors           []*actor
	// ids are the modules' seeded resources: ids["fleet.device"] =
	// {client A's, client B's}.
	ids map[string][2]int64
}

// actor is a signed-in user with a session cookie and its CSRF token.
type actor struct {
	name     string
	user     *identity.User
	password string
	seed     []byte // TOTP seed, nil without MFA
	cookie   string
	csrf     string
}

const testPassword = "correct horse battery staple 42"

func newWorld(t *testing.T, st *store.Store) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{ids: map[string][2]int64{}, st: st, clock: &testClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}
	keys, err := secret.New(secret.Generate())
	must(t, err)
	cfg := config.Defaults()
	w.app, err = New(ctx, Options{
		Config: cfg, Store: st, Keys: keys, Logger: slog.New(slog.DiscardHandler),
		Auth:  auth.Config{Password: identity.PasswordParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, SessionIdle: 1000 * time.Hour, SessionMax: 2000 * time.Hour},
		Clock: w.clock.Now,
	})
	must(t, err)

	w.clientA = org.Client{Code: "bank", Name: "Banco"}
	w.clientB = org.Client{Code: "telco", Name: "Telco"}
	must(t, st.CreateClient(ctx, &w.clientA))
	must(t, st.CreateClient(ctx, &w.clientB))
	w.site = org.Site{Code: "mad", Name: "Madrid"}
	must(t, st.CreateSite(ctx, &w.site))
	w.teamA = org.Team{Code: "bank-1", Name: "Bank 1", SiteID: w.site.ID, ClientID: w.clientA.ID}
	w.teamB = org.Team{Code: "telco-1", Name: "Telco 1", SiteID: w.site.ID, ClientID: w.clientB.ID}
	must(t, st.CreateTeam(ctx, &w.teamA))
	must(t, st.CreateTeam(ctx, &w.teamB))
	newPerson := func(emp string, team org.Team, client org.Client) org.Person {
		p := org.Person{EmployeeID: emp, FullName: "Person " + emp, Email: strings.ToLower(emp) + "@example.com",
			SiteID: w.site.ID, TeamID: team.ID, ClientIDs: []int64{client.ID}, Active: true}
		must(t, st.CreatePerson(ctx, &p))
		return p
	}
	w.personA = newPerson("A1", w.teamA, w.clientA)
	w.personB = newPerson("B1", w.teamB, w.clientB)
	agentPerson := newPerson("A2", w.teamA, w.clientA)

	svc := w.app.Identity
	mk := func(name string, role identity.Role, mut func(*identity.User)) *identity.User {
		u := identity.User{Username: name, Role: role, ClientIDs: []int64{w.clientA.ID}}
		if mut != nil {
			mut(&u)
		}
		created, _, err := svc.CreateUser(ctx, nil, auth.NewUser{User: u, Password: testPassword})
		must(t, err)
		return created
	}
	for _, role := range identity.Roles {
		var mut func(*identity.User)
		switch role {
		case rSup:
			mut = func(u *identity.User) { u.TeamIDs = []int64{w.teamA.ID} }
		case rAgent:
			mut = func(u *identity.User) { u.PersonID = agentPerson.ID }
		}
		w.actors = append(w.actors, &actor{name: string(role), user: mk(string(role)+"-a", role, mut), password: testPassword})
	}
	w.actors = append(w.actors, &actor{name: "admin (all clients)", password: testPassword,
		user: mk("admin-all", rAdmin, func(u *identity.User) { u.ClientIDs, u.AllClients = nil, true })})
	w.victimUser = mk("victim", rAgent, nil)
	tok, tk, err := svc.CreateAPIToken(ctx, w.victimUser.Principal(), auth.NewAPIToken{Name: "victim", Role: rAgent, ClientIDs: []int64{w.clientA.ID}})
	must(t, err)
	_ = tok
	w.victimToken = tk.ID

	for _, seed := range moduleSeeders {
		seed(t, w)
	}
	for _, a := range w.actors {
		if a.user.Role.RequiresMFA() {
			w.enrolTOTP(t, a)
		}
		w.signIn(t, a)
	}
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) enrolTOTP(t *testing.T, a *actor) {
	t.Helper()
	ctx := context.Background()
	p := a.user.Principal()
	enr, err := w.app.Identity.BeginTOTPEnrolment(ctx, p)
	must(t, err)
	a.seed, err = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(enr.Secret, "="))
	must(t, err)
	_, err = w.app.Identity.ConfirmTOTPEnrolment(ctx, p, identity.TOTPCode(a.seed, identity.TOTPStep(w.clock.Now())))
	must(t, err)
}

// signIn opens a session the way the console does: password, then TOTP.
func (w *world) signIn(t *testing.T, a *actor) {
	t.Helper()
	ctx := context.Background()
	w.clock.Advance(90 * time.Second) // a fresh TOTP step
	res, err := w.app.Identity.PasswordLogin(ctx, a.user.Username, a.password, "192.0.2.10", "test")
	must(t, err)
	if res.NeedMFA {
		_, err := w.app.Identity.VerifyMFA(ctx, res.Token, identity.TOTPCode(a.seed, identity.TOTPStep(w.clock.Now())), "192.0.2.10")
		must(t, err)
	}
	if res.NeedEnrolMFA {
		t.Fatalf("%s: MFA enrolment still due", a.name)
	}
	a.cookie = res.Token
	p, err := w.app.Identity.SessionPrincipal(ctx, a.cookie)
	must(t, err)
	a.csrf, err = w.app.Identity.CSRFToken(ctx, p)
	must(t, err)
}

// ensureSignedIn signs the actor in again if a request ended its session
// (sign-out, a revoked session).
func (w *world) ensureSignedIn(t *testing.T, a *actor) {
	if _, err := w.app.Identity.SessionPrincipal(context.Background(), a.cookie); err != nil {
		w.signIn(t, a)
	}
}

// target fills a route's path parameters with a resource of client A (in
// scope) or B (out of scope).
func (w *world) target(rt authz.Route, inScope bool) string {
	for _, f := range moduleTargets {
		if p, ok := f(w, rt, inScope); ok {
			return p
		}
	}
	path := rt.Path
	segs := strings.Split(strings.TrimPrefix(strings.TrimPrefix(path, "/api/v1"), "/"), "/")
	id := func(a, b int64) int64 {
		if inScope {
			return a
		}
		return b
	}
	var n int64
	switch segs[0] {
	case "clients":
		n = id(w.clientA.ID, w.clientB.ID)
	case "teams":
		n = id(w.teamA.ID, w.teamB.ID)
	case "people":
		n = id(w.personA.ID, w.personB.ID)
	case "sites":
		n = w.site.ID
	case "users":
		n = w.victimUser.ID
	case "tokens":
		n = w.victimToken
	}
	path = strings.ReplaceAll(path, "{id}", fmt.Sprint(n))
	path = strings.ReplaceAll(path, "{sid}", strings.Repeat("ab", 32))
	path = strings.ReplaceAll(path, "{hash}", "0123456789abcdef")
	path = strings.ReplaceAll(path, "{name}", "app.css")
	path = strings.ReplaceAll(path, "{$}", "")
	if strings.HasSuffix(path, "/people/import") && authz.IsAPIPath(path) {
		path += "?dry_run=true"
	}
	return path
}

// request builds a request as actor a (nil = anonymous).
func (w *world) request(rt authz.Route, target string, a *actor) *http.Request {
	for _, f := range moduleRequests {
		if req := f(w, rt, target, a); req != nil {
			return req
		}
	}
	var req *http.Request
	switch {
	case authz.SafeMethod(rt.Method):
		req = httptest.NewRequest(rt.Method, target, nil)
	case strings.HasSuffix(rt.Path, "/people/import") && rt.API():
		req = httptest.NewRequest(rt.Method, target, strings.NewReader("employee_id,full_name,email\n"))
		req.Header.Set("Content-Type", "text/csv")
	case rt.API():
		req = httptest.NewRequest(rt.Method, target, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
	default:
		form := url.Values{}
		if a != nil {
			form.Set(identity.CSRFField, a.csrf)
		}
		req = httptest.NewRequest(rt.Method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return w.authorize(req, rt, a)
}

// authorize makes req come from actor a (nil = anonymous): the session
// cookie, the anti-forgery header and a same-origin fetch. Module request
// builders (moduleRequests) call it too.
func (w *world) authorize(req *http.Request, rt authz.Route, a *actor) *http.Request {
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if a != nil {
		req.AddCookie(&http.Cookie{Name: "custodia_session", Value: a.cookie})
		if !authz.SafeMethod(rt.Method) {
			req.Header.Set(identity.CSRFHeader, a.csrf)
		}
	}
	return req
}

// denied reports whether a response to a signed-in actor is an
// authorization refusal: 401, 403, or the router's redirect to MFA
// enrolment. (A redirect to /login is a normal answer for a signed-in
// actor, e.g. after signing out: each request is made with a session
// checked to be live just before.)
func denied(code int, loc string) bool {
	switch {
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		return true
	case code == http.StatusSeeOther || code == http.StatusFound:
		return strings.HasPrefix(loc, "/profile/mfa")
	}
	return false
}

// TestAuthorizationTable walks every registered route × every role (and
// anonymous) × a resource in and out of the caller's client scope, and
// checks the answer against the expected table. A route missing from the
// table fails the test.
func TestAuthorizationTable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		h := w.app.Server
		routes := w.app.Server.Router().Routes()
		expected := table(t)
		seen := map[string]bool{}
		checks := 0
		for _, rt := range routes {
			seen[rt.Pattern] = true
			want, ok := expected[rt.Pattern]
			if !ok {
				t.Errorf("route %s (policy %v) has no entry in the authorization table", rt.Pattern, rt.Policy)
				continue
			}
			for _, inScope := range []bool{true, false} {
				if !inScope && !want.scoped {
					continue
				}
				target := w.target(rt, inScope)
				// Anonymous.
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, w.request(rt, target, nil))
				loc := rec.Header().Get("Location")
				switch {
				case want.handlerAuth:
					if rec.Code < 400 || rec.Code >= 500 {
						t.Errorf("%s %s anonymous = %d, want a 4xx refusal", rt.Method, target, rec.Code)
					}
				case want.public:
					if rec.Code == http.StatusUnauthorized || rec.Code == http.StatusForbidden || rec.Code >= 500 {
						t.Errorf("%s %s anonymous = %d %s, want allowed", rt.Method, target, rec.Code, loc)
					}
				case want.anonStatus != 0:
					if rec.Code != want.anonStatus {
						t.Errorf("%s %s anonymous = %d, want %d", rt.Method, target, rec.Code, want.anonStatus)
					}
				case rt.API():
					if rec.Code != http.StatusUnauthorized {
						t.Errorf("%s %s anonymous = %d, want 401", rt.Method, target, rec.Code)
					}
				default:
					if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
						t.Errorf("%s %s anonymous = %d %q, want a redirect to /login", rt.Method, target, rec.Code, loc)
					}
				}
				checks++
				// Every actor.
				for _, a := range w.actors {
					checks++
					w.ensureSignedIn(t, a)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, w.request(rt, target, a))
					loc := rec.Header().Get("Location")
					allowed := want.public || want.authenticated || contains(want.roles, a.user.Role)
					label := fmt.Sprintf("%s %s as %s", rt.Method, target, a.name)
					if !inScope {
						label += " (out of scope)"
					}
					if rec.Code >= 500 {
						t.Errorf("%s = %d: %s", label, rec.Code, rec.Body)
						continue
					}
					if want.handlerAuth {
						if rec.Code < 400 {
							t.Errorf("%s = %d, want a 4xx refusal (a user is not a device)", label, rec.Code)
						}
						continue
					}
					if !allowed {
						if rec.Code != http.StatusForbidden {
							t.Errorf("%s = %d %q, want 403", label, rec.Code, loc)
						}
						continue
					}
					if want.allClientsOnly && !a.user.AllClients {
						if rec.Code != http.StatusForbidden {
							t.Errorf("%s = %d, want 403 (needs every client)", label, rec.Code)
						}
						continue
					}
					if denied(rec.Code, loc) {
						t.Errorf("%s = %d %q, want allowed: %.300s", label, rec.Code, loc, rec.Body)
						continue
					}
					if want.scoped && !a.user.AllClients {
						if inScope && rec.Code == http.StatusNotFound {
							t.Errorf("%s = 404, want the in-scope resource", label)
						}
						if !inScope && rec.Code != http.StatusNotFound {
							t.Errorf("%s = %d, want 404 for another client's resource", label, rec.Code)
						}
					}
				}
			}
		}
		t.Logf("%d routes, %d requests checked", len(routes), checks)
		if len(routes) < 30 || checks < 250 {
			t.Errorf("only %d routes and %d requests: is the wiring incomplete?", len(routes), checks)
		}
		for pattern := range expected {
			if !seen[pattern] {
				t.Errorf("the authorization table names %s, which is not registered", pattern)
			}
		}
		// The API's routes and its OpenAPI document agree on the full router.
		for _, p := range api.CheckDocument(routes, w.app.API.OpenAPI()) {
			t.Error(p)
		}
	})
}

func contains(roles []identity.Role, r identity.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}
