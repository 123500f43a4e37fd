package ens

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/isms/catalog"
)

// SoA is a Declaración de Aplicabilidad: for each ENS measure whether it
// applies to the system, the reinforcements required and why, plus the
// compensatory and complementary measures the security officer added.
type SoA struct {
	System    string         `json:"system"`
	Valuation Valuation      `json:"valuation"`
	Category  Category       `json:"category"`
	Entries   []SoAEntry     `json:"entries"`
	Extra     []ExtraMeasure `json:"extra,omitempty"`
}

// SoAEntry is one line of the declaration.
type SoAEntry struct {
	Measure        string   `json:"measure"`
	Title          string   `json:"title"` // Spanish title
	Applies        bool     `json:"applies"`
	Reinforcements []string `json:"reinforcements,omitempty"`
	// Choices are groups of reinforcements of which one each is required
	// ("+ [R1 o R2]" in Anexo II).
	Choices       [][]string `json:"choices,omitempty"`
	Justification string     `json:"justification"`
	// Overridden is true when an officer changed the table's verdict; the
	// justification then holds the officer's reasons.
	Overridden bool `json:"overridden,omitempty"`
}

// ReinforcementCell lists the entry's reinforcements the way Anexo II
// writes them, the choices first in brackets: "[R1 o R2 o R3 o R4] R5 R8"
// ("" when none).
func (e SoAEntry) ReinforcementCell() string {
	parts := make([]string, 0, len(e.Choices)+len(e.Reinforcements))
	for _, c := range e.Choices {
		parts = append(parts, "["+strings.Join(c, " o ")+"]")
	}
	parts = append(parts, e.Reinforcements...)
	return strings.Join(parts, " ")
}

// ExtraKind says whether an officer-added measure replaces or adds to the
// Anexo II measures.
type ExtraKind string

// Kinds of officer-added measures (art. 28 RD 311/2022).
const (
	Compensatory  ExtraKind = "compensatoria"  // replaces a measure that cannot be applied
	Complementary ExtraKind = "complementaria" // adds protection beyond Anexo II
)

// ExtraMeasure is a compensatory or complementary measure.
type ExtraMeasure struct {
	Kind          ExtraKind `json:"kind"`
	Title         string    `json:"title"`
	Measures      []string  `json:"measures,omitempty"` // the Anexo II measures it compensates or complements
	Justification string    `json:"justification"`
}

// NewSoA builds the declaration for a system valued v from the ENS
// catalogue, with a generated justification for each measure.
func NewSoA(c *catalog.Catalog, system string, v Valuation) (*SoA, error) {
	if strings.TrimSpace(system) == "" {
		return nil, errors.New("declaración de aplicabilidad: system name is required")
	}
	apps, err := Applicable(c, v)
	if err != nil {
		return nil, err
	}
	s := &SoA{System: system, Valuation: v, Category: v.Category()}
	for _, a := range apps {
		m, err := c.Requirement(a.Measure)
		if err != nil {
			return nil, err
		}
		e := SoAEntry{Measure: a.Measure, Title: m.TitleES, Applies: a.Applies, Reinforcements: a.Reinforcements, Choices: a.Choices}
		switch {
		case !a.Applies:
			e.Justification = "No aplica según el Anexo II (" + a.Basis + ")."
		case len(a.Reinforcements) == 0 && len(a.Choices) == 0:
			e.Justification = "Aplica según el Anexo II (" + a.Basis + ")."
		default:
			var parts []string
			if len(a.Reinforcements) > 0 {
				parts = append(parts, strings.Join(a.Reinforcements, ", "))
			}
			for _, c := range a.Choices {
				parts = append(parts, "uno de "+strings.Join(c, ", "))
			}
			e.Justification = "Aplica con refuerzos " + strings.Join(parts, " y ") + " según el Anexo II (" + a.Basis + ")."
		}
		s.Entries = append(s.Entries, e)
	}
	return s, nil
}

// Entry returns the line for a measure.
func (s *SoA) Entry(measure string) (*SoAEntry, error) {
	for i := range s.Entries {
		if s.Entries[i].Measure == measure {
			return &s.Entries[i], nil
		}
	}
	return nil, fmt.Errorf("declaración de aplicabilidad: measure %q: %w", measure, catalog.ErrNotFound)
}

