package sigma

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/custodia/custodia/internal/detect/event"
	"gopkg.in/yaml.v3"
)

// Limits that keep a hostile rule from costing unbounded memory or time.
const (
	maxValuesPerField = 1 << 16
	maxValueLen       = 64 << 10
	maxWindashExpand  = 256
	maxRegexLen       = 16 << 10
)

// Detection is a compiled detection section: named searches and the
// condition that combines them.
type Detection struct {
	searches map[string]*search
	root     evalNode
	// FieldNames lists every field the detection reads, for alert output.
	FieldNames []string
	// Condition is the condition as written (several joined by " or ").
	Condition string
}

// Event is what a detection evaluates.
type Event = event.Event

// Match reports whether the detection matches e.
func (d *Detection) Match(e *Event) bool { return d.root.eval(e) }

// evalNode is a compiled condition node.
type evalNode interface {
	eval(e *Event) bool
	// needles returns literals of which at least one must occur in the
	// lower-cased text of any matching event; ok is false when no such
	// set is known.
	needles() (ns []Needle, ok bool)
	// groups returns needle sets that must all be hit (at least one needle
	// of each) for the node to match; none if no such sets are known.
	groups() [][]Needle
}

// Needle is a lower-cased literal that must occur in the lower-cased value
// of Field for a detection to match.
type Needle struct {
	Field string
	Lit   string
}

type andNode []evalNode
type orNode []evalNode
type notNode struct{ n evalNode }
type constNode bool

func (a andNode) eval(e *Event) bool {
	for _, n := range a {
		if !n.eval(e) {
			return false
		}
	}
	return true
}
func (o orNode) eval(e *Event) bool {
	for _, n := range o {
		if n.eval(e) {
			return true
		}
	}
	return false
}
func (n notNode) eval(e *Event) bool   { return !n.n.eval(e) }
func (c constNode) eval(e *Event) bool { return bool(c) }

func (a andNode) needles() ([]Needle, bool) {
	var best []Needle
	found := false
	for _, n := range a {
		ns, ok := n.needles()
		if ok && (!found || betterNeedles(ns, best)) {
			best, found = ns, true
		}
	}
	return best, found
}
func (o orNode) needles() ([]Needle, bool) {
	var all []Needle
	for _, n := range o {
		ns, ok := n.needles()
		if !ok {
			return nil, false
		}
		all = append(all, ns...)
	}
	return all, true
}
func (n notNode) needles() ([]Needle, bool) { return nil, false }
func (n notNode) groups() [][]Needle        { return nil }
func (c constNode) groups() [][]Needle      { return nil }

func (a andNode) groups() [][]Needle {
	var out [][]Needle
	for _, n := range a {
		out = append(out, n.groups()...)
	}
	return out
}

func (o orNode) groups() [][]Needle {
	if ns, ok := o.needles(); ok {
		return [][]Needle{ns}
	}
	return nil
}
func (c constNode) needles() ([]Needle, bool) { return nil, !bool(c) }

// betterNeedles prefers fewer needles whose shortest member is longer.
func betterNeedles(a, b []Needle) bool {
	sa, sb := minLen(a), minLen(b)
	if sa >= 4 && sb >= 4 {
		return len(a) < len(b)
	}
	if sa != sb {
		return sa > sb
	}
	return len(a) < len(b)
}

func minLen(ns []Needle) int {
	m := math.MaxInt
	for _, n := range ns {
		m = min(m, effLen(n.Lit))
	}
	return m
}

// effLen is a needle's usefulness: its length, except that numbers and
// booleans occur in nearly every event and count as length 1.
func effLen(s string) int {
	if s == "true" || s == "false" {
		return 1
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != 'x' {
			return len(s)
		}
	}
	return 1
}

// search is one search identifier: an OR of maps, or keywords.
type search struct {
	name string
	node evalNode
}

func (s *search) eval(e *Event) bool        { return s.node.eval(e) }
func (s *search) needles() ([]Needle, bool) { return s.node.needles() }
func (s *search) groups() [][]Needle        { return s.node.groups() }

