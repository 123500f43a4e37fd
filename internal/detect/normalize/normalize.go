// Package normalize gives parsed events their Sigma log sources and Sigma
// field names, driven by a YAML mapping file in the style of Sigma
// processing pipelines. The default mapping is embedded; users add their own.
package normalize

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/custodia/custodia/internal/detect/event"
	"gopkg.in/yaml.v3"
)

//go:embed mappings.yml
var defaultMappings []byte

// DefaultMappings returns the embedded mapping file.
func DefaultMappings() []byte { return defaultMappings }

// File is the YAML schema of a mapping file.
type File struct {
	Sources []SourceSpec `yaml:"sources"`
}

// SourceSpec is one routing entry as written in YAML.
type SourceSpec struct {
	Name      string                  `yaml:"name"`
	When      map[string]stringOrList `yaml:"when"`
	Logsource []map[string]string     `yaml:"logsource"`
	Fields    map[string]stringOrList `yaml:"fields"`
}

type stringOrList []string

func (s *stringOrList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*s = []string{n.Value}
		return nil
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: want a value", c.Line)
			}
			out = append(out, c.Value)
		}
		*s = out
		return nil
	}
	return fmt.Errorf("line %d: want a value or a list of values", n.Line)
}

type cond struct {
	field  string
	values []string // lower-cased; nil means "field exists"
	slot   int      // index of field among the Normalizer's condition fields
}

type fieldMap struct {
	name    string
	sources []string
}

type source struct {
	name      string
	conds     []cond
	logsource []lsTemplate
	fields    []fieldMap
}

type lsTemplate struct{ product, category, service string }

// Normalizer applies mapping files to events. It is safe for concurrent use.
type Normalizer struct {
	sources   []*source
	byChannel map[string][]int // lower-cased Channel → indexes into sources (without an EventID condition)
	byEvent   map[string][]int // lower-cased Channel + "\x00" + EventID → indexes into sources
	general   []int            // sources without a Channel condition
	slots     map[string]int   // condition field → slot in Apply's lookup cache
}

// maxSlots bounds Apply's per-event cache of condition field lookups;
// fields beyond it are looked up every time.
const maxSlots = 64

// New builds a Normalizer from the embedded default mapping followed by
// extra mapping files (each a YAML document in the File schema).
func New(extra ...[]byte) (*Normalizer, error) {
	n := &Normalizer{byChannel: map[string][]int{}, byEvent: map[string][]int{}, slots: map[string]int{}}
	for i, data := range append([][]byte{defaultMappings}, extra...) {
		var f File
		if err := yaml.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("mapping file %d: %w", i, err)
		}
		for _, sp := range f.Sources {
			if err := n.add(sp); err != nil {
				return nil, fmt.Errorf("mapping file %d: source %q: %w", i, sp.Name, err)
			}
		}
	}
	return n, nil
}

