package office_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance"
	"github.com/custodia/custodia/internal/isms/compliance/office"
	"github.com/custodia/custodia/internal/org"
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