// compileDetection compiles a detection mapping; skip names keys that are
// not search identifiers (e.g. "rules" in a filter).
func compileDetection(n *yaml.Node, opts *Options, warnings *[]string, skip ...string) (*Detection, error) {
	d := &Detection{searches: map[string]*search{}}
	var condNode *yaml.Node
	var names []string
	fields := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i].Value
		val := resolveAlias(n.Content[i+1])
		switch {
		case key == "condition":
			condNode = val
			continue
		case key == "timeframe":
			*warnings = append(*warnings, "timeframe is obsolete outside correlation rules and is ignored")
			continue
		case contains(skip, key):
			continue
		}
		if _, dup := d.searches[key]; dup {
			return nil, fmt.Errorf("search identifier %q defined twice", key)
		}
		node, err := compileSearch(val, opts, warnings, fields)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		d.searches[key] = &search{name: key, node: node}
		names = append(names, key)
	}
	if condNode == nil {
		return nil, fmt.Errorf("missing condition")
	}
	conds := stringList(condNode)
	if len(conds) == 0 {
		return nil, fmt.Errorf("condition must be a string or a list of strings")
	}
	var roots []evalNode
	for _, c := range conds {
		cn, err := parseCondition(c)
		if err != nil {
			return nil, err
		}
		en, err := d.link(cn, names)
		if err != nil {
			return nil, fmt.Errorf("condition %q: %w", c, err)
		}
		roots = append(roots, en)
	}
	if len(roots) == 1 {
		d.root = roots[0]
	} else {
		d.root = orNode(roots)
	}
	d.Condition = strings.Join(conds, " or ")
	for f := range fields {
		d.FieldNames = append(d.FieldNames, f)
	}
	sort.Strings(d.FieldNames)
	return d, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// link turns a parsed condition into evaluation nodes bound to searches.
func (d *Detection) link(c condNode, names []string) (evalNode, error) {
	switch c := c.(type) {
	case *condAnd:
		out := make(andNode, 0, len(c.items))
		for _, it := range c.items {
			n, err := d.link(it, names)
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		return out, nil
	case *condOr:
		out := make(orNode, 0, len(c.items))
		for _, it := range c.items {
			n, err := d.link(it, names)
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		return out, nil
	case *condNot:
		n, err := d.link(c.item, names)
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	case *condRef:
		s, ok := d.searches[c.name]
		if !ok {
			return nil, fmt.Errorf("unknown search identifier %q", c.name)
		}
		return s, nil
	case *condOf:
		sel := resolveOf(c.pattern, names)
		if len(sel) == 0 {
			return nil, fmt.Errorf("%s matches no search identifier", c)
		}
		items := make([]evalNode, len(sel))
		for i, name := range sel {
			items[i] = d.searches[name]
		}
		if c.all {
			return andNode(items), nil
		}
		return orNode(items), nil
	}
	return nil, fmt.Errorf("unknown condition node %T", c)
}

func compileSearch(n *yaml.Node, opts *Options, warnings *[]string, fields map[string]bool) (evalNode, error) {
	switch n.Kind {
	case yaml.MappingNode:
		return compileMap(n, opts, warnings, fields)
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, fmt.Errorf("empty list")
		}
		var out orNode
		var kw []*yaml.Node
		for _, c := range n.Content {
			c = resolveAlias(c)
			switch c.Kind {
			case yaml.MappingNode:
				m, err := compileMap(c, opts, warnings, fields)
				if err != nil {
					return nil, err
				}
				out = append(out, m)
			case yaml.ScalarNode:
				kw = append(kw, c)
			default:
				return nil, fmt.Errorf("list items must be values or maps")
			}
		}
		if len(kw) > 0 {
			k, err := compileKeywords(kw, nil, opts, warnings)
			if err != nil {
				return nil, err
			}
			out = append(out, k)
		}
		if len(out) == 1 {
			return out[0], nil
		}
		return out, nil
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, fmt.Errorf("search identifier has no value")
		}
		return compileKeywords([]*yaml.Node{n}, nil, opts, warnings)
	}
	return nil, fmt.Errorf("unsupported YAML node")
}

