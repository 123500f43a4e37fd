// Package agentclient is the workstation agent's side of the protocol with
// the Custodia server: enrollment (with the server certificate pinned),
// check-ins with only the results that changed, the signed policy bundle
// (verified before use), desk reports, and an on-disk queue so nothing is
// lost while the desk is offline. It imports no web or database package of
// the server; the wire format is internal/fleet/wire.
package agentclient

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/custodia/custodia/internal/fleet/wire"
)

// Errors callers test with errors.Is.
var (
	// ErrNotEnrolled: the state directory holds no enrollment.
	ErrNotEnrolled = errors.New("this device is not enrolled (run custodia-agent enroll)")
	// ErrRevoked: the server refused the device credential (revoked or
	// re-enrolled elsewhere); enroll again.
	ErrRevoked = errors.New("the server refused this device's credential (revoked?); enroll again")
	// ErrPinMismatch: the server's certificate key is not the one pinned at
	// enrollment.
	ErrPinMismatch = errors.New("the server's certificate does not match the key pinned at enrollment")
)

// State is what the agent keeps between runs (state.json, mode 0600). The
// credential itself is in the OS credential store, not here.
type State struct {
	Server         string `json:"server"`
	DeviceID       int64  `json:"device_id"`
	Pin            string `json:"pin"`        // base64 SHA-256 of the server certificate's SubjectPublicKeyInfo
	PolicyKey      []byte `json:"policy_key"` // the server's Ed25519 key
	Seq            int64  `json:"seq"`
	PolicyDigest   string `json:"policy_digest"`
	CheckinSeconds int    `json:"checkin_seconds"`
	// Sent maps policy/check/user to the digest of the result last queued,
	// so only changes are sent.
	Sent map[string]string `json:"sent"`
}

// Client talks to the server for one enrolled device. Its methods are safe
// for concurrent use.
type Client struct {
	dir   string
	creds CredStore
	http  *http.Client
	now   func() time.Time

	mu   sync.Mutex
	st   State
	cred string
}

const stateFile = "state.json"

// SPKIPin returns the pin of a certificate: base64 SHA-256 of its public key info.
func SPKIPin(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// pinnedTLS returns a TLS configuration that accepts only a server whose
// leaf certificate has the pinned key (pin-only: the pin replaces the CA
// check, as in SSH).
func pinnedTLS(pin string) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // the pin below is the verification
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || SPKIPin(cs.PeerCertificates[0]) != pin {
				return ErrPinMismatch
			}
			return nil
		},
	}
}

// loopbackHTTP reports whether u is plain HTTP to a loopback address,
// which the agent accepts for tests and the load generator only.
func loopbackHTTP(u *url.URL) bool {
	if u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func newHTTP(tlsConf *tls.Config) *http.Client {
	tr := &http.Transport{TLSClientConfig: tlsConf, Proxy: http.ProxyFromEnvironment, MaxIdleConns: 2, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 15 * time.Second, ResponseHeaderTimeout: 60 * time.Second}
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// EnrollOptions are the first-contact settings of an enrollment.
type EnrollOptions struct {
	Server string
	Secret string
	// Pin, when set, is the expected base64 SHA-256 of the server's key
	// (trust on first use is then not needed).
	Pin string
	// CAFile, when set, is a PEM bundle the server's certificate must chain
	// to (instead of the system's roots) on first contact.
	CAFile string
	Facts  Facts
}

// Facts are what the device says about itself at enrollment.
type Facts struct {
	HardwareID, Hostname, OS, OSBuild, AgentVersion string
}

// Enroll registers the device with the server, stores the credential in
// creds and the state (server, pin, policy key) in dir.
func Enroll(ctx context.Context, dir string, creds CredStore, o EnrollOptions) (*Client, error) {
	u, err := url.Parse(o.Server)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !loopbackHTTP(u)) {
		return nil, fmt.Errorf("--server must be an https:// URL (got %q)", o.Server)
	}
	var conf *tls.Config
	var seenPin string
	var pinMu sync.Mutex
	record := func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) > 0 {
			pinMu.Lock()
			seenPin = SPKIPin(cs.PeerCertificates[0])
			pinMu.Unlock()
		}
		return nil
	}
	switch {
	case o.Pin != "":
		conf = pinnedTLS(o.Pin)
		inner := conf.VerifyConnection
		conf.VerifyConnection = func(cs tls.ConnectionState) error {
			if err := inner(cs); err != nil {
				return err
			}
			return record(cs)
		}
	case o.CAFile != "":
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read --ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s holds no PEM certificate", o.CAFile)
		}
		conf = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, VerifyConnection: record}
	default:
		conf = &tls.Config{MinVersion: tls.VersionTLS12, VerifyConnection: record}
	}
	hc := newHTTP(conf)
	body, _ := json.Marshal(wire.EnrollRequest{Secret: o.Secret, HardwareID: o.Facts.HardwareID, Hostname: o.Facts.Hostname, OS: o.Facts.OS,
		OSBuild: o.Facts.OSBuild, AgentVersion: o.Facts.AgentVersion})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, joinURL(o.Server, wire.PathEnroll), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("enroll with %s: %w", o.Server, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("enroll with %s: %s", o.Server, serverMessage(resp.StatusCode, raw))
	}
	var er wire.EnrollResponse
	if err := json.Unmarshal(raw, &er); err != nil {
		return nil, fmt.Errorf("enroll: unreadable answer: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(er.PolicyKey)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return nil, errors.New("enroll: the server sent no valid policy key")
	}
	if _, err := wire.ParseCredential(er.Credential); err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	pinMu.Lock()
	pin := seenPin
	pinMu.Unlock()
	if u.Scheme == "https" && pin == "" {
		return nil, errors.New("enroll: no server certificate to pin")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	if err := creds.Save(er.Credential); err != nil {
		return nil, fmt.Errorf("store the device credential: %w", err)
	}
	c := &Client{dir: dir, creds: creds, now: time.Now, cred: er.Credential,
		st: State{Server: o.Server, DeviceID: er.DeviceID, Pin: pin, PolicyKey: key, CheckinSeconds: er.CheckinSeconds, Sent: map[string]string{}}}
	c.http = c.newTransport()
	// A new enrollment starts from scratch: every result is sent again and
	// the policy bundle is fetched again.
	_ = os.Remove(filepath.Join(dir, bundleFile))
	if err := c.saveLocked(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Client) newTransport() *http.Client {
	u, _ := url.Parse(c.st.Server)
	if u != nil && loopbackHTTP(u) {
		return newHTTP(nil)
	}
	return newHTTP(pinnedTLS(c.st.Pin))
}

// Open loads the enrollment kept in dir and the credential from creds.
func Open(dir string, creds CredStore) (*Client, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotEnrolled
	}
	if err != nil {
		return nil, err
	}
	c := &Client{dir: dir, creds: creds, now: time.Now}
	if err := json.Unmarshal(b, &c.st); err != nil {
		return nil, fmt.Errorf("state %s: %w", filepath.Join(dir, stateFile), err)
	}
	if c.st.Sent == nil {
		c.st.Sent = map[string]string{}
	}
	if c.cred, err = creds.Load(); err != nil {
		return nil, fmt.Errorf("load the device credential: %w", err)
	}
	c.http = c.newTransport()
	return c, nil
}

// DeviceID is the device's id on the server.
func (c *Client) DeviceID() int64 { return c.st.DeviceID }

// Interval is the check-in interval the server asked for.
func (c *Client) Interval() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.CheckinSeconds <= 0 {
		return 5 * time.Minute
	}
	return time.Duration(c.st.CheckinSeconds) * time.Second
}

