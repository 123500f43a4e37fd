// Package magerit implements the risk arithmetic of MAGERIT v3 (Spain's
// risk analysis method): assets valued per dimension, dependencies with value
// accumulation, threats with degradation and frequency, potential and
// residual impact and risk on MAGERIT's qualitative scales, treatment
// options and a heat map. The tables used are documented in docs/isms.md.
package magerit

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/custodia/custodia/internal/isms/catalog"
)

// Dimension is a MAGERIT valuation dimension: the same five as the ENS.
type Dimension = catalog.Dimension

// AssetType is one of MAGERIT v3's asset classes (book II, chapter 2).
type AssetType string

// MAGERIT asset classes.
const (
	Essential      AssetType = "D"     // [D] datos / información
	Keys           AssetType = "K"     // [K] claves criptográficas
	Services       AssetType = "S"     // [S] servicios
	Software       AssetType = "SW"    // [SW] software / aplicaciones
	Hardware       AssetType = "HW"    // [HW] equipos informáticos
	Communications AssetType = "COM"   // [COM] redes de comunicaciones
	Media          AssetType = "Media" // [Media] soportes de información
	Auxiliary      AssetType = "AUX"   // [AUX] equipamiento auxiliar
	Facilities     AssetType = "L"     // [L] instalaciones
	Personnel      AssetType = "P"     // [P] personal
)

// AssetTypes lists the classes in MAGERIT's order.
var AssetTypes = []AssetType{Essential, Keys, Services, Software, Hardware, Communications, Media, Auxiliary, Facilities, Personnel}

// Valid reports whether t is a MAGERIT asset class.
func (t AssetType) Valid() bool { return slices.Contains(AssetTypes, t) }

// Values holds an asset's value per dimension on MAGERIT's 0–10 scale
// (0 negligible … 10 extreme). A missing dimension is worth 0.
type Values map[Dimension]int

// Validate checks every value is a known dimension within 0–10.
func (v Values) Validate() error {
	for d, x := range v {
		if !d.Valid() {
			return fmt.Errorf("unknown dimension %q", d)
		}
		if x < 0 || x > 10 {
			return fmt.Errorf("dimension %s: value %d outside 0–10", d, x)
		}
	}
	return nil
}

// Asset is one element of the system.
type Asset struct {
	ID    string
	Name  string
	Type  AssetType
	Value Values // own value; usually only essential assets ([D], [S]) have one
}

// Dependency says Upper depends on Lower: a failure of Lower harms Upper,
// so Lower accumulates Upper's value.
type Dependency struct {
	Upper string
	Lower string
}

// Family is a MAGERIT threat family (book II, chapter 5).
type Family string

// Threat families.
const (
	Natural    Family = "N" // [N] desastres naturales
	Industrial Family = "I" // [I] de origen industrial
	Errors     Family = "E" // [E] errores y fallos no intencionados
	Attacks    Family = "A" // [A] ataques intencionados
)

// Threat is a threat from MAGERIT's catalogue as it affects one asset.
type Threat struct {
	ID          string
	Code        string // MAGERIT code, e.g. "A.30"
	Name        string
	Asset       string                // the asset it materialises on
	Degradation map[Dimension]float64 // 0–1 (0–100 %) of the asset's value lost per dimension
	Frequency   float64               // expected occurrences per year
}

// Family returns the family from the code ("A.30" → Attacks).
func (t Threat) Family() Family {
	f, _, _ := strings.Cut(t.Code, ".")
	return Family(f)
}

// Safeguard reduces the degradation and/or frequency of threats.
type Safeguard struct {
	ID      string
	Name    string
	Threats []string // the threat ids it acts on
	// Effectiveness against degradation and against frequency, 0–1: a
	// safeguard of 0.8 leaves 20 % of the degradation (or frequency).
	Degradation float64
	Frequency   float64
}

// Model is a risk analysis: assets, dependencies, threats and safeguards.
type Model struct {
	Assets       []Asset
	Dependencies []Dependency
	Threats      []Threat
	Safeguards   []Safeguard
}

// Asset returns the asset with the given id.
func (m *Model) Asset(id string) (*Asset, error) {
	for i := range m.Assets {
		if m.Assets[i].ID == id {
			return &m.Assets[i], nil
		}
	}
	return nil, fmt.Errorf("asset %q: %w", id, catalog.ErrNotFound)
}

