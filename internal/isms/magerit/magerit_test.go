package magerit

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
)

func small() *Model {
	return &Model{
		Assets: []Asset{
			{ID: "svc", Type: Services, Value: Values{"D": 8}},
			{ID: "data", Type: Essential, Value: Values{"C": 9, "I": 4}},
			{ID: "app", Type: Software},
			{ID: "srv", Type: Hardware},
			{ID: "lonely", Type: Auxiliary, Value: Values{"D": 2}},
		},
		Dependencies: []Dependency{{"svc", "app"}, {"data", "app"}, {"app", "srv"}},
		Threats: []Threat{
			{ID: "ransom", Code: "A.8", Asset: "srv", Degradation: map[Dimension]float64{"D": 0.5}, Frequency: 1.2},
		},
		Safeguards: []Safeguard{{ID: "backup", Threats: []string{"ransom"}, Degradation: 0.5, Frequency: 0.9}},
	}
}

func TestAccumulated(t *testing.T) {
	acc, err := small().Accumulated()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Values{
		"svc":    {"D": 8},
		"data":   {"C": 9, "I": 4},
		"app":    {"D": 8, "C": 9, "I": 4},
		"srv":    {"D": 8, "C": 9, "I": 4},
		"lonely": {"D": 2},
	}
	for id, w := range want {
		got := acc[id]
		if len(got) != len(w) {
			t.Errorf("Accumulated()[%s] = %v, want %v", id, got, w)
			continue
		}
		for d, x := range w {
			if got[d] != x {
				t.Errorf("Accumulated()[%s][%s] = %d, want %d", id, d, got[d], x)
			}
		}
	}
}

