// Package web is Custodia's server-rendered console: one Go file per page,
// html/template pages parsed once at start from embedded files (one base
// layout plus one template per page), and static assets served at checksum
// URLs. Every page is registered on the shared authz router with a policy,
// and every data access goes through the signed-in principal's
// identity.Scope. Forms work without JavaScript, carry the session's
// anti-forgery token and follow POST-redirect-GET.
package web

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/identity/sso"
	"github.com/custodia/custodia/internal/store"
)

// Deps is what the console needs. Store, Identity, Catalog and Logger are required.
type Deps struct {
	Config   config.Config
	Store    *store.Store
	Identity *auth.Service
	// SSO is the OpenID Connect relying party; nil hides the "Sign in
	// with…" button.
	SSO     *sso.SSO
	Catalog *i18n.Catalog
	Logger  *slog.Logger
	// Modules are the product modules that exist in this build; their
	// navigation links appear for the roles they name. The foundation's own
	// pages are always listed.
	Modules []Module
	// SessionCookie is the session cookie's name (default "custodia_session").
	SessionCookie string
	// Now is the clock (default time.Now).
	Now func() time.Time

	// Product modules, each in its own files (fleet.go, incidents.go,
	// isms.go, dataprotection.go); a module whose services are nil
	// registers no pages.
	Fleet          FleetDeps
	Incidents      IncidentsDeps
	ISMS           ISMSDeps
	DataProtection DataProtectionDeps
	// IncidentResponse: regulatory clocks, breach register, notifications.
	IncidentResponse IncidentResponseDeps
	// ISMSRisk: assets, risks, policies, audits.
	ISMSRisk ISMSRiskDeps
}

// Server is the console. Create it with NewServer and mount it with Register.
type Server struct {
	store   *store.Store
	id      *auth.Service
	sso     *sso.SSO
	cat     *i18n.Catalog
	log     *slog.Logger
	cfg     config.Config
	modules []Module
	cookie  string
	now     func() time.Time
	pages   map[string]*template.Template
	assets  *assets

	fleet          FleetDeps
	incidents      IncidentsDeps
	isms           ISMSDeps
	dataprotection DataProtectionDeps
	response       IncidentResponseDeps
	ismsRisk       ISMSRiskDeps
}

// NewServer parses the templates and fingerprints the static assets. It
// fails if a template does not parse or a dependency is missing.
func NewServer(d Deps) (*Server, error) {
	if d.Store == nil || d.Identity == nil || d.Catalog == nil || d.Logger == nil {
		return nil, errors.New("web: store, identity, catalog and logger are required")
	}
	s := &Server{
		store: d.Store, id: d.Identity, sso: d.SSO, cat: d.Catalog, log: d.Logger, cfg: d.Config,
		modules: d.Modules, cookie: d.SessionCookie, now: d.Now,
		fleet: d.Fleet, incidents: d.Incidents, isms: d.ISMS, dataprotection: d.DataProtection,
		response: d.IncidentResponse, ismsRisk: d.ISMSRisk,
	}
	if s.cookie == "" {
		s.cookie = "custodia_session"
	}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.pages, err = s.parseTemplates(); err != nil {
		return nil, err
	}
	return s, nil
}

// handler is a console handler: it writes the response, or returns an error
// that serve turns into an error page (user-facing message, logged details).
type handler func(w http.ResponseWriter, r *http.Request) error

// serve adapts h to http.Handler.
func (s *Server) serve(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// Register mounts every console route on r. Each route has a policy; a
// route's handler still filters every query by the principal's scope.
func (s *Server) Register(r *authz.Router) {
	for _, rt := range s.routes() {
		r.Handle(rt.pattern, rt.policy, s.serve(rt.h))
	}
}

type route struct {
	pattern string
	policy  authz.Policy
	h       handler
}

// Role groups used by the console's policies (the same as the API's).
var (
	staff          = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor, identity.RoleSupervisor}
	governance     = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}
	peopleManagers = []identity.Role{identity.RoleAdmin, identity.RoleSecurity}
	admins         = []identity.Role{identity.RoleAdmin}
)

