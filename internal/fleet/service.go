package fleet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/fleet/wire"
	"github.com/custodia/custodia/internal/posture/baseline"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
)

// signingKeyName is the secrets-table name of the sealed policy-signing key.
const signingKeyName = "fleet.policy_signing_key"

// Errors the device protocol maps to HTTP statuses.
var (
	// ErrUnauthorized: unknown, malformed or revoked credential, or a
	// request time outside the window (401).
	ErrUnauthorized = errors.New("device not authorized")
	// ErrReplay: a sequence number already used (409).
	ErrReplay = errors.New("request replayed")
	// ErrInvalid wraps a malformed body (400).
	ErrInvalid = errors.New("invalid request")
)

// Service is the server side of the workstation agents. It is safe for
// concurrent use.
type Service struct {
	st   *store.Store
	cfg  config.FleetConfig
	log  *slog.Logger
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
	now  func() time.Time

	grace map[string]time.Duration

	mu      sync.Mutex
	bundles map[bundleKey]*wire.Bundle
	intake  ReportIntake
	// kick wakes the report forwarder.
	kick chan struct{}
}

type bundleKey struct {
	os                 string
	client, site, team int64
}

// New builds the fleet service: it loads the policy-signing key sealed in
// the database, or generates and stores it on first start.
func New(ctx context.Context, st *store.Store, keys *secret.Keyring, cfg config.FleetConfig, log *slog.Logger) (*Service, error) {
	if cfg.CheckinInterval <= 0 {
		cfg.CheckinInterval = config.Defaults().Fleet.CheckinInterval
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = 3
	}
	if cfg.MaxCheckinBytes <= 0 {
		cfg.MaxCheckinBytes = 1 << 20
	}
	if cfg.ClockSkew <= 0 {
		cfg.ClockSkew = 5 * time.Minute
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 72 * time.Hour
	}
	grace, err := ParseGraceOverrides(cfg.GraceOverrides)
	if err != nil {
		return nil, err
	}
	priv, err := loadSigningKey(ctx, st, keys)
	if err != nil {
		return nil, err
	}
	return &Service{st: st, cfg: cfg, log: log, priv: priv, pub: priv.Public().(ed25519.PublicKey), now: time.Now,
		grace: grace, bundles: map[bundleKey]*wire.Bundle{}, kick: make(chan struct{}, 1)}, nil
}

// ParseGraceOverrides parses "check=duration,…".
func ParseGraceOverrides(s string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if !ok || strings.TrimSpace(k) == "" || err != nil || d <= 0 {
			return nil, fmt.Errorf("--fleet-grace-overrides: %q is not check=duration (e.g. usb-storage=4h)", part)
		}
		out[strings.TrimSpace(k)] = d
	}
	return out, nil
}

