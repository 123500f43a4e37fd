package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/request"
	"github.com/custodia/custodia/internal/store/storetest"
)

// fakeAuth knows one session "sess-admin" (CSRF token "csrf-ok") and API
// tokens "tok-admin" and "tok-agent".
type fakeAuth struct{}

var (
	fakeAdmin = &identity.Principal{UserID: 1, Username: "ada", Role: identity.RoleAdmin, AllClients: true, SessionID: "s1"}
	fakeAgent = &identity.Principal{UserID: 2, Username: "bob", Role: identity.RoleAgent, TokenID: 7}
)

func (fakeAuth) SessionPrincipal(ctx context.Context, token string) (*identity.Principal, error) {
	if token == "sess-admin" {
		return fakeAdmin, nil
	}
	return nil, errors.New("no such session")
}

func (fakeAuth) TokenPrincipal(ctx context.Context, token string) (*identity.Principal, error) {
	switch token {
	case "tok-admin":
		p := *fakeAdmin
		p.TokenID, p.SessionID = 9, ""
		return &p, nil
	case "tok-agent":
		return fakeAgent, nil
	}
	return nil, errors.New("bad token")
}

func (fakeAuth) CheckCSRF(r *http.Request, p *identity.Principal) error {
	if r.Header.Get("X-CSRF-Token") == "csrf-ok" || r.FormValue("csrf_token") == "csrf-ok" {
		return nil
	}
	return errors.New("bad csrf token")
}

// testRoutes is a registrar with a few routes exercising the middleware.
type testRoutes struct {
	release chan struct{} // closes to let /slow finish
	started chan struct{}
}

