package detect

import (
	"os"
	"sort"
	"testing"

	"github.com/custodia/custodia/internal/detect/event"
)

func TestDebugEval(t *testing.T) {
	if os.Getenv("DEBUG_EVAL") == "" {
		t.Skip("debug only")
	}
	res, _ := LoadRules([]string{"/work/shared/corpora/sigma/rules/windows"}, nil)
	e, _ := NewEngine(Config{}, res.Rules...)
	st := e.Stats()
	t.Logf("stats %+v fields %d", st, len(e.fieldAC))
	lines := debugLines()
	routedN, evalN, alwaysN := 0, 0, 0
	hot := map[string]int{}
	for _, l := range lines {
		ev := parseLine(t, l)
		e.norm.Apply(ev)
		c := e.route(ev)
		e.gen++
		e.scan(ev)
		routedN += len(c)
		for _, ri := range c {
			r := e.rules[ri]
			if r.always {
				alwaysN++
				hot["ALWAYS "+r.rule.Title]++
			} else if r.mark == e.gen {
				evalN++
				hot[r.rule.Title]++
			}
		}
		_ = event.Event{}
	}
	n := float64(len(lines))
	t.Logf("per event: routed %.1f, always %.1f, marked %.1f, text %d", float64(routedN)/n, float64(alwaysN)/n, float64(evalN)/n, 0)
	type kv struct {
		k string
		v int
	}
	var kvs []kv
	for k, v := range hot {
		kvs = append(kvs, kv{k, v})
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].v > kvs[j].v })
	for _, x := range kvs[:min(40, len(kvs))] {
		t.Logf("%6d %s", x.v, x.k)
	}
}