func compileMap(n *yaml.Node, opts *Options, warnings *[]string, fields map[string]bool) (evalNode, error) {
	if len(n.Content) == 0 {
		return nil, fmt.Errorf("empty map")
	}
	var out andNode
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i].Value
		val := resolveAlias(n.Content[i+1])
		field, mods, _ := strings.Cut(key, "|")
		var modList []string
		if key != field {
			modList = strings.Split(mods, "|")
		}
		if field == "" {
			// '|all': [...] keyword search with modifiers.
			vals := []*yaml.Node{val}
			if val.Kind == yaml.SequenceNode {
				vals = val.Content
			}
			k, err := compileKeywords(vals, modList, opts, warnings)
			if err != nil {
				return nil, err
			}
			out = append(out, k)
			continue
		}
		fields[field] = true
		fc, err := compileField(field, modList, val, opts, warnings)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		out = append(out, fc)
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

// valueMatcher tests one field.
type valueMatcher interface {
	matchField(e *Event, f *event.Field) bool
	// needleSet returns lower-cased literals of which a matching value
	// contains at least one; nil if there is no such set.
	needleSet() []string
}

// fieldCond is one "field|modifiers: values" entry.
type fieldCond struct {
	field    string
	matchers []valueMatcher
	all      bool // values linked with AND
	neq      bool // negate: the field differs from every value
	null     bool // field: null
	exists   int8 // 1 must exist, -1 must not exist, 0 no check
}

func (fc *fieldCond) eval(e *Event) bool {
	if fc.exists != 0 {
		return (e.Get(fc.field) != nil) == (fc.exists > 0)
	}
	f := e.Get(fc.field)
	if fc.null {
		return f == nil || f.Kind == event.Null
	}
	if fc.neq {
		if f == nil {
			return true
		}
		for _, m := range fc.matchers {
			if m.matchField(e, f) {
				return false
			}
		}
		return true
	}
	if f == nil {
		return false
	}
	if fc.all {
		for _, m := range fc.matchers {
			if !m.matchField(e, f) {
				return false
			}
		}
		return len(fc.matchers) > 0
	}
	for _, m := range fc.matchers {
		if m.matchField(e, f) {
			return true
		}
	}
	return false
}

func (fc *fieldCond) groups() [][]Needle {
	if fc.all && !fc.neq && !fc.null && fc.exists == 0 {
		var out [][]Needle
		for _, m := range fc.matchers {
			var g []Needle
			for _, n := range m.needleSet() {
				g = append(g, Needle{fc.field, n})
			}
			if len(g) > 0 {
				out = append(out, g)
			}
		}
		return out
	}
	if ns, ok := fc.needles(); ok {
		return [][]Needle{ns}
	}
	return nil
}

func (fc *fieldCond) needles() ([]Needle, bool) {
	if fc.neq || fc.null || fc.exists != 0 || len(fc.matchers) == 0 {
		return nil, false
	}
	if fc.all {
		var best []Needle
		for _, m := range fc.matchers {
			set := m.needleSet()
			if len(set) == 0 {
				continue
			}
			ns := make([]Needle, len(set))
			for i, n := range set {
				ns[i] = Needle{fc.field, n}
			}
			if best == nil || betterNeedles(ns, best) {
				best = ns
			}
		}
		return best, best != nil
	}
	out := make([]Needle, 0, len(fc.matchers))
	for _, m := range fc.matchers {
		set := m.needleSet()
		if len(set) == 0 {
			return nil, false
		}
		for _, n := range set {
			out = append(out, Needle{fc.field, n})
		}
	}
	return out, true
}

// keywordCond searches every field value (plain-text and syslog events
// carry their text in the message field).
type keywordCond struct {
	matchers []*strMatcher
	all      bool
}

func (k *keywordCond) matchOne(e *Event, m *strMatcher) bool {
	for i := range e.Fields {
		if !e.Fields[i].Dup && m.matchField(e, &e.Fields[i]) {
			return true
		}
	}
	return false
}

func (k *keywordCond) eval(e *Event) bool {
	for _, m := range k.matchers {
		ok := k.matchOne(e, m)
		if k.all && !ok {
			return false
		}
		if !k.all && ok {
			return true
		}
	}
	return k.all && len(k.matchers) > 0
}

