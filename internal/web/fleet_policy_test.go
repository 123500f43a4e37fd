package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/fleet"
	"github.com/custodia/custodia/internal/fleet/wire"
	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/server"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// newFleetEnv is the real stack with the fleet module.
func newFleetEnv(tb testing.TB) (*env, *fleet.Service) {
	tb.Helper()
	hs := httptest.NewUnstartedServer(nil)
	st := storetest.SQLite(tb)
	keys, err := secret.New(secret.Generate())
	if err != nil {
		tb.Fatal(err)
	}
	clock := &testClock{now: time.Now().UTC()}
	svc := auth.NewService(st, keys, auth.Config{
		Password:    identity.PasswordParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		SessionIdle: 1000 * time.Hour, SessionMax: 2000 * time.Hour,
	}, clock.Now)
	cat, err := i18n.Load()
	if err != nil {
		tb.Fatal(err)
	}
	cat.Missing = func(lang, key string) { tb.Errorf("missing message %s/%s", lang, key) }
	logger := slog.New(slog.DiscardHandler)
	cfg := config.Defaults()
	fs, err := fleet.New(context.Background(), st, keys, cfg.Fleet, logger)
	if err != nil {
		tb.Fatal(err)
	}
	w, err := NewServer(Deps{Config: cfg, Store: st, Identity: svc, Catalog: cat, Logger: logger, Now: clock.Now,
		Fleet: FleetDeps{Service: fs}, Modules: []Module{{Key: ModuleWorkstations, Path: "/fleet", Roles: fleetReaders}}})
	if err != nil {
		tb.Fatalf("NewServer: %v", err)
	}
	srv, err := server.New(server.Deps{Config: cfg, Store: st, Logger: logger, Auth: svc,
		NeedsMFAEnrolment: svc.NeedsMFAEnrolment, Deny: w.Deny, Registrars: []server.Registrar{w}})
	if err != nil {
		tb.Fatalf("server.New: %v", err)
	}
	e := &env{t: tb, st: st, svc: svc, web: w, clock: clock, seeds: map[string][]byte{}}
	hs.Config.Handler = srv
	hs.Start()
	e.srv = hs
	tb.Cleanup(e.srv.Close)
	e.seedSmall()
	return e, fs
}

// testPolicy is a valid 5.x policy; its description holds markup that
// must come out escaped.
const testPolicy = `policy:
  id: custom_screen
  name: Screen lock <script>alert(1)</script>
checks:
  - id: lock1
    name: Screen locks after 5 minutes
    compliance:
      pci_dss: ["8.2.8"]
      iso_27001-2013: ["A.11.2.8"]
    condition: all
    rules:
      - 'f:/etc/lock.conf -> r:^timeout\s*=\s*300'
  - id: lock2
    name: Lock file present
    condition: any
    rules:
      - 'f:/etc/lock.conf'
`

// brokenPolicy parses but its second check (line 9) has a condition SCA does not know.
const brokenPolicy = `policy:
  id: broken_one
checks:
  - id: ok1
    name: Fine
    condition: all
    rules:
      - 'f:/etc/hosts'
  - id: bad1
    name: Bad rule
    condition: sometimes
    rules:
      - 'f:/etc/hosts'
`

