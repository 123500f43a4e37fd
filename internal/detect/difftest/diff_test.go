package difftest

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"testing"

	sigmago "github.com/bradleyjkemp/sigma-go"

	"github.com/custodia/custodia/internal/detect/event"
)

// refModifiers are the modifiers sigma-go v0.6.6 implements.
var refModifiers = map[string]bool{"contains": true, "startswith": true, "endswith": true, "all": true,
	"re": true, "cidr": true, "gt": true, "gte": true, "lt": true, "lte": true, "base64": true}

// refSupports reports whether sigma-go implements every construct of r
// (no keyword searches, only the modifiers it knows, no placeholders).
func refSupports(r sigmago.Rule) bool {
	for _, s := range r.Detection.Searches {
		if len(s.Keywords) > 0 {
			return false
		}
		for _, em := range s.EventMatchers {
			for _, fm := range em {
				if fm.Field == "" {
					return false // '|all' keyword search: sigma-go reads it as a field named ""
				}
				for _, m := range fm.Modifiers {
					if !refModifiers[m] {
						return false
					}
				}
			}
		}
	}
	return true
}

// generated is one test event derived from a rule's own values.
type generated struct {
	fields map[string]string
	kind   string // positive, near-miss, missing-field
}

// generate builds events from each map of each search of r: one with
// values that satisfy every field, near misses that break one field, and
// one without the first field.
func generate(r sigmago.Rule) []generated {
	var out []generated
	names := make([]string, 0, len(r.Detection.Searches))
	for n := range r.Detection.Searches {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, em := range r.Detection.Searches[n].EventMatchers {
			pos := map[string]string{}
			ok := true
			for _, fm := range em {
				v, good := satisfying(fm)
				if !good {
					ok = false
					break
				}
				pos[fm.Field] = v
			}
			if !ok {
				continue
			}
			out = append(out, generated{pos, "positive"})
			for _, fm := range em {
				miss := copyMap(pos)
				miss[fm.Field] = nearMiss(miss[fm.Field])
				out = append(out, generated{miss, "near-miss"})
			}
			if len(em) > 0 {
				gone := copyMap(pos)
				delete(gone, em[0].Field)
				out = append(out, generated{gone, "missing-field"})
			}
		}
	}
	return out
}

func copyMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func nearMiss(v string) string {
	if v == "" {
		return "x"
	}
	// Change the middle character: keeps prefix and suffix shapes.
	b := []byte(v)
	i := len(b) / 2
	if b[i] == 'q' {
		b[i] = 'z'
	} else {
		b[i] = 'q'
	}
	return string(b)
}

// satisfying returns a field value that the field matcher should accept.
func satisfying(fm sigmago.FieldMatcher) (string, bool) {
	if len(fm.Values) == 0 {
		return "", false
	}
	vals := make([]string, 0, len(fm.Values))
	for _, v := range fm.Values {
		if v == nil {
			return "", false
		}
		vals = append(vals, fmt.Sprint(v))
	}
	mods := map[string]bool{}
	for _, m := range fm.Modifiers {
		mods[m] = true
	}
	switch {
	case mods["re"] || mods["base64"] || mods["gt"] || mods["gte"] || mods["lt"] || mods["lte"]:
		return "", false
	case mods["cidr"]:
		p, err := netip.ParsePrefix(vals[0])
		if err != nil {
			return "", false
		}
		return p.Addr().Next().String(), true
	}
	v := vals[0]
	if mods["all"] {
		v = strings.Join(vals, " ")
	}
	switch {
	case mods["contains"]:
		return "pre " + v + " post", true
	case mods["startswith"]:
		return v + " post", true
	case mods["endswith"]:
		return `C:\pre` + v, true
	}
	return v, true
}

