package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/isms/compliance/office"
	"github.com/custodia/custodia/internal/report"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store/storetest"
)

func newISMSFixture(t *testing.T) *fixture {
	t.Helper()
	st := storetest.SQLite(t)
	f := newFixture(t, st)
	keys, err := secret.New(secret.Generate())
	must(t, err)
	off, err := office.New(context.Background(), st, keys, nil)
	must(t, err)
	f.api = New(Deps{Store: st, Identity: f.svc, Tokens: f.svc, Credentials: f.svc, ISMS: ISMSDeps{Office: off}})
	f.router = authz.NewRouter(authz.Options{})
	f.api.Register(f.router)
	f.h = f.router
	return f
}

// ismsUser creates a security officer limited to one client.
func (f *fixture) ismsUser(t *testing.T, name string, client int64) *identity.Principal {
	t.Helper()
	u, _, err := f.svc.CreateUser(context.Background(), nil, auth.NewUser{User: identity.User{Username: name, Role: identity.RoleSecurity, ClientIDs: []int64{client}},
		Password: "correct horse battery staple 42"})
	must(t, err)
	return u.Principal()
}

// ismsCall serves one JSON request and returns the status, the raw body
// and the headers.
func (f *fixture) ismsCall(t *testing.T, p *identity.Principal, method, target string, body any) (int, []byte, http.Header) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		must(t, err)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, target, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req = req.WithContext(identity.WithPrincipal(req.Context(), p))
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes(), w.Header()
}