// needles of keywords have an empty Field: they may occur in any field.
func (k *keywordCond) groups() [][]Needle {
	if k.all {
		var out [][]Needle
		for _, m := range k.matchers {
			if n := m.pat.longestLit(); n != "" {
				out = append(out, []Needle{{"", strings.ToLower(n)}})
			}
		}
		return out
	}
	if ns, ok := k.needles(); ok {
		return [][]Needle{ns}
	}
	return nil
}

func (k *keywordCond) needles() ([]Needle, bool) {
	if k.all {
		best := ""
		for _, m := range k.matchers {
			if n := m.pat.longestLit(); len(n) > len(best) {
				best = n
			}
		}
		return []Needle{{"", strings.ToLower(best)}}, best != ""
	}
	var out []Needle
	for _, m := range k.matchers {
		n := m.pat.longestLit()
		if n == "" {
			return nil, false
		}
		out = append(out, Needle{"", strings.ToLower(n)})
	}
	return out, true
}

func compileKeywords(vals []*yaml.Node, mods []string, opts *Options, warnings *[]string) (evalNode, error) {
	k := &keywordCond{}
	spec, err := parseModifiers(mods)
	if err != nil {
		return nil, err
	}
	if spec.typ != typString {
		return nil, fmt.Errorf("keyword search supports only string modifiers")
	}
	k.all = spec.all
	for _, v := range vals {
		v = resolveAlias(v)
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			return nil, fmt.Errorf("keywords must be strings")
		}
		pats, err := spec.transform(v.Value, opts, warnings)
		if err != nil {
			return nil, err
		}
		for _, p := range pats {
			// Keywords are full-text: they match anywhere in a value.
			m := newStrMatcher(p.wrap(true, true), spec.cased)
			k.matchers = append(k.matchers, &m)
		}
	}
	return k, nil
}

// valueType is what a field condition compares.
type valueType uint8

const (
	typString valueType = iota
	typRegex
	typCIDR
	typNumeric
	typExists
	typFieldRef
)

// modSpec is the parsed modifier chain of one field.
type modSpec struct {
	typ        valueType
	all, cased bool
	neq        bool
	cmp        string // gt, gte, lt, lte for numeric
	timePart   string // minute, hour, day, week, month, year
	reFlags    string
	transforms []string // in order: contains startswith endswith base64 base64offset utf16* wide windash expand
}

var knownMods = map[string]bool{
	"contains": true, "startswith": true, "endswith": true, "all": true, "re": true,
	"i": true, "m": true, "s": true, "cidr": true, "base64": true, "base64offset": true,
	"utf16le": true, "utf16be": true, "utf16": true, "wide": true, "windash": true,
	"exists": true, "cased": true, "neq": true, "gt": true, "gte": true, "lt": true,
	"lte": true, "fieldref": true, "expand": true,
	"minute": true, "hour": true, "day": true, "week": true, "month": true, "year": true,
}

func parseModifiers(mods []string) (*modSpec, error) {
	s := &modSpec{}
	for _, m := range mods {
		lm := strings.ToLower(m)
		if !knownMods[lm] {
			return nil, fmt.Errorf("unknown modifier %q", m)
		}
		switch lm {
		case "all":
			s.all = true
		case "cased":
			s.cased = true
		case "neq":
			s.neq = true
		case "re":
			s.typ = typRegex
		case "i", "m", "s":
			if s.typ != typRegex {
				return nil, fmt.Errorf("modifier %q is only valid after re", m)
			}
			s.reFlags += lm
		case "cidr":
			s.typ = typCIDR
		case "gt", "gte", "lt", "lte":
			s.typ = typNumeric
			s.cmp = lm
		case "minute", "hour", "day", "week", "month", "year":
			s.timePart = lm
			if s.typ == typString {
				s.typ = typNumeric
			}
		case "exists":
			s.typ = typExists
		case "fieldref":
			s.typ = typFieldRef
		default:
			s.transforms = append(s.transforms, lm)
		}
	}
	if s.typ != typString && s.typ != typFieldRef {
		for _, t := range s.transforms {
			if t != "expand" {
				return nil, fmt.Errorf("modifier %q cannot be combined with %s", t, typeName(s.typ))
			}
		}
	}
	return s, nil
}

