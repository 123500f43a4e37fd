package detect

import (
	"container/list"
	"fmt"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/detect/event"
	"github.com/custodia/custodia/internal/detect/sigma"
)

// maxGroupEvents bounds the events remembered per correlation group.
const maxGroupEvents = 4096

// maxAlertIndexes bounds the contributing event indexes listed in an alert.
const maxAlertIndexes = 1000

// correlator holds the state of one correlation rule: one group per
// distinct group-by key, dropped when older than the timespan or when the
// key cap is reached (least recently updated first).
type correlator struct {
	rule    *sigma.Rule
	c       *sigma.Correlation
	refs    map[*sigma.Rule]int // referenced rule → its position in c.Rules
	emit    bool
	parents []*correlator
	maxKeys int
	groups  map[string]*list.Element
	lru     *list.List // front = most recently updated *group
}

type obs struct {
	t     time.Time
	idx   int64
	rule  int     // position of the rule in c.Rules
	value string  // value_count / value_percentile
	num   float64 // value_sum / value_avg
}

type group struct {
	key    string
	vals   []string
	last   time.Time
	events []obs
}

func (e *Engine) linkCorrelations(rules []*sigma.Rule, byRef map[string][]*compiled) error {
	corrByRef := map[string]*correlator{}
	for _, r := range rules {
		co := &correlator{rule: r, c: r.Correlation, refs: map[*sigma.Rule]int{}, emit: true,
			maxKeys: e.cfg.MaxCorrelationKeys, groups: map[string]*list.Element{}, lru: list.New()}
		e.corrs = append(e.corrs, co)
		if r.ID != "" {
			corrByRef[r.ID] = co
		}
		if r.Name != "" && r.Name != r.ID {
			corrByRef[r.Name] = co
		}
	}
	for _, co := range e.corrs {
		for pos, ref := range co.c.Rules {
			found := false
			for _, c := range byRef[ref] {
				co.refs[c.rule] = pos
				c.corrs = append(c.corrs, co)
				if !co.c.Generate {
					c.emit = false
				}
				found = true
			}
			if inner, ok := corrByRef[ref]; ok && inner != co {
				co.refs[inner.rule] = pos
				inner.parents = append(inner.parents, co)
				if !co.c.Generate {
					inner.emit = false
				}
				found = true
			}
			if !found {
				return fmt.Errorf("correlation %q (%s): referenced rule %q is not loaded", co.rule.Title, co.rule.Source, ref)
			}
		}
	}
	// Chains must not loop: a correlation may not (indirectly) feed itself.
	state := map[*correlator]int{} // 1 visiting, 2 done
	var visit func(co *correlator) error
	visit = func(co *correlator) error {
		switch state[co] {
		case 1:
			return fmt.Errorf("correlation %q (%s) feeds itself through a chain of correlations", co.rule.Title, co.rule.Source)
		case 2:
			return nil
		}
		state[co] = 1
		for _, p := range co.parents {
			if err := visit(p); err != nil {
				return err
			}
		}
		state[co] = 2
		return nil
	}
	for _, co := range e.corrs {
		if err := visit(co); err != nil {
			return err
		}
	}
	return nil
}

// groupValues returns the group-by values of ev for the referenced rule,
// resolving aliases.
func (co *correlator) groupValues(r *sigma.Rule, ev *event.Event) []string {
	vals := make([]string, len(co.c.GroupBy))
	for i, g := range co.c.GroupBy {
		field := g
		if al, ok := co.c.Aliases[g]; ok {
			if f, ok := al[r.Name]; ok {
				field = f
			} else if f, ok := al[r.ID]; ok {
				field = f
			}
		}
		vals[i], _ = ev.Value(field)
	}
	return vals
}

