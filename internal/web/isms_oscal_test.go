package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/identity"
)

// TestISMSConsoleOSCALImports: an OSCAL profile uploaded on the frameworks
// page becomes a framework; assessment results pasted on the SoA page set
// the statuses, an unknown control id is refused with its list, and a
// client-limited officer is refused.
func TestISMSConsoleOSCALImports(t *testing.T) {
	e := newISMSStack(t)
	e.seedSmall()
	e.addUser("alice", identity.RoleAdmin, true, nil)
	e.addUser("bank", identity.RoleSecurity, true, func(u *identity.User) { u.AllClients, u.ClientIDs = false, []int64{e.clientA.ID} })
	b := e.browser()
	b.signIn("alice")

	cat := `{"catalog": {"uuid": "u", "metadata": {"title": "ACME"}, "controls": [{"id": "r1", "title": "One"}, {"id": "r2", "title": "Two"}, {"id": "r3", "title": "Three"}]}}`
	wantStatus(t, "import catalog", b.post("/isms/frameworks", url.Values{"key": {"acme"}, "format": {"oscal"}, "document": {cat}}), http.StatusSeeOther)
	profile := `{"profile": {"uuid": "p", "metadata": {"title": "ACME core"}, "imports": [{"href": "acme", "include-all": {}, "exclude-controls": [{"with-ids": ["%s"]}]}]}}`
	r := b.post("/isms/frameworks", url.Values{"key": {"acme-core"}, "format": {"oscal-profile"}, "document": {strings.Replace(profile, "%s", "r9", 1)}})
	wantStatus(t, "profile with an unknown control", r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, "unknown control ids in acme: r9") {
		t.Fatalf("unknown control not reported:\n%s", truncateForLog(r.body))
	}
	wantStatus(t, "import profile", b.post("/isms/frameworks", url.Values{"key": {"acme-core"}, "format": {"oscal-profile"}, "document": {strings.Replace(profile, "%s", "r3", 1)}}), http.StatusSeeOther)
	if r := b.get("/isms/soa/acme-core"); !strings.Contains(r.body, ">r1<") || strings.Contains(r.body, ">r3<") {
		t.Fatalf("the profile's SoA shows:\n%s", truncateForLog(r.body))
	}

	if r := b.get("/isms/soa/acme"); !strings.Contains(r.body, `action="/isms/soa/acme/assessment-results"`) {
		t.Fatalf("the SoA has no assessment upload form:\n%s", truncateForLog(r.body))
	}
	results := `{"assessment-results": {"uuid": "a", "metadata": {"title": "Audit"}, "results": [{"findings": [
		{"target": {"type": "objective-id", "target-id": "r1", "status": {"state": "satisfied"}}},
		{"target": {"type": "objective-id", "target-id": "%s", "status": {"state": "not-satisfied"}}}]}]}}`
	r = b.post("/isms/soa/acme/assessment-results", url.Values{"document": {strings.Replace(results, "%s", "r7", 1)}})
	wantStatus(t, "unknown target", r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, "target ids unknown in acme: r7") {
		t.Fatalf("unknown target not reported:\n%s", truncateForLog(r.body))
	}
	other := e.browser()
	other.signIn("bank")
	r = other.post("/isms/soa/acme/assessment-results", url.Values{"document": {strings.Replace(results, "%s", "r2", 1)}})
	if r.status == http.StatusSeeOther {
		t.Fatal("a client-limited officer imported assessment results")
	}
	wantStatus(t, "import results", b.post("/isms/soa/acme/assessment-results", url.Values{"document": {strings.Replace(results, "%s", "r2", 1)}}), http.StatusSeeOther)
	r = b.get("/isms/soa/acme?done=assessed")
	if !strings.Contains(r.body, "Assessment results imported") || strings.Count(r.body, `data-label="Status">implemented<`) != 1 {
		t.Fatalf("after the import the SoA shows:\n%s", truncateForLog(r.body))
	}
}
