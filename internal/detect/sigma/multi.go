package sigma

import (
	"github.com/custodia/custodia/internal/detect/event"
	"github.com/custodia/custodia/internal/detect/literal"
)

// minMulti is the number of OR-ed values above which a field's equality
// and substring values are matched with a set and a multi-literal filter
// instead of one by one.
const minMulti = 16

// multiMatcher matches a field against many OR-ed values at once.
type multiMatcher struct {
	cased    bool
	eq       map[string]struct{}
	eqList   []string
	contains *literal.Filter
	lits     []string // the substring values
	rest     []valueMatcher
}

// groupMatchers folds the equality and substring matchers of a long OR-list
// into one multiMatcher; other matchers are kept as they are.
func groupMatchers(ms []valueMatcher, cased bool) []valueMatcher {
	if len(ms) < minMulti {
		return ms
	}
	mm := &multiMatcher{cased: cased, eq: map[string]struct{}{}}
	for _, m := range ms {
		sm, ok := m.(*strValueMatcher)
		switch {
		case ok && sm.m.op == opEqual:
			if _, dup := mm.eq[sm.m.lit]; !dup {
				mm.eq[sm.m.lit] = struct{}{}
				mm.eqList = append(mm.eqList, sm.m.lit)
			}
		case ok && sm.m.op == opContains && sm.m.lit != "":
			mm.lits = append(mm.lits, sm.m.lit)
		default:
			mm.rest = append(mm.rest, m)
		}
	}
	if len(mm.lits) > 0 {
		mm.contains = literal.New(mm.lits)
	}
	return []valueMatcher{mm}
}

func (mm *multiMatcher) matchValue(v string) bool {
	if _, ok := mm.eq[v]; ok {
		return true
	}
	return mm.contains != nil && mm.contains.Any(v)
}

func (mm *multiMatcher) matchField(e *Event, f *event.Field) bool {
	switch f.Kind {
	case event.Null:
	case event.List:
		for _, it := range e.Items(f) {
			if !mm.cased {
				it = event.ToLower(it)
			}
			if mm.matchValue(it) {
				return true
			}
		}
	default:
		v := f.Value
		if !mm.cased {
			v = f.Lower()
		}
		if mm.matchValue(v) {
			return true
		}
	}
	for _, m := range mm.rest {
		if m.matchField(e, f) {
			return true
		}
	}
	return false
}

func (mm *multiMatcher) needleSet() []string {
	out := make([]string, 0, len(mm.eqList)+len(mm.lits))
	for _, s := range mm.eqList {
		if s == "" {
			return nil
		}
		out = append(out, event.ToLower(s))
	}
	for _, s := range mm.lits {
		out = append(out, event.ToLower(s))
	}
	for _, m := range mm.rest {
		ns := m.needleSet()
		if len(ns) == 0 {
			return nil
		}
		out = append(out, ns...)
	}
	return out
}
