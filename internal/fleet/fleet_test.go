package fleet

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/fleet/wire"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// rig is a fleet service on a real store behind the real router.
type rig struct {
	t        *testing.T
	st       *store.Store
	svc      *Service
	srv      *httptest.Server
	now      time.Time
	mu       sync.Mutex
	clientA  int64
	clientB  int64
	teamA    int64
	siteA    int64
	secretA  string
	secretB  string
	scopeAll identity.Scope
}

func newRig(t *testing.T, st *store.Store) *rig {
	t.Helper()
	ctx := context.Background()
	keys, err := secret.New(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults().Fleet
	cfg.CheckinInterval = time.Minute
	cfg.MaxCheckinBytes = 64 << 10
	svc, err := New(ctx, st, keys, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r := &rig{t: t, st: st, svc: svc, now: time.Now().UTC(), scopeAll: identity.Scope{All: true}}
	svc.now = func() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return r.now }
	a := &org.Client{Code: "banka", Name: "Bank A"}
	b := &org.Client{Code: "telcob", Name: "Telco B"}
	for _, c := range []*org.Client{a, b} {
		if err := st.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	site := &org.Site{Code: "mad", Name: "Madrid"}
	if err := st.CreateSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	team := &org.Team{Code: "a1", Name: "Bank A day", SiteID: site.ID, ClientID: a.ID}
	if err := st.CreateTeam(ctx, team); err != nil {
		t.Fatal(err)
	}
	r.clientA, r.clientB, r.siteA, r.teamA = a.ID, b.ID, site.ID, team.ID
	r.secretA, _, err = svc.CreateSecret(ctx, r.scopeAll, SecretInput{Name: "Bank A Madrid", ClientID: a.ID, TeamID: team.ID})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	r.secretB, _, err = svc.CreateSecret(ctx, r.scopeAll, SecretInput{Name: "Telco B", ClientID: b.ID})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	router := authz.NewRouter(authz.Options{})
	svc.Protocol().Register(router)
	r.srv = httptest.NewServer(router)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *rig) advance(d time.Duration) {
	r.mu.Lock()
	r.now = r.now.Add(d)
	r.mu.Unlock()
}

func (r *rig) post(path string, hdr map[string]string, body []byte) (int, []byte) {
	r.t.Helper()
	req, _ := http.NewRequest("POST", r.srv.URL+path, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type device struct {
	r    *rig
	cred string
	id   int64
	key  ed25519.PublicKey
	seq  int64
}

func (r *rig) enroll(secret, hwid string) (*device, int) {
	r.t.Helper()
	body, _ := json.Marshal(wire.EnrollRequest{Secret: secret, HardwareID: hwid, Hostname: "DESK-" + hwid, OS: "linux", OSBuild: "6.8", AgentVersion: "1.0"})
	code, b := r.post(wire.PathEnroll, nil, body)
	if code != 200 {
		return nil, code
	}
	var er wire.EnrollResponse
	if err := json.Unmarshal(b, &er); err != nil {
		r.t.Fatal(err)
	}
	key, _ := base64.StdEncoding.DecodeString(er.PolicyKey)
	return &device{r: r, cred: er.Credential, id: er.DeviceID, key: key}, code
}

func (d *device) send(path string, seq int64, at time.Time, body []byte) (int, []byte) {
	return d.r.post(path, map[string]string{wire.HeaderDevice: d.cred, wire.HeaderSeq: strconv.FormatInt(seq, 10),
		wire.HeaderTime: strconv.FormatInt(at.Unix(), 10)}, body)
}

func (d *device) checkin(req wire.CheckinRequest) (int, *wire.CheckinResponse) {
	d.r.t.Helper()
	d.seq++
	body, _ := json.Marshal(req)
	code, b := d.send(wire.PathCheckin, d.seq, d.r.svc.now(), body)
	if code != 200 {
		return code, nil
	}
	var resp wire.CheckinResponse
	if err := json.Unmarshal(b, &resp); err != nil {
		d.r.t.Fatalf("check-in answer %q: %v", b, err)
	}
	return code, &resp
}

func result(id, res string) wire.Result {
	return wire.Result{Policy: "custodia_linux", ID: id, Title: "Check " + id, Result: res, Reason: "observed x",
		Evidence: json.RawMessage(`[{"rule":"f:/etc/x","observed":"1","expected":"0","result":"` + res + `"}]`)}
}

func (r *rig) alerts(kind string) []alert.Alert {
	r.t.Helper()
	as, err := r.st.Alerts(context.Background(), r.scopeAll, alert.Filter{Source: "fleet", Kind: kind})
	if err != nil {
		r.t.Fatal(err)
	}
	return as
}

func TestEnrollCheckinResults(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		ctx := context.Background()
		d, code := r.enroll(r.secretA, "hw-1")
		if code != 200 {
			t.Fatalf("enroll = %d", code)
		}
		if _, code := r.enroll("ces_wrong", "hw-2"); code != 401 {
			t.Errorf("enroll with unknown secret = %d, want 401", code)
		}
		dev, err := st.FleetDevice(ctx, r.scopeAll, d.id)
		if err != nil {
			t.Fatal(err)
		}
		if dev.ClientID != r.clientA || dev.TeamID != r.teamA || dev.SiteID != r.siteA {
			t.Errorf("device client/site/team = %d/%d/%d, want %d/%d/%d (from the secret)", dev.ClientID, dev.SiteID, dev.TeamID, r.clientA, r.siteA, r.teamA)
		}
		// Client segregation: a user of client B does not see the device.
		if _, err := st.FleetDevice(ctx, identity.Scope{ClientIDs: []int64{r.clientB}}, d.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("device seen from client B's scope: %v", err)
		}

		// First check-in: the bundle comes, signed, and verifies.
		code, resp := d.checkin(wire.CheckinRequest{Heartbeat: wire.Heartbeat{SessionUser: "ana", AgentVersion: "1.0", UptimeS: 60},
			Results: []wire.Result{result("usb", "passed"), result("fw", "failed")}})
		if code != 200 || resp.Bundle == nil {
			t.Fatalf("first check-in = %d %+v, want 200 with a bundle", code, resp)
		}
		if resp.NextSeconds < 54 || resp.NextSeconds > 66 {
			t.Errorf("next = %d s, want 60 s ± 10 %%", resp.NextSeconds)
		}
		payload, err := resp.Bundle.Verify(d.key)
		if err != nil || len(payload.Policies) == 0 || !strings.Contains(payload.Policies[0].Name, "linux") {
			t.Fatalf("bundle verify: %v %+v", err, payload)
		}
		tampered := *resp.Bundle
		tampered.Payload = bytes.Replace(tampered.Payload, []byte("linux"), []byte("LINUX"), 1)
		if _, err := tampered.Verify(d.key); err == nil {
			t.Error("a tampered bundle verified")
		}
		digest := resp.Bundle.Digest
		// Unchanged digest: a few bytes, no bundle.
		d.seq++
		body, _ := json.Marshal(wire.CheckinRequest{PolicyDigest: digest})
		code, raw := d.send(wire.PathCheckin, d.seq, r.svc.now(), body)
		if code != 200 || len(raw) > 40 || bytes.Contains(raw, []byte("bundle")) {
			t.Errorf("unchanged check-in = %d %q, want a few bytes without the bundle", code, raw)
		}
		// Replays and bad requests.
		if code, _ := d.send(wire.PathCheckin, d.seq, r.svc.now(), body); code != 409 {
			t.Errorf("replayed sequence = %d, want 409", code)
		}
		if code, _ := d.send(wire.PathCheckin, d.seq+1, r.svc.now().Add(-time.Hour), body); code != 401 {
			t.Errorf("request an hour old = %d, want 401", code)
		}
		if code, _ := d.send(wire.PathCheckin, d.seq+1, r.svc.now(), []byte(`{"heartbeat":`)); code != 400 {
			t.Errorf("malformed JSON = %d, want 400", code)
		}
		if code, _ := d.send(wire.PathCheckin, d.seq+2, r.svc.now(), bytes.Repeat([]byte(" "), 70<<10)); code != 413 {
			t.Errorf("oversized body = %d, want 413", code)
		}
		bad := &device{r: r, cred: wire.FormatCredential(d.id, make([]byte, wire.CredentialLen))}
		if code, _ := bad.send(wire.PathCheckin, 1<<40, r.svc.now(), body); code != 401 {
			t.Errorf("forged credential = %d, want 401", code)
		}
		d.seq += 2

		// passed → failed raises one alert per device and check; history kept.
		r.advance(time.Minute)
		code, resp = d.checkin(wire.CheckinRequest{PolicyDigest: digest, Results: []wire.Result{result("usb", "failed")}})
		if code != 200 || resp.Accepted != 1 {
			t.Fatalf("check-in = %d %+v", code, resp)
		}
		if as := r.alerts("check_failed"); len(as) != 1 || as[0].ClientID != r.clientA || as[0].Severity != alert.SeverityMedium {
			t.Fatalf("check_failed alerts = %+v, want one for client A", as)
		}
		// The same result again is not a change.
		_, resp = d.checkin(wire.CheckinRequest{PolicyDigest: digest, Results: []wire.Result{result("usb", "failed")}})
		if resp.Accepted != 0 {
			t.Errorf("unchanged result accepted = %d, want 0", resp.Accepted)
		}
		det, err := r.svc.Device(ctx, r.scopeAll, d.id)
		if err != nil {
			t.Fatal(err)
		}
		if len(det.History) != 3 {
			t.Errorf("history = %d entries, want 3 (usb passed, fw failed, usb failed)", len(det.History))
		}
		var usb *store.FleetResult
		for i := range det.Results {
			if det.Results[i].CheckID == "usb" {
				usb = &det.Results[i]
			}
		}
		if usb == nil || usb.FailingSince == nil || usb.Result != "failed" {
			t.Fatalf("usb result = %+v, want failed with failing_since", usb)
		}
		if det.Device.Score.Percent != 0 || det.Device.Score.Failed != 2 {
			t.Errorf("score = %+v, want 0 %% with 2 failed", det.Device.Score)
		}
		if det.Device.SessionUser != "" {
			t.Errorf("heartbeat session user = %q, want the last one (empty)", det.Device.SessionUser)
		}

		// An exception on the device accepts the failure until it expires.
		exc, err := r.svc.CreateException(ctx, r.scopeAll, ExceptionInput{Policy: "custodia_linux", CheckID: "usb", Scope: "device", DeviceID: d.id,
			Owner: "Security", Reason: "USB scanner at this desk", ExpiresAt: r.svc.now().Add(48 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if exc.ClientID != r.clientA {
			t.Errorf("exception client = %d, want the device's", exc.ClientID)
		}
		det, _ = r.svc.Device(ctx, r.scopeAll, d.id)
		if det.Device.Score.Accepted != 1 || det.Device.Score.Percent != 50 {
			t.Errorf("score with exception = %+v, want 1 accepted, 50 %%", det.Device.Score)
		}
		if _, err := r.svc.CreateException(ctx, identity.Scope{ClientIDs: []int64{r.clientB}}, ExceptionInput{Policy: "p", CheckID: "c", Scope: "device", DeviceID: d.id,
			Owner: "x", Reason: "y", ExpiresAt: r.svc.now().Add(time.Hour)}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("exception on another client's device: %v, want not found", err)
		}
		// Grace: past 72 h the failure escalates, except the accepted one…
		r.advance(49 * time.Hour)
		det, _ = r.svc.Device(ctx, r.scopeAll, d.id)
		if det.Device.Score.Accepted != 0 {
			t.Errorf("expired exception still applies: %+v", det.Device.Score)
		}
		r.advance(24 * time.Hour)
		// Keep the device fresh so the sweep does not flag it silent.
		d.checkin(wire.CheckinRequest{PolicyDigest: digest})
		if err := r.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		var escalated int
		for _, a := range r.alerts("check_failed") {
			if a.Severity == alert.SeverityHigh {
				escalated++
			}
		}
		if escalated != 2 {
			t.Errorf("escalated alerts = %d, want 2 (usb and fw failing > 72 h)", escalated)
		}
		// The expired exception was written to the audit trail, once.
		var expired int
		if err := st.DB().QueryRowContext(ctx, st.Rebind("SELECT COUNT(*) FROM audit_log WHERE action = 'fleet.exception_expire'")).Scan(&expired); err != nil {
			t.Fatal(err)
		}
		if expired != 1 {
			t.Errorf("fleet.exception_expire audit entries = %d, want 1", expired)
		}
		if n := len(r.alerts("device_silent")); n != 0 {
			t.Errorf("device_silent alerts = %d for a device that checked in", n)
		}
		// Silence: 3 intervals without news → one alert.
		r.advance(4 * time.Minute)
		if err := r.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if as := r.alerts("device_silent"); len(as) != 1 {
			t.Errorf("device_silent alerts = %d, want 1", len(as))
		}
		rows, err := r.svc.Devices(ctx, r.scopeAll, store.FleetDeviceFilter{Stale: true})
		if err != nil || len(rows) != 1 || !rows[0].Stale {
			t.Errorf("stale devices = %+v, %v", rows, err)
		}
		rows, _ = r.svc.Devices(ctx, r.scopeAll, store.FleetDeviceFilter{FailingCheck: "usb"})
		if len(rows) != 1 {
			t.Errorf("devices failing usb = %d, want 1", len(rows))
		}
		view, err := r.svc.CheckView(ctx, identity.Scope{ClientIDs: []int64{r.clientB}}, store.FleetCheckFilter{CheckID: "usb"})
		if err != nil || len(view) != 0 {
			t.Errorf("client B's view of usb = %d rows, %v; want none", len(view), err)
		}
	})
}

func TestReenrollAndRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		ctx := context.Background()
		d1, _ := r.enroll(r.secretA, "hw-9")
		if code, _ := d1.checkin(wire.CheckinRequest{}); code != 200 {
			t.Fatalf("check-in = %d", code)
		}
		// The same hardware enrolls again (with client B's secret): new
		// credential, old one refused, alert raised, client from the secret.
		d2, code := r.enroll(r.secretB, "hw-9")
		if code != 200 || d2.id != d1.id {
			t.Fatalf("re-enroll = %d id %d, want 200 and the same device", code, d2.id)
		}
		if code, _ := d1.checkin(wire.CheckinRequest{}); code != 401 {
			t.Errorf("old credential after re-enrollment = %d, want 401", code)
		}
		if code, _ := d2.checkin(wire.CheckinRequest{}); code != 200 {
			t.Errorf("new credential = %d, want 200", code)
		}
		if as := r.alerts("device_reenrolled"); len(as) != 1 || as[0].ClientID != r.clientB {
			t.Errorf("device_reenrolled alerts = %+v", as)
		}
		if _, err := st.FleetDevice(ctx, identity.Scope{ClientIDs: []int64{r.clientA}}, d2.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("device moved to client B still visible to client A: %v", err)
		}
		// Revoking from another client's scope is a not-found.
		if err := r.svc.Revoke(ctx, identity.Scope{ClientIDs: []int64{r.clientA}}, d2.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoke out of scope: %v", err)
		}
		if err := r.svc.Revoke(ctx, identity.Scope{ClientIDs: []int64{r.clientB}}, d2.id); err != nil {
			t.Fatal(err)
		}
		if code, _ := d2.checkin(wire.CheckinRequest{}); code != 401 {
			t.Errorf("revoked device = %d, want 401", code)
		}
		// Max uses and expiry of secrets.
		one := time.Now().Add(time.Hour)
		s1, _, err := r.svc.CreateSecret(ctx, r.scopeAll, SecretInput{Name: "once", ClientID: r.clientA, MaxUses: 1, ExpiresAt: &one})
		if err != nil {
			t.Fatal(err)
		}
		if _, code := r.enroll(s1, "hw-a"); code != 200 {
			t.Errorf("first use = %d", code)
		}
		if _, code := r.enroll(s1, "hw-b"); code != 401 {
			t.Errorf("second use of a one-use secret = %d, want 401", code)
		}
		if _, _, err := r.svc.CreateSecret(ctx, identity.Scope{ClientIDs: []int64{r.clientA}}, SecretInput{Name: "x", ClientID: r.clientB}); err == nil {
			t.Error("secret for a client out of scope was created")
		}
	})
}

type fakeIntake struct {
	mu   sync.Mutex
	got  []DeviceReport
	fail bool
}

func (f *fakeIntake) DeviceReport(_ context.Context, r DeviceReport) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return "", errors.New("intake down")
	}
	f.got = append(f.got, r)
	return fmt.Sprintf("INC-%d", len(f.got)), nil
}

