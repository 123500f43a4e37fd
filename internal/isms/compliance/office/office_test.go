package office_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance"
	"github.com/custodia/custodia/internal/isms/compliance/office"
	"github.com/custodia/custodia/internal/isms/ens"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/report"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

type fixture struct {
	o          *office.Office
	st         *store.Store
	all        *identity.Principal
	userA      *identity.Principal
	userB      *identity.Principal
	clientA, b int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st := storetest.SQLite(t)
	keys, err := secret.New(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	o, err := office.New(ctx, st, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	ca, cb := org.Client{Code: "bank", Name: "Banco"}, org.Client{Code: "telco", Name: "Telco"}
	if err := st.CreateClient(ctx, &ca); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateClient(ctx, &cb); err != nil {
		t.Fatal(err)
	}
	u := &identity.User{Username: "ciso", Role: identity.RoleSecurity, AllClients: true}
	if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u, "", time.Now()) }); err != nil {
		t.Fatal(err)
	}
	return &fixture{o: o, st: st, clientA: ca.ID, b: cb.ID,
		all:   &identity.Principal{UserID: u.ID, Username: "ciso", Role: identity.RoleSecurity, AllClients: true},
		userA: &identity.Principal{UserID: u.ID, Username: "sec-a", Role: identity.RoleSecurity, ClientIDs: []int64{ca.ID}},
		userB: &identity.Principal{UserID: u.ID, Username: "sec-b", Role: identity.RoleSecurity, ClientIDs: []int64{cb.ID}},
	}
}

func TestImportReportsWhereAndChangesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	before, _ := f.st.ISMSFrameworks(ctx)
	_, err := f.o.Import(ctx, f.all, "acme", office.FormatOSCAL, []byte("{\"catalog\": {\n \"uuid\": 7}}"), nil)
	var ie *office.ImportError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "line") {
		t.Fatalf("malformed OSCAL = %v, want an ImportError naming the line", err)
	}
	_, err = f.o.Import(ctx, f.all, "acme", office.FormatCISOAssistant, []byte("urn: x\n  bad: [\n"), nil)
	if !errors.As(err, &ie) {
		t.Fatalf("malformed YAML = %v, want an ImportError", err)
	}
	doc, err := os.ReadFile("../../catalog/testdata/oscal-mini.json")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.o.Import(ctx, f.all, "acme", office.FormatOSCAL, doc, []byte(`mappings:
  - {from: "acme:nope", to: "iso27001-2022:A.5.1", rel: equal}
`))
	if fe, ok := org.AsFieldErrors(err); !ok || !fe.Has("mappings") || !strings.Contains(err.Error(), "acme:nope") {
		t.Fatalf("mapping to an unknown requirement = %v, want a mappings field error naming it", err)
	}
	if _, err := f.o.Import(ctx, f.all, catalog.ISO27001, office.FormatOSCAL, doc, nil); err == nil {
		t.Fatal("import over a built-in catalogue accepted")
	}
	after, _ := f.st.ISMSFrameworks(ctx)
	if len(after) != len(before) {
		t.Fatalf("refused imports changed the frameworks: %d → %d", len(before), len(after))
	}
	fw, err := f.o.Import(ctx, f.all, "acme", office.FormatOSCAL, doc, nil)
	if err != nil {
		t.Fatalf("valid import: %v", err)
	}
	c, err := f.o.Catalog("acme")
	if err != nil || fw.Requirements != len(c.Requirements) || fw.Requirements < 4 {
		t.Fatalf("imported catalogue: %v, %d requirements", err, fw.Requirements)
	}
	ref := c.Requirements[len(c.Requirements)-1].ID
	ctl := &compliance.Control{Code: "AC", Title: "Access", Requirements: []catalog.Ref{{Catalog: "acme", Requirement: ref}}}
	if err := f.o.SaveControl(ctx, f.all, ctl); err != nil {
		t.Fatal(err)
	}
	err = f.o.DeleteRequirement(ctx, f.all, "acme", ref)
	var inUse *compliance.InUseError
	if !errors.As(err, &inUse) || !strings.Contains(err.Error(), "AC") {
		t.Fatalf("delete referenced requirement = %v, want the references", err)
	}
	if err := f.o.SaveControl(ctx, f.all, &compliance.Control{Code: "X", Title: "X", Requirements: []catalog.Ref{{Catalog: "acme", Requirement: "zz"}}}); err == nil {
		t.Fatal("control linked to an unknown requirement accepted")
	}
}

