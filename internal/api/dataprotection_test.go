package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/dataprotection/discovery"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

const dpPAN = "4111 1111 1111 1111"

// dpFixture is the API fixture with the data-protection module.
func dpFixture(t *testing.T, st *store.Store, root string) (*fixture, *discovery.Service) {
	t.Helper()
	f := newFixture(t, st)
	keys, err := secret.New(secret.Generate())
	must(t, err)
	cfg := config.DataProtectionConfig{AllowedRoots: root, Interval: time.Hour, Tick: time.Hour, MaxFileBytes: 1 << 20, MaxFiles: 100,
		APIMaxBytes: 64 << 10, APIMaxItems: 10}
	svc, err := discovery.New(context.Background(), st, keys, cfg, nil)
	must(t, err)
	f.api = New(Deps{Store: st, Identity: f.svc, Tokens: f.svc, Credentials: f.svc, DataProtection: DataProtectionDeps{Service: svc}})
	f.router = authz.NewRouter(authz.Options{})
	f.api.Register(f.router)
	f.h = f.router
	return f, svc
}

func TestDataProtectionScanRedact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f, _ := dpFixture(t, st, t.TempDir())
		ctx := context.Background()
		note := "Cliente Ana, tarjeta " + dpPAN + ", DNI 12345678Z"
		body := `{"text":` + jsonString(note) + `,"lang":"es"}`

		// Roles: admin, security and DPO may call; auditors, supervisors and agents may not.
		for _, c := range []struct {
			role identity.Role
			want int
		}{{identity.RoleAdmin, 200}, {identity.RoleSecurity, 200}, {identity.RoleDPO, 200},
			{identity.RoleAuditor, 403}, {identity.RoleSupervisor, 403}, {identity.RoleAgent, 403}} {
			p := &identity.Principal{UserID: 9, Username: "u-" + string(c.role), Role: c.role, ClientIDs: []int64{f.clientA.ID}}
			if code, b, _ := f.call(t, p, "POST", "/api/v1/dataprotection/scan", body); code != c.want {
				t.Errorf("scan as %s = %d %v, want %d", c.role, code, b, c.want)
			}
		}
		if code, _, _ := f.call(t, nil, "POST", "/api/v1/dataprotection/scan", body); code != 401 {
			t.Errorf("anonymous scan = %d, want 401", code)
		}

		code, res, _ := f.call(t, f.admin(), "POST", "/api/v1/dataprotection/scan", body)
		if code != 200 {
			t.Fatalf("scan = %d %v", code, res)
		}
		raw, _ := json.Marshal(res)
		if strings.Contains(string(raw), "1111 1111 1111") || strings.Contains(string(raw), "12345678Z") {
			t.Fatalf("the scan answer holds a full value: %s", raw)
		}
		counts := res["counts"].(map[string]any)
		if counts["CREDIT_CARD"].(float64) != 1 || counts["ES_NIF"].(float64) != 1 {
			t.Fatalf("counts = %v", counts)
		}
		var fd map[string]any
		for _, x := range res["findings"].([]any) {
			if x.(map[string]any)["entity"] == "CREDIT_CARD" {
				fd = x.(map[string]any)
			}
		}
		start, end := int(fd["start"].(float64)), int(fd["end"].(float64))
		if note[start:end] != dpPAN || fd["validator"] == "" || fd["masked"] != "4111 11** **** 1111" || fd["item"].(float64) != 0 {
			t.Errorf("finding = %v", fd)
		}

		code, res, _ = f.call(t, f.admin(), "POST", "/api/v1/dataprotection/redact",
			`{"texts":[`+jsonString(note)+`,"nada"],"operator":"token","entities":["CREDIT_CARD"]}`)
		if code != 200 {
			t.Fatalf("redact = %d %v", code, res)
		}
		red := res["redacted"].([]any)
		if len(red) != 2 || strings.Contains(red[0].(string), dpPAN) || !strings.Contains(red[0].(string), "TOK_CREDIT_CARD_") ||
			!strings.Contains(red[0].(string), "12345678Z") || red[1] != "nada" {
			t.Errorf("redacted = %v (only the card, as asked)", red)
		}

		// Every call is audited with counts, never values.
		entries, err := st.AuditEntries(ctx, audit.Filter{AllClients: true, Action: "dataprotection.*"})
		must(t, err)
		var scans, redacts int
		for _, e := range entries {
			// Hashes and digests are hex and may hold any digit run by chance.
			e.Hash, e.PrevHash, e.BeforeDigest, e.AfterDigest = "", "", "", ""
			b, _ := json.Marshal(e)
			if strings.Contains(string(b), "4111") || strings.Contains(string(b), "12345678") {
				t.Fatalf("audit entry holds a value: %s", b)
			}
			switch e.Action {
			case "dataprotection.scan_text":
				scans++
				if !strings.Contains(e.Detail, "CREDIT_CARD=1") || !strings.Contains(e.Detail, "ES_NIF=1") {
					t.Errorf("scan audit detail = %q", e.Detail)
				}
			case "dataprotection.redact_text":
				redacts++
				if !strings.Contains(e.Detail, "operator token") || !strings.Contains(e.Detail, "2 texts") {
					t.Errorf("redact audit detail = %q", e.Detail)
				}
			}
		}
		if scans != 4 || redacts != 1 {
			t.Errorf("audited %d scans and %d redactions, want 4 and 1", scans, redacts)
		}

		// Bad input: clear problems, nothing audited for them.
		for _, c := range []struct {
			path, body string
			want       int
			field      string
		}{
			{"scan", `{}`, 422, "text"},
			{"scan", `{"text":"a","texts":["b"]}`, 422, "texts"},
			{"scan", `{"text":"a","lang":"fr"}`, 422, "lang"},
			{"scan", `{"text":"a","entities":["SECRET_SAUCE"]}`, 422, "entities"},
			{"scan", `{"text":"a","format":"pdf"}`, 422, "format"},
			{"scan", `{"text":"a","operator":"hash"}`, 422, "operator"},
			{"redact", `{"text":"a","operator":"rot13"}`, 422, "operator"},
			{"scan", `{"text":"a","min_score":3}`, 422, "min_score"},
			{"scan", `{"texts":["1","2","3","4","5","6","7","8","9","10","11"]}`, 422, "texts"},
			{"scan", `{"text":`, 400, ""},
			{"scan", `{"text":` + jsonString(strings.Repeat("a", 65<<10)) + `}`, 413, ""},
			{"scan", `{"text":` + jsonString(strings.Repeat("a", 200<<10)) + `}`, 413, ""},
		} {
			code, b, hdr := f.call(t, f.admin(), "POST", "/api/v1/dataprotection/"+c.path, c.body)
			if code != c.want || hdr.Get("Content-Type") != "application/problem+json" || (c.field != "" && !hasField(b, c.field)) {
				t.Errorf("%s %.60s = %d %v, want %d on %q", c.path, c.body, code, b, c.want, c.field)
			}
		}
		after, _ := st.AuditEntries(ctx, audit.Filter{AllClients: true, Action: "dataprotection.*"})
		if len(after) != len(entries) {
			t.Errorf("refused requests were audited: %d entries, want %d", len(after), len(entries))
		}
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestDataProtectionLocationsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		root := t.TempDir()
		dirA := filepath.Join(root, "a")
		must(t, os.MkdirAll(dirA, 0o755))
		must(t, os.WriteFile(filepath.Join(dirA, "notes.txt"), []byte("tarjeta "+dpPAN+"\n"), 0o644))
		f, svc := dpFixture(t, st, root)
		sec := f.scopedSecurity() // client A only
		otherSec := &identity.Principal{UserID: 4, Username: "secb", Role: identity.RoleSecurity, ClientIDs: []int64{f.clientB.ID}}
		auditor := &identity.Principal{UserID: 5, Username: "aud", Role: identity.RoleAuditor, ClientIDs: []int64{f.clientA.ID}}

		code, loc, _ := f.call(t, sec, "POST", "/api/v1/dataprotection/locations",
			`{"name":"A share","path":`+jsonString(dirA)+`,"client_id":`+itoa64(f.clientA.ID)+`,"interval_minutes":60}`)
		if code != 201 || loc["cde"] != false || loc["managed_by"] != "console" {
			t.Fatalf("create location = %d %v", code, loc)
		}
		id := itoa64(int64(loc["id"].(float64)))
		if code, b, _ := f.call(t, sec, "POST", "/api/v1/dataprotection/locations", `{"name":"etc","path":"/etc","client_id":`+itoa64(f.clientA.ID)+`}`); code != 422 || !hasField(b, "path") {
			t.Errorf("location outside the allowed roots = %d %v", code, b)
		}
		if code, b, _ := f.call(t, auditor, "POST", "/api/v1/dataprotection/locations", `{"name":"x","path":`+jsonString(dirA)+`}`); code != 403 {
			t.Errorf("auditor creates a location = %d %v", code, b)
		}
		if code, _, _ := f.call(t, otherSec, "GET", "/api/v1/dataprotection/locations/"+id, ""); code != 404 {
			t.Errorf("out-of-scope location = %d, want 404", code)
		}
		if code, _, _ := f.call(t, otherSec, "POST", "/api/v1/dataprotection/locations/"+id+"/scan", ""); code != 404 {
			t.Errorf("out-of-scope scan now = %d, want 404", code)
		}
		if code, b, _ := f.call(t, otherSec, "GET", "/api/v1/dataprotection/locations", ""); code != 200 || len(b["items"].([]any)) != 0 {
			t.Errorf("other client's list = %d %v", code, b)
		}

		if code, b, _ := f.call(t, sec, "POST", "/api/v1/dataprotection/locations/"+id+"/scan", ""); code != 202 || b["scan_now"] != true {
			t.Fatalf("scan now = %d %v", code, b)
		}
		svc.RunDue(context.Background())

		code, b, _ := f.call(t, auditor, "GET", "/api/v1/dataprotection/locations/"+id, "")
		if code != 200 || b["latest_run"] == nil {
			t.Fatalf("location after the run = %d %v", code, b)
		}
		run := b["latest_run"].(map[string]any)
		if run["counts"].(map[string]any)["CREDIT_CARD"].(float64) != 1 || run["files_with_findings"].(float64) != 1 {
			t.Errorf("latest run = %v", run)
		}
		runID := itoa64(int64(run["id"].(float64)))
		code, b, _ = f.call(t, auditor, "GET", "/api/v1/dataprotection/runs/"+runID+"/files", "")
		if code != 200 || len(b["items"].([]any)) != 1 || b["items"].([]any)[0].(map[string]any)["path"] != "notes.txt" {
			t.Errorf("run files = %d %v", code, b)
		}
		if code, _, _ := f.call(t, otherSec, "GET", "/api/v1/dataprotection/runs/"+runID+"/files", ""); code != 404 {
			t.Errorf("out-of-scope run files = %d, want 404", code)
		}
		if code, b, _ := f.call(t, auditor, "GET", "/api/v1/dataprotection/runs?location_id="+id, ""); code != 200 || len(b["items"].([]any)) != 1 {
			t.Errorf("runs = %d %v", code, b)
		}

		code, b, _ = f.call(t, sec, "PATCH", "/api/v1/dataprotection/locations/"+id,
			`{"name":"A share","path":`+jsonString(dirA)+`,"client_id":`+itoa64(f.clientA.ID)+`,"cde":true}`)
		if code != 200 || b["cde"] != true {
			t.Errorf("declare CDE = %d %v", code, b)
		}
		if code, _, _ := f.call(t, otherSec, "DELETE", "/api/v1/dataprotection/locations/"+id, ""); code != 404 {
			t.Errorf("out-of-scope delete = %d", code)
		}
		if code, _, _ := f.call(t, sec, "DELETE", "/api/v1/dataprotection/locations/"+id, ""); code != 204 {
			t.Errorf("delete = %d", code)
		}
	})
}

