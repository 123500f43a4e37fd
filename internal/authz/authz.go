// Package authz is the one route registry of Custodia's HTTP server: the web
// console and the JSON API both register their handlers here, each with a
// Policy saying who may call it. The router enforces the policy before the
// handler runs, and denies by default: a route cannot be registered without a
// policy, a policy that names no role admits nobody, and a request for an
// unregistered path is a 404.
//
// # How the console and the API register
//
// The console's web.Server and the API's api.Server each get a method
//
//	func (s *Server) Register(r *authz.Router)
//
// which the server wiring (internal/server) calls once at start:
//
//	r.Handle("GET /login", authz.Public(), http.HandlerFunc(s.loginPage))
//	r.Handle("GET /profile", authz.Authenticated().WithMFAOptional(), http.HandlerFunc(s.profile))
//	r.Handle("GET /people", authz.Roles(identity.RoleAdmin, identity.RoleSecurity,
//		identity.RoleDPO, identity.RoleAuditor, identity.RoleSupervisor).WithClientScoped(), http.HandlerFunc(s.peopleList))
//	r.Handle("POST /people/{id}", authz.Roles(identity.RoleAdmin, identity.RoleSecurity).WithClientScoped(), http.HandlerFunc(s.personUpdate))
//
// Patterns are net/http.ServeMux patterns and MUST start with a method.
// Routes whose path starts with /api/ are API routes: an anonymous caller gets
// 401 and a denied one 403, both as application/problem+json. Other routes are
// console routes: an anonymous caller is redirected to the sign-in page
// (Options.LoginPath, with ?next=) and a denied one gets Options.Deny (a 403
// page by default).
//
// Who is calling is read from the context (identity.PrincipalFrom); the
// authentication middleware in internal/server puts it there before the
// router runs. Client scope inside a route (a person of a client the caller
// may not see) is the handler's and the store's job through identity.Scope:
// out-of-scope resources are answered 404, as if they did not exist. For a
// ClientScoped route whose pattern has a {clientID} wildcard the router also
// answers 404 itself when the principal cannot see that client.
//
// External accounts (identity.Principal.External: an external auditor
// invited to one audit) reach only public routes, routes whose policy is
// marked WithExternal and the MFA-optional pages of their own account;
// console GETs elsewhere are redirected to Options.ExternalHome.
//
// The auditor role is read-only: even when listed in a Roles policy it is
// admitted only on safe methods (GET, HEAD, OPTIONS) unless the policy is
// marked WithReadOnly (an unsafe method whose handler changes nothing, e.g. an
// export). Authenticated (self-service) routes admit auditors on any method:
// they may sign out, enrol MFA and change their own language.
//
// Routes lists every registered route with its policy; the authorization table
// test walks it so that a route without an expected entry fails the build.
package authz

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/custodia/custodia/internal/identity"
)

// Access says which callers a policy admits before roles are considered.
type Access int

// The access levels.
const (
	// AccessNone admits nobody; it is the zero value, so a forgotten policy denies.
	AccessNone Access = iota
	// AccessPublic admits anonymous callers (sign-in pages, /healthz, static assets).
	AccessPublic
	// AccessAuthenticated admits any signed-in principal, whatever its role,
	// including agents (their own profile and portal).
	AccessAuthenticated
	// AccessRoles admits signed-in principals whose role is in Policy.Roles.
	AccessRoles
)

// Policy says who may call a route.
type Policy struct {
	Access Access
	// Roles admitted when Access is AccessRoles.
	Roles []identity.Role
	// ReadOnly marks an unsafe method (POST…) whose handler changes no state,
	// such as an export or a search; read-only roles (auditor) listed in Roles
	// may call it.
	ReadOnly bool
	// MFAOptional marks routes reachable while a user whose role requires MFA
	// has not enrolled yet (the enrolment pages, sign-out, the language switch).
	// Every other authenticated route redirects (console) or answers 403 (API)
	// until enrolment is done.
	MFAOptional bool
	// ClientScoped marks routes that read or change client-owned data; the
	// handler must filter by the principal's identity.Scope and answer 404 for
	// out-of-scope resources. The authorization table test checks both cases.
	ClientScoped bool
	// External admits external accounts (identity.Principal.External, e.g.
	// an external auditor invited to one audit) to the route, besides the
	// roles. An external account reaches only such routes, the public ones
	// and the MFAOptional pages of its own account; anything else is denied
	// (console GETs are sent to Options.ExternalHome). The handler must
	// still confine the account to what it was granted.
	External bool
	// Doc is an optional one-line description (used by the OpenAPI document).
	Doc string
}

