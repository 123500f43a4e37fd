package sigma

import (
	"testing"

	"github.com/custodia/custodia/internal/detect/event"
)

func FuzzCondition(f *testing.F) {
	for _, s := range []string{"sel", "a and not b", "1 of sel_* and not 1 of filter_*", "(a or b) and c", "all of them", "not not a", "((a)", "a | count() > 5", "1 of", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseCondition(s)
		if err != nil {
			return
		}
		if n.String() == "" {
			t.Errorf("parseCondition(%q) rendered empty", s)
		}
	})
}

func FuzzRule(f *testing.F) {
	f.Add([]byte("title: t\nlogsource: {product: x}\ndetection:\n  sel:\n    A|contains|all: [a, b]\n    B|re: '^x'\n  condition: sel\n"))
	f.Add([]byte("title: t\ncorrelation: {type: event_count, rules: [a], group-by: [u], timespan: 1h, condition: {gte: 3}}\n"))
	f.Add([]byte("title: t\ndetection: {k: [a, '*b?'], condition: 'k or not k'}\n"))
	f.Add([]byte("title: t\ndetection: {s: {A|windash|base64offset|contains: '-x'}, condition: s}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, _ := Parse(data, "fuzz", nil)
		e := &event.Event{Raw: "a b -x"}
		e.Add("A", "a b c", event.String)
		e.Add("B", "x", event.String)
		for _, r := range rs {
			if r.Detection != nil {
				r.Detection.Match(e)
				r.Detection.Needles()
			}
		}
	})
}