// cause names the known reason the engines disagree, or "" if unknown.
// Each is a sigma-go deviation from the specification (see docs/detection.md).
func cause(r sigmago.Rule, raw string, g generated, ours, ref bool) string {
	for _, s := range r.Detection.Searches {
		for _, em := range s.EventMatchers {
			for _, fm := range em {
				if _, present := g.fields[fm.Field]; present {
					continue
				}
				for _, v := range fm.Values {
					if matchesNil(fm.Modifiers, strings.ToLower(fmt.Sprint(v))) {
						return `sigma-go compares a missing field as the text "<nil>"`
					}
				}
			}
		}
	}
	if leadingZero.MatchString(raw) {
		return "sigma-go reads unquoted numbers with leading zeros as integers (00000429 becomes 429)"
	}
	for _, s := range r.Detection.Searches {
		for _, em := range s.EventMatchers {
			for _, fm := range em {
				for _, v := range fm.Values {
					sv, _ := v.(string)
					if strings.ContainsAny(sv, "*?") {
						return "wildcards * and ? are compared literally by sigma-go"
					}
					if strings.Contains(sv, `\\`) {
						return `escape sequences (\\) are not unescaped by sigma-go`
					}
				}
				if len(fm.Modifiers) > 1 && fm.Modifiers[len(fm.Modifiers)-1] != "all" && contains(fm.Modifiers, "all") {
					return "sigma-go honours 'all' only as the last modifier"
				}
			}
		}
	}
	for _, c := range r.Detection.Conditions {
		if strings.Contains(fmt.Sprint(c.Search), "them") {
			return "sigma-go's 'of them' includes identifiers starting with _"
		}
	}
	return ""
}

var leadingZero = regexp.MustCompile(`(?m)(:|-)\s+0[0-9]+\s*(#.*)?$`)

// matchesNil reports whether a matcher would accept the text "<nil>".
func matchesNil(mods []string, v string) bool {
	const nilText = "<nil>"
	switch {
	case contains(mods, "contains"):
		return strings.Contains(nilText, v)
	case contains(mods, "startswith"):
		return strings.HasPrefix(nilText, v)
	case contains(mods, "endswith"):
		return strings.HasSuffix(nilText, v)
	case contains(mods, "re"):
		re, err := regexp.Compile(v)
		return err == nil && re.MatchString(nilText)
	}
	return v == nilText
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// TestDifferential compares Custodia with sigma-go on events generated
// from every corpus rule's own detection values. Every disagreement must
// have a known cause, each a sigma-go deviation from the specification.
func TestDifferential(t *testing.T) {
	t.Parallel() // independent, and the two slowest tests of the package
	dir := corpus
	if testing.Short() {
		dir = corpus + "/rules/windows/process_creation"
	}
	pairs, oursN, refN := loadPairs(t, dir)
	ctx := context.Background()
	var checked, supported, agree int
	causes := map[string]int{}
	examples := map[string]string{}
	for _, p := range pairs {
		if !refSupports(p.ref) {
			continue
		}
		supported++
		for _, g := range generate(p.ref) {
			ev := &event.Event{}
			m := map[string]any{}
			keys := make([]string, 0, len(g.fields))
			for k := range g.fields {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				ev.Add(k, g.fields[k], event.String)
				m[k] = g.fields[k]
			}
			res, err := p.eval.Matches(ctx, m)
			if err != nil {
				continue // the reference cannot evaluate this pair
			}
			checked++
			ours := p.ours.Detection.Match(ev)
			if ours == res.Match {
				agree++
				continue
			}
			c := cause(p.ref, p.raw, g, ours, res.Match)
			if c == "" {
				c = "UNEXPLAINED"
				t.Errorf("%s (%s event %v): custodia %v, sigma-go %v", p.path, g.kind, g.fields, ours, res.Match)
			}
			causes[c]++
			if _, ok := examples[c]; !ok {
				examples[c] = fmt.Sprintf("%s: %v custodia=%v sigma-go=%v", strings.TrimPrefix(p.path, corpus+"/"), g.fields, ours, res.Match)
			}
		}
	}
	t.Logf("rules: custodia loads %d, sigma-go %d, both %d, reference-supported %d", oursN, refN, len(pairs), supported)
	t.Logf("(rule, event) pairs checked: %d, agree: %d", checked, agree)
	for c, n := range causes {
		t.Logf("disagreements %5d: %s\n    e.g. %s", n, c, examples[c])
	}
	if min := map[bool]int{true: 2000, false: 20000}[testing.Short()]; checked < min {
		t.Errorf("only %d pairs checked", checked)
	}
}