// Public returns a policy that admits everybody, signed in or not.
func Public() Policy { return Policy{Access: AccessPublic} }

// Authenticated returns a policy that admits any signed-in principal.
func Authenticated() Policy { return Policy{Access: AccessAuthenticated} }

// Roles returns a policy that admits signed-in principals with one of roles.
func Roles(roles ...identity.Role) Policy {
	return Policy{Access: AccessRoles, Roles: slices.Clone(roles)}
}

// WithReadOnly returns p marked ReadOnly.
func (p Policy) WithReadOnly() Policy { p.ReadOnly = true; return p }

// WithMFAOptional returns p marked MFAOptional.
func (p Policy) WithMFAOptional() Policy { p.MFAOptional = true; return p }

// WithClientScoped returns p marked ClientScoped.
func (p Policy) WithClientScoped() Policy { p.ClientScoped = true; return p }

// WithExternal returns p marked External.
func (p Policy) WithExternal() Policy { p.External = true; return p }

// AdmitsExternal reports whether an external account may reach a route
// with this policy (roles permitting): public routes, routes marked
// External and the MFA-optional pages of one's own account.
func (pol Policy) AdmitsExternal() bool {
	return pol.Access == AccessPublic || pol.External || pol.MFAOptional
}

// WithDoc returns p with a description.
func (p Policy) WithDoc(doc string) Policy { p.Doc = doc; return p }

// SafeMethod reports whether method never changes state (GET, HEAD, OPTIONS).
func SafeMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// Allows reports whether the policy admits principal p (nil = anonymous) on a
// request with the given method. It does not consider MFA enrolment or
// client scope.
func (pol Policy) Allows(p *identity.Principal, method string) bool {
	switch pol.Access {
	case AccessPublic:
		return true
	case AccessAuthenticated:
		return p != nil
	case AccessRoles:
		if p == nil || !slices.Contains(pol.Roles, p.Role) {
			return false
		}
		if p.Role == identity.RoleAuditor && !SafeMethod(method) && !pol.ReadOnly {
			return false
		}
		return true
	}
	return false
}

// String describes the policy for test failures and logs.
func (pol Policy) String() string {
	var b strings.Builder
	switch pol.Access {
	case AccessPublic:
		b.WriteString("public")
	case AccessAuthenticated:
		b.WriteString("authenticated")
	case AccessRoles:
		parts := make([]string, len(pol.Roles))
		for i, r := range pol.Roles {
			parts[i] = string(r)
		}
		b.WriteString("roles(" + strings.Join(parts, ",") + ")")
	default:
		b.WriteString("nobody")
	}
	if pol.ReadOnly {
		b.WriteString("+readonly")
	}
	if pol.MFAOptional {
		b.WriteString("+mfa-optional")
	}
	if pol.ClientScoped {
		b.WriteString("+client-scoped")
	}
	if pol.External {
		b.WriteString("+external")
	}
	return b.String()
}

// Route is one registered route.
type Route struct {
	Method  string // GET, POST, …
	Path    string // the pattern's path, e.g. /api/v1/people/{id}
	Pattern string // Method + " " + Path, as given to ServeMux
	Policy  Policy
}

// API reports whether the route belongs to the JSON API.
func (rt Route) API() bool { return IsAPIPath(rt.Path) }

// IsAPIPath reports whether a URL path is served by the JSON API (problem+json
// answers instead of console pages and redirects).
func IsAPIPath(path string) bool { return path == "/api" || strings.HasPrefix(path, "/api/") }