// Validate checks ids, types, values, references and that the dependency
// graph has no cycle (the error names the cycle).
func (m *Model) Validate() error {
	ids := map[string]bool{}
	for _, a := range m.Assets {
		if strings.TrimSpace(a.ID) == "" {
			return fmt.Errorf("asset %q: id is required", a.Name)
		}
		if ids[a.ID] {
			return fmt.Errorf("asset %q: duplicate id", a.ID)
		}
		ids[a.ID] = true
		if !a.Type.Valid() {
			return fmt.Errorf("asset %q: type %q is not a MAGERIT class (D, K, S, SW, HW, COM, Media, AUX, L, P)", a.ID, a.Type)
		}
		if err := a.Value.Validate(); err != nil {
			return fmt.Errorf("asset %q: %w", a.ID, err)
		}
	}
	for _, d := range m.Dependencies {
		for _, id := range []string{d.Upper, d.Lower} {
			if !ids[id] {
				return fmt.Errorf("dependency %s → %s: unknown asset %q", d.Upper, d.Lower, id)
			}
		}
		if d.Upper == d.Lower {
			return fmt.Errorf("dependency %s → %s: an asset cannot depend on itself", d.Upper, d.Lower)
		}
	}
	if cyc := m.cycle(); cyc != nil {
		return fmt.Errorf("dependency cycle: %s", strings.Join(cyc, " → "))
	}
	threats := map[string]bool{}
	for _, t := range m.Threats {
		if t.ID == "" || threats[t.ID] {
			return fmt.Errorf("threat %q: missing or duplicate id", t.ID)
		}
		threats[t.ID] = true
		if !ids[t.Asset] {
			return fmt.Errorf("threat %q: unknown asset %q", t.ID, t.Asset)
		}
		switch t.Family() {
		case Natural, Industrial, Errors, Attacks:
		default:
			return fmt.Errorf("threat %q: code %q is not in a MAGERIT family (N., I., E., A.)", t.ID, t.Code)
		}
		if !(t.Frequency >= 0) || math.IsInf(t.Frequency, 0) {
			return fmt.Errorf("threat %q: frequency %v must be a finite number ≥ 0", t.ID, t.Frequency)
		}
		for d, x := range t.Degradation {
			if !d.Valid() {
				return fmt.Errorf("threat %q: unknown dimension %q", t.ID, d)
			}
			if !(x >= 0 && x <= 1) {
				return fmt.Errorf("threat %q: degradation of %s is %v, want 0–1 (0–100 %%)", t.ID, d, x)
			}
		}
	}
	for _, s := range m.Safeguards {
		if !(s.Degradation >= 0 && s.Degradation <= 1) || !(s.Frequency >= 0 && s.Frequency <= 1) {
			return fmt.Errorf("safeguard %q: effectiveness must be within 0–1", s.ID)
		}
		for _, t := range s.Threats {
			if !threats[t] {
				return fmt.Errorf("safeguard %q: unknown threat %q", s.ID, t)
			}
		}
	}
	return nil
}

// cycle returns one dependency cycle as a path of asset ids, or nil.
func (m *Model) cycle() []string {
	lower := map[string][]string{}
	for _, d := range m.Dependencies {
		lower[d.Upper] = append(lower[d.Upper], d.Lower)
	}
	const (
		white = iota
		grey
		black
	)
	colour := map[string]int{}
	var stack []string
	var found []string
	var visit func(string) bool
	visit = func(id string) bool {
		colour[id] = grey
		stack = append(stack, id)
		for _, next := range lower[id] {
			switch colour[next] {
			case grey:
				i := slices.Index(stack, next)
				found = append(slices.Clone(stack[i:]), next)
				return true
			case white:
				if visit(next) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		colour[id] = black
		return false
	}
	for _, a := range m.Assets {
		if colour[a.ID] == white && visit(a.ID) {
			return found
		}
	}
	return nil
}

// Accumulated returns each asset's accumulated value: per dimension, the
// maximum of its own value and the values of every asset that depends on
// it, directly or through other assets.
func (m *Model) Accumulated() (map[string]Values, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	upper := map[string][]string{}
	for _, d := range m.Dependencies {
		upper[d.Lower] = append(upper[d.Lower], d.Upper)
	}
	own := map[string]Values{}
	for _, a := range m.Assets {
		own[a.ID] = a.Value
	}
	memo := map[string]Values{}
	var acc func(string) Values
	acc = func(id string) Values {
		if v, ok := memo[id]; ok {
			return v
		}
		v := Values{}
		for d, x := range own[id] {
			v[d] = x
		}
		for _, u := range upper[id] {
			for d, x := range acc(u) {
				v[d] = max(v[d], x)
			}
		}
		memo[id] = v
		return v
	}
	out := map[string]Values{}
	for _, a := range m.Assets {
		out[a.ID] = acc(a.ID)
	}
	return out, nil
}

// ValueLabel names a value of MAGERIT's 0–10 scale (book II, chapter 4):
// 10 extremo, 9 muy alto, 6–8 alto, 3–5 medio, 1–2 bajo, 0 despreciable.
func ValueLabel(v int) (string, error) {
	switch {
	case v < 0 || v > 10:
		return "", fmt.Errorf("value %d outside 0–10", v)
	case v == 10:
		return "extremo", nil
	case v == 9:
		return "muy alto", nil
	case v >= 6:
		return "alto", nil
	case v >= 3:
		return "medio", nil
	case v >= 1:
		return "bajo", nil
	}
	return "despreciable", nil
}
