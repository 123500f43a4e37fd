// Package wire is the workstation agents' protocol with the server: the
// paths, headers and JSON bodies of enrollment, check-in and desk reports,
// and the signed policy bundle. Both the server (internal/fleet) and the
// agent (internal/posture/agentclient) use it; it imports nothing of
// either.
//
// Every request after enrollment is authenticated by the device credential
// in HeaderDevice, with a strictly increasing sequence number (HeaderSeq)
// and the device's clock (HeaderTime, Unix seconds): the server refuses an
// unknown or revoked credential (401), a request time outside its window
// (401) and a sequence number it has already seen (409, a replay).
package wire

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Paths of the device protocol (outside the user API).
const (
	PathEnroll  = "/agent/v1/enroll"
	PathCheckin = "/agent/v1/checkin"
	PathReport  = "/agent/v1/report"
)

// Request headers.
const (
	HeaderDevice = "X-Custodia-Device"
	HeaderSeq    = "X-Custodia-Seq"
	HeaderTime   = "X-Custodia-Time"
)

// Limits the server enforces on what a device sends.
const (
	MaxResults     = 5000
	MaxField       = 256      // policy, check id, session user, title (bytes)
	MaxReason      = 4096     // a result's reason
	MaxEvidence    = 16 << 10 // a result's evidence (JSON bytes)
	MaxReportText  = 8000     // a desk report's text
	MaxHostField   = 256      // host facts
	credentialHead = "cdv1"   // credential format version
	credentialLen  = 32       // random bytes in a credential

)

// Result values a check may report.
var Results = []string{"passed", "failed", "not_applicable", "error"}

// ValidResult reports whether r is one of Results.
func ValidResult(r string) bool {
	for _, v := range Results {
		if v == r {
			return true
		}
	}
	return false
}

// EnrollRequest is what `custodia-agent enroll` sends.
type EnrollRequest struct {
	Secret       string `json:"secret"`
	HardwareID   string `json:"hardware_id"`
	Hostname     string `json:"hostname"`
	OS           string `json:"os"`
	OSBuild      string `json:"os_build"`
	AgentVersion string `json:"agent_version"`
}

// EnrollResponse is the server's answer to an enrollment.
type EnrollResponse struct {
	DeviceID int64 `json:"device_id"`
	// Credential is the device's secret; the server keeps only its digest.
	Credential string `json:"credential"`
	// PolicyKey is the server's Ed25519 public key (base64) that signs
	// policy bundles.
	PolicyKey string `json:"policy_key"`
	// CheckinSeconds is the check-in interval.
	CheckinSeconds int `json:"checkin_seconds"`
}

// Heartbeat is the device's state at check-in.
type Heartbeat struct {
	SessionUser  string `json:"session_user"`
	AgentVersion string `json:"agent_version"`
	UptimeS      int64  `json:"uptime_s"`
}

// Result is one check's result as the agent reports it (only when it
// changed since the last accepted check-in).
type Result struct {
	Policy      string          `json:"policy"`
	ID          string          `json:"id"`
	Title       string          `json:"title,omitempty"`
	Result      string          `json:"result"`
	Reason      string          `json:"reason,omitempty"`
	Evidence    json.RawMessage `json:"evidence,omitempty"`
	SessionUser string          `json:"session_user,omitempty"`
}

// CheckinRequest is the body of a check-in.
type CheckinRequest struct {
	Heartbeat    Heartbeat `json:"heartbeat"`
	PolicyDigest string    `json:"policy_digest"`
	Results      []Result  `json:"results,omitempty"`
}

// CheckinResponse is the answer to a check-in: the next interval and, only
// when the device's digest differs from its assignment, the signed bundle.
type CheckinResponse struct {
	NextSeconds int     `json:"next"`
	Bundle      *Bundle `json:"bundle,omitempty"`
	// Accepted counts the results stored (changes only).
	Accepted int `json:"accepted,omitempty"`
}

// ReportRequest is a desk report.
type ReportRequest struct {
	// Key identifies the report on the device so a resend is not stored twice.
	Key         string    `json:"key"`
	Text        string    `json:"text"`
	Category    string    `json:"category,omitempty"`
	SessionUser string    `json:"session_user,omitempty"`
	ReportedAt  time.Time `json:"reported_at"`
}

// ReportResponse answers a desk report.
type ReportResponse struct {
	ID int64 `json:"id"`
	// Reference is the incident's tracking reference, when already known.
	Reference string `json:"reference,omitempty"`
}

// Policy is one policy file in a bundle.
type Policy struct {
	Name   string `json:"name"`
	Source string `json:"source"`
}

// Bundle is a signed set of policies. Payload is the JSON of
// BundlePayload; Signature is Ed25519 over Payload; Digest is the hex
// SHA-256 of Payload.
type Bundle struct {
	Digest    string `json:"digest"`
	Payload   []byte `json:"payload"`
	Signature []byte `json:"signature"`
}

// BundlePayload is what a bundle carries.
type BundlePayload struct {
	Version  int      `json:"v"`
	Policies []Policy `json:"policies"`
}

