// Package detect is Custodia's detection engine: it loads Sigma rules,
// routes each event only to the rules whose log source it belongs to and
// whose literal needles it contains, evaluates them, runs correlation
// rules, and returns alerts carrying the rule's metadata. It knows nothing
// of HTTP or SQL; the server, the CLI and the agent embed it.
package detect

import (
	"encoding/binary"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/detect/event"
	"github.com/custodia/custodia/internal/detect/literal"
	"github.com/custodia/custodia/internal/detect/normalize"
	"github.com/custodia/custodia/internal/detect/sigma"
)

// Alert is one rule match, or one correlation match.
type Alert struct {
	RuleID         string            `json:"rule_id"`
	Title          string            `json:"title"`
	Level          string            `json:"level,omitempty"`
	Status         string            `json:"status,omitempty"`
	Tags           []string          `json:"tags,omitempty"`
	References     []string          `json:"references,omitempty"`
	FalsePositives []string          `json:"falsepositives,omitempty"`
	EventIndex     int64             `json:"event_index"`
	Time           time.Time         `json:"time"`
	Fields         map[string]string `json:"fields,omitempty"`
	// Correlation fields: the correlation type, the group it fired for,
	// the aggregated value and the indexes of the contributing events.
	Correlation  string            `json:"correlation,omitempty"`
	Group        map[string]string `json:"group,omitempty"`
	Value        *float64          `json:"value,omitempty"`
	EventIndexes []int64           `json:"event_indexes,omitempty"`
}

// Config tunes an Engine. The zero value is usable.
type Config struct {
	// Normalizer maps events to Sigma log sources and field names; nil
	// means the embedded default mapping.
	Normalizer *normalize.Normalizer
	// MaxCorrelationKeys caps the group-by keys each correlation rule
	// tracks (least recently used keys are dropped); 0 means 100000.
	MaxCorrelationKeys int
	// NoPrefilter evaluates every routed rule without the literal
	// prefilter (for testing and benchmarks).
	NoPrefilter bool
	// NoRouting evaluates every rule on every event, ignoring log sources.
	NoRouting bool
}

// compiled is a detection rule ready for evaluation.
type compiled struct {
	rule    *sigma.Rule
	idx     int
	always  bool // no needle set: evaluate whenever routed
	mark    uint32
	need    uint8 // one bit per needle group
	have    uint8 // groups hit in the event numbered mark
	filters []*sigma.Rule
	corrs   []*correlator // correlations this rule feeds
	emit    bool          // produce alerts of its own
	needles []needle      // the literals of its needle groups
}

// Engine evaluates rules over events. An Engine is not safe for concurrent
// use: give each goroutine its own, or serialize calls.
type Engine struct {
	cfg    Config
	norm   *normalize.Normalizer
	rules  []*compiled
	corrs  []*correlator
	gen    uint32
	routes map[string]*routed // logsource-set key → rules and their prefilter
	bySet  map[string]*routed // rule-set key → the same, shared between routes
	keyBuf []byte
	hits   []int32 // rules with a needle found in the current event
	cands  []int32 // rules to evaluate on the current event

	needles, needleFields int // distinct needles, and fields they are on
	next                  int64
	evals                 int64 // rule evaluations so far
	events                int64 // events processed so far
}

// NewEngine compiles an engine for rules (detection rules, filters and
// correlation rules, as returned by sigma.Parse or LoadRules).
func NewEngine(cfg Config, rules ...*sigma.Rule) (*Engine, error) {
	e := &Engine{cfg: cfg, norm: cfg.Normalizer, routes: map[string]*routed{}, bySet: map[string]*routed{}}
	if e.norm == nil {
		n, err := normalize.New()
		if err != nil {
			return nil, err
		}
		e.norm = n
	}
	if e.cfg.MaxCorrelationKeys <= 0 {
		e.cfg.MaxCorrelationKeys = 100000
	}
	byRef := map[string][]*compiled{}
	var filters, corrRules []*sigma.Rule
	for _, r := range rules {
		switch r.Kind {
		case sigma.KindFilter:
			filters = append(filters, r)
		case sigma.KindCorrelation:
			corrRules = append(corrRules, r)
		default:
			c := &compiled{rule: r, idx: len(e.rules), emit: true}
			e.rules = append(e.rules, c)
			if r.ID != "" {
				byRef[r.ID] = append(byRef[r.ID], c)
			}
			if r.Name != "" && r.Name != r.ID {
				byRef[r.Name] = append(byRef[r.Name], c)
			}
		}
	}
	for _, f := range filters {
		for _, ref := range f.FilterRules {
			for _, c := range byRef[ref] {
				c.filters = append(c.filters, f)
			}
		}
	}
	if err := e.linkCorrelations(corrRules, byRef); err != nil {
		return nil, err
	}
	e.buildPrefilter()
	return e, nil
}