func TestENSFlowAndDeclarationPDF(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Hand-worked: C=MEDIO, I=BAJO, T=n.a., A=ALTO, D=BAJO is ALTA.
	sys := &compliance.ENSSystem{Name: "Plataforma de telefonía", ClientID: f.clientA,
		Valuation: ens.Valuation{C: ens.Medio, I: ens.Bajo, A: ens.Alto, D: ens.Bajo}}
	if err := f.o.SaveSystem(ctx, f.userA, sys); err != nil {
		t.Fatal(err)
	}
	if sys.Category != ens.Alta {
		t.Fatalf("category %s, want ALTA", sys.Category)
	}
	if _, err := f.o.Declaration(ctx, f.userB, sys.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("client B reads client A's system: %v", err)
	}
	doc, err := f.o.Declaration(ctx, f.userA, sys.ID)
	if err != nil {
		t.Fatal(err)
	}
	row := func(doc *office.DeclarationDoc, id string) office.DeclRow {
		for _, r := range doc.Rows {
			if r.Measure == id {
				return r
			}
		}
		t.Fatalf("no row %s", id)
		return office.DeclRow{}
	}
	// Anexo II at ALTO: one of R1–R4, plus R5–R9.
	if r := row(doc, "op.acc.6"); !r.Applies || len(r.Reinforcements) != 5 || len(r.Choices) != 1 || len(r.Choices[0]) != 4 {
		t.Fatalf("op.acc.6 = %+v, want applies with one of R1–R4 and R5–R9", r)
	}
	if r := row(doc, "op.exp.8"); r.Applies {
		t.Fatalf("op.exp.8 applies with T=n.a.")
	}
	if !doc.Conformity.Overdue || doc.Conformity.Path != ens.CertificationAudit {
		t.Fatalf("conformity = %+v, want certification audit, due now", doc.Conformity)
	}
	if err := f.o.SetMeasure(ctx, f.userA, sys.ID, &compliance.MeasureState{Measure: "op.acc.6", Status: catalog.Implemented}); err != nil {
		t.Fatal(err)
	}
	if err := f.o.SetMeasure(ctx, f.userA, sys.ID, &compliance.MeasureState{Measure: "op.zz.1", Status: catalog.Implemented}); err == nil {
		t.Fatal("unknown measure accepted")
	}
	ev := &compliance.Evidence{Kind: compliance.EvidenceFile, Title: "Informe MFA agentes", Catalog: catalog.ENS, Requirement: "op.acc.6",
		ENSSystemID: sys.ID, FileName: "mfa.txt", CollectedAt: time.Now().AddDate(0, 0, -1), FreshDays: 90}
	if err := f.o.AddEvidence(ctx, f.userA, ev, []byte("MFA enforced for all agents\n")); err != nil {
		t.Fatal(err)
	}
	if ev.ClientID != f.clientA || len(ev.SHA256) != 64 {
		t.Fatalf("evidence client %d sha %q", ev.ClientID, ev.SHA256)
	}
	if _, b, err := f.o.EvidenceFile(ctx, f.userA, ev.ID); err != nil || string(b) != "MFA enforced for all agents\n" {
		t.Fatalf("evidence file = %q, %v", b, err)
	}
	var sealed []byte
	if err := f.st.QueryRow(ctx, "SELECT sealed FROM isms_evidence_files WHERE evidence_id = ?", ev.ID).Scan(&sealed); err != nil || strings.Contains(string(sealed), "MFA enforced") {
		t.Fatalf("evidence stored in clear (%v)", err)
	}
	if _, _, err := f.o.EvidenceFile(ctx, f.userB, ev.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("client B downloads client A's evidence: %v", err)
	}
	if err := f.o.AddExtra(ctx, f.userA, sys.ID, &compliance.ENSExtra{ExtraMeasure: ens.ExtraMeasure{Kind: ens.Compensatory, Title: "Token físico", Measures: []string{"op.exp.8"}, Justification: "x"}}); err == nil {
		t.Fatal("compensating a measure that does not apply accepted")
	}
	if err := f.o.AddExtra(ctx, f.userA, sys.ID, &compliance.ENSExtra{ExtraMeasure: ens.ExtraMeasure{Kind: ens.Complementary, Title: "Grabaciones cifradas", Measures: []string{"mp.info.3"}, Justification: "PCI DSS"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.o.Sign(ctx, f.userA, sys.ID, "wrong"); err == nil {
		t.Fatal("signature without confirmation accepted")
	}
	d, err := f.o.Sign(ctx, f.userA, sys.ID, "Plataforma de telefonía")
	if err != nil {
		t.Fatal(err)
	}
	signed, err := f.o.SignedDeclaration(ctx, f.userA, sys.ID, d.Version)
	if err != nil {
		t.Fatal(err)
	}
	if r := row(signed, "op.acc.6"); r.Status != catalog.Implemented || len(r.Evidence) != 1 {
		t.Fatalf("signed op.acc.6 = %+v, want implemented with the evidence", r)
	}
	for _, lang := range []string{"es", "en"} {
		pdf, err := f.o.DeclarationPDF(signed, lang)
		if err != nil {
			t.Fatal(err)
		}
		txt := report.PDFText(pdf)
		for _, want := range []string{"op.acc.6", "Informe MFA agentes", "Grabaciones cifradas", "ALTA", d.SHA256[:16]} {
			if !strings.Contains(txt, want) {
				t.Errorf("%s declaration PDF lacks %q", lang, want)
			}
		}
		if lang == "es" && !strings.Contains(txt, "implantado") {
			t.Error("Spanish PDF lacks the status in Spanish")
		}
	}
	// The dashboard counts the measure for client A only.
	dash, err := f.o.Dashboard(ctx, f.all, 30)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range dash.Scores {
		if s.Catalog != catalog.ENS {
			continue
		}
		want := 1
		if s.ClientID == f.b {
			want = 0
		}
		if s.Compliant != want {
			t.Errorf("ENS score for client %d = %d/%d, want %d compliant", s.ClientID, s.Compliant, s.Applicable, want)
		}
	}
	summary, err := f.o.SummaryPDF(ctx, f.userA, "es")
	if err != nil || !strings.Contains(report.PDFText(summary), "Plataforma de telefonía") {
		t.Fatalf("summary PDF: %v", err)
	}
}

func TestSoADraftsAndScores(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// PCI 5.2 implemented drafts ISO A.8.7 (equal mapping) as implemented.
	if err := f.o.SetRequirementState(ctx, f.all, &compliance.RequirementState{Catalog: catalog.PCIDSS, Requirement: "5.2", Applicable: true, Status: catalog.Implemented}); err != nil {
		t.Fatal(err)
	}
	if err := f.o.SetRequirementState(ctx, f.userA, &compliance.RequirementState{Catalog: catalog.ISO27001, Requirement: "A.5.1", Applicable: true}); err == nil {
		t.Fatal("a client-scoped user changed the operator-wide SoA")
	}
	if err := f.o.SetRequirementState(ctx, f.all, &compliance.RequirementState{Catalog: catalog.ISO27001, Requirement: "A.7.5", Applicable: false}); err == nil {
		t.Fatal("non-applicable without justification accepted")
	}
	if err := f.o.SetRequirementState(ctx, f.all, &compliance.RequirementState{Catalog: catalog.ISO27001, Requirement: "A.7.5", Applicable: false, Justification: "No physical hazards in scope"}); err != nil {
		t.Fatal(err)
	}
	ctl := &compliance.Control{Code: "AV-1", Title: "Antimalware on every desktop", Status: compliance.Implemented, ClientID: f.clientA,
		Requirements: []catalog.Ref{{Catalog: catalog.ISO27001, Requirement: "A.8.7"}}}
	if err := f.o.SaveControl(ctx, f.userA, ctl); err != nil {
		t.Fatal(err)
	}
	if err := f.o.SaveControl(ctx, f.userA, &compliance.Control{Code: "OW", Title: "Operator-wide"}); err == nil {
		t.Fatal("a client-scoped user created an operator-wide control")
	}
	if err := f.o.AddEvidence(ctx, f.userA, &compliance.Evidence{Kind: compliance.EvidenceRecord, Title: "Fleet posture report", ControlID: ctl.ID,
		RecordModule: "fleet", RecordRef: "report/2026-11", CollectedAt: time.Now()}, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := f.o.SoA(ctx, f.all, catalog.ISO27001)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 93 {
		t.Fatalf("SoA has %d rows, want the 93 Annex A controls", len(rows))
	}
	for _, r := range rows {
		switch r.Requirement {
		case "A.8.7":
			if r.Draft != catalog.Implemented || strings.Join(r.Controls, ",") != "AV-1" || r.Evidence != 1 {
				t.Errorf("A.8.7 = %+v, want draft implemented, control AV-1, 1 evidence", r)
			}
		case "A.7.5":
			if r.Applicable || r.Justification == "" {
				t.Errorf("A.7.5 = %+v, want not applicable with justification", r)
			}
		}
	}
	rowsB, err := f.o.SoA(ctx, f.userB, catalog.ISO27001)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rowsB {
		if len(r.Controls) > 0 {
			t.Errorf("client B's SoA shows client A's control on %s", r.Requirement)
		}
	}
	iso, _ := f.o.Catalog(catalog.ISO27001)
	pdf, err := f.o.SoAPDF(iso, rows, "en")
	if err != nil || !strings.Contains(report.PDFText(pdf), "AV-1") {
		t.Fatalf("SoA PDF: %v", err)
	}
	if _, err := f.o.SoAXLSX(iso, rows, "es"); err != nil {
		t.Fatal(err)
	}
	dash, err := f.o.Dashboard(ctx, f.all, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]office.Score{}
	for _, s := range dash.Scores {
		if s.Catalog == catalog.ISO27001 {
			got[s.ClientID] = s
		}
	}
	if got[0].Compliant != 1 || got[f.clientA].Compliant != 1 || got[f.b].Compliant != 0 {
		t.Fatalf("ISO scores = %+v, want 1 for the operator and client A, 0 for B", got)
	}
	if got[0].Applicable != got[f.b].Applicable || got[0].Applicable == 0 {
		t.Fatalf("applicable counts differ: %+v", got)
	}
	if err := f.o.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	dash, err = f.o.Dashboard(ctx, f.userA, 30)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range dash.Trend {
		if s.ClientKey != f.clientA {
			t.Fatalf("client A's trend holds client key %d", s.ClientKey)
		}
	}
	if len(dash.Trend) == 0 || office.TrendSVG(dash.Trend, f.clientA, func(k string) string { return k }) == "" {
		t.Fatal("no trend after a snapshot")
	}
}
