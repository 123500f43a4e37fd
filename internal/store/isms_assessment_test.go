package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

func TestISMSImportAssessmentNotesShareTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cat := &catalog.Catalog{ID: "acme", Name: "ACME", Version: "1", Requirements: []catalog.Requirement{{ID: "R1", Title: "One"}}}
		if err := st.ISMSSaveImport(ctx, &compliance.Framework{Origin: "oscal"}, cat, []byte(`{}`), nil, "isms.framework.import"); err != nil {
			t.Fatal(err)
		}
		state := func() []*compliance.RequirementState {
			return []*compliance.RequirementState{{Catalog: "acme", Requirement: "R1", Applicable: true, Status: catalog.Partial}}
		}
		note := func(control int64) store.ISMSSealedEvidence {
			e := &compliance.Evidence{Kind: compliance.EvidenceFile, Title: "OSCAL finding: backups", Catalog: "acme", Requirement: "R1", ControlID: control,
				FileName: "oscal-finding-f1.md", SHA256: "ab", Size: 2, CollectedAt: time.Now().Add(-time.Hour)}
			return store.ISMSSealedEvidence{Evidence: e, Sealed: []byte("sealed")}
		}
		// The note names a control that does not exist: the insert fails
		// after the state was written, and the state goes too.
		if err := st.ISMSImportAssessment(ctx, "acme", state(), []store.ISMSSealedEvidence{note(987654)}, "k1", "isms.assessment.import", "t"); err == nil {
			t.Fatal("note with an unknown control accepted")
		}
		if states, err := st.ISMSRequirementStates(ctx, "acme"); err != nil || len(states) != 0 {
			t.Fatalf("failed import stored states %v (%v)", states, err)
		}
		all := identity.Scope{All: true}
		if list, err := st.ISMSEvidenceList(ctx, store.ISMSEvidenceFilter{Scope: all, Catalog: "acme", Requirement: "R1"}); err != nil || len(list) != 0 {
			t.Fatalf("failed import stored evidence %v (%v)", list, err)
		}
		bad := note(0)
		bad.Evidence.Title = ""
		if err := st.ISMSImportAssessment(ctx, "acme", state(), []store.ISMSSealedEvidence{bad}, "k1", "isms.assessment.import", "t"); err == nil {
			t.Fatal("note without a title accepted")
		}
		good := note(0)
		if err := st.ISMSImportAssessment(ctx, "acme", state(), []store.ISMSSealedEvidence{good}, "k1", "isms.assessment.import", "t"); err != nil {
			t.Fatal(err)
		}
		if states, err := st.ISMSRequirementStates(ctx, "acme"); err != nil || states["R1"].Status != catalog.Partial {
			t.Fatalf("states = %v (%v)", states, err)
		}
		list, err := st.ISMSEvidenceList(ctx, store.ISMSEvidenceFilter{Scope: all, Catalog: "acme", Requirement: "R1"})
		if err != nil || len(list) != 1 || list[0].ID != good.Evidence.ID || list[0].Kind != compliance.EvidenceFile {
			t.Fatalf("evidence = %+v (%v)", list, err)
		}
		if _, sealed, err := st.ISMSEvidenceFile(ctx, all, good.Evidence.ID); err != nil || string(sealed) != "sealed" {
			t.Fatalf("sealed note = %q (%v)", sealed, err)
		}
	})
}
