package difftest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/detect"
	"github.com/custodia/custodia/internal/detect/event"
	"github.com/custodia/custodia/internal/detect/parse"
)

// TestPrefilterEquivalence asserts that routing plus the literal
// prefilter never changes results: with all SigmaHQ Windows rules, the
// engine gives exactly the alerts of evaluating every rule on every event
// (restricted to the rules the event's log sources admit).
func TestPrefilterEquivalence(t *testing.T) {
	t.Parallel() // independent, and the two slowest tests of the package
	n, dir := 1500, corpus+"/rules/windows"
	if testing.Short() {
		n, dir = 300, corpus+"/rules/windows/process_creation"
	}
	res, err := detect.LoadRules([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := detect.NewEngine(detect.Config{}, res.Rules...)
	if err != nil {
		t.Fatal(err)
	}
	slow, err := detect.NewEngine(detect.Config{NoPrefilter: true}, res.Rules...)
	if err != nil {
		t.Fatal(err)
	}
	p := parse.NewParser(parse.Auto)
	total := 0
	for i, line := range Events(n, 7) {
		var a, b event.Event
		if err := p.Parse(line, &a); err != nil {
			t.Fatal(err)
		}
		if err := p.Parse(line, &b); err != nil {
			t.Fatal(err)
		}
		x, y := alertKey(fast.Process(&a)), alertKey(slow.Process(&b))
		total += strings.Count(y, ",")
		if x != y {
			t.Errorf("event %d: prefiltered %s, exhaustive %s", i, x, y)
		}
	}
	if total < n/60 {
		t.Errorf("only %d alerts over %d events: the stream should trigger rules", total, n)
	}
}

func alertKey(as []detect.Alert) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "%s,", a.RuleID)
	}
	return b.String()
}