// routes lists every console route in one place.
func (s *Server) routes() []route {
	pub := authz.Public()
	self := authz.Authenticated()
	selfMFA := authz.Authenticated().WithMFAOptional()
	read := func(rs []identity.Role) authz.Policy { return authz.Roles(rs...).WithClientScoped() }
	write := read
	rts := []route{
		{"GET /static/{hash}/{name}", pub, s.static},
		{"GET /login", pub, s.loginPage},
		{"POST /login", pub, s.loginSubmit},
		{"GET /login/mfa", pub, s.loginMFAPage},
		{"POST /login/mfa", pub, s.loginMFASubmit},
		{"POST /logout", selfMFA, s.logout},
		{"GET /auth/oidc/start", pub, s.oidcStart},
		{"GET /auth/oidc/callback", pub, s.oidcCallback},

		{"GET /{$}", self, s.home},
		{"GET /profile", selfMFA, s.profile},
		{"POST /profile/language", selfMFA, s.profileLanguage},
		{"POST /profile/password", selfMFA, s.profilePassword},
		{"GET /profile/mfa", selfMFA, s.mfaEnrolPage},
		{"POST /profile/mfa", selfMFA, s.mfaEnrolConfirm},
		{"POST /profile/recovery-codes", self, s.recoveryCodesRegenerate},
		{"GET /sessions", selfMFA, s.sessionsPage},
		{"POST /sessions/revoke", selfMFA, s.sessionRevoke},

		{"GET /clients", read(staff), s.clientList},
		{"GET /clients/new", write(admins), s.clientNew},
		{"POST /clients", write(admins), s.clientCreate},
		{"GET /clients/{id}", read(staff), s.clientEdit},
		{"POST /clients/{id}", write(admins), s.clientUpdate},
		{"GET /sites", read(staff), s.siteList},
		{"GET /sites/new", write(admins), s.siteNew},
		{"POST /sites", write(admins), s.siteCreate},
		{"GET /sites/{id}", read(staff), s.siteEdit},
		{"POST /sites/{id}", write(admins), s.siteUpdate},
		{"GET /teams", read(staff), s.teamList},
		{"GET /teams/new", write(admins), s.teamNew},
		{"POST /teams", write(admins), s.teamCreate},
		{"GET /teams/{id}", read(staff), s.teamEdit},
		{"POST /teams/{id}", write(admins), s.teamUpdate},

		{"GET /people", read(staff), s.peopleList},
		{"GET /people/new", write(peopleManagers), s.personNew},
		{"POST /people", write(peopleManagers), s.personCreate},
		{"GET /people/{id}", read(staff), s.personDetail},
		{"GET /people/{id}/edit", write(peopleManagers), s.personEdit},
		{"POST /people/{id}", write(peopleManagers), s.personUpdate},
		{"POST /people/{id}/deactivate", write(peopleManagers), s.personDeactivate},
		{"GET /people/import", write(peopleManagers), s.importPage},
		{"POST /people/import", write(peopleManagers), s.importPreview},
		{"POST /people/import/apply", write(peopleManagers), s.importApply},

		{"GET /users", authz.Roles(admins...), s.userList},
		{"GET /users/new", authz.Roles(admins...), s.userNew},
		{"POST /users", authz.Roles(admins...), s.userCreate},
		{"GET /users/{id}", authz.Roles(admins...), s.userEdit},
		{"POST /users/{id}", authz.Roles(admins...), s.userUpdate},
		{"POST /users/{id}/sessions/revoke", authz.Roles(admins...), s.userSessionRevoke},
		{"POST /users/{id}/mfa/reset", authz.Roles(admins...), s.userMFAReset},

		{"GET /tokens", authz.Roles(admins...), s.tokenList},
		{"POST /tokens", authz.Roles(admins...), s.tokenCreate},
		{"POST /tokens/{id}/revoke", authz.Roles(admins...), s.tokenRevoke},

		{"GET /audit", read(governance), s.auditPage},
	}
	// Product modules.
	rts = append(rts, s.fleetRoutes()...)
	rts = append(rts, s.incidentsRoutes()...)
	rts = append(rts, s.ismsRoutes()...)
	rts = append(rts, s.dataProtectionRoutes()...)
	rts = append(rts, s.incidentResponseRoutes()...)
	rts = append(rts, s.ismsRiskRoutes()...)
	return rts
}

// principal is the signed-in caller; the router guarantees one on
// non-public routes.
func principal(r *http.Request) *identity.Principal { return identity.PrincipalFrom(r.Context()) }

func scope(r *http.Request) identity.Scope { return principal(r).Scope() }

// httpError is a failure with a user-facing message key.
type httpError struct {
	status int
	key    string
	args   []any
	err    error // logged, never shown
}

func (e *httpError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%d %s: %v", e.status, e.key, e.err)
	}
	return fmt.Sprintf("%d %s", e.status, e.key)
}

func (e *httpError) Unwrap() error { return e.err }

func errStatus(status int, key string, args ...any) error {
	return &httpError{status: status, key: key, args: args}
}

var errNotFound = errStatus(http.StatusNotFound, "error.not_found")
