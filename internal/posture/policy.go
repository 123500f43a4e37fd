// Package posture is Custodia's workstation check engine: it loads Wazuh SCA
// policy files of both dialects (4.x with OSRegex, 5.x with PCRE2) plus
// Custodia's extensions, evaluates their rules against a Host, and reports
// per check a result with its evidence.
//
// The engine knows nothing of HTTP, SQL or the operating system it runs on:
// everything it observes goes through Host, so tests point it at temporary
// directories, scripted commands and registry fixtures.
package posture

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxPolicyBytes is the largest policy file Parse accepts.
const MaxPolicyBytes = 8 << 20

// Dialect is the SCA policy dialect a file is written in.
type Dialect int

const (
	// Wazuh4 is the 4.x dialect: checks have "title", compliance is a list
	// of single-key maps, regexes are OSRegex.
	Wazuh4 Dialect = 4
	// Wazuh5 is the 5.x dialect: checks have "name", compliance is a map,
	// regexes are PCRE2.
	Wazuh5 Dialect = 5
)

func (d Dialect) String() string {
	if d == Wazuh5 {
		return "wazuh-5.x"
	}
	return "wazuh-4.x"
}

// Condition is how a check aggregates its rules' results.
type Condition string

// The conditions SCA defines.
const (
	All  Condition = "all"
	Any  Condition = "any"
	None Condition = "none"
)

// Regex flavours a policy may use.
const (
	RegexOS    = "osregex"
	RegexPCRE2 = "pcre2"
)

// Policy is a parsed policy file.
type Policy struct {
	ID           string
	File         string
	Name         string
	Description  string
	References   []string
	Dialect      Dialect
	RegexType    string // RegexOS or RegexPCRE2
	Requirements *Requirements
	Variables    map[string]string
	Checks       []*Check
}

// Requirements are the rules a host must satisfy for the policy to apply.
type Requirements struct {
	Title       string
	Description string
	Condition   Condition
	Rules       []*Rule
	Err         error // a rule that did not parse
}

// Check is one check of a policy. A check whose rules did not parse keeps
// its metadata and carries Err, so it reports "error" instead of stopping
// the whole policy.
type Check struct {
	ID          string
	Title       string
	Description string
	Rationale   string
	Remediation string
	References  []string
	Compliance  map[string][]string
	Mitre       map[string][]string // 5.x: tactic, technique, subtechnique
	Condition   Condition
	Rules       []*Rule
	// Label and Unit are Custodia extensions that name the observed value
	// in evidence: "screen lock timeout: observed 900 s, expected <= 300 s".
	Label string
	Unit  string
	Line  int
	Err   error
}

