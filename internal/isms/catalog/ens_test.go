package catalog

import (
	"strings"
	"testing"
)

// anexoII is the table of RD 311/2022, Anexo II, section 2.4, row by row as
// the BOE publishes it (BOE-A-2022-7191; the only later amendment, RD
// 1125/2024, does not touch Anexo II). It was typed from the BOE text, not
// from the catalogue, so that the two transcriptions check each other. The
// per-measure tables of sections 3 to 5 repeat the same cells.
var anexoII = []struct {
	id    string
	dims  string // "categoria", or the dimension initials as the decree writes them
	cells [3]string
}{
	{"org.1", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"org.2", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"org.3", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"org.4", "categoria", [3]string{"aplica", "aplica", "aplica"}},

	{"op.pl.1", "categoria", [3]string{"aplica", "+ R1", "+ R2"}},
	{"op.pl.2", "categoria", [3]string{"aplica", "+ R1", "+ R1 + R2 + R3"}},
	{"op.pl.3", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"op.pl.4", "D", [3]string{"aplica", "+ R1", "+ R1"}},
	{"op.pl.5", "categoria", [3]string{"n.a.", "aplica", "aplica"}},

	{"op.acc.1", "TA", [3]string{"aplica", "+ R1", "+ R1"}},
	{"op.acc.2", "CITA", [3]string{"aplica", "aplica", "+ R1"}},
	{"op.acc.3", "CITA", [3]string{"n.a.", "aplica", "+ R1"}},
	{"op.acc.4", "CITA", [3]string{"aplica", "aplica", "aplica"}},
	{"op.acc.5", "CITA", [3]string{"+ [R1 o R2 o R3 o R4]", "+ [R2 o R3 o R4] + R5", "+ [R2 o R3 o R4] + R5"}},
	{"op.acc.6", "CITA", [3]string{"+ [R1 o R2 o R3 o R4] + R8 + R9", "+ [R1 o R2 o R3 o R4] + R5 + R8 + R9", "+ [R1 o R2 o R3 o R4] + R5 + R6 + R7 + R8 + R9"}},

	{"op.exp.1", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"op.exp.2", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"op.exp.3", "categoria", [3]string{"aplica", "+ R1", "+ R1 + R2 + R3"}},
	{"op.exp.4", "categoria", [3]string{"aplica", "+ R1", "+ R1 + R2"}},
	{"op.exp.5", "categoria", [3]string{"n.a.", "aplica", "+ R1"}},
	{"op.exp.6", "categoria", [3]string{"aplica", "+ R1 + R2", "+ R1 + R2 + R3 + R4"}},
	{"op.exp.7", "categoria", [3]string{"aplica", "+ R1 + R2", "+ R1 + R2 + R3"}},
	{"op.exp.8", "T", [3]string{"aplica", "+ R1 + R2 + R3 + R4", "+ R1 + R2 + R3 + R4 + R5"}},
	{"op.exp.9", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"op.exp.10", "categoria", [3]string{"aplica", "+ R1", "+ R1"}},

	{"op.ext.1", "categoria", [3]string{"n.a.", "aplica", "aplica"}},
	{"op.ext.2", "categoria", [3]string{"n.a.", "aplica", "aplica"}},
	{"op.ext.3", "categoria", [3]string{"n.a.", "n.a.", "aplica"}},
	{"op.ext.4", "categoria", [3]string{"n.a.", "aplica", "+ R1"}},

	{"op.nub.1", "categoria", [3]string{"aplica", "+ R1", "+ R1 + R2"}},

	{"op.cont.1", "D", [3]string{"n.a.", "aplica", "aplica"}},
	{"op.cont.2", "D", [3]string{"n.a.", "n.a.", "aplica"}},
	{"op.cont.3", "D", [3]string{"n.a.", "n.a.", "aplica"}},
	{"op.cont.4", "D", [3]string{"n.a.", "n.a.", "aplica"}},

	{"op.mon.1", "categoria", [3]string{"aplica", "+ R1", "+ R1 + R2"}},
	{"op.mon.2", "categoria", [3]string{"aplica", "+ R1 + R2", "+ R1 + R2"}},
	{"op.mon.3", "categoria", [3]string{"aplica", "+ R1 + R2", "+ R1 + R2 + R3 + R4 + R5 + R6"}},

	{"mp.if.1", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"mp.if.2", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"mp.if.3", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"mp.if.4", "D", [3]string{"aplica", "+ R1", "+ R1"}},
	{"mp.if.5", "D", [3]string{"aplica", "aplica", "aplica"}},
	{"mp.if.6", "D", [3]string{"n.a.", "aplica", "aplica"}},
	{"mp.if.7", "categoria", [3]string{"aplica", "aplica", "aplica"}},

	{"mp.per.1", "categoria", [3]string{"n.a.", "aplica", "aplica"}},
	{"mp.per.2", "categoria", [3]string{"aplica", "+ R1", "+ R1"}},
	{"mp.per.3", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"mp.per.4", "categoria", [3]string{"aplica", "aplica", "aplica"}},

	{"mp.eq.1", "categoria", [3]string{"aplica", "+ R1", "+ R1"}},
	{"mp.eq.2", "A", [3]string{"n.a.", "aplica", "+ R1"}},
	{"mp.eq.3", "categoria", [3]string{"aplica", "aplica", "+ R1 + R2"}},
	{"mp.eq.4", "C", [3]string{"aplica", "+ R1", "+ R1"}},

	{"mp.com.1", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"mp.com.2", "C", [3]string{"aplica", "+ R1", "+ R1 + R2 + R3"}},
	{"mp.com.3", "IA", [3]string{"aplica", "+ R1 + R2", "+ R1 + R2 + R3 + R4"}},
	{"mp.com.4", "categoria", [3]string{"n.a.", "+ [R1 o R2 o R3]", "+ [R2 o R3] + R4"}},

	{"mp.si.1", "C", [3]string{"n.a.", "aplica", "aplica"}},
	{"mp.si.2", "CI", [3]string{"n.a.", "aplica", "+ R1 + R2"}},
	{"mp.si.3", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"mp.si.4", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"mp.si.5", "C", [3]string{"aplica", "+ R1", "+ R1"}},

	{"mp.sw.1", "categoria", [3]string{"n.a.", "+ R1 + R2 + R3 + R4", "+ R1 + R2 + R3 + R4"}},
	{"mp.sw.2", "categoria", [3]string{"aplica", "+ R1", "+ R1"}},

	{"mp.info.1", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"mp.info.2", "C", [3]string{"n.a.", "aplica", "aplica"}},
	{"mp.info.3", "IA", [3]string{"aplica", "+ R1 + R2 + R3", "+ R1 + R2 + R3 + R4"}},
	{"mp.info.4", "T", [3]string{"n.a.", "n.a.", "aplica"}},
	{"mp.info.5", "C", [3]string{"aplica", "aplica", "aplica"}},
	{"mp.info.6", "D", [3]string{"aplica", "+ R1", "+ R1 + R2"}},

	{"mp.s.1", "categoria", [3]string{"aplica", "aplica", "aplica"}},
	{"mp.s.2", "categoria", [3]string{"+ [R1 o R2]", "+ [R1 o R2]", "+ R2 + R3"}},
	{"mp.s.3", "categoria", [3]string{"aplica", "aplica", "+ R1"}},
	{"mp.s.4", "D", [3]string{"n.a.", "aplica", "+ R1"}},
}

