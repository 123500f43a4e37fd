package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance"
	"github.com/custodia/custodia/internal/isms/ens"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

func ismsClients(t *testing.T, st *store.Store) (a, b int64) {
	t.Helper()
	ctx := context.Background()
	ca, cb := org.Client{Code: "bank", Name: "Banco"}, org.Client{Code: "telco", Name: "Telco"}
	if err := st.CreateClient(ctx, &ca); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateClient(ctx, &cb); err != nil {
		t.Fatal(err)
	}
	return ca.ID, cb.ID
}

func TestISMSControlsScopeAndHealth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := ismsClients(t, st)
		now := time.Now().UTC()
		all := identity.Scope{All: true}
		mk := func(code string, client int64, status compliance.ControlStatus) *compliance.Control {
			c := &compliance.Control{Code: code, Title: "Control " + code, Status: status, ClientID: client,
				Requirements: []catalog.Ref{{Catalog: catalog.ISO27001, Requirement: "A.8.13"}}}
			if err := st.ISMSCreateControl(ctx, c); err != nil {
				t.Fatalf("ISMSCreateControl(%s): %v", code, err)
			}
			return c
		}
		ow := mk("OPS-1", 0, compliance.Implemented)
		ca := mk("BANK-1", a, compliance.Implemented)
		cb := mk("TEL-1", b, compliance.Planned)
		if err := st.ISMSCreateControl(ctx, &compliance.Control{Code: "OPS-1", Title: "dup"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate code = %v, want ErrConflict", err)
		}
		if err := st.ISMSCreateControl(ctx, &compliance.Control{Code: "bad code!", Title: ""}); err == nil {
			t.Fatal("invalid control accepted")
		}

		scopeA := identity.Scope{ClientIDs: []int64{a}}
		list, err := st.ISMSControls(ctx, store.ISMSControlFilter{Scope: scopeA}, now)
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, c := range list {
			codes = append(codes, c.Code)
		}
		if strings.Join(codes, ",") != "BANK-1,OPS-1" {
			t.Fatalf("client A sees %v, want BANK-1 and OPS-1", codes)
		}
		if _, err := st.ISMSControl(ctx, scopeA, cb.ID, now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("client A reads client B's control: %v, want ErrNotFound", err)
		}
		if err := st.ISMSDeleteControl(ctx, scopeA, cb.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("client A deletes client B's control: %v, want ErrNotFound", err)
		}

		// Implemented without evidence is amber; fresh evidence makes it
		// green; stale evidence turns it amber again.
		got, err := st.ISMSControl(ctx, all, ca.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		if got.Health != compliance.Amber || len(got.Requirements) != 1 {
			t.Fatalf("control without evidence: health %s, requirements %v; want amber and one link", got.Health, got.Requirements)
		}
		ev := &compliance.Evidence{Kind: compliance.EvidenceLink, Title: "Backup report", ControlID: ca.ID, ClientID: a,
			URL: "https://intranet.example/backup", CollectedAt: now.AddDate(0, 0, -10), FreshDays: 30}
		if err := st.ISMSAddEvidence(ctx, ev, nil, ""); err != nil {
			t.Fatal(err)
		}
		if got, _ = st.ISMSControl(ctx, all, ca.ID, now); got.Health != compliance.Green {
			t.Fatalf("with fresh evidence health = %s, want green", got.Health)
		}
		if got, _ = st.ISMSControl(ctx, all, ca.ID, now.AddDate(0, 0, 25)); got.Health != compliance.Amber || got.StaleEvidence != 1 {
			t.Fatalf("25 days later health = %s (stale %d), want amber with 1 stale", got.Health, got.StaleEvidence)
		}
		if _, err := st.ISMSEvidence(ctx, identity.Scope{ClientIDs: []int64{b}}, ev.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("client B reads client A's evidence: %v", err)
		}

		// Deleting a control that evidence or a risk refers to is refused
		// with the references; without them it goes.
		err = st.ISMSDeleteControl(ctx, all, ca.ID)
		var inUse *compliance.InUseError
		if !errors.As(err, &inUse) || len(inUse.References) != 1 || inUse.References[0].Label != "Backup report" {
			t.Fatalf("delete control with evidence = %v, want InUseError naming the evidence", err)
		}
		if _, err := st.Exec(ctx, "INSERT INTO isms_risk_controls (risk_id, control_id) VALUES (?, ?)", 999, ow.ID); err != nil {
			t.Fatal(err)
		}
		if err := st.ISMSDeleteControl(ctx, all, ow.ID); !errors.As(err, &inUse) || inUse.References[0].Kind != "risk" {
			t.Fatalf("delete control with a risk = %v, want InUseError naming the risk", err)
		}
		if err := st.ISMSDeleteControl(ctx, all, cb.ID); err != nil {
			t.Fatalf("delete free control: %v", err)
		}
		entries, err := st.AuditEntries(ctx, audit.Filter{AllClients: true, Action: "isms.control.delete"})
		if err != nil || len(entries) != 1 {
			t.Fatalf("audit entries for delete: %d, %v", len(entries), err)
		}
		entries, err = st.AuditEntries(ctx, audit.Filter{AllClients: true, Action: "isms.evidence.add"})
		if err != nil || len(entries) != 1 {
			t.Fatalf("audit entries for evidence: %d, %v", len(entries), err)
		}
	})
}