func typeName(t valueType) string {
	return [...]string{"string", "re", "cidr", "a numeric comparison", "exists", "fieldref"}[t]
}

// transform applies the string transformation modifiers to a raw value.
func (s *modSpec) transform(raw string, opts *Options, warnings *[]string) ([]pattern, error) {
	if len(raw) > maxValueLen {
		return nil, fmt.Errorf("value longer than %d bytes", maxValueLen)
	}
	pats := []pattern{parsePattern(raw)}
	for _, t := range s.transforms {
		var next []pattern
		for _, p := range pats {
			switch t {
			case "contains":
				next = append(next, p.wrap(true, true))
			case "startswith":
				next = append(next, p.wrap(false, true))
			case "endswith":
				next = append(next, p.wrap(true, false))
			case "windash":
				next = append(next, windash(p))
			case "expand":
				ex, err := expandPlaceholders(raw, opts, warnings)
				if err != nil {
					return nil, err
				}
				next = append(next, ex...)
			case "base64", "base64offset", "utf16le", "utf16be", "utf16", "wide":
				lit, ok := p.literal()
				if !ok {
					return nil, fmt.Errorf("modifier %s needs a value without wildcards", t)
				}
				for _, v := range encode(t, lit) {
					next = append(next, pattern{{kind: partLit, lit: v}})
				}
			}
		}
		pats = next
	}
	return pats, nil
}

// expandPlaceholders replaces %name% placeholders with their values.
func expandPlaceholders(raw string, opts *Options, warnings *[]string) ([]pattern, error) {
	// Split raw into literal text and placeholders; \% is a literal %.
	type seg struct {
		text  string
		place bool
	}
	var segs []seg
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' && i+1 < len(raw) && raw[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		if c == '%' {
			end := strings.IndexByte(raw[i+1:], '%')
			if end < 0 {
				b.WriteByte(c)
				continue
			}
			segs = append(segs, seg{text: b.String()})
			b.Reset()
			segs = append(segs, seg{text: raw[i+1 : i+1+end], place: true})
			i += end + 1
			continue
		}
		b.WriteByte(c)
	}
	segs = append(segs, seg{text: b.String()})
	outs := []string{""}
	for _, sg := range segs {
		if !sg.place {
			for i := range outs {
				outs[i] += sg.text
			}
			continue
		}
		vals := opts.Placeholders[sg.text]
		if len(vals) == 0 {
			*warnings = append(*warnings, fmt.Sprintf("placeholder %%%s%% has no values: the condition using it never matches", sg.text))
			return nil, nil
		}
		var next []string
		for _, o := range outs {
			for _, v := range vals {
				next = append(next, o+v)
			}
		}
		if len(next) > maxValuesPerField {
			return nil, fmt.Errorf("placeholder expansion yields more than %d values", maxValuesPerField)
		}
		outs = next
	}
	pats := make([]pattern, len(outs))
	for i, o := range outs {
		pats[i] = parsePattern(o)
	}
	return pats, nil
}

