package posture

import (
	"strings"
	"testing"
)

const doc4 = `
policy:
  id: "unix_audit"
  file: "sca_unix_audit.yml"
  name: "System audit for Unix based systems"
  description: "Guidance"
  references:
    - https://example.org/
requirements:
  title: "Check that password files are present"
  description: "Requirements"
  condition: any
  rules:
    - 'f:$sshd_file'
    - 'f:/etc/passwd'
variables:
  $sshd_file: /etc/ssh/sshd_config,/opt/ssh/etc/sshd_config
checks:
  - id: 3000
    title: "SSH Hardening: Port should not be 22"
    description: "d"
    rationale: "r"
    remediation: "Change the Port option"
    compliance:
      - pci_dss: ["2.2.4"]
      - nist_800_53: ["CM.1"]
    condition: all
    rules:
      - 'f:$sshd_file -> !r:^# && r:Port\.+22'
`

const doc5 = `
policy:
  id: "custom5"
  name: "5.x style"
  description: "x"
requirements:
  name: "Run only on Linux hosts"
  description: "Linux host requirement."
  condition: all
  rules:
    - "f:/proc/sys/kernel/ostype -> Linux"
checks:
  - id: cc_1
    name: "Password authentication disabled"
    compliance:
      cis: ["5.2.8"]
      iso_27001-2022: ["A.8.5", "A.8.9"]
    mitre:
      tactic: ["TA0005"]
      technique: ["T1036"]
    condition: all
    rules:
      - 'f:/etc/ssh/sshd_config -> r:^\s*PasswordAuthentication\s+no\b'
`

func TestParseDialects(t *testing.T) {
	p4 := mustParse(t, doc4)
	if p4.Dialect != Wazuh4 || p4.RegexType != RegexOS {
		t.Errorf("doc4 dialect = %v %s, want 4.x osregex", p4.Dialect, p4.RegexType)
	}
	c := p4.Checks[0]
	if c.ID != "3000" || c.Title != "SSH Hardening: Port should not be 22" || c.Condition != All {
		t.Errorf("doc4 check = %+v", c)
	}
	if got := c.Compliance["pci_dss"]; len(got) != 1 || got[0] != "2.2.4" {
		t.Errorf("doc4 compliance = %v", c.Compliance)
	}
	if got := c.Rules[0].Targets; len(got) != 2 || got[0] != "/etc/ssh/sshd_config" {
		t.Errorf("variable expansion: targets = %v", got)
	}
	if p4.Requirements == nil || p4.Requirements.Condition != Any || len(p4.Requirements.Rules) != 2 {
		t.Errorf("requirements = %+v", p4.Requirements)
	}

	p5 := mustParse(t, doc5)
	if p5.Dialect != Wazuh5 || p5.RegexType != RegexPCRE2 {
		t.Errorf("doc5 dialect = %v %s, want 5.x pcre2", p5.Dialect, p5.RegexType)
	}
	c = p5.Checks[0]
	if c.ID != "cc_1" || c.Title != "Password authentication disabled" {
		t.Errorf("doc5 check = %+v", c)
	}
	if got := c.Compliance["iso_27001-2022"]; len(got) != 2 || got[1] != "A.8.9" {
		t.Errorf("doc5 compliance = %v", c.Compliance)
	}
	if p5.Requirements.Title != "Run only on Linux hosts" || c.Mitre["technique"][0] != "T1036" {
		t.Errorf("5.x requirements name / mitre: %q %v", p5.Requirements.Title, c.Mitre)
	}
	// \b is PCRE2 here, which OSRegex would reject.
	if !c.Rules[0].Content.Clauses[0].Re.MatchString("PasswordAuthentication no") {
		t.Error("pcre2 rule does not match")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"not yaml", "policy: [", "policy:"},
		{"no id", "policy: {name: x}\nchecks: [{id: 1, title: t, condition: all, rules: ['f:/x']}]", "policy.id is required"},
		{"no checks", "policy: {id: x}", "no checks"},
		{"mixed dialects", "policy: {id: x}\nchecks:\n- {id: 1, title: a, condition: all, rules: ['f:/x']}\n- {id: 2, name: b, condition: all, rules: ['f:/x']}", "mix"},
		{"duplicate ids", "policy: {id: x}\nchecks:\n- {id: 1, title: a, condition: all, rules: ['f:/x']}\n- {id: 1, title: b, condition: all, rules: ['f:/x']}", "already used"},
		{"bad regex type", "policy: {id: x, regex_type: perl}\nchecks: [{id: 1, title: t, condition: all, rules: ['f:/x']}]", "regex_type"},
		{"check not a map", "policy: {id: x}\nchecks: [3]", "must be a mapping"},
		{"bad variable", "policy: {id: x}\nvariables: {x: 1}\nchecks: [{id: 1, title: t, condition: all, rules: ['f:/x']}]", "must start with '$'"},
		{"deep nesting", strings.Repeat("[", 200000), "max depth"},
		{"alias bomb in rules", "a: &a ['f:/x','f:/x']\nb: &b [*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b]\npolicy: {id: x}\nchecks: [{id: 1, title: t, condition: all, rules: *c}]", "cannot unmarshal"},
		{"alias as a check", "a: &a {id: 1}\npolicy: {id: x}\nchecks: [*a]", "must be a mapping"},
		{"too large", "policy: {id: x}\n#" + strings.Repeat("x", MaxPolicyBytes), "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() error = %v, want containing %q", err, tt.want)
			}
		})
	}
}

