package catalog

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestImportOSCAL(t *testing.T) {
	c, err := ImportOSCAL("", readTestdata(t, "oscal-mini.json"))
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "5b7c1f7e-3a3e-4a55-9c1b-0d4c1c7b3f10" || c.Name != "Mini catalogue" || c.Version != "1.0" {
		t.Errorf("catalogue = %q %q %q", c.ID, c.Name, c.Version)
	}
	if len(c.Groups) != 2 || c.Groups[1].Parent != "ac" {
		t.Errorf("groups = %+v", c.Groups)
	}
	want := []struct{ id, group, parent string }{
		{"AC-1", "ac", ""}, {"ac-2", "ac", ""}, {"ac-2.1", "ac", "ac-2"}, {"ac-99", "ac-x", ""}, {"top-1", "", ""},
	}
	if len(c.Requirements) != len(want) {
		t.Fatalf("requirements = %+v", c.Requirements)
	}
	for i, w := range want {
		r := c.Requirements[i]
		if r.ID != w.id || r.Group != w.group || r.Parent != w.parent {
			t.Errorf("requirement %d = %s/%s/%s, want %s/%s/%s", i, r.ID, r.Group, r.Parent, w.id, w.group, w.parent)
		}
	}
	if c.Requirements[0].Text != "Write an access policy.\nReview it yearly." {
		t.Errorf("AC-1 text = %q", c.Requirements[0].Text)
	}
	if len(c.InGroup("ac")) != 4 {
		t.Errorf("len(InGroup(ac)) = %d, want 4", len(c.InGroup("ac")))
	}
}

func TestImportOSCALErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"syntax", "{\n  \"catalog\": {\n    \"uuid\": \"x\",,\n", "line 3, column 17"},
		{"type", "{\"catalog\": {\"uuid\": 7}}", "line 1, column 22: catalog.uuid: want string, got JSON number"},
		{"no catalog", `{"profile": {}}`, "no \"catalog\" object"},
		{"no title", `{"catalog": {"uuid": "u", "metadata": {}}}`, "$.catalog.metadata.title: required"},
		{"no control id", `{"catalog": {"uuid": "u", "metadata": {"title": "T"}, "groups": [{"id": "g", "title": "G", "controls": [{"title": "x"}]}]}}`, "$.catalog.groups[0].controls[0]: control id is required"},
		{"dup", `{"catalog": {"uuid": "u", "metadata": {"title": "T"}, "controls": [{"id": "a", "title": "A"}, {"id": "b", "title": "B", "controls": [{"id": "a", "title": "A2"}]}]}}`, "$.catalog.controls[1].controls[0]: control id \"a\" already used at $.catalog.controls[0]"},
		{"no control title", `{"catalog": {"uuid": "u", "metadata": {"title": "T"}, "controls": [{"id": "a"}]}}`, "control \"a\": title is required"},
		{"trailing", `{"catalog": {"uuid": "u", "metadata": {"title": "T"}}} {}`, "data after the JSON document"},
		{"empty", ``, "empty document"},
		{"ens bad cell", `{"catalog": {"uuid": "u", "metadata": {"title": "T"}, "controls": [{"id": "m", "title": "M", "props": [{"name": "ens-dimensions", "value": "C"}, {"name": "ens-level-1", "value": "aplica"}, {"name": "ens-level-2", "value": "yes"}, {"name": "ens-level-3", "value": "aplica"}]}]}}`, "$.catalog.controls[0]: control \"m\": ens-level-2"},
		{"ens bad dim", `{"catalog": {"uuid": "u", "metadata": {"title": "T"}, "controls": [{"id": "m", "title": "M", "props": [{"name": "ens-dimensions", "value": "C Z"}]}]}}`, "ens-dimensions \"C Z\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ImportOSCAL("", []byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ImportOSCAL() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestOSCALRoundTrip(t *testing.T) {
	lib := builtin(t)
	for _, c := range lib.Catalogs {
		t.Run(c.ID, func(t *testing.T) {
			out, err := ExportOSCAL(c, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			again, err := ExportOSCAL(c, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			if err != nil || !bytes.Equal(out, again) {
				t.Fatal("ExportOSCAL is not deterministic")
			}
			back, err := ImportOSCAL(c.ID, out)
			if err != nil {
				t.Fatalf("ImportOSCAL(ExportOSCAL(%s)): %v", c.ID, err)
			}
			if back.Name != c.Name || len(back.Groups) != len(c.Groups) || len(back.Requirements) != len(c.Requirements) {
				t.Fatalf("round trip: %d groups %d requirements, want %d %d", len(back.Groups), len(back.Requirements), len(c.Groups), len(c.Requirements))
			}
			for _, r := range c.Requirements {
				b, err := back.Requirement(r.ID)
				if err != nil {
					t.Fatal(err)
				}
				if b.Title != r.Title && r.Title != "" || b.TitleES != r.TitleES || b.Group != r.Group || b.Parent != r.Parent {
					t.Errorf("round trip %s = %+v, want %+v", r.ID, b, r)
				}
				if !reflect.DeepEqual(b.Dimensions, r.Dimensions) || b.ByCategory != r.ByCategory || !reflect.DeepEqual(b.Levels, r.Levels) || !reflect.DeepEqual(b.Reinforcements, r.Reinforcements) {
					t.Errorf("round trip %s lost ENS rules: %+v, want %+v", r.ID, b, r)
				}
			}
		})
	}
	out, _ := ExportOSCAL(mustCatalog(t, lib, ISO27001), time.Unix(0, 0))
	if !bytes.Contains(out, []byte(`"id": "c-4.1"`)) || !bytes.Contains(out, []byte(`"oscal-version": "1.1.2"`)) {
		t.Error("export does not turn 4.1 into a valid OSCAL id")
	}
}

func TestImportCISOAssistant(t *testing.T) {
	c, err := ImportCISOAssistant("", readTestdata(t, "ciso-mini.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "MINI-1" || c.Version != "2" || c.Licence != "Example" {
		t.Errorf("catalogue = %q %q %q", c.ID, c.Version, c.Licence)
	}
	if len(c.Groups) != 1 || c.Groups[0].ID != "1" {
		t.Errorf("groups = %+v", c.Groups)
	}
	want := []struct{ id, group, parent, title string }{
		{"1.1", "1", "", "Do the first thing"},
		{"1.1.a", "1", "1.1", "A sub-item without a ref_id or a name"},
		{"2", "", "", "Top-level requirement"},
	}
	if len(c.Requirements) != len(want) {
		t.Fatalf("requirements = %+v", c.Requirements)
	}
	for i, w := range want {
		r := c.Requirements[i]
		if r.ID != w.id || r.Group != w.group || r.Parent != w.parent || r.Title != w.title {
			t.Errorf("requirement %d = %+v, want %+v", i, r, w)
		}
	}
	if c.Requirements[0].Text != "The first thing must be done.\nTwice." {
		t.Errorf("1.1 text = %q", c.Requirements[0].Text)
	}
}

func TestImportCISOAssistantErrors(t *testing.T) {
	head := "objects:\n  framework:\n    ref_id: F\n    name: F\n    requirement_nodes:\n"
	tests := []struct{ name, doc, want string }{
		{"syntax", "objects: [\n", "ciso assistant: yaml: line"},
		{"no framework", "urn: x\nobjects:\n  risk_matrix: {}\n", "no objects.framework"},
		{"no urn", head + "      - ref_id: a\n        assessable: true\n", "line 6: requirement_nodes[0]: urn is required"},
		{"dup urn", head + "      - {urn: 'u:a', assessable: true, name: A}\n      - {urn: 'u:a', assessable: true, name: B}\n", "line 7: requirement_nodes[1]: urn \"u:a\" already used on line 6"},
		{"unknown parent", head + "      - {urn: 'u:a', parent_urn: 'u:z', assessable: true}\n", "line 6: requirement_nodes[0]: parent_urn \"u:z\" is not an earlier node"},
		{"bad type", head + "      - {urn: 'u:a', assessable: maybe}\n", "line 6: requirement_nodes[0]"},
		{"group under requirement", head + "      - {urn: 'u:a', assessable: true}\n      - {urn: 'u:b', parent_urn: 'u:a', assessable: false}\n", "non-assessable node \"b\" under assessable node \"a\""},
		{"empty", "", "empty document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ImportCISOAssistant("", []byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ImportCISOAssistant() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