func TestISMSImportVersionsAndReferences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cat := &catalog.Catalog{ID: "acme", Name: "ACME", Version: "1", Requirements: []catalog.Requirement{{ID: "R1", Title: "One"}, {ID: "R2", Title: "Two"}}}
		f := &compliance.Framework{Origin: "oscal"}
		if err := st.ISMSSaveImport(ctx, f, cat, []byte(`{}`), nil, "isms.framework.import"); err != nil {
			t.Fatal(err)
		}
		if f.Version != 1 {
			t.Fatalf("first version = %d", f.Version)
		}
		c := &compliance.Control{Code: "C1", Title: "Uses R2", Requirements: []catalog.Ref{{Catalog: "acme", Requirement: "R2"}}}
		if err := st.ISMSCreateControl(ctx, c); err != nil {
			t.Fatal(err)
		}
		smaller := &catalog.Catalog{ID: "acme", Name: "ACME", Version: "2", Requirements: []catalog.Requirement{{ID: "R1", Title: "One"}}}
		err := st.ISMSSaveImport(ctx, &compliance.Framework{Origin: "oscal"}, smaller, []byte(`{}`), nil, "isms.framework.import")
		var inUse *compliance.InUseError
		if !errors.As(err, &inUse) || !strings.Contains(inUse.Error(), "C1 → acme:R2") {
			t.Fatalf("dropping a referenced requirement = %v, want InUseError naming C1", err)
		}
		fws, _ := st.ISMSFrameworks(ctx)
		if len(fws) != 1 || !fws[0].Current {
			t.Fatalf("refused import changed the frameworks: %+v", fws)
		}
		bigger := &catalog.Catalog{ID: "acme", Name: "ACME", Version: "2", Requirements: []catalog.Requirement{{ID: "R1"}, {ID: "R2"}, {ID: "R3"}}}
		f2 := &compliance.Framework{Origin: "oscal"}
		if err := st.ISMSSaveImport(ctx, f2, bigger, []byte(`{}`), nil, "isms.framework.import"); err != nil || f2.Version != 2 {
			t.Fatalf("second version: %v, version %d", err, f2.Version)
		}
		if err := st.ISMSDeleteFramework(ctx, "acme"); !errors.As(err, &inUse) {
			t.Fatalf("delete referenced framework = %v, want InUseError", err)
		}
	})
}

