package sigma

import (
	"strings"
	"unicode/utf8"

	"github.com/custodia/custodia/internal/detect/event"
)

// partKind is one element of a Sigma string: literal text or a wildcard.
type partKind uint8

const (
	partLit  partKind = iota // literal text
	partStar                 // * : any run of characters
	partOne                  // ? : exactly one character
	partDash                 // windash: one of - / – — ―
)

type part struct {
	kind partKind
	lit  string
}

// pattern is a parsed Sigma string value.
type pattern []part

// parsePattern parses a Sigma string: * and ? are wildcards; a backslash
// escapes *, ? and itself; any other backslash is literal.
func parsePattern(s string) pattern {
	var p pattern
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			p = append(p, part{kind: partLit, lit: b.String()})
			b.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i++
				continue
			}
			b.WriteByte(c)
		case '*':
			flush()
			if len(p) == 0 || p[len(p)-1].kind != partStar {
				p = append(p, part{kind: partStar})
			}
		case '?':
			flush()
			p = append(p, part{kind: partOne})
		default:
			b.WriteByte(c)
		}
	}
	flush()
	return p
}

// literal returns the pattern's text if it has no wildcards.
func (p pattern) literal() (string, bool) {
	var b strings.Builder
	for _, x := range p {
		if x.kind != partLit {
			return "", false
		}
		b.WriteString(x.lit)
	}
	return b.String(), true
}

func (p pattern) hasStarPrefix() bool { return len(p) > 0 && p[0].kind == partStar }
func (p pattern) hasStarSuffix() bool { return len(p) > 0 && p[len(p)-1].kind == partStar }

// wrap adds * before and/or after p.
func (p pattern) wrap(before, after bool) pattern {
	q := make(pattern, 0, len(p)+2)
	if before && !p.hasStarPrefix() {
		q = append(q, part{kind: partStar})
	}
	q = append(q, p...)
	if after && !q.hasStarSuffix() {
		q = append(q, part{kind: partStar})
	}
	return q
}

// mapLits applies f to every literal part.
func (p pattern) mapLits(f func(string) string) pattern {
	q := make(pattern, len(p))
	for i, x := range p {
		if x.kind == partLit {
			x.lit = f(x.lit)
		}
		q[i] = x
	}
	return q
}

// longestLit returns the longest literal part.
func (p pattern) longestLit() string {
	best := ""
	for _, x := range p {
		if x.kind == partLit && len(x.lit) > len(best) {
			best = x.lit
		}
	}
	return best
}

// String renders p back in Sigma syntax.
func (p pattern) String() string {
	var b strings.Builder
	for _, x := range p {
		switch x.kind {
		case partLit:
			for i := 0; i < len(x.lit); i++ {
				if c := x.lit[i]; c == '*' || c == '?' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(x.lit[i])
			}
		case partStar:
			b.WriteByte('*')
		case partOne:
			b.WriteByte('?')
		case partDash:
			b.WriteString("[-/–—―]")
		}
	}
	return b.String()
}

// strOp is how a compiled string matcher compares.
type strOp uint8

const (
	opEqual strOp = iota
	opPrefix
	opSuffix
	opContains
	opAny // "*": any value
	opGlob
)

// strMatcher matches a value against a Sigma string pattern.
type strMatcher struct {
	op    strOp
	lit   string  // for equal/prefix/suffix/contains; lower-cased unless cased
	pat   pattern // for glob; literals lower-cased unless cased
	cased bool
}

func newStrMatcher(p pattern, cased bool) strMatcher {
	if !cased {
		p = p.mapLits(strings.ToLower)
	}
	m := strMatcher{cased: cased, pat: p}
	if s, ok := p.literal(); ok {
		m.op, m.lit = opEqual, s
		return m
	}
	if len(p) == 1 && p[0].kind == partStar {
		m.op = opAny
		return m
	}
	if len(p) == 2 && p[0].kind == partLit && p[1].kind == partStar {
		m.op, m.lit = opPrefix, p[0].lit
		return m
	}
	if len(p) == 2 && p[0].kind == partStar && p[1].kind == partLit {
		m.op, m.lit = opSuffix, p[1].lit
		return m
	}
	if len(p) == 3 && p[0].kind == partStar && p[1].kind == partLit && p[2].kind == partStar {
		m.op, m.lit = opContains, p[1].lit
		return m
	}
	m.op = opGlob
	return m
}

// match reports whether v (already lower-cased unless m.cased) matches.
func (m *strMatcher) match(v string) bool {
	switch m.op {
	case opEqual:
		return v == m.lit
	case opPrefix:
		return strings.HasPrefix(v, m.lit)
	case opSuffix:
		return strings.HasSuffix(v, m.lit)
	case opContains:
		return strings.Contains(v, m.lit)
	case opAny:
		return true
	}
	return globMatch(m.pat, v)
}

// matchField matches a field of e, using its cached lower-case form.
func (m *strMatcher) matchField(e *event.Event, f *event.Field) bool {
	switch f.Kind {
	case event.Null:
		return false
	case event.List:
		for _, it := range e.Items(f) {
			if !m.cased {
				it = event.ToLower(it)
			}
			if m.match(it) {
				return true
			}
		}
		return false
	}
	if m.cased {
		return m.match(f.Value)
	}
	return m.match(f.Lower())
}

func isDash(r rune) bool {
	return r == '-' || r == '/' || r == '–' || r == '—' || r == '―'
}

// globMatch matches s against p in time O(len(p)·len(s)) at worst, using the
// classic single-backtrack algorithm (a later * supersedes an earlier one).
func globMatch(p pattern, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for {
		if pi < len(p) {
			x := p[pi]
			switch x.kind {
			case partStar:
				starP, starS = pi, si
				pi++
				continue
			case partLit:
				if strings.HasPrefix(s[si:], x.lit) {
					si += len(x.lit)
					pi++
					continue
				}
			case partOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					pi++
					continue
				}
			case partDash:
				if si < len(s) {
					r, n := utf8.DecodeRuneInString(s[si:])
					if isDash(r) {
						si += n
						pi++
						continue
					}
				}
			}
		} else if si == len(s) {
			return true
		}
		if starP < 0 || starS >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		pi, si = starP+1, starS
	}
}
