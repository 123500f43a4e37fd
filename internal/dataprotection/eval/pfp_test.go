package eval

import (
	"encoding/json"
	"os"
	"testing"

	dp "github.com/custodia/custodia/internal/dataprotection"
)

func TestDebugPresidioFP(t *testing.T) {
	ent := os.Getenv("DP_PFP")
	if ent == "" {
		t.Skip("set DP_PFP=ENTITY")
	}
	raw, _ := os.ReadFile("/work/shared/corpora/pii/synth_dataset_v2.json")
	var samples []presidioSample
	json.Unmarshal(raw, &samples)
	s, _ := dp.NewScanner(dp.Options{Lang: "en", Entities: dp.AllEntities()})
	n := 0
	for _, smp := range samples {
		text := []byte(smp.FullText)
		for _, f := range s.Scan(text) {
			if string(f.Entity) != ent {
				continue
			}
			// rune offsets
			rs := len([]rune(string(text[:f.Start])))
			re := len([]rune(string(text[:f.End])))
			hit := ""
			for _, sp := range smp.Spans {
				if sp.Start < re && rs < sp.End {
					hit = sp.EntityType
				}
			}
			if hit != "PERSON" && n < 40 {
				n++
				t.Logf("%q (%s) gold=%s", text[f.Start:f.End], f.Validator, hit)
			}
		}
	}
}
