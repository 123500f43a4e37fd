// Package pcre translates PCRE2 patterns (the regex flavour of Wazuh 5.x SCA
// policies) into Go's RE2 syntax.
//
// Most PCRE2 syntax is RE2 syntax. Where the two differ but the meaning can
// be kept, the pattern is rewritten: \s also matches vertical tab in PCRE2,
// \h \v \R \N \e \cX \o{…} have RE2 spellings, (?<name>…) and (?'name'…)
// become (?P<name>…), and (?#…) comments are dropped. What RE2 cannot do is
// rejected with a precise message: backreferences, lookaround, atomic
// groups, possessive quantifiers, recursion, conditionals, backtracking
// verbs, \K \G \X \C, and the x, n and J options.
package pcre

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MaxLen is the longest pattern Translate accepts.
const MaxLen = 4096

// Error describes why a pattern cannot be translated.
type Error struct {
	Pattern string
	Offset  int
	Msg     string
}

func (e *Error) Error() string {
	return fmt.Sprintf("pcre2 %q at offset %d: %s", e.Pattern, e.Offset, e.Msg)
}

const (
	space     = `\t\n\v\f\r `
	hspace    = `\t \x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}`
	vspace    = `\n\v\f\r\x{85}\x{2028}\x{2029}`
	newlineRE = `(?:\r\n|[` + vspace + `])`
)

// Translate returns the RE2 pattern equivalent to the PCRE2 pattern p.
func Translate(p string) (string, error) {
	if len(p) > MaxLen {
		return "", &Error{Pattern: p[:32] + "…", Offset: MaxLen, Msg: fmt.Sprintf("pattern longer than %d bytes", MaxLen)}
	}
	t := translator{p: p}
	if err := t.run(); err != nil {
		return "", err
	}
	return t.b.String(), nil
}

// Compile translates p and compiles the result.
func Compile(p string) (*regexp.Regexp, error) {
	s, err := Translate(p)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("pcre2 %q: not supported by RE2 (translated to %q): %w", p, s, err)
	}
	return re, nil
}

type translator struct {
	p string
	b strings.Builder
}