func (tr *testRoutes) Register(r *authz.Router) {
	r.HandleFunc("GET /api/v1/whoami", authz.Authenticated(), func(w http.ResponseWriter, req *http.Request) {
		p := identity.PrincipalFrom(req.Context())
		a := audit.ActorFrom(req.Context())
		info := request.From(req.Context())
		writeJSON(w, 200, map[string]any{"user": p.Username, "actor": a.Name, "ip": info.IP, "secure": info.Secure, "request_id": a.RequestID})
	})
	r.HandleFunc("POST /api/v1/things", authz.Roles(identity.RoleAdmin), func(w http.ResponseWriter, req *http.Request) {
		b, err := io.ReadAll(req.Body)
		if IsTooLarge(err) {
			writeError(w, req, 413, "too large")
			return
		}
		w.WriteHeader(201)
		w.Write(b)
	})
	r.HandleFunc("POST /form", authz.Public(), func(w http.ResponseWriter, req *http.Request) { w.WriteHeader(204) })
	r.HandleFunc("GET /boom", authz.Public(), func(w http.ResponseWriter, req *http.Request) { panic("kaboom") })
	r.HandleFunc("GET /slow", authz.Public(), func(w http.ResponseWriter, req *http.Request) {
		close(tr.started)
		<-tr.release
		io.WriteString(w, "finished")
	})
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newTestServer(t *testing.T, mutate func(*config.Config)) (*Server, *syncBuffer, *testRoutes) {
	t.Helper()
	cfg := config.Defaults()
	cfg.MaxBodyBytes = 1024
	if mutate != nil {
		mutate(&cfg)
	}
	logs := &syncBuffer{}
	tr := &testRoutes{release: make(chan struct{}), started: make(chan struct{})}
	s, err := New(Deps{
		Config: cfg, Store: storetest.SQLite(t), Auth: fakeAuth{},
		Logger:     slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registrars: []Registrar{tr},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, logs, tr
}

func do(s http.Handler, method, target string, body io.Reader, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	for k, v := range hdr {
		if k == "RemoteAddr" {
			req.RemoteAddr = v
			continue
		}
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

func TestRequestIDAndHeaders(t *testing.T) {
	s, logs, _ := newTestServer(t, nil)
	w := do(s, "GET", "/healthz", nil, nil)
	if w.Code != 200 {
		t.Fatalf("GET /healthz = %d", w.Code)
	}
	id := w.Header().Get("X-Request-Id")
	if len(id) != 24 {
		t.Errorf("generated X-Request-Id = %q, want 24 hex chars", id)
	}
	for h, want := range map[string]string{
		"Content-Security-Policy": contentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
	} {
		if got := w.Header().Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if got := w.Header().Get("Strict-Transport-Security"); got != "" {
		t.Errorf("HSTS on plain HTTP = %q, want none", got)
	}
	w = do(s, "GET", "/healthz", nil, map[string]string{"X-Request-Id": "abc-123"})
	if got := w.Header().Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("X-Request-Id echoed = %q, want abc-123", got)
	}
	w = do(s, "GET", "/healthz", nil, map[string]string{"X-Request-Id": "bad id\n{inject}"})
	if got := w.Header().Get("X-Request-Id"); got == "bad id\n{inject}" || len(got) != 24 {
		t.Errorf("invalid X-Request-Id kept: %q", got)
	}
	if !strings.Contains(logs.String(), `"request_id":"abc-123"`) || !strings.Contains(logs.String(), `"route":"GET /healthz"`) {
		t.Errorf("log lacks request id or route:\n%s", logs.String())
	}
}

func TestTrustedProxies(t *testing.T) {
	s, _, _ := newTestServer(t, func(c *config.Config) { c.TrustedProxies = "10.0.0.0/8" })
	whoami := func(hdr map[string]string) map[string]any {
		hdr["Authorization"] = "Bearer tok-admin"
		w := do(s, "GET", "/api/v1/whoami", nil, hdr)
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("whoami: %d %s", w.Code, w.Body)
		}
		out["hsts"] = w.Header().Get("Strict-Transport-Security")
		return out
	}
	// From a trusted proxy: the forwarded client address and scheme are believed.
	got := whoami(map[string]string{"RemoteAddr": "10.1.2.3:5555", "X-Forwarded-For": "203.0.113.9, 10.0.0.7", "X-Forwarded-Proto": "https"})
	if got["ip"] != "203.0.113.9" || got["secure"] != true || got["hsts"] == "" {
		t.Errorf("via trusted proxy: %v, want ip 203.0.113.9, secure, HSTS", got)
	}
	// From anyone else: the headers are ignored.
	got = whoami(map[string]string{"RemoteAddr": "198.51.100.4:5555", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
	if got["ip"] != "198.51.100.4" || got["secure"] != false || got["hsts"] != "" {
		t.Errorf("via untrusted peer: %v, want ip 198.51.100.4, not secure, no HSTS", got)
	}
	if got["actor"] != "token:9(ada)" || got["request_id"] == "" {
		t.Errorf("audit actor = %v / %v, want token:9(ada) and a request id", got["actor"], got["request_id"])
	}
}

func TestAuthentication(t *testing.T) {
	s, logs, _ := newTestServer(t, nil)
	tests := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"anonymous", map[string]string{}, 401},
		{"bad scheme", map[string]string{"Authorization": "Basic eDp5"}, 401},
		{"bad token", map[string]string{"Authorization": "Bearer nope-secret"}, 401},
		{"token", map[string]string{"Authorization": "Bearer tok-agent"}, 200},
		{"session", map[string]string{"Cookie": "custodia_session=sess-admin"}, 200},
		{"expired session", map[string]string{"Cookie": "custodia_session=gone"}, 401},
	}
	for _, tt := range tests {
		w := do(s, "GET", "/api/v1/whoami?q=secret-query", nil, tt.hdr)
		if w.Code != tt.want {
			t.Errorf("%s: GET /api/v1/whoami = %d, want %d (%s)", tt.name, w.Code, tt.want, w.Body)
		}
	}
	for _, secret := range []string{"nope-secret", "sess-admin", "tok-agent", "secret-query", "eDp5"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log contains credential or query %q", secret)
		}
	}
	if !strings.Contains(logs.String(), `"user_id":2`) || !strings.Contains(logs.String(), `"token_id":7`) {
		t.Errorf("log lacks principal ids:\n%s", logs.String())
	}
}

func TestCSRF(t *testing.T) {
	s, _, _ := newTestServer(t, nil)
	body := func() io.Reader { return strings.NewReader(`{}`) }
	tests := []struct {
		name string
		path string
		hdr  map[string]string
		want int
	}{
		{"session without token", "/api/v1/things", map[string]string{"Cookie": "custodia_session=sess-admin"}, 403},
		{"session with token", "/api/v1/things", map[string]string{"Cookie": "custodia_session=sess-admin", "X-CSRF-Token": "csrf-ok"}, 201},
		{"session with token but cross-site", "/api/v1/things", map[string]string{"Cookie": "custodia_session=sess-admin", "X-CSRF-Token": "csrf-ok", "Sec-Fetch-Site": "cross-site"}, 403},
		{"session with token, foreign origin", "/api/v1/things", map[string]string{"Cookie": "custodia_session=sess-admin", "X-CSRF-Token": "csrf-ok", "Origin": "https://evil.example"}, 403},
		{"bearer needs no token", "/api/v1/things", map[string]string{"Authorization": "Bearer tok-admin", "Sec-Fetch-Site": "cross-site"}, 201},
		{"anonymous same-origin form", "/form", map[string]string{"Sec-Fetch-Site": "same-origin"}, 204},
		{"anonymous cross-site form (login CSRF)", "/form", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
	}
	for _, tt := range tests {
		if w := do(s, "POST", tt.path, body(), tt.hdr); w.Code != tt.want {
			t.Errorf("%s: POST %s = %d, want %d (%s)", tt.name, tt.path, w.Code, tt.want, w.Body)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	s, _, _ := newTestServer(t, nil)
	auth := map[string]string{"Authorization": "Bearer tok-admin"}
	if w := do(s, "POST", "/api/v1/things", strings.NewReader(strings.Repeat("x", 1024)), auth); w.Code != 201 {
		t.Errorf("POST 1024 bytes = %d, want 201", w.Code)
	}
	w := do(s, "POST", "/api/v1/things", strings.NewReader(strings.Repeat("x", 1025)), auth)
	if w.Code != 413 || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("POST 1025 bytes = %d %s, want 413 problem", w.Code, w.Header().Get("Content-Type"))
	}
	// Without a declared length the handler's read hits the cap.
	req := httptest.NewRequest("POST", "/api/v1/things", io.MultiReader(strings.NewReader(strings.Repeat("y", 2000))))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer tok-admin")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 413 {
		t.Errorf("POST 2000 bytes chunked = %d, want 413", rec.Code)
	}
}

func TestPanicRecovery(t *testing.T) {
	s, logs, _ := newTestServer(t, nil)
	w := do(s, "GET", "/boom", nil, map[string]string{"X-Request-Id": "req-boom"})
	if w.Code != 500 || !strings.Contains(w.Body.String(), "req-boom") {
		t.Errorf("GET /boom = %d %q, want 500 naming the request id", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "kaboom") {
		t.Errorf("500 body leaks the panic value: %q", w.Body)
	}
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), `"request_id":"req-boom"`) {
		t.Errorf("panic not logged with request id:\n%s", logs.String())
	}
}

func TestMetricsAccess(t *testing.T) {
	s, _, _ := newTestServer(t, nil)
	do(s, "GET", "/healthz", nil, nil)
	tests := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"loopback", map[string]string{"RemoteAddr": "127.0.0.1:4000"}, 200},
		{"loopback ipv6", map[string]string{"RemoteAddr": "[::1]:4000"}, 200},
		{"loopback via proxy header", map[string]string{"RemoteAddr": "127.0.0.1:4000", "X-Forwarded-For": "203.0.113.1"}, 403},
		{"remote anonymous", map[string]string{"RemoteAddr": "192.0.2.1:4000"}, 403},
		{"remote admin token", map[string]string{"RemoteAddr": "192.0.2.1:4000", "Authorization": "Bearer tok-admin"}, 200},
		{"remote agent token", map[string]string{"RemoteAddr": "192.0.2.1:4000", "Authorization": "Bearer tok-agent"}, 403},
	}
	for _, tt := range tests {
		w := do(s, "GET", "/metrics", nil, tt.hdr)
		if w.Code != tt.want {
			t.Errorf("%s: GET /metrics = %d, want %d", tt.name, w.Code, tt.want)
		}
		if w.Code == 200 && !strings.Contains(w.Body.String(), `custodia_http_requests_total{code="200",method="GET",route="GET /healthz"}`) {
			t.Errorf("%s: metrics lack the request counter:\n%.2000s", tt.name, w.Body)
		}
	}
	s2, _, _ := newTestServer(t, func(c *config.Config) { c.TrustedProxies = "10.0.0.1" })
	if w := do(s2, "GET", "/metrics", nil, map[string]string{"RemoteAddr": "127.0.0.1:4000"}); w.Code != 403 {
		t.Errorf("loopback with --trusted-proxies: GET /metrics = %d, want 403", w.Code)
	}
}

func TestReadyz(t *testing.T) {
	s, _, _ := newTestServer(t, nil)
	w := do(s, "GET", "/readyz", nil, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"database":"ok"`) {
		t.Errorf("GET /readyz = %d %s, want 200 ok", w.Code, w.Body)
	}
	s.store.Close()
	if w := do(s, "GET", "/readyz", nil, nil); w.Code != 503 {
		t.Errorf("GET /readyz with closed database = %d, want 503", w.Code)
	}
}

func TestUnknownAPIRouteIsProblem(t *testing.T) {
	s, _, _ := newTestServer(t, nil)
	w := do(s, "GET", "/api/v1/nope", nil, map[string]string{"Authorization": "Bearer tok-admin"})
	if w.Code != 404 || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("GET /api/v1/nope = %d %s, want 404 problem", w.Code, w.Header().Get("Content-Type"))
	}
}

// TestGracefulShutdown serves on a real socket, cancels while a slow request
// is in flight and checks the request still completes and Serve returns.
func TestGracefulShutdown(t *testing.T) {
	s, _, tr := newTestServer(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil, 10*time.Second) }()
	base := "http://" + ln.Addr().String()

	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	type result struct {
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		slow <- result{string(b), err}
	}()
	<-tr.started
	cancel()
	// New connections are refused once shutdown has begun.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 200*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepting 5s after shutdown began")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(tr.release)
	if r := <-slow; r.err != nil || r.body != "finished" {
		t.Errorf("slow request = %q, %v; want it to finish", r.body, r.err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil after a clean shutdown", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the in-flight request finished")
	}
}

// TestServeTLS serves HTTPS with a self-signed certificate and checks that
// responses carry HSTS and that the handlers see the request as secure.
func TestServeTLS(t *testing.T) {
	s, _, tr := newTestServer(t, nil)
	close(tr.release)
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	tlsCfg, err := TLSConfig(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TLSConfig(certFile, certFile); err == nil {
		t.Error("TLSConfig accepted a certificate as its own key")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, tlsCfg, 5*time.Second) }()
	pool := x509.NewCertPool()
	certPEM, _ := os.ReadFile(certFile)
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	resp, err := client.Get("https://" + ln.Addr().String() + "/api/v1/whoami")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("Strict-Transport-Security") == "" || resp.TLS == nil {
		t.Errorf("HTTPS GET = %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	req, _ := http.NewRequest("GET", "https://"+ln.Addr().String()+"/api/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer tok-admin")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if out["secure"] != true {
		t.Errorf("handler saw secure = %v over TLS", out["secure"])
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve = %v", err)
	}
}

func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pemEncode("CERTIFICATE", der), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pemEncode("EC PRIVATE KEY", kb), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func pemEncode(typ string, b []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})
}