func TestDeskReports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		ctx := context.Background()
		d, _ := r.enroll(r.secretA, "hw-r")
		send := func(key, text string) (int, wire.ReportResponse) {
			d.seq++
			body, _ := json.Marshal(wire.ReportRequest{Key: key, Text: text, Category: "phishing", SessionUser: "ana", ReportedAt: r.svc.now()})
			code, b := d.send(wire.PathReport, d.seq, r.svc.now(), body)
			var resp wire.ReportResponse
			_ = json.Unmarshal(b, &resp)
			return code, resp
		}
		// Without an intake, the report is kept.
		code, resp := send("k1", "Caller asked for my password")
		if code != 200 || resp.ID == 0 || resp.Reference != "" {
			t.Fatalf("report = %d %+v", code, resp)
		}
		if code, _ := send("k2", "   "); code != 400 {
			t.Errorf("empty report = %d, want 400", code)
		}
		// The intake arrives: the backlog is handed over in order.
		in := &fakeIntake{}
		r.svc.SetReportIntake(in)
		if err := r.svc.ForwardReports(ctx); err != nil {
			t.Fatal(err)
		}
		if len(in.got) != 1 || in.got[0].ClientID != r.clientA || in.got[0].Hostname != "DESK-hw-r" || in.got[0].SessionUser != "ana" {
			t.Fatalf("intake got %+v", in.got)
		}
		// A new report is handed over at once and its reference answered;
		// a resend with the same key is not a second report.
		code, resp = send("k3", "USB stick found at desk")
		if code != 200 || resp.Reference != "INC-2" {
			t.Errorf("report with intake = %d %+v, want INC-2", code, resp)
		}
		code, resp2 := send("k3", "USB stick found at desk")
		if code != 200 || resp2.ID != resp.ID || len(in.got) != 2 {
			t.Errorf("resend = %d %+v (intake %d), want the same report", code, resp2, len(in.got))
		}
		reps, _ := st.FleetReports(ctx, identity.Scope{ClientIDs: []int64{r.clientB}}, 0, 10, 0)
		if len(reps) != 0 {
			t.Errorf("client B sees %d reports of client A", len(reps))
		}
	})
}
