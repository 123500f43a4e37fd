package risk

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/magerit"
)

// TestComputeHandWorked pins the arithmetic: value 8 (C), degradation 50 %,
// 1.2/year → impact 4 (M), M → risk M. An implemented safeguard 50 %/90 %
// → impact 2 (B), 0.12/year (B) → B; two safeguards compound.
func TestComputeHandWorked(t *testing.T) {
	r := Risk{Title: "t", AssetID: 1, ThreatID: 1, Degradation: map[Dimension]float64{"C": 0.5, "I": 0.1}, Frequency: 1.2}
	if err := r.Compute(magerit.Values{"C": 8, "I": 9}); err != nil {
		t.Fatal(err)
	}
	if p := r.Potential; p.Dimension != "C" || p.Impact != 4 || p.Level != magerit.M || p.LevelName != "M" {
		t.Errorf("potential = %+v", p)
	}
	r.Safeguards = []Safeguard{{ControlID: 1, Status: "implemented", Degradation: 0.5, Frequency: 0.9}}
	if err := r.Compute(magerit.Values{"C": 8, "I": 9}); err != nil {
		t.Fatal(err)
	}
	if x := r.Residual; x.Impact != 2 || x.Frequency != 0.12 || x.Level != magerit.B {
		t.Errorf("residual = %+v", x)
	}
	r.Safeguards = append(r.Safeguards, Safeguard{ControlID: 2, Status: "implemented", Degradation: 0.5})
	if err := r.Compute(magerit.Values{"C": 8, "I": 9}); err != nil {
		t.Fatal(err)
	}
	if x := r.Residual; x.Impact != 1 || x.ImpactLevel != magerit.B {
		t.Errorf("two safeguards: residual = %+v, want impact 8 × 0.5 × 0.5 × 0.5 = 1", x)
	}
	b, _ := json.Marshal(r.Residual)
	if !strings.Contains(string(b), `"level":"B"`) || !strings.Contains(string(b), `"impact_level":"B"`) {
		t.Errorf("JSON = %s", b)
	}
	// No degradation: MB at the threat's frequency.
	r = Risk{Frequency: 12}
	if err := r.Compute(magerit.Values{"C": 8}); err != nil {
		t.Fatal(err)
	}
	if r.Potential.Level != magerit.B || r.Potential.FrequencyLevel != magerit.A {
		t.Errorf("no degradation = %+v", r.Potential)
	}
}

func TestAccumulateNamesCycleByCode(t *testing.T) {
	assets := []Asset{
		{ID: 1, Code: "data", Name: "d", Type: magerit.Essential, Value: magerit.Values{"C": 9}, DependsOn: []int64{2}},
		{ID: 2, Code: "app", Name: "a", Type: magerit.Software, DependsOn: []int64{3}},
		{ID: 3, Code: "srv", Name: "s", Type: magerit.Hardware},
	}
	acc, err := Accumulate(assets)
	if err != nil || acc[3]["C"] != 9 || acc[2]["C"] != 9 {
		t.Fatalf("Accumulate = %v, %v", acc, err)
	}
	assets[2].DependsOn = []int64{1}
	_, err = Accumulate(assets)
	var fe identity.FieldErrors
	if !errors.As(err, &fe) || !strings.Contains(fe["depends_on"], "data → app → srv → data") {
		t.Errorf("cycle = %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		r     Risk
		field string
	}{
		{Risk{AssetID: 1, ThreatID: 1}, "title"},
		{Risk{Title: "x", AssetID: 1, ThreatID: 1, Degradation: map[Dimension]float64{"C": 1.5}}, "degradation.C"},
		{Risk{Title: "x", AssetID: 1, ThreatID: 1, Treatment: "ignore"}, "treatment"},
		{Risk{Title: "x", AssetID: 1, ThreatID: 1, Treatment: magerit.Accept}, "justification"},
		{Risk{Title: "x", AssetID: 1, ThreatID: 1, Treatment: magerit.Mitigate, Justification: "j"}, "safeguards"},
	} {
		var fe identity.FieldErrors
		if err := c.r.Validate(); !errors.As(err, &fe) || fe[c.field] == "" {
			t.Errorf("Validate(%+v) = %v, want an error on %s", c.r, err, c.field)
		}
	}
}

func TestReportPDF(t *testing.T) {
	r := Risk{Title: "Ransomware — Servidores de contabilidad", AssetCode: "srv", ThreatCode: "A.8", Degradation: map[Dimension]float64{"D": 1}, Frequency: 0.2,
		Treatment: magerit.Mitigate, SignOff: &SignOff{Username: "josé", Valid: true, ResidualLevel: magerit.B}}
	if err := r.Compute(magerit.Values{"D": 7}); err != nil {
		t.Fatal(err)
	}
	pdf, err := ReportPDF(ReportInput{T: func(k string, a ...any) string { return "Análisis " + k }, Risks: []Risk{r},
		Assets: []Asset{{Code: "srv", Name: "Servidor", Type: magerit.Hardware, Accumulated: magerit.Values{"D": 7}}}, Appetite: magerit.M})
	if err != nil || !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("ReportPDF = %d bytes, %v", len(pdf), err)
	}
	svg := HeatMap([]Risk{r}, true, "Residual <risk>")
	if !strings.Contains(svg, "Residual &lt;risk&gt;") || strings.Count(svg, `class="cell"`) != 25 {
		t.Errorf("heat map:\n%s", svg)
	}
}
