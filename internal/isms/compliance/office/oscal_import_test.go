package office_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance"
	"github.com/custodia/custodia/internal/isms/compliance/office"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
)

func TestImportOSCALProfileBecomesAFramework(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	iso, err := f.o.Catalog(catalog.ISO27001)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := catalog.ExportOSCALProfile(iso, "Payments scope", []string{"A.5.1", "A.8.13", "A.8.24"}, f.o.Now())
	if err != nil {
		t.Fatal(err)
	}
	before, _ := f.st.ISMSFrameworks(ctx)
	bad := strings.Replace(string(doc), `"A.8.24"`, `"A.99.1"`, 1)
	_, err = f.o.Import(ctx, f.all, "payments", office.FormatOSCALProfile, []byte(bad), nil)
	var ie *office.ImportError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "unknown control ids in iso27001-2022: A.99.1") {
		t.Fatalf("unknown control = %v, want an ImportError naming A.99.1", err)
	}
	if after, _ := f.st.ISMSFrameworks(ctx); len(after) != len(before) {
		t.Fatalf("refused profile changed the frameworks: %d → %d", len(before), len(after))
	}
	fw, err := f.o.Import(ctx, f.all, "payments", office.FormatOSCALProfile, doc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fw.Origin != "oscal-profile" || fw.Version != 1 {
		t.Fatalf("framework = %+v", fw)
	}
	c, err := f.o.Catalog("payments")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Payments scope" || len(c.Requirements) != 3 || c.Requirements[2].ID != "A.8.24" {
		t.Fatalf("catalogue = %s with %+v", c.Name, c.Requirements)
	}
	rows, err := f.o.SoA(ctx, f.all, "payments")
	if err != nil || len(rows) != 3 {
		t.Fatalf("SoA of the profile = %d rows (%v)", len(rows), err)
	}
}