// maxNeedleLen caps needle length: any substring of a required literal is
// itself required, and shorter needles keep the automata small.
const maxNeedleLen = 12

// fieldPrefilter is the literal automaton of one field.
type fieldPrefilter struct {
	lf    *literal.Filter
	rules [][]groupRef // needle id → the rule groups it belongs to
	seen  []uint32     // needle id → the event (Engine.gen) it was last found in
}

// groupRef names needle group bit of rule number rule.
type groupRef struct {
	rule int32
	bit  uint8
}

// needle is one literal of a rule's needle group, cut to maxNeedleLen.
type needle struct {
	field, lit string
	bit        uint8
}

// routed is what an event with a given set of log sources meets: the rules
// its log sources admit, and the literal prefilter over those rules'
// needles only (so fields no routed rule reads are not scanned at all).
type routed struct {
	rules    []int32
	always   []int32                    // the rules without needles, evaluated whenever routed
	fields   map[string]*fieldPrefilter // per field: its needles and the keyword needles
	anyField *fieldPrefilter            // keyword needles, searched in every field without a filter of its own
	pos      []posFilter                // the filter of field number i of the previous event
	// dotted lists the prefilter's field names that are dotted paths,
	// which an event's Resolve may map to a renamed field.
	dotted []string
}

func (e *Engine) buildPrefilter() {
	seen := map[needle]bool{}
	fields := map[string]bool{}
	for _, c := range e.rules {
		groups := c.rule.Detection.NeedleGroups()
		if e.cfg.NoPrefilter || len(groups) == 0 {
			c.always = true
			continue
		}
		for bit, g := range groups {
			c.need |= 1 << bit
			for _, n := range g {
				nd := needle{field: n.Field, lit: bestWindow(n.Lit, maxNeedleLen), bit: uint8(bit)}
				c.needles = append(c.needles, nd)
				nd.bit = 0
				if !seen[nd] {
					seen[nd] = true
					e.needles++
				}
				fields[n.Field] = true
			}
		}
	}
	e.needleFields = len(fields)
}

// newRouted builds the prefilter of the rules in rules, sharing it with
// every route that has the same rules.
func (e *Engine) newRouted(rules []int32) *routed {
	key := make([]byte, 0, 4*len(rules))
	for _, r := range rules {
		key = binary.LittleEndian.AppendUint32(key, uint32(r))
	}
	if rt, ok := e.bySet[string(key)]; ok {
		return rt
	}
	rt := &routed{rules: rules, fields: map[string]*fieldPrefilter{}}
	for _, ri := range rules {
		if e.rules[ri].always {
			rt.always = append(rt.always, ri)
		}
	}
	type lit struct{ field, lit string }
	ids := map[lit]int32{}
	needles := map[string][]string{}
	for _, ri := range rules {
		c := e.rules[ri]
		for _, n := range c.needles {
			fp := rt.fields[n.field]
			if fp == nil {
				fp = &fieldPrefilter{}
				rt.fields[n.field] = fp
			}
			k := lit{n.field, n.lit}
			id, ok := ids[k]
			if !ok {
				id = int32(len(needles[n.field]))
				ids[k] = id
				needles[n.field] = append(needles[n.field], n.lit)
				fp.rules = append(fp.rules, nil)
			}
			ref := groupRef{rule: ri, bit: n.bit}
			if l := fp.rules[id]; len(l) == 0 || l[len(l)-1] != ref {
				fp.rules[id] = append(l, ref)
			}
		}
	}
	// Keyword needles may occur in any field: add them to every named
	// field's filter too, so that each field is scanned once. (A keyword
	// hit in an alias field only costs an evaluation.)
	if kw := rt.fields[""]; kw != nil {
		for f, fp := range rt.fields {
			if f == "" {
				continue
			}
			for kid, l := range needles[""] {
				k := lit{f, l}
				id, ok := ids[k]
				if !ok {
					id = int32(len(needles[f]))
					ids[k] = id
					needles[f] = append(needles[f], l)
					fp.rules = append(fp.rules, nil)
				}
				fp.rules[id] = append(fp.rules[id], kw.rules[kid]...)
			}
		}
	}
	for f, fp := range rt.fields {
		fp.lf = literal.New(needles[f])
		fp.seen = make([]uint32, len(fp.rules))
	}
	rt.anyField = rt.fields[""]
	delete(rt.fields, "")
	for f := range rt.fields {
		if strings.Contains(f, ".") {
			rt.dotted = append(rt.dotted, f)
		}
	}
	sort.Strings(rt.dotted)
	if len(e.bySet) >= maxRoutes {
		// Start over rather than build a prefilter for every event of
		// an unending variety of log sources.
		clear(e.bySet)
		clear(e.routes)
	}
	e.bySet[string(key)] = rt
	return rt
}

