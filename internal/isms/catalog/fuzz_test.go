package catalog

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func FuzzImportOSCAL(f *testing.F) {
	seed, err := os.ReadFile("testdata/oscal-mini.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"catalog": {"uuid": "u", "metadata": {"title": "T"}, "controls": [{"id": "a", "title": "A", "controls": [{"id": "a.1", "title": "A1"}]}]}}`))
	f.Add([]byte(`{"catalog": {"uuid": 7}}`))
	f.Add([]byte(`{"catalog": null}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ImportOSCAL("fuzz", b)
		if err != nil {
			if c != nil {
				t.Fatal("ImportOSCAL returned a catalogue with an error")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("imported catalogue does not validate: %v", err)
		}
		out, err := ExportOSCAL(c, time.Unix(0, 0))
		if err != nil {
			t.Fatalf("ExportOSCAL of an imported catalogue: %v", err)
		}
		back, err := ImportOSCAL("fuzz", out)
		if err != nil {
			t.Fatalf("re-import of export: %v", err)
		}
		if len(back.Requirements) != len(c.Requirements) || len(back.Groups) != len(c.Groups) {
			t.Fatalf("round trip changed counts: %d/%d → %d/%d", len(c.Groups), len(c.Requirements), len(back.Groups), len(back.Requirements))
		}
	})
}

func FuzzImportCISOAssistant(f *testing.F) {
	seed, err := os.ReadFile("testdata/ciso-mini.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("objects:\n  framework:\n    ref_id: F\n    requirement_nodes:\n      - {urn: 'u:a', assessable: true}\n"))
	f.Add([]byte("objects: [\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ImportCISOAssistant("fuzz", b)
		if err != nil {
			if c != nil {
				t.Fatal("ImportCISOAssistant returned a catalogue with an error")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("imported catalogue does not validate: %v", err)
		}
		if _, err := ExportOSCAL(c, time.Unix(0, 0)); err != nil {
			t.Fatalf("ExportOSCAL of an imported catalogue: %v", err)
		}
	})
}

func FuzzParseYAML(f *testing.F) {
	for _, name := range []string{"ens-rd311-2022.yaml", "iso27001-2022.yaml", "lopdgdd.yaml"} {
		b, err := dataFS.ReadFile("data/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("id: x\nname: X\nmeasures:\n  - {id: m.1, es: M, dims: [C], req: [aplica, \"+ R1\", \"+ R2\"], refuerzos: [{id: R1, es: uno}]}\n"))
	f.Add([]byte("id: x\nname: X\nrequirements:\n  - {id: a.1, en: A}\n  - {id: a.1.1, en: B}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseYAML("fuzz.yaml", b)
		if err != nil {
			if c != nil {
				t.Fatal("ParseYAML returned a catalogue with an error")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed catalogue does not validate: %v", err)
		}
		for _, r := range c.Requirements {
			for i, lv := range r.Levels {
				again, err := ParseLevelRule(lv.String())
				if err != nil || again.String() != lv.String() {
					t.Fatalf("%s level %d: %q does not re-parse: %v", r.ID, i, lv, err)
				}
			}
		}
	})
}

func FuzzParseMappings(f *testing.F) {
	b, err := dataFS.ReadFile("data/mappings.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("mappings:\n  - {from: \"a:1\", to: \"b:2\", rel: subset}\n"))
	f.Add([]byte("mappings:\n  - {from: \"a\", to: \"b:2\", rel: subset}\n"))
	lib, err := Builtin()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := ParseMappings("fuzz.yaml", b)
		if err != nil {
			return
		}
		for _, m := range ms {
			if !m.Relationship.Valid() || m.From.Catalog == "" || m.To.Requirement == "" || m.From.Catalog == m.To.Catalog {
				t.Fatalf("ParseMappings accepted %+v", m)
			}
		}
		// Validation against the library must not panic, and what it
		// accepts must draft without error.
		if lib.ValidateMappings(ms) == nil && len(ms) > 0 {
			l2 := &Library{Catalogs: lib.Catalogs, Mappings: ms}
			if _, err := l2.Draft(ms[0].From.Catalog, map[string]Status{ms[0].From.Requirement: Implemented}, ms[0].To.Catalog); err != nil {
				t.Fatalf("Draft over valid mappings: %v", err)
			}
		}
	})
}

func FuzzImportOSCALProfileBundle(f *testing.F) {
	for _, name := range []string{"oscal-profile-bundle.json", "oscal-profile-cycle.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"profile":{"uuid":"p","metadata":{"title":"T"},"imports":[{"href":"acme","include-controls":[{"matching":[{"pattern":"A.*"}],"with-child-controls":"yes"}]}],
	"merge":{"custom":{"groups":[{"title":"G","insert-controls":[{"order":"descending","include-all":{}}]}]}},
	"modify":{"alters":[{"control-id":"A.5.2","removes":[{"by-name":"statement"}],"adds":[{"parts":[{"name":"item","prose":"x {{ insert: param, p1 }}"}],"params":[{"id":"p1","values":["v"]}]}]}]}}}`))
	f.Add([]byte(`[{"profile":{"uuid":"a","metadata":{"title":"A"},"imports":[{"href":"b.json","include-all":{}},{"href":"acme","include-all":{}}],"merge":{"combine":{"method":"merge"},"as-is":true}}},
	{"href":"b.json","profile":{"uuid":"b","metadata":{"title":"B"},"imports":[{"href":"acme","include-all":{}}],"modify":{"alters":[{"control-id":"9.1","adds":[{"title":"Nine"}]}]}}}]`))
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
		// Resolution copies what it alters: the loaded catalogue is
		// untouched and a second resolution gives the same result.
		loaded := miniCatalog()
		again, err := ImportOSCALProfile("fuzz", b, []*Catalog{loaded})
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("second resolution differs: %v", err)
		}
		if !reflect.DeepEqual(loaded, miniCatalog()) {
			t.Fatal("resolution changed the loaded catalogue")
		}
	})
}

