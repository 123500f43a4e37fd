package agentclient

import (
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
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/fleet"
	"github.com/custodia/custodia/internal/fleet/wire"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/posture"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// server is a real fleet service behind TLS; offline makes it answer 503
// as a proxy would while the server is down.
type server struct {
	st      *store.Store
	svc     *fleet.Service
	srv     *httptest.Server
	secret  string
	offline atomic.Bool
}

func newServer(t *testing.T) *server {
	t.Helper()
	ctx := context.Background()
	st := storetest.SQLite(t)
	keys, _ := secret.New(secret.Generate())
	svc, err := fleet.New(ctx, st, keys, config.Defaults().Fleet, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c := &org.Client{Code: "bank", Name: "Bank"}
	if err := st.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	s := &server{st: st, svc: svc}
	if s.secret, _, err = svc.CreateSecret(ctx, identity.Scope{All: true}, fleet.SecretInput{Name: "bank", ClientID: c.ID}); err != nil {
		t.Fatal(err)
	}
	router := authz.NewRouter(authz.Options{})
	svc.Protocol().Register(router)
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.offline.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		router.ServeHTTP(w, r)
	}))
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point of some tests
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

func (s *server) pin() string { return SPKIPin(s.srv.Certificate()) }

var facts = Facts{HardwareID: "hw-test", Hostname: "DESK-1", OS: "linux", OSBuild: "6.8", AgentVersion: "test"}

func report(user string, results ...string) posture.Report {
	var checks []posture.CheckResult
	for i := 0; i+1 < len(results); i += 2 {
		checks = append(checks, posture.CheckResult{Policy: "custodia_linux", ID: results[i], Title: results[i], Result: posture.Status(results[i+1]),
			Evidence: []posture.Evidence{{Rule: "f:/etc/x", Observed: "1", Expected: "0", Result: posture.Status(results[i+1])}}})
	}
	return posture.Report{User: user, Policies: []posture.PolicyResult{{Policy: "custodia_linux", Checks: checks}}}
}