// posFilter remembers the filter of one field name.
type posFilter struct {
	name string
	fp   *fieldPrefilter
}

// maxPositions bounds a route's positional filter cache.
const maxPositions = 512

// maxRoutes bounds the cached routes (distinct log source sets seen) and
// the cached prefilters (distinct sets of routed rules); when full, the
// cache starts over.
const maxRoutes = 4096

// bestWindow returns the substring of s of at most n bytes least likely
// to be common: it skips leading path separators and spaces, and never
// splits a UTF-8 sequence.
func bestWindow(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Prefer the end of the literal (file names sit at the end of paths).
	start := len(s) - n
	for start < len(s) && s[start]&0xC0 == 0x80 {
		start++
	}
	return s[start:]
}

// Stats describes a compiled engine.
type Stats struct {
	Rules, Correlations, Filters int
	PrefilteredRules             int // rules gated by the literal prefilter
	Needles, Fields              int // literal needles, and fields they are indexed on
}

// Stats reports the engine's size.
func (e *Engine) Stats() Stats {
	s := Stats{Rules: len(e.rules), Correlations: len(e.corrs)}
	s.Needles, s.Fields = e.needles, e.needleFields
	seen := map[*sigma.Rule]bool{}
	for _, c := range e.rules {
		if !c.always {
			s.PrefilteredRules++
		}
		for _, f := range c.filters {
			if !seen[f] {
				seen[f] = true
				s.Filters++
			}
		}
	}
	return s
}

// EvaluationsPerEvent reports how many rules the engine evaluated per
// processed event on average, after routing and the literal prefilter.
func (e *Engine) EvaluationsPerEvent() float64 {
	if e.events == 0 {
		return 0
	}
	return float64(e.evals) / float64(e.events)
}

// Normalize applies the engine's log source routing and field mappings to
// ev; Process calls it, so only callers that inspect events need it.
func (e *Engine) Normalize(ev *event.Event) { e.norm.Apply(ev) }

// Process normalizes ev, evaluates the rules routed to it and returns the
// alerts, numbering the event with the engine's running event index.
func (e *Engine) Process(ev *event.Event) []Alert {
	idx := e.next
	e.next++
	return e.ProcessIndex(ev, idx)
}

// Skip advances the running event index without evaluating (for records
// that did not parse).
func (e *Engine) Skip() { e.next++ }

// ProcessIndex is Process with an explicit event index.
func (e *Engine) ProcessIndex(ev *event.Event, idx int64) []Alert {
	e.events++
	e.norm.Apply(ev)
	rt := e.route(ev)
	if len(rt.rules) == 0 {
		return nil
	}
	e.gen++
	if e.gen == 0 { // wrapped: clear marks
		for _, c := range e.rules {
			c.mark = 0
		}
		for _, set := range []map[string]*routed{e.bySet, e.routes} {
			for _, r := range set {
				for _, fp := range r.fields {
					clear(fp.seen)
				}
				if r.anyField != nil {
					clear(r.anyField.seen)
				}
			}
		}
		e.gen = 1
	}
	e.hits = e.hits[:0]
	if len(rt.fields) > 0 || rt.anyField != nil {
		e.scan(rt, ev)
	}
	// The candidates: rules whose every needle group was hit, and the
	// rules without needles, in load order (alerts come in rule order).
	cands := e.cands[:0]
	for _, ri := range e.hits {
		if c := e.rules[ri]; c.have == c.need {
			cands = append(cands, ri)
		}
	}
	if len(cands) > 0 || len(rt.always) > 0 {
		cands = append(cands, rt.always...)
		slices.Sort(cands)
	}
	e.cands = cands
	var alerts []Alert
	for _, ri := range cands {
		c := e.rules[ri]
		e.evals++
		if !c.rule.Detection.Match(ev) {
			continue
		}
		if e.filtered(c, ev) {
			continue
		}
		if c.emit {
			alerts = append(alerts, e.alert(c.rule, ev, idx))
		}
		for _, co := range c.corrs {
			alerts = append(alerts, co.observe(c.rule, ev, idx)...)
		}
	}
	return alerts
}

