package event

import (
	"strconv"
	"strings"
	"testing"
)

func TestEventFields(t *testing.T) {
	for _, n := range []int{3, 100} { // linear scan and map index
		var e Event
		for round := 0; round < 2; round++ { // Reset must leave no trace
			e.Reset()
			for i := 0; i < n; i++ {
				e.Add("f"+strconv.Itoa(i), "Value "+strconv.Itoa(i), String)
			}
			e.Add("f0", "shadowed", String)
			if v, ok := e.Value("f0"); !ok || v != "Value 0" {
				t.Errorf("n=%d: f0 = %q, %v; want the first field", n, v, ok)
			}
			e.Alias("alias", e.Index("f1"))
			if f := e.Get("alias"); f == nil || f.Value != "Value 1" || !f.Dup {
				t.Errorf("n=%d: alias = %+v", n, f)
			}
			e.Set("f2", "other", String)
			if v, _ := e.Value("f2"); v != "Value 2" {
				t.Errorf("n=%d: Set overwrote f2: %q", n, v)
			}
			e.AddList("list", []string{"A", "b"})
			if f := e.Get("list"); f == nil || f.Value != "A b" || len(e.Items(f)) != 2 {
				t.Errorf("n=%d: list = %+v", n, f)
			}
			e.LowerAll()
			for i := range e.Fields {
				f := &e.Fields[i]
				if f.Lower() != strings.ToLower(f.Value) {
					t.Errorf("Lower(%q) = %q", f.Value, f.Lower())
				}
			}
			if e.Get("missing") != nil || e.Index("missing") != -1 {
				t.Errorf("n=%d: missing field found", n)
			}
		}
	}
}

func TestToLower(t *testing.T) {
	for _, s := range []string{"", "abc", "ABC", "ÉCOLE", "mixed Case 123"} {
		if got := ToLower(s); got != strings.ToLower(s) {
			t.Errorf("ToLower(%q) = %q", s, got)
		}
	}
	var e Event
	e.Add("u", "ÉCOLE Straße", String)
	e.LowerAll()
	if got := e.Fields[0].Lower(); got != strings.ToLower("ÉCOLE Straße") {
		t.Errorf("LowerAll non-ASCII = %q", got)
	}
}
