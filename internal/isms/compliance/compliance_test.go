package compliance

import (
	"testing"
	"time"

	"github.com/custodia/custodia/internal/isms/catalog"
)

func TestControlHealth(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		c    Control
		want Health
	}{
		{"not applicable", Control{Status: NotApplicable}, Grey},
		{"planned", Control{Status: Planned, Evidence: 3}, Red},
		{"partial", Control{Status: Partial, Evidence: 3}, Red},
		{"implemented but ineffective", Control{Status: Implemented, Effectiveness: Ineffective, Evidence: 1}, Red},
		{"implemented without evidence", Control{Status: Implemented}, Amber},
		{"implemented with stale evidence", Control{Status: Implemented, Evidence: 2, StaleEvidence: 1}, Amber},
		{"partially effective", Control{Status: Implemented, Effectiveness: PartiallyEffective, Evidence: 1}, Amber},
		{"review overdue", Control{Status: Implemented, Evidence: 1, ReviewAt: now.AddDate(0, 0, -2)}, Amber},
		{"review today", Control{Status: Implemented, Evidence: 1, ReviewAt: now.Truncate(24 * time.Hour)}, Green},
		{"fresh", Control{Status: Implemented, Effectiveness: Effective, Evidence: 1}, Green},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ControlHealth(&tc.c, now); got != tc.want {
				t.Errorf("ControlHealth(%+v) = %s, want %s", tc.c, got, tc.want)
			}
		})
	}
}

func TestEvidenceFreshness(t *testing.T) {
	collected := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := Evidence{Kind: EvidenceLink, Title: "Scan", URL: "https://x.example/r", ControlID: 1, CollectedAt: collected, FreshDays: 30}
	e.Normalize()
	if err := e.Validate(collected); err != nil {
		t.Fatal(err)
	}
	if e.Stale(collected.AddDate(0, 0, 29)) || !e.Stale(collected.AddDate(0, 0, 30)) {
		t.Fatalf("30-day evidence collected %s: expires %s", collected, e.ExpiresAt)
	}
	bad := Evidence{Kind: EvidenceLink, Title: "x", URL: "javascript:alert(1)", ControlID: 1, CollectedAt: collected.AddDate(1, 0, 0), FreshDays: 0}
	bad.Normalize()
	if err := bad.Validate(collected); err == nil {
		t.Fatal("javascript: URL and a future date accepted")
	}
}

func TestRequirementStateNeedsJustification(t *testing.T) {
	s := RequirementState{Catalog: catalog.ISO27001, Requirement: "A.7.5", Applicable: false}
	if err := s.Validate(); err == nil {
		t.Fatal("not applicable without justification accepted")
	}
	s.Justification = "No premises"
	if err := s.Validate(); err != nil || s.Status != catalog.NotApplicable {
		t.Fatalf("Validate = %v, status %s", err, s.Status)
	}
}

func TestParseRefs(t *testing.T) {
	refs, err := ParseRefs("iso27001-2022:A.8.13, ens-rd311-2022:mp.info.6\niso27001-2022:A.8.13")
	if err != nil || len(refs) != 2 || refs[1].Requirement != "mp.info.6" {
		t.Fatalf("ParseRefs = %v, %v", refs, err)
	}
	if _, err := ParseRefs("A.8.13"); err == nil {
		t.Fatal("a reference without catalogue accepted")
	}
}

func FuzzParseRefs(f *testing.F) {
	f.Add("iso27001-2022:A.8.13, gdpr:32")
	f.Add(":")
	f.Add("a:b:c;;,\n")
	f.Fuzz(func(t *testing.T, s string) {
		refs, err := ParseRefs(s)
		if err != nil {
			return
		}
		seen := map[catalog.Ref]bool{}
		for _, r := range refs {
			if r.Catalog == "" || r.Requirement == "" || seen[r] {
				t.Fatalf("ParseRefs(%q) = %v: empty or repeated reference", s, refs)
			}
			seen[r] = true
		}
	})
}
