// Package risk is the ISMS risk register built on the MAGERIT engine: the
// asset inventory with dependencies, the threat catalogue, risks (a threat
// on an asset) with their computed potential and residual levels, the
// safeguards (controls) that treat them, the treatment decision and the risk
// owner's sign-off. It validates input and computes; the SQL lives in
// internal/store (isms_asset.go, isms_threat.go, isms_risk.go).
package risk

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/magerit"
)

// Dimension is a MAGERIT dimension (C, I, T, A, D).
type Dimension = magerit.Dimension

// Dimensions lists the five dimensions in MAGERIT's order.
var Dimensions = []Dimension{"C", "I", "T", "A", "D"}

// Asset is one element of the inventory.
type Asset struct {
	ID          int64             `json:"id"`
	Code        string            `json:"code"`
	Name        string            `json:"name"`
	Type        magerit.AssetType `json:"type"`
	ClientID    int64             `json:"client_id,omitempty"` // 0 = operator-wide
	OwnerUserID int64             `json:"owner_user_id,omitempty"`
	Location    string            `json:"location"`
	Description string            `json:"description"`
	// Value is the asset's own value per dimension (0–10); usually only data
	// and services have one.
	Value magerit.Values `json:"value"`
	// Accumulated is the value it holds once the values of the assets that
	// depend on it are propagated down (computed).
	Accumulated magerit.Values `json:"accumulated"`
	// DependsOn are the assets this one depends on (lower assets).
	DependsOn []int64   `json:"depends_on"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks the asset's own fields (references are checked by the store).
func (a *Asset) Validate() error {
	fe := identity.FieldErrors{}
	a.Code = strings.TrimSpace(a.Code)
	a.Name = strings.TrimSpace(a.Name)
	a.Location = strings.TrimSpace(a.Location)
	if a.Code == "" || len(a.Code) > 60 {
		fe["code"] = "is required (at most 60 characters)"
	}
	if a.Name == "" || len(a.Name) > 200 {
		fe["name"] = "is required (at most 200 characters)"
	}
	if !a.Type.Valid() {
		fe["type"] = "must be a MAGERIT class: D, K, S, SW, HW, COM, Media, AUX, L or P"
	}
	if len(a.Location) > 200 {
		fe["location"] = "is too long (at most 200 characters)"
	}
	if len(a.Description) > 4000 {
		fe["description"] = "is too long (at most 4000 characters)"
	}
	if a.Value == nil {
		a.Value = magerit.Values{}
	}
	for d, v := range a.Value {
		if !d.Valid() {
			fe["value"] = fmt.Sprintf("unknown dimension %q (want C, I, T, A, D)", d)
		} else if v < 0 || v > 10 {
			fe["value."+string(d)] = "must be from 0 to 10"
		}
	}
	return fe.Err()
}

// Threat is an entry of the threat catalogue with its default degradation
// (0–1 per dimension) and frequency (times a year).
type Threat struct {
	ID          int64                 `json:"id"`
	Code        string                `json:"code"` // MAGERIT code, e.g. A.30
	Name        string                `json:"name"`
	Description string                `json:"description"`
	Family      magerit.Family        `json:"family"`
	Degradation map[Dimension]float64 `json:"degradation"`
	Frequency   float64               `json:"frequency"`
	CreatedAt   time.Time             `json:"created_at"`
	UpdatedAt   time.Time             `json:"updated_at"`
}

// Validate checks the threat and sets its family from the code.
func (t *Threat) Validate() error {
	fe := identity.FieldErrors{}
	t.Code = strings.TrimSpace(t.Code)
	t.Name = strings.TrimSpace(t.Name)
	fam := magerit.Threat{Code: t.Code}.Family()
	switch fam {
	case magerit.Natural, magerit.Industrial, magerit.Errors, magerit.Attacks:
		t.Family = fam
	default:
		fe["code"] = "must start with a MAGERIT family: N. (natural), I. (industrial), E. (errors) or A. (attacks)"
	}
	if len(t.Code) > 20 {
		fe["code"] = "is too long (at most 20 characters)"
	}
	if t.Name == "" || len(t.Name) > 200 {
		fe["name"] = "is required (at most 200 characters)"
	}
	if len(t.Description) > 4000 {
		fe["description"] = "is too long (at most 4000 characters)"
	}
	validateDegradation(fe, "degradation", t.Degradation)
	if !(t.Frequency >= 0) || math.IsInf(t.Frequency, 0) || t.Frequency > 1e6 {
		fe["frequency"] = "must be a number of times a year, 0 or more"
	}
	return fe.Err()
}

func validateDegradation(fe identity.FieldErrors, field string, deg map[Dimension]float64) {
	for d, x := range deg {
		if !d.Valid() {
			fe[field] = fmt.Sprintf("unknown dimension %q (want C, I, T, A, D)", d)
		} else if !(x >= 0 && x <= 1) {
			fe[field+"."+string(d)] = "must be from 0 to 1 (0–100 %)"
		}
	}
}

// Treatments lists the treatment options; "" means not decided yet.
var Treatments = []magerit.Option{magerit.Mitigate, magerit.Accept, magerit.Transfer, magerit.Avoid}

// Safeguard is a control linked to a risk with its effectiveness against
// the risk's degradation and frequency (0–1).
type Safeguard struct {
	ControlID   int64   `json:"control_id"`
	Code        string  `json:"code,omitempty"`
	Title       string  `json:"title,omitempty"`
	Status      string  `json:"status,omitempty"`
	Degradation float64 `json:"degradation"`
	Frequency   float64 `json:"frequency"`
}

// Effective returns the effectiveness the safeguard has now, from its
// control's status: an implemented control has its full effectiveness, a
// partially implemented one half of it, a planned or not applicable one
// none (it does not reduce the residual risk until it is in place).
func (s Safeguard) Effective() (degradation, frequency float64) {
	switch s.Status {
	case "implemented":
		return s.Degradation, s.Frequency
	case "partial":
		return s.Degradation / 2, s.Frequency / 2
	}
	return 0, 0
}

// Assessment is a computed potential or residual risk: the worst dimension.
type Assessment struct {
	Dimension      Dimension     `json:"dimension"`
	Value          int           `json:"value"`
	Impact         float64       `json:"impact"`
	Frequency      float64       `json:"frequency"`
	ImpactLevel    magerit.Level `json:"-"`
	FrequencyLevel magerit.Level `json:"-"`
	Level          magerit.Level `json:"-"`
	// The levels as the API shows them: MB, B, M, A or MA.
	ImpactLevelName    string `json:"impact_level"`
	FrequencyLevelName string `json:"frequency_level"`
	LevelName          string `json:"level"`
}

func (a Assessment) named() Assessment {
	a.ImpactLevelName, a.FrequencyLevelName, a.LevelName = a.ImpactLevel.String(), a.FrequencyLevel.String(), a.Level.String()
	return a
}

// SignOff is the risk owner's acceptance of a residual level.
type SignOff struct {
	ID            int64          `json:"id"`
	UserID        int64          `json:"user_id"`
	Username      string         `json:"username"`
	Treatment     magerit.Option `json:"treatment"`
	ResidualLevel magerit.Level  `json:"-"`
	// ResidualLevelName is the accepted level: MB, B, M, A or MA.
	ResidualLevelName string    `json:"residual_level"`
	Revision          int64     `json:"revision"`
	Note              string    `json:"note"`
	SignedAt          time.Time `json:"signed_at"`
	// Valid is false once the risk changed after the sign-off.
	Valid bool `json:"valid"`
}

// Risk is one threat on one asset.
type Risk struct {
	ID          int64  `json:"id"`
	Title       string `json:"title"`
	ClientID    int64  `json:"client_id,omitempty"`
	AssetID     int64  `json:"asset_id"`
	AssetCode   string `json:"asset_code"`
	AssetName   string `json:"asset_name"`
	ThreatID    int64  `json:"threat_id"`
	ThreatCode  string `json:"threat_code"`
	ThreatName  string `json:"threat_name"`
	OwnerUserID int64  `json:"owner_user_id,omitempty"`
	// Degradation (0–1 per dimension) and Frequency (per year) of the threat
	// on this asset; defaulted from the threat when left empty.
	Degradation   map[Dimension]float64 `json:"degradation"`
	Frequency     float64               `json:"frequency"`
	Treatment     magerit.Option        `json:"treatment"`
	Justification string                `json:"justification"`
	Safeguards    []Safeguard           `json:"safeguards"`
	Potential     Assessment            `json:"potential"`
	Residual      Assessment            `json:"residual"`
	// AboveAppetite reports the residual level exceeds the risk appetite.
	AboveAppetite bool      `json:"above_appetite"`
	Revision      int64     `json:"revision"`
	SignOff       *SignOff  `json:"sign_off,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Validate checks the risk's own fields (references are checked by the store).
func (r *Risk) Validate() error {
	fe := identity.FieldErrors{}
	r.Title = strings.TrimSpace(r.Title)
	if r.Title == "" || len(r.Title) > 200 {
		fe["title"] = "is required (at most 200 characters)"
	}
	if r.AssetID <= 0 {
		fe["asset_id"] = "is required"
	}
	if r.ThreatID <= 0 {
		fe["threat_id"] = "is required"
	}
	validateDegradation(fe, "degradation", r.Degradation)
	if !(r.Frequency >= 0) || math.IsInf(r.Frequency, 0) || r.Frequency > 1e6 {
		fe["frequency"] = "must be a number of times a year, 0 or more"
	}
	switch r.Treatment {
	case "", magerit.Mitigate, magerit.Accept, magerit.Transfer, magerit.Avoid:
	default:
		fe["treatment"] = "must be mitigate, accept, transfer or avoid"
	}
	if r.Treatment != "" && strings.TrimSpace(r.Justification) == "" {
		fe["justification"] = "is required when a treatment is chosen"
	}
	if r.Treatment == magerit.Mitigate && len(r.Safeguards) == 0 {
		fe["safeguards"] = "mitigate needs at least one safeguard (control)"
	}
	if len(r.Justification) > 4000 {
		fe["justification"] = "is too long (at most 4000 characters)"
	}
	seen := map[int64]bool{}
	for i, s := range r.Safeguards {
		if s.ControlID <= 0 || seen[s.ControlID] {
			fe[fmt.Sprintf("safeguards[%d].control_id", i)] = "is required and may appear once"
		}
		seen[s.ControlID] = true
		if !(s.Degradation >= 0 && s.Degradation <= 1) || !(s.Frequency >= 0 && s.Frequency <= 1) {
			fe[fmt.Sprintf("safeguards[%d]", i)] = "effectiveness must be from 0 to 1"
		}
	}
	return fe.Err()
}

// Compute sets r.Potential and r.Residual from the accumulated value of its
// asset (acc), its degradation and frequency and its safeguards, with the
// MAGERIT engine. The worst dimension is kept for each.
func (r *Risk) Compute(acc magerit.Values) error {
	m := &magerit.Model{
		Assets: []magerit.Asset{{ID: "a", Name: "a", Type: magerit.Essential, Value: acc}},
		Threats: []magerit.Threat{{ID: "t", Code: "A.0", Name: "t", Asset: "a",
			Degradation: r.Degradation, Frequency: r.Frequency}},
	}
	for i, s := range r.Safeguards {
		deg, freq := s.Effective()
		m.Safeguards = append(m.Safeguards, magerit.Safeguard{ID: strconv.Itoa(i), Threats: []string{"t"},
			Degradation: deg, Frequency: freq})
	}
	an, err := m.Analyse()
	if err != nil {
		return err
	}
	r.Potential = worst(an.Potential, r.Frequency).named()
	r.Residual = worst(an.Residual, r.Frequency*residualFreqFactor(r.Safeguards)).named()
	return nil
}

func residualFreqFactor(sg []Safeguard) float64 {
	f := 1.0
	for _, s := range sg {
		_, freq := s.Effective()
		f *= 1 - freq
	}
	return f
}

// worst picks the highest risk of a threat across dimensions; with no
// affected dimension it is MB at the threat's frequency.
func worst(rs []magerit.Risk, freq float64) Assessment {
	w := magerit.WorstPerThreat(rs)
	if len(w) == 0 {
		fl := magerit.FrequencyLevel(math.Round(freq*1e6) / 1e6)
		return Assessment{Frequency: math.Round(freq*1e6) / 1e6, ImpactLevel: magerit.MB, FrequencyLevel: fl,
			Level: magerit.RiskLevel(magerit.MB, fl)}
	}
	x := w[0]
	return Assessment{Dimension: x.Dimension, Value: x.Value, Impact: x.Impact, Frequency: x.Frequency,
		ImpactLevel: x.ImpactL, FrequencyLevel: x.FreqL, Level: x.Level}
}

// Accumulate computes the accumulated values of every asset (by id) from
// their own values and dependencies; a cycle is an error naming it by codes.
func Accumulate(assets []Asset) (map[int64]magerit.Values, error) {
	m, codes := model(assets)
	acc, err := m.Accumulated()
	if err != nil {
		return nil, translate(err, codes)
	}
	out := make(map[int64]magerit.Values, len(assets))
	for _, a := range assets {
		out[a.ID] = acc[strconv.FormatInt(a.ID, 10)]
	}
	return out, nil
}

func model(assets []Asset) (*magerit.Model, map[string]string) {
	m := &magerit.Model{}
	codes := map[string]string{}
	for _, a := range assets {
		id := strconv.FormatInt(a.ID, 10)
		codes[id] = a.Code
		m.Assets = append(m.Assets, magerit.Asset{ID: id, Name: a.Name, Type: a.Type, Value: a.Value})
		for _, l := range a.DependsOn {
			m.Dependencies = append(m.Dependencies, magerit.Dependency{Upper: id, Lower: strconv.FormatInt(l, 10)})
		}
	}
	return m, codes
}

// translate rewrites asset ids in an engine error into asset codes.
func translate(err error, codes map[string]string) error {
	msg := err.Error()
	if i := strings.Index(msg, "dependency cycle: "); i >= 0 {
		parts := strings.Split(msg[i+len("dependency cycle: "):], " → ")
		for j, p := range parts {
			if c, ok := codes[p]; ok {
				parts[j] = c
			}
		}
		return identity.FieldErrors{"depends_on": "would create a dependency cycle: " + strings.Join(parts, " → ")}
	}
	return err
}

// ParseLevel reads MB, B, M, A or MA.
func ParseLevel(s string) (magerit.Level, error) {
	var l magerit.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}