func TestCycleRejected(t *testing.T) {
	m := small()
	m.Dependencies = append(m.Dependencies, Dependency{"srv", "svc"})
	_, err := m.Accumulated()
	if err == nil || !strings.Contains(err.Error(), "dependency cycle: svc → app → srv → svc") {
		t.Errorf("Accumulated() with cycle error = %v", err)
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Model)
		want string
	}{
		{"type", func(m *Model) { m.Assets[0].Type = "DB" }, `type "DB" is not a MAGERIT class`},
		{"value", func(m *Model) { m.Assets[0].Value["D"] = 11 }, "value 11 outside 0–10"},
		{"dim", func(m *Model) { m.Assets[0].Value["X"] = 1 }, `unknown dimension "X"`},
		{"dep", func(m *Model) { m.Dependencies[0].Lower = "ghost" }, `unknown asset "ghost"`},
		{"self", func(m *Model) { m.Dependencies[0].Lower = "svc" }, "cannot depend on itself"},
		{"family", func(m *Model) { m.Threats[0].Code = "X.1" }, "not in a MAGERIT family"},
		{"degradation", func(m *Model) { m.Threats[0].Degradation["D"] = 1.5 }, "want 0–1"},
		{"nan", func(m *Model) { m.Threats[0].Frequency = math.NaN() }, "finite number"},
		{"safeguard", func(m *Model) { m.Safeguards[0].Threats = []string{"nope"} }, `unknown threat "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := small()
			tt.edit(m)
			err := m.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestScales(t *testing.T) {
	for _, tt := range []struct {
		impact float64
		want   Level
	}{{0, MB}, {0.99, MB}, {1, B}, {2.9, B}, {3, M}, {6, A}, {8.9, A}, {9, MA}, {10, MA}} {
		if got := ImpactLevel(tt.impact); got != tt.want {
			t.Errorf("ImpactLevel(%v) = %v, want %v", tt.impact, got, tt.want)
		}
	}
	for _, tt := range []struct {
		f    float64
		want Level
	}{{0, MB}, {0.05, MB}, {0.1, B}, {0.5, B}, {1, M}, {10, A}, {52, A}, {365, MA}} {
		if got := FrequencyLevel(tt.f); got != tt.want {
			t.Errorf("FrequencyLevel(%v) = %v, want %v", tt.f, got, tt.want)
		}
	}
	for _, tt := range []struct{ i, f, want Level }{{MB, MB, MB}, {M, M, M}, {MA, MA, MA}, {MA, MB, M}, {MB, MA, B}, {A, A, MA}, {B, B, B}} {
		if got := RiskLevel(tt.i, tt.f); got != tt.want {
			t.Errorf("RiskLevel(%v, %v) = %v, want %v", tt.i, tt.f, got, tt.want)
		}
	}
	// The table is monotonic in both directions.
	for i := MB; i <= MA; i++ {
		for f := MB; f <= MA; f++ {
			if i < MA && RiskLevel(i+1, f) < RiskLevel(i, f) || f < MA && RiskLevel(i, f+1) < RiskLevel(i, f) {
				t.Errorf("risk table not monotonic at impact %v, frequency %v", i, f)
			}
		}
	}
}

// TestAnalyseHandWorked: srv accumulates D=8; ransomware degrades D by 50 %
// → impact 4.0 (M) at 1.2/year (M) → risk M. The backup safeguard (50 % on
// degradation, 90 % on frequency) leaves 25 % → impact 2.0 (B) at 0.12/year
// (B) → risk B.
func TestAnalyseHandWorked(t *testing.T) {
	a, err := small().Analyse()
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Potential) != 1 || len(a.Residual) != 1 {
		t.Fatalf("Analyse() = %d potential, %d residual risks, want 1, 1", len(a.Potential), len(a.Residual))
	}
	p, r := a.Potential[0], a.Residual[0]
	if p.Value != 8 || p.Impact != 4 || p.ImpactL != M || p.FreqL != M || p.Level != M {
		t.Errorf("potential = %+v, want value 8 impact 4 M/M → M", p)
	}
	if r.Impact != 2 || math.Abs(r.Frequency-0.12) > 1e-9 || r.ImpactL != B || r.FreqL != B || r.Level != B {
		t.Errorf("residual = %+v, want impact 2 freq 0.12 B/B → B", r)
	}
}

func TestSafeguardsCompound(t *testing.T) {
	m := small()
	m.Safeguards = append(m.Safeguards, Safeguard{ID: "edr", Threats: []string{"ransom"}, Degradation: 0.5})
	a, err := m.Analyse()
	if err != nil {
		t.Fatal(err)
	}
	// 0.5 × (1−0.5) × (1−0.5) = 0.125 degradation → impact 1.0.
	if got := a.Residual[0].Impact; got != 1 {
		t.Errorf("residual impact with two safeguards = %v, want 1", got)
	}
}

func TestContactCenter(t *testing.T) {
	m, err := ContactCenter()
	if err != nil {
		t.Fatal(err)
	}
	types := map[AssetType]bool{}
	for _, a := range m.Assets {
		types[a.Type] = true
	}
	for _, want := range []AssetType{Essential, Services, Software, Hardware, Communications, Facilities, Personnel} {
		if !types[want] {
			t.Errorf("starter model has no %s asset", want)
		}
	}
	families := map[Family]bool{}
	for _, th := range m.Threats {
		families[th.Family()] = true
	}
	for _, f := range []Family{Natural, Industrial, Errors, Attacks} {
		if !families[f] {
			t.Errorf("starter model has no threat of family %s", f)
		}
	}
	acc, err := m.Accumulated()
	if err != nil {
		t.Fatal(err)
	}
	// The SIP trunk carries the payment IVR (via the ACD): it inherits the
	// confidentiality of cardholder data.
	if got := acc["com-sip"]["C"]; got != 10 {
		t.Errorf("accumulated C of com-sip = %d, want 10", got)
	}
	a, err := m.Analyse()
	if err != nil {
		t.Fatal(err)
	}
	// PAN in recordings: recorder accumulates C=10; 80 % → impact 8 (A) at
	// 20/year (A) → MA. Masking (90 %, 90 %) → impact 0.8 (MB) at 2/year (M)
	// → MB.
	found := false
	for i, r := range a.Potential {
		if r.Threat != "t-pan-recordings" {
			continue
		}
		found = true
		if r.Impact != 8 || r.Level != MA || a.Residual[i].Level != MB {
			t.Errorf("t-pan-recordings potential %v (impact %v) residual %v, want MA (8), MB", r.Level, r.Impact, a.Residual[i].Level)
		}
	}
	if !found {
		t.Error("no risk for t-pan-recordings")
	}
	if svg := HeatMap("Contact centre", WorstPerThreat(a.Potential)); strings.Count(svg, "<title>") != 1+countCells(WorstPerThreat(a.Potential)) {
		t.Errorf("heat map tooltips do not match occupied cells")
	}
}

func TestTreatment(t *testing.T) {
	m := small()
	ok := Treatment{Threat: "ransom", Option: Mitigate, Owner: "CISO", Justification: "backups", Safeguards: []string{"backup"}}
	if err := ok.Validate(m); err != nil {
		t.Errorf("Validate(%+v) = %v", ok, err)
	}
	for _, bad := range []Treatment{
		{Threat: "ransom", Option: "ignore", Owner: "x", Justification: "y"},
		{Threat: "ghost", Option: Accept, Owner: "x", Justification: "y"},
		{Threat: "ransom", Option: Accept, Justification: "y"},
		{Threat: "ransom", Option: Accept, Owner: "x"},
		{Threat: "ransom", Option: Mitigate, Owner: "x", Justification: "y"},
		{Threat: "ransom", Option: Mitigate, Owner: "x", Justification: "y", Safeguards: []string{"nope"}},
	} {
		if err := bad.Validate(m); err == nil {
			t.Errorf("Validate(%+v) succeeded", bad)
		}
	}
}

func TestHeatMap(t *testing.T) {
	risks := []Risk{
		{Threat: `<script>alert("x")</script>`, Asset: "a&b", Dimension: "C", ImpactL: MA, FreqL: MA, Level: MA},
		{Threat: "t2", Asset: "b", Dimension: "D", ImpactL: MA, FreqL: MA, Level: MA},
		{Threat: "t3", Asset: "b", Dimension: "D", ImpactL: MB, FreqL: B, Level: MB},
	}
	svg := HeatMap(`Risks & "more"`, risks)
	if !strings.HasPrefix(svg, "<svg ") || !strings.HasSuffix(svg, "</svg>") {
		t.Fatalf("HeatMap() is not an SVG document: %.60s…", svg)
	}
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("HeatMap() is not well-formed XML: %v", err)
		}
	}
	if n := strings.Count(svg, "<rect "); n != 25 {
		t.Errorf("HeatMap() has %d cells, want 25", n)
	}
	if strings.Contains(svg, "<script>") || !strings.Contains(svg, "&lt;script&gt;") || !strings.Contains(svg, "a&amp;b") {
		t.Error("HeatMap() does not escape labels")
	}
	if !strings.Contains(svg, `data-impact="MA" data-frequency="MA" data-risk="MA"><rect`) || !strings.Contains(svg, ">2</text>") {
		t.Error("HeatMap() does not show 2 risks in the MA/MA cell")
	}
}

func TestWorstPerThreat(t *testing.T) {
	risks := []Risk{
		{Threat: "a", Dimension: "C", Impact: 2, Level: B},
		{Threat: "b", Dimension: "D", Impact: 9, Level: MA},
		{Threat: "a", Dimension: "I", Impact: 7, Level: A},
		{Threat: "a", Dimension: "D", Impact: 8, Level: A},
	}
	got := WorstPerThreat(risks)
	if len(got) != 2 || got[0].Threat != "a" || got[0].Dimension != "D" || got[1].Threat != "b" {
		t.Errorf("WorstPerThreat() = %+v", got)
	}
}

func countCells(risks []Risk) int {
	cells := map[[2]Level]bool{}
	for _, r := range risks {
		cells[[2]Level{r.ImpactL, r.FreqL}] = true
	}
	return len(cells)
}

// TestScaleBoundaries: a safeguard of 90 % on a yearly threat leaves 0.1 a
// year, which is B, even though 1 × (1 − 0.9) is 0.09999… in float64.
func TestScaleBoundaries(t *testing.T) {
	m := small()
	m.Threats[0].Frequency = 1
	m.Threats[0].Degradation = map[Dimension]float64{"C": 0.1}
	m.Assets[1].Value["C"] = 3 // 3 × 0.1 is 0.30000000000000004 in float64
	a, err := m.Analyse()
	if err != nil {
		t.Fatal(err)
	}
	r := a.Residual[0]
	if r.Frequency != 0.1 || r.FreqL != B {
		t.Errorf("residual frequency = %v (%v), want 0.1 (B)", r.Frequency, r.FreqL)
	}
	if p := a.Potential[0]; p.Impact != 0.3 {
		t.Errorf("potential impact = %v, want 0.3", p.Impact)
	}
}

func TestRiskJSON(t *testing.T) {
	r := Risk{Threat: "t", Asset: "a", Dimension: "C", Value: 8, Degrad: 0.5, Frequency: 1, Impact: 4, ImpactL: M, FreqL: M, Level: M}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"impact_level":"M","frequency_level":"M","level":"M"`) {
		t.Errorf("json = %s", b)
	}
	var back Risk
	if err := json.Unmarshal(b, &back); err != nil || back != r {
		t.Errorf("round trip = %+v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"level":"XL"}`), &back); err == nil {
		t.Error("Unmarshal of level XL succeeded")
	}
}

func TestValueLabel(t *testing.T) {
	want := []string{"despreciable", "bajo", "bajo", "medio", "medio", "medio", "alto", "alto", "alto", "muy alto", "extremo"}
	for v, w := range want {
		if got, err := ValueLabel(v); err != nil || got != w {
			t.Errorf("ValueLabel(%d) = %q, %v; want %q", v, got, err, w)
		}
	}
	for _, v := range []int{-1, 11} {
		if _, err := ValueLabel(v); err == nil {
			t.Errorf("ValueLabel(%d) succeeded", v)
		}
	}
}