// TestENSCells checks every measure of the built-in catalogue against the
// BOE's table: the same 73 measures in the same order, their dimensions
// and all three cells.
func TestENSCells(t *testing.T) {
	c := mustCatalog(t, builtin(t), ENS)
	if len(c.Requirements) != len(anexoII) {
		t.Fatalf("catalogue has %d measures, the BOE table %d", len(c.Requirements), len(anexoII))
	}
	for i, tt := range anexoII {
		r := c.Requirements[i]
		if r.ID != tt.id {
			t.Errorf("measure %d = %s, want %s (the BOE's order)", i+1, r.ID, tt.id)
			continue
		}
		dims := "categoria"
		if !r.ByCategory {
			dims = ""
			for _, d := range r.Dimensions {
				dims += string(d)
			}
		}
		if dims != tt.dims {
			t.Errorf("%s dims = %s, want %s", tt.id, dims, tt.dims)
		}
		for col, want := range tt.cells {
			if got := r.Levels[col].String(); got != want {
				t.Errorf("%s %s = %q, want %q", tt.id, LevelNames[col], got, want)
			}
		}
	}
}

// TestENSCellsCorrected pins the structure behind the cells the 2026-11-27
// proof-reading changed, so a later edit cannot quietly bring a choice back
// as a list of required reinforcements.
func TestENSCellsCorrected(t *testing.T) {
	c := mustCatalog(t, builtin(t), ENS)
	tests := []struct {
		id       string
		col      int
		required []string
		choices  [][]string
	}{
		{"op.pl.1", 2, []string{"R2"}, nil},
		{"op.acc.2", 1, nil, nil},
		{"op.acc.5", 0, nil, [][]string{{"R1", "R2", "R3", "R4"}}},
		{"op.acc.5", 1, []string{"R5"}, [][]string{{"R2", "R3", "R4"}}},
		{"op.acc.5", 2, []string{"R5"}, [][]string{{"R2", "R3", "R4"}}},
		{"op.acc.6", 0, []string{"R8", "R9"}, [][]string{{"R1", "R2", "R3", "R4"}}},
		{"op.acc.6", 1, []string{"R5", "R8", "R9"}, [][]string{{"R1", "R2", "R3", "R4"}}},
		{"op.acc.6", 2, []string{"R5", "R6", "R7", "R8", "R9"}, [][]string{{"R1", "R2", "R3", "R4"}}},
		{"op.exp.3", 1, []string{"R1"}, nil},
		{"op.exp.7", 2, []string{"R1", "R2", "R3"}, nil},
		{"mp.eq.3", 1, nil, nil},
		{"mp.com.1", 1, nil, nil},
		{"mp.com.1", 2, nil, nil},
		{"mp.com.4", 1, nil, [][]string{{"R1", "R2", "R3"}}},
		{"mp.com.4", 2, []string{"R4"}, [][]string{{"R2", "R3"}}},
		{"mp.si.2", 1, nil, nil},
		{"mp.info.3", 1, []string{"R1", "R2", "R3"}, nil},
		{"mp.info.3", 2, []string{"R1", "R2", "R3", "R4"}, nil},
		{"mp.s.2", 0, nil, [][]string{{"R1", "R2"}}},
		{"mp.s.2", 1, nil, [][]string{{"R1", "R2"}}},
		{"mp.s.2", 2, []string{"R2", "R3"}, nil},
		{"mp.s.3", 2, []string{"R1"}, nil},
	}
	for _, tt := range tests {
		r, err := c.Requirement(tt.id)
		if err != nil {
			t.Fatal(err)
		}
		lv := r.Levels[tt.col]
		if !lv.Applies {
			t.Errorf("%s %s does not apply", tt.id, LevelNames[tt.col])
		}
		if strings.Join(lv.Reinforcements, " ") != strings.Join(tt.required, " ") {
			t.Errorf("%s %s required = %v, want %v", tt.id, LevelNames[tt.col], lv.Reinforcements, tt.required)
		}
		if len(lv.Choices) != len(tt.choices) {
			t.Errorf("%s %s choices = %v, want %v", tt.id, LevelNames[tt.col], lv.Choices, tt.choices)
			continue
		}
		for i := range tt.choices {
			if strings.Join(lv.Choices[i], " ") != strings.Join(tt.choices[i], " ") {
				t.Errorf("%s %s choices = %v, want %v", tt.id, LevelNames[tt.col], lv.Choices, tt.choices)
			}
		}
	}
	// mp.si.1 does not apply at BAJO; the catalogue had it applying.
	if r, _ := c.Requirement("mp.si.1"); r.Levels[0].Applies {
		t.Errorf("mp.si.1 BAJO applies, want n.a.")
	}
}