// windash turns every - or / (or en dash, em dash, horizontal bar) that
// starts a word into a class matching any of the five.
func windash(p pattern) pattern {
	var out pattern
	for _, x := range p {
		if x.kind != partLit {
			out = append(out, x)
			continue
		}
		start := 0
		s := x.lit
		for i, r := range s {
			if !isDash(r) {
				continue
			}
			prevWord := false
			if i > 0 {
				prevWord = isWordByte(s[i-1])
			} else if len(out) > 0 && out[len(out)-1].kind == partLit {
				l := out[len(out)-1].lit
				prevWord = isWordByte(l[len(l)-1])
			}
			if prevWord {
				continue
			}
			if i > start {
				out = append(out, part{kind: partLit, lit: s[start:i]})
			}
			out = append(out, part{kind: partDash})
			start = i + len(string(r))
		}
		if start < len(s) {
			out = append(out, part{kind: partLit, lit: s[start:]})
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func encode(mod, s string) []string {
	switch mod {
	case "base64":
		return []string{base64.StdEncoding.EncodeToString([]byte(s))}
	case "base64offset":
		starts := [3]int{0, 2, 3}
		ends := [3]int{0, 3, 2}
		out := make([]string, 0, 3)
		for i := 0; i < 3; i++ {
			enc := base64.StdEncoding.EncodeToString(append([]byte(strings.Repeat(" ", i)), s...))
			end := len(enc) - ends[(len(s)+i)%3]
			if starts[i] > end {
				continue
			}
			out = append(out, enc[starts[i]:end])
		}
		return out
	case "utf16le", "wide":
		return []string{utf16Bytes(s, false, false)}
	case "utf16be":
		return []string{utf16Bytes(s, true, false)}
	case "utf16":
		return []string{utf16Bytes(s, false, true)}
	}
	return []string{s}
}

func utf16Bytes(s string, bigEndian, bom bool) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	if bom {
		b = append(b, 0xFF, 0xFE)
	}
	for _, c := range u {
		if bigEndian {
			b = append(b, byte(c>>8), byte(c))
		} else {
			b = append(b, byte(c), byte(c>>8))
		}
	}
	return string(b)
}

func compileField(field string, mods []string, val *yaml.Node, opts *Options, warnings *[]string) (*fieldCond, error) {
	spec, err := parseModifiers(mods)
	if err != nil {
		return nil, err
	}
	fc := &fieldCond{field: field, all: spec.all, neq: spec.neq}
	var vals []*yaml.Node
	switch val.Kind {
	case yaml.ScalarNode:
		vals = []*yaml.Node{val}
	case yaml.SequenceNode:
		vals = val.Content
	default:
		return nil, fmt.Errorf("value must be a scalar or a list")
	}
	if len(vals) > maxValuesPerField {
		return nil, fmt.Errorf("more than %d values", maxValuesPerField)
	}
	if spec.all && len(vals) < 2 && spec.typ == typString {
		*warnings = append(*warnings, fmt.Sprintf("%s: 'all' with a single value", field))
	}
	if len(vals) == 0 {
		// An empty list matches nothing.
		return fc, nil
	}
	for _, v := range vals {
		v = resolveAlias(v)
		if v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("values must be scalars")
		}
		if v.Tag == "!!null" {
			if len(vals) > 1 {
				return nil, fmt.Errorf("null cannot be part of a list of values")
			}
			if spec.typ != typString || len(spec.transforms) > 0 {
				return nil, fmt.Errorf("null cannot take modifiers")
			}
			fc.null = true
			if spec.neq {
				fc.null, fc.neq, fc.exists = false, false, 0
				// field|neq: null means the field has a non-null value.
				fc.matchers = []valueMatcher{notNullMatcher{}}
			}
			return fc, nil
		}
		switch spec.typ {
		case typExists:
			b, err := strconv.ParseBool(v.Value)
			if err != nil || len(vals) > 1 {
				return nil, fmt.Errorf("exists needs a single true or false")
			}
			if b {
				fc.exists = 1
			} else {
				fc.exists = -1
			}
			return fc, nil
		case typRegex:
			m, err := compileRegex(v.Value, spec.reFlags, spec.cased)
			if err != nil {
				return nil, err
			}
			fc.matchers = append(fc.matchers, m)
		case typCIDR:
			p, err := netip.ParsePrefix(strings.TrimSpace(v.Value))
			if err != nil {
				return nil, fmt.Errorf("cidr: %w", err)
			}
			fc.matchers = append(fc.matchers, cidrMatcher{p.Masked()})
		case typNumeric:
			n, err := parseNumber(v.Value)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", v.Value)
			}
			cmp := spec.cmp
			if cmp == "" {
				cmp = "eq"
			}
			fc.matchers = append(fc.matchers, numMatcher{cmp: cmp, n: n, timePart: spec.timePart})
		case typFieldRef:
			pats, err := spec.transform(v.Value, opts, warnings)
			if err != nil {
				return nil, err
			}
			for _, p := range pats {
				before, after := p.hasStarPrefix(), p.hasStarSuffix()
				ref, _ := p.literal()
				if !before && !after {
					ref, _ = p.literal()
				} else {
					ref = strings.Trim(p.String(), "*")
				}
				fc.matchers = append(fc.matchers, fieldRefMatcher{ref: ref, prefixAny: before, suffixAny: after, cased: spec.cased})
			}
		default:
			pats, err := spec.transform(v.Value, opts, warnings)
			if err != nil {
				return nil, err
			}
			if len(pats) > maxValuesPerField {
				return nil, fmt.Errorf("values expand to more than %d patterns", maxValuesPerField)
			}
			for _, p := range pats {
				m := newStrMatcher(p, spec.cased)
				fc.matchers = append(fc.matchers, &strValueMatcher{m})
			}
		}
	}
	if !fc.all && spec.typ == typString {
		fc.matchers = groupMatchers(fc.matchers, spec.cased)
	}
	return fc, nil
}