// Problem is one defect found while parsing a policy.
type Problem struct {
	Line    int
	CheckID string
	Msg     string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.CheckID != "" {
		fmt.Fprintf(&b, "check %s: ", p.CheckID)
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems reports every defect of the policy: unparseable rules (which
// make their check report "error") and missing mandatory fields.
func (p *Policy) Problems() []Problem {
	var out []Problem
	if p.Requirements != nil && p.Requirements.Err != nil {
		out = append(out, Problem{Msg: "requirements: " + p.Requirements.Err.Error()})
	}
	for _, c := range p.Checks {
		if c.Err != nil {
			out = append(out, Problem{Line: c.Line, CheckID: c.ID, Msg: c.Err.Error()})
		}
	}
	return out
}

// rawPolicy mirrors the YAML of both dialects.
type rawPolicy struct {
	Policy struct {
		ID          string   `yaml:"id"`
		File        string   `yaml:"file"`
		Name        string   `yaml:"name"`
		Description string   `yaml:"description"`
		References  []string `yaml:"references"`
		RegexType   string   `yaml:"regex_type"`
	} `yaml:"policy"`
	Requirements *struct {
		Title       string   `yaml:"title"`
		Name        string   `yaml:"name"`
		Description string   `yaml:"description"`
		Condition   string   `yaml:"condition"`
		Rules       []string `yaml:"rules"`
	} `yaml:"requirements"`
	Variables map[string]string `yaml:"variables"`
	Checks    []yaml.Node       `yaml:"checks"`
}

type rawCheck struct {
	ID          yaml.Node `yaml:"id"`
	Title       string    `yaml:"title"`
	Name        string    `yaml:"name"`
	Description string    `yaml:"description"`
	Rationale   string    `yaml:"rationale"`
	Remediation string    `yaml:"remediation"`
	References  yaml.Node `yaml:"references"`
	Compliance  yaml.Node `yaml:"compliance"`
	Mitre       yaml.Node `yaml:"mitre"`
	RegexType   string    `yaml:"regex_type"`
	Condition   string    `yaml:"condition"`
	Rules       []string  `yaml:"rules"`
	Label       string    `yaml:"label"`
	Unit        string    `yaml:"unit"`
}

// ParseFile reads and parses the policy file at path.
func ParseFile(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open policy: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat policy %q: %w", path, err)
	}
	if st.Size() > MaxPolicyBytes {
		return nil, fmt.Errorf("policy %q: %d bytes, larger than %d", path, st.Size(), MaxPolicyBytes)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("read policy %q: %w", path, err)
	}
	p, err := Parse(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("policy %q: %w", path, err)
	}
	return p, nil
}

// Parse parses a policy document of either dialect. Structural errors (not
// YAML, no policy id, no checks, mixed dialects, duplicate check ids) fail
// the whole policy; a bad rule only marks its check (see Problems).
func Parse(data []byte) (p *Policy, err error) {
	if len(data) > MaxPolicyBytes {
		return nil, fmt.Errorf("policy is %d bytes, larger than %d", len(data), MaxPolicyBytes)
	}
	defer func() {
		// yaml.v3 has panicked on hostile input before; never let a policy
		// file take the agent down.
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("policy: malformed document: %v", r)
		}
	}()
	var raw rawPolicy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	p = &Policy{
		ID:          strings.TrimSpace(raw.Policy.ID),
		File:        raw.Policy.File,
		Name:        raw.Policy.Name,
		Description: raw.Policy.Description,
		References:  raw.Policy.References,
		Variables:   map[string]string{},
	}
	if p.ID == "" {
		return nil, errors.New("policy: policy.id is required")
	}
	if len(raw.Checks) == 0 {
		return nil, fmt.Errorf("policy %s: no checks", p.ID)
	}
	for k, v := range raw.Variables {
		if !strings.HasPrefix(k, "$") || len(k) < 2 {
			return nil, fmt.Errorf("policy %s: variable %q must start with '$'", p.ID, k)
		}
		p.Variables[k] = v
	}

	checks := make([]rawCheck, len(raw.Checks))
	hasTitle, hasName := false, false
	for i := range raw.Checks {
		n := &raw.Checks[i]
		if n.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("policy %s: line %d: a check must be a mapping", p.ID, n.Line)
		}
		if err := n.Decode(&checks[i]); err != nil {
			return nil, fmt.Errorf("policy %s: line %d: %w", p.ID, n.Line, err)
		}
		if checks[i].Title != "" {
			hasTitle = true
		}
		if checks[i].Name != "" {
			hasName = true
		}
	}
	switch {
	case hasTitle && hasName:
		return nil, fmt.Errorf("policy %s: checks mix the 4.x \"title\" and the 5.x \"name\" field; use one dialect per file", p.ID)
	case hasName:
		p.Dialect, p.RegexType = Wazuh5, RegexPCRE2
	default:
		p.Dialect, p.RegexType = Wazuh4, RegexOS
	}
	switch rt := strings.ToLower(strings.TrimSpace(raw.Policy.RegexType)); rt {
	case "":
	case RegexOS, RegexPCRE2:
		p.RegexType = rt
	default:
		return nil, fmt.Errorf("policy %s: regex_type %q: want %q or %q", p.ID, raw.Policy.RegexType, RegexOS, RegexPCRE2)
	}

	rp := ruleParser{vars: p.Variables, regex: p.RegexType, legacy: p.Dialect == Wazuh4}
	if r := raw.Requirements; r != nil {
		req := &Requirements{Title: r.Title, Description: r.Description}
		if req.Title == "" {
			req.Title = r.Name // 5.x
		}
		req.Condition, req.Err = parseCondition(r.Condition)
		if req.Err == nil && len(r.Rules) == 0 {
			req.Err = errors.New("no rules")
		}
		for _, s := range r.Rules {
			rule, err := rp.parse(s)
			if err != nil && req.Err == nil {
				req.Err = err
			}
			req.Rules = append(req.Rules, rule)
		}
		p.Requirements = req
	}

	seen := map[string]int{}
	for i, rc := range checks {
		line := raw.Checks[i].Line
		c := &Check{
			ID:          scalar(&rc.ID),
			Title:       rc.Title,
			Description: rc.Description,
			Rationale:   rc.Rationale,
			Remediation: rc.Remediation,
			Label:       rc.Label,
			Unit:        rc.Unit,
			Line:        line,
		}
		if p.Dialect == Wazuh5 {
			c.Title = rc.Name
		}
		if c.ID == "" {
			return nil, fmt.Errorf("policy %s: line %d: check without an id", p.ID, line)
		}
		if prev, dup := seen[c.ID]; dup {
			return nil, fmt.Errorf("policy %s: line %d: check id %s already used at line %d", p.ID, line, c.ID, prev)
		}
		seen[c.ID] = line
		var errs []string
		if c.Title == "" {
			field := "title"
			if p.Dialect == Wazuh5 {
				field = "name"
			}
			errs = append(errs, field+" is required")
		}
		c.Compliance, err = parseCompliance(&rc.Compliance)
		if err != nil {
			errs = append(errs, err.Error())
		}
		c.References, err = stringList(&rc.References)
		if err != nil {
			errs = append(errs, "references: "+err.Error())
		}
		c.Condition, err = parseCondition(rc.Condition)
		if err != nil {
			errs = append(errs, err.Error())
		}
		if len(rc.Rules) == 0 {
			errs = append(errs, "no rules")
		}
		if rc.Mitre.Kind != 0 {
			if rc.Mitre.Kind != yaml.MappingNode {
				errs = append(errs, "mitre: want a map of tactic, technique, subtechnique")
			} else if c.Mitre, err = parseCompliance(&rc.Mitre); err != nil {
				errs = append(errs, "mitre: "+err.Error())
			}
		}
		crp := rp
		switch rt := strings.ToLower(strings.TrimSpace(rc.RegexType)); rt {
		case "":
		case RegexOS, RegexPCRE2:
			crp.regex = rt // 4.x lets a check choose its regex engine
		default:
			errs = append(errs, fmt.Sprintf("regex_type %q: want %q or %q", rc.RegexType, RegexOS, RegexPCRE2))
		}
		for _, s := range rc.Rules {
			rule, err := crp.parse(s)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			c.Rules = append(c.Rules, rule)
		}
		if len(errs) > 0 {
			c.Err = errors.New(strings.Join(errs, "; "))
		}
		p.Checks = append(p.Checks, c)
	}
	return p, nil
}

