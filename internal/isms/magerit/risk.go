package magerit

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Level is a point of MAGERIT's five-step qualitative scales.
type Level int

// The qualitative levels, from very low to very high.
const (
	MB Level = iota + 1 // muy bajo
	B                   // bajo
	M                   // medio
	A                   // alto
	MA                  // muy alto
)

func (l Level) String() string {
	switch l {
	case MB:
		return "MB"
	case B:
		return "B"
	case M:
		return "M"
	case A:
		return "A"
	case MA:
		return "MA"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// MarshalText writes the level as MB, B, M, A or MA.
func (l Level) MarshalText() ([]byte, error) {
	if l < MB || l > MA {
		return nil, fmt.Errorf("invalid level %d", int(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText reads MB, B, M, A or MA.
func (l *Level) UnmarshalText(b []byte) error {
	for v := MB; v <= MA; v++ {
		if strings.EqualFold(string(b), v.String()) {
			*l = v
			return nil
		}
	}
	return fmt.Errorf("level %q: want MB, B, M, A or MA", b)
}

// ImpactLevel places an impact on the 0–10 value scale on the qualitative
// scale: MA ≥ 9, A ≥ 6, M ≥ 3, B ≥ 1, MB below 1.
func ImpactLevel(impact float64) Level {
	switch {
	case impact >= 9:
		return MA
	case impact >= 6:
		return A
	case impact >= 3:
		return M
	case impact >= 1:
		return B
	}
	return MB
}

// FrequencyLevel places a yearly frequency on MAGERIT's scale (book I,
// table 4): MA ≈ 100 (daily), A ≈ 10 (monthly), M ≈ 1 (yearly), B ≈ 0.1
// (every few years), MB ≈ 0.01 (very rarely). A frequency is given the
// level whose nominal value it reaches.
func FrequencyLevel(perYear float64) Level {
	switch {
	case perYear >= 100:
		return MA
	case perYear >= 10:
		return A
	case perYear >= 1:
		return M
	case perYear >= 0.1:
		return B
	}
	return MB
}

// riskTable[impact-1][frequency-1] is the qualitative risk (the table in
// docs/isms.md): risk grows with impact and frequency, impact weighing
// slightly more at the extremes.
var riskTable = [5][5]Level{
	//        MB  B   M   A   MA  ← frequency
	/* MB */ {MB, MB, MB, B, B},
	/* B  */ {MB, B, B, M, M},
	/* M  */ {B, B, M, A, A},
	/* A  */ {B, M, A, MA, MA},
	/* MA */ {M, A, MA, MA, MA},
}

// RiskLevel combines an impact level and a frequency level.
func RiskLevel(impact, frequency Level) Level {
	if impact < MB || impact > MA || frequency < MB || frequency > MA {
		return 0
	}
	return riskTable[impact-1][frequency-1]
}

// Risk is the risk one threat poses in one dimension of its asset.
type Risk struct {
	Threat    string    `json:"threat"`
	Asset     string    `json:"asset"`
	Dimension Dimension `json:"dimension"`
	Value     int       `json:"value"`       // accumulated value of the asset in the dimension
	Degrad    float64   `json:"degradation"` // degradation, 0–1
	Frequency float64   `json:"frequency"`   // per year
	Impact    float64   `json:"impact"`      // Value × Degrad, 0–10
	ImpactL   Level     `json:"impact_level"`
	FreqL     Level     `json:"frequency_level"`
	Level     Level     `json:"level"`
}

// Analysis is the potential risk (no safeguards) and the residual risk
// (with the model's safeguards) of every threat and dimension.
type Analysis struct {
	Potential []Risk
	Residual  []Risk
}

// Analyse computes potential and residual risk. A threat affects a
// dimension when its degradation there is above 0; the asset's accumulated
// value is used. Safeguards multiply degradation by (1 − effectiveness) and
// frequency likewise; several safeguards on one threat compound.
func (m *Model) Analyse() (*Analysis, error) {
	acc, err := m.Accumulated()
	if err != nil {
		return nil, err
	}
	out := &Analysis{}
	for _, t := range m.Threats {
		degFactor, freqFactor := 1.0, 1.0
		for _, s := range m.Safeguards {
			if slices.Contains(s.Threats, t.ID) {
				degFactor *= 1 - s.Degradation
				freqFactor *= 1 - s.Frequency
			}
		}
		dims := make([]Dimension, 0, len(t.Degradation))
		for d := range t.Degradation {
			dims = append(dims, d)
		}
		slices.SortFunc(dims, func(a, b Dimension) int {
			return strings.Index("CITAD", string(a)) - strings.Index("CITAD", string(b))
		})
		for _, d := range dims {
			deg := t.Degradation[d]
			if deg <= 0 {
				continue
			}
			v := acc[t.Asset][d]
			out.Potential = append(out.Potential, newRisk(t, d, v, deg, t.Frequency))
			out.Residual = append(out.Residual, newRisk(t, d, v, deg*degFactor, t.Frequency*freqFactor))
		}
	}
	return out, nil
}

func newRisk(t Threat, d Dimension, value int, deg, freq float64) Risk {
	// Round away binary floating-point noise (1 × (1 − 0.9) is not 0.1 in
	// float64) so values on a scale boundary land on the intended level.
	deg, freq = round6(deg), round6(freq)
	r := Risk{Threat: t.ID, Asset: t.Asset, Dimension: d, Value: value, Degrad: deg, Frequency: freq}
	r.Impact = round6(float64(value) * deg)
	r.ImpactL = ImpactLevel(r.Impact)
	r.FreqL = FrequencyLevel(freq)
	r.Level = RiskLevel(r.ImpactL, r.FreqL)
	return r
}

// Option is a risk treatment option (ISO/IEC 27005 and MAGERIT book I).
type Option string

// Treatment options.
const (
	Mitigate Option = "mitigate" // add or improve safeguards
	Accept   Option = "accept"   // retain the risk knowingly
	Avoid    Option = "avoid"    // stop the activity or remove the asset
	Transfer Option = "transfer" // share it (insurance, contract)
)

// Treatment is the decision taken on a risk.
type Treatment struct {
	Threat        string
	Option        Option
	Owner         string
	Justification string
	Safeguards    []string // for Mitigate: the safeguards that implement it
}

// Validate checks the decision is complete: an owner, a justification,
// and safeguards of the model when mitigating.
func (t Treatment) Validate(m *Model) error {
	switch t.Option {
	case Mitigate, Accept, Avoid, Transfer:
	default:
		return fmt.Errorf("treatment of %q: option %q: want mitigate, accept, avoid or transfer", t.Threat, t.Option)
	}
	if !slices.ContainsFunc(m.Threats, func(x Threat) bool { return x.ID == t.Threat }) {
		return fmt.Errorf("treatment: unknown threat %q", t.Threat)
	}
	if strings.TrimSpace(t.Owner) == "" {
		return fmt.Errorf("treatment of %q: risk owner is required", t.Threat)
	}
	if strings.TrimSpace(t.Justification) == "" {
		return fmt.Errorf("treatment of %q: justification is required", t.Threat)
	}
	if t.Option == Mitigate {
		if len(t.Safeguards) == 0 {
			return fmt.Errorf("treatment of %q: mitigate names no safeguard", t.Threat)
		}
		for _, s := range t.Safeguards {
			if !slices.ContainsFunc(m.Safeguards, func(x Safeguard) bool { return x.ID == s }) {
				return fmt.Errorf("treatment of %q: unknown safeguard %q", t.Threat, s)
			}
		}
	}
	return nil
}

// WorstPerThreat keeps, for each threat, its risk in the dimension where it
// is highest (ties: the higher impact, then the first), in first-seen order.
// Use it to place each threat once on a heat map.
func WorstPerThreat(risks []Risk) []Risk {
	index := map[string]int{}
	var out []Risk
	for _, r := range risks {
		i, ok := index[r.Threat]
		switch {
		case !ok:
			index[r.Threat] = len(out)
			out = append(out, r)
		case r.Level > out[i].Level || r.Level == out[i].Level && r.Impact > out[i].Impact:
			out[i] = r
		}
	}
	return out
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
