package eval

import (
	"encoding/json"
	"os"
	"testing"

	dp "github.com/custodia/custodia/internal/dataprotection"
)

func TestDebugPresidio(t *testing.T) {
	ent := os.Getenv("DP_PDEBUG")
	if ent == "" {
		t.Skip("set DP_PDEBUG=TYPE")
	}
	raw, _ := os.ReadFile("/work/shared/corpora/pii/synth_dataset_v2.json")
	var samples []presidioSample
	json.Unmarshal(raw, &samples)
	s, _ := dp.NewScanner(dp.Options{Lang: "en"})
	n := 0
	for _, smp := range samples {
		for _, sp := range smp.Spans {
			if sp.EntityType != ent || n > 40 {
				continue
			}
			r := []rune(smp.FullText)
			n++
			t.Logf("%q | found %v", string(r[sp.Start:sp.End]), render(smp.FullText, s.Scan([]byte(smp.FullText))))
		}
	}
}

func render(text string, fs []dp.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f.Entity)+"="+text[f.Start:f.End])
	}
	return out
}
