package catalog

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestExportOSCALProfileAndResults(t *testing.T) {
	lib, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	iso, err := lib.Catalog(ISO27001)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	prof, err := ExportOSCALProfile(iso, "SoA", []string{"A.5.1", "A.8.13"}, at)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Profile struct {
			UUID    string `json:"uuid"`
			Imports []struct {
				Href            string `json:"href"`
				IncludeControls []struct {
					WithIDs []string `json:"with-ids"`
				} `json:"include-controls"`
			} `json:"imports"`
		} `json:"profile"`
	}
	if err := json.Unmarshal(prof, &p); err != nil {
		t.Fatal(err)
	}
	cat, _ := ExportOSCAL(iso, at)
	var c struct {
		Catalog struct {
			UUID string `json:"uuid"`
		} `json:"catalog"`
	}
	_ = json.Unmarshal(cat, &c)
	if got := p.Profile.Imports[0]; got.Href != "urn:uuid:"+c.Catalog.UUID || len(got.IncludeControls[0].WithIDs) != 2 {
		t.Fatalf("profile import = %+v, want the catalogue's uuid and the two controls", got)
	}
	for _, id := range p.Profile.Imports[0].IncludeControls[0].WithIDs {
		if !strings.Contains(string(cat), `"id": "`+id+`"`) {
			t.Errorf("profile selects %s, which the exported catalogue does not have", id)
		}
	}
	if _, err := ExportOSCALProfile(iso, "SoA", []string{"A.99"}, at); err == nil {
		t.Fatal("profile with an unknown requirement accepted")
	}
	res, err := ExportOSCALAssessmentResults(iso, "SoA", []Assessed{{Requirement: "A.5.1", Status: Implemented}, {Requirement: "A.8.13", Status: Partial, Remarks: "backups of the CRM only"}}, at)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		AR struct {
			Results []struct {
				Findings []struct {
					Target struct {
						TargetID string `json:"target-id"`
						Status   struct {
							State   string `json:"state"`
							Remarks string `json:"remarks"`
						} `json:"status"`
					} `json:"target"`
				} `json:"findings"`
			} `json:"results"`
		} `json:"assessment-results"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		t.Fatal(err)
	}
	fs := r.AR.Results[0].Findings
	if len(fs) != 2 || fs[0].Target.Status.State != "satisfied" || fs[1].Target.Status.State != "not-satisfied" || fs[1].Target.Status.Remarks == "" {
		t.Fatalf("findings = %+v", fs)
	}
}
