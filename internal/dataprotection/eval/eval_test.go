package eval

import (
	"github.com/custodia/custodia/internal/corpora"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dp "github.com/custodia/custodia/internal/dataprotection"
	"github.com/custodia/custodia/internal/dataprotection/corpus"
)

// TestCorpusTargets scores the eval split (templates never used for
// tuning) and checks the accuracy targets on a CI-sized sample.
func TestCorpusTargets(t *testing.T) {
	s, err := dp.NewScanner(dp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := Corpus(s, corpus.Generate(corpus.Eval, 600, 11))
	var b strings.Builder
	WriteTable(&b, res.PerEntity, res.Overall())
	t.Logf("eval split, %d docs, %d bytes:\n%s", res.Docs, res.Bytes, b.String())
	cs := res.Checksummed()
	if cs.Recall() < 0.995 || cs.Precision() < 0.99 {
		t.Errorf("checksum-validated entities: precision %.4f recall %.4f, want ≥ 0.99 and ≥ 0.995", cs.Precision(), cs.Recall())
	}
	if r := res.SpokenPAN.Recall(); r < 0.98 || res.SpokenPAN.TP < 50 {
		t.Errorf("spoken PAN recall %.4f over %d, want ≥ 0.98 over ≥ 50", r, res.SpokenPAN.TP+res.SpokenPAN.FN)
	}
	if l := res.LeakPAN(); l > 0.001 {
		t.Errorf("PAN leak %.5f, want ≤ 0.001", l)
	}
	if l := res.Leak(); l > 0.002 {
		t.Errorf("PAN+CVV leak %.5f, want ≤ 0.002", l)
	}
	rate, ex := CleanRate(s, corpus.Generate(corpus.Clean, 600, 12))
	if rate > 1 {
		t.Errorf("%.3f findings per 100 KB of PII-free material, want ≤ 1: %v", rate, ex)
	}
}

func TestSplitsShareNoTemplate(t *testing.T) {
	train, ev := corpus.TemplateIDs(corpus.Train), corpus.TemplateIDs(corpus.Eval)
	if len(train) == 0 || len(ev) == 0 {
		t.Fatal("empty split")
	}
	for _, a := range train {
		for _, b := range ev {
			if a == b {
				t.Errorf("template %s in both splits", a)
			}
		}
	}
	for _, d := range corpus.Generate(corpus.Eval, 200, 3) {
		for _, id := range train {
			if d.Template == id {
				t.Errorf("eval document from train template %s", id)
			}
		}
		for _, sp := range d.Spans {
			if sp.Start < 0 || sp.End > len(d.Text) || sp.Start >= sp.End {
				t.Errorf("bad span %+v in %s", sp, d.Template)
			}
		}
	}
}

// presidioPath finds presidio-research's set in the shared corpora beside
// the repository.
func presidioPath() string {
	for _, p := range []string{filepath.Join(corpora.Dir("pii"), "synth_dataset_v2.json")} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// TestPresidioSet scores presidio-research's labelled English set and
// guards the figures reported in docs/bench-dataprotection.md.
func TestPresidioSet(t *testing.T) {
	path := presidioPath()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("shared/corpora/pii/synth_dataset_v2.json not found beside the repository (required under CI=true)")
		}
		t.Skip("shared/corpora/pii/synth_dataset_v2.json not found beside the repository")
	}
	s, _ := dp.NewScanner(dp.Options{Lang: "en", Entities: dp.AllEntities()})
	res, err := Presidio(s, path)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	WriteTable(&b, res.PerEntity, res.Overall())
	t.Logf("presidio set (%d sentences):\n%s", res.Sentences, b.String())
	if res.Sentences != 1500 {
		t.Errorf("read %d sentences, want 1500", res.Sentences)
	}
	for e, min := range map[string]float64{"CREDIT_CARD": 0.99, "EMAIL_ADDRESS": 0.99, "IBAN_CODE": 0.95, "US_SSN": 0.99, "IP_ADDRESS": 0.95, "URL": 0.95} {
		if c := res.PerEntity[e]; c == nil || c.F(2) < min {
			t.Errorf("%s F2 = %v, want ≥ %.2f", e, c, min)
		}
	}
	// The target is 0.80 overall; the guards sit a little under
	// the measured figures (docs/bench-dataprotection.md).
	for e, min := range map[string]float64{"PERSON": 0.77, "LOCATION": 0.83, "PHONE_NUMBER": 0.90, "DATE_TIME": 0.95} {
		if c := res.PerEntity[e]; c == nil || c.F(2) < min {
			t.Errorf("%s F2 = %v, want ≥ %.2f (regression guard)", e, c, min)
		}
	}
	if f := res.Overall().F(2); f < 0.86 {
		t.Errorf("overall F2 %.3f, want ≥ 0.86 (regression guard; target 0.80, Presidio's published figure 0.60)", f)
	}
}
