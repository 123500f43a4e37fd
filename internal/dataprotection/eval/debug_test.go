package eval

import (
	"os"
	"testing"

	dp "github.com/custodia/custodia/internal/dataprotection"
	"github.com/custodia/custodia/internal/dataprotection/corpus"
)

func TestDebugMisses(t *testing.T) {
	ent := os.Getenv("DP_DEBUG")
	if ent == "" {
		t.Skip("set DP_DEBUG=ENTITY")
	}
	s, _ := dp.NewScanner(dp.Options{})
	n := 0
	for _, d := range corpus.Generate(corpus.Eval, 400, 1) {
		fs := scanDoc(s, d)
		for _, g := range d.Spans {
			if string(g.Entity) != ent {
				continue
			}
			hit := false
			for _, f := range fs {
				if f.Entity == g.Entity && f.Start < g.End && g.Start < f.End {
					hit = true
				}
			}
			if !hit && n < 12 {
				n++
				t.Logf("FN %q in %s\n%s\nfound: %v", d.Text[g.Start:g.End], d.Template, d.Text, fs)
			}
		}
		for _, f := range fs {
			if string(f.Entity) != ent {
				continue
			}
			hit := false
			for _, g := range d.Spans {
				if f.Entity == g.Entity && f.Start < g.End && g.Start < f.End {
					hit = true
				}
			}
			if !hit && n < 24 {
				n++
				t.Logf("FP %q in %s", d.Text[f.Start:f.End], d.Template)
			}
		}
	}
}
