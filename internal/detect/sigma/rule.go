// Package sigma loads, compiles and evaluates Sigma rules (specification
// v2.1): detection rules with every standard modifier, the full condition
// grammar, global filters and correlation rules.
package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxRuleSize bounds a rule file; larger files are rejected unread.
const MaxRuleSize = 1 << 20

// Logsource selects the events a rule applies to.
type Logsource struct {
	Product    string
	Category   string
	Service    string
	Definition string
}

// Kind says which of the three Sigma document types a Rule is.
type Kind uint8

// Rule kinds.
const (
	KindDetection Kind = iota
	KindCorrelation
	KindFilter
)

// Rule is one compiled Sigma document: a detection rule, a correlation rule
// or a global filter. Metadata is kept as written so it can flow to alerts.
type Rule struct {
	Kind           Kind
	ID             string
	Name           string
	Title          string
	Status         string
	Level          string
	Description    string
	Author         string
	Date           string
	Modified       string
	References     []string
	Tags           []string
	FalsePositives []string
	Fields         []string
	Logsource      Logsource
	Source         string // file the rule came from, if any

	// Detection is the compiled detection of a detection rule or the
	// selection of a filter.
	Detection *Detection
	// Correlation is set for correlation rules.
	Correlation *Correlation
	// FilterRules lists the rules (id or name) a global filter applies to.
	FilterRules []string
	// Warnings are non-fatal remarks about the rule (e.g. a placeholder
	// without values).
	Warnings []string
}

// Options tune compilation.
type Options struct {
	// Placeholders gives the values of %name% placeholders used with the
	// expand modifier. An unknown placeholder expands to no value, so the
	// field condition can never match, and the rule gets a warning.
	Placeholders map[string][]string
}

// Parse reads every YAML document of a rule file and compiles it. It
// returns the rules that compiled and one error per document that did not;
// a bad document never prevents the others from loading.
func Parse(data []byte, source string, opts *Options) ([]*Rule, []error) {
	if len(data) > MaxRuleSize {
		return nil, []error{fmt.Errorf("%s: file larger than %d bytes", source, MaxRuleSize)}
	}
	if opts == nil {
		opts = &Options{}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var rules []*Rule
	var errs []error
	for doc := 0; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: document %d: yaml: %w", source, doc+1, err))
			break
		}
		r, err := compileDocument(&n, opts)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: document %d: %w", source, doc+1, err))
			continue
		}
		if r == nil {
			continue
		}
		r.Source = source
		rules = append(rules, r)
	}
	return rules, errs
}

// ParseOne compiles a single-document rule and fails on any error.
func ParseOne(data []byte) (*Rule, error) {
	rs, errs := Parse(data, "rule", nil)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("want exactly one rule, got %d", len(rs))
	}
	return rs[0], nil
}

// maxExpandedNodes bounds a rule's size with YAML aliases expanded, so an
// alias bomb cannot make compilation explode.
const maxExpandedNodes = 1 << 20

// expandedSize counts the nodes of n with aliases expanded, stopping once
// the count reaches limit.
func expandedSize(n *yaml.Node, limit int) int {
	count := 0
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || count >= limit || depth > 100 {
			count = max(count, limit*boolInt(depth > 100))
			return
		}
		count++
		if n.Kind == yaml.AliasNode {
			walk(n.Alias, depth+1)
			return
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return count
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// mapGet returns the value of key in a mapping node.
func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolveAlias(n.Content[i+1])
		}
	}
	return nil
}

func scalarString(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// stringList accepts a scalar or a sequence of scalars.
func stringList(n *yaml.Node) []string {
	n = resolveAlias(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			return nil
		}
		return []string{n.Value}
	}
	var out []string
	if n.Kind == yaml.SequenceNode {
		for _, c := range n.Content {
			c = resolveAlias(c)
			if c.Kind == yaml.ScalarNode && c.Tag != "!!null" {
				out = append(out, c.Value)
			}
		}
	}
	return out
}

func compileDocument(doc *yaml.Node, opts *Options) (*Rule, error) {
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		doc = resolveAlias(doc.Content[0])
	}
	if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
		return nil, nil
	}
	if doc.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("rule must be a YAML mapping")
	}
	if n := expandedSize(doc, maxExpandedNodes+1); n > maxExpandedNodes {
		return nil, fmt.Errorf("rule expands to more than %d YAML nodes through aliases", maxExpandedNodes)
	}
	r := &Rule{
		ID:             scalarString(mapGet(doc, "id")),
		Name:           scalarString(mapGet(doc, "name")),
		Title:          scalarString(mapGet(doc, "title")),
		Status:         scalarString(mapGet(doc, "status")),
		Level:          scalarString(mapGet(doc, "level")),
		Description:    scalarString(mapGet(doc, "description")),
		Author:         scalarString(mapGet(doc, "author")),
		Date:           scalarString(mapGet(doc, "date")),
		Modified:       scalarString(mapGet(doc, "modified")),
		References:     stringList(mapGet(doc, "references")),
		Tags:           stringList(mapGet(doc, "tags")),
		FalsePositives: stringList(mapGet(doc, "falsepositives")),
		Fields:         stringList(mapGet(doc, "fields")),
	}
	if r.References == nil {
		r.References = stringList(mapGet(doc, "reference"))
	}
	if r.Title == "" {
		return nil, fmt.Errorf("missing title")
	}
	if ls := mapGet(doc, "logsource"); ls != nil {
		if ls.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("logsource must be a mapping")
		}
		r.Logsource = Logsource{
			Product:    strings.ToLower(scalarString(mapGet(ls, "product"))),
			Category:   strings.ToLower(scalarString(mapGet(ls, "category"))),
			Service:    strings.ToLower(scalarString(mapGet(ls, "service"))),
			Definition: scalarString(mapGet(ls, "definition")),
		}
	}
	if tx := scalarString(mapGet(doc, "taxonomy")); tx != "" && tx != "sigma" {
		r.Warnings = append(r.Warnings, fmt.Sprintf("taxonomy %q: field names are used as written", tx))
	}
	switch {
	case mapGet(doc, "correlation") != nil:
		r.Kind = KindCorrelation
		c, err := compileCorrelation(mapGet(doc, "correlation"))
		if err != nil {
			return nil, err
		}
		r.Correlation = c
	case mapGet(doc, "filter") != nil:
		r.Kind = KindFilter
		f := mapGet(doc, "filter")
		if f.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("filter must be a mapping")
		}
		r.FilterRules = stringList(mapGet(f, "rules"))
		if len(r.FilterRules) == 0 {
			return nil, fmt.Errorf("filter: rules is required")
		}
		d, err := compileDetection(f, opts, &r.Warnings, "rules")
		if err != nil {
			return nil, fmt.Errorf("filter: %w", err)
		}
		r.Detection = d
	default:
		det := mapGet(doc, "detection")
		if det == nil {
			return nil, fmt.Errorf("missing detection")
		}
		if det.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("detection must be a mapping")
		}
		d, err := compileDetection(det, opts, &r.Warnings)
		if err != nil {
			return nil, fmt.Errorf("detection: %w", err)
		}
		r.Detection = d
	}
	return r, nil
}