func TestParseBadRulesMarkOnlyTheirCheck(t *testing.T) {
	doc := `
policy: {id: x}
checks:
  - id: 1
    title: good
    condition: all
    rules: ['f:/etc/passwd']
  - id: 2
    title: bad osregex
    condition: all
    rules: ['f:/etc/passwd -> r:0+']
  - id: 3
    title: bad condition
    condition: most
    rules: ['f:/etc/passwd']
  - id: 4
    title: command without content
    condition: all
    rules: ['c:ls']
  - id: 5
    title: unknown type
    condition: all
    rules: ['x:whatever']
  - id: 6
    title: n without capture
    condition: all
    rules: ['f:/x -> n:^\d+ compare > 3']
  - id: 7
    title: undefined variable
    condition: all
    rules: ['f:$sshd_config -> r:x']
`
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	probs := p.Problems()
	if len(probs) != 6 {
		t.Fatalf("Problems() = %v, want 6", probs)
	}
	wants := []string{"modifier after a bare character", "condition \"most\"", "content check", "unknown type", "capture group", "undefined variable $sshd_config"}
	for i, w := range wants {
		if !strings.Contains(probs[i].Msg, w) {
			t.Errorf("problem %d = %q, want containing %q", i, probs[i].Msg, w)
		}
	}
	if p.Checks[0].Err != nil {
		t.Errorf("good check has error %v", p.Checks[0].Err)
	}
}

func TestParseRuleShapes(t *testing.T) {
	rp := ruleParser{regex: RegexOS}
	tests := []struct {
		rule string
		kind Kind
		not  bool
		sub  string
		n    int // clauses
	}{
		{`f:/etc/passwd`, KindFile, false, "", 0},
		{`not f:/etc/passwd -> r:^root && !r:^#`, KindFile, true, "", 2},
		{`d:/etc -> r:\.conf$ -> r:foo`, KindDir, false, `r:\.conf$`, 1},
		{`c:systemctl is-enabled cups -> r:^enabled`, KindCommand, false, "", 1},
		{`p:sshd`, KindProcess, false, "", 0},
		{`r:HKLM\System\CurrentControlSet\Control\Lsa -> LimitBlankPasswordUse -> 1`, KindRegistry, false, "LimitBlankPasswordUse", 1},
		{`pkg:firefox -> v:>= 128.0`, KindPackage, false, "", 1},
		{`svc:sshd -> state=running`, KindService, false, "", 1},
		{`os:build -> n:^(\d+) compare >= 19045`, KindOS, false, "", 1},
		{`user:session -> admin=false`, KindUser, false, "", 1},
	}
	for _, tt := range tests {
		r, err := rp.parse(tt.rule)
		if err != nil {
			t.Errorf("parse(%q) error %v", tt.rule, err)
			continue
		}
		n := 0
		if r.Content != nil {
			n = len(r.Content.Clauses)
		}
		if r.Kind != tt.kind || r.Not != tt.not || r.Sub != tt.sub || n != tt.n {
			t.Errorf("parse(%q) = kind %s not %v sub %q clauses %d, want %s %v %q %d", tt.rule, r.Kind, r.Not, r.Sub, n, tt.kind, tt.not, tt.sub, tt.n)
		}
	}
}

