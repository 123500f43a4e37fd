// Package catalog holds the security frameworks Custodia's ISMS works with
// (ENS, ISO/IEC 27001, GDPR and LOPDGDD, PCI DSS), the mappings between them,
// and importers and exporters for OSCAL and CISO Assistant catalogues.
//
// The built-in catalogues are embedded YAML files under data/, loaded and
// validated by Builtin. The package knows nothing of HTTP or SQL.
package catalog

import (
	"fmt"
	"slices"
	"strings"
)

// Well-known identifiers of the built-in catalogues.
const (
	ENS      = "ens-rd311-2022"
	ISO27001 = "iso27001-2022"
	GDPR     = "gdpr"
	LOPDGDD  = "lopdgdd"
	PCIDSS   = "pci-dss-4.0.1"
)

// Catalog is one framework: a tree of groups and the requirements in them.
type Catalog struct {
	ID           string
	Name         string
	Version      string
	Source       string // where the text comes from (a URL or a file name)
	Licence      string // the licence or copyright note of the source
	Groups       []Group
	Requirements []Requirement
}

// Group is a heading of a catalogue (an ENS group, an ISO Annex A theme, a
// GDPR chapter).
type Group struct {
	ID      string
	Parent  string // "" for a top-level group
	Title   string // English
	TitleES string // Spanish, "" when the catalogue has none
}

// Requirement is one control, clause, article or measure.
type Requirement struct {
	ID      string
	Group   string // the Group.ID it belongs to, "" if none
	Parent  string // the Requirement.ID of a parent requirement, "" if none
	Title   string // English short title
	TitleES string // Spanish short title, "" when the catalogue has none
	Text    string // optional statement (imported catalogues); empty for built-ins

	// ENS only (RD 311/2022 Anexo II).
	Dimensions     []Dimension     // the dimensions the measure depends on; nil when it depends on the category
	ByCategory     bool            // the measure depends on the category of the system
	Levels         [3]LevelRule    // requirement at BAJO/BÁSICA, MEDIO/MEDIA, ALTO/ALTA
	Reinforcements []Reinforcement // R1…Rn
}

// Dimension is one of ENS's five security dimensions.
type Dimension string

// The five dimensions of ENS Anexo I.
const (
	Confidentiality Dimension = "C"
	Integrity       Dimension = "I"
	Traceability    Dimension = "T"
	Authenticity    Dimension = "A"
	Availability    Dimension = "D"
)

// Dimensions lists ENS's dimensions in the order the RD 311/2022 uses.
var Dimensions = [5]Dimension{Confidentiality, Integrity, Traceability, Authenticity, Availability}

// Valid reports whether d is one of the five ENS dimensions.
func (d Dimension) Valid() bool {
	return slices.Contains(Dimensions[:], d)
}

// LevelRule is one cell of the Anexo II table: whether the measure applies
// at that level or category and with which reinforcements.
type LevelRule struct {
	Applies        bool
	Reinforcements []string // "R1", "R2"… required on top of the base measure
	// Choices are the bracketed groups of the cell ("+ [R1 o R2] + R5"):
	// one reinforcement of each group is required, at the system's choice.
	Choices [][]string
}

// String renders the cell the way the Anexo II table writes it, choices
// first: "+ [R2 o R3 o R4] + R5".
func (r LevelRule) String() string {
	switch {
	case !r.Applies:
		return "n.a."
	case len(r.Reinforcements) == 0 && len(r.Choices) == 0:
		return "aplica"
	}
	parts := make([]string, 0, len(r.Choices)+len(r.Reinforcements))
	for _, c := range r.Choices {
		parts = append(parts, "["+strings.Join(c, " o ")+"]")
	}
	parts = append(parts, r.Reinforcements...)
	return "+ " + strings.Join(parts, " + ")
}

