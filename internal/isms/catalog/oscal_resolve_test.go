package catalog

import (
	"strings"
	"testing"
)

func TestImportOSCALProfileBundle(t *testing.T) {
	c, err := ImportOSCALProfile("tailored", readTestdata(t, "oscal-profile-bundle.json"), []*Catalog{miniCatalog()})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Tailored widget baseline" || c.Version != "2" {
		t.Errorf("catalogue = %q %q", c.Name, c.Version)
	}
	if !strings.Contains(c.Source, "profile Widget baseline") || !strings.Contains(c.Source, "11111111-1111-4111-8111-111111111111") {
		t.Errorf("source = %q, want both imports named", c.Source)
	}
	var groups []string
	for _, g := range c.Groups {
		groups = append(groups, g.ID+"/"+g.Title+"/"+g.TitleES)
	}
	if got, want := strings.Join(groups, " "), "core/Core/Núcleo logging/Logging/"; got != want {
		t.Errorf("groups = %s, want %s (merge.custom)", got, want)
	}
	want := []Requirement{
		{ID: "ac-1", Group: "core", Title: "Policy", Text: "Define an access policy reviewed every year.\nPublish it to staff.\nTranslate it."},
		{ID: "ac-2", Group: "core", Title: "Account management", Text: "Manage accounts.\nReview accounts quarterly."},
		{ID: "ac-2.1", Group: "core", Parent: "ac-2", Title: "Automated account management", Text: "Automate it."},
		{ID: "ac-2.2", Group: "core", Parent: "ac-2", Title: "Removal of temporary accounts", Text: "Remove them after 7 days."},
		{ID: "au-1", Group: "logging", Title: "Audit policy", TitleES: "Política de registro"},
	}
	if len(c.Requirements) != len(want) {
		t.Fatalf("requirements = %+v, want %d", c.Requirements, len(want))
	}
	for i, w := range want {
		g := c.Requirements[i]
		if g.ID != w.ID || g.Group != w.Group || g.Parent != w.Parent || g.Title != w.Title || g.TitleES != w.TitleES || g.Text != w.Text {
			t.Errorf("requirement %d = %+v\nwant %+v", i, g, w)
		}
	}
}

// bundle builds a bundle of a profile and the widget catalog of the
// testdata bundle.
func bundle(t *testing.T, profiles ...string) []byte {
	t.Helper()
	b := string(readTestdata(t, "oscal-profile-bundle.json"))
	cat := b[strings.Index(b, `{
    "href": "catalogs/widget-catalog.json"`):]
	cat = strings.TrimSuffix(strings.TrimSpace(cat), "]")
	return []byte("[" + strings.Join(profiles, ",") + "," + cat + "]")
}