type strValueMatcher struct{ m strMatcher }

func (s *strValueMatcher) matchField(e *Event, f *event.Field) bool { return s.m.matchField(e, f) }
func (s *strValueMatcher) needleSet() []string {
	n := s.m.lit
	if !(s.m.op == opEqual || s.m.op == opPrefix || s.m.op == opSuffix || s.m.op == opContains) {
		n = s.m.pat.longestLit()
	}
	if n == "" {
		return nil
	}
	return []string{strings.ToLower(n)}
}

type notNullMatcher struct{}

func (notNullMatcher) matchField(e *Event, f *event.Field) bool { return f.Kind != event.Null }
func (notNullMatcher) needleSet() []string                      { return nil }

type regexMatcher struct {
	re      *regexp.Regexp
	needles []string
}

func compileRegex(expr, flags string, cased bool) (*regexMatcher, error) {
	if len(expr) > maxRegexLen {
		return nil, fmt.Errorf("re: longer than %d bytes", maxRegexLen)
	}
	if err := checkRegex(expr); err != nil {
		return nil, err
	}
	if flags != "" {
		expr = "(?" + flags + ")" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("re: %w", err)
	}
	m := &regexMatcher{re: re}
	if syn, err := syntax.Parse(expr, syntax.Perl); err == nil {
		m.needles = regexNeedles(syn.Simplify())
	}
	return m, nil
}

// checkRegex rejects PCRE constructs Go's linear-time engine lacks, with a
// clearer message than the parser's.
func checkRegex(expr string) error {
	for _, bad := range []struct{ s, what string }{
		{"(?=", "lookahead"}, {"(?!", "negative lookahead"}, {"(?<=", "lookbehind"},
		{"(?<!", "negative lookbehind"}, {"(?>", "atomic group"},
	} {
		if strings.Contains(expr, bad.s) {
			return fmt.Errorf("re: unsupported construct %s %q (only linear-time regular expressions are allowed)", bad.what, bad.s)
		}
	}
	for i := 0; i+1 < len(expr); i++ {
		if expr[i] == '\\' {
			if c := expr[i+1]; c >= '1' && c <= '9' {
				return fmt.Errorf("re: unsupported backreference \\%c (only linear-time regular expressions are allowed)", c)
			}
			i++
		}
	}
	if _, err := syntax.Parse(expr, syntax.Perl); err != nil {
		return fmt.Errorf("re: %w", err)
	}
	return nil
}

func (r *regexMatcher) matchField(e *Event, f *event.Field) bool {
	switch f.Kind {
	case event.Null:
		return false
	case event.List:
		for _, it := range e.Items(f) {
			if r.re.MatchString(it) {
				return true
			}
		}
		return false
	}
	return r.re.MatchString(f.Value)
}
func (r *regexMatcher) needleSet() []string { return r.needles }

