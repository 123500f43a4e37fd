package catalog

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// miniCatalog is a small catalogue with a group tree, an enhancement and
// ids that are not OSCAL tokens.
func miniCatalog() *Catalog {
	return &Catalog{ID: "acme", Name: "ACME controls", Version: "1",
		Groups: []Group{{ID: "A", Title: "Annex"}, {ID: "A.5", Parent: "A", Title: "Organizational"}, {ID: "B", Title: "Other"}},
		Requirements: []Requirement{
			{ID: "A.5.1", Group: "A.5", Title: "Policies"},
			{ID: "A.5.2", Group: "A.5", Title: "Roles"},
			{ID: "A.5.2.1", Group: "A.5", Parent: "A.5.2", Title: "Segregation"},
			{ID: "9.1", Group: "B", Title: "Backups"},
		}}
}

func TestImportOSCALProfileSelections(t *testing.T) {
	c := miniCatalog()
	href := "urn:uuid:" + nameUUID("acme")
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"include-controls with exported ids", `{"profile":{"uuid":"p1","metadata":{"title":"Mine"},"imports":[{"href":"` + href + `","include-controls":[{"with-ids":["A.5.1","c-9.1"]}]}]}}`, []string{"A.5.1", "9.1"}},
		{"include-all minus exclude", `{"profile":{"uuid":"p1","metadata":{"title":"Mine"},"imports":[{"href":"` + href + `","include-all":{},"exclude-controls":[{"with-ids":["A.5.2"]}]}]}}`, []string{"A.5.1", "A.5.2.1", "9.1"}},
		{"href by framework id and raw requirement ids", `{"profile":{"uuid":"p1","metadata":{"title":"Mine"},"imports":[{"href":"acme","include-controls":[{"with-ids":["A.5.2.1"]}]}]}}`, []string{"A.5.2.1"}},
		{"href to a back-matter resource by rlink", `{"profile":{"uuid":"p1","metadata":{"title":"Mine"},"imports":[{"href":"#r-1","include-controls":[{"with-ids":["9.1"]}]}],
		"back-matter":{"resources":[{"uuid":"r-0","title":"Other"},{"uuid":"r-1","rlinks":[{"href":"catalogs/acme-oscal.json"}]}]}}}`, []string{"9.1"}},
		{"href to a back-matter resource by title", `{"profile":{"uuid":"p1","metadata":{"title":"Mine"},"imports":[{"href":"#r-1","include-controls":[{"with-ids":["9.1"]}]}],
		"back-matter":{"resources":[{"uuid":"r-1","title":"ACME controls","rlinks":[{"href":"https://example.org/unknown.json"}]}]}}}`, []string{"9.1"}},
		{"href by exported file name", `{"profile":{"uuid":"p1","metadata":{"title":"Mine"},"imports":[{"href":"https://example.org/x/acme-oscal.json","include-controls":[{"with-ids":["9.1"]}]}]}}`, []string{"9.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ImportOSCALProfile("mine", []byte(tt.doc), []*Catalog{c})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got.Requirements {
				ids = append(ids, r.ID)
				if r.Parent != "" {
					if _, err := got.Requirement(r.Parent); err != nil {
						t.Errorf("%s keeps parent %s that was not selected", r.ID, r.Parent)
					}
				}
			}
			if strings.Join(ids, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("selected %v, want %v", ids, tt.want)
			}
			if got.ID != "mine" || got.Name != "Mine" || !strings.Contains(got.Source, "acme") {
				t.Errorf("catalogue = %q %q %q", got.ID, got.Name, got.Source)
			}
			if err := got.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestImportOSCALProfileRoundTripsTheExport(t *testing.T) {
	c := miniCatalog()
	doc, err := ExportOSCALProfile(c, "SoA", []string{"A.5.2", "A.5.2.1", "9.1"}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ImportOSCALProfile("soa", doc, []*Catalog{miniCatalog()})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Requirements) != 3 || got.Requirements[1].Parent != "A.5.2" {
		t.Fatalf("requirements = %+v", got.Requirements)
	}
	var groups []string
	for _, g := range got.Groups {
		groups = append(groups, g.ID)
	}
	if strings.Join(groups, " ") != "A A.5 B" {
		t.Fatalf("groups = %v, want the used ones with their ancestors", groups)
	}
}

func TestImportOSCALProfileRefusals(t *testing.T) {
	href := "urn:uuid:" + nameUUID("acme")
	tests := []struct{ name, doc, want string }{
		{"syntax", "{\"profile\":\n {\"uuid\": }", "oscal profile: line 2, column 11"},
		{"not a profile", `{"catalog":{}}`, `$: no "profile" object`},
		{"no title", `{"profile":{"uuid":"p","metadata":{},"imports":[{"href":"acme","include-all":{}}]}}`, "$.profile.metadata.title: required"},
		{"no imports", `{"profile":{"uuid":"p","metadata":{"title":"T"}}}`, "$.profile.imports: at least one import"},
		{"no href", `{"profile":{"uuid":"p","metadata":{"title":"T"},"imports":[{"include-all":{}}]}}`, "$.profile.imports[0].href: required"},
		{"no selection", `{"profile":{"uuid":"p","metadata":{"title":"T"},"imports":[{"href":"acme"}]}}`, "$.profile.imports[0]: selects no control"},
		{"both", `{"profile":{"uuid":"p","metadata":{"title":"T"},"imports":[{"href":"acme","include-all":{},"include-controls":[{"with-ids":["9.1"]}]}]}}`, "include-all and include-controls are exclusive"},
		{"wrong type", `{"profile":{"uuid":"p","metadata":{"title":"T"},"imports":[{"href":"acme","include-controls":[{"with-ids":"9.1"}]}]}}`, "line 1, column"},
		{"unknown catalogue", `{"profile":{"uuid":"p","metadata":{"title":"T"},"imports":[{"href":"urn:uuid:0000","include-all":{}}]}}`, `$.profile.imports[0].href: "urn:uuid:0000" names no loaded framework`},
		{"unknown resource", `{"profile":{"uuid":"p","metadata":{"title":"T"},"imports":[{"href":"#r-2","include-all":{}}],"back-matter":{"resources":[{"uuid":"r-2","title":"NIST SP 800-53"}]}}}`, `"#r-2" names no loaded framework`},
		{"unknown controls", `{"profile":{"uuid":"p","metadata":{"title":"T"},"imports":[{"href":"` + href + `","include-controls":[{"with-ids":["9.1","zz","c-A.9"]}]}]}}`, "$.profile.imports[0].include-controls: unknown control ids in acme: zz, c-A.9"},
		{"unknown exclusion", `{"profile":{"uuid":"p","metadata":{"title":"T"},"imports":[{"href":"acme","include-all":{},"exclude-controls":[{"with-ids":["nope"]}]}]}}`, "exclude-controls: unknown control ids in acme: nope"},
		{"empty selection", `{"profile":{"uuid":"p","metadata":{"title":"T"},"imports":[{"href":"acme","include-controls":[{"with-ids":["9.1"]}],"exclude-controls":[{"with-ids":["9.1"]}]}]}}`, "the selection is empty"},
		{"trailing data", `{"profile":{}} {}`, "data after the JSON document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ImportOSCALProfile("mine", []byte(tt.doc), []*Catalog{miniCatalog()})
			if err == nil || c != nil {
				t.Fatalf("import = %v, %v; want an error", c, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestAssessmentResultsRoundTrip(t *testing.T) {
	c := miniCatalog()
	in := []Assessed{{Requirement: "A.5.1", Status: Implemented}, {Requirement: "A.5.2", Status: Partial, Remarks: "half"}, {Requirement: "9.1", Status: NotImplemented}}
	doc, err := ExportOSCALAssessmentResults(c, "SoA", in, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseOSCALAssessmentResults(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ResolveAssessment(c, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("got %+v", got)
	}
	for i := range in {
		if !reflect.DeepEqual(got[i], in[i]) {
			t.Errorf("finding %d = %+v, want %+v", i, got[i], in[i])
		}
	}
}

func TestAssessmentResultsForeignDocument(t *testing.T) {
	// A document from another tool: no Custodia props, OSCAL ids.
	doc := `{"assessment-results":{"uuid":"x","metadata":{"title":"Audit"},"import-ap":{"href":"https://example.org/ap.json"},
	"results":[{"uuid":"r","findings":[
	{"uuid":"f1","target":{"type":"objective-id","target-id":"c-9.1","status":{"state":"satisfied"}}},
	{"uuid":"f2","target":{"type":"statement-id","target-id":"A.5.1_smt.a","status":{"state":"not-satisfied","remarks":"no backups"}}}]}]}}`
	a, err := ParseOSCALAssessmentResults([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ResolveAssessment(miniCatalog(), a)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Requirement != "9.1" || got[0].Status != Implemented || got[1].Requirement != "A.5.1" || got[1].Status != NotImplemented || got[1].Remarks != "no backups" {
		t.Fatalf("got %+v", got)
	}
}

func TestAssessmentResultsRefusals(t *testing.T) {
	wrap := func(findings string) string {
		return `{"assessment-results":{"uuid":"x","metadata":{"title":"T"},"results":[{"findings":[` + findings + `]}]}}`
	}
	parse := []struct{ name, doc, want string }{
		{"syntax", "{\n\"assessment-results\": [", "line 2, column"},
		{"not results", `{"profile":{}}`, `$: no "assessment-results" object`},
		{"no results", `{"assessment-results":{"uuid":"x","results":[]}}`, "$.assessment-results.results: at least one result"},
		{"no findings", wrap(``), "no findings"},
		{"no target", wrap(`{"target":{"status":{"state":"satisfied"}}}`), "$.assessment-results.results[0].findings[0].target.target-id: required"},
		{"bad state", wrap(`{"target":{"target-id":"9.1","status":{"state":"other"}}}`), `findings[0].target.status.state: "other", want satisfied or not-satisfied`},
		{"bad prop", wrap(`{"props":[{"name":"implementation-status","ns":"` + custodiaNS + `","value":"done"}],"target":{"target-id":"9.1","status":{"state":"satisfied"}}}`), `implementation-status "done"`},
		{"contradiction", wrap(`{"props":[{"name":"implementation-status","value":"partial"}],"target":{"target-id":"9.1","status":{"state":"satisfied"}}}`), "implementation-status partial contradicts state satisfied"},
	}
	for _, tt := range parse {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseOSCALAssessmentResults([]byte(tt.doc))
			if err == nil || a != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parse = %v, %v; want an error containing %q", a, err, tt.want)
			}
		})
	}
	resolve := []struct{ name, doc, want string }{
		{"unknown ids", wrap(`{"target":{"target-id":"zz","status":{"state":"satisfied"}}},{"target":{"target-id":"9.1","status":{"state":"satisfied"}}},{"target":{"target-id":"c-X","status":{"state":"satisfied"}}}`), "target ids unknown in acme: zz, c-X"},
		{"conflict", wrap(`{"target":{"target-id":"9.1","status":{"state":"satisfied"}}},{"target":{"target-id":"9.1","status":{"state":"not-satisfied"}}}`), "findings[1]: requirement 9.1 assessed twice"},
		{"other plan", `{"assessment-results":{"uuid":"x","import-ap":{"href":"urn:custodia:assessment-plan:gdpr"},"results":[{"findings":[{"target":{"target-id":"9.1","status":{"state":"satisfied"}}}]}]}}`, "assesses gdpr, not acme"},
	}
	for _, tt := range resolve {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseOSCALAssessmentResults([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ResolveAssessment(miniCatalog(), a)
			if err == nil || got != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("resolve = %v, %v; want an error containing %q", got, err, tt.want)
			}
		})
	}
}

func FuzzImportOSCALProfile(f *testing.F) {
	seed, err := ExportOSCALProfile(miniCatalog(), "SoA", []string{"A.5.1", "A.5.2.1"}, time.Unix(0, 0))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"profile":{"uuid":"p","metadata":{"title":"T"},"imports":[{"href":"acme","include-all":{},"exclude-controls":[{"with-ids":["9.1"]}]}]}}`))
	f.Add([]byte(`{"profile":{"imports":[{"href":"acme","include-controls":[{"with-ids":[""]}]}]}}`))
	f.Add([]byte(`{"profile":{"uuid":"p","metadata":{"title":"T"},"imports":[{"href":"#r","include-all":{}}],"back-matter":{"resources":[{"uuid":"r","title":"ACME controls","rlinks":[{"href":"#r"}]}]}}}`))
	f.Add([]byte(`{"profile":null}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ImportOSCALProfile("fuzz", b, []*Catalog{miniCatalog()})
		if err != nil {
			if c != nil {
				t.Fatal("ImportOSCALProfile returned a catalogue with an error")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("profile catalogue does not validate: %v", err)
		}
		if len(c.Requirements) == 0 {
			t.Fatal("empty selection accepted")
		}
		for _, r := range c.Requirements {
			if _, err := miniCatalog().Requirement(r.ID); err != nil {
				t.Fatalf("selected %q is not in the source catalogue", r.ID)
			}
		}
	})
}

func FuzzImportOSCALAssessment(f *testing.F) {
	seed, err := ExportOSCALAssessmentResults(miniCatalog(), "SoA", []Assessed{{Requirement: "A.5.1", Status: Implemented}, {Requirement: "9.1", Status: Partial}}, time.Unix(0, 0))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"assessment-results":{"results":[{"findings":[{"target":{"target-id":"9.1","status":{"state":"not-satisfied"}}}]}]}}`))
	f.Add([]byte(`{"assessment-results":{"results":[{"findings":[{"target":{"target-id":"zz","status":{"state":"satisfied"}}}]}]}}`))
	f.Add([]byte(`{"assessment-results":null}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseOSCALAssessmentResults(b)
		if err != nil {
			if a != nil {
				t.Fatal("ParseOSCALAssessmentResults returned results with an error")
			}
			return
		}
		got, err := ResolveAssessment(miniCatalog(), a)
		if err != nil {
			return
		}
		for _, as := range got {
			switch as.Status {
			case Implemented, Partial, NotImplemented:
			default:
				t.Fatalf("status %q for %s", as.Status, as.Requirement)
			}
		}
	})
}

func TestAssessmentResultsObservationsAndRisks(t *testing.T) {
	a, err := ParseOSCALAssessmentResults(readTestdata(t, "oscal-results-observations.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ResolveAssessment(miniCatalog(), a)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Requirement != "9.1" || got[0].Status != NotImplemented || got[1].Requirement != "A.5.1" || got[1].Status != Implemented || got[2].Requirement != "A.5.2" {
		t.Fatalf("assessed = %+v", got)
	}
	if len(got[2].Findings) != 0 {
		t.Errorf("A.5.2 keeps %d findings; a finding without observations or risks adds nothing", len(got[2].Findings))
	}
	f := got[0].Findings
	if len(f) != 1 || f[0].UUID != "f-backups" || f[0].Title != "Backups are not verified" || len(f[0].Observations) != 2 || len(f[0].Risks) != 1 {
		t.Fatalf("9.1 findings = %+v", f)
	}
	ob := f[0].Observations[0]
	if ob.Title != "Backup job logs" || ob.Collected != time.Date(2026, 11, 17, 9, 30, 0, 0, time.UTC) || ob.Expires.Year() != 2027 ||
		strings.Join(ob.Methods, ",") != "EXAMINE" || len(ob.Evidence) != 1 || ob.Evidence[0] != "Export of the backup console <https://files.example.org/audit/backup-log.csv>" {
		t.Errorf("observation = %+v", ob)
	}
	rk := f[0].Risks[0]
	if rk.Status != "open" || rk.Statement == "" || rk.Deadline != "2027-01-31T00:00:00Z" ||
		strings.Join(rk.Facets, "; ") != "likelihood=high (https://example.org/risk-scale); impact=moderate (https://example.org/risk-scale)" ||
		len(rk.MitigatingFactors) != 1 || len(rk.Remediations) != 1 || rk.Remediations[0] != "planned: Alert on failed jobs — Send failures to the service desk." {
		t.Errorf("risk = %+v", rk)
	}
	if p := got[1].Findings; len(p) != 1 || len(p[0].Observations) != 1 || p[0].Observations[0].UUID != "o-policy" {
		t.Errorf("A.5.1 findings = %+v", p)
	}
}

func TestAssessmentResultsDuplicateFindingsKeepTheirNotes(t *testing.T) {
	doc := `{"assessment-results":{"uuid":"x","metadata":{"title":"T"},"results":[{
	"observations":[{"uuid":"o1","description":"seen once","collected":"2026-01-01T00:00:00Z"},{"uuid":"o2","description":"seen twice","collected":"2026-01-02T00:00:00Z"}],
	"findings":[{"uuid":"f1","target":{"target-id":"9.1","status":{"state":"satisfied"}},"related-observations":[{"observation-uuid":"o1"}]},
	{"uuid":"f2","target":{"target-id":"c-9.1","status":{"state":"satisfied"}},"related-observations":[{"observation-uuid":"o2"}]}]}]}}`
	a, err := ParseOSCALAssessmentResults([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ResolveAssessment(miniCatalog(), a)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Findings) != 2 || got[0].Findings[1].Observations[0].Description != "seen twice" {
		t.Fatalf("assessed = %+v", got)
	}
}

func TestAssessmentResultsObservationRefusals(t *testing.T) {
	wrap := func(extra, links string) string {
		return `{"assessment-results":{"uuid":"x","metadata":{"title":"T"},"results":[{` + extra + `"findings":[{"target":{"target-id":"9.1","status":{"state":"satisfied"}}` + links + `}]}]}}`
	}
	obs := `"observations":[{"uuid":"o1","description":"d","collected":"2026-01-01T00:00:00Z"}],`
	risk := `"risks":[{"uuid":"r1","title":"R","description":"d","statement":"s","status":"open"}],`
	tests := []struct{ name, doc, want string }{
		{"unknown observation", wrap(obs, `,"related-observations":[{"observation-uuid":"o1"},{"observation-uuid":"o9"},{"observation-uuid":"o8"}]`),
			"$.assessment-results.results[0].findings[0].related-observations: observations not in the document: o9, o8"},
		{"unknown risk", wrap(risk, `,"related-risks":[{"risk-uuid":"r2"}]`), "$.assessment-results.results[0].findings[0].related-risks: risks not in the document: r2"},
		{"observation without description", wrap(`"observations":[{"uuid":"o1","collected":"2026-01-01T00:00:00Z"}],`, ""), "$.assessment-results.results[0].observations[0].description: required"},
		{"observation without uuid", wrap(`"observations":[{"description":"d","collected":"2026-01-01T00:00:00Z"}],`, ""), "$.assessment-results.results[0].observations[0].uuid: required"},
		{"observation date", wrap(`"observations":[{"uuid":"o1","description":"d","collected":"2026-01-01"}],`, ""), `$.assessment-results.results[0].observations[0].collected: "2026-01-01" is not a date-time`},
		{"observation expiry", wrap(`"observations":[{"uuid":"o1","description":"d","collected":"2026-01-01T00:00:00Z","expires":"soon"}],`, ""), `observations[0].expires: "soon"`},
		{"observation twice", wrap(`"observations":[{"uuid":"o1","description":"d","collected":"2026-01-01T00:00:00Z"},{"uuid":"o1","description":"d","collected":"2026-01-01T00:00:00Z"}],`, ""), "observations[1].uuid: o1 is used twice"},
		{"risk status", wrap(`"risks":[{"uuid":"r1","title":"R","status":"accepted"}],`, ""), `$.assessment-results.results[0].risks[0].status: "accepted", want open, investigating`},
		{"risk title", wrap(`"risks":[{"uuid":"r1","status":"open"}],`, ""), "$.assessment-results.results[0].risks[0].title: required"},
		{"risk deadline", wrap(`"risks":[{"uuid":"r1","title":"R","status":"open","deadline":"tomorrow"}],`, ""), `risks[0].deadline: "tomorrow"`},
		{"wrong type", wrap(`"observations":[{"uuid":"o1","description":"d","collected":"2026-01-01T00:00:00Z","methods":"EXAMINE"}],`, ""), "line 1, column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseOSCALAssessmentResults([]byte(tt.doc))
			if err == nil || a != nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parse = %v, %v\nwant an error containing %q", a, err, tt.want)
			}
		})
	}
}