// scan runs each field's literal automaton over the field's lower-cased
// value and marks the rules whose needles occur.
func (e *Engine) scan(rt *routed, ev *event.Event) {
	gen := e.gen
	anyField := rt.anyField
	for i := range ev.Fields {
		f := &ev.Fields[i]
		// The filter of field number i is most likely the one the previous
		// event of this route had there (same shape): compare before hashing.
		var fp *fieldPrefilter
		if i < len(rt.pos) && rt.pos[i].name == f.Name {
			fp = rt.pos[i].fp
		} else {
			fp = rt.fields[f.Name]
			if i < len(rt.pos) {
				rt.pos[i] = posFilter{f.Name, fp}
			} else if i == len(rt.pos) && i < maxPositions {
				rt.pos = append(rt.pos, posFilter{f.Name, fp})
			}
		}
		if fp != nil {
			e.scanField(fp, f, gen) // its needles and the keyword needles
		} else if anyField != nil && !f.Dup {
			e.scanField(anyField, f, gen)
		}
	}
	// A rule may name a field by the path it had before the parser renamed
	// it (Event.EventData.Image): evaluation finds it through Resolve, so
	// the prefilter must too.
	if ev.Resolve != nil {
		for _, name := range rt.dotted {
			if ev.Index(name) < 0 {
				if f := ev.Get(name); f != nil {
					e.scanField(rt.fields[name], f, gen)
				}
			}
		}
	}
}

// scanField runs one field's literal filter over text and marks the rules
// of the needles found.
func (e *Engine) scanField(fp *fieldPrefilter, f *event.Field, gen uint32) {
	hit := func(id int32) {
		if fp.seen[id] == gen {
			return // already marked its rules for this event
		}
		fp.seen[id] = gen
		for _, ref := range fp.rules[id] {
			r := e.rules[ref.rule]
			if r.mark != gen {
				r.mark, r.have = gen, 0
				e.hits = append(e.hits, ref.rule)
			}
			r.have |= 1 << ref.bit
		}
	}
	if !fp.lf.ScanFold(f.Value, hit) {
		fp.lf.Scan(f.Lower(), hit)
	}
}

// route returns the rules whose log source the event belongs to, with
// their prefilter, cached per distinct set of event log sources.
func (e *Engine) route(ev *event.Event) *routed {
	if e.cfg.NoRouting {
		if r, ok := e.routes["*"]; ok {
			return r
		}
		all := make([]int32, len(e.rules))
		for i := range all {
			all[i] = int32(i)
		}
		rt := e.newRouted(all)
		e.routes["*"] = rt
		return rt
	}
	k := e.keyBuf[:0]
	for _, l := range ev.Logsources {
		k = append(k, l.Product...)
		k = append(k, 0)
		k = append(k, l.Category...)
		k = append(k, 0)
		k = append(k, l.Service...)
		k = append(k, 1)
	}
	e.keyBuf = k
	if r, ok := e.routes[string(k)]; ok {
		return r
	}
	var r []int32
	for _, c := range e.rules {
		rl := event.Logsource{Product: c.rule.Logsource.Product, Category: c.rule.Logsource.Category, Service: c.rule.Logsource.Service}
		for _, l := range ev.Logsources {
			if normalize.Matches(rl, l) {
				r = append(r, int32(c.idx))
				break
			}
		}
	}
	rt := e.newRouted(r)
	if len(e.routes) >= maxRoutes {
		clear(e.routes)
	}
	e.routes[string(k)] = rt
	return rt
}

func (e *Engine) filtered(c *compiled, ev *event.Event) bool {
	for _, f := range c.filters {
		if f.Logsource != (sigma.Logsource{}) {
			fl := event.Logsource{Product: f.Logsource.Product, Category: f.Logsource.Category, Service: f.Logsource.Service}
			ok := false
			for _, l := range ev.Logsources {
				if normalize.Matches(fl, l) {
					ok = true
					break
				}
			}
			if !ok {
				continue
			}
		}
		if f.Detection.Match(ev) {
			return true
		}
	}
	return false
}

func (e *Engine) alert(r *sigma.Rule, ev *event.Event, idx int64) Alert {
	a := Alert{
		RuleID: r.ID, Title: r.Title, Level: r.Level, Status: r.Status,
		Tags: r.Tags, References: r.References, FalsePositives: r.FalsePositives,
		EventIndex: idx, Time: ev.Time,
	}
	if r.Detection != nil {
		for _, name := range r.Detection.FieldNames {
			if f := ev.Get(name); f != nil {
				if a.Fields == nil {
					a.Fields = map[string]string{}
				}
				a.Fields[name] = f.Value
			}
		}
	}
	return a
}

// Rules returns the detection rules in load order.
func (e *Engine) Rules() []*sigma.Rule {
	out := make([]*sigma.Rule, len(e.rules))
	for i, c := range e.rules {
		out[i] = c.rule
	}
	return out
}
