package sigma

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Correlation types defined by the Sigma correlation specification.
const (
	EventCount      = "event_count"
	ValueCount      = "value_count"
	Temporal        = "temporal"
	TemporalOrdered = "temporal_ordered"
	ValueSum        = "value_sum"
	ValueAvg        = "value_avg"
	ValuePercentile = "value_percentile"
)

// Correlation is the correlation section of a correlation rule.
type Correlation struct {
	Type     string
	Rules    []string // ids or names of the referenced rules, in order
	GroupBy  []string
	Timespan time.Duration
	// Aliases maps an alias name to rule name/id → field name.
	Aliases map[string]map[string]string
	// Field is the field aggregated by value_* types.
	Field string
	// Conditions are the comparisons ("gt", "gte", "lt", "lte", "eq",
	// "neq") that must all hold.
	Conditions []Comparison
	Generate   bool
}

// Comparison is one condition criterion of a correlation.
type Comparison struct {
	Op    string
	Value float64
}

// Holds reports whether v satisfies the comparison.
func (c Comparison) Holds(v float64) bool {
	switch c.Op {
	case "gt":
		return v > c.Value
	case "gte":
		return v >= c.Value
	case "lt":
		return v < c.Value
	case "lte":
		return v <= c.Value
	case "eq":
		return v == c.Value
	case "neq":
		return v != c.Value
	}
	return false
}

// ParseTimespan parses a Sigma timespan such as 90s, 10m, 1h or 2d.
func ParseTimespan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, fmt.Errorf("timespan %q: want a number and one of s, m, h, d", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("timespan %q: want a positive number and one of s, m, h, d", s)
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("timespan %q: unknown unit %q", s, s[len(s)-1:])
	}
	return time.Duration(n) * unit, nil
}

func compileCorrelation(n *yaml.Node) (*Correlation, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("correlation must be a mapping")
	}
	c := &Correlation{
		Type:    scalarString(mapGet(n, "type")),
		Rules:   stringList(mapGet(n, "rules")),
		GroupBy: stringList(mapGet(n, "group-by")),
	}
	switch c.Type {
	case EventCount, ValueCount, Temporal, TemporalOrdered, ValueSum, ValueAvg, ValuePercentile:
	case "":
		return nil, fmt.Errorf("correlation: type is required")
	default:
		return nil, fmt.Errorf("correlation: unknown type %q", c.Type)
	}
	if len(c.Rules) == 0 {
		return nil, fmt.Errorf("correlation: rules is required")
	}
	ts := scalarString(mapGet(n, "timespan"))
	if ts == "" {
		ts = scalarString(mapGet(n, "timeframe"))
	}
	if ts == "" {
		return nil, fmt.Errorf("correlation: timespan is required")
	}
	d, err := ParseTimespan(ts)
	if err != nil {
		return nil, fmt.Errorf("correlation: %w", err)
	}
	c.Timespan = d
	if g := mapGet(n, "generate"); g != nil {
		c.Generate, _ = strconv.ParseBool(g.Value)
	}
	if al := mapGet(n, "aliases"); al != nil {
		if al.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("correlation: aliases must be a mapping")
		}
		c.Aliases = map[string]map[string]string{}
		for i := 0; i+1 < len(al.Content); i += 2 {
			m := resolveAlias(al.Content[i+1])
			if m.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("correlation: alias %q must map rule names to fields", al.Content[i].Value)
			}
			inner := map[string]string{}
			for j := 0; j+1 < len(m.Content); j += 2 {
				inner[m.Content[j].Value] = m.Content[j+1].Value
			}
			c.Aliases[al.Content[i].Value] = inner
		}
	}
	cond := mapGet(n, "condition")
	if cond != nil {
		if cond.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("correlation: condition must be a mapping such as {gte: 10}")
		}
		for i := 0; i+1 < len(cond.Content); i += 2 {
			k, v := cond.Content[i].Value, cond.Content[i+1].Value
			switch k {
			case "field":
				c.Field = v
			case "gt", "gte", "lt", "lte", "eq", "neq":
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return nil, fmt.Errorf("correlation: condition %s: %q is not a number", k, v)
				}
				c.Conditions = append(c.Conditions, Comparison{Op: k, Value: f})
			default:
				return nil, fmt.Errorf("correlation: unknown condition key %q", k)
			}
		}
	}
	switch c.Type {
	case Temporal, TemporalOrdered:
		if len(c.Conditions) == 0 {
			// All referenced rules must match.
			c.Conditions = []Comparison{{Op: "gte", Value: float64(len(c.Rules))}}
		}
	default:
		if len(c.Conditions) == 0 {
			return nil, fmt.Errorf("correlation: %s needs a condition", c.Type)
		}
	}
	switch c.Type {
	case ValueCount, ValueSum, ValueAvg, ValuePercentile:
		if c.Field == "" {
			return nil, fmt.Errorf("correlation: %s needs condition.field", c.Type)
		}
	}
	return c, nil
}