func TestFleetPolicyPages(t *testing.T) {
	e, fs := newFleetEnv(t)
	ctx := context.Background()
	all := identity.Scope{All: true}
	e.addUser("root", identity.RoleAdmin, true, nil)
	e.addUser("sec", identity.RoleSecurity, true, func(u *identity.User) { u.AllClients, u.ClientIDs = false, []int64{e.clientA.ID} })
	e.addUser("aud", identity.RoleAuditor, true, func(u *identity.User) { u.AllClients, u.ClientIDs = false, []int64{e.clientA.ID} })
	e.addUser("sup", identity.RoleSupervisor, true, func(u *identity.User) {
		u.AllClients, u.ClientIDs, u.TeamIDs = false, []int64{e.clientA.ID}, []int64{e.teamA.ID}
	})

	// B's policy, assigned through the API's code path.
	bPol, err := fs.AddPolicy(ctx, all, fleet.PolicyInput{Name: "Telco lock", ClientID: e.clientB.ID, Source: strings.Replace(testPolicy, "custom_screen", "telco_screen", 1)})
	if err != nil {
		t.Fatal(err)
	}

	sec := e.browser()
	sec.signIn("sec")

	// The new-policy form offers only the caller's clients and teams.
	r := sec.get("/fleet/policies/new")
	wantStatus(t, "GET /fleet/policies/new", r, http.StatusOK)
	for _, o := range r.doc.findAll("select[name=client_id] option") {
		if v, _ := attr(o, "value"); v != strconv.FormatInt(e.clientA.ID, 10) {
			t.Errorf("client choice %q offered to a user of client A only", v)
		}
	}
	for _, o := range r.doc.findAll("select[name=team_id] option") {
		if v, _ := attr(o, "value"); v == strconv.FormatInt(e.teamB.ID, 10) {
			t.Error("client B's team offered to a user of client A only")
		}
	}

	// Create: assigned to client A, team A; lands on its page.
	form := url.Values{"name": {"Bank lock"}, "os": {"linux"}, "client_id": {itoa64(e.clientA.ID)}, "team_id": {itoa64(e.teamA.ID)},
		"source": {strings.ReplaceAll(testPolicy, "\n", "\r\n")}}
	r = sec.post("/fleet/policies", form)
	wantStatus(t, "POST /fleet/policies", r, http.StatusSeeOther)
	if !strings.HasPrefix(r.location, "/fleet/policies/") {
		t.Fatalf("created: Location %q", r.location)
	}
	ps, err := e.st.FleetPolicies(ctx, all)
	if err != nil || len(ps) != 2 {
		t.Fatalf("policies after create = %d, %v", len(ps), err)
	}
	var aPol store.FleetPolicy
	for _, p := range ps {
		if p.ID != bPol.ID {
			aPol = p
		}
	}
	if aPol.Name != "Bank lock" || aPol.ClientID != e.clientA.ID || aPol.TeamID != e.teamA.ID || aPol.OS != "linux" || strings.Contains(aPol.Source, "\r") {
		t.Errorf("stored policy = %+v", aPol)
	}
	entries, err := e.st.AuditEntries(ctx, audit.Filter{AllClients: true, Action: "fleet.policy_create"})
	if err != nil || len(entries) != 2 || entries[0].Actor == "" {
		t.Errorf("policy_create audit entries = %+v, %v", entries, err)
	}

	// A device of client A reports a failure of lock1.
	seedFleetResult(t, e, "custom_screen", "lock1", "failed")

	r = sec.get(r.location)
	wantStatus(t, "GET policy page", r, http.StatusOK)
	if !r.doc.hasText("p.flash", "assigned") {
		t.Error("no notice after creating")
	}
	if !r.doc.hasText("td", "Screen locks after 5 minutes") || !r.doc.hasText("td", "pci_dss: 8.2.8") || !r.doc.hasText("td", "Lock file present") {
		t.Errorf("checks missing:\n%s", truncateForLog(r.body))
	}
	if r.doc.find(`a[href="/fleet/check?policy=custom_screen&check_id=lock1&result=failed"]`) == nil {
		t.Errorf("no link to lock1's failures:\n%s", truncateForLog(r.body))
	}
	if !r.doc.hasText("td", "No device has reported it yet") {
		t.Error("lock2 (never reported) not marked")
	}
	if strings.Contains(r.body, "<script>alert(1)") || !r.doc.hasText("pre code", "<script>alert(1)</script>") {
		t.Error("the source is not shown escaped")
	}
	if !r.doc.hasText("dd", "Bank team 1") {
		t.Error("the assignment's team is not shown")
	}

	// List: A's user sees A's policy only.
	r = sec.get("/fleet/policies")
	wantStatus(t, "GET /fleet/policies", r, http.StatusOK)
	if !r.doc.hasText("td", "Bank lock") || r.doc.hasText("td", "Telco lock") {
		t.Errorf("list for client A:\n%s", truncateForLog(r.body))
	}
	if !r.doc.hasText("td", "2") || r.doc.find(`a[href="/fleet/policies/new"]`) == nil {
		t.Error("list lacks the check count or the new link")
	}
	root := e.browser()
	root.signIn("root")
	if r := root.get("/fleet/policies"); !r.doc.hasText("td", "Bank lock") || !r.doc.hasText("td", "Telco lock") {
		t.Error("an all-clients admin does not see both policies")
	}
	aud := e.browser()
	aud.signIn("aud")
	r = aud.get("/fleet/policies/" + itoa64(aPol.ID))
	wantStatus(t, "auditor GET policy", r, http.StatusOK)
	if r.doc.find(`form[action="/fleet/policies/`+itoa64(aPol.ID)+`/delete"]`) != nil {
		t.Error("an auditor is offered the delete button")
	}
	if r := aud.get("/fleet/policies/new"); r.status != http.StatusForbidden {
		t.Errorf("auditor GET new = %d, want 403", r.status)
	}
	sup := e.browser()
	sup.signIn("sup")
	if r := sup.get("/fleet/policies"); r.status != http.StatusForbidden {
		t.Errorf("supervisor GET list = %d, want 403 (as the API)", r.status)
	}

	// Broken YAML: errors by line, the text kept, nothing stored.
	sec.get("/fleet/policies/new")
	r = sec.post("/fleet/policies", url.Values{"client_id": {itoa64(e.clientA.ID)}, "source": {brokenPolicy}})
	wantStatus(t, "POST broken policy", r, http.StatusUnprocessableEntity)
	if !r.doc.hasText("#f-source-error li", "line 9") || !r.doc.hasText("#f-source-error li", "bad1") {
		t.Errorf("lint problem not shown with its line:\n%s", truncateForLog(r.body))
	}
	if got := text(r.doc.mustFind(t, "textarea#f-source")); !strings.Contains(got, "condition: sometimes") {
		t.Errorf("the typed text was not kept: %q", got)
	}
	r = sec.post("/fleet/policies", url.Values{"client_id": {itoa64(e.clientA.ID)}, "source": {"policy:\n  id: x\nchecks: [\n"}})
	wantStatus(t, "POST unparsable policy", r, http.StatusUnprocessableEntity)
	if !r.doc.hasText("#f-source-error li", "line ") {
		t.Errorf("parse error without a line:\n%s", truncateForLog(r.body))
	}
	// Another client, or another client's team: refused next to the field.
	r = sec.post("/fleet/policies", url.Values{"client_id": {itoa64(e.clientB.ID)}, "source": {testPolicy}})
	wantStatus(t, "POST for client B", r, http.StatusUnprocessableEntity)
	if !r.doc.hasText("#f-client_id-error", "Unknown client") {
		t.Errorf("client B accepted or error misplaced:\n%s", truncateForLog(r.body))
	}
	r = sec.post("/fleet/policies", url.Values{"client_id": {itoa64(e.clientA.ID)}, "team_id": {itoa64(e.teamB.ID)}, "source": {testPolicy}})
	wantStatus(t, "POST with team B", r, http.StatusUnprocessableEntity)
	if !r.doc.hasText("#f-team_id-error", "Unknown team") {
		t.Errorf("team B accepted or error misplaced:\n%s", truncateForLog(r.body))
	}
	// The file upload replaces the text area.
	r = sec.upload("/fleet/policies", "file", "broken.yml", brokenPolicy, url.Values{"client_id": {itoa64(e.clientA.ID)}, "source": {testPolicy}})
	wantStatus(t, "upload broken policy", r, http.StatusUnprocessableEntity)
	if ps, _ := e.st.FleetPolicies(ctx, all); len(ps) != 2 {
		t.Fatalf("refused policies were stored: %d policies", len(ps))
	}
	sec.get("/fleet/policies/new")
	r = sec.upload("/fleet/policies", "file", "lock.yml", strings.Replace(testPolicy, "custom_screen", "uploaded", 1), url.Values{"client_id": {itoa64(e.clientA.ID)}})
	wantStatus(t, "upload policy", r, http.StatusSeeOther)
	upID, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(r.location, "/fleet/policies/"), "?ok=policy_created"), 10, 64)
	if up, err := e.st.FleetPolicy(ctx, all, upID); err != nil || up.Name != "uploaded" {
		t.Errorf("uploaded policy = %+v, %v (named after its id)", up, err)
	}

	// Out of scope: B's policy is a 404 to read and to delete.
	if r := sec.get("/fleet/policies/" + itoa64(bPol.ID)); r.status != http.StatusNotFound {
		t.Errorf("GET B's policy as A's user = %d, want 404", r.status)
	}
	sec.get("/fleet/policies")
	if r := sec.post("/fleet/policies/"+itoa64(bPol.ID)+"/delete", nil); r.status != http.StatusNotFound {
		t.Errorf("delete B's policy as A's user = %d, want 404", r.status)
	}
	if _, err := e.st.FleetPolicy(ctx, all, bPol.ID); err != nil {
		t.Fatalf("B's policy after A's user tried to delete it: %v", err)
	}

	// Delete: confirmation form with CSRF; the policy goes, audited.
	r = sec.get("/fleet/policies/" + itoa64(aPol.ID))
	del := r.doc.mustFind(t, `form[action="/fleet/policies/`+itoa64(aPol.ID)+`/delete"]`)
	if c, _ := attr(del, "data-confirm"); c == "" {
		t.Error("the delete form asks no confirmation")
	}
	if r := sec.post("/fleet/policies/"+itoa64(aPol.ID)+"/delete", url.Values{"csrf_token": {"-"}}); r.status != http.StatusForbidden {
		t.Errorf("delete without the CSRF token = %d, want 403", r.status)
	}
	sec.get("/fleet/policies/" + itoa64(aPol.ID))
	r = sec.post("/fleet/policies/"+itoa64(aPol.ID)+"/delete", nil)
	wantStatus(t, "delete A's policy", r, http.StatusSeeOther)
	if _, err := e.st.FleetPolicy(ctx, all, aPol.ID); err == nil {
		t.Error("the policy is still there")
	}
	if r := sec.get(r.location); !r.doc.hasText("p.flash", "removed") || r.doc.hasText("td", "Bank lock") {
		t.Errorf("list after delete:\n%s", truncateForLog(r.body))
	}
	entries, err = e.st.AuditEntries(ctx, audit.Filter{AllClients: true, Action: "fleet.policy_delete"})
	if err != nil || len(entries) != 1 || entries[0].ObjectID != itoa64(aPol.ID) || entries[0].Actor == "" {
		t.Errorf("policy_delete audit entries = %+v, %v", entries, err)
	}
}

// seedFleetResult enrolls a device in client A, team A, that reports one
// result.
func seedFleetResult(t *testing.T, e *env, policy, check, result string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	err := e.st.InTx(ctx, func(tx *store.Tx) error {
		sec := &store.FleetEnrollSecret{Name: "test", Hint: "ces_test", ClientID: e.clientA.ID, SiteID: e.site.ID, TeamID: e.teamA.ID}
		if err := tx.FleetSecretCreate(ctx, sec, wire.HashSecret("ces_test")); err != nil {
			return err
		}
		dev, _, err := tx.FleetEnroll(ctx, wire.HashSecret("ces_test"), store.FleetDeviceFacts{HardwareID: "hw-1", Hostname: "DESK-1", OS: "linux"}, wire.HashSecret("cred"), now)
		if err != nil {
			return err
		}
		cred := &store.FleetDeviceCred{ID: dev.ID, ClientID: e.clientA.ID, TeamID: e.teamA.ID, Hostname: dev.Hostname, OS: "linux"}
		_, err = tx.FleetApplyResults(ctx, cred, []store.FleetResult{{Policy: policy, CheckID: check, Title: check, Result: result, Evidence: "[]"}}, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