// ParseLevelRule parses a cell of the Anexo II table: "n.a.", "aplica",
// "+ R1 + R2" or, where the decree lets the system choose one of several
// reinforcements, "+ [R1 o R2 o R3] + R4".
func ParseLevelRule(s string) (LevelRule, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "n.a.", "na", "n/a":
		return LevelRule{}, nil
	case "aplica":
		return LevelRule{Applies: true}, nil
	}
	if !strings.HasPrefix(s, "+") {
		return LevelRule{}, fmt.Errorf("level rule %q: want \"n.a.\", \"aplica\" or \"+ R1 + R2…\"", s)
	}
	r := LevelRule{Applies: true}
	var seen []string
	use := func(id string) error {
		if !validReinforcementID(id) {
			return fmt.Errorf("level rule %q: %q is not a reinforcement id (R1, R2…)", s, id)
		}
		if slices.Contains(seen, id) {
			return fmt.Errorf("level rule %q: %s repeated", s, id)
		}
		seen = append(seen, id)
		return nil
	}
	for _, part := range strings.Split(s[1:], "+") {
		part = strings.TrimSpace(part)
		inner, isChoice := strings.CutPrefix(part, "[")
		if !isChoice {
			if err := use(part); err != nil {
				return LevelRule{}, err
			}
			r.Reinforcements = append(r.Reinforcements, part)
			continue
		}
		inner, closed := strings.CutSuffix(inner, "]")
		if !closed {
			return LevelRule{}, fmt.Errorf("level rule %q: %q: want \"[R1 o R2…]\"", s, part)
		}
		// The BOE writes both "[R1 o R2]" and "[R1oR2]".
		alts := strings.FieldsFunc(inner, func(c rune) bool { return c == 'o' || c == ' ' || c == '\t' })
		if len(alts) < 2 {
			return LevelRule{}, fmt.Errorf("level rule %q: %q: a choice needs two or more reinforcements", s, part)
		}
		for _, id := range alts {
			if err := use(id); err != nil {
				return LevelRule{}, err
			}
		}
		r.Choices = append(r.Choices, alts)
	}
	return r, nil
}