// Override records an officer's decision that differs from the table (for
// instance a measure excluded because the component does not exist in the
// system). The justification is required.
func (s *SoA) Override(measure string, applies bool, justification string) error {
	if strings.TrimSpace(justification) == "" {
		return fmt.Errorf("override %s: justification is required", measure)
	}
	e, err := s.Entry(measure)
	if err != nil {
		return err
	}
	e.Applies = applies
	if !applies {
		e.Reinforcements, e.Choices = nil, nil
	}
	e.Justification = justification
	e.Overridden = true
	return nil
}

// AddExtra adds a compensatory or complementary measure. A compensatory
// measure must name the applicable measures it replaces; both kinds need a
// title and a justification. Nothing is changed on error.
func (s *SoA) AddExtra(x ExtraMeasure) error {
	if x.Kind != Compensatory && x.Kind != Complementary {
		return fmt.Errorf("extra measure %q: kind %q: want %s or %s", x.Title, x.Kind, Compensatory, Complementary)
	}
	if strings.TrimSpace(x.Title) == "" {
		return fmt.Errorf("extra %s measure: title is required", x.Kind)
	}
	if strings.TrimSpace(x.Justification) == "" {
		return fmt.Errorf("extra measure %q: justification is required", x.Title)
	}
	if x.Kind == Compensatory && len(x.Measures) == 0 {
		return fmt.Errorf("compensatory measure %q: name the measures it replaces", x.Title)
	}
	for _, id := range x.Measures {
		e, err := s.Entry(id)
		if err != nil {
			return fmt.Errorf("extra measure %q: %w", x.Title, err)
		}
		if x.Kind == Compensatory && !e.Applies {
			return fmt.Errorf("compensatory measure %q: %s does not apply, nothing to compensate", x.Title, id)
		}
	}
	x.Measures = slices.Clone(x.Measures)
	s.Extra = append(s.Extra, x)
	return nil
}

// ConformityPath is how a system shows conformity with the ENS (art. 31 and
// Anexo III): BÁSICA by self-assessment, MEDIA and ALTA by a certification
// audit; either way at least every two years.
type ConformityPath string

// The two paths.
const (
	SelfAssessment     ConformityPath = "autoevaluación"
	CertificationAudit ConformityPath = "auditoría de certificación"
)

// Conformity is the path for a system and when its next ordinary audit is
// due.
type Conformity struct {
	Category  Category
	Path      ConformityPath
	LastAudit time.Time // zero if never audited
	NextDue   time.Time // zero if never audited: due before going live
}

// AuditInterval is the period of ordinary ENS audits (art. 31.1).
const AuditInterval = "2 years"

// NewConformity returns the conformity path of a system of category c last
// audited (or self-assessed) at last.
func NewConformity(c Category, last time.Time) (Conformity, error) {
	if c < Basica || c > Alta {
		return Conformity{}, fmt.Errorf("conformity: invalid category %d", int(c))
	}
	k := Conformity{Category: c, Path: CertificationAudit, LastAudit: last}
	if c == Basica {
		k.Path = SelfAssessment
	}
	if !last.IsZero() {
		k.NextDue = last.AddDate(2, 0, 0)
	}
	return k, nil
}

// Overdue reports whether the next ordinary audit is due at now; a system
// never audited is always due.
func (k Conformity) Overdue(now time.Time) bool {
	return k.NextDue.IsZero() || !now.Before(k.NextDue)
}

// Counts summarises the declaration: measures that apply, that do not, the
// reinforcements required in total (a choice among several counts as one),
// and officer overrides.
func (s *SoA) Counts() (applies, notApplicable, reinforcements, overridden int) {
	for _, e := range s.Entries {
		if e.Applies {
			applies++
			reinforcements += len(e.Reinforcements) + len(e.Choices)
		} else {
			notApplicable++
		}
		if e.Overridden {
			overridden++
		}
	}
	return applies, notApplicable, reinforcements, overridden
}
