package posture

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/posture/osregex"
	"github.com/custodia/custodia/internal/posture/pcre"
)

// MaxRuleLen is the longest rule string accepted.
const MaxRuleLen = 8192

// Kind is what a rule looks at.
type Kind string

// Rule kinds: the five of SCA plus Custodia's extensions.
const (
	KindFile     Kind = "f"    // files
	KindDir      Kind = "d"    // directories
	KindCommand  Kind = "c"    // command output
	KindProcess  Kind = "p"    // running processes
	KindRegistry Kind = "r"    // Windows registry
	KindPackage  Kind = "pkg"  // installed packages (extension)
	KindService  Kind = "svc"  // services (extension)
	KindOS       Kind = "os"   // operating system attributes (extension)
	KindUser     Kind = "user" // the session user (extension)
)

var kindPrefixes = []Kind{KindPackage, KindService, KindOS, KindUser, KindFile, KindDir, KindCommand, KindProcess, KindRegistry}

// osAttributes are the targets an os: rule accepts.
var osAttributes = map[string]bool{"name": true, "version": true, "build": true, "family": true, "arch": true, "kernel": true, "id": true}

// Rule is one parsed rule string.
type Rule struct {
	Text    string
	Not     bool // "not " prefix: passed and failed swap
	Every   bool // "every " prefix (extension): every target must pass
	Strict  bool // "strict " prefix (extension): a missing target fails instead of being not_applicable
	Kind    Kind
	Targets []string // files, directories, keys, names: a comma list expands to several
	Argv    []string // the command of a c: rule
	// Sub is the middle part of three-part d: and r: rules and of two-part
	// existence r: rules: a file name (literal or r:regex) or a value name.
	Sub     string
	SubRE   *regexp.Regexp
	Content *Content // nil for an existence rule
}

// Content is a chain of clauses joined by " && ", all evaluated on the same
// line.
type Content struct {
	Clauses []*Clause
}

// Clause is one content test.
type Clause struct {
	Raw string
	Not bool // "!" prefix
	// Op is '=' literal line, 'r' regex, 'n' numeric compare, 'v' version
	// compare, 't' timestamp age compare, 'a' file age compare.
	Op    byte
	Text  string // literal or regex source
	Re    *regexp.Regexp
	Cmp   string // <, <=, ==, !=, >=, >
	Value string // the number or version compared against
	num   int64
	dur   time.Duration
}

type ruleParser struct {
	vars  map[string]string
	regex string
	// legacy accepts the compare spellings of stock 4.x policies (=>, =<,
	// =, \!=, no space before the value).
	legacy bool
}

func (rp *ruleParser) compile(src string) (*regexp.Regexp, error) {
	if rp.regex == RegexPCRE2 {
		return pcre.Compile(src)
	}
	return osregex.Compile(src)
}

