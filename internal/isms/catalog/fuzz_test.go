package catalog

import (
	"os"
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
