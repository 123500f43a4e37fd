package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/request"
	"github.com/custodia/custodia/internal/store"
)

// registerOps registers the operational endpoints.
//
// /metrics is readable by administrators and security officers (session or
// API token — create a token with role "security" for Prometheus) and, when
// no --trusted-proxies are configured, by anonymous scrapers connecting from
// the loopback interface without forwarding headers (a Prometheus or agent on
// the same host). Behind a reverse proxy every request comes from the
// proxy's address, so the loopback exception is off and a token is needed.
func (s *Server) registerOps(r *authz.Router) {
	r.HandleFunc("GET /healthz", authz.Public().WithDoc("Liveness: the process is up."), s.healthz)
	r.HandleFunc("GET /readyz", authz.Public().WithDoc("Readiness: the database answers and its schema matches this binary."), s.readyz)
	metrics := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{ErrorLog: nil})
	r.HandleFunc("GET /metrics", authz.Public().WithDoc("Prometheus metrics: admin/security principals, or loopback without a proxy."), func(w http.ResponseWriter, req *http.Request) {
		if !s.metricsAllowed(req) {
			writeError(w, req, http.StatusForbidden, "Metrics are readable from the loopback interface or with an administrator or security officer token.")
			return
		}
		metrics.ServeHTTP(w, req)
	})
}

func (s *Server) metricsAllowed(r *http.Request) bool {
	if p := identity.PrincipalFrom(r.Context()); p != nil {
		return p.Role == identity.RoleAdmin || p.Role == identity.RoleSecurity
	}
	if len(s.proxies) != 0 || r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" {
		return false
	}
	a := peerAddr(r.RemoteAddr)
	return a.IsValid() && a.IsLoopback()
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz reports whether the server can serve: the database answers within a
// second and its schema is at this binary's version.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	out := map[string]any{"status": "ok", "database": "ok"}
	status := http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "readyz: database unreachable", "request_id", request.ID(r), "error", err.Error())
		out["status"], out["database"] = "unavailable", "unreachable"
		status = http.StatusServiceUnavailable
	} else if v, err := s.store.SchemaVersion(ctx); err != nil || v != store.LatestVersion() {
		out["status"] = "unavailable"
		out["schema_version"], out["binary_schema_version"] = v, store.LatestVersion()
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