func TestImportAssessmentResultsRoundTrip(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	want := map[string]catalog.Status{"A.5.1": catalog.Implemented, "A.5.2": catalog.Partial, "A.8.13": catalog.NotImplemented}
	for ref, s := range want {
		if err := f.o.SetRequirementState(ctx, f.all, &compliance.RequirementState{Catalog: catalog.ISO27001, Requirement: ref, Applicable: true, Status: s, Justification: "kept " + ref}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.o.SetRequirementState(ctx, f.all, &compliance.RequirementState{Catalog: catalog.ISO27001, Requirement: "A.7.1", Applicable: false, Justification: "no premises"}); err != nil {
		t.Fatal(err)
	}
	doc, err := f.o.SoAOSCAL(ctx, f.all, catalog.ISO27001, true)
	if err != nil {
		t.Fatal(err)
	}
	// Change the statuses, then import the export: they come back.
	for ref := range want {
		if err := f.o.SetRequirementState(ctx, f.all, &compliance.RequirementState{Catalog: catalog.ISO27001, Requirement: ref, Applicable: true, Status: catalog.Partial, Justification: "kept " + ref}); err != nil {
			t.Fatal(err)
		}
	}
	var fe org.FieldErrors
	if _, err := f.o.ImportAssessment(ctx, f.userA, catalog.ISO27001, doc); !errors.As(err, &fe) || fe[0].Field != "client_id" {
		t.Fatalf("client-limited import = %v, want ErrOperatorWide", err)
	}
	res, err := f.o.ImportAssessment(ctx, f.all, catalog.ISO27001, doc)
	if err != nil {
		t.Fatal(err)
	}
	es, err := f.st.AuditEntries(ctx, audit.Filter{AllClients: true, Action: "isms.assessment.import"})
	if err != nil || len(es) != 1 || es[0].ObjectID != catalog.ISO27001 || !strings.Contains(es[0].Detail, "2 updated") {
		t.Fatalf("summary audit entry = %+v (%v)", es, err)
	}
	if res.Updated != 2 {
		t.Errorf("updated %d, want 2 (A.5.1 and A.8.13; A.5.2 was already partial)", res.Updated)
	}
	states, err := f.st.ISMSRequirementStates(ctx, catalog.ISO27001)
	if err != nil {
		t.Fatal(err)
	}
	for ref, s := range want {
		if states[ref].Status != s || states[ref].Justification != "kept "+ref {
			t.Errorf("%s = %s %q after round trip, want %s", ref, states[ref].Status, states[ref].Justification, s)
		}
	}
	if _, stated := states["A.6.1"]; stated {
		t.Error("a finding at the default status stored a statement for A.6.1")
	}
	if st := states["A.7.1"]; st.Applicable {
		t.Errorf("non-applicable A.7.1 became applicable: %+v", st)
	}

	// Unknown ids are refused together, and nothing changes.
	bad := strings.Replace(strings.Replace(string(doc), `"target-id": "A.5.1"`, `"target-id": "A.77"`, 1), `"target-id": "A.5.2"`, `"target-id": "Z.1"`, 1)
	_, err = f.o.ImportAssessment(ctx, f.all, catalog.ISO27001, []byte(bad))
	var ie *office.ImportError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "A.77, Z.1") {
		t.Fatalf("unknown ids = %v, want an ImportError listing A.77, Z.1", err)
	}
	// A finding about a requirement stated not applicable is refused.
	na := strings.Replace(string(doc), `"target-id": "A.5.1"`, `"target-id": "A.7.1"`, 1)
	if _, err := f.o.ImportAssessment(ctx, f.all, catalog.ISO27001, []byte(na)); !errors.As(err, &ie) || !strings.Contains(err.Error(), "not applicable in iso27001-2022 (change their statement first): A.7.1") {
		t.Fatalf("not-applicable finding = %v", err)
	}
	after, _ := f.st.ISMSRequirementStates(ctx, catalog.ISO27001)
	for ref, st := range after {
		if st.Status != states[ref].Status {
			t.Errorf("refused import changed %s: %s → %s", ref, states[ref].Status, st.Status)
		}
	}
}

func TestImportAssessmentKeepsObservationsAndRisks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	doc := `{"assessment-results":{"uuid":"ar-1","metadata":{"title":"Annual audit"},"results":[{
	"observations":[{"uuid":"o1","title":"Backup logs","description":"4 of 30 nightly jobs failed unnoticed.","methods":["EXAMINE"],
	  "relevant-evidence":[{"href":"https://files.example.org/backup.csv","description":"console export"}],
	  "collected":"2026-11-17T10:00:00Z","expires":"2026-12-17T10:00:00Z"}],
	"risks":[{"uuid":"r1","title":"Backups may not restore","description":"Restores are never tested.","statement":"CRM data could be lost.","status":"open",
	  "characterizations":[{"facets":[{"name":"likelihood","system":"https://example.org/scale","value":"high"}]}]}],
	"findings":[
	  {"uuid":"f1","title":"Backups not verified","target":{"type":"objective-id","target-id":"A.8.13","status":{"state":"not-satisfied"}},
	   "related-observations":[{"observation-uuid":"o1"}],"related-risks":[{"risk-uuid":"r1"}]},
	  {"uuid":"f2","target":{"type":"objective-id","target-id":"A.5.1","status":{"state":"satisfied"}}}]}]}}`
	res, err := f.o.ImportAssessment(ctx, f.all, catalog.ISO27001, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if res.Updated != 1 || res.Unchanged != 1 || res.Notes != 1 {
		t.Fatalf("result = %+v, want A.5.1 updated, A.8.13 unchanged (not implemented by default), one note", res)
	}
	list, err := f.st.ISMSEvidenceList(ctx, store.ISMSEvidenceFilter{Scope: f.all.Scope(), Catalog: catalog.ISO27001, Requirement: "A.8.13"})
	if err != nil || len(list) != 1 {
		t.Fatalf("evidence of A.8.13 = %+v (%v)", list, err)
	}
	e := list[0]
	if e.Title != "OSCAL finding: Backups not verified (1 observations, 1 risks)" || e.FileName != "oscal-finding-f1.md" ||
		!e.CollectedAt.Equal(time.Date(2026, 11, 17, 10, 0, 0, 0, time.UTC)) || e.FreshDays != 30 {
		t.Errorf("note = %+v", e)
	}
	_, body, err := f.o.EvidenceFile(ctx, f.all, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# OSCAL finding: Backups not verified", "Annual audit (ar-1)", "4 of 30 nightly jobs failed unnoticed.",
		"console export <https://files.example.org/backup.csv>", "### Backups may not restore (r1): open", "Statement: CRM data could be lost.",
		"likelihood=high (https://example.org/scale)"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("note lacks %q:\n%s", want, body)
		}
	}
	if other, _ := f.st.ISMSEvidenceList(ctx, store.ISMSEvidenceFilter{Scope: f.all.Scope(), Catalog: catalog.ISO27001, Requirement: "A.5.1"}); len(other) != 0 {
		t.Errorf("a finding without observations or risks added evidence: %+v", other)
	}
	es, err := f.st.AuditEntries(ctx, audit.Filter{AllClients: true, Action: "isms.assessment.import"})
	if err != nil || len(es) != 1 || !strings.Contains(es[0].Detail, "1 notes") {
		t.Fatalf("summary audit entry = %+v (%v)", es, err)
	}

	// The same document again adds no second note.
	if res, err = f.o.ImportAssessment(ctx, f.all, catalog.ISO27001, []byte(doc)); err != nil || res.Notes != 0 {
		t.Fatalf("second import = %+v, %v; want no note", res, err)
	}
	// A finding linking to an observation the document lacks is refused
	// with where, and nothing changes.
	bad := strings.Replace(doc, `{"observation-uuid":"o1"}`, `{"observation-uuid":"o1"},{"observation-uuid":"o7"}`, 1)
	bad = strings.Replace(bad, `"state":"satisfied"`, `"state":"not-satisfied"`, 1)
	_, err = f.o.ImportAssessment(ctx, f.all, catalog.ISO27001, []byte(bad))
	var ie *office.ImportError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "$.assessment-results.results[0].findings[0].related-observations: observations not in the document: o7") {
		t.Fatalf("dangling link = %v", err)
	}
	states, _ := f.st.ISMSRequirementStates(ctx, catalog.ISO27001)
	if states["A.5.1"].Status != catalog.Implemented {
		t.Errorf("refused import changed A.5.1 to %s", states["A.5.1"].Status)
	}
	if list, _ := f.st.ISMSEvidenceList(ctx, store.ISMSEvidenceFilter{Scope: f.all.Scope(), Catalog: catalog.ISO27001, Requirement: "A.8.13"}); len(list) != 1 {
		t.Errorf("notes after the refused import = %d, want 1", len(list))
	}
}

