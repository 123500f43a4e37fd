package magerit

import (
	"strings"
	"testing"
)

func FuzzParseModel(f *testing.F) {
	f.Add(contactCenterYAML)
	f.Add([]byte("assets:\n  - {id: a, type: S, value: {D: 5}}\n  - {id: b, type: HW}\ndependencies:\n  - {upper: a, lower: b}\nthreats:\n  - {id: t, code: I.5, asset: b, degradation: {D: 0.5}, frequency: 1}\n"))
	f.Add([]byte("assets:\n  - {id: a, type: S}\n  - {id: b, type: HW}\ndependencies:\n  - {upper: a, lower: b}\n  - {upper: b, lower: a}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseModel("fuzz.yaml", b)
		if err != nil {
			if m != nil {
				t.Fatal("ParseModel returned a model with an error")
			}
			return
		}
		acc, err := m.Accumulated()
		if err != nil {
			t.Fatalf("Accumulated of a valid model: %v", err)
		}
		for _, a := range m.Assets {
			for d, x := range a.Value {
				if acc[a.ID][d] < x {
					t.Fatalf("accumulated %s[%s] = %d below own value %d", a.ID, d, acc[a.ID][d], x)
				}
			}
		}
		an, err := m.Analyse()
		if err != nil {
			t.Fatalf("Analyse of a valid model: %v", err)
		}
		for i, r := range an.Residual {
			if r.Level > an.Potential[i].Level {
				t.Fatalf("residual risk %v above potential %v", r.Level, an.Potential[i].Level)
			}
		}
		svg := HeatMap("fuzz", an.Potential)
		if !strings.HasPrefix(svg, "<svg") || strings.Count(svg, "<rect ") != 25 {
			t.Fatal("HeatMap output malformed")
		}
	})
}