// observe records that rule r matched ev and returns any alerts.
func (co *correlator) observe(r *sigma.Rule, ev *event.Event, idx int64) []Alert {
	pos, ok := co.refs[r]
	if !ok {
		return nil
	}
	t := ev.Time
	if t.IsZero() {
		t = time.Now()
	}
	vals := co.groupValues(r, ev)
	key := strings.Join(vals, "\x1f")
	co.expire(t)
	var g *group
	if el, ok := co.groups[key]; ok {
		g = el.Value.(*group)
		co.lru.MoveToFront(el)
	} else {
		g = &group{key: key, vals: vals}
		co.groups[key] = co.lru.PushFront(g)
		for len(co.groups) > co.maxKeys {
			old := co.lru.Back()
			co.lru.Remove(old)
			delete(co.groups, old.Value.(*group).key)
		}
	}
	if t.After(g.last) {
		g.last = t
	}
	o := obs{t: t, idx: idx, rule: pos}
	if co.c.Field != "" {
		o.value, _ = ev.Value(co.c.Field)
		if co.c.Type == sigma.ValueSum || co.c.Type == sigma.ValueAvg {
			f, err := parseFloat(o.value)
			if err != nil {
				return nil // not a number: cannot aggregate
			}
			o.num = f
		}
	}
	// Drop events outside the window, then add this one.
	cut := t.Add(-co.c.Timespan)
	n := 0
	for _, x := range g.events {
		if !x.t.Before(cut) {
			g.events[n] = x
			n++
		}
	}
	g.events = g.events[:n]
	if len(g.events) >= maxGroupEvents {
		g.events = g.events[1:]
	}
	g.events = append(g.events, o)

	value, fired := co.evaluate(g, o)
	if !fired {
		return nil
	}
	a := Alert{
		RuleID: co.rule.ID, Title: co.rule.Title, Level: co.rule.Level, Status: co.rule.Status,
		Tags: co.rule.Tags, References: co.rule.References, FalsePositives: co.rule.FalsePositives,
		EventIndex: idx, Time: t, Correlation: co.c.Type, Value: &value,
	}
	a.Group = map[string]string{}
	for i, name := range co.c.GroupBy {
		a.Group[name] = g.vals[i]
	}
	for _, x := range g.events {
		if len(a.EventIndexes) < maxAlertIndexes {
			a.EventIndexes = append(a.EventIndexes, x.idx)
		}
	}
	// The group starts afresh so one burst yields one alert.
	g.events = g.events[:0]
	var out []Alert
	if co.emit {
		out = append(out, a)
	}
	for _, p := range co.parents {
		out = append(out, p.observe(co.rule, ev, idx)...)
	}
	return out
}

// expire drops groups not updated within the timespan (oldest first).
func (co *correlator) expire(now time.Time) {
	cut := now.Add(-co.c.Timespan)
	for {
		el := co.lru.Back()
		if el == nil {
			return
		}
		g := el.Value.(*group)
		if !g.last.Before(cut) {
			return
		}
		co.lru.Remove(el)
		delete(co.groups, g.key)
	}
}

func (co *correlator) holds(v float64) bool {
	for _, c := range co.c.Conditions {
		if !c.Holds(v) {
			return false
		}
	}
	return true
}

// evaluate computes the correlation's value for g after observation o.
func (co *correlator) evaluate(g *group, o obs) (float64, bool) {
	switch co.c.Type {
	case sigma.EventCount:
		v := float64(len(g.events))
		return v, co.holds(v)
	case sigma.ValueCount:
		seen := map[string]struct{}{}
		for _, x := range g.events {
			if x.value != "" {
				seen[x.value] = struct{}{}
			}
		}
		v := float64(len(seen))
		return v, co.holds(v)
	case sigma.ValueSum, sigma.ValueAvg:
		sum := 0.0
		for _, x := range g.events {
			sum += x.num
		}
		if co.c.Type == sigma.ValueAvg {
			sum /= float64(len(g.events))
		}
		return sum, co.holds(sum)
	case sigma.ValuePercentile:
		// Share (in percent) of the group's events in the window that
		// carry the current event's value: low values flag rare values.
		same := 0
		for _, x := range g.events {
			if x.value == o.value {
				same++
			}
		}
		v := 100 * float64(same) / float64(len(g.events))
		return v, co.holds(v)
	case sigma.Temporal:
		seen := map[int]bool{}
		for _, x := range g.events {
			seen[x.rule] = true
		}
		v := float64(len(seen))
		return v, co.holds(v)
	case sigma.TemporalOrdered:
		// Longest prefix of the rule order found as a subsequence in time order.
		next := 0
		for _, x := range g.events {
			if next < len(co.c.Rules) && x.rule == next {
				next++
			}
		}
		v := float64(next)
		return v, next == len(co.c.Rules) && co.holds(v)
	}
	return 0, false
}

func parseFloat(s string) (float64, error) {
	var f float64
	_, err := fmt.Sscan(strings.TrimSpace(s), &f)
	return f, err
}