// saveLocked writes state.json (temp file, fsync, rename); c.mu is held
// or the client is not shared yet.
func (c *Client) saveLocked() error {
	b, err := json.Marshal(c.st)
	if err != nil {
		return err
	}
	return writeFileSync(filepath.Join(c.dir, stateFile), b)
}

// writeFileSync writes path atomically and durably (owner-only).
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

func joinURL(base, path string) string {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + path
}

func serverMessage(status int, body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return fmt.Sprintf("%d %s", status, e.Error)
	}
	return fmt.Sprintf("%d %s", status, http.StatusText(status))
}

// StatusError is a refusal by the server.
type StatusError struct {
	Status int
	Msg    string
}

func (e *StatusError) Error() string { return "server answered " + e.Msg }

// post sends one authenticated request with the next sequence number
// (saved before the request leaves, so a crash never reuses it).
func (c *Client) post(ctx context.Context, path string, v any, out any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.mu.Lock()
	seq := max(c.st.Seq+1, c.now().UnixMicro())
	c.st.Seq = seq
	err = c.saveLocked()
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, joinURL(c.st.Server, path), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(wire.HeaderDevice, c.cred)
	req.Header.Set(wire.HeaderSeq, strconv.FormatInt(seq, 10))
	req.Header.Set(wire.HeaderTime, strconv.FormatInt(c.now().Unix(), 10))
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, ErrPinMismatch) {
			return ErrPinMismatch
		}
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%w (%s)", ErrRevoked, serverMessage(resp.StatusCode, raw))
	case resp.StatusCode != http.StatusOK:
		return &StatusError{Status: resp.StatusCode, Msg: serverMessage(resp.StatusCode, raw)}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("unreadable answer: %w", err)
	}
	return nil
}

// Checkin sends a heartbeat and results (the changes) and, when the
// server sends a new policy bundle, verifies its signature with the key
// received at enrollment and saves it. A bundle that does not verify is
// refused (the agent keeps its previous policies).
func (c *Client) Checkin(ctx context.Context, hb wire.Heartbeat, results []wire.Result) (*wire.CheckinResponse, error) {
	c.mu.Lock()
	digest := c.st.PolicyDigest
	c.mu.Unlock()
	var resp wire.CheckinResponse
	if err := c.post(ctx, wire.PathCheckin, wire.CheckinRequest{Heartbeat: hb, PolicyDigest: digest, Results: results}, &resp); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if resp.NextSeconds > 0 {
		c.st.CheckinSeconds = resp.NextSeconds
	}
	if resp.Bundle != nil {
		if _, err := resp.Bundle.Verify(ed25519.PublicKey(c.st.PolicyKey)); err != nil {
			return nil, err
		}
		b, _ := json.Marshal(resp.Bundle)
		if err := writeFileSync(filepath.Join(c.dir, bundleFile), b); err != nil {
			return nil, err
		}
		c.st.PolicyDigest = resp.Bundle.Digest
	}
	if err := c.saveLocked(); err != nil {
		return nil, err
	}
	return &resp, nil
}

const bundleFile = "policies.bundle.json"

// Policies returns the policies of the last bundle received, verified
// again with the server's key (nil, nil when none was received yet).
func (c *Client) Policies() ([]wire.Policy, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, bundleFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var bundle wire.Bundle
	if err := json.Unmarshal(b, &bundle); err != nil {
		return nil, fmt.Errorf("policy bundle: %w", err)
	}
	p, err := bundle.Verify(ed25519.PublicKey(c.st.PolicyKey))
	if err != nil {
		return nil, err
	}
	return p.Policies, nil
}

// Report sends a desk report now.
func (c *Client) Report(ctx context.Context, r wire.ReportRequest) (*wire.ReportResponse, error) {
	var resp wire.ReportResponse
	if err := c.post(ctx, wire.PathReport, r, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