func FuzzImportOSCALAssessmentObservations(f *testing.F) {
	b, err := os.ReadFile("testdata/oscal-results-observations.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"assessment-results":{"results":[{"observations":[{"uuid":"o","description":"d","collected":"2026-01-01T00:00:00Z"}],
	"risks":[{"uuid":"r","title":"t","status":"closed"}],"findings":[{"target":{"target-id":"9.1","status":{"state":"not-satisfied"}},
	"related-observations":[{"observation-uuid":"o"}],"related-risks":[{"risk-uuid":"r"},{"risk-uuid":"r"}]}]}]}}`))
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
			for _, f := range as.Findings {
				if len(f.Observations) == 0 && len(f.Risks) == 0 {
					t.Fatalf("%s keeps a finding without observations or risks", as.Requirement)
				}
				for _, ob := range f.Observations {
					if ob.UUID == "" || ob.Description == "" || ob.Collected.IsZero() {
						t.Fatalf("observation accepted incomplete: %+v", ob)
					}
				}
				for _, rk := range f.Risks {
					if rk.UUID == "" || rk.Title == "" || !slices.Contains(riskStatuses, rk.Status) {
						t.Fatalf("risk accepted incomplete: %+v", rk)
					}
				}
			}
		}
	})
}

// FuzzGlobMatch checks the matching patterns against the same glob written
// as a regular expression.
func FuzzGlobMatch(f *testing.F) {
	f.Add("ac-*", "ac-2.1")
	f.Add("a?c*", "abc")
	f.Add("**x*?", "xyz")
	f.Fuzz(func(t *testing.T, pat, s string) {
		var re strings.Builder
		re.WriteString(`(?s)^`)
		for _, r := range pat {
			switch r {
			case '*':
				re.WriteString(".*")
			case '?':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString("$")
		rx, err := regexp.Compile(re.String())
		if err != nil {
			return
		}
		if got, want := globMatch(pat, s), rx.MatchString(s); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, regexp says %v", pat, s, got, want)
		}
	})
}