func ids(c *Catalog) string {
	var out []string
	for _, r := range c.Requirements {
		s := r.ID
		if r.Group != "" {
			s = r.Group + ":" + s
		}
		if r.Parent != "" {
			s += "<" + r.Parent
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestProfileSelectionAndStructure(t *testing.T) {
	const head = `{"profile":{"uuid":"p","metadata":{"title":"P"},`
	tests := []struct {
		name, profile, want string
	}{
		{"include-all is flat by default: no groups, no nesting",
			head + `"imports":[{"href":"widget-catalog.json","include-all":{}}]}}`,
			"ac-1 ac-2 ac-2.1 ac-2.2 au-1 au-2 au-10"},
		{"as-is keeps groups and nesting",
			head + `"imports":[{"href":"widget-catalog.json","include-controls":[{"with-ids":["ac-2"],"with-child-controls":"yes"}]}],"merge":{"as-is":true}}}`,
			"ac:ac-2 ac:ac-2.1<ac-2 ac:ac-2.2<ac-2"},
		{"without with-child-controls the children stay out",
			head + `"imports":[{"href":"widget-catalog.json","include-controls":[{"with-ids":["ac-2"]}]}],"merge":{"as-is":true}}}`,
			"ac:ac-2"},
		{"an enhancement without its parent is top level",
			head + `"imports":[{"href":"widget-catalog.json","include-controls":[{"with-ids":["ac-2.1"]}]}],"merge":{"as-is":true}}}`,
			"ac:ac-2.1"},
		{"matching with ? and *",
			head + `"imports":[{"href":"widget-catalog.json","include-controls":[{"matching":[{"pattern":"au-?"},{"pattern":"*.2"}]}]}]}}`,
			"ac-2.2 au-1 au-2"},
		{"exclude with children and patterns",
			head + `"imports":[{"href":"widget-catalog.json","include-all":{},"exclude-controls":[{"with-ids":["ac-2"],"with-child-controls":"yes"},{"matching":[{"pattern":"au-1*"}]}]}]}}`,
			"ac-1 au-2"},
		{"the same control imported twice is kept once",
			head + `"imports":[{"href":"widget-catalog.json","include-controls":[{"with-ids":["ac-1","au-1"]}]},{"href":"urn:uuid:11111111-1111-4111-8111-111111111111","include-controls":[{"with-ids":["au-1","au-2"]}]}]}}`,
			"ac-1 au-1 au-2"},
		{"custom: controls inserted nowhere are dropped; order descending",
			head + `"imports":[{"href":"widget-catalog.json","include-all":{}}],"merge":{"custom":{"insert-controls":[{"order":"descending","include-controls":[{"matching":[{"pattern":"au-*"}]}]}],
			"groups":[{"title":"Accounts","insert-controls":[{"include-controls":[{"with-ids":["ac-2"],"with-child-controls":"yes"}]}]}]}}}}`,
			"au-2 au-10 au-1 custom-1:ac-2 custom-1:ac-2.1<ac-2 custom-1:ac-2.2<ac-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ImportOSCALProfile("p", bundle(t, tt.profile), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(c); got != tt.want {
				t.Fatalf("selected %s\nwant     %s", got, tt.want)
			}
			for _, r := range c.Requirements {
				if r.Group != "" && !strings.HasPrefix(r.Group, "custom") && r.Group != "ac" && r.Group != "au" {
					t.Errorf("%s in unknown group %s", r.ID, r.Group)
				}
			}
		})
	}
}

func TestProfileCombine(t *testing.T) {
	// The inner profile retitles ac-1 and adds a part; the outer one
	// imports that version and the catalog's own.
	inner := `{"href":"inner.json","profile":{"uuid":"in","metadata":{"title":"Inner"},"imports":[{"href":"widget-catalog.json","include-controls":[{"with-ids":["ac-1"]}]}],
	"modify":{"alters":[{"control-id":"ac-1","adds":[{"title":"Retitled","parts":[{"id":"x","name":"item","prose":"Extra."}]}]}]}}}`
	outer := func(merge string) string {
		return `{"profile":{"uuid":"out","metadata":{"title":"Outer"},"imports":[{"href":"inner.json","include-all":{}},{"href":"widget-catalog.json","include-controls":[{"with-ids":["ac-1"]}]}]` + merge + `}}`
	}
	if _, err := ImportOSCALProfile("p", bundle(t, outer(""), inner), nil); err == nil || !strings.Contains(err.Error(), "controls selected twice in different versions: ac-1 (profile Inner and 11111111-1111-4111-8111-111111111111)") {
		t.Fatalf("keep (default) = %v, want a refusal naming ac-1", err)
	}
	c, err := ImportOSCALProfile("p", bundle(t, outer(`,"merge":{"combine":{"method":"use-first"}}`), inner), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Requirements[0]; len(c.Requirements) != 1 || r.Title != "Retitled" || !strings.HasSuffix(r.Text, "Extra.") {
		t.Fatalf("use-first = %+v", c.Requirements)
	}
	// merge: the first version, with the parts of the second it lacks (the
	// guidance part, which is not statement text, so the text is the same).
	c, err = ImportOSCALProfile("p", bundle(t, outer(`,"merge":{"combine":{"method":"merge"},"as-is":true}`), inner), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Requirements[0]; r.Title != "Retitled" || !strings.HasSuffix(r.Text, "Extra.") || r.Group != "" {
		t.Fatalf("merge = %+v (the inner profile is flat, so ac-1 has no group)", r)
	}
}

func TestProfileModifyOnLoadedCatalogue(t *testing.T) {
	c := miniCatalog()
	c.Requirements[0].Text = "Keep a policy reviewed every {{ insert: param, pol-freq }}."
	c.Requirements[0].TitleES = "Políticas"
	doc := `{"profile":{"uuid":"p","metadata":{"title":"P"},"imports":[{"href":"acme","include-controls":[{"with-ids":["A.5.1","9.1"]}]}],
	"modify":{"set-parameters":[{"param-id":"pol-freq","label":"how often"}],
	"alters":[{"control-id":"A.5.1","removes":[{"by-name":"title-es"}],"adds":[{"position":"starting","parts":[{"name":"item","prose":"First."}]}]},
	{"control-id":"9.1","adds":[{"parts":[{"name":"guidance","prose":"Test restores."}]},{"by-id":"nothing-here","parts":[{"name":"item","prose":"Ignored."}]}]}]}}}`
	got, err := ImportOSCALProfile("p", []byte(doc), []*Catalog{c})
	if err != nil {
		t.Fatal(err)
	}
	if r := got.Requirements[0]; r.Text != "Keep a policy reviewed every [Assignment: how often].\nFirst." || r.TitleES != "" {
		t.Errorf("A.5.1 = %q / %q", r.Text, r.TitleES)
	}
	if r := got.Requirements[1]; r.Text != "Test restores." {
		t.Errorf("9.1 text = %q, want the added part only (the add by an unknown id is inoperative)", r.Text)
	}
}

func TestProfileRefusals(t *testing.T) {
	const head = `{"profile":{"uuid":"p","metadata":{"title":"P"},`
	imp := `"imports":[{"href":"widget-catalog.json","include-all":{}}]`
	tests := []struct{ name, doc, want string }{
		{"circular", string(readTestdata(t, "oscal-profile-cycle.json")),
			"$[2].profile.imports[0].href: circular import: Outer ($[0]) → Middle ($[1]) → Inner ($[2]) → Outer ($[0])"},
		{"self import", `{"profile":{"uuid":"abc","metadata":{"title":"Me"},"imports":[{"href":"urn:uuid:abc","include-all":{}}]}}`,
			"$.profile.imports[0].href: circular import: Me ($) → Me ($)"},
		{"pattern matching nothing", head + `"imports":[{"href":"widget-catalog.json","include-controls":[{"with-ids":["ac-1","zz-9"],"matching":[{"pattern":"zz*"}]}]}]}}`,
			"$.profile.imports[0].include-controls: unknown control ids in 11111111-1111-4111-8111-111111111111: zz-9; patterns matching no control in 11111111-1111-4111-8111-111111111111: zz*"},
		{"empty pattern", head + `"imports":[{"href":"widget-catalog.json","include-controls":[{"matching":[{"pattern":" "}]}]}]}}`,
			"$.profile.imports[0].include-controls[0].matching[0].pattern: required"},
		{"selector without ids", head + `"imports":[{"href":"widget-catalog.json","include-controls":[{"with-child-controls":"yes"}]}]}}`,
			"$.profile.imports[0].include-controls[0]: want with-ids or matching"},
		{"with-child-controls", head + `"imports":[{"href":"widget-catalog.json","include-controls":[{"with-ids":["ac-1"],"with-child-controls":"maybe"}]}]}}`,
			`$.profile.imports[0].include-controls[0].with-child-controls: "maybe", want yes or no`},
		{"two structures", head + imp + `,"merge":{"flat":{},"as-is":true}}}`, "$.profile.merge: give one structuring directive at most"},
		{"combine method", head + imp + `,"merge":{"combine":{"method":"union"}}}}`, `$.profile.merge.combine.method: "union", want use-first, merge or keep`},
		{"custom group title", head + imp + `,"merge":{"custom":{"groups":[{"id":"g"}]}}}}`, "$.profile.merge.custom.groups[0].title: required"},
		{"custom order", head + imp + `,"merge":{"custom":{"insert-controls":[{"order":"random","include-all":{}}]}}}}`, `$.profile.merge.custom.insert-controls[0].order: "random"`},
		{"custom inserts twice", head + imp + `,"merge":{"custom":{"insert-controls":[{"include-all":{}}],"groups":[{"title":"G","insert-controls":[{"include-controls":[{"with-ids":["au-1"]}]}]}]}}}}`,
			"$.profile.merge.custom.groups[0].insert-controls[0]: control au-1 is already inserted at $.profile.merge.custom.insert-controls[0]"},
		{"custom unknown id", head + imp + `,"merge":{"custom":{"insert-controls":[{"include-controls":[{"with-ids":["ac-99"]}]}]}}}}`,
			"$.profile.merge.custom.insert-controls[0].include-controls: unknown control ids in the selection: ac-99"},
		{"unknown parameter", head + imp + `,"modify":{"set-parameters":[{"param-id":"ac-1_prm_1","values":["x"]},{"param-id":"nope","values":["y"]},{"param-id":"nah","label":"z"}]}}}`,
			"$.profile.modify.set-parameters: parameters no selected control uses: nope, nah"},
		{"parameter without value", head + imp + `,"modify":{"set-parameters":[{"param-id":"ac-1_prm_1"}]}}}`,
			"$.profile.modify.set-parameters[0]: sets nothing Custodia uses"},
		{"alter of an unselected control", head + `"imports":[{"href":"widget-catalog.json","include-controls":[{"with-ids":["ac-1"]}]}],"modify":{"alters":[{"control-id":"au-1","adds":[{"title":"X"}]},{"control-id":"zz","adds":[{"title":"Y"}]}]}}}`,
			"$.profile.modify.alters: controls the profile does not select: au-1, zz"},
		{"remove without criteria", head + imp + `,"modify":{"alters":[{"control-id":"ac-1","removes":[{}]}]}}}`,
			"$.profile.modify.alters[0].removes[0]: want by-name"},
		{"before without by-id", head + imp + `,"modify":{"alters":[{"control-id":"ac-1","adds":[{"position":"before","parts":[{"name":"item"}]}]}]}}}`,
			"$.profile.modify.alters[0].adds[0].position: before needs by-id"},
		{"add nothing", head + imp + `,"modify":{"alters":[{"control-id":"ac-1","adds":[{"position":"ending"}]}]}}}`,
			"$.profile.modify.alters[0].adds[0]: adds nothing"},
		{"part without name", head + imp + `,"modify":{"alters":[{"control-id":"ac-1","adds":[{"parts":[{"prose":"x"}]}]}]}}}`,
			"$.profile.modify.alters[0].adds[0].parts[0].name: required"},
		{"empty alter", head + imp + `,"modify":{"alters":[{"control-id":"ac-1"}]}}}`, "$.profile.modify.alters[0]: neither removes nor adds"},
		{"empty bundle", `[]`, "$: the bundle is empty"},
		{"bundle starting with a catalog", `[{"catalog":{"uuid":"c","metadata":{"title":"C"}}}]`, `$[0]: no "profile" object`},
		{"bundle member of another kind", `[` + head + imp + `}}, {"component-definition":{}}]`, `$[1]: neither a "profile" nor a "catalog" object`},
		{"both objects", `[` + head + imp + `}}, {"profile":{},"catalog":{}}]`, `$[1]: both a "profile" and a "catalog" object`},
		{"bad bundled profile", `[` + head + `"imports":[{"href":"x.json","include-all":{}}]}}, {"href":"x.json","profile":{"uuid":"x","metadata":{"title":"X"},"imports":[{"href":"y"}]}}]`,
			"$[1].profile.imports[0]: selects no control"},
		{"bad bundled catalog", `[` + head + `"imports":[{"href":"x.json","include-all":{}}]}}, {"href":"x.json","catalog":{"uuid":"x","metadata":{"title":"X"},"groups":[{"id":"g","title":"G","controls":[{"title":"no id"}]}]}}]`,
			"$[1].catalog.groups[0].controls[0]: control id is required"},
		{"unused bundled document", `[` + head + `"imports":[{"href":"acme","include-all":{}}]}}, {"href":"x.json","catalog":{"uuid":"x","metadata":{"title":"Spare"}}}]`,
			`$[1]: "Spare" is in the bundle but no profile imports it`},
		{"bundle syntax", "[\n{\"profile\": }]", "oscal profile: line 2, column 13"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, want := []byte(tt.doc), tt.want
			if strings.HasPrefix(tt.doc, head) { // wrapped in a bundle: paths start at $[0]
				doc, want = bundle(t, tt.doc), strings.ReplaceAll(want, "$.profile", "$[0].profile")
			}
			c, err := ImportOSCALProfile("p", doc, []*Catalog{miniCatalog()})
			if err == nil || c != nil {
				t.Fatalf("import = %v, %v; want an error", c, err)
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q\nwant it to contain %q", err, want)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"ac-*", "ac-1", true}, {"ac-*", "ac-", true}, {"ac-*", "au-1", false},
		{"?c-1", "ac-1", true}, {"?c-1", "c-1", false}, {"*", "", true},
		{"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false}, {"ac-[1]", "ac-[1]", true},
		{"**.1", "ac-2.1", true}, {"é?", "éa", true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pat, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}

func BenchmarkImportOSCALProfileBundle(b *testing.B) {
	doc := readTestdata(b, "oscal-profile-bundle.json")
	for b.Loop() {
		if _, err := ImportOSCALProfile("tailored", doc, nil); err != nil {
			b.Fatal(err)
		}
	}
}