func parseCondition(s string) (Condition, error) {
	switch c := Condition(strings.ToLower(strings.TrimSpace(s))); c {
	case All, Any, None:
		return c, nil
	case "":
		return "", errors.New("condition is required (all, any or none)")
	default:
		return "", fmt.Errorf("condition %q: want all, any or none", s)
	}
}

// scalar returns a scalar node's value ("" for anything else).
func scalar(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strings.TrimSpace(n.Value)
	}
	return ""
}

// stringList decodes a scalar or a sequence of scalars.
func stringList(n *yaml.Node) ([]string, error) {
	switch n.Kind {
	case 0:
		return nil, nil
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for _, e := range n.Content {
			if e.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: want a string", e.Line)
			}
			out = append(out, e.Value)
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: want a string or a list of strings", n.Line)
}

// parseCompliance accepts the 4.x form (a list of single-key maps) and the
// 5.x form (one map), with scalar or list values.
func parseCompliance(n *yaml.Node) (map[string][]string, error) {
	out := map[string][]string{}
	addMap := func(m *yaml.Node) error {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			if k.Kind != yaml.ScalarNode || k.Value == "" {
				return fmt.Errorf("compliance: line %d: want a framework name", k.Line)
			}
			vals, err := stringList(m.Content[i+1])
			if err != nil {
				return fmt.Errorf("compliance %s: %w", k.Value, err)
			}
			for _, v := range vals {
				out[k.Value] = append(out[k.Value], strings.TrimSpace(v))
			}
		}
		return nil
	}
	switch n.Kind {
	case 0:
		return out, nil
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return out, nil
		}
	case yaml.MappingNode:
		return out, addMap(n)
	case yaml.SequenceNode:
		for _, e := range n.Content {
			if e.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("compliance: line %d: want framework: [ids]", e.Line)
			}
			if err := addMap(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("compliance: line %d: want a map or a list of maps", n.Line)
}

// Frameworks lists the compliance frameworks a check maps to, sorted.
func (c *Check) Frameworks() []string {
	out := make([]string, 0, len(c.Compliance))
	for k := range c.Compliance {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// variableRE finds $name references in a rule target.
var variableRE = regexp.MustCompile(`\$[A-Za-z_][A-Za-z0-9_]*`)
