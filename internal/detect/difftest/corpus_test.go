package difftest

import (
	"github.com/custodia/custodia/internal/corpora"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"github.com/bradleyjkemp/sigma-go/evaluator"

	"github.com/custodia/custodia/internal/detect/event"
	"github.com/custodia/custodia/internal/detect/normalize"
	"github.com/custodia/custodia/internal/detect/parse"
	"github.com/custodia/custodia/internal/detect/sigma"
)

var corpus = corpora.Dir("sigma")

// pair is one rule file compiled by both engines.
type pair struct {
	path string
	raw  string
	ours *sigma.Rule
	ref  sigmago.Rule
	eval *evaluator.RuleEvaluator
}

// loadPairs compiles every rule under dir with both engines and returns
// the rules both accept, plus how many each accepted.
func loadPairs(tb testing.TB, dir string) (pairs []pair, oursN, refN int) {
	tb.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rs, errs := sigma.Parse(data, path, nil)
		okOurs := len(errs) == 0 && len(rs) == 1 && rs[0].Kind == sigma.KindDetection
		if okOurs {
			oursN++
		}
		ref, err := sigmago.ParseRule(data)
		okRef := err == nil && ref.Detection.Conditions != nil
		if okRef {
			refN++
		}
		if okOurs && okRef {
			pairs = append(pairs, pair{path: path, raw: string(data), ours: rs[0], ref: ref, eval: evaluator.ForRule(ref)})
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return pairs, oursN, refN
}

// refEvent converts a parsed, normalized event into the flat map sigma-go
// evaluates.
func refEvent(e *event.Event) map[string]any {
	m := make(map[string]any, len(e.Fields))
	for _, f := range e.Fields {
		if _, ok := m[f.Name]; ok {
			continue
		}
		if f.Kind == event.Null {
			m[f.Name] = nil
			continue
		}
		m[f.Name] = f.Value
	}
	return m
}

func parseEvents(tb testing.TB, lines []string, norm *normalize.Normalizer) []*event.Event {
	tb.Helper()
	p := parse.NewParser(parse.Auto)
	out := make([]*event.Event, len(lines))
	for i, l := range lines {
		e := &event.Event{}
		if err := p.Parse(l, e); err != nil {
			tb.Fatalf("Parse: %v", err)
		}
		norm.Apply(e)
		out[i] = e
	}
	return out
}

// routed reports whether the event's log sources admit the rule.
func routed(r *sigma.Rule, e *event.Event) bool {
	rl := event.Logsource{Product: r.Logsource.Product, Category: r.Logsource.Category, Service: r.Logsource.Service}
	for _, l := range e.Logsources {
		if normalize.Matches(rl, l) {
			return true
		}
	}
	return false
}

func refRules(pairs []pair) []sigmago.Rule {
	out := make([]sigmago.Rule, len(pairs))
	for i, p := range pairs {
		out[i] = p.ref
	}
	return out
}
