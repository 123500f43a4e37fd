// Package ens categorises an information system under Spain's Esquema
// Nacional de Seguridad (RD 311/2022), derives the measures and
// reinforcements Anexo II requires of it, and builds its Declaración de
// Aplicabilidad and conformity path.
package ens

import (
	"fmt"
	"strings"

	"github.com/custodia/custodia/internal/isms/catalog"
)

// Level is the security level of one dimension (Anexo I).
type Level int

// The levels of a dimension. NotApplicable means the dimension is not
// relevant to the system ("n.a.").
const (
	NotApplicable Level = iota
	Bajo
	Medio
	Alto
)

func (l Level) String() string {
	switch l {
	case NotApplicable:
		return "n.a."
	case Bajo:
		return "BAJO"
	case Medio:
		return "MEDIO"
	case Alto:
		return "ALTO"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// ParseLevel parses "BAJO", "MEDIO", "ALTO" or "n.a." (case-insensitive;
// "" and "na" also mean not applicable).
func ParseLevel(s string) (Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", "N.A.", "NA", "N/A":
		return NotApplicable, nil
	case "BAJO", "LOW":
		return Bajo, nil
	case "MEDIO", "MEDIUM":
		return Medio, nil
	case "ALTO", "HIGH":
		return Alto, nil
	}
	return NotApplicable, fmt.Errorf("level %q: want BAJO, MEDIO, ALTO or n.a.", s)
}

// Category is the category of a system (Anexo I): BÁSICA, MEDIA or ALTA.
type Category int

// The three categories.
const (
	Basica Category = iota + 1
	Media
	Alta
)

func (c Category) String() string {
	switch c {
	case Basica:
		return "BÁSICA"
	case Media:
		return "MEDIA"
	case Alta:
		return "ALTA"
	}
	return fmt.Sprintf("Category(%d)", int(c))
}

// MarshalText writes the level as BAJO, MEDIO, ALTO or n.a.
func (l Level) MarshalText() ([]byte, error) {
	if l < NotApplicable || l > Alto {
		return nil, fmt.Errorf("invalid level %d", int(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText reads a level as ParseLevel does.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// MarshalText writes the category as BÁSICA, MEDIA or ALTA.
func (c Category) MarshalText() ([]byte, error) {
	if c < Basica || c > Alta {
		return nil, fmt.Errorf("invalid category %d", int(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText reads BÁSICA (or BASICA), MEDIA or ALTA.
func (c *Category) UnmarshalText(b []byte) error {
	switch strings.ToUpper(strings.TrimSpace(string(b))) {
	case "BÁSICA", "BASICA":
		*c = Basica
	case "MEDIA":
		*c = Media
	case "ALTA":
		*c = Alta
	default:
		return fmt.Errorf("category %q: want BÁSICA, MEDIA or ALTA", b)
	}
	return nil
}

// Valuation is a system's level in each of the five dimensions. In JSON
// each level is "BAJO", "MEDIO", "ALTO" or "n.a.".
type Valuation struct {
	C Level `json:"C"`
	I Level `json:"I"`
	T Level `json:"T"`
	A Level `json:"A"`
	D Level `json:"D"`
}

// Level returns the valuation's level in dimension d.
func (v Valuation) Level(d catalog.Dimension) Level {
	switch d {
	case catalog.Confidentiality:
		return v.C
	case catalog.Integrity:
		return v.I
	case catalog.Traceability:
		return v.T
	case catalog.Authenticity:
		return v.A
	case catalog.Availability:
		return v.D
	}
	return NotApplicable
}

// Validate reports an error if a level is out of range.
func (v Valuation) Validate() error {
	for _, d := range catalog.Dimensions {
		if l := v.Level(d); l < NotApplicable || l > Alto {
			return fmt.Errorf("dimension %s: invalid level %d", d, int(l))
		}
	}
	return nil
}

// Category applies Anexo I: ALTA if any dimension is ALTO, otherwise MEDIA
// if any is MEDIO, otherwise BÁSICA.
func (v Valuation) Category() Category {
	highest := NotApplicable
	for _, d := range catalog.Dimensions {
		highest = max(highest, v.Level(d))
	}
	switch highest {
	case Alto:
		return Alta
	case Medio:
		return Media
	}
	return Basica
}

func (v Valuation) String() string {
	var b strings.Builder
	for i, d := range catalog.Dimensions {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%s", d, v.Level(d))
	}
	return b.String()
}

// Applicability is what Anexo II requires of one measure for one system.
type Applicability struct {
	Measure        string
	Applies        bool
	Reinforcements []string // required reinforcements, R1…
	// Choices are groups of reinforcements of which the system must apply
	// one each, e.g. [[R1 R2 R3 R4]] for op.acc.6's "+ [R1 o R2 o R3 o R4]".
	Choices [][]string
	// Basis says which cell of the table was used, e.g. "categoría MEDIA"
	// or "nivel ALTO (max of I, C, T, A)".
	Basis string
}

// Apply reports what Anexo II requires of measure m for a system valued v:
// a category-bound measure is read in the column of the system's category;
// a dimension-bound one in the column of the highest level the system has
// in the measure's dimensions, and does not apply when all of them are n.a.
func Apply(m *catalog.Requirement, v Valuation) (Applicability, error) {
	a := Applicability{Measure: m.ID}
	if !m.IsENSMeasure() {
		return a, fmt.Errorf("measure %s: no Anexo II applicability rule", m.ID)
	}
	if err := v.Validate(); err != nil {
		return a, err
	}
	var col int
	if m.ByCategory {
		cat := v.Category()
		col = int(cat) - 1
		a.Basis = "categoría " + cat.String()
	} else {
		highest := NotApplicable
		var names []string
		for _, d := range m.Dimensions {
			highest = max(highest, v.Level(d))
			names = append(names, string(d))
		}
		if highest == NotApplicable {
			a.Basis = "dimensiones " + strings.Join(names, ", ") + " n.a."
			return a, nil
		}
		col = int(highest) - 1
		a.Basis = "nivel " + highest.String() + " (máximo de " + strings.Join(names, ", ") + ")"
	}
	rule := m.Levels[col]
	a.Applies = rule.Applies
	a.Reinforcements = append([]string(nil), rule.Reinforcements...)
	for _, c := range rule.Choices {
		a.Choices = append(a.Choices, append([]string(nil), c...))
	}
	return a, nil
}

// Applicable applies Apply to every measure of the ENS catalogue.
func Applicable(c *catalog.Catalog, v Valuation) ([]Applicability, error) {
	var out []Applicability
	for i := range c.Requirements {
		m := &c.Requirements[i]
		if !m.IsENSMeasure() {
			continue
		}
		a, err := Apply(m, v)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("catalogue %s has no ENS measures", c.ID)
	}
	return out, nil
}

// SystemValuation applies Anexo I's rule for a system from the information
// and services it handles: in each dimension the system takes the highest
// level any of them requires.
func SystemValuation(items ...Valuation) (Valuation, error) {
	var v Valuation
	for i, it := range items {
		if err := it.Validate(); err != nil {
			return Valuation{}, fmt.Errorf("item %d: %w", i+1, err)
		}
		v.C, v.I, v.T, v.A, v.D = max(v.C, it.C), max(v.I, it.I), max(v.T, it.T), max(v.A, it.A), max(v.D, it.D)
	}
	return v, nil
}
