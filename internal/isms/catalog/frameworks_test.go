package catalog

import (
	"strings"
	"testing"
)

func TestGDPRAndLOPDGDD(t *testing.T) {
	lib := builtin(t)
	c := mustCatalog(t, lib, GDPR)
	for g, n := range map[string]int{"ch2": 4, "ch3": 11, "ch4": 16, "ch5": 6} {
		if got := len(c.InGroup(g)); got != n {
			t.Errorf("GDPR len(InGroup(%q)) = %d, want %d", g, got, n)
		}
	}
	for _, r := range c.Requirements {
		if r.Title == "" || r.TitleES == "" {
			t.Errorf("GDPR %s lacks a title in English or Spanish", r.ID)
		}
	}
	l := mustCatalog(t, lib, LOPDGDD)
	for _, id := range []string{"art.32", "art.34"} {
		if _, err := l.Requirement(id); err != nil {
			t.Error(err)
		}
	}
}

func TestPCICounts(t *testing.T) {
	c := mustCatalog(t, builtin(t), PCIDSS)
	want := map[string]int{"1": 5, "2": 3, "3": 7, "4": 2, "5": 4, "6": 5, "7": 3, "8": 6, "9": 5, "10": 7, "11": 6, "12": 10, "A1": 2, "A2": 1, "A3": 5}
	total := 0
	for g, n := range want {
		if got := len(c.InGroup(g)); got != n {
			t.Errorf("PCI len(InGroup(%q)) = %d, want %d", g, got, n)
		}
		total += n
	}
	if len(c.Requirements) != total {
		t.Errorf("PCI has %d requirements, want %d", len(c.Requirements), total)
	}
}

func TestBuiltinMappings(t *testing.T) {
	lib := builtin(t)
	if len(lib.Mappings) < 40 {
		t.Errorf("len(Mappings) = %d, want at least 40", len(lib.Mappings))
	}
	pairs := map[string]bool{}
	for _, m := range lib.Mappings {
		pairs[m.From.Catalog+"→"+m.To.Catalog] = true
	}
	for _, p := range []string{"iso27001-2022→ens-rd311-2022", "iso27001-2022→pci-dss-4.0.1", "iso27001-2022→gdpr", "ens-rd311-2022→pci-dss-4.0.1", "ens-rd311-2022→gdpr"} {
		if !pairs[p] {
			t.Errorf("no mapping %s", p)
		}
	}
}

func TestDraft(t *testing.T) {
	lib := builtin(t)
	got, err := lib.Draft(ISO27001, map[string]Status{
		"A.8.13": Implemented,    // equal → mp.info.6 implemented
		"A.8.24": Implemented,    // intersect → op.exp.10, mp.si.2 partial
		"A.7.2":  Implemented,    // superset → mp.if.2 implemented
		"A.5.26": Implemented,    // subset → op.exp.7 partial
		"A.8.32": NotImplemented, // equal → op.exp.5 not implemented
		"A.8.15": NotImplemented, // intersect → nothing
		"A.5.3":  Partial,        // equal, partial → op.acc.3 partial
	}, ENS)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Status{
		"op.acc.3": Partial, "op.exp.5": NotImplemented, "op.exp.7": Partial, "op.exp.10": Partial,
		"mp.if.2": Implemented, "mp.si.2": Partial, "mp.info.6": Implemented,
	}
	if len(got) != len(want) {
		t.Errorf("Draft() returned %d drafts, want %d: %+v", len(got), len(want), got)
	}
	for _, d := range got {
		if want[d.Requirement] != d.Status {
			t.Errorf("Draft()[%s] = %s, want %s", d.Requirement, d.Status, want[d.Requirement])
		}
		if d.Requirement == "mp.info.6" && d.Note != "draft: implemented via equal mapping from iso27001-2022:A.8.13" {
			t.Errorf("mp.info.6 note = %q", d.Note)
		}
	}
	// Reverse direction: ENS → ISO uses the inverse relationship (a subset
	// seen from the other side is a superset, so op.exp.7 implemented
	// drafts A.5.26 implemented).
	back, err := lib.Draft(ENS, map[string]Status{"op.exp.7": Implemented}, ISO27001)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 1 || back[0].Requirement != "A.5.26" || back[0].Status != Implemented || !strings.Contains(back[0].Note, "superset") {
		t.Errorf("Draft(ENS→ISO) = %+v, want A.5.26 implemented via superset", back)
	}
	if _, err := lib.Draft(ISO27001, map[string]Status{"A.9.9": Implemented}, ENS); err == nil {
		t.Error("Draft with unknown source requirement succeeded")
	}
	if _, err := lib.Draft(ISO27001, nil, "nist"); err == nil {
		t.Error("Draft to unknown catalogue succeeded")
	}
}