func TestLegacyCompare(t *testing.T) {
	for _, tt := range []struct {
		rule   string
		legacy bool
		cmp    string
		ok     bool
	}{
		{`f:/x -> n:remember=(\d+) compare => 5`, true, ">=", true},
		{`f:/x -> n:remember=(\d+) compare =< 5`, true, "<=", true},
		{`f:/x -> n:remember=(\d+) compare = 5`, true, "==", true},
		{`f:/x -> n:gpgcheck=(\d+) compare \!= 1`, true, "!=", true},
		{`f:/x -> n:remember=(\d+) compare => 5`, false, "", false},
		{`f:/x -> n:gpgcheck=(\d+) compare \!= 1`, false, "", false},
	} {
		rp := ruleParser{regex: RegexPCRE2, legacy: tt.legacy}
		r, err := rp.parse(tt.rule)
		if (err == nil) != tt.ok {
			t.Errorf("parse(%q, legacy=%v) error = %v, want ok=%v", tt.rule, tt.legacy, err, tt.ok)
			continue
		}
		if err == nil && r.Content.Clauses[0].Cmp != tt.cmp {
			t.Errorf("parse(%q) cmp = %q, want %q", tt.rule, r.Content.Clauses[0].Cmp, tt.cmp)
		}
	}
}

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`systemctl is-enabled cups`, []string{"systemctl", "is-enabled", "cups"}},
		{`sh -c 'echo a  b'`, []string{"sh", "-c", "echo a  b"}},
		{`grep "a \"b\"" f`, []string{"grep", `a "b"`, "f"}},
		{`a\ b c`, []string{"a b", "c"}},
		{`net.exe accounts`, []string{"net.exe", "accounts"}},
		{`reg.exe query HKLM\Software\X`, []string{"reg.exe", "query", `HKLM\Software\X`}},
	}
	for _, tt := range tests {
		got, err := SplitCommand(tt.in)
		if err != nil || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("SplitCommand(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`echo 'x`, `echo "x`, `   `} {
		if _, err := SplitCommand(bad); err == nil {
			t.Errorf("SplitCommand(%q) succeeded, want error", bad)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.10", "1.9", 1},
		{"1.0", "1.0", 0},
		{"1.0~rc1", "1.0", -1},
		{"1:1.0", "2.0", 1},
		{"10.0.19045.4291", "10.0.19045.3803", 1},
		{"128.0.6613.84", "99.0", 1},
		{"115.12.0esr", "115.12.0", 1},
		{"2.40-1ubuntu2", "2.40-1ubuntu10", -1},
		{"01.2", "1.2", 0},
		{"1.2.3a", "1.2.3b", -1},
		{"123456789012345678901234567890", "123456789012345678901234567891", -1},
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := CompareVersions(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestAggregate(t *testing.T) {
	P, F, N, E := Passed, Failed, NotApplicable, Error
	tests := []struct {
		cond Condition
		in   []Status
		want Status
	}{
		{All, []Status{P, P}, P},
		{All, []Status{P, N}, N},
		{All, []Status{N, F}, F},
		{All, []Status{P, E}, E},
		{All, []Status{E, N}, E},
		{Any, []Status{F, P}, P},
		{Any, []Status{F, F}, F},
		{Any, []Status{F, N}, N},
		{Any, []Status{N, P}, P},
		{None, []Status{F, F}, P},
		{None, []Status{F, P}, F},
		{None, []Status{F, N}, N},
		{None, []Status{N, P}, F},
		{None, []Status{E, F}, E},
	}
	for _, tt := range tests {
		if got := Aggregate(tt.cond, tt.in); got != tt.want {
			t.Errorf("Aggregate(%s, %v) = %s, want %s", tt.cond, tt.in, got, tt.want)
		}
	}
}
