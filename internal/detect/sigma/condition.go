package sigma

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// maxConditionLen bounds the condition text a rule may carry.
const maxConditionLen = 8192

// maxConditionDepth bounds nesting so a hostile condition cannot exhaust the stack.
const maxConditionDepth = 64

// condNode is a parsed condition expression.
type condNode interface{ String() string }

type condAnd struct{ items []condNode }
type condOr struct{ items []condNode }
type condNot struct{ item condNode }
type condRef struct{ name string }

// condOf is "1 of pattern", "all of pattern", "1 of them" or "all of them".
type condOf struct {
	all     bool
	pattern string // "them" for all identifiers
}

func (c *condAnd) String() string { return "(" + joinNodes(c.items, " and ") + ")" }
func (c *condOr) String() string  { return "(" + joinNodes(c.items, " or ") + ")" }
func (c *condNot) String() string { return "not " + c.item.String() }
func (c *condRef) String() string { return c.name }
func (c *condOf) String() string {
	if c.all {
		return "all of " + c.pattern
	}
	return "1 of " + c.pattern
}

func joinNodes(ns []condNode, sep string) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = n.String()
	}
	return strings.Join(s, sep)
}

type condToken struct {
	text string
	pos  int
}

func tokenizeCondition(s string) ([]condToken, error) {
	var toks []condToken
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, condToken{string(c), i})
			i++
		case c == '|':
			return nil, fmt.Errorf("condition: aggregation with '|' at offset %d is obsolete Sigma syntax; use a correlation rule", i)
		case isIdentChar(c):
			j := i
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			toks = append(toks, condToken{s[i:j], i})
			i = j
		default:
			return nil, fmt.Errorf("condition: unexpected character %q at offset %d", c, i)
		}
	}
	return toks, nil
}

func isIdentChar(c byte) bool {
	return c == '_' || c == '*' || c == '-' || c == '.' || c == '?' ||
		('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c >= 0x80
}

type condParser struct {
	toks  []condToken
	i     int
	depth int
}

// parseCondition parses a Sigma condition. Precedence from loosest to
// tightest: or, and, not, "x of", parentheses.
func parseCondition(s string) (condNode, error) {
	if len(s) > maxConditionLen {
		return nil, fmt.Errorf("condition: longer than %d bytes", maxConditionLen)
	}
	toks, err := tokenizeCondition(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("condition: empty")
	}
	p := &condParser{toks: toks}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		t := p.toks[p.i]
		return nil, fmt.Errorf("condition: unexpected %q at offset %d", t.text, t.pos)
	}
	return n, nil
}

func (p *condParser) peek() string {
	if p.i < len(p.toks) {
		return strings.ToLower(p.toks[p.i].text)
	}
	return ""
}

func (p *condParser) parseOr() (condNode, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxConditionDepth {
		return nil, fmt.Errorf("condition: nested deeper than %d", maxConditionDepth)
	}
	first, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	items := []condNode{first}
	for p.peek() == "or" {
		p.i++
		n, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		items = append(items, n)
	}
	if len(items) == 1 {
		return first, nil
	}
	return &condOr{items}, nil
}

func (p *condParser) parseAnd() (condNode, error) {
	first, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	items := []condNode{first}
	for p.peek() == "and" {
		p.i++
		n, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		items = append(items, n)
	}
	if len(items) == 1 {
		return first, nil
	}
	return &condAnd{items}, nil
}

func (p *condParser) parseNot() (condNode, error) {
	if p.peek() == "not" {
		p.i++
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > maxConditionDepth {
			return nil, fmt.Errorf("condition: nested deeper than %d", maxConditionDepth)
		}
		n, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return &condNot{n}, nil
	}
	return p.parsePrimary()
}

func (p *condParser) parsePrimary() (condNode, error) {
	if p.i >= len(p.toks) {
		return nil, fmt.Errorf("condition: unexpected end")
	}
	t := p.toks[p.i]
	lt := strings.ToLower(t.text)
	switch {
	case t.text == "(":
		p.i++
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("condition: missing ')' for '(' at offset %d", t.pos)
		}
		p.i++
		return n, nil
	case t.text == ")":
		return nil, fmt.Errorf("condition: unexpected ')' at offset %d", t.pos)
	case lt == "and" || lt == "or" || lt == "not" || lt == "of" || lt == "them":
		return nil, fmt.Errorf("condition: unexpected %q at offset %d", t.text, t.pos)
	case (lt == "1" || lt == "all" || lt == "any") && p.i+1 < len(p.toks) && strings.ToLower(p.toks[p.i+1].text) == "of":
		if p.i+2 >= len(p.toks) {
			return nil, fmt.Errorf("condition: %q at offset %d needs a pattern or 'them'", t.text+" of", t.pos)
		}
		target := p.toks[p.i+2]
		if target.text == "(" || target.text == ")" {
			return nil, fmt.Errorf("condition: %q at offset %d needs a pattern or 'them'", t.text+" of", t.pos)
		}
		p.i += 3
		pat := target.text
		if strings.ToLower(pat) == "them" {
			pat = "them"
		}
		return &condOf{all: lt == "all", pattern: pat}, nil
	default:
		if _, err := fmt.Sscanf(lt, "%d", new(int)); err == nil && p.i+1 < len(p.toks) && strings.ToLower(p.toks[p.i+1].text) == "of" {
			return nil, fmt.Errorf("condition: %q at offset %d: only '1 of' and 'all of' are defined", t.text+" of", t.pos)
		}
		p.i++
		return &condRef{name: t.text}, nil
	}
}

// resolveOf returns the search identifiers an "x of" pattern selects, sorted.
// "them" selects every identifier not starting with an underscore.
func resolveOf(pattern string, names []string) []string {
	var out []string
	for _, n := range names {
		if pattern == "them" {
			if !strings.HasPrefix(n, "_") {
				out = append(out, n)
			}
			continue
		}
		if ok, _ := path.Match(escapeForPathMatch(pattern), n); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// escapeForPathMatch keeps * as a wildcard and makes every other
// path.Match metacharacter literal.
func escapeForPathMatch(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '?', '[', ']', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
