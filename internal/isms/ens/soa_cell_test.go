package ens

import "testing"

func TestReinforcementCell(t *testing.T) {
	for _, tt := range []struct {
		e    SoAEntry
		want string
	}{
		{SoAEntry{Measure: "op.pl.2"}, ""},
		{SoAEntry{Reinforcements: []string{"R1", "R2"}}, "R1 R2"},
		{SoAEntry{Choices: [][]string{{"R1", "R2", "R3", "R4"}}, Reinforcements: []string{"R5", "R8", "R9"}}, "[R1 o R2 o R3 o R4] R5 R8 R9"},
		{SoAEntry{Choices: [][]string{{"R2", "R3"}}}, "[R2 o R3]"},
	} {
		if got := tt.e.ReinforcementCell(); got != tt.want {
			t.Errorf("ReinforcementCell(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}