// parse parses one rule string. The returned rule is non-nil only without
// error.
func (rp *ruleParser) parse(text string) (*Rule, error) {
	if len(text) > MaxRuleLen {
		return nil, fmt.Errorf("rule longer than %d bytes", MaxRuleLen)
	}
	r := &Rule{Text: text}
	s := strings.TrimSpace(text)
	for {
		switch {
		case strings.HasPrefix(s, "not "):
			if r.Not {
				return nil, fmt.Errorf("rule %q: \"not\" twice", text)
			}
			r.Not = true
			s = strings.TrimSpace(s[4:])
			continue
		case strings.HasPrefix(s, "strict "):
			if r.Strict {
				return nil, fmt.Errorf("rule %q: \"strict\" twice", text)
			}
			r.Strict = true
			s = strings.TrimSpace(s[7:])
			continue
		case strings.HasPrefix(s, "every "):
			if r.Every {
				return nil, fmt.Errorf("rule %q: \"every\" twice", text)
			}
			r.Every = true
			s = strings.TrimSpace(s[6:])
			continue
		}
		break
	}
	for _, k := range kindPrefixes {
		if strings.HasPrefix(s, string(k)+":") {
			r.Kind = k
			s = s[len(k)+1:]
			break
		}
	}
	if r.Kind == "" {
		return nil, fmt.Errorf("rule %q: unknown type; want f:, d:, c:, p:, r:, pkg:, svc:, os: or user:", text)
	}
	parts := strings.Split(s, " -> ")
	target := rp.expand(strings.TrimSpace(parts[0]))
	if target == "" {
		return nil, fmt.Errorf("rule %q: empty target", text)
	}
	if strings.Contains(target, "->") {
		return nil, fmt.Errorf("rule %q: '->' must have a space on each side", text)
	}
	fail := func(format string, args ...any) (*Rule, error) {
		return nil, fmt.Errorf("rule %q: %s", text, fmt.Sprintf(format, args...))
	}
	if r.Kind == KindFile || r.Kind == KindDir || r.Kind == KindRegistry {
		if v := variableRE.FindString(target); v != "" {
			return fail("undefined variable %s", v)
		}
	}
	var err error
	switch r.Kind {
	case KindFile, KindPackage, KindService:
		r.Targets = splitList(target)
		switch len(parts) {
		case 1:
		case 2:
			r.Content, err = rp.content(parts[1])
		default:
			return fail("%s: rules take at most one '->'", r.Kind)
		}
		if err == nil && r.Kind != KindFile && r.Content != nil && r.Content.hasAge() {
			return fail("age: only applies to f: rules")
		}
	case KindDir:
		r.Targets = splitList(target)
		switch len(parts) {
		case 1:
		case 2, 3:
			r.Sub = strings.TrimSpace(parts[1])
			if strings.HasPrefix(r.Sub, "r:") {
				r.SubRE, err = rp.compile(r.Sub[2:])
			} else if r.Sub == "" || strings.ContainsAny(r.Sub, `/\`) {
				return fail("d: file name %q must be a plain name or r:regex", r.Sub)
			}
			if err == nil && len(parts) == 3 {
				r.Content, err = rp.content(parts[2])
			}
		default:
			return fail("d: rules take at most two '->'")
		}
	case KindCommand:
		if len(parts) != 2 {
			return fail("c: rules need exactly one '->' followed by a content check (commands only allow output checks)")
		}
		r.Argv, err = SplitCommand(target)
		if err == nil {
			r.Content, err = rp.content(parts[1])
		}
	case KindProcess:
		if len(parts) != 1 {
			return fail("p: rules only check that a process is running; they take no '->'")
		}
		r.Targets = splitList(target)
	case KindRegistry:
		r.Targets = splitKeys(target)
		switch len(parts) {
		case 1:
		case 2, 3:
			r.Sub = strings.TrimSpace(parts[1])
			if r.Sub == "" {
				return fail("empty registry value name")
			}
			if len(parts) == 3 {
				r.Content, err = rp.content(parts[2])
			}
		default:
			return fail("r: rules take at most two '->'")
		}
	case KindOS:
		if !osAttributes[target] {
			return fail("os: attribute %q: want name, id, version, build, family, arch or kernel", target)
		}
		if len(parts) != 2 {
			return fail("os: rules need exactly one '->' followed by a content check")
		}
		r.Targets = []string{target}
		r.Content, err = rp.content(parts[1])
	case KindUser:
		if target != "session" {
			return fail("user: target %q: only user:session is supported", target)
		}
		if len(parts) != 2 {
			return fail("user: rules need exactly one '->' followed by a content check")
		}
		r.Targets = []string{target}
		r.Content, err = rp.content(parts[1])
	}
	if err != nil {
		return nil, fmt.Errorf("rule %q: %w", text, err)
	}
	if r.Kind != KindFile && r.Content != nil && r.Content.hasAge() {
		return fail("age: only applies to f: rules")
	}
	return r, nil
}

// expand replaces the policy's $variables in a rule target.
func (rp *ruleParser) expand(s string) string {
	if len(rp.vars) == 0 || !strings.Contains(s, "$") {
		return s
	}
	return variableRE.ReplaceAllStringFunc(s, func(v string) string {
		if val, ok := rp.vars[v]; ok {
			return val
		}
		return v
	})
}

// splitKeys splits a registry target into a list of keys when every
// comma-separated part starts with a hive (key names may contain commas).
func splitKeys(s string) []string {
	parts := splitList(s)
	if len(parts) < 2 {
		return []string{s}
	}
	for _, p := range parts {
		if _, _, err := SplitKey(p); err != nil {
			return []string{s}
		}
	}
	return parts
}

func splitList(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func (rp *ruleParser) content(s string) (*Content, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty content check after '->'")
	}
	c := &Content{}
	for _, raw := range strings.Split(s, " && ") {
		cl, err := rp.clause(raw)
		if err != nil {
			return nil, err
		}
		c.Clauses = append(c.Clauses, cl)
	}
	return c, nil
}

var compareOps = []string{"<=", ">=", "==", "!=", "<", ">"}

func (rp *ruleParser) clause(raw string) (*Clause, error) {
	cl := &Clause{Raw: raw}
	s := raw
	if strings.HasPrefix(s, "!") {
		cl.Not = true
		s = s[1:]
	}
	var err error
	switch {
	case strings.HasPrefix(s, "r:"):
		cl.Op, cl.Text = 'r', s[2:]
		cl.Re, err = rp.compile(cl.Text)
		return cl, err
	case strings.HasPrefix(s, "age:"):
		cl.Op = 'a'
		rest := strings.TrimSpace(s[4:])
		rest = strings.TrimSpace(strings.TrimPrefix(rest, "compare "))
		for _, op := range compareOps {
			if strings.HasPrefix(rest, op) {
				cl.Cmp, cl.Value = op, rp.value(strings.TrimSpace(rest[len(op):]))
				break
			}
		}
		if cl.Cmp == "" || cl.Value == "" {
			return nil, fmt.Errorf("%q: want age:OP DURATION, e.g. age:<= 24h", raw)
		}
		cl.dur, err = ParseAge(cl.Value)
		return cl, err
	case strings.HasPrefix(s, "n:"), strings.HasPrefix(s, "v:"), strings.HasPrefix(s, "t:"):
		cl.Op = s[0]
		body := s[2:]
		if cl.Op == 'v' && startsWithOp(body) {
			// Shorthand (extension): compare the whole line as a version.
			body = `^(.+)$ compare ` + body
			if rp.regex == RegexOS {
				body = `^(\.+)$` + body[len(`^(.+)$`):]
			}
		}
		k := strings.LastIndex(body, " compare ")
		if k < 0 {
			return nil, fmt.Errorf("%q: %c: needs ' compare OP VALUE'", raw, cl.Op)
		}
		cl.Text = body[:k]
		rest := strings.TrimSpace(body[k+len(" compare "):])
		if rp.legacy {
			rest = legacyCompare(rest)
		}
		for _, op := range compareOps {
			if strings.HasPrefix(rest, op) {
				cl.Cmp = op
				cl.Value = rp.value(strings.TrimSpace(rest[len(op):]))
				break
			}
		}
		if cl.Cmp == "" || cl.Value == "" {
			return nil, fmt.Errorf("%q: want 'compare OP VALUE' with OP one of < <= == != >= >", raw)
		}
		switch cl.Op {
		case 'n':
			cl.num, err = strconv.ParseInt(cl.Value, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q: numeric compare needs an integer, got %q", raw, cl.Value)
			}
		case 't':
			if cl.dur, err = ParseAge(cl.Value); err != nil {
				return nil, fmt.Errorf("%q: %w", raw, err)
			}
		}
		cl.Re, err = rp.compile(cl.Text)
		if err != nil {
			return nil, err
		}
		if cl.Re.NumSubexp() < 1 {
			return nil, fmt.Errorf("%q: the regex needs a capture group for the value to compare", raw)
		}
		return cl, nil
	}
	if s == "" {
		return nil, fmt.Errorf("%q: empty literal", raw)
	}
	cl.Op, cl.Text = '=', s
	return cl, nil
}

// value substitutes a policy variable used as a compare value.
func (rp *ruleParser) value(v string) string {
	if strings.HasPrefix(v, "$") {
		if val, ok := rp.vars[v]; ok {
			return strings.TrimSpace(val)
		}
	}
	return v
}

// ParseAge parses a duration for age comparisons: Go syntax (90s, 24h,
// 1h30m) plus days (30d) and weeks (2w).
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	mult := time.Duration(0)
	switch {
	case strings.HasSuffix(s, "d"):
		mult = 24 * time.Hour
	case strings.HasSuffix(s, "w"):
		mult = 7 * 24 * time.Hour
	}
	if mult != 0 {
		n, err := strconv.ParseFloat(s[:len(s)-1], 64)
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("age %q: want a duration such as 24h, 30d or 2w", s)
		}
		return time.Duration(n * float64(mult)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("age %q: want a duration such as 24h, 30d or 2w", s)
	}
	return d, nil
}

// hasAge reports whether the chain tests a file's age.
func (c *Content) hasAge() bool {
	for _, cl := range c.Clauses {
		if cl.Op == 'a' {
			return true
		}
	}
	return false
}

// ageOnly reports whether the chain tests only a file's age, so the file
// need not be read.
func (c *Content) ageOnly() bool {
	for _, cl := range c.Clauses {
		if cl.Op != 'a' {
			return false
		}
	}
	return true
}

// legacyCompare rewrites the operator spellings found in stock 4.x
// policies: "=>" and "=<" (reversed), "=" (equality) and "\!=" (escaped).
func legacyCompare(s string) string {
	for _, p := range [][2]string{{`\!=`, "!="}, {"=>", ">="}, {"=<", "<="}} {
		if strings.HasPrefix(s, p[0]) {
			return p[1] + " " + strings.TrimSpace(s[len(p[0]):])
		}
	}
	if strings.HasPrefix(s, "=") && !strings.HasPrefix(s, "==") {
		return "== " + strings.TrimSpace(s[1:])
	}
	return s
}

func startsWithOp(s string) bool {
	for _, op := range compareOps {
		if strings.HasPrefix(s, op) {
			return true
		}
	}
	return false
}

// SplitCommand splits a command line into arguments the way a POSIX shell
// would split words, without any expansion: single quotes, double quotes
// and backslash escapes are honoured; pipes, redirections and globs are
// not (there is no shell).
func SplitCommand(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("command %q: unterminated single quote", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`+"`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("command %q: unterminated double quote", s)
			}
			inWord = true
		case c == '\\' && i+1 < len(s) && !isWindowsPathish(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("command %q: empty", s)
	}
	return args, nil
}

// isWindowsPathish reports whether backslashes in s are path separators
// (C:\…, \\server, HKLM\…) rather than escapes, as in Windows policies.
func isWindowsPathish(s string) bool {
	return strings.Contains(s, `:\`) || strings.HasPrefix(s, `\\`) || strings.Contains(s, `.exe`) ||
		strings.Contains(strings.ToLower(s), "powershell")
}