func loadSigningKey(ctx context.Context, st *store.Store, keys *secret.Keyring) (ed25519.PrivateKey, error) {
	sealed, err := st.Secret(ctx, signingKeyName)
	if err == nil {
		seed, err := keys.Open(sealed, []byte(signingKeyName))
		if err != nil {
			return nil, fmt.Errorf("open the fleet policy-signing key: %w", err)
		}
		if len(seed) != ed25519.SeedSize {
			return nil, errors.New("the fleet policy-signing key is corrupt")
		}
		return ed25519.NewKeyFromSeed(seed), nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	sealed, err = keys.Seal(seed, []byte(signingKeyName))
	if err != nil {
		return nil, err
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		return tx.PutSecret(ctx, signingKeyName, sealed, keys.KeyID(), time.Now())
	})
	if err != nil {
		return nil, fmt.Errorf("store the fleet policy-signing key: %w", err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// PublicKey is the Ed25519 key that verifies the policy bundles.
func (s *Service) PublicKey() ed25519.PublicKey { return s.pub }

// Config is the service's effective configuration.
func (s *Service) Config() config.FleetConfig { return s.cfg }

// StaleBefore is the last-seen time before which a device is stale at now.
func (s *Service) StaleBefore(now time.Time) time.Time {
	return now.Add(-time.Duration(s.cfg.StaleAfter) * s.cfg.CheckinInterval)
}

// nextSeconds is the next check-in delay with ±10 % jitter.
func (s *Service) nextSeconds() int {
	base := s.cfg.CheckinInterval.Seconds()
	span := int64(base/5) + 1
	n, err := rand.Int(rand.Reader, big.NewInt(span))
	j := int64(0)
	if err == nil {
		j = n.Int64()
	}
	v := int(base - base/10 + float64(j))
	return max(v, 1)
}

// Enroll registers a device with an enrollment secret and returns its
// credential (shown only now) and the policy key.
func (s *Service) Enroll(ctx context.Context, req *wire.EnrollRequest) (*wire.EnrollResponse, error) {
	if err := validateFacts(req); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	raw := make([]byte, wire.CredentialLen)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var resp *wire.EnrollResponse
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		// The credential names the device id, known only after the insert:
		// store a placeholder digest first, then the real one.
		dev, _, err := tx.FleetEnroll(ctx, wire.HashSecret(req.Secret), store.FleetDeviceFacts{
			HardwareID: req.HardwareID, Hostname: req.Hostname, OS: req.OS, OSBuild: req.OSBuild, AgentVersion: req.AgentVersion,
		}, "pending", now)
		if err != nil {
			return err
		}
		cred := wire.FormatCredential(dev.ID, raw)
		if _, err := tx.Exec(ctx, "UPDATE fleet_devices SET cred_hash = ? WHERE id = ?", wire.HashSecret(cred), dev.ID); err != nil {
			return err
		}
		resp = &wire.EnrollResponse{DeviceID: dev.ID, Credential: cred, PolicyKey: base64.StdEncoding.EncodeToString(s.pub),
			CheckinSeconds: int(s.cfg.CheckinInterval.Seconds())}
		return nil
	})
	if errors.Is(err, store.ErrFleetEnrollRefused) {
		return nil, ErrUnauthorized
	}
	return resp, err
}

func validateFacts(r *wire.EnrollRequest) error {
	var errs []error
	if r.Secret == "" || len(r.Secret) > 200 {
		errs = append(errs, errors.New("secret is required"))
	}
	if strings.TrimSpace(r.HardwareID) == "" || len(r.HardwareID) > wire.MaxHostField {
		errs = append(errs, errors.New("hardware_id is required (at most 256 bytes)"))
	}
	if strings.TrimSpace(r.Hostname) == "" || len(r.Hostname) > wire.MaxHostField {
		errs = append(errs, errors.New("hostname is required (at most 256 bytes)"))
	}
	switch r.OS {
	case "linux", "windows", "darwin":
	default:
		errs = append(errs, fmt.Errorf("os %q is not linux, windows or darwin", r.OS))
	}
	if len(r.OSBuild) > wire.MaxHostField || len(r.AgentVersion) > wire.MaxHostField {
		errs = append(errs, errors.New("os_build and agent_version are at most 256 bytes"))
	}
	return errors.Join(errs...)
}

// Authenticate checks a device request's credential, time and sequence
// before the body is read. It answers ErrUnauthorized or ErrReplay.
func (s *Service) Authenticate(ctx context.Context, cred, seqHeader, timeHeader string) (*store.FleetDeviceCred, int64, error) {
	id, seq, err := s.requestHeaders(cred, seqHeader, timeHeader)
	if err != nil {
		return nil, 0, err
	}
	dc, err := s.st.FleetDeviceCred(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, ErrUnauthorized
	}
	if err != nil {
		return nil, 0, err
	}
	if subtle.ConstantTimeCompare([]byte(dc.CredHash), []byte(wire.HashSecret(cred))) != 1 || dc.Revoked {
		return nil, 0, ErrUnauthorized
	}
	if seq <= dc.LastSeq {
		return nil, 0, ErrReplay
	}
	return dc, seq, nil
}

// requestHeaders checks what a device request's headers say without the
// database: the credential's form, a positive sequence number and a time
// within the clock skew. It answers the device id and the sequence, or
// ErrUnauthorized.
func (s *Service) requestHeaders(cred, seqHeader, timeHeader string) (id, seq int64, err error) {
	id, err = wire.ParseCredential(cred)
	if err != nil {
		return 0, 0, ErrUnauthorized
	}
	ts, err1 := parseInt(timeHeader)
	seq, err2 := parseInt(seqHeader)
	if err1 != nil || err2 != nil || seq <= 0 {
		return 0, 0, ErrUnauthorized
	}
	if d := s.now().Sub(time.Unix(ts, 0)); d > s.cfg.ClockSkew || d < -s.cfg.ClockSkew {
		return 0, 0, ErrUnauthorized
	}
	return id, seq, nil
}

func parseInt(s string) (int64, error) {
	var n int64
	if s == "" || len(s) > 19 {
		return 0, errors.New("bad number")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errors.New("bad number")
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// Checkin records a device's check-in (its heartbeat and changed results)
// in one transaction and answers the next interval and, when the device's
// policy digest differs from its assignment, the signed bundle. A check-in
// without results is a heartbeat (see Heartbeat).
func (s *Service) Checkin(ctx context.Context, dc *store.FleetDeviceCred, seq int64, req *wire.CheckinRequest) (*wire.CheckinResponse, error) {
	bundle, err := s.Bundle(ctx, dc.OS, dc.ClientID, dc.SiteID, dc.TeamID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	hb := heartbeat(req)
	accepted := 0
	if len(req.Results) == 0 {
		_, err = s.st.FleetBeat(ctx, dc.ID, dc.CredHash, seq, hb, now)
	} else {
		results := make([]store.FleetResult, 0, len(req.Results))
		for _, r := range req.Results {
			ev := string(r.Evidence)
			if ev == "" || ev == "null" {
				ev = "[]"
			}
			results = append(results, store.FleetResult{Policy: r.Policy, CheckID: r.ID, SessionUser: r.SessionUser, Title: r.Title, Result: r.Result, Reason: r.Reason, Evidence: ev})
		}
		err = s.st.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.FleetCheckin(ctx, dc.ID, dc.CredHash, seq, hb, now); err != nil {
				return err
			}
			ch, err := tx.FleetApplyResults(ctx, dc, results, now)
			accepted = len(ch)
			return err
		})
	}
	if errors.Is(err, store.ErrFleetReplay) {
		// Revoked or re-enrolled in between, or a concurrent replay.
		if c, e := s.st.FleetDeviceCred(ctx, dc.ID); e == nil && (c.Revoked || c.CredHash != dc.CredHash) {
			return nil, ErrUnauthorized
		}
		return nil, ErrReplay
	}
	if err != nil {
		return nil, err
	}
	return s.checkinResponse(bundle, req.PolicyDigest, accepted), nil
}

// Heartbeat records a check-in that carries no results, read before the
// device is authenticated: the headers are checked first, then one
// statement authenticates the device and stores the heartbeat
// (store.FleetBeat), so a heartbeat costs one round trip to the database.
// It answers like Authenticate and Checkin together.
func (s *Service) Heartbeat(ctx context.Context, cred, seqHeader, timeHeader string, req *wire.CheckinRequest) (*wire.CheckinResponse, error) {
	if len(req.Results) > 0 {
		return nil, fmt.Errorf("%w: a heartbeat carries no results", ErrInvalid)
	}
	id, seq, err := s.requestHeaders(cred, seqHeader, timeHeader)
	if err != nil {
		return nil, err
	}
	dc, err := s.st.FleetBeat(ctx, id, wire.HashSecret(cred), seq, heartbeat(req), s.now().UTC())
	if errors.Is(err, store.ErrFleetReplay) {
		// Unknown, revoked or superseded credential, or a replay: say which.
		if _, _, err := s.Authenticate(ctx, cred, seqHeader, timeHeader); err != nil {
			return nil, err
		}
		// The state changed again in between (a concurrent request).
		return nil, ErrReplay
	}
	if err != nil {
		return nil, err
	}
	bundle, err := s.Bundle(ctx, dc.OS, dc.ClientID, dc.SiteID, dc.TeamID)
	if err != nil {
		return nil, err
	}
	return s.checkinResponse(bundle, req.PolicyDigest, 0), nil
}

func heartbeat(req *wire.CheckinRequest) store.FleetHeartbeat {
	return store.FleetHeartbeat{SessionUser: req.Heartbeat.SessionUser, AgentVersion: req.Heartbeat.AgentVersion,
		UptimeS: req.Heartbeat.UptimeS, PolicyDigest: req.PolicyDigest}
}

// checkinResponse is the answer to an accepted check-in: the next interval
// and the bundle when the device's digest differs.
func (s *Service) checkinResponse(bundle *wire.Bundle, digest string, accepted int) *wire.CheckinResponse {
	resp := &wire.CheckinResponse{NextSeconds: s.nextSeconds(), Accepted: accepted}
	if digest != bundle.Digest {
		resp.Bundle = bundle
	}
	return resp
}

// Bundle returns the signed policy bundle assigned to a device of that OS,
// client, site and team: the built-in baseline of its OS plus the custom
// policies assigned to its client, site or team. Bundles are signed once
// and cached until the assignments change.
func (s *Service) Bundle(ctx context.Context, os string, client, site, team int64) (*wire.Bundle, error) {
	k := bundleKey{os, client, site, team}
	s.mu.Lock()
	b := s.bundles[k]
	s.mu.Unlock()
	if b != nil {
		return b, nil
	}
	var ps []wire.Policy
	for _, name := range baseline.For(os, false) {
		src, err := baseline.Source(name)
		if err != nil {
			return nil, err
		}
		ps = append(ps, wire.Policy{Name: "baseline/" + name, Source: string(src)})
	}
	custom, err := s.st.FleetPoliciesFor(ctx, os, client, site, team)
	if err != nil {
		return nil, err
	}
	for _, p := range custom {
		ps = append(ps, wire.Policy{Name: fmt.Sprintf("custom/%d-%s", p.ID, p.Name), Source: p.Source})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	b, err = wire.SignBundle(s.priv, ps)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.bundles[k] = b
	s.mu.Unlock()
	return b, nil
}

// InvalidateBundles drops the cached bundles (after an assignment changed).
func (s *Service) InvalidateBundles() {
	s.mu.Lock()
	s.bundles = map[bundleKey]*wire.Bundle{}
	s.mu.Unlock()
}

// Score is a device's compliance: the share of applicable checks (passed,
// failed or accepted) that passed or are accepted.
type Score struct {
	Passed   int     `json:"passed"`
	Failed   int     `json:"failed"`
	Accepted int     `json:"accepted"`
	Errors   int     `json:"errors"`
	Percent  float64 `json:"percent"`
	// Known is false when the device has reported no applicable result.
	Known bool `json:"known"`
}

// Annotate marks the failed results covered by an exception in force as
// accepted and computes the score.
func Annotate(results []store.FleetResult, exceptions []store.FleetException, deviceID, clientID, teamID int64, now time.Time) Score {
	var sc Score
	for i := range results {
		r := &results[i]
		switch r.Result {
		case "passed":
			sc.Passed++
		case "failed":
			for j := range exceptions {
				e := &exceptions[j]
				if e.InForce(now) && e.Covers(r.Policy, r.CheckID, deviceID, clientID, teamID) {
					r.Accepted, r.ExceptionID = true, e.ID
					break
				}
			}
			if r.Accepted {
				sc.Accepted++
			} else {
				sc.Failed++
			}
		case "error":
			sc.Errors++
		}
	}
	if n := sc.Passed + sc.Failed + sc.Accepted; n > 0 {
		sc.Known = true
		sc.Percent = float64(int(float64(sc.Passed+sc.Accepted)*1000/float64(n)+0.5)) / 10
	}
	return sc
}

// graceFor is the grace period of a check.
func (s *Service) graceFor(checkID string) time.Duration {
	if d, ok := s.grace[checkID]; ok {
		return d
	}
	return s.cfg.Grace
}

// Sweep runs the periodic work once: flag silent devices (alert), escalate
// failures past their grace period that no exception covers, record
// expired exceptions in the audit trail, and hand pending desk reports to
// the intake.
func (s *Service) Sweep(ctx context.Context) error {
	now := s.now().UTC()
	var errs []error
	if n, err := s.st.FleetMarkSilent(ctx, s.StaleBefore(now), 1000); err != nil {
		errs = append(errs, err)
	} else if n > 0 {
		s.log.Info("fleet: devices gone silent", "count", n)
	}
	if err := s.escalate(ctx, now); err != nil {
		errs = append(errs, err)
	}
	if _, err := s.st.FleetExceptionsExpire(ctx, now); err != nil {
		errs = append(errs, err)
	}
	if err := s.ForwardReports(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Service) escalate(ctx context.Context, now time.Time) error {
	minGrace := s.cfg.Grace
	for _, d := range s.grace {
		minGrace = min(minGrace, d)
	}
	overdue, err := s.st.FleetFailuresSince(ctx, now.Add(-minGrace), 1000)
	if err != nil || len(overdue) == 0 {
		return err
	}
	exc, err := s.st.FleetExceptionsInForce(ctx, now)
	if err != nil {
		return err
	}
	for _, o := range overdue {
		if now.Sub(o.FailingSince) < s.graceFor(o.CheckID) {
			continue
		}
		covered := false
		for i := range exc {
			if exc[i].Covers(o.Policy, o.CheckID, o.DeviceID, o.ClientID, o.TeamID) {
				covered = true
				break
			}
		}
		if covered {
			continue
		}
		if err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.FleetEscalate(ctx, o, alert.SeverityHigh, now) }); err != nil {
			return err
		}
	}
	return nil
}

// Run does the periodic work every minute (and forwards desk reports as
// soon as they arrive) until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("fleet: periodic work", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}
