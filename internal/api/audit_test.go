package api

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

func TestAuditEndpoints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		adm := f.admin()
		// Filters: the person entries of client A.
		code, body, _ := f.call(t, adm, "GET", "/api/v1/audit?object_type=person&client_id="+itoa64(f.clientA.ID), "")
		if code != 200 {
			t.Fatalf("GET /audit = %d %v", code, body)
		}
		items := body["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["action"] != "person.create" {
			t.Errorf("person entries of client A = %v, want the one person.create", items)
		}
		// A caller limited to client A never sees client B's entries.
		sec := f.scopedSecurity()
		_, body, _ = f.call(t, sec, "GET", "/api/v1/audit?limit=200", "")
		for _, it := range body["items"].([]any) {
			if c, _ := it.(map[string]any)["client_id"].(float64); int64(c) != f.clientA.ID {
				t.Errorf("scoped caller sees entry %v", it)
			}
		}
		if code, body, _ := f.call(t, sec, "GET", "/api/v1/audit?client_id="+itoa64(f.clientB.ID), ""); code != 422 {
			t.Errorf("GET /audit?client_id=B as scoped = %d %v, want 422", code, body)
		}
		// Paging by sequence number.
		_, body, _ = f.call(t, adm, "GET", "/api/v1/audit?limit=2", "")
		next := body["next_before_seq"]
		if len(body["items"].([]any)) != 2 || next == nil {
			t.Fatalf("GET /audit?limit=2 = %v", body)
		}
		_, body2, _ := f.call(t, adm, "GET", "/api/v1/audit?limit=2&before_seq="+itoa64(int64(next.(float64))), "")
		if s := body2["items"].([]any)[0].(map[string]any)["seq"].(float64); s >= next.(float64) {
			t.Errorf("second page starts at seq %v, want below %v", s, next)
		}
		if code, _, _ := f.call(t, adm, "GET", "/api/v1/audit?from=yesterday", ""); code != 422 {
			t.Errorf("bad from = %d, want 422", code)
		}

		// The export verifies, and records itself.
		req := httptest.NewRequest("GET", "/api/v1/audit/export", nil)
		req = req.WithContext(identity.WithPrincipal(req.Context(), adm))
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, req)
		if w.Code != 200 || w.Header().Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("export = %d %s", w.Code, w.Header().Get("Content-Type"))
		}
		rep, err := audit.VerifyExport(strings.NewReader(w.Body.String()), audit.ExportOptions{Full: true})
		if err != nil || !rep.OK() {
			t.Fatalf("exported trail does not verify: %v %+v", err, rep)
		}
		if !strings.Contains(w.Body.String(), `audit.export`) {
			t.Error("the export does not record itself")
		}
		entries, err := st.AuditEntries(context.Background(), audit.Filter{AllClients: true, Action: "audit.export"})
		if err != nil || len(entries) != 1 {
			t.Errorf("audit.export entries = %+v, %v", entries, err)
		}
		if code, _, _ := f.call(t, sec, "GET", "/api/v1/audit/export", ""); code != 403 {
			t.Errorf("export by a scoped caller = %d, want 403", code)
		}
	})
}
