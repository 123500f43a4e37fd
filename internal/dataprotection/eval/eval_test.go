package eval

import (
	"os"
	"strings"
	"testing"

	dp "github.com/custodia/custodia/internal/dataprotection"
	"github.com/custodia/custodia/internal/dataprotection/corpus"
)

func TestCorpusSample(t *testing.T) {
	s, err := dp.NewScanner(dp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	docs := corpus.Generate(corpus.Eval, 400, 1)
	res := Corpus(s, docs)
	var b strings.Builder
	WriteTable(&b, res.PerEntity, res.Overall())
	t.Logf("eval split, %d docs, %d bytes:\n%s", res.Docs, res.Bytes, b.String())
	t.Logf("spoken PAN recall %.4f, PAN+CVV leak %.5f, PAN leak %.5f", res.SpokenPAN.Recall(), res.Leak(), res.LeakPAN())
	clean, ex := CleanRate(s, corpus.Generate(corpus.Clean, 300, 2))
	t.Logf("clean: %.3f findings per 100 KB %v", clean, ex)
}

func TestPresidioSet(t *testing.T) {
	const path = "/work/shared/corpora/pii/synth_dataset_v2.json"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("presidio set not present: %v", err)
	}
	s, _ := dp.NewScanner(dp.Options{Lang: "en", Entities: dp.AllEntities()})
	res, err := Presidio(s, path)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	WriteTable(&b, res.PerEntity, res.Overall())
	t.Logf("presidio set:\n%s", b.String())
}