func (t *translator) fail(off int, format string, args ...any) error {
	return &Error{Pattern: t.p, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (t *translator) run() error {
	p := t.p
	inClass := false
	classStart := 0
	for i := 0; i < len(p); {
		c := p[i]
		if inClass {
			switch {
			case c == '\\':
				n, err := t.escape(i, true)
				if err != nil {
					return err
				}
				i = n
				continue
			case c == '[' && strings.HasPrefix(p[i:], "[:"):
				end := strings.Index(p[i+2:], ":]")
				if end < 0 {
					t.b.WriteString(`\[`)
					i++
					continue
				}
				name := p[i+2 : i+2+end]
				if name == "<" || name == ">" {
					return t.fail(i, "word-boundary class [[:%s:]] is not supported; use \\b", name)
				}
				t.b.WriteString(p[i : i+end+4])
				i += end + 4
				continue
			case c == '[':
				t.b.WriteString(`\[`)
				i++
				continue
			case c == ']' && i > classStart:
				inClass = false
			}
			t.b.WriteByte(c)
			i++
			continue
		}
		switch c {
		case '\\':
			n, err := t.escape(i, false)
			if err != nil {
				return err
			}
			i = n
			continue
		case '[':
			inClass = true
			t.b.WriteByte('[')
			i++
			if i < len(p) && p[i] == '^' {
				t.b.WriteByte('^')
				i++
			}
			classStart = i
			if i < len(p) && p[i] == ']' {
				t.b.WriteString(`\]`)
				i++
			}
			continue
		case '(':
			n, err := t.group(i)
			if err != nil {
				return err
			}
			i = n
			continue
		case '*', '+', '?':
			t.b.WriteByte(c)
			i++
			if err := t.possessive(i); err != nil {
				return err
			}
			if i < len(p) && p[i] == '?' {
				t.b.WriteByte('?')
				i++
			}
			continue
		case '{':
			if strings.HasPrefix(p[i:], "{,") {
				return t.fail(i, "'{,n}' means {0,n} in PCRE2 10.43 and later but a literal before; write {0,n} or \\{")
			}
			end := strings.IndexByte(p[i:], '}')
			if end > 0 && isRepeat(p[i+1:i+end]) {
				t.b.WriteString(p[i : i+end+1])
				i += end + 1
				if err := t.possessive(i); err != nil {
					return err
				}
				if i < len(p) && p[i] == '?' {
					t.b.WriteByte('?')
					i++
				}
				continue
			}
			t.b.WriteString(`\{`)
			i++
			continue
		}
		t.b.WriteByte(c)
		i++
	}
	if inClass {
		return t.fail(classStart, "missing terminating ] for character class")
	}
	return nil
}

// isRepeat reports whether s (between braces) is n, n, or n,m.
func isRepeat(s string) bool {
	lo, hi, comma := s, "", false
	if k := strings.IndexByte(s, ','); k >= 0 {
		lo, hi, comma = s[:k], s[k+1:], true
	}
	if lo == "" || !digits(lo) {
		return false
	}
	return !comma || hi == "" || digits(hi)
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func (t *translator) possessive(i int) error {
	if i < len(t.p) && t.p[i] == '+' {
		return t.fail(i, "possessive quantifiers are not supported by RE2; drop the trailing '+'")
	}
	return nil
}

// group handles '(' at i and returns the index after what it consumed.
func (t *translator) group(i int) (int, error) {
	p := t.p
	rest := p[i:]
	switch {
	case strings.HasPrefix(rest, "(*"):
		return 0, t.fail(i, "backtracking verbs and (*…) options are not supported by RE2")
	case strings.HasPrefix(rest, "(?#"):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return 0, t.fail(i, "unterminated (?# comment")
		}
		return i + end + 1, nil
	case strings.HasPrefix(rest, "(?="), strings.HasPrefix(rest, "(?!"),
		strings.HasPrefix(rest, "(?<="), strings.HasPrefix(rest, "(?<!"):
		return 0, t.fail(i, "lookaround assertions are not supported by RE2")
	case strings.HasPrefix(rest, "(?>"):
		return 0, t.fail(i, "atomic groups are not supported by RE2")
	case strings.HasPrefix(rest, "(?|"):
		return 0, t.fail(i, "branch-reset groups are not supported by RE2")
	case strings.HasPrefix(rest, "(?("):
		return 0, t.fail(i, "conditional groups are not supported by RE2")
	case strings.HasPrefix(rest, "(?P="), strings.HasPrefix(rest, "(?P>"), strings.HasPrefix(rest, "(?&"),
		strings.HasPrefix(rest, "(?R"):
		return 0, t.fail(i, "backreferences and recursion are not supported by RE2")
	case strings.HasPrefix(rest, "(?C"):
		return 0, t.fail(i, "callouts are not supported by RE2")
	case strings.HasPrefix(rest, "(?P<"):
		t.b.WriteString("(?P<")
		return i + 4, nil
	case strings.HasPrefix(rest, "(?<"), strings.HasPrefix(rest, "(?'"):
		closer := byte('>')
		if rest[2] == '\'' {
			closer = '\''
		}
		end := strings.IndexByte(rest[3:], closer)
		if end < 0 {
			return 0, t.fail(i, "unterminated group name")
		}
		t.b.WriteString("(?P<" + rest[3:3+end] + ">")
		return i + 3 + end + 1, nil
	case strings.HasPrefix(rest, "(?"):
		j := 2
		for j < len(rest) && rest[j] != ')' && rest[j] != ':' {
			switch f := rest[j]; f {
			case 'i', 'm', 's', 'U', '-':
			case '+', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				return 0, t.fail(i, "subroutine calls are not supported by RE2")
			case 'x':
				return 0, t.fail(i+j, "extended mode (?x) is not supported; remove the whitespace and comments from the pattern")
			default:
				return 0, t.fail(i+j, "option (?%c) is not supported by RE2 (supported: i, m, s, U)", f)
			}
			j++
		}
		if j >= len(rest) {
			return 0, t.fail(i, "unterminated group options")
		}
		t.b.WriteString(rest[:j+1])
		return i + j + 1, nil
	}
	t.b.WriteByte('(')
	return i + 1, nil
}

// escape handles the backslash at i and returns the index after it.
func (t *translator) escape(i int, inClass bool) (int, error) {
	p := t.p
	if i+1 >= len(p) {
		return 0, t.fail(i, "pattern ends with a lone backslash")
	}
	e := p[i+1]
	next := i + 2
	w := func(s string) (int, error) { t.b.WriteString(s); return next, nil }
	switch e {
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if inClass {
			return 0, t.fail(i, "octal escape \\%c in a class: write \\x{…} instead", e)
		}
		return 0, t.fail(i, "backreference \\%c is not supported by RE2", e)
	case 'g', 'k':
		return 0, t.fail(i, "backreferences and subroutine calls (\\%c) are not supported by RE2", e)
	case 'K':
		return 0, t.fail(i, "\\K (reset match start) is not supported by RE2")
	case 'G':
		return 0, t.fail(i, "\\G is not supported by RE2")
	case 'X':
		return 0, t.fail(i, "\\X (grapheme cluster) is not supported by RE2")
	case 'C':
		return 0, t.fail(i, "\\C (single code unit) is not supported by RE2")
	case 'E':
		return next, nil // a lone \E is ignored by PCRE2
	case 'Q':
		end := strings.Index(p[next:], `\E`)
		lit := p[next:]
		if end >= 0 {
			lit = p[next : next+end]
			next += end + 2
		} else {
			next = len(p)
		}
		return w(regexp.QuoteMeta(lit))
	case 's':
		if inClass {
			return w(space)
		}
		return w("[" + space + "]")
	case 'S':
		if inClass {
			return 0, t.fail(i, "\\S inside a character class cannot be translated; use [^…] with \\s")
		}
		return w("[^" + space + "]")
	case 'h':
		if inClass {
			return w(hspace)
		}
		return w("[" + hspace + "]")
	case 'H':
		if inClass {
			return 0, t.fail(i, "\\H inside a character class cannot be translated")
		}
		return w("[^" + hspace + "]")
	case 'v':
		if inClass {
			return w(vspace)
		}
		return w("[" + vspace + "]")
	case 'V':
		if inClass {
			return 0, t.fail(i, "\\V inside a character class cannot be translated")
		}
		return w("[^" + vspace + "]")
	case 'R':
		if inClass {
			return 0, t.fail(i, "\\R is not allowed in a character class")
		}
		return w(newlineRE)
	case 'N':
		if inClass {
			return 0, t.fail(i, "\\N is not allowed in a character class")
		}
		if strings.HasPrefix(p[next:], "{") {
			return 0, t.fail(i, "\\N{…} is not supported")
		}
		return w(`[^\n]`)
	case 'e':
		return w(`\x1B`)
	case 'b':
		if inClass {
			return w(`\x08`)
		}
		return w(`\b`)
	case 'Z':
		if inClass {
			return 0, t.fail(i, "\\Z is not allowed in a character class")
		}
		return w(`(?:\n?\z)`)
	case 'c':
		if next >= len(p) || p[next] > 0x7e || p[next] < 0x20 {
			return 0, t.fail(i, "\\c must be followed by a printable ASCII character")
		}
		ch := p[next]
		if ch >= 'a' && ch <= 'z' {
			ch -= 'a' - 'A'
		}
		next++
		return w(fmt.Sprintf(`\x{%X}`, ch^0x40))
	case 'o':
		if !strings.HasPrefix(p[next:], "{") {
			return 0, t.fail(i, "\\o must be followed by {octal digits}")
		}
		end := strings.IndexByte(p[next:], '}')
		if end < 0 {
			return 0, t.fail(i, "unterminated \\o{…}")
		}
		v, err := strconv.ParseUint(p[next+1:next+end], 8, 21)
		if err != nil {
			return 0, t.fail(i, "bad octal escape \\o{%s}", p[next+1:next+end])
		}
		next += end + 1
		return w(fmt.Sprintf(`\x{%X}`, v))
	case 'p', 'P':
		if next >= len(p) {
			return 0, t.fail(i, "\\%c needs a property name, as in \\%c{L}", e, e)
		}
		if strings.HasPrefix(p[next:], "{") {
			end := strings.IndexByte(p[next:], '}')
			if end < 0 {
				return 0, t.fail(i, "unterminated \\%c{…}", e)
			}
			next += end + 1
		} else {
			next++
		}
		return w(p[i:next])
	case 'x':
		if strings.HasPrefix(p[next:], "{") {
			end := strings.IndexByte(p[next:], '}')
			if end < 0 {
				return 0, t.fail(i, "unterminated \\x{…}")
			}
			next += end + 1
			return w(p[i:next])
		}
		// \xhh: up to two hex digits; PCRE2 allows fewer, RE2 wants exactly two.
		n := 0
		for n < 2 && next+n < len(p) && isHex(p[next+n]) {
			n++
		}
		v := uint64(0)
		if n > 0 {
			v, _ = strconv.ParseUint(p[next:next+n], 16, 8)
		}
		next += n
		return w(fmt.Sprintf(`\x{%X}`, v))
	case '0':
		n := 0
		for n < 2 && next+n < len(p) && p[next+n] >= '0' && p[next+n] <= '7' {
			n++
		}
		v, _ := strconv.ParseUint("0"+p[next:next+n], 8, 16)
		next += n
		return w(fmt.Sprintf(`\x{%X}`, v))
	}
	if e >= 0x80 {
		return 0, t.fail(i, "escaped non-ASCII character")
	}
	return w(p[i:next])
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