func TestEnrollPinCheckinQueue(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	dir := t.TempDir()
	creds := FileStore{Path: filepath.Join(dir, "credential")}
	// Without --pin or --ca the test server's self-signed certificate is refused.
	if _, err := Enroll(ctx, dir, creds, EnrollOptions{Server: s.srv.URL, Secret: s.secret, Facts: facts}); err == nil {
		t.Fatal("enrolled with an untrusted certificate")
	}
	// With the wrong pin too.
	if _, err := Enroll(ctx, dir, creds, EnrollOptions{Server: s.srv.URL, Secret: s.secret, Pin: "AAAA", Facts: facts}); err == nil {
		t.Fatal("enrolled with a wrong pin")
	}
	// With the CA file (the server's own certificate), the key is pinned.
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}), 0o600)
	c, err := Enroll(ctx, dir, creds, EnrollOptions{Server: s.srv.URL, Secret: s.secret, CAFile: ca, Facts: facts})
	if err != nil {
		t.Fatalf("Enroll: %v", err)
	}
	if c.st.Pin != s.pin() {
		t.Errorf("pinned %q, want the server's key %q", c.st.Pin, s.pin())
	}
	if st, _ := os.Stat(creds.Path); st.Mode().Perm() != 0o600 {
		t.Errorf("credential file mode %o, want 600", st.Mode().Perm())
	}
	state, _ := os.ReadFile(filepath.Join(dir, stateFile))
	if strings.Contains(string(state), "cdv1.") {
		t.Error("state.json holds the credential")
	}
	// A new process opens the enrollment.
	c, err = Open(dir, creds)
	if err != nil {
		t.Fatal(err)
	}
	hb := wire.Heartbeat{SessionUser: "ana", AgentVersion: "test"}
	resp, _, err := c.Flush(ctx, hb)
	if err != nil || resp.Bundle == nil {
		t.Fatalf("first check-in: %+v %v", resp, err)
	}
	ps, err := c.Policies()
	if err != nil || len(ps) == 0 {
		t.Fatalf("Policies = %d, %v", len(ps), err)
	}
	// The same digest: no bundle the second time.
	if resp, _, err = c.Flush(ctx, hb); err != nil || resp.Bundle != nil {
		t.Errorf("second check-in: bundle %v, err %v; want no bundle", resp.Bundle != nil, err)
	}
	// A tampered bundle on disk is refused.
	bpath := filepath.Join(dir, bundleFile)
	orig, _ := os.ReadFile(bpath)
	var b wire.Bundle
	json.Unmarshal(orig, &b)
	b.Payload = append([]byte(nil), b.Payload...)
	b.Payload[len(b.Payload)-3] ^= 1
	tampered, _ := json.Marshal(b)
	os.WriteFile(bpath, tampered, 0o600)
	if _, err := c.Policies(); !errors.Is(err, wire.ErrBadSignature) {
		t.Errorf("tampered bundle: %v, want a signature error", err)
	}
	os.WriteFile(bpath, orig, 0o600)

	// Offline: results and a report are queued, in order, nothing lost.
	s.offline.Store(true)
	if n, err := c.QueueResults(report("ana", "usb", "passed", "fw", "failed")); err != nil || n != 2 {
		t.Fatalf("QueueResults = %d, %v", n, err)
	}
	if n, _ := c.QueueResults(report("ana", "usb", "passed", "fw", "failed")); n != 0 {
		t.Errorf("unchanged results queued again: %d", n)
	}
	c.QueueResults(report("ana", "usb", "failed", "fw", "failed"))
	c.Enqueue(Message{Kind: "report", Report: &wire.ReportRequest{Key: "r1", Text: "Suspicious call", ReportedAt: time.Now()}})
	if _, _, err := c.Flush(ctx, hb); err == nil {
		t.Fatal("flush while offline succeeded")
	}
	if c.Pending() != 3 {
		t.Fatalf("pending = %d, want 3", c.Pending())
	}
	// Back online: sent in order.
	s.offline.Store(false)
	if _, _, err := c.Flush(ctx, hb); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if c.Pending() != 0 {
		t.Errorf("pending after flush = %d", c.Pending())
	}
	hist, err := s.st.FleetHistory(ctx, c.DeviceID(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var seq []string
	for i := len(hist) - 1; i >= 0; i-- {
		seq = append(seq, hist[i].CheckID+":"+hist[i].Result)
	}
	if got := strings.Join(seq, " "); got != "usb:passed fw:failed usb:failed" {
		t.Errorf("server history = %q, want the queued order", got)
	}
	reps, _ := s.st.FleetReports(ctx, identity.Scope{All: true}, c.DeviceID(), 10, 0)
	if len(reps) != 1 || reps[0].Text != "Suspicious call" {
		t.Errorf("reports = %+v", reps)
	}

	// A message the server refuses as malformed is set aside, not retried
	// forever; the messages after it still go.
	c.Enqueue(Message{Kind: "results", Results: []wire.Result{{Policy: "p", ID: "x", Result: "maybe"}}})
	c.Enqueue(Message{Kind: "report", Report: &wire.ReportRequest{Key: "r2", Text: "After the bad one", ReportedAt: time.Now()}})
	if _, _, err := c.Flush(ctx, hb); err != nil || c.Pending() != 0 {
		t.Fatalf("flush with a malformed message: %v, pending %d", err, c.Pending())
	}
	if rej, _ := filepath.Glob(filepath.Join(dir, queueDir, "*.rejected")); len(rej) != 1 {
		t.Errorf("rejected messages kept: %d, want 1", len(rej))
	}
	if reps, _ := s.st.FleetReports(ctx, identity.Scope{All: true}, c.DeviceID(), 10, 0); len(reps) != 2 {
		t.Errorf("reports after the bad message = %d, want 2", len(reps))
	}

	// Another server key at the same address: the pin refuses it.
	other := httptest.NewUnstartedServer(http.NotFoundHandler())
	other.TLS = &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
	other.StartTLS()
	defer other.Close()
	c.st.Server = other.URL
	if _, err := c.Checkin(ctx, hb, nil); !errors.Is(err, ErrPinMismatch) {
		t.Errorf("check-in to another key: %v, want ErrPinMismatch", err)
	}
	c.st.Server = s.srv.URL

	// Revoked: the next request is refused.
	if err := s.svc.Revoke(ctx, identity.Scope{All: true}, c.DeviceID()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Checkin(ctx, hb, nil); !errors.Is(err, ErrRevoked) {
		t.Errorf("check-in after revocation: %v, want ErrRevoked", err)
	}
}

func TestFileStoreRefusesOpenFile(t *testing.T) {
	f := FileStore{Path: filepath.Join(t.TempDir(), "sub", "credential")}
	if err := f.Save("cdv1.1.x"); err != nil {
		t.Fatal(err)
	}
	if got, err := f.Load(); err != nil || got != "cdv1.1.x" {
		t.Fatalf("Load = %q, %v", got, err)
	}
	if st, _ := os.Stat(filepath.Dir(f.Path)); st.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %o, want 700", st.Mode().Perm())
	}
	os.Chmod(f.Path, 0o644)
	if _, err := f.Load(); err == nil {
		t.Error("a world-readable credential file was accepted")
	}
	if err := f.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Load(); err == nil {
		t.Error("Load after Delete succeeded")
	}
}

func TestHardwareIDStable(t *testing.T) {
	a, err := HardwareID()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("HardwareID: %v", err)
		}
		t.Skipf("no machine id on this host: %v", err)
	}
	b, _ := HardwareID()
	if a != b || len(a) != 64 {
		t.Errorf("HardwareID = %q then %q", a, b)
	}
}

// selfSigned is a fresh certificate with a key of its own.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
