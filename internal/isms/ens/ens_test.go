package ens

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/isms/catalog"
)

func ensCatalog(tb testing.TB) *catalog.Catalog {
	tb.Helper()
	lib, err := catalog.Builtin()
	if err != nil {
		tb.Fatal(err)
	}
	c, err := lib.Catalog(catalog.ENS)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestCategory(t *testing.T) {
	tests := []struct {
		v    Valuation
		want Category
	}{
		{Valuation{}, Basica},
		{Valuation{C: Bajo, I: Bajo, T: Bajo, A: Bajo, D: Bajo}, Basica},
		{Valuation{D: Medio}, Media},
		{Valuation{C: Bajo, I: Medio, T: Bajo}, Media},
		{Valuation{C: Medio, I: Bajo, T: NotApplicable, A: Alto, D: Bajo}, Alta},
		{Valuation{T: Alto}, Alta},
	}
	for _, tt := range tests {
		if got := tt.v.Category(); got != tt.want {
			t.Errorf("(%v).Category() = %v, want %v", tt.v, got, tt.want)
		}
	}
}

// TestApplyHandWorked pins Anexo II for the system C=MEDIO, I=BAJO, T=n.a.,
// A=ALTO, D=BAJO (category ALTA), worked out by hand from the table.
func TestApplyHandWorked(t *testing.T) {
	c := ensCatalog(t)
	v := Valuation{C: Medio, I: Bajo, T: NotApplicable, A: Alto, D: Bajo}
	tests := []struct {
		measure string
		applies bool
		rs      []string
		choices [][]string
		basis   string
	}{
		// Category-bound: column ALTA.
		{"org.1", true, nil, nil, "categoría ALTA"},
		{"op.pl.1", true, []string{"R2"}, nil, "categoría ALTA"},
		{"op.exp.3", true, []string{"R1", "R2", "R3"}, nil, "categoría ALTA"},
		{"op.exp.6", true, []string{"R1", "R2", "R3", "R4"}, nil, "categoría ALTA"},
		{"op.exp.7", true, []string{"R1", "R2", "R3"}, nil, "categoría ALTA"},
		{"op.ext.3", true, nil, nil, "categoría ALTA"},
		{"mp.eq.3", true, []string{"R1", "R2"}, nil, "categoría ALTA"},
		{"mp.com.1", true, nil, nil, "categoría ALTA"},
		{"mp.com.4", true, []string{"R4"}, [][]string{{"R2", "R3"}}, "categoría ALTA"},
		{"mp.s.2", true, []string{"R2", "R3"}, nil, "categoría ALTA"},
		{"mp.s.3", true, []string{"R1"}, nil, "categoría ALTA"},
		// op.acc.2, 3, 5 and 6 depend on C, I, T, A: max is A=ALTO.
		{"op.acc.2", true, []string{"R1"}, nil, "nivel ALTO (máximo de C, I, T, A)"},
		{"op.acc.3", true, []string{"R1"}, nil, "nivel ALTO (máximo de C, I, T, A)"},
		{"op.acc.5", true, []string{"R5"}, [][]string{{"R2", "R3", "R4"}}, "nivel ALTO (máximo de C, I, T, A)"},
		{"op.acc.6", true, []string{"R5", "R6", "R7", "R8", "R9"}, [][]string{{"R1", "R2", "R3", "R4"}}, "nivel ALTO (máximo de C, I, T, A)"},
		// op.cont.2 depends on D only: D=BAJO, and the table says n.a. at BAJO.
		{"op.cont.2", false, nil, nil, "nivel BAJO (máximo de D)"},
		// op.exp.8 depends on T only, which is n.a. for this system.
		{"op.exp.8", false, nil, nil, "dimensiones T n.a."},
		{"mp.info.4", false, nil, nil, "dimensiones T n.a."},
		// mp.com.2 and mp.si.1 depend on C=MEDIO; mp.si.2 on C and I: MEDIO.
		{"mp.com.2", true, []string{"R1"}, nil, "nivel MEDIO (máximo de C)"},
		{"mp.si.1", true, nil, nil, "nivel MEDIO (máximo de C)"},
		{"mp.si.2", true, nil, nil, "nivel MEDIO (máximo de C, I)"},
		// mp.com.3 and mp.info.3 depend on I and A: A=ALTO.
		{"mp.com.3", true, []string{"R1", "R2", "R3", "R4"}, nil, "nivel ALTO (máximo de I, A)"},
		{"mp.info.3", true, []string{"R1", "R2", "R3", "R4"}, nil, "nivel ALTO (máximo de I, A)"},
		// mp.eq.2 depends on A=ALTO.
		{"mp.eq.2", true, []string{"R1"}, nil, "nivel ALTO (máximo de A)"},
		// mp.info.6 depends on D=BAJO.
		{"mp.info.6", true, nil, nil, "nivel BAJO (máximo de D)"},
		{"mp.s.4", false, nil, nil, "nivel BAJO (máximo de D)"},
	}
	for _, tt := range tests {
		m, err := c.Requirement(tt.measure)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Apply(m, v)
		if err != nil {
			t.Fatalf("Apply(%s) error: %v", tt.measure, err)
		}
		if got.Applies != tt.applies || !slices.Equal(got.Reinforcements, tt.rs) || !equalChoices(got.Choices, tt.choices) || got.Basis != tt.basis {
			t.Errorf("Apply(%s, %v) = %v %v %v %q, want %v %v %v %q", tt.measure, v, got.Applies, got.Reinforcements, got.Choices, got.Basis, tt.applies, tt.rs, tt.choices, tt.basis)
		}
	}
}

func equalChoices(a, b [][]string) bool {
	return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

func TestApplyContinuity(t *testing.T) {
	c := ensCatalog(t)
	m, err := c.Requirement("op.cont.2")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		d    Level
		want bool
	}{{NotApplicable, false}, {Bajo, false}, {Medio, false}, {Alto, true}} {
		got, err := Apply(m, Valuation{C: Bajo, D: tt.d})
		if err != nil {
			t.Fatal(err)
		}
		if got.Applies != tt.want {
			t.Errorf("Apply(op.cont.2, D=%v).Applies = %v, want %v", tt.d, got.Applies, tt.want)
		}
	}
}

func TestApplicableCounts(t *testing.T) {
	c := ensCatalog(t)
	count := func(v Valuation) int {
		apps, err := Applicable(c, v)
		if err != nil {
			t.Fatal(err)
		}
		if len(apps) != 73 {
			t.Fatalf("Applicable returned %d measures, want 73", len(apps))
		}
		n := 0
		for _, a := range apps {
			if a.Applies {
				n++
			}
		}
		return n
	}
	all := func(l Level) Valuation { return Valuation{l, l, l, l, l} }
	low, mid, high := count(all(Bajo)), count(all(Medio)), count(all(Alto))
	if !(low < mid && mid < high) {
		t.Errorf("applicable measures BAJO %d, MEDIO %d, ALTO %d: want strictly increasing", low, mid, high)
	}
	if high != 73 {
		t.Errorf("all ALTO: %d measures apply, want all 73", high)
	}
}

func TestSoA(t *testing.T) {
	c := ensCatalog(t)
	s, err := NewSoA(c, "Plataforma de atención", Valuation{C: Medio, I: Bajo, A: Alto, D: Bajo})
	if err != nil {
		t.Fatal(err)
	}
	if s.Category != Alta || len(s.Entries) != 73 {
		t.Fatalf("NewSoA category %v, %d entries; want ALTA, 73", s.Category, len(s.Entries))
	}
	e, err := s.Entry("op.acc.6")
	if err != nil {
		t.Fatal(err)
	}
	if e.Justification != "Aplica con refuerzos R5, R6, R7, R8, R9 y uno de R1, R2, R3, R4 según el Anexo II (nivel ALTO (máximo de C, I, T, A))." ||
		e.Title != "Mecanismo de autenticación (usuarios de la organización)" ||
		!equalChoices(e.Choices, [][]string{{"R1", "R2", "R3", "R4"}}) {
		t.Errorf("op.acc.6 entry = %+v", e)
	}
	if err := s.Override("mp.if.6", false, ""); err == nil {
		t.Error("Override without justification succeeded")
	}
	if err := s.Override("mp.if.6", false, "CPD alojado en proveedor certificado; sin locales propios."); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.Entry("mp.if.6"); e.Applies || !e.Overridden {
		t.Errorf("after Override, mp.if.6 = %+v", e)
	}
	bad := []ExtraMeasure{
		{Kind: "otra", Title: "x", Justification: "y"},
		{Kind: Compensatory, Title: "MFA por SMS", Justification: "y"},
		{Kind: Compensatory, Title: "MFA por SMS", Measures: []string{"op.acc.6"}},
		{Kind: Compensatory, Title: "x", Measures: []string{"op.exp.8"}, Justification: "T n.a."},
		{Kind: Complementary, Title: "x", Measures: []string{"op.exp.99"}, Justification: "y"},
	}
	for _, x := range bad {
		if err := s.AddExtra(x); err == nil {
			t.Errorf("AddExtra(%+v) succeeded, want error", x)
		}
	}
	if len(s.Extra) != 0 {
		t.Fatalf("rejected extras changed the SoA: %v", s.Extra)
	}
	if err := s.AddExtra(ExtraMeasure{Kind: Compensatory, Title: "Token OTP hardware", Measures: []string{"op.acc.6"}, Justification: "Sustituye certificados en dispositivo físico (R4)."}); err != nil {
		t.Fatal(err)
	}
	if len(s.Extra) != 1 {
		t.Errorf("len(Extra) = %d, want 1", len(s.Extra))
	}
	// Excluding a measure drops its choices along with its reinforcements.
	if err := s.Override("op.acc.5", false, "Sin usuarios externos."); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.Entry("op.acc.5"); e.Applies || e.Reinforcements != nil || e.Choices != nil {
		t.Errorf("after excluding op.acc.5: %+v", e)
	}
}

func TestConformity(t *testing.T) {
	last := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		c    Category
		path ConformityPath
	}{{Basica, SelfAssessment}, {Media, CertificationAudit}, {Alta, CertificationAudit}}
	for _, tt := range tests {
		k, err := NewConformity(tt.c, last)
		if err != nil {
			t.Fatal(err)
		}
		if k.Path != tt.path || !k.NextDue.Equal(time.Date(2027, 3, 14, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("NewConformity(%v) = %v due %v, want %v due 2027-03-14", tt.c, k.Path, k.NextDue, tt.path)
		}
		if k.Overdue(time.Date(2027, 3, 13, 0, 0, 0, 0, time.UTC)) || !k.Overdue(time.Date(2027, 3, 14, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("Overdue around due date wrong for %v", tt.c)
		}
	}
	k, _ := NewConformity(Media, time.Time{})
	if !k.Overdue(last) {
		t.Error("never-audited system is not overdue")
	}
	if _, err := NewConformity(0, last); err == nil {
		t.Error("NewConformity(0) succeeded")
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]Level{"bajo": Bajo, "MEDIO": Medio, " Alto ": Alto, "n.a.": NotApplicable, "": NotApplicable} {
		got, err := ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseLevel("CRÍTICO"); err == nil {
		t.Error("ParseLevel(CRÍTICO) succeeded")
	}
}

func TestSystemValuation(t *testing.T) {
	info := Valuation{C: Medio, I: Bajo, T: Bajo, A: Bajo}
	service := Valuation{A: Alto, D: Bajo}
	got, err := SystemValuation(info, service)
	if err != nil {
		t.Fatal(err)
	}
	want := Valuation{C: Medio, I: Bajo, T: Bajo, A: Alto, D: Bajo}
	if got != want {
		t.Errorf("SystemValuation() = %v, want %v", got, want)
	}
	if _, err := SystemValuation(Valuation{C: 7}); err == nil {
		t.Error("SystemValuation with level 7 succeeded")
	}
}

func TestSoACounts(t *testing.T) {
	c := ensCatalog(t)
	s, err := NewSoA(c, "sistema", Valuation{C: Bajo, I: Bajo, T: Bajo, A: Bajo, D: Bajo})
	if err != nil {
		t.Fatal(err)
	}
	a, na, rs, ov := s.Counts()
	if a+na != 73 || ov != 0 || a == 0 || na == 0 {
		t.Errorf("Counts() = %d, %d, %d, %d", a, na, rs, ov)
	}
	// At BÁSICA/BAJO the reinforcements required are one of op.acc.5's R1–R4;
	// one of op.acc.6's R1–R4, and its R8 and R9; one of mp.s.2's R1, R2.
	if rs != 5 {
		t.Errorf("reinforcements required at BAJO = %d, want 5", rs)
	}
	e, err := s.Entry("mp.s.2")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Aplica con refuerzos uno de R1, R2 según el Anexo II (categoría BÁSICA)."; e.Justification != want || e.Reinforcements != nil {
		t.Errorf("mp.s.2 entry = %+v, want justification %q and no required reinforcement", e, want)
	}
}

func TestSoAJSON(t *testing.T) {
	c := ensCatalog(t)
	s, err := NewSoA(c, "sistema", Valuation{C: Medio, A: Alto})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"valuation":{"C":"MEDIO","I":"n.a.","T":"n.a.","A":"ALTO","D":"n.a."},"category":"ALTA"`) {
		t.Errorf("json = %.200s", b)
	}
	var back SoA
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Valuation != s.Valuation || back.Category != s.Category || len(back.Entries) != 73 {
		t.Errorf("round trip = %v %v %d", back.Valuation, back.Category, len(back.Entries))
	}
	var v Valuation
	if err := json.Unmarshal([]byte(`{"C":"MUY ALTO"}`), &v); err == nil || !strings.Contains(err.Error(), "MUY ALTO") {
		t.Errorf("Unmarshal bad level error = %v", err)
	}
}

// TestApplyHandWorkedMedia pins a second system worked out by hand: C=BAJO,
// I=MEDIO, T=BAJO, A=n.a., D=MEDIO is MEDIA (no dimension ALTO, one MEDIO).
func TestApplyHandWorkedMedia(t *testing.T) {
	c := ensCatalog(t)
	v := Valuation{C: Bajo, I: Medio, T: Bajo, A: NotApplicable, D: Medio}
	if v.Category() != Media {
		t.Fatalf("category %v, want MEDIA", v.Category())
	}
	tests := []struct {
		measure string
		applies bool
		rs      []string
		choices [][]string
	}{
		{"op.pl.1", true, []string{"R1"}, nil}, // categoría MEDIA: + R1
		{"op.pl.5", true, nil, nil},            // categoría MEDIA: aplica
		{"op.ext.3", false, nil, nil},          // categoría MEDIA: n.a. (only ALTA)
		{"op.exp.3", true, []string{"R1"}, nil},
		{"op.acc.2", true, nil, nil},                                                         // max(C, I, T, A) = MEDIO: aplica
		{"op.acc.5", true, []string{"R5"}, [][]string{{"R2", "R3", "R4"}}},                   // MEDIO
		{"op.acc.6", true, []string{"R5", "R8", "R9"}, [][]string{{"R1", "R2", "R3", "R4"}}}, // MEDIO
		{"op.exp.8", true, nil, nil},                                                         // T=BAJO: aplica
		{"op.cont.1", true, nil, nil},                                                        // D=MEDIO: aplica
		{"op.cont.2", false, nil, nil},
		{"mp.eq.2", false, nil, nil}, // A is n.a.
		{"mp.eq.3", true, nil, nil},  // categoría MEDIA: aplica
		{"mp.com.4", true, nil, [][]string{{"R1", "R2", "R3"}}},
		{"mp.info.6", true, []string{"R1"}, nil},             // D=MEDIO
		{"mp.com.2", true, nil, nil},                         // C=BAJO: aplica
		{"mp.si.1", false, nil, nil},                         // C=BAJO: n.a.
		{"mp.si.2", true, nil, nil},                          // max(C, I) = MEDIO: aplica
		{"mp.info.3", true, []string{"R1", "R2", "R3"}, nil}, // max(I, A) = MEDIO
		{"mp.s.2", true, nil, [][]string{{"R1", "R2"}}},
		{"mp.s.3", true, nil, nil},
	}
	for _, tt := range tests {
		m, err := c.Requirement(tt.measure)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Apply(m, v)
		if err != nil {
			t.Fatal(err)
		}
		if got.Applies != tt.applies || !slices.Equal(got.Reinforcements, tt.rs) || !equalChoices(got.Choices, tt.choices) {
			t.Errorf("Apply(%s, %v) = %v %v %v, want %v %v %v", tt.measure, v, got.Applies, got.Reinforcements, got.Choices, tt.applies, tt.rs, tt.choices)
		}
	}
}