// TestENSReinforcementNames pins the reinforcements by the names the decree
// gives them (sections 3 to 5), where the catalogue had them wrong or
// missing. The English titles are the team's.
func TestENSReinforcementNames(t *testing.T) {
	c := mustCatalog(t, builtin(t), ENS)
	tests := []struct{ id, rf, es string }{
		{"op.acc.3", "R1", "Segregación rigurosa"},
		{"op.acc.3", "R2", "Privilegios de auditoría"},
		{"op.acc.5", "R2", "Contraseña + OTP"},
		{"op.acc.6", "R2", "Contraseña + otro factor de autenticación"},
		{"op.acc.6", "R5", "Registro"},
		{"op.exp.3", "R3", "Copias de seguridad"},
		{"op.exp.7", "R3", "Reconfiguración dinámica"},
		{"op.exp.8", "R4", "Control de acceso"},
		{"op.ext.4", "R1", "Coordinación de actividades"},
		{"op.mon.1", "R2", "Procedimientos de respuesta"},
		{"op.mon.2", "R1", "Efectividad del sistema de gestión de incidentes"},
		{"op.mon.2", "R2", "Eficiencia del sistema de gestión de la seguridad"},
		{"mp.eq.1", "R1", "Almacenamiento del material"},
		{"mp.eq.3", "R2", "Entornos protegidos"},
		{"mp.com.4", "R4", "Puntos de interconexión"},
		{"mp.si.2", "R2", "Copias de seguridad"},
		{"mp.sw.2", "R1", "Pruebas"},
		{"mp.info.3", "R2", "Algoritmos y parámetros autorizados"},
		{"mp.info.3", "R3", "Verificación y validación de firma"},
		{"mp.info.3", "R4", "Firma electrónica avanzada basada en certificados cualificados"},
		{"mp.s.2", "R1", "Auditorías de seguridad"},
		{"mp.s.2", "R2", "Auditorías de seguridad avanzada"},
		{"mp.s.2", "R3", "Protección de las cachés"},
		{"mp.s.3", "R1", "Monitorización"},
		// Optional reinforcements: defined by the decree, required by no cell.
		{"org.2", "R1", "Documentos específicos"},
		{"op.pl.5", "R2", "Lista de componentes software"},
		{"mp.sw.1", "R5", "Lista de componentes software"},
		{"mp.info.3", "R5", "Firma electrónica cualificada"},
	}
	for _, tt := range tests {
		r, err := c.Requirement(tt.id)
		if err != nil {
			t.Fatal(err)
		}
		rf, ok := r.Reinforcement(tt.rf)
		if !ok {
			t.Errorf("%s has no %s, want %q", tt.id, tt.rf, tt.es)
			continue
		}
		if rf.TitleES != tt.es || rf.Title == "" {
			t.Errorf("%s %s = %q / %q, want %q and an English title", tt.id, tt.rf, rf.TitleES, rf.Title, tt.es)
		}
	}
	// mp.com.1 (Perímetro seguro) has no reinforcements in the decree.
	if r, _ := c.Requirement("mp.com.1"); len(r.Reinforcements) != 0 {
		t.Errorf("mp.com.1 reinforcements = %v, want none", r.Reinforcements)
	}
}

func FuzzParseLevelRule(f *testing.F) {
	for _, row := range anexoII {
		for _, cell := range row.cells {
			f.Add(cell)
		}
	}
	f.Add("+[R1oR2oR3]")
	f.Add("+ [R1 o R2")
	f.Add("+ R1 + [")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseLevelRule(s)
		if err != nil {
			return
		}
		// The rendering is canonical: it parses back to itself.
		out := r.String()
		back, err := ParseLevelRule(out)
		if err != nil {
			t.Fatalf("ParseLevelRule(%q) = %q, which does not parse: %v", s, out, err)
		}
		if back.String() != out {
			t.Fatalf("ParseLevelRule(%q): %q re-renders as %q", s, out, back.String())
		}
		if r.Applies != back.Applies || len(r.Reinforcements) != len(back.Reinforcements) || len(r.Choices) != len(back.Choices) {
			t.Fatalf("ParseLevelRule(%q) = %+v, re-parsed %+v", s, r, back)
		}
	})
}
