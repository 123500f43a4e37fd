// Package detect is Custodia's detection engine: it loads Sigma rules,
// routes each event only to the rules whose log source it belongs to and
// whose literal needles it contains, evaluates them, runs correlation
// rules, and returns alerts carrying the rule's metadata. It knows nothing
// of HTTP or SQL; the server, the CLI and the agent embed it.
package detect

import (
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
}

// Engine evaluates rules over events. An Engine is not safe for concurrent
// use: give each goroutine its own, or serialize calls.
type Engine struct {
	cfg     Config
	norm    *normalize.Normalizer
	rules   []*compiled
	corrs   []*correlator
	fieldAC map[string]*fieldPrefilter // field name → literal filter over its needles ("" for keywords)
	gen     uint32
	routes  map[string][]int32 // logsource-set key → rule indexes
	keyBuf  []byte
	next    int64
	evals   int64 // rule evaluations so far
	events  int64 // events processed so far
}

// NewEngine compiles an engine for rules (detection rules, filters and
// correlation rules, as returned by sigma.Parse or LoadRules).
func NewEngine(cfg Config, rules ...*sigma.Rule) (*Engine, error) {
	e := &Engine{cfg: cfg, norm: cfg.Normalizer, routes: map[string][]int32{}}
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
}

// groupRef names needle group bit of rule number rule.
type groupRef struct {
	rule int32
	bit  uint8
}

func (e *Engine) buildPrefilter() {
	type key struct{ field, lit string }
	needles := map[string][]string{}
	ids := map[key]int32{}
	e.fieldAC = map[string]*fieldPrefilter{}
	for _, c := range e.rules {
		groups := c.rule.Detection.NeedleGroups()
		if e.cfg.NoPrefilter || len(groups) == 0 {
			c.always = true
			continue
		}
		for bit, g := range groups {
			c.need |= 1 << bit
			for _, n := range g {
				lit := bestWindow(n.Lit, maxNeedleLen)
				k := key{n.Field, lit}
				fp := e.fieldAC[n.Field]
				if fp == nil {
					fp = &fieldPrefilter{}
					e.fieldAC[n.Field] = fp
				}
				id, ok := ids[k]
				if !ok {
					id = int32(len(needles[n.Field]))
					ids[k] = id
					needles[n.Field] = append(needles[n.Field], lit)
					fp.rules = append(fp.rules, nil)
				}
				ref := groupRef{rule: int32(c.idx), bit: uint8(bit)}
				if l := fp.rules[id]; len(l) == 0 || l[len(l)-1] != ref {
					fp.rules[id] = append(l, ref)
				}
			}
		}
	}
	for f, fp := range e.fieldAC {
		fp.lf = literal.New(needles[f])
	}
}

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
	for _, fp := range e.fieldAC {
		s.Needles += len(fp.rules)
		s.Fields++
	}
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
	cands := e.route(ev)
	if len(cands) == 0 {
		return nil
	}
	e.gen++
	if e.gen == 0 { // wrapped: clear marks
		for _, c := range e.rules {
			c.mark = 0
		}
		e.gen = 1
	}
	if len(e.fieldAC) > 0 {
		e.scan(ev)
	}
	var alerts []Alert
	for _, ri := range cands {
		c := e.rules[ri]
		if !c.always && (c.mark != e.gen || c.have != c.need) {
			continue
		}
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
func (e *Engine) scan(ev *event.Event) {
	gen := e.gen
	anyField := e.fieldAC[""]
	for i := range ev.Fields {
		f := &ev.Fields[i]
		if anyField != nil && !f.Dup {
			e.scanField(anyField, f, gen)
		}
		if fp := e.fieldAC[f.Name]; fp != nil {
			e.scanField(fp, f, gen)
		}
	}
}

// scanField runs one field's literal filter over text and marks the rules
// of the needles found.
func (e *Engine) scanField(fp *fieldPrefilter, f *event.Field, gen uint32) {
	hit := func(id int32) {
		for _, ref := range fp.rules[id] {
			r := e.rules[ref.rule]
			if r.mark != gen {
				r.mark, r.have = gen, 0
			}
			r.have |= 1 << ref.bit
		}
	}
	if !fp.lf.ScanFold(f.Value, hit) {
		fp.lf.Scan(f.Lower(), hit)
	}
}

// route returns the rules whose log source the event belongs to, cached
// per distinct set of event log sources.
func (e *Engine) route(ev *event.Event) []int32 {
	if e.cfg.NoRouting {
		if r, ok := e.routes["*"]; ok {
			return r
		}
		all := make([]int32, len(e.rules))
		for i := range all {
			all[i] = int32(i)
		}
		e.routes["*"] = all
		return all
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
	if len(e.routes) < 4096 {
		e.routes[string(k)] = r
	}
	return r
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