// BenchmarkDataProtectionAPIScan measures the scan endpoint end to end in
// process (router, JSON, engine, audit write) on a 1 KB note.
func BenchmarkDataProtectionAPIScan(b *testing.B) {
	st := storetest.SQLite(b)
	t := &testing.T{}
	f, _ := dpFixture(t, st, b.TempDir())
	body := `{"text":` + jsonString(dpBenchNote()) + `}`
	p := f.admin()
	b.ReportAllocs()
	b.SetBytes(int64(len(dpBenchNote())))
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/v1/dataprotection/scan", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req = req.WithContext(identity.WithPrincipal(req.Context(), p))
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("scan = %d %s", w.Code, w.Body)
		}
	}
}

// dpBenchNote is a 1 KB CRM note with a card, an e-mail, a phone and a DNI.
func dpBenchNote() string {
	s := "Llamada de la clienta María López García (DNI 12345678Z) sobre el pedido 884512. " +
		"Pide cambiar la tarjeta de cobro a 4111 1111 1111 1111, caducidad 09/28. Teléfono de contacto +34 612 345 678, " +
		"correo maria.lopez@example.com. Se le explica que el cargo de 49,90 EUR del 12/03 corresponde a la renovación anual. "
	for len(s) < 1024 {
		s += "La clienta queda conforme y se cierra la incidencia sin más novedades. "
	}
	return s[:1024]
}
