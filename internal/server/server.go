// Package server builds Custodia's HTTP handler — request ids, structured
// logs, panic recovery, security headers, body limits, trusted proxies,
// authentication, cross-site request protection, metrics and health checks —
// around the one route registry (internal/authz) that the console and the API
// register into, and runs it with a graceful shutdown.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
)

// Registrar is a part of the application that serves routes: the console
// (web.Server) and the API (api.Server).
type Registrar interface {
	Register(r *authz.Router)
}

// Authenticator resolves credentials into principals. The identity service
// implements it; a nil Authenticator authenticates nobody.
type Authenticator interface {
	// SessionPrincipal returns the principal of the session whose cookie
	// value is token, refreshing its idle timer. An unknown, revoked or
	// expired session is an error; the request then continues anonymous.
	SessionPrincipal(ctx context.Context, token string) (*identity.Principal, error)
	// TokenPrincipal returns the principal of an API token (the Bearer
	// credential) and records its use. An invalid token is an error: 401.
	TokenPrincipal(ctx context.Context, token string) (*identity.Principal, error)
	// CheckCSRF verifies the anti-forgery token of a state-changing request
	// authenticated by the session cookie (form field or X-CSRF-Token header).
	CheckCSRF(r *http.Request, p *identity.Principal) error
}

// Deps is what the server needs. Config, Store and Logger are required.
type Deps struct {
	Config config.Config
	Store  *store.Store
	Logger *slog.Logger
	Auth   Authenticator
	// SessionCookie is the name of the session cookie (default "custodia_session").
	SessionCookie string
	// NeedsMFAEnrolment reports whether a signed-in user must enrol TOTP
	// before anything but the MFA-optional routes (see authz.Options).
	NeedsMFAEnrolment func(p *identity.Principal) bool
	// Deny renders the console's 403/404 page; nil writes plain text.
	Deny func(w http.ResponseWriter, r *http.Request, status int)
	// Registrars register their routes in order (console, then API).
	Registrars []Registrar
}

// Server is the assembled HTTP handler.
type Server struct {
	cfg     config.Config
	store   *store.Store
	log     *slog.Logger
	auth    Authenticator
	cookie  string
	proxies []netip.Prefix
	router  *authz.Router
	metrics *metrics
	csrf    *http.CrossOriginProtection
	handler http.Handler
	maxBody int64
}

// New builds the server and registers every route.
func New(d Deps) (*Server, error) {
	if d.Store == nil || d.Logger == nil {
		return nil, errors.New("server: store and logger are required")
	}
	proxies, err := d.Config.ParseTrustedProxies()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     d.Config,
		store:   d.Store,
		log:     d.Logger,
		auth:    d.Auth,
		cookie:  d.SessionCookie,
		proxies: proxies,
		metrics: newMetrics(),
		maxBody: d.Config.MaxBodyBytes,
	}
	if s.cookie == "" {
		s.cookie = "custodia_session"
	}
	if s.maxBody <= 0 {
		s.maxBody = config.Defaults().MaxBodyBytes
	}
	s.csrf = http.NewCrossOriginProtection()
	if d.Config.BaseURL != "" {
		if err := s.csrf.AddTrustedOrigin(originOf(d.Config.BaseURL)); err != nil {
			return nil, fmt.Errorf("--base-url: %w", err)
		}
	}
	// Connection pool statistics of the database (write pool).
	s.metrics.reg.MustRegister(collectors.NewDBStatsCollector(d.Store.DB(), "custodia"))
	s.router = authz.NewRouter(authz.Options{
		NeedsMFAEnrolment: d.NeedsMFAEnrolment,
		Deny:              d.Deny,
		// External accounts exist only as invited auditors (the ISMS
		// module's auditor portal).
		ExternalHome: "/auditor",
	})
	s.registerOps(s.router)
	for _, reg := range d.Registrars {
		reg.Register(s.router)
	}
	s.handler = s.middleware(s.router)
	return s, nil
}

// Router is the route registry (for the authorization table test and the
// OpenAPI document).
func (s *Server) Router() *authz.Router { return s.router }

// ServeHTTP serves a request through the whole middleware chain.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Serve accepts connections on ln until ctx is cancelled, then shuts down
// gracefully: the listener closes at once, in-flight requests get up to
// grace to finish, and Serve returns once they have (or the grace expired).
// With tlsCfg non-nil it serves HTTPS.
func (s *Server) Serve(ctx context.Context, ln net.Listener, tlsCfg *tls.Config, grace time.Duration) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if tlsCfg != nil {
		hs.TLSConfig = tlsCfg
		ln = tls.NewListener(ln, tlsCfg)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: waiting for in-flight requests", "grace", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serr)
	}
	if err != nil {
		hs.Close()
		return fmt.Errorf("shutdown: in-flight requests still running after %s: %w", grace, err)
	}
	return nil
}

// TLSConfig loads the certificate and key for HTTPS with modern settings.
func TLSConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}, nil
}
