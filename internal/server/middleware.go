package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/problem"
	"github.com/custodia/custodia/internal/request"
)

// contentSecurityPolicy allows only our own scripts, styles and images: no
// inline script, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// middleware wraps the router, outermost first: request info (id, client
// address, scheme) → log and metrics → panic recovery → security headers →
// body limit → authentication → cross-site request protection → router.
func (s *Server) middleware(next http.Handler) http.Handler {
	h := s.csrfCheck(next)
	h = s.authenticate(h)
	h = s.limitBody(h)
	h = securityHeaders(h)
	h = s.recoverPanics(h)
	h = s.observe(h)
	return s.requestInfo(h)
}

// requestInfo establishes the request id, the client's address and scheme
// (believing X-Forwarded-* only from trusted proxies) and the audit actor.
func (s *Server) requestInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &request.Info{Start: time.Now(), Secure: r.TLS != nil}
		info.ID = r.Header.Get("X-Request-Id")
		if !validRequestID(info.ID) {
			info.ID = newRequestID()
		}
		w.Header().Set("X-Request-Id", info.ID)
		peer := peerAddr(r.RemoteAddr)
		info.IP = peer.String()
		if s.trusted(peer) {
			if ip, ok := s.forwardedFor(r.Header.Values("X-Forwarded-For")); ok {
				info.IP = ip.String()
			}
			if proto := r.Header.Get("X-Forwarded-Proto"); proto != "" {
				info.Secure = strings.EqualFold(strings.TrimSpace(strings.Split(proto, ",")[0]), "https")
			}
		}
		if !peer.IsValid() && info.IP == "invalid IP" {
			info.IP = ""
		}
		ctx := request.WithInfo(r.Context(), info)
		ctx = audit.WithActor(ctx, audit.Actor{RequestID: info.ID, IP: info.IP})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// validRequestID accepts a caller's X-Request-Id only if it is short and
// plain, so it cannot inject anything into logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func peerAddr(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err == nil {
		return ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

func (s *Server) trusted(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor walks X-Forwarded-For from the right, skipping our trusted
// proxies; the first other address is the client. A malformed entry stops
// the walk (nothing left of it can be believed).
func (s *Server) forwardedFor(values []string) (netip.Addr, bool) {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	var last netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		last = a
		if !s.trusted(a) {
			return a, true
		}
	}
	return last, last.IsValid()
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack is unsupported on purpose except through the underlying writer.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// observe logs one line per request and records metrics. It logs the route
// pattern, never the query string, bodies, cookies or credentials.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, m := authz.WithMatch(r.Context())
		slot := &principalSlot{}
		ctx = context.WithValue(ctx, principalSlotKey{}, slot)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(ctx))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		info := request.From(ctx)
		d := time.Since(info.Start)
		route := "unmatched"
		if m.Matched() {
			route = m.Route.Pattern
		}
		s.metrics.observe(route, r.Method, sw.status, d)
		attrs := []slog.Attr{
			slog.String("request_id", info.ID),
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", sw.status),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			slog.Int64("bytes", sw.bytes),
			slog.String("ip", info.IP),
		}
		if !m.Matched() {
			attrs = append(attrs, slog.String("path", truncate(r.URL.EscapedPath(), 200)))
		}
		if p := slot.p; p != nil {
			attrs = append(attrs, slog.Int64("user_id", p.UserID))
			if p.TokenID != 0 {
				attrs = append(attrs, slog.Int64("token_id", p.TokenID))
			}
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(ctx, level, "request", attrs...)
	})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

type principalSlotKey struct{}

// principalSlot lets authenticate report the principal back to observe.
type principalSlot struct{ p *identity.Principal }

func setLoggedPrincipal(ctx context.Context, p *identity.Principal) {
	if s, ok := ctx.Value(principalSlotKey{}).(*principalSlot); ok {
		s.p = p
	}
}

// recoverPanics turns a handler panic into a logged 500 with the request id.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, _ := w.(*statusWriter)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic serving request",
				"request_id", request.ID(r), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw != nil && sw.status != 0 {
				return // the response has begun; the connection will be cut short
			}
			writeError(w, r, http.StatusInternalServerError, "Something went wrong on our side. Quote the request id if you report it.")
		}()
		next.ServeHTTP(w, r)
	})
}

// writeError answers an error as problem+json on API paths and plain text elsewhere.
func writeError(w http.ResponseWriter, r *http.Request, status int, detail string) {
	if authz.IsAPIPath(r.URL.Path) {
		problem.Error(w, r, status, detail)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "%s\n\n%s\nRequest id: %s\n", http.StatusText(status), detail, request.ID(r))
}

// securityHeaders sets the headers every response carries. HSTS only when
// the request came over HTTPS (directly or via a trusted proxy). Handlers may
// override Cache-Control (static assets do).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Cache-Control", "no-store")
		if request.Secure(r) {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody answers 413 for a declared body above --max-body and caps the
// reader for the rest (a handler reading past it gets *http.MaxBytesError,
// which the API maps to 413).
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.maxBody {
			writeError(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than the %d bytes this server accepts.", s.maxBody))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		}
		next.ServeHTTP(w, r)
	})
}

// IsTooLarge reports whether err comes from reading past the body limit.
func IsTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return raw
	}
	return u.Scheme + "://" + u.Host
}
