package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/isms/auditprog"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// ismsrDo makes a request as actor a through the whole application.
func ismsrDo(t *testing.T, w *world, a *actor, method, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	w.ensureSignedIn(t, a)
	var body io.Reader
	if form != nil {
		form.Set(identity.CSRFField, a.csrf)
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(&http.Cookie{Name: "custodia_session", Value: a.cookie})
	if method != http.MethodGet {
		req.Header.Set(identity.CSRFHeader, a.csrf)
	}
	rec := httptest.NewRecorder()
	w.app.Server.ServeHTTP(rec, req)
	return rec
}

func ismsrActor(w *world, name string) *actor {
	for _, a := range w.actors {
		if a.name == name {
			return a
		}
	}
	return nil
}

// TestISMSRiskConsole walks the console: starter content, register with
// heat maps, the cycle refused on the asset form, client segregation, an
// agent reading and acknowledging a policy, and the PDF reports.
func TestISMSRiskConsole(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	admin, sec, agent := ismsrActor(w, "admin (all clients)"), ismsrActor(w, "security"), ismsrActor(w, "agent")

	rec := ismsrDo(t, w, admin, http.MethodPost, "/isms/risks/starter", url.Values{"client_id": {"0"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("load starter = %d: %s", rec.Code, rec.Body)
	}
	rec = ismsrDo(t, w, admin, http.MethodGet, "/isms/risks", nil)
	body := rec.Body.String()
	if rec.Code != 200 || strings.Count(body, "<svg") != 2 || !strings.Contains(body, "Ransomware") || !strings.Contains(body, "PAN captured in call recordings") {
		t.Fatalf("register = %d, %d heat maps:\n%.2000s", rec.Code, strings.Count(body, "<svg"), body)
	}
	// A client-A officer sees A's seeded risk, not the operator's starter
	// content's B-side, and never B's.
	rec = ismsrDo(t, w, sec, http.MethodGet, fmt.Sprintf("/isms/assets/%d", w.ids["ismsr.asset"][1]), nil)
	if rec.Code != http.StatusNotFound {
		t.Errorf("B's asset as A's officer = %d", rec.Code)
	}
	// The asset form refuses a cycle and names it.
	a := w.ids["ismsr.asset"][0]
	rec = ismsrDo(t, w, sec, http.MethodPost, "/isms/assets", url.Values{"code": {"app-a"}, "name": {"App"}, "type": {"SW"},
		"client_id": {fmt.Sprint(w.clientA.ID)}, "depends_on": {fmt.Sprint(a)}, "val_C": {"7"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create asset = %d: %.1500s", rec.Code, rec.Body)
	}
	loc := rec.Header().Get("Location")
	appID := strings.TrimPrefix(strings.Split(loc, "?")[0], "/isms/assets/")
	rec = ismsrDo(t, w, sec, http.MethodPost, fmt.Sprintf("/isms/assets/%d", a), url.Values{"code": {"srv-0"}, "name": {"Server"}, "type": {"HW"},
		"client_id": {fmt.Sprint(w.clientA.ID)}, "depends_on": {appID}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "dependency cycle: app-a → srv-0 → app-a") {
		t.Errorf("cycle = %d: %.5000s", rec.Code, rec.Body)
	}
	// The server now holds the app's confidentiality value.
	rec = ismsrDo(t, w, sec, http.MethodGet, "/isms/assets", nil)
	if !strings.Contains(rec.Body.String(), "C7 D6") {
		t.Errorf("accumulated values not shown:\n%.3000s", rec.Body)
	}

	// An agent reads and acknowledges A's policy.
	rec = ismsrDo(t, w, agent, http.MethodGet, "/policies/mine", nil)
	vid := w.ids["ismsr.version"][0]
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), fmt.Sprintf("/policies/mine/%d", vid)) {
		t.Fatalf("pending policies = %d:\n%.2000s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), fmt.Sprintf("/policies/mine/%d", w.ids["ismsr.version"][1])) {
		t.Error("the agent of A is asked to read B's policy")
	}
	rec = ismsrDo(t, w, agent, http.MethodGet, fmt.Sprintf("/policies/mine/%d", vid), nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<h2>Rules</h2>") {
		t.Errorf("reading = %d:\n%.2000s", rec.Code, rec.Body)
	}
	if rec := ismsrDo(t, w, agent, http.MethodGet, fmt.Sprintf("/policies/mine/%d", w.ids["ismsr.version"][1]), nil); rec.Code != http.StatusNotFound {
		t.Errorf("B's policy for A's agent = %d", rec.Code)
	}
	rec = ismsrDo(t, w, agent, http.MethodPost, fmt.Sprintf("/policies/mine/%d", vid), url.Values{})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("acknowledge = %d", rec.Code)
	}
	rec = ismsrDo(t, w, agent, http.MethodGet, "/policies/mine", nil)
	if strings.Contains(rec.Body.String(), fmt.Sprintf("/policies/mine/%d", vid)) {
		t.Error("the acknowledged policy is still pending")
	}
	rec = ismsrDo(t, w, sec, http.MethodGet, fmt.Sprintf("/isms/policy-versions/%d/acknowledgements.csv?pending=false", vid), nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "agent-a") {
		t.Errorf("acknowledgement CSV = %d:\n%s", rec.Code, rec.Body)
	}

	// Reports.
	for _, p := range []string{"/isms/risks/report.pdf?lang=es", fmt.Sprintf("/isms/audits/%d/report.pdf?lang=en", w.ids["ismsr.audit"][0]),
		"/api/v1/isms/risks/report.pdf?lang=en"} {
		rec = ismsrDo(t, w, sec, http.MethodGet, p, nil)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/pdf" || !strings.HasPrefix(rec.Body.String(), "%PDF-") {
			t.Errorf("%s = %d %s", p, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
	// Inviting an external auditor shows the one-time password once; the
	// new account sees the audit in its portal list.
	aud := w.ids["ismsr.audit"][0]
	rec = ismsrDo(t, w, sec, http.MethodPost, fmt.Sprintf("/isms/audits/%d/auditors", aud), url.Values{"username": {"ext-lead"}, "expires_at": {time.Now().AddDate(0, 0, 30).Format("2006-01-02")}})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `class="secret"`) || !strings.Contains(rec.Body.String(), "ext-lead") {
		t.Errorf("invite = %d:\n%.3000s", rec.Code, rec.Body)
	}
	grants, err := w.st.ISMSAuditGrants(t.Context(), identity.Scope{All: true}, aud)
	if err != nil || len(grants) != 1 || grants[0].Username != "ext-lead" || grants[0].ExpiresAt.Before(time.Now().AddDate(0, 0, 29)) {
		t.Errorf("grants = %+v, %v", grants, err)
	}
	// The portal: an auditor with a grant sees that audit (SoA, checklist,
	// findings) and not the other one; once revoked, nothing.
	auditor := ismsrActor(w, "auditor")
	g := auditprog.Grant{AuditID: aud, UserID: auditor.user.ID, ExpiresAt: time.Now().Add(time.Hour), CreatedBy: "test"}
	if err := w.st.ISMSAuditGrantCreate(t.Context(), identity.Scope{All: true}, &g); err != nil {
		t.Fatal(err)
	}
	rec = ismsrDo(t, w, auditor, http.MethodGet, "/auditor", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), fmt.Sprintf("/auditor/audits/%d", aud)) {
		t.Errorf("portal = %d", rec.Code)
	}
	rec = ismsrDo(t, w, auditor, http.MethodGet, fmt.Sprintf("/auditor/audits/%d", aud), nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "A.5.1") || !strings.Contains(rec.Body.String(), "Gap") {
		t.Errorf("portal audit = %d:\n%.2000s", rec.Code, rec.Body)
	}
	if rec := ismsrDo(t, w, auditor, http.MethodGet, fmt.Sprintf("/auditor/audits/%d", w.ids["ismsr.audit"][1]), nil); rec.Code != http.StatusNotFound {
		t.Errorf("ungranted audit = %d", rec.Code)
	}
	if err := w.st.ISMSAuditGrantRevoke(t.Context(), identity.Scope{All: true}, aud, g.ID); err != nil {
		t.Fatal(err)
	}
	if rec := ismsrDo(t, w, auditor, http.MethodGet, fmt.Sprintf("/api/v1/auditor/audits/%d", aud), nil); rec.Code != http.StatusNotFound {
		t.Errorf("revoked grant (API) = %d", rec.Code)
	}
	rec = ismsrDo(t, w, sec, http.MethodGet, "/api/v1/isms/risks/heatmap.svg?kind=potential", nil)
	if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "<svg") {
		t.Errorf("heat map = %d", rec.Code)
	}
}

// ismsrJSON makes a JSON API request as actor a.
func ismsrJSON(t *testing.T, w *world, a *actor, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	w.ensureSignedIn(t, a)
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(&http.Cookie{Name: "custodia_session", Value: a.cookie})
	req.Header.Set(identity.CSRFHeader, a.csrf)
	rec := httptest.NewRecorder()
	w.app.Server.ServeHTTP(rec, req)
	return rec
}

// TestISMSRiskAPI: bad input answers 422 naming the field, a risk's owner
// signs off through the API and a change invalidates the sign-off, a
// policy goes from draft to published, an audit's checklist follows its
// scope.
func TestISMSRiskAPI(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	admin := ismsrActor(w, "admin (all clients)")
	rec := ismsrJSON(t, w, admin, http.MethodPost, "/api/v1/isms/assets", `{"code":"x","name":"X","type":"ZZ"}`)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), `"type"`) {
		t.Errorf("bad type = %d %s", rec.Code, rec.Body)
	}
	rec = ismsrJSON(t, w, admin, http.MethodPost, "/api/v1/isms/assets", fmt.Sprintf(`{"code":"y","name":"Y","type":"SW","client_id":%d,"depends_on":[%d, 99999]}`, w.clientA.ID, w.ids["ismsr.asset"][0]))
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "99999") {
		t.Errorf("unknown dependency = %d %s", rec.Code, rec.Body)
	}
	rid := w.ids["ismsr.risk"][0]
	rec = ismsrJSON(t, w, admin, http.MethodPatch, fmt.Sprintf("/api/v1/isms/risks/%d", rid),
		fmt.Sprintf(`{"owner_user_id":%d,"treatment":"accept","justification":"low impact"}`, admin.user.ID))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"treatment":"accept"`) {
		t.Fatalf("update risk = %d %s", rec.Code, rec.Body)
	}
	rec = ismsrJSON(t, w, admin, http.MethodPost, fmt.Sprintf("/api/v1/isms/risks/%d/sign-off", rid), `{"note":"ok"}`)
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"valid":true`) {
		t.Fatalf("sign-off = %d %s", rec.Code, rec.Body)
	}
	ismsrJSON(t, w, admin, http.MethodPatch, fmt.Sprintf("/api/v1/isms/risks/%d", rid), `{"frequency":50}`)
	rec = ismsrJSON(t, w, admin, http.MethodGet, fmt.Sprintf("/api/v1/isms/risks/%d", rid), "")
	if !strings.Contains(rec.Body.String(), `"valid":false`) || !strings.Contains(rec.Body.String(), `"level":"`) {
		t.Errorf("after a change: %s", rec.Body)
	}
	rec = ismsrJSON(t, w, admin, http.MethodPost, "/api/v1/isms/audits", `{"title":"PCI","kind":"external","framework":"pci-dss-4.0.1","requirements":["3.3","12.99"]}`)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "12.99") {
		t.Errorf("unknown requirement = %d %s", rec.Code, rec.Body)
	}
	rec = ismsrJSON(t, w, admin, http.MethodPost, "/api/v1/isms/audits", `{"title":"PCI","kind":"external","framework":"pci-dss-4.0.1","requirements":["3.3","3.4"]}`)
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"checklist_items":2`) {
		t.Errorf("audit = %d %s", rec.Code, rec.Body)
	}
	rec = ismsrJSON(t, w, admin, http.MethodPost, "/api/v1/isms/policies", `{"code":"byod","title":"BYOD"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("policy = %d %s", rec.Code, rec.Body)
	}
	var pid int64
	fmt.Sscanf(rec.Body.String()[strings.Index(rec.Body.String(), `"id":`)+5:], "%d", &pid)
	rec = ismsrJSON(t, w, admin, http.MethodPost, fmt.Sprintf("/api/v1/isms/policies/%d/versions", pid),
		fmt.Sprintf(`{"body":"No personal phones on the floor.","target":{"roles":["agent"]},"approvers":[%d]}`, admin.user.ID))
	if rec.Code != http.StatusCreated {
		t.Fatalf("version = %d %s", rec.Code, rec.Body)
	}
	p, err := w.st.ISMSPolicy(t.Context(), identity.Scope{All: true}, pid)
	if err != nil || len(p.Versions) != 1 {
		t.Fatalf("policy = %+v, %v", p, err)
	}
	vid := p.Versions[0].ID
	if rec := ismsrJSON(t, w, admin, http.MethodPost, fmt.Sprintf("/api/v1/isms/policy-versions/%d/publish", vid), ""); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("publish before approval = %d", rec.Code)
	}
	ismsrJSON(t, w, admin, http.MethodPost, fmt.Sprintf("/api/v1/isms/policy-versions/%d/approve", vid), `{}`)
	if rec := ismsrJSON(t, w, admin, http.MethodPost, fmt.Sprintf("/api/v1/isms/policy-versions/%d/publish", vid), ""); rec.Code != 200 {
		t.Errorf("publish = %d %s", rec.Code, rec.Body)
	}
	agent := ismsrActor(w, "agent")
	rec = ismsrJSON(t, w, agent, http.MethodGet, "/api/v1/me/policies", "")
	if !strings.Contains(rec.Body.String(), `"code":"byod"`) {
		t.Errorf("agent's pending policies: %s", rec.Body)
	}
	rec = ismsrJSON(t, w, admin, http.MethodGet, fmt.Sprintf("/api/v1/isms/policy-versions/%d/acknowledgements?pending=true", vid), "")
	if !strings.Contains(rec.Body.String(), `"username":"agent-a"`) {
		t.Errorf("pending list: %s", rec.Body)
	}
}