// regexNeedles returns lower-cased literals of which every match of re
// contains at least one, or nil.
func regexNeedles(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return nil
		}
		return []string{strings.ToLower(string(re.Rune))}
	case syntax.OpCapture, syntax.OpPlus:
		return regexNeedles(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return regexNeedles(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []string
		bestLen := 0
		for _, sub := range re.Sub {
			ns := regexNeedles(sub)
			if ns == nil {
				continue
			}
			l := math.MaxInt
			for _, n := range ns {
				l = min(l, effLen(n))
			}
			if best == nil || l > bestLen || (l == bestLen && len(ns) < len(best)) {
				best, bestLen = ns, l
			}
		}
		return best
	case syntax.OpAlternate:
		var all []string
		for _, sub := range re.Sub {
			ns := regexNeedles(sub)
			if ns == nil {
				return nil
			}
			all = append(all, ns...)
		}
		return all
	}
	return nil
}

type cidrMatcher struct{ p netip.Prefix }

func (c cidrMatcher) matchField(e *Event, f *event.Field) bool {
	check := func(s string) bool {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return false
		}
		return c.p.Contains(a.Unmap()) || c.p.Contains(a)
	}
	if f.Kind == event.List {
		for _, it := range e.Items(f) {
			if check(it) {
				return true
			}
		}
		return false
	}
	return check(f.Value)
}
func (c cidrMatcher) needleSet() []string { return nil }

type numMatcher struct {
	cmp      string
	n        float64
	timePart string
}

func parseNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f, nil
	}
	i, err := strconv.ParseInt(s, 0, 64)
	return float64(i), err
}

// ParseTime parses the timestamp formats events carry.
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (m numMatcher) value(s string) (float64, bool) {
	if m.timePart == "" {
		f, err := parseNumber(s)
		return f, err == nil
	}
	t, ok := ParseTime(s)
	if !ok {
		return 0, false
	}
	switch m.timePart {
	case "minute":
		return float64(t.Minute()), true
	case "hour":
		return float64(t.Hour()), true
	case "day":
		return float64(t.Day()), true
	case "week":
		_, w := t.ISOWeek()
		return float64(w), true
	case "month":
		return float64(t.Month()), true
	}
	return float64(t.Year()), true
}

func (m numMatcher) matchField(e *Event, f *event.Field) bool {
	if f.Kind == event.Null {
		return false
	}
	v, ok := m.value(f.Value)
	if !ok {
		return false
	}
	switch m.cmp {
	case "gt":
		return v > m.n
	case "gte":
		return v >= m.n
	case "lt":
		return v < m.n
	case "lte":
		return v <= m.n
	}
	return v == m.n
}
func (m numMatcher) needleSet() []string { return nil }

// fieldRefMatcher compares a field with another field of the same event.
type fieldRefMatcher struct {
	ref                  string
	prefixAny, suffixAny bool // contains/endswith/startswith applied
	cased                bool
}

func (r fieldRefMatcher) matchField(e *Event, f *event.Field) bool {
	o := e.Get(r.ref)
	if o == nil || o.Kind == event.Null || f.Kind == event.Null {
		return false
	}
	a, b := f.Value, o.Value
	if !r.cased {
		a, b = f.Lower(), o.Lower()
	}
	switch {
	case r.prefixAny && r.suffixAny:
		return strings.Contains(a, b)
	case r.prefixAny:
		return strings.HasSuffix(a, b)
	case r.suffixAny:
		return strings.HasPrefix(a, b)
	}
	return a == b
}
func (r fieldRefMatcher) needleSet() []string { return nil }

// Needles returns literals (lower-case) of which at least one occurs in the
// text of every event the detection matches; ok is false if the detection
// has no such literal set (it may match without any literal present).
func (d *Detection) Needles() (needles []Needle, ok bool) { return d.root.needles() }

// MaxNeedleGroups bounds the needle groups NeedleGroups returns.
const MaxNeedleGroups = 8

// NeedleGroups returns sets of needles such that the detection can match
// an event only if, for every set, at least one of its needles occurs in
// its field (lower-cased). It returns at most MaxNeedleGroups sets, the
// most selective first; none means the detection has no such sets.
func (d *Detection) NeedleGroups() [][]Needle {
	gs := d.root.groups()
	var out [][]Needle
	for _, g := range gs {
		if len(g) > 0 {
			out = append(out, g)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return betterNeedles(out[i], out[j]) })
	if len(out) > MaxNeedleGroups {
		out = out[:MaxNeedleGroups]
	}
	return out
}