func TestISMSImportBadInput(t *testing.T) {
	f := newISMSFixture(t)
	admin := f.admin()
	code, body, _ := f.ismsCall(t, admin, "POST", "/api/v1/isms/frameworks", map[string]string{
		"key": "acme", "format": "oscal", "document": "{\"catalog\": {\n  \"uuid\": 7}}"})
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"field":"document"`) || !strings.Contains(string(body), "line 2") {
		t.Fatalf("malformed OSCAL = %d %s, want 422 naming line 2", code, body)
	}
	doc := `{"catalog": {"uuid": "u", "metadata": {"title": "ACME"}, "controls": [{"id": "r1", "title": "One"}]}}`
	code, body, _ = f.ismsCall(t, admin, "POST", "/api/v1/isms/frameworks", map[string]string{
		"key": "acme", "format": "oscal", "document": doc, "mappings": "mappings:\n  - {from: \"acme:r9\", to: \"iso27001-2022:A.5.1\", rel: equal}\n"})
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "acme:r9") {
		t.Fatalf("mapping to an unknown requirement = %d %s, want 422 naming it", code, body)
	}
	code, body, _ = f.ismsCall(t, admin, "GET", "/api/v1/isms/frameworks", nil)
	if code != http.StatusOK || strings.Contains(string(body), "acme") {
		t.Fatalf("refused imports left a trace: %d %s", code, body)
	}
	code, body, _ = f.ismsCall(t, admin, "POST", "/api/v1/isms/frameworks", map[string]string{
		"key": "acme", "format": "oscal", "document": doc, "mappings": "mappings:\n  - {from: \"acme:r1\", to: \"iso27001-2022:A.5.1\", rel: equal}\n"})
	if code != http.StatusCreated {
		t.Fatalf("valid import = %d %s", code, body)
	}
	code, body, _ = f.ismsCall(t, admin, "POST", "/api/v1/isms/controls", map[string]any{"code": "POL", "title": "Policy", "requirements": []string{"acme:r1"}})
	if code != http.StatusCreated {
		t.Fatalf("create control = %d %s", code, body)
	}
	code, body, _ = f.ismsCall(t, admin, "DELETE", "/api/v1/isms/frameworks/acme/requirements/r1", nil)
	if code != http.StatusConflict || !strings.Contains(string(body), "POL") {
		t.Fatalf("delete referenced requirement = %d %s, want 409 naming POL", code, body)
	}
	code, body, _ = f.ismsCall(t, admin, "DELETE", "/api/v1/isms/frameworks/acme", nil)
	if code != http.StatusConflict {
		t.Fatalf("delete referenced framework = %d %s, want 409", code, body)
	}
}

func TestISMSControlsEvidenceAndScope(t *testing.T) {
	f := newISMSFixture(t)
	secA := f.ismsUser(t, "sec-a", f.clientA.ID)
	secB := f.ismsUser(t, "sec-b", f.clientB.ID)
	code, body, _ := f.ismsCall(t, secA, "POST", "/api/v1/isms/controls", map[string]any{"code": "OW", "title": "Operator-wide"})
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "client_id") {
		t.Fatalf("scoped user creating an operator-wide control = %d %s, want 422 on client_id", code, body)
	}
	code, body, _ = f.ismsCall(t, secA, "POST", "/api/v1/isms/controls", map[string]any{"code": "BANK-MFA", "title": "MFA", "status": "implemented",
		"client_id": f.clientA.ID, "requirements": []string{"iso27001-2022:A.8.5", "nope:x"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "unknown catalogue nope") {
		t.Fatalf("unknown requirement = %d %s", code, body)
	}
	code, body, _ = f.ismsCall(t, secA, "POST", "/api/v1/isms/controls", map[string]any{"code": "BANK-MFA", "title": "MFA", "status": "implemented",
		"client_id": f.clientA.ID, "requirements": []string{"iso27001-2022:A.8.5"}})
	if code != http.StatusCreated {
		t.Fatalf("create = %d %s", code, body)
	}
	var ctl struct {
		ID     int64  `json:"id"`
		Health string `json:"health"`
	}
	must(t, json.Unmarshal(body, &ctl))
	if ctl.Health != "amber" {
		t.Fatalf("implemented without evidence: health %q, want amber", ctl.Health)
	}
	target := "/api/v1/isms/controls/" + ismsID(ctl.ID)
	if code, _, _ := f.ismsCall(t, secB, "GET", target, nil); code != http.StatusNotFound {
		t.Fatalf("client B reads client A's control: %d", code)
	}
	content := []byte("MFA report\n")
	code, body, _ = f.ismsCall(t, secA, "POST", "/api/v1/isms/evidence", map[string]any{"kind": "file", "title": "MFA report", "control_id": ctl.ID,
		"file_name": "mfa.txt", "content_base64": base64.StdEncoding.EncodeToString(content), "collected_at": "2026-01-01", "fresh_days": 3650})
	if code != http.StatusCreated {
		t.Fatalf("add evidence = %d %s", code, body)
	}
	var ev struct {
		ID     int64  `json:"id"`
		SHA256 string `json:"sha256"`
	}
	must(t, json.Unmarshal(body, &ev))
	code, body, hdr := f.ismsCall(t, secA, "GET", "/api/v1/isms/evidence/"+ismsID(ev.ID)+"/file", nil)
	if code != http.StatusOK || !bytes.Equal(body, content) || hdr.Get("X-Content-SHA256") != ev.SHA256 {
		t.Fatalf("download = %d %q sha %q", code, body, hdr.Get("X-Content-SHA256"))
	}
	if code, _, _ := f.ismsCall(t, secB, "GET", "/api/v1/isms/evidence/"+ismsID(ev.ID)+"/file", nil); code != http.StatusNotFound {
		t.Fatalf("client B downloads client A's evidence: %d", code)
	}
	code, body, _ = f.ismsCall(t, secA, "GET", target, nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"health":"green"`) {
		t.Fatalf("with fresh evidence = %d %s, want green", code, body)
	}
	code, body, _ = f.ismsCall(t, secA, "DELETE", target, nil)
	if code != http.StatusConflict || !strings.Contains(string(body), "MFA report") {
		t.Fatalf("delete control with evidence = %d %s, want 409 naming the evidence", code, body)
	}
	code, body, hdr = f.ismsCall(t, f.admin(), "GET", "/api/v1/isms/frameworks/iso27001-2022/soa.xlsx?lang=es", nil)
	if code != http.StatusOK || !strings.Contains(hdr.Get("Content-Type"), "spreadsheetml") || !bytes.HasPrefix(body, []byte("PK")) {
		t.Fatalf("SoA XLSX = %d %s", code, hdr.Get("Content-Type"))
	}
	code, body, _ = f.ismsCall(t, f.admin(), "GET", "/api/v1/isms/frameworks/iso27001-2022/soa.oscal-results.json", nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"assessment-results"`) || !strings.Contains(string(body), "BANK-MFA") {
		t.Fatalf("OSCAL assessment results = %d %.300s", code, body)
	}
	code, body, _ = f.ismsCall(t, f.admin(), "GET", "/api/v1/isms/frameworks/iso27001-2022/soa.oscal-profile.json", nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"include-controls"`) {
		t.Fatalf("OSCAL profile = %d %.300s", code, body)
	}
	code, body, _ = f.ismsCall(t, f.admin(), "GET", "/api/v1/isms/dashboard", nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"scores"`) {
		t.Fatalf("dashboard = %d %s", code, body)
	}
}

func TestISMSENSSignAndPDF(t *testing.T) {
	f := newISMSFixture(t)
	admin := f.admin()
	code, body, _ := f.ismsCall(t, admin, "POST", "/api/v1/isms/ens/systems", map[string]any{"name": "CRM", "client_id": f.clientA.ID,
		"valuation": map[string]string{"C": "ALTO", "I": "MEDIO", "T": "BAJO", "A": "MEDIO", "D": "n.a."}})
	if code != http.StatusCreated || !strings.Contains(string(body), `"category":"ALTA"`) {
		t.Fatalf("create system = %d %s", code, body)
	}
	var sys struct {
		ID int64 `json:"id"`
	}
	must(t, json.Unmarshal(body, &sys))
	base := "/api/v1/isms/ens/systems/" + ismsID(sys.ID)
	if code, body, _ := f.ismsCall(t, admin, "POST", "/api/v1/isms/ens/systems", map[string]any{"name": "X", "valuation": map[string]string{"C": "ENORME"}}); code != http.StatusUnprocessableEntity {
		t.Fatalf("bad level = %d %s", code, body)
	}
	if code, body, _ := f.ismsCall(t, admin, "PATCH", base+"/measures/op.acc.6", map[string]any{"status": "implemented"}); code != http.StatusOK {
		t.Fatalf("set measure = %d %s", code, body)
	}
	if code, body, _ := f.ismsCall(t, admin, "PATCH", base+"/measures/mp.if.7", map[string]any{"override": "excluded"}); code != http.StatusUnprocessableEntity {
		t.Fatalf("override without justification = %d %s", code, body)
	}
	if code, body, _ := f.ismsCall(t, admin, "POST", base+"/sign", map[string]any{"confirm": "crm"}); code != http.StatusUnprocessableEntity {
		t.Fatalf("sign without the exact name = %d %s", code, body)
	}
	code, body, _ = f.ismsCall(t, admin, "POST", base+"/sign", map[string]any{"confirm": "CRM"})
	if code != http.StatusCreated || !strings.Contains(string(body), `"version":1`) {
		t.Fatalf("sign = %d %s", code, body)
	}
	code, body, hdr := f.ismsCall(t, admin, "GET", base+"/declaration.pdf?version=1&lang=en", nil)
	if code != http.StatusOK || hdr.Get("Content-Type") != "application/pdf" {
		t.Fatalf("PDF = %d %s", code, hdr.Get("Content-Type"))
	}
	txt := report.PDFText(body)
	for _, want := range []string{"Statement of Applicability (ENS", "op.acc.6", "implemented", "Signed v1"} {
		if !strings.Contains(txt, want) {
			t.Errorf("signed PDF lacks %q", want)
		}
	}
	scoped := f.ismsUser(t, "sec-b", f.clientB.ID)
	if code, _, _ := f.ismsCall(t, scoped, "GET", base+"/declaration.pdf", nil); code != http.StatusNotFound {
		t.Fatalf("client B reads client A's declaration: %d", code)
	}
}

func ismsID(n int64) string { return strconv.FormatInt(n, 10) }
