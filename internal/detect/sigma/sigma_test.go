package sigma

import (
	"github.com/custodia/custodia/internal/corpora"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/detect/event"
)

func mkEvent(kv ...string) *event.Event {
	e := &event.Event{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<null>" {
			e.Add(kv[i], "", event.Null)
			continue
		}
		e.Add(kv[i], kv[i+1], event.String)
	}
	return e
}

func mustRule(t *testing.T, detection string) *Rule {
	t.Helper()
	src := "title: t\nlogsource: {product: test}\ndetection:\n" + indent(detection)
	r, err := ParseOne([]byte(src))
	if err != nil {
		t.Fatalf("ParseOne(%q): %v", detection, err)
	}
	return r
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestSemantics(t *testing.T) {
	tests := []struct {
		name      string
		detection string
		event     []string
		want      bool
	}{
		{"equal case-insensitive", "sel:\n    Image: 'C:\\Windows\\cmd.exe'\ncondition: sel", []string{"Image", `c:\windows\CMD.EXE`}, true},
		{"equal mismatch", "sel:\n    Image: 'cmd.exe'\ncondition: sel", []string{"Image", `c:\windows\cmd.exe`}, false},
		{"endswith", "sel:\n    Image|endswith: '\\cmd.exe'\ncondition: sel", []string{"Image", `C:\Windows\cmd.exe`}, true},
		{"startswith", "sel:\n    Image|startswith: 'C:\\Win'\ncondition: sel", []string{"Image", `c:\windows\cmd.exe`}, true},
		{"contains", "sel:\n    CommandLine|contains: 'EncodedCommand'\ncondition: sel", []string{"CommandLine", "powershell -encodedcommand abc"}, true},
		{"contains all", "sel:\n    CommandLine|contains|all: [' -a ', ' -b ']\ncondition: sel", []string{"CommandLine", "x -b y-a z"}, false},
		{"contains all ok", "sel:\n    CommandLine|contains|all: [' -a ', ' -b ']\ncondition: sel", []string{"CommandLine", "x -b  -a z"}, true},
		{"list is or", "sel:\n    EventID: [1, 2]\ncondition: sel", []string{"EventID", "2"}, true},
		{"map is and", "sel:\n    EventID: 1\n    User: bob\ncondition: sel", []string{"EventID", "1", "User", "alice"}, false},
		{"list of maps", "sel:\n    - A: x\n    - B: y\ncondition: sel", []string{"B", "Y"}, true},
		{"wildcard star", "sel:\n    A: 'a*c'\ncondition: sel", []string{"A", "abbbc"}, true},
		{"wildcard question", "sel:\n    A: 'a?c'\ncondition: sel", []string{"A", "abbc"}, false},
		{"wildcard question one", "sel:\n    A: 'a?c'\ncondition: sel", []string{"A", "aéc"}, true},
		{"escaped star", "sel:\n    A: 'a\\*c'\ncondition: sel", []string{"A", "abc"}, false},
		{"escaped star literal", "sel:\n    A: 'a\\*c'\ncondition: sel", []string{"A", "a*c"}, true},
		{"escaped backslash then wildcard", "sel:\n    A: 'a\\\\*'\ncondition: sel", []string{"A", `a\xyz`}, true},
		{"plain backslash", "sel:\n    A: 'C:\\Temp'\ncondition: sel", []string{"A", `c:\temp`}, true},
		{"cased", "sel:\n    A|cased: 'Abc'\ncondition: sel", []string{"A", "abc"}, false},
		{"cased ok", "sel:\n    A|cased: 'Abc'\ncondition: sel", []string{"A", "Abc"}, true},
		{"re", "sel:\n    A|re: '^a.c$'\ncondition: sel", []string{"A", "abc"}, true},
		{"re case-sensitive", "sel:\n    A|re: '^A'\ncondition: sel", []string{"A", "abc"}, false},
		{"re i", "sel:\n    A|re|i: '^A'\ncondition: sel", []string{"A", "abc"}, true},
		{"re s", "sel:\n    A|re|s: 'a.b'\ncondition: sel", []string{"A", "a\nb"}, true},
		{"re no s", "sel:\n    A|re: 'a.b'\ncondition: sel", []string{"A", "a\nb"}, false},
		{"re m", "sel:\n    A|re|m: '^b$'\ncondition: sel", []string{"A", "a\nb"}, true},
		{"cidr v4", "sel:\n    Ip|cidr: 10.0.0.0/8\ncondition: sel", []string{"Ip", "10.2.3.4"}, true},
		{"cidr v4 no", "sel:\n    Ip|cidr: 10.0.0.0/8\ncondition: sel", []string{"Ip", "11.2.3.4"}, false},
		{"cidr v6", "sel:\n    Ip|cidr: 'fe80::/10'\ncondition: sel", []string{"Ip", "fe80::1"}, true},
		{"base64", "sel:\n    A|base64: 'abc'\ncondition: sel", []string{"A", "YWJj"}, true},
		{"base64offset contains", "sel:\n    A|base64offset|contains: 'http://'\ncondition: sel", []string{"A", "xx" + "IGh0dHA6Ly9" + "yy"}, true},
		{"wide base64offset", "sel:\n    A|wide|base64offset|contains: 'ping'\ncondition: sel", []string{"A", "cABpAG4AZwA"}, true},
		{"utf16le", "sel:\n    A|utf16le|contains: 'ab'\ncondition: sel", []string{"A", "xa\x00b\x00y"}, true},
		{"utf16be", "sel:\n    A|utf16be: 'ab'\ncondition: sel", []string{"A", "\x00a\x00b"}, true},
		{"utf16 bom", "sel:\n    A|utf16: 'a'\ncondition: sel", []string{"A", "\xff\xfea\x00"}, true},
		{"windash slash", "sel:\n    CommandLine|windash|contains: ' -enc '\ncondition: sel", []string{"CommandLine", "powershell /enc x"}, true},
		{"windash en dash", "sel:\n    CommandLine|windash|contains: ' -enc '\ncondition: sel", []string{"CommandLine", "powershell –enc x"}, true},
		{"windash not mid-word", "sel:\n    CommandLine|windash|contains: 'a-b'\ncondition: sel", []string{"CommandLine", "a/b"}, false},
		{"exists true", "sel:\n    A|exists: true\ncondition: sel", []string{"A", ""}, true},
		{"exists false", "sel:\n    A|exists: false\ncondition: sel", []string{"B", "x"}, true},
		{"null missing", "sel:\n    A: null\ncondition: sel", []string{"B", "x"}, true},
		{"null json", "sel:\n    A: null\ncondition: sel", []string{"A", "<null>"}, true},
		{"null present", "sel:\n    A: null\ncondition: sel", []string{"A", "x"}, false},
		{"empty string", "sel:\n    A: ''\ncondition: sel", []string{"A", ""}, true},
		{"neq", "sel:\n    A|neq: x\ncondition: sel", []string{"A", "y"}, true},
		{"neq equal", "sel:\n    A|neq: x\ncondition: sel", []string{"A", "X"}, false},
		{"gt", "sel:\n    N|gt: 10\ncondition: sel", []string{"N", "11"}, true},
		{"gte", "sel:\n    N|gte: 10\ncondition: sel", []string{"N", "10"}, true},
		{"lt", "sel:\n    N|lt: 10\ncondition: sel", []string{"N", "10"}, false},
		{"lte not number", "sel:\n    N|lte: 10\ncondition: sel", []string{"N", "abc"}, false},
		{"hour", "sel:\n    T|hour: 3\ncondition: sel", []string{"T", "2026-01-02T03:04:05Z"}, true},
		{"hour gte", "sel:\n    T|hour|gte: 18\ncondition: sel", []string{"T", "2026-01-02T03:04:05Z"}, false},
		{"month", "sel:\n    T|month: 1\ncondition: sel", []string{"T", "2026-01-02T03:04:05Z"}, true},
		{"fieldref", "sel:\n    A|fieldref: B\ncondition: sel", []string{"A", "x", "B", "X"}, true},
		{"fieldref differs", "sel:\n    A|fieldref: B\ncondition: sel", []string{"A", "x", "B", "y"}, false},
		{"fieldref neq", "sel:\n    A|fieldref|neq: B\ncondition: sel", []string{"A", "x", "B", "y"}, true},
		{"fieldref endswith", "sel:\n    A|fieldref|endswith: B\ncondition: sel", []string{"A", "c:\\x\\y.exe", "B", "y.exe"}, true},
		{"keyword", "kw:\n    - 'event::clear'\ncondition: kw", []string{"msg", "mimikatz event::clear run"}, true},
		{"keyword miss", "kw:\n    - 'event::clear'\ncondition: kw", []string{"msg", "nothing"}, false},
		{"keyword all", "kw:\n    '|all':\n        - 'foo'\n        - 'bar'\ncondition: kw", []string{"a", "foo", "b", "bar"}, true},
		{"keyword all miss", "kw:\n    '|all':\n        - 'foo'\n        - 'bar'\ncondition: kw", []string{"a", "foo"}, false},
		{"not", "sel:\n    A: x\nf:\n    B: y\ncondition: sel and not f", []string{"A", "x", "B", "y"}, false},
		{"or", "a:\n    A: x\nb:\n    B: y\ncondition: a or b", []string{"B", "y"}, true},
		{"precedence", "a:\n    A: x\nb:\n    B: y\nc:\n    C: z\ncondition: a or b and c", []string{"A", "x"}, true},
		{"parens", "a:\n    A: x\nb:\n    B: y\nc:\n    C: z\ncondition: (a or b) and c", []string{"A", "x"}, false},
		{"1 of", "sel_a:\n    A: x\nsel_b:\n    B: y\ncondition: 1 of sel_*", []string{"B", "y"}, true},
		{"all of", "sel_a:\n    A: x\nsel_b:\n    B: y\ncondition: all of sel_*", []string{"B", "y"}, false},
		{"all of them", "a:\n    A: x\n_b:\n    B: y\ncondition: all of them", []string{"A", "x"}, true},
		{"1 of them", "a:\n    A: x\nb:\n    B: y\ncondition: 1 of them", []string{"B", "y"}, true},
		{"not 1 of", "sel:\n    A: x\nfilter_1:\n    B: y\nfilter_2:\n    C: z\ncondition: sel and not 1 of filter_*", []string{"A", "x", "C", "z"}, false},
		{"condition list", "a:\n    A: x\nb:\n    B: y\ncondition:\n    - a\n    - b", []string{"B", "y"}, true},
		{"missing field", "sel:\n    A: x\ncondition: sel", []string{"B", "x"}, false},
		{"integer value", "sel:\n    EventID: 4688\ncondition: sel", []string{"EventID", "4688"}, true},
		{"star any", "sel:\n    A: '*'\ncondition: sel", []string{"A", "anything"}, true},
		{"star any missing", "sel:\n    A: '*'\ncondition: sel", []string{"B", "anything"}, false},
		{"empty list matches nothing", "sel:\n    A: []\ncondition: sel", []string{"A", "x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRule(t, tt.detection)
			if got := r.Detection.Match(mkEvent(tt.event...)); got != tt.want {
				t.Errorf("Match(%v) = %v, want %v", tt.event, got, tt.want)
			}
		})
	}
}

func TestRejects(t *testing.T) {
	tests := []struct{ name, detection, want string }{
		{"lookahead", "sel:\n    A|re: 'a(?=b)'\ncondition: sel", "lookahead"},
		{"backref", "sel:\n    A|re: '(a)\\1'\ncondition: sel", "backreference"},
		{"unknown modifier", "sel:\n    A|bogus: x\ncondition: sel", "unknown modifier"},
		{"unknown identifier", "sel:\n    A: x\ncondition: other", "unknown search identifier"},
		{"bad condition", "sel:\n    A: x\ncondition: sel and", "unexpected end"},
		{"unbalanced", "sel:\n    A: x\ncondition: (sel", "missing ')'"},
		{"aggregation", "sel:\n    A: x\ncondition: sel | count() > 5", "obsolete"},
		{"null in list", "sel:\n    A: [x, null]\ncondition: sel", "null cannot be part"},
		{"no condition", "sel:\n    A: x", "missing condition"},
		{"of nothing", "sel:\n    A: x\ncondition: 1 of filter_*", "matches no search identifier"},
		{"bad cidr", "sel:\n    A|cidr: 10.0.0.0/99\ncondition: sel", "cidr"},
		{"base64 wildcard", "sel:\n    A|base64: 'a*'\ncondition: sel", "without wildcards"},
		{"number", "sel:\n    A|gt: abc\ncondition: sel", "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "title: t\nlogsource: {product: test}\ndetection:\n" + indent(tt.detection)
			_, err := ParseOne([]byte(src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseOne error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestMetadataAndPlaceholders(t *testing.T) {
	src := `title: T
id: 123
status: test
level: high
tags: [attack.t1059, pci-dss.5.3]
references: [https://x]
falsepositives: [admins]
logsource: {product: Windows, category: process_creation}
detection:
    sel:
        User|expand: '%Admins%'
    condition: sel
`
	rs, errs := Parse([]byte(src), "x.yml", &Options{Placeholders: map[string][]string{"Admins": {"root", "adm_*"}}})
	if len(errs) > 0 || len(rs) != 1 {
		t.Fatalf("Parse: %v", errs)
	}
	r := rs[0]
	if r.ID != "123" || r.Level != "high" || r.Status != "test" || len(r.Tags) != 2 || r.FalsePositives[0] != "admins" || r.Logsource.Product != "windows" {
		t.Errorf("metadata = %+v", r)
	}
	if !r.Detection.Match(mkEvent("User", "adm_bob")) || r.Detection.Match(mkEvent("User", "bob")) {
		t.Errorf("placeholder expansion wrong")
	}
	rs, _ = Parse([]byte(src), "x.yml", nil)
	if len(rs) != 1 || len(rs[0].Warnings) == 0 || rs[0].Detection.Match(mkEvent("User", "root")) {
		t.Errorf("unknown placeholder: want a warning and no match, got %+v", rs)
	}
}

func TestSpecExamplesLoad(t *testing.T) {
	dir := filepath.Join(corpora.Dir("sigma-specification"), "tests/schema")
	for _, sub := range []string{"rules", "filter", "correlation"} {
		entries, err := readDir(dir + "/" + sub)
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range entries {
			rs, errs := Parse(data, name, nil)
			if len(errs) > 0 || len(rs) != 1 {
				t.Errorf("%s: rules=%d errs=%v", name, len(rs), errs)
				continue
			}
			want := map[string]Kind{"rules": KindDetection, "filter": KindFilter, "correlation": KindCorrelation}[sub]
			if rs[0].Kind != want {
				t.Errorf("%s: kind %v, want %v", name, rs[0].Kind, want)
			}
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true}, {"a*b*c", "aXbYc", true}, {"a*b*c", "aXbY", false},
		{"*.exe", "x.exe.exe", true}, {"?", "", false}, {"a??", "abc", true},
		{"*a*a*a*a*b", strings.Repeat("a", 5000), false},
	}
	for _, tt := range tests {
		if got := globMatch(parsePattern(tt.pat), tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}

func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("title: bomb\nlogsource: {product: x}\nx0: &a0 {A: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}\n")
	b.WriteString("detection:\n")
	for i := 0; i < 70000; i++ {
		b.WriteString("  s" + itoa(i) + ": *a0\n")
	}
	b.WriteString("  condition: 1 of them\n")
	if b.Len() > MaxRuleSize {
		t.Fatalf("test rule is %d bytes, over MaxRuleSize", b.Len())
	}
	_, err := ParseOne([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "aliases") {
		t.Errorf("ParseOne(alias bomb) error = %v, want the alias limit", err)
	}
}

func itoa(i int) string {
	const d = "0123456789"
	if i < 10 {
		return d[i : i+1]
	}
	return itoa(i/10) + d[i%10:i%10+1]
}

func TestLongValueLists(t *testing.T) {
	var b strings.Builder
	b.WriteString("sel:\n    Hashes|contains:\n")
	for i := 0; i < 40; i++ {
		b.WriteString("        - 'SHA256=" + strings.Repeat(itoa(i%10), 8) + itoa(i) + "'\n")
	}
	b.WriteString("    Image:\n")
	for i := 0; i < 40; i++ {
		b.WriteString("        - 'c:\\tool" + itoa(i) + ".exe'\n")
	}
	b.WriteString("        - '*\\other*.exe'\ncondition: sel")
	r := mustRule(t, b.String())
	tests := []struct {
		hashes, image string
		want          bool
	}{
		{"MD5=1,SHA256=3333333333,X=1", `C:\TOOL33.EXE`, true},
		{"MD5=1,SHA256=12345,X=1", `C:\TOOL33.EXE`, false},
		{"SHA256=0000000000", `C:\tool3.exe.bak`, false},
		{"SHA256=0000000000", `D:\x\OTHERthing.exe`, true},
	}
	for _, tt := range tests {
		if got := r.Detection.Match(mkEvent("Hashes", tt.hashes, "Image", tt.image)); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.hashes, tt.image, got, tt.want)
		}
	}
}