func TestImportOSCALProfileBundleBecomesAFramework(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A profile tailoring ISO 27001 through an inner profile of the bundle.
	doc := `[{"profile":{"uuid":"outer","metadata":{"title":"Payments ISMS"},"imports":[{"href":"inner.json","include-all":{}}],"merge":{"as-is":true},
	"modify":{"alters":[{"control-id":"A.8.13","adds":[{"parts":[{"name":"item","prose":"Test a restore every quarter."}]}]}]}}},
	{"href":"profiles/inner.json","profile":{"uuid":"inner","metadata":{"title":"Backups and crypto"},"imports":[{"href":"iso27001-2022","include-controls":[{"matching":[{"pattern":"A.8.1?"}]},{"with-ids":["A.8.24"]}],
	"exclude-controls":[{"with-ids":["A.8.10","A.8.11","A.8.12","A.8.14","A.8.15","A.8.16","A.8.17","A.8.18","A.8.19"]}]}],"merge":{"as-is":true}}}]`
	before, _ := f.st.ISMSFrameworks(ctx)
	cyc := strings.Replace(doc, `"href":"iso27001-2022"`, `"href":"urn:uuid:outer"`, 1)
	if _, err := f.o.Import(ctx, f.all, "payments", office.FormatOSCALProfile, []byte(cyc), nil); err == nil || !strings.Contains(err.Error(), "circular import") {
		t.Fatalf("circular bundle = %v", err)
	}
	if after, _ := f.st.ISMSFrameworks(ctx); len(after) != len(before) {
		t.Fatal("refused bundle changed the frameworks")
	}
	if _, err := f.o.Import(ctx, f.all, "payments", office.FormatOSCALProfile, []byte(doc), nil); err != nil {
		t.Fatal(err)
	}
	c, err := f.o.Catalog("payments")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range c.Requirements {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, " ") != "A.8.13 A.8.24" {
		t.Fatalf("requirements = %v", ids)
	}
	if r, _ := c.Requirement("A.8.13"); !strings.HasSuffix(r.Text, "Test a restore every quarter.") || r.Group == "" {
		t.Errorf("A.8.13 = %+v, want the added item and its group (as-is)", r)
	}
}
