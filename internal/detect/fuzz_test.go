package detect

import (
	"testing"
	"time"

	"github.com/custodia/custodia/internal/detect/event"
	"github.com/custodia/custodia/internal/detect/normalize"
	"github.com/custodia/custodia/internal/detect/parse"
	"github.com/custodia/custodia/internal/detect/sigma"
)

// FuzzEngine checks, for any rule and any event, that evaluation never
// panics and that routing plus the literal prefilter give the same alerts
// as evaluating the rule exhaustively.
func FuzzEngine(f *testing.F) {
	f.Add("title: t\nid: x\nlogsource: {product: test}\ndetection: {sel: {A|contains|all: [ab, CD]}, condition: sel}\n", `{"logsource":{"product":"test"},"A":"xxABxcdx"}`)
	f.Add("title: t\nid: x\nlogsource: {product: test}\ndetection: {k: [foo, 'b*r'], f: {B|re: '(?i)^q+z'}, condition: k and not f}\n", `{"logsource":{"product":"test"},"m":"a FOO b","B":"QQz"}`)
	f.Add("title: t\nid: x\nlogsource: {product: windows, category: process_creation}\ndetection: {s: {Image|endswith: ['\\a.exe', '\\b.exe'], CommandLine|windash|contains: ' -x '}, condition: s}\n", `{"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},"EventData":{"Image":"C:\\A.EXE","CommandLine":"a /x b"}}}`)
	norm, err := normalize.New()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rule, line string) {
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("took %v: rule %q line %q", d, rule, line)
			}
		}()
		rs, errs := sigma.Parse([]byte(rule), "fuzz", nil)
		if len(errs) > 0 || len(rs) == 0 {
			return
		}
		fast, err := NewEngine(Config{Normalizer: norm}, rs...)
		if err != nil {
			return
		}
		slow, _ := NewEngine(Config{Normalizer: norm, NoPrefilter: true}, rs...)
		p := parse.NewParser(parse.Auto)
		var a, b event.Event
		if p.Parse(line, &a) != nil || p.Parse(line, &b) != nil {
			return
		}
		x, y := ids(fast.Process(&a)), ids(slow.Process(&b))
		if x != y {
			t.Fatalf("prefiltered alerts %q, exhaustive %q", x, y)
		}
	})
}