// Options configures how the router answers denied requests.
type Options struct {
	// LoginPath is where anonymous console requests are redirected (default /login).
	LoginPath string
	// MFAEnrolPath is where console requests of a user who must enrol MFA are
	// redirected (default /profile/mfa).
	MFAEnrolPath string
	// NeedsMFAEnrolment reports whether p must enrol TOTP before using routes
	// that are not MFAOptional. Nil means never.
	NeedsMFAEnrolment func(p *identity.Principal) bool
	// PasswordPath is where console requests of a signed-in user whose
	// password was one-time are redirected until they change it (default
	// /profile). Such sessions reach only the MFAOptional routes.
	PasswordPath string
	// ExternalHome is where console GETs of an external account to a route
	// not admitting it are redirected (default: denied with 403).
	ExternalHome string
	// Deny writes a console page for a denied request (status 403 or 404).
	// Nil writes a plain-text page.
	Deny func(w http.ResponseWriter, r *http.Request, status int)
	// Problem writes an API error (application/problem+json). Nil uses
	// WriteProblem.
	Problem func(w http.ResponseWriter, r *http.Request, status int, detail string)
}

// Router is an http.Handler that dispatches to registered routes after
// checking their policies. Register every route before serving.
type Router struct {
	mux    *http.ServeMux
	opts   Options
	mu     sync.Mutex
	routes []Route
}

// NewRouter returns an empty router.
func NewRouter(opts Options) *Router {
	if opts.LoginPath == "" {
		opts.LoginPath = "/login"
	}
	if opts.MFAEnrolPath == "" {
		opts.MFAEnrolPath = "/profile/mfa"
	}
	if opts.PasswordPath == "" {
		opts.PasswordPath = "/profile"
	}
	if opts.Problem == nil {
		opts.Problem = WriteProblem
	}
	return &Router{mux: http.NewServeMux(), opts: opts}
}

// Handle registers h for pattern ("METHOD /path", a ServeMux pattern) under
// policy pol. It panics on a pattern without a method, on a policy that admits
// nobody, and on a duplicate, since these are programming errors.
func (rt *Router) Handle(pattern string, pol Policy, h http.Handler) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" || !strings.HasPrefix(path, "/") || strings.ToUpper(method) != method {
		panic(fmt.Sprintf("authz: pattern %q must be \"METHOD /path\"", pattern))
	}
	if strings.Contains(path, " ") || strings.HasPrefix(path, "//") {
		panic(fmt.Sprintf("authz: pattern %q: host patterns are not supported", pattern))
	}
	switch pol.Access {
	case AccessPublic, AccessAuthenticated:
	case AccessRoles:
		if len(pol.Roles) == 0 {
			panic(fmt.Sprintf("authz: %s: a Roles policy needs at least one role", pattern))
		}
		for _, r := range pol.Roles {
			if _, err := identity.ParseRole(string(r)); err != nil {
				panic(fmt.Sprintf("authz: %s: %v", pattern, err))
			}
		}
	default:
		panic(fmt.Sprintf("authz: %s: no policy (use authz.Public, authz.Authenticated or authz.Roles)", pattern))
	}
	route := Route{Method: method, Path: path, Pattern: pattern, Policy: pol}
	rt.mu.Lock()
	rt.routes = append(rt.routes, route)
	rt.mu.Unlock()
	rt.mux.Handle(pattern, rt.guard(route, h)) // panics itself on a conflicting pattern
}

// HandleFunc is Handle for a function.
func (rt *Router) HandleFunc(pattern string, pol Policy, h func(http.ResponseWriter, *http.Request)) {
	rt.Handle(pattern, pol, http.HandlerFunc(h))
}

// Routes returns every registered route in registration order.
func (rt *Router) Routes() []Route {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return slices.Clone(rt.routes)
}