func (n *Normalizer) add(sp SourceSpec) error {
	s := &source{name: sp.Name}
	var channels, eventIDs []string
	keys := sortedKeys(sp.When)
	for _, k := range keys {
		vals := sp.When[k]
		if len(vals) == 0 {
			return fmt.Errorf("when %s: empty list of values (use '*' to require only that the field exists)", k)
		}
		c := cond{field: k, slot: -1}
		if k != "_format" {
			slot, ok := n.slots[k]
			if !ok {
				slot = len(n.slots)
				n.slots[k] = slot
			}
			if slot < maxSlots {
				c.slot = slot
			}
		}
		if !(len(vals) == 1 && vals[0] == "*") {
			for _, v := range vals {
				c.values = append(c.values, strings.ToLower(v))
			}
		}
		if k == "Channel" && c.values != nil {
			channels = c.values
		}
		if k == "EventID" && c.values != nil {
			eventIDs = c.values
		}
		if k == "_format" {
			// The cheapest test goes first.
			s.conds = append([]cond{c}, s.conds...)
			continue
		}
		s.conds = append(s.conds, c)
	}
	for _, ls := range sp.Logsource {
		for k := range ls {
			if k != "product" && k != "category" && k != "service" {
				return fmt.Errorf("logsource key %q (want product, category or service)", k)
			}
		}
		s.logsource = append(s.logsource, lsTemplate{ls["product"], ls["category"], ls["service"]})
	}
	for _, k := range sortedKeys(sp.Fields) {
		s.fields = append(s.fields, fieldMap{name: k, sources: sp.Fields[k]})
	}
	idx := len(n.sources)
	n.sources = append(n.sources, s)
	switch {
	case channels != nil && eventIDs != nil:
		for _, c := range channels {
			for _, id := range eventIDs {
				k := c + "\x00" + id
				n.byEvent[k] = append(n.byEvent[k], idx)
			}
		}
	case channels != nil:
		for _, c := range channels {
			n.byChannel[c] = append(n.byChannel[c], idx)
		}
	default:
		n.general = append(n.general, idx)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Small maps: insertion sort keeps this allocation-light.
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// lookups caches, for one Apply, the lower-cased value of each condition
// field (looked up at most once until a source adds fields).
type lookups struct {
	done    uint64 // slot looked up
	present uint64 // slot's field exists
	lower   [maxSlots]string
}

func (c *lookups) get(e *event.Event, cd *cond) (string, bool) {
	if cd.slot < 0 {
		if f := e.Get(cd.field); f != nil {
			return f.Lower(), true
		}
		return "", false
	}
	bit := uint64(1) << cd.slot
	if c.done&bit == 0 {
		c.done |= bit
		if f := e.Get(cd.field); f != nil {
			c.present |= bit
			c.lower[cd.slot] = f.Lower()
		}
	}
	return c.lower[cd.slot], c.present&bit != 0
}

// Apply adds log sources and mapped field names to e.
func (n *Normalizer) Apply(e *event.Event) {
	var cache lookups
	var chIdx, evIdx []int
	if f := e.Get("Channel"); f != nil {
		ch := f.Lower()
		chIdx = n.byChannel[ch]
		if id := e.Get("EventID"); id != nil {
			var kb [128]byte
			k := append(append(append(kb[:0], ch...), 0), id.Lower()...)
			evIdx = n.byEvent[string(k)]
		}
	}
	// Apply in file order: merge the three sorted index lists.
	i, j, l := 0, 0, 0
	for {
		k := -1
		if i < len(chIdx) {
			k = chIdx[i]
		}
		if l < len(evIdx) && (k < 0 || evIdx[l] < k) {
			k = evIdx[l]
		}
		if j < len(n.general) && (k < 0 || n.general[j] < k) {
			k = n.general[j]
		}
		if k < 0 {
			break
		}
		switch {
		case i < len(chIdx) && chIdx[i] == k:
			i++
		case l < len(evIdx) && evIdx[l] == k:
			l++
		default:
			j++
		}
		s := n.sources[k]
		if s.matches(e, &cache) {
			s.apply(e)
			cache.done = 0 // the source may have added condition fields
		}
	}
}

func (s *source) matches(e *event.Event, cache *lookups) bool {
	for ci := range s.conds {
		c := &s.conds[ci]
		var v string
		if c.field == "_format" {
			v = e.Format
		} else {
			lv, ok := cache.get(e, c)
			if !ok {
				return false
			}
			v = lv
		}
		if c.values == nil {
			continue
		}
		ok := false
		for _, want := range c.values {
			if v == want {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (s *source) apply(e *event.Event) {
	for _, fm := range s.fields {
		if e.Get(fm.name) != nil {
			continue
		}
		for _, src := range fm.sources {
			if i := e.Index(src); i >= 0 {
				e.Alias(fm.name, i)
				break
			}
		}
	}
	for _, t := range s.logsource {
		e.AddLogsource(event.Logsource{
			Product:  expand(t.product, e),
			Category: expand(t.category, e),
			Service:  expand(t.service, e),
		})
	}
}

// expand replaces a whole-value ${field} template with the field's
// lower-cased value (empty if the field is missing).
func expand(t string, e *event.Event) string {
	if strings.HasPrefix(t, "${") && strings.HasSuffix(t, "}") {
		if f := e.Get(t[2 : len(t)-1]); f != nil {
			return f.Lower()
		}
		return ""
	}
	return t
}

// Matches reports whether an event log source satisfies a rule's: every
// attribute the rule names must be equal.
func Matches(rule, ev event.Logsource) bool {
	return (rule.Product == "" || rule.Product == ev.Product) &&
		(rule.Category == "" || rule.Category == ev.Category) &&
		(rule.Service == "" || rule.Service == ev.Service)
}

// Routes lists each source's name, conditions and log sources, for
// documentation and `custodia detect --routes`.
func (n *Normalizer) Routes() []string {
	var out []string
	for _, s := range n.sources {
		var conds, ls []string
		for _, c := range s.conds {
			if c.values == nil {
				conds = append(conds, c.field+" exists")
			} else {
				conds = append(conds, c.field+" = "+strings.Join(c.values, " | "))
			}
		}
		for _, l := range s.logsource {
			var parts []string
			for _, kv := range [][2]string{{"product", l.product}, {"category", l.category}, {"service", l.service}} {
				if kv[1] != "" {
					parts = append(parts, kv[0]+": "+kv[1])
				}
			}
			ls = append(ls, "{"+strings.Join(parts, ", ")+"}")
		}
		out = append(out, fmt.Sprintf("%s\t%s\t%s", s.name, strings.Join(conds, "; "), strings.Join(ls, " ")))
	}
	return out
}