func validReinforcementID(id string) bool {
	if len(id) < 2 || len(id) > 3 || id[0] != 'R' || id[1] == '0' {
		return false
	}
	for _, c := range id[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Reinforcement is an ENS "refuerzo" of a measure.
type Reinforcement struct {
	ID      string // R1, R2…
	Title   string // English
	TitleES string // Spanish
}

// Requirement returns the requirement with the given id.
func (c *Catalog) Requirement(id string) (*Requirement, error) {
	for i := range c.Requirements {
		if c.Requirements[i].ID == id {
			return &c.Requirements[i], nil
		}
	}
	return nil, fmt.Errorf("catalogue %s: requirement %q: %w", c.ID, id, ErrNotFound)
}

// Reinforcement returns the reinforcement of r with the given id.
func (r *Requirement) Reinforcement(id string) (Reinforcement, bool) {
	for _, rf := range r.Reinforcements {
		if rf.ID == id {
			return rf, true
		}
	}
	return Reinforcement{}, false
}

// InGroup returns the requirements whose Group is g or a descendant of g.
func (c *Catalog) InGroup(g string) []Requirement {
	var out []Requirement
	for _, r := range c.Requirements {
		if c.groupWithin(r.Group, g) {
			out = append(out, r)
		}
	}
	return out
}

func (c *Catalog) groupWithin(id, ancestor string) bool {
	for range len(c.Groups) + 1 {
		if id == ancestor {
			return true
		}
		if id == "" {
			return false
		}
		parent := ""
		for _, g := range c.Groups {
			if g.ID == id {
				parent = g.Parent
				break
			}
		}
		id = parent
	}
	return false
}

// Validate checks the catalogue's internal consistency: ids present and
// unique, groups and parents known and acyclic, titles present, and for ENS
// measures valid dimensions and reinforcements that exist.
func (c *Catalog) Validate() error {
	if strings.TrimSpace(c.ID) == "" {
		return fmt.Errorf("catalogue: id is required")
	}
	if strings.TrimSpace(c.Name) == "" {
		return fmt.Errorf("catalogue %s: name is required", c.ID)
	}
	groups := make(map[string]Group, len(c.Groups))
	for i, g := range c.Groups {
		if strings.TrimSpace(g.ID) == "" {
			return fmt.Errorf("catalogue %s: group %d: id is required", c.ID, i+1)
		}
		if _, dup := groups[g.ID]; dup {
			return fmt.Errorf("catalogue %s: group %q: duplicate id", c.ID, g.ID)
		}
		if strings.TrimSpace(g.Title) == "" {
			return fmt.Errorf("catalogue %s: group %q: title is required", c.ID, g.ID)
		}
		groups[g.ID] = g
	}
	for _, g := range c.Groups {
		seen := map[string]bool{}
		for p := g.Parent; p != ""; p = groups[p].Parent {
			if _, ok := groups[p]; !ok {
				return fmt.Errorf("catalogue %s: group %q: unknown parent group %q", c.ID, g.ID, p)
			}
			if seen[p] || p == g.ID {
				return fmt.Errorf("catalogue %s: group %q: parent cycle through %q", c.ID, g.ID, p)
			}
			seen[p] = true
		}
	}
	reqs := make(map[string]*Requirement, len(c.Requirements))
	for i := range c.Requirements {
		r := &c.Requirements[i]
		if strings.TrimSpace(r.ID) == "" {
			return fmt.Errorf("catalogue %s: requirement %d: id is required", c.ID, i+1)
		}
		if _, dup := reqs[r.ID]; dup {
			return fmt.Errorf("catalogue %s: requirement %q: duplicate id", c.ID, r.ID)
		}
		reqs[r.ID] = r
		if strings.TrimSpace(r.Title) == "" && strings.TrimSpace(r.TitleES) == "" {
			return fmt.Errorf("catalogue %s: requirement %q: title is required", c.ID, r.ID)
		}
		if r.Group != "" {
			if _, ok := groups[r.Group]; !ok {
				return fmt.Errorf("catalogue %s: requirement %q: unknown group %q", c.ID, r.ID, r.Group)
			}
		}
		if err := r.validateENS(); err != nil {
			return fmt.Errorf("catalogue %s: requirement %q: %w", c.ID, r.ID, err)
		}
	}
	for _, r := range c.Requirements {
		seen := map[string]bool{r.ID: true}
		for p := r.Parent; p != ""; p = reqs[p].Parent {
			if _, ok := reqs[p]; !ok {
				return fmt.Errorf("catalogue %s: requirement %q: unknown parent %q", c.ID, r.ID, p)
			}
			if seen[p] {
				return fmt.Errorf("catalogue %s: requirement %q: parent cycle through %q", c.ID, r.ID, p)
			}
			seen[p] = true
		}
	}
	return nil
}

func (r *Requirement) validateENS() error {
	if len(r.Dimensions) > 0 && r.ByCategory {
		return fmt.Errorf("depends both on dimensions and on the category")
	}
	for _, d := range r.Dimensions {
		if !d.Valid() {
			return fmt.Errorf("unknown dimension %q (want C, I, T, A or D)", d)
		}
	}
	seen := map[string]bool{}
	for _, rf := range r.Reinforcements {
		if !validReinforcementID(rf.ID) {
			return fmt.Errorf("reinforcement %q: id must be R1, R2…", rf.ID)
		}
		if seen[rf.ID] {
			return fmt.Errorf("reinforcement %s: duplicate", rf.ID)
		}
		seen[rf.ID] = true
		if strings.TrimSpace(rf.Title) == "" && strings.TrimSpace(rf.TitleES) == "" {
			return fmt.Errorf("reinforcement %s: description is required", rf.ID)
		}
	}
	for i, lv := range r.Levels {
		if !lv.Applies && (len(lv.Reinforcements) > 0 || len(lv.Choices) > 0) {
			return fmt.Errorf("level %d: reinforcements on a measure that does not apply", i+1)
		}
		ids := slices.Clone(lv.Reinforcements)
		for _, c := range lv.Choices {
			ids = append(ids, c...)
		}
		for _, id := range ids {
			if !seen[id] {
				return fmt.Errorf("level %s: unknown reinforcement %s", LevelNames[i], id)
			}
		}
	}
	return nil
}

// IsENSMeasure reports whether r carries an Anexo II applicability rule.
func (r *Requirement) IsENSMeasure() bool {
	return r.ByCategory || len(r.Dimensions) > 0
}

// LevelNames names the three columns of the Anexo II table.
var LevelNames = [3]string{"BAJO/BÁSICA", "MEDIO/MEDIA", "ALTO/ALTA"}