// ServeHTTP dispatches the request. Unregistered paths are 404 (problem+json
// under /api/), a registered path with another method is 405.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if IsAPIPath(r.URL.Path) {
		if _, pattern := rt.mux.Handler(r); pattern == "" {
			// ServeMux would answer 404 or 405 in text/plain; the API speaks problem+json.
			rt.mux.ServeHTTP(&problemOnError{ResponseWriter: w, r: r, problem: rt.opts.Problem}, r)
			return
		}
	}
	rt.mux.ServeHTTP(w, r)
}

// guard wraps h with the route's policy check.
func (rt *Router) guard(route Route, h http.Handler) http.Handler {
	api := route.API()
	var clientParam bool
	if route.Policy.ClientScoped && strings.Contains(route.Path, "{clientID}") {
		clientParam = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m := matchFrom(r.Context()); m != nil {
			m.Route = route
			m.ok = true
		}
		p := identity.PrincipalFrom(r.Context())
		pol := route.Policy
		if pol.Access != AccessPublic && p == nil {
			if api {
				w.Header().Set("WWW-Authenticate", `Bearer realm="custodia"`)
				rt.opts.Problem(w, r, http.StatusUnauthorized, "Sign in or send an API token (Authorization: Bearer …).")
				return
			}
			rt.redirect(w, r, rt.opts.LoginPath, true)
			return
		}
		if p != nil && p.External && !pol.AdmitsExternal() {
			if !api && r.Method == http.MethodGet && rt.opts.ExternalHome != "" && r.URL.Path != rt.opts.ExternalHome {
				rt.redirect(w, r, rt.opts.ExternalHome, false)
				return
			}
			rt.deny(w, r, api, http.StatusForbidden, "External accounts reach only what they were invited to.")
			return
		}
		if !pol.Allows(p, r.Method) {
			rt.deny(w, r, api, http.StatusForbidden, "Your role does not allow this.")
			return
		}
		if p != nil && !pol.MFAOptional && p.TokenID == 0 && rt.opts.NeedsMFAEnrolment != nil && rt.opts.NeedsMFAEnrolment(p) {
			if api {
				rt.opts.Problem(w, r, http.StatusForbidden, "Enrol two-factor authentication (TOTP) in your profile first.")
				return
			}
			rt.redirect(w, r, rt.opts.MFAEnrolPath, false)
			return
		}
		if p != nil && !pol.MFAOptional && p.TokenID == 0 && p.MustChangePassword {
			if api {
				rt.opts.Problem(w, r, http.StatusForbidden, "Your password was one-time: choose a new one in your profile first.")
				return
			}
			rt.redirect(w, r, rt.opts.PasswordPath, false)
			return
		}
		if clientParam && pol.Access != AccessPublic {
			id, err := strconv.ParseInt(r.PathValue("clientID"), 10, 64)
			if err != nil || !p.CanSeeClient(id) {
				rt.deny(w, r, api, http.StatusNotFound, "Not found.")
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (rt *Router) deny(w http.ResponseWriter, r *http.Request, api bool, status int, detail string) {
	if api {
		rt.opts.Problem(w, r, status, detail)
		return
	}
	if rt.opts.Deny != nil {
		rt.opts.Deny(w, r, status)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, http.StatusText(status))
}

// redirect sends a console request to target (303 See Other), adding
// ?next=<current path> when withNext and the request is a GET.
func (rt *Router) redirect(w http.ResponseWriter, r *http.Request, target string, withNext bool) {
	if withNext && r.Method == http.MethodGet {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// Match records which route served a request. Middleware that runs before the
// router (logging, metrics) puts one in the context with WithMatch and reads
// it after the handler returns.
type Match struct {
	Route Route
	ok    bool
}

// Matched reports whether a registered route served the request.
func (m *Match) Matched() bool { return m != nil && m.ok }

type matchKey struct{}

// WithMatch returns a context carrying an empty Match the router fills in.
func WithMatch(ctx context.Context) (context.Context, *Match) {
	m := &Match{}
	return context.WithValue(ctx, matchKey{}, m), m
}

func matchFrom(ctx context.Context) *Match {
	m, _ := ctx.Value(matchKey{}).(*Match)
	return m
}
