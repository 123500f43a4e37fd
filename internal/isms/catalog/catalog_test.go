package catalog

import (
	"errors"
	"strings"
	"testing"
)

func builtin(tb testing.TB) *Library {
	tb.Helper()
	lib, err := Builtin()
	if err != nil {
		tb.Fatalf("Builtin() error: %v", err)
	}
	return lib
}

func mustCatalog(tb testing.TB, lib *Library, id string) *Catalog {
	tb.Helper()
	c, err := lib.Catalog(id)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestENSCounts(t *testing.T) {
	c := mustCatalog(t, builtin(t), ENS)
	var measures int
	for _, r := range c.Requirements {
		if !r.IsENSMeasure() {
			t.Errorf("%s has no applicability rule", r.ID)
		}
		measures++
	}
	if measures != 73 {
		t.Errorf("ENS measures = %d, want 73", measures)
	}
	want := map[string]int{
		"org": 4, "op.pl": 5, "op.acc": 6, "op.exp": 10, "op.ext": 4, "op.nub": 1,
		"op.cont": 4, "op.mon": 3, "mp.if": 7, "mp.per": 4, "mp.eq": 4, "mp.com": 4,
		"mp.si": 5, "mp.sw": 2, "mp.info": 6, "mp.s": 4, "op": 33, "mp": 36, // org 4 + op 33 + mp 36 = 73
	}
	for g, n := range want {
		if got := len(c.InGroup(g)); got != n {
			t.Errorf("len(InGroup(%q)) = %d, want %d", g, got, n)
		}
	}
	for _, r := range c.Requirements {
		if r.Title == "" || r.TitleES == "" {
			t.Errorf("%s: want both Spanish and English titles, got %q / %q", r.ID, r.TitleES, r.Title)
		}
	}
}

func TestISOCounts(t *testing.T) {
	c := mustCatalog(t, builtin(t), ISO27001)
	for g, n := range map[string]int{"A.5": 37, "A.6": 8, "A.7": 14, "A.8": 34, "A": 93} {
		if got := len(c.InGroup(g)); got != n {
			t.Errorf("len(InGroup(%q)) = %d, want %d", g, got, n)
		}
	}
	for _, g := range []string{"4", "5", "6", "7", "8", "9", "10"} {
		if len(c.InGroup(g)) == 0 {
			t.Errorf("clause %s has no sub-clauses", g)
		}
	}
	r, err := c.Requirement("6.1.2")
	if err != nil {
		t.Fatal(err)
	}
	if r.Parent != "6.1" || r.Group != "6" {
		t.Errorf("6.1.2 parent, group = %q, %q; want 6.1, 6", r.Parent, r.Group)
	}
}

func TestParseLevelRule(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"n.a.", "n.a.", false},
		{"aplica", "aplica", false},
		{"+ R1", "+ R1", false},
		{"+R1+R2", "+ R1 + R2", false},
		{"+ [R1 o R2 o R3 o R4] + R8 + R9", "+ [R1 o R2 o R3 o R4] + R8 + R9", false},
		{"+[R2oR3]+R4", "+ [R2 o R3] + R4", false},      // the BOE's own spelling in mp.com.4
		{"+ R5 + [R2 o R3]", "+ [R2 o R3] + R5", false}, // choices are written first
		{"+ [R1 o R2] + [R3 o R4]", "+ [R1 o R2] + [R3 o R4]", false},
		{"+ [R1]", "", true},
		{"+ [R1 o R1]", "", true},
		{"+ [R1 o R2] + R2", "", true},
		{"+ [R1 o R2", "", true},
		{"+ [R1 y R2]", "", true},
		{"+ []", "", true},
		{"+ R1 + R1", "", true},
		{"+ R0", "", true},
		{"+ X1", "", true},
		{"sí", "", true},
		{"+", "", true},
	}
	for _, tt := range tests {
		got, err := ParseLevelRule(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseLevelRule(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && got.String() != tt.want {
			t.Errorf("ParseLevelRule(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseYAMLErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"syntax", "id: x\nname: [\n", "bad.yaml: decode: yaml: line"},
		{"unknown field", "id: x\nname: X\ncolour: red\n", "field colour not found"},
		{"unknown reinforcement", "id: x\nname: X\nmeasures:\n  - {id: m.1, es: M, dims: [C], req: [aplica, \"+ R1\", \"+ R2\"], refuerzos: [{id: R1, es: uno}]}\n", "unknown reinforcement R2"},
		{"unknown reinforcement in a choice", "id: x\nname: X\nmeasures:\n  - {id: m.1, es: M, dims: [C], req: [aplica, \"+ [R1 o R3]\", \"+ R1\"], refuerzos: [{id: R1, es: uno}, {id: R2, es: dos}]}\n", "unknown reinforcement R3"},
		{"bad cell", "id: x\nname: X\nmeasures:\n  - id: m.1\n    es: M\n    dims: [C]\n    req: [aplica, si, aplica]\n", "bad.yaml:4: requirement \"m.1\": MEDIO/MEDIA"},
		{"bad dimension", "id: x\nname: X\nmeasures:\n  - {id: m.1, es: M, dims: [Q], req: [aplica, aplica, aplica]}\n", "dimension \"Q\""},
		{"duplicate", "id: x\nname: X\nrequirements:\n  - {id: a, en: A}\n  - {id: a, en: B}\n", "requirement \"a\": duplicate id"},
		{"unknown group", "id: x\nname: X\nrequirements:\n  - {id: a, en: A, group: g}\n", "unknown group \"g\""},
		{"no title", "id: x\nname: X\nrequirements:\n  - {id: a}\n", "title is required"},
		{"two docs", "id: x\nname: X\n---\nid: y\n", "more than one YAML document"},
		{"empty", "", "empty document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseYAML("bad.yaml", []byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseYAML() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestValidateMappingsRejectsUnknown(t *testing.T) {
	lib := builtin(t)
	tests := []struct {
		m    Mapping
		want string
	}{
		{Mapping{From: Ref{ISO27001, "A.5.99"}, To: Ref{ENS, "org.1"}, Relationship: Equal}, "unknown requirement iso27001-2022:A.5.99"},
		{Mapping{From: Ref{ISO27001, "A.5.1"}, To: Ref{ENS, "op.exp.11"}, Relationship: Equal}, "unknown requirement ens-rd311-2022:op.exp.11"},
		{Mapping{From: Ref{"nist", "AC-1"}, To: Ref{ENS, "org.1"}, Relationship: Equal}, "unknown catalogue \"nist\""},
		{Mapping{From: Ref{ISO27001, "A.5.1"}, To: Ref{ENS, "org.1"}, Relationship: "same"}, "unknown relationship"},
	}
	for _, tt := range tests {
		err := lib.ValidateMappings([]Mapping{tt.m})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ValidateMappings(%v) error = %v, want it to contain %q", tt.m, err, tt.want)
		}
	}
	_, err := ParseMappings("m.yaml", []byte("mappings:\n  - {from: \"iso27001-2022:A.5.1\", to: \"ens-rd311-2022:org.1\", rel: similar}\n"))
	if err == nil || !strings.Contains(err.Error(), "m.yaml: mapping 1") || !strings.Contains(err.Error(), "similar") {
		t.Errorf("ParseMappings(bad rel) error = %v", err)
	}
}

func TestRequirementNotFound(t *testing.T) {
	c := mustCatalog(t, builtin(t), ENS)
	if _, err := c.Requirement("op.exp.11"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Requirement(op.exp.11) error = %v, want ErrNotFound", err)
	}
}