// SignBundle builds the signed bundle of policies (sorted by name, so the
// same set always gives the same digest).
func SignBundle(key ed25519.PrivateKey, policies []Policy) (*Bundle, error) {
	ps := append([]Policy(nil), policies...)
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	payload, err := json.Marshal(BundlePayload{Version: 1, Policies: ps})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(payload)
	return &Bundle{Digest: hex.EncodeToString(sum[:]), Payload: payload, Signature: ed25519.Sign(key, payload)}, nil
}

// ErrBadSignature reports a bundle whose signature or digest does not verify.
var ErrBadSignature = errors.New("policy bundle signature does not verify")

// Verify checks b's signature with pub and its digest, and returns its
// policies.
func (b *Bundle) Verify(pub ed25519.PublicKey) (*BundlePayload, error) {
	if b == nil || len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, b.Payload, b.Signature) {
		return nil, ErrBadSignature
	}
	sum := sha256.Sum256(b.Payload)
	if hex.EncodeToString(sum[:]) != b.Digest {
		return nil, ErrBadSignature
	}
	var p BundlePayload
	if err := json.Unmarshal(b.Payload, &p); err != nil {
		return nil, fmt.Errorf("policy bundle: %w", err)
	}
	if p.Version != 1 {
		return nil, fmt.Errorf("policy bundle version %d is not supported", p.Version)
	}
	return &p, nil
}

// FormatCredential returns the credential of device id with secret bytes.
func FormatCredential(id int64, secret []byte) string {
	return credentialHead + "." + strconv.FormatInt(id, 10) + "." + base64.RawURLEncoding.EncodeToString(secret)
}

// ParseCredential returns the device id a credential names; it checks only
// the form.
func ParseCredential(cred string) (int64, error) {
	parts := strings.Split(cred, ".")
	if len(parts) != 3 || parts[0] != credentialHead {
		return 0, errors.New("malformed device credential")
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || id <= 0 {
		return 0, errors.New("malformed device credential")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != credentialLen {
		return 0, errors.New("malformed device credential")
	}
	return id, nil
}

// CredentialLen is the number of random bytes in a device credential.
const CredentialLen = credentialLen

// HashSecret returns the hex SHA-256 digest under which the server stores
// an enrollment secret or a device credential.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// DecodeCheckin parses and validates a check-in body: malformed JSON,
// trailing data, an unknown result value, an oversized field or too many
// results is an error.
func DecodeCheckin(body []byte) (*CheckinRequest, error) {
	var req CheckinRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("check-in body is not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("check-in body has data after the JSON object")
	}
	var errs []error
	hb := req.Heartbeat
	if len(hb.SessionUser) > MaxField || len(hb.AgentVersion) > MaxField || hb.UptimeS < 0 {
		errs = append(errs, errors.New("heartbeat: session_user and agent_version are at most 256 bytes, uptime_s is not negative"))
	}
	if len(req.PolicyDigest) > 128 {
		errs = append(errs, errors.New("policy_digest is longer than 128 bytes"))
	}
	if len(req.Results) > MaxResults {
		errs = append(errs, fmt.Errorf("%d results: at most %d per check-in", len(req.Results), MaxResults))
	}
	for i, r := range req.Results {
		if len(errs) > 5 {
			break
		}
		switch {
		case r.Policy == "" || r.ID == "":
			errs = append(errs, fmt.Errorf("results[%d]: policy and id are required", i))
		case len(r.Policy) > MaxField || len(r.ID) > MaxField || len(r.Title) > MaxField || len(r.SessionUser) > MaxField:
			errs = append(errs, fmt.Errorf("results[%d]: policy, id, title and session_user are at most %d bytes", i, MaxField))
		case !ValidResult(r.Result):
			errs = append(errs, fmt.Errorf("results[%d]: result %q is not one of %v", i, r.Result, Results))
		case len(r.Reason) > MaxReason:
			errs = append(errs, fmt.Errorf("results[%d]: reason is longer than %d bytes", i, MaxReason))
		case len(r.Evidence) > MaxEvidence:
			errs = append(errs, fmt.Errorf("results[%d]: evidence is longer than %d bytes", i, MaxEvidence))
		case len(r.Evidence) > 0 && !json.Valid(r.Evidence):
			errs = append(errs, fmt.Errorf("results[%d]: evidence is not valid JSON", i))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &req, nil
}

// DecodeReport parses and validates a desk report body.
func DecodeReport(body []byte) (*ReportRequest, error) {
	var req ReportRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("report body is not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("report body has data after the JSON object")
	}
	req.Text = strings.TrimSpace(req.Text)
	switch {
	case req.Text == "":
		return nil, errors.New("the report's text is empty")
	case len(req.Text) > MaxReportText:
		return nil, fmt.Errorf("the report's text is longer than %d bytes", MaxReportText)
	case len(req.Category) > 64 || len(req.Key) > 128 || len(req.SessionUser) > MaxField:
		return nil, errors.New("category (64), key (128) or session_user (256) too long")
	}
	return &req, nil
}
