package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance/office"
)

func TestISMSOSCALProfileAndAssessmentImport(t *testing.T) {
	f := newISMSFixture(t)
	admin := f.admin()

	// Profile: the SoA profile export is importable as a framework.
	code, prof, _ := f.ismsCall(t, admin, "GET", "/api/v1/isms/frameworks/"+catalog.GDPR+"/soa.oscal-profile.json", nil)
	if code != http.StatusOK {
		t.Fatalf("profile export = %d %s", code, prof)
	}
	bad := strings.Replace(string(prof), `"with-ids": [`, `"with-ids": ["art-999", `, 1)
	code, body, _ := f.ismsCall(t, admin, "POST", "/api/v1/isms/frameworks", map[string]string{"key": "gdpr-scope", "format": "oscal-profile", "document": bad})
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "unknown control ids in gdpr: art-999") {
		t.Fatalf("unknown control = %d %s, want 422 naming art-999", code, body)
	}
	code, body, _ = f.ismsCall(t, admin, "POST", "/api/v1/isms/frameworks", map[string]string{"key": "gdpr-scope", "format": "oscal-profile", "document": string(prof)})
	if code != http.StatusCreated {
		t.Fatalf("profile import = %d %s", code, body)
	}
	code, body, _ = f.ismsCall(t, admin, "GET", "/api/v1/isms/frameworks/gdpr-scope/soa", nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"requirement"`) {
		t.Fatalf("SoA of the imported profile = %d %s", code, body)
	}

	// Assessment results: round trip through the export.
	code, body, _ = f.ismsCall(t, admin, "PATCH", "/api/v1/isms/frameworks/iso27001-2022/requirements/A.5.1", map[string]any{"status": "implemented"})
	if code != http.StatusOK {
		t.Fatalf("set status = %d %s", code, body)
	}
	code, results, _ := f.ismsCall(t, admin, "GET", "/api/v1/isms/frameworks/iso27001-2022/soa.oscal-results.json", nil)
	if code != http.StatusOK {
		t.Fatalf("results export = %d", code)
	}
	code, body, _ = f.ismsCall(t, admin, "PATCH", "/api/v1/isms/frameworks/iso27001-2022/requirements/A.5.1", map[string]any{"status": "partial"})
	if code != http.StatusOK {
		t.Fatalf("set status = %d %s", code, body)
	}
	path := "/api/v1/isms/frameworks/iso27001-2022/assessment-results"
	limited := f.ismsUser(t, "sec-oscal", f.clientA.ID)
	if code, body, _ = f.ismsCall(t, limited, "POST", path, map[string]string{"document": string(results)}); code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "client_id") {
		t.Fatalf("client-limited import = %d %s, want 422 on client_id", code, body)
	}
	unknown := strings.Replace(string(results), `"target-id": "A.5.1"`, `"target-id": "A.0"`, 1)
	if code, body, _ = f.ismsCall(t, admin, "POST", path, map[string]string{"document": unknown}); code != http.StatusUnprocessableEntity || !strings.Contains(string(body), "target ids unknown in iso27001-2022: A.0") {
		t.Fatalf("unknown id = %d %s", code, body)
	}
	code, body, _ = f.ismsCall(t, admin, "POST", path, map[string]string{"document": string(results)})
	var res office.AssessmentImport
	if code != http.StatusOK || json.Unmarshal(body, &res) != nil || res.Updated != 1 {
		t.Fatalf("import = %d %s, want 1 updated", code, body)
	}
	code, body, _ = f.ismsCall(t, admin, "GET", "/api/v1/isms/frameworks/iso27001-2022/soa", nil)
	var rows []office.SoARow
	if code != http.StatusOK || json.Unmarshal(body, &rows) != nil {
		t.Fatalf("SoA = %d", code)
	}
	for _, r := range rows {
		if r.Requirement == "A.5.1" && r.Status != catalog.Implemented {
			t.Fatalf("A.5.1 = %s after the round trip, want implemented", r.Status)
		}
	}
}
