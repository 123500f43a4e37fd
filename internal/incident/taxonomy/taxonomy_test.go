package taxonomy

import "testing"

func TestTaxonomy(t *testing.T) {
	cs := Classes()
	if len(cs) != 11 {
		t.Errorf("len(Classes()) = %d, want 11", len(cs))
	}
	seen := map[string]bool{}
	for _, c := range cs {
		for _, ty := range c.Types {
			if seen[ty.ID] && ty.ID != "test" && ty.ID != "other" {
				t.Errorf("type %q appears twice", ty.ID)
			}
			seen[ty.ID] = true
		}
	}
	if c, ty, ok := Lookup("phishing"); !ok || c.ID != "fraud" || ty.Name != "Phishing" {
		t.Errorf("Lookup(phishing) = %v, %v, %v", c.ID, ty.Name, ok)
	}
	if !Valid("malicious-code", "c2-server") || Valid("fraud", "c2-server") || Valid("x", "nope") {
		t.Error("Valid gives wrong answers")
	}
}