// TestISMSRiskDemo: --demo loads the starter register and an audit once,
// and the policy is published once an administrator exists (the second
// start).
func TestISMSRiskDemo(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	keys, _ := secret.New(secret.Generate())
	cfg := config.Defaults()
	cfg.Demo, cfg.DataDir = true, t.TempDir()
	all := identity.Scope{All: true}
	for i := 0; i < 2; i++ {
		if _, err := New(ctx, Options{Config: cfg, Store: st, Keys: keys, Logger: slog.New(slog.DiscardHandler),
			Auth: auth.Config{Password: identity.PasswordParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}}); err != nil {
			t.Fatal(err)
		}
	}
	risks, err := st.RiskList(ctx, all, store.RiskFilter{})
	if err != nil || len(risks) < 6 {
		t.Fatalf("demo risks = %d, %v", len(risks), err)
	}
	audits, err := st.ISMSAudits(ctx, all)
	if err != nil || len(audits) != 1 || audits[0].Checklist != 37 {
		t.Fatalf("demo audits = %+v, %v", audits, err)
	}
	pols, err := st.ISMSPolicies(ctx, all)
	if err != nil || len(pols) != 1 || pols[0].Current == nil {
		t.Fatalf("demo policies = %+v, %v", pols, err)
	}
}
