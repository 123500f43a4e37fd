package catalog

import (
	"fmt"
	"slices"
	"strings"
)

// Relationship says how the source requirement of a mapping relates to the
// target, in set terms (the OSCAL / NIST IR 8477 vocabulary).
type Relationship string

// The relationships a mapping may state.
const (
	Equal     Relationship = "equal"     // source and target ask for the same thing
	Subset    Relationship = "subset"    // the source asks for part of the target
	Superset  Relationship = "superset"  // the source asks for all of the target and more
	Intersect Relationship = "intersect" // they overlap in part
)

// Valid reports whether r is a known relationship.
func (r Relationship) Valid() bool {
	switch r {
	case Equal, Subset, Superset, Intersect:
		return true
	}
	return false
}

// Inverse returns the relationship seen from the target's side.
func (r Relationship) Inverse() Relationship {
	switch r {
	case Subset:
		return Superset
	case Superset:
		return Subset
	}
	return r
}

// Ref names one requirement of one catalogue, written "catalogue:id".
type Ref struct {
	Catalog     string
	Requirement string
}

func (r Ref) String() string { return r.Catalog + ":" + r.Requirement }

// ParseRef parses "catalogue:id".
func ParseRef(s string) (Ref, error) {
	cat, id, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || cat == "" || id == "" {
		return Ref{}, fmt.Errorf("reference %q: want catalogue:requirement", s)
	}
	return Ref{Catalog: cat, Requirement: id}, nil
}

// Mapping is one rule relating a requirement of one framework to one of
// another.
type Mapping struct {
	From         Ref
	To           Ref
	Relationship Relationship
	Note         string
}

type rawMappings struct {
	Mappings []rawMapping `yaml:"mappings"`
}

type rawMapping struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
	Rel  string `yaml:"rel"`
	Note string `yaml:"note"`
}

// ParseMappings parses a mappings file (see data/mappings.yaml). It checks
// the form of each rule; ValidateMappings checks the requirements exist.
func ParseMappings(name string, b []byte) ([]Mapping, error) {
	var raw rawMappings
	if err := decodeStrict(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var out []Mapping
	for i, rm := range raw.Mappings {
		where := fmt.Sprintf("%s: mapping %d (%s → %s)", name, i+1, rm.From, rm.To)
		from, err := ParseRef(rm.From)
		if err != nil {
			return nil, fmt.Errorf("%s: from: %w", where, err)
		}
		to, err := ParseRef(rm.To)
		if err != nil {
			return nil, fmt.Errorf("%s: to: %w", where, err)
		}
		rel := Relationship(rm.Rel)
		if !rel.Valid() {
			return nil, fmt.Errorf("%s: relationship %q: want equal, subset, superset or intersect", where, rm.Rel)
		}
		if from.Catalog == to.Catalog {
			return nil, fmt.Errorf("%s: maps a catalogue onto itself", where)
		}
		out = append(out, Mapping{From: from, To: to, Relationship: rel, Note: rm.Note})
	}
	return out, nil
}

// ValidateMappings checks that every mapping names requirements that exist
// in the library's catalogues and that no pair is mapped twice.
func (l *Library) ValidateMappings(ms []Mapping) error {
	seen := map[[2]Ref]bool{}
	for i, m := range ms {
		for _, ref := range []Ref{m.From, m.To} {
			c, err := l.Catalog(ref.Catalog)
			if err != nil {
				return fmt.Errorf("mapping %d (%s → %s): unknown catalogue %q", i+1, m.From, m.To, ref.Catalog)
			}
			if _, err := c.Requirement(ref.Requirement); err != nil {
				return fmt.Errorf("mapping %d (%s → %s): unknown requirement %s", i+1, m.From, m.To, ref)
			}
		}
		if !m.Relationship.Valid() {
			return fmt.Errorf("mapping %d (%s → %s): unknown relationship %q", i+1, m.From, m.To, m.Relationship)
		}
		key, rev := [2]Ref{m.From, m.To}, [2]Ref{m.To, m.From}
		if seen[key] || seen[rev] {
			return fmt.Errorf("mapping %d (%s → %s): pair mapped twice", i+1, m.From, m.To)
		}
		seen[key] = true
	}
	return nil
}

// Status is the implementation status of a requirement.
type Status string

// The statuses a requirement may have.
const (
	NotImplemented Status = "not_implemented"
	Partial        Status = "partial"
	Implemented    Status = "implemented"
	NotApplicable  Status = "not_applicable"
)

// DraftStatus is a status for a target requirement proposed from the status
// of mapped source requirements. It is a draft: an officer confirms it.
type DraftStatus struct {
	Requirement string
	Status      Status
	Via         []Mapping // the rules that produced it, oriented source → target
	Note        string    // e.g. "draft: implemented via equal mapping from iso27001-2022:A.8.13"
}

// Draft proposes statuses for the requirements of catalogue to from the
// known statuses of catalogue from's requirements, following the library's
// mappings in either direction:
//
//   - implemented through equal, or through superset (the source covers all
//     of the target), drafts implemented;
//   - implemented through subset or intersect drafts partial, as does a
//     partial source through any relationship;
//   - not implemented through equal drafts not implemented;
//   - anything else proposes nothing.
//
// When several rules reach one target the strongest draft wins
// (implemented > partial > not implemented). The result is sorted by the
// target catalogue's order.
func (l *Library) Draft(from string, statuses map[string]Status, to string) ([]DraftStatus, error) {
	src, err := l.Catalog(from)
	if err != nil {
		return nil, err
	}
	dst, err := l.Catalog(to)
	if err != nil {
		return nil, err
	}
	for id := range statuses {
		if _, err := src.Requirement(id); err != nil {
			return nil, err
		}
	}
	best := map[string]*DraftStatus{}
	for _, m := range l.Mappings {
		switch {
		case m.From.Catalog == from && m.To.Catalog == to:
		case m.To.Catalog == from && m.From.Catalog == to:
			m = Mapping{From: m.To, To: m.From, Relationship: m.Relationship.Inverse(), Note: m.Note}
		default:
			continue
		}
		st, ok := statuses[m.From.Requirement]
		if !ok {
			continue
		}
		var d Status
		switch {
		case st == Implemented && (m.Relationship == Equal || m.Relationship == Superset):
			d = Implemented
		case st == Implemented || st == Partial:
			d = Partial
		case st == NotImplemented && m.Relationship == Equal:
			d = NotImplemented
		default:
			continue
		}
		cur := best[m.To.Requirement]
		switch {
		case cur == nil || rank(d) > rank(cur.Status):
			best[m.To.Requirement] = &DraftStatus{
				Requirement: m.To.Requirement,
				Status:      d,
				Via:         []Mapping{m},
				Note:        fmt.Sprintf("draft: %s via %s mapping from %s", strings.ReplaceAll(string(d), "_", " "), m.Relationship, m.From),
			}
		case rank(d) == rank(cur.Status):
			cur.Via = append(cur.Via, m)
		}
	}
	var out []DraftStatus
	for _, r := range dst.Requirements {
		if d, ok := best[r.ID]; ok {
			out = append(out, *d)
		}
	}
	return out, nil
}

func rank(s Status) int {
	return slices.Index([]Status{NotImplemented, Partial, Implemented}, s)
}