func TestISMSDeclarationsAreVersioned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, _ := ismsClients(t, st)
		u := &identity.User{Username: "ciso", Role: identity.RoleSecurity, AllClients: true}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u, "", time.Now()) }); err != nil {
			t.Fatal(err)
		}
		sys := &compliance.ENSSystem{Name: "Telefonía", ClientID: a, Valuation: ens.Valuation{C: ens.Medio, I: ens.Bajo, A: ens.Alto, D: ens.Bajo}}
		if err := st.ISMSCreateENSSystem(ctx, sys); err != nil {
			t.Fatal(err)
		}
		if sys.Category != ens.Alta {
			t.Fatalf("category = %s, want ALTA", sys.Category)
		}
		all := identity.Scope{All: true}
		if err := st.ISMSSetENSMeasure(ctx, all, sys.ID, &compliance.MeasureState{Measure: "op.acc.6", Status: catalog.Implemented}); err != nil {
			t.Fatal(err)
		}
		if err := st.ISMSSetENSMeasure(ctx, all, sys.ID, &compliance.MeasureState{Measure: "op.exp.8", Override: compliance.ForceApply}); err == nil {
			t.Fatal("override without justification accepted")
		}
		for i := 1; i <= 2; i++ {
			d := &compliance.Declaration{SystemID: sys.ID, Category: "ALTA", SignedBy: u.ID, SignedByName: "ciso", Content: []byte(`{"v":` + string(rune('0'+i)) + `}`)}
			if err := st.ISMSSignDeclaration(ctx, all, d); err != nil {
				t.Fatal(err)
			}
			if d.Version != i || len(d.SHA256) != 64 {
				t.Fatalf("signed version %d, sha %q", d.Version, d.SHA256)
			}
		}
		if err := st.ISMSSignDeclaration(ctx, identity.Scope{ClientIDs: []int64{a + 1000}}, &compliance.Declaration{SystemID: sys.ID, SignedBy: u.ID, Content: []byte("{}")}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("signing out of scope = %v, want ErrNotFound", err)
		}
		v1, err := st.ISMSDeclaration(ctx, sys.ID, 1)
		if err != nil || string(v1.Content) != `{"v":1}` {
			t.Fatalf("version 1 = %+v, %v", v1, err)
		}
		if err := st.ISMSDeleteENSSystem(ctx, all, sys.ID); err == nil {
			t.Fatal("deleted a system with signed declarations")
		}
	})
}

func TestISMSSetRequirementStatesIsOneTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cat := &catalog.Catalog{ID: "acme", Name: "ACME", Version: "1", Requirements: []catalog.Requirement{{ID: "R1", Title: "One"}, {ID: "R2", Title: "Two"}}}
		if err := st.ISMSSaveImport(ctx, &compliance.Framework{Origin: "oscal"}, cat, []byte(`{}`), nil, "isms.framework.import"); err != nil {
			t.Fatal(err)
		}
		bad := []*compliance.RequirementState{
			{Catalog: "acme", Requirement: "R1", Applicable: true, Status: catalog.Implemented},
			{Catalog: "acme", Requirement: "R2", Applicable: true, Status: "done"},
		}
		if err := st.ISMSSetRequirementStates(ctx, "acme", bad, "isms.assessment.import", "test"); err == nil || !strings.Contains(err.Error(), "acme:R2") {
			t.Fatalf("invalid batch = %v, want an error naming acme:R2", err)
		}
		states, err := st.ISMSRequirementStates(ctx, "acme")
		if err != nil || len(states) != 0 {
			t.Fatalf("refused batch stored %v (%v)", states, err)
		}
		good := []*compliance.RequirementState{
			{Catalog: "acme", Requirement: "R1", Applicable: true, Status: catalog.Implemented},
			{Catalog: "acme", Requirement: "R2", Applicable: true, Status: catalog.Partial, Justification: "kept"},
		}
		if err := st.ISMSSetRequirementStates(ctx, "acme", good, "isms.assessment.import", "2 findings"); err != nil {
			t.Fatal(err)
		}
		states, err = st.ISMSRequirementStates(ctx, "acme")
		if err != nil || states["R1"].Status != catalog.Implemented || states["R2"].Status != catalog.Partial || states["R2"].Justification != "kept" {
			t.Fatalf("states = %+v (%v)", states, err)
		}
		es, err := st.AuditEntries(ctx, audit.Filter{AllClients: true, Action: "isms.*", Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		var updates, imports int
		for _, e := range es {
			switch e.Action {
			case "isms.requirement.update":
				updates++
			case "isms.assessment.import":
				imports++
			}
		}
		if updates != 2 || imports != 1 {
			t.Fatalf("audit: %d updates, %d imports; want 2 and 1", updates, imports)
		}
	})
}
