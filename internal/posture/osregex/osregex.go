// Package osregex translates Wazuh/OSSEC OSRegex patterns (the regex
// flavour of Wazuh 4.x SCA policies) into Go's RE2 syntax.
//
// OSRegex is a small language: the classes \w \d \s \t \p \W \D \S and \.
// (any character), the modifiers + and * (only after a backslash class),
// ^ and $ anchors, | between whole patterns, and capture groups without
// alternation. A bare '.' is a literal dot. Matching is case-insensitive,
// as OS_Regex compiles patterns without OS_CASE_SENSITIVE.
//
// What OSRegex cannot express is rejected with a precise message rather
// than guessed: a modifier after a bare character ("0+"), nested groups,
// alternation inside a group, unknown escapes, a quantified group, and
// a stray ^ or $ in the middle of a pattern.
package osregex

import (
	"fmt"
	"regexp"
	"strings"
)

// MaxLen is the longest pattern Translate accepts.
const MaxLen = 4096

// Error describes why a pattern cannot be translated.
type Error struct {
	Pattern string
	Offset  int // byte offset in Pattern
	Msg     string
}

func (e *Error) Error() string {
	return fmt.Sprintf("osregex %q at offset %d: %s", e.Pattern, e.Offset, e.Msg)
}

// classes maps an OSRegex backslash class to its RE2 equivalent.
var classes = map[byte]string{
	'w': `[A-Za-z0-9@_\-]`,
	'W': `[^A-Za-z0-9@_\-]`,
	'd': `[0-9]`,
	'D': `[^0-9]`,
	's': `[ ]`,
	'S': `[^ ]`,
	't': `\t`,
	'p': `[()*+,\-.:;<=>?\[\]!"'#$%&|{}]`,
	'.': `(?s:.)`,
}

// literals are the characters OSRegex lets one escape to match literally.
const literals = `$()\|<`

// Translate returns the RE2 pattern equivalent to the OSRegex pattern p.
func Translate(p string) (string, error) {
	if len(p) > MaxLen {
		return "", &Error{Pattern: p[:32] + "…", Offset: MaxLen, Msg: fmt.Sprintf("pattern longer than %d bytes", MaxLen)}
	}
	if p == "" {
		return "", &Error{Pattern: p, Msg: "empty pattern"}
	}
	var alts []string
	start := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++ // skip the escaped byte
		case '|':
			a, err := translateAlt(p, start, i)
			if err != nil {
				return "", err
			}
			alts = append(alts, a)
			start = i + 1
		}
	}
	a, err := translateAlt(p, start, len(p))
	if err != nil {
		return "", err
	}
	alts = append(alts, a)
	return "(?i)" + strings.Join(alts, "|"), nil
}

// translateAlt translates p[start:end], one alternative of the pattern.
func translateAlt(p string, start, end int) (string, error) {
	fail := func(off int, format string, args ...any) error {
		return &Error{Pattern: p, Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	if start == end {
		return "", fail(start, "empty alternative around '|'")
	}
	var b strings.Builder
	b.WriteString("(?:")
	i := start
	if p[i] == '^' {
		b.WriteString("^")
		i++
	}
	tail := ""
	if end > i && p[end-1] == '$' && !escaped(p, start, end-1) {
		tail = "$"
		end--
	}
	inGroup := false
	groupOpen := -1
	// quantifiable reports whether the previous token was a backslash class.
	quantifiable := false
	for i < end {
		c := p[i]
		switch c {
		case '\\':
			if i+1 >= end {
				return "", fail(i, "pattern ends with a lone backslash")
			}
			e := p[i+1]
			if re, ok := classes[e]; ok {
				b.WriteString(re)
				quantifiable = true
			} else if strings.IndexByte(literals, e) >= 0 {
				b.WriteString(regexp.QuoteMeta(string(e)))
				quantifiable = false
			} else {
				return "", fail(i, "OSRegex has no escape \\%c (known: \\w \\W \\d \\D \\s \\S \\t \\p \\. and \\$ \\( \\) \\\\ \\| \\<)", e)
			}
			i += 2
			continue
		case '+', '*':
			if !quantifiable {
				return "", fail(i, "OSRegex applies %q only to a backslash class such as \\d%c; a modifier after a bare character, a group or another modifier is not supported", c, c)
			}
			b.WriteByte(c)
			quantifiable = false
		case '(':
			if inGroup {
				return "", fail(i, "nested groups are not supported by OSRegex")
			}
			inGroup = true
			groupOpen = i
			b.WriteByte('(')
			quantifiable = false
		case ')':
			if !inGroup {
				return "", fail(i, "unbalanced ')'; escape it as \\) to match a parenthesis")
			}
			inGroup = false
			b.WriteByte(')')
			quantifiable = false
		case '^':
			return "", fail(i, "'^' is only an anchor at the start of a pattern; OSRegex cannot match a literal caret")
		case '$':
			return "", fail(i, "unescaped '$' is only an anchor at the end of a pattern; write \\$ for a literal dollar")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
			quantifiable = false
		}
		i++
	}
	if inGroup {
		// '|' inside a group splits the pattern in OSRegex, so an open group
		// here is either unbalanced or alternation inside a group.
		if strings.IndexByte(p[groupOpen:], '|') >= 0 {
			return "", fail(groupOpen, "alternation inside a group is not supported by OSRegex")
		}
		return "", fail(groupOpen, "unbalanced '('; escape it as \\( to match a parenthesis")
	}
	b.WriteString(tail)
	b.WriteString(")")
	return b.String(), nil
}

// escaped reports whether p[i] is preceded by an odd number of backslashes
// counted from start.
func escaped(p string, start, i int) bool {
	n := 0
	for j := i - 1; j >= start && p[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// Compile translates p and compiles the result.
func Compile(p string) (*regexp.Regexp, error) {
	s, err := Translate(p)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("osregex %q: compile translation %q: %w", p, s, err)
	}
	return re, nil
}
