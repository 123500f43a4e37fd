package dataprotection

import "testing"

func TestNormalizeNumbers(t *testing.T) {
	s := newTestScanner(t, Options{})
	tests := []struct{ in, want string }{
		{"cuatro cinco siete uno", "4571"},
		{"four five seven one", "4571"},
		{"doble cinco", "55"},
		{"double oh seven", "007"},
		{"seiscientos doce", "612"},
		{"treinta y nueve", "39"},
		{"treinta nueve", "309"},
		{"forty five", "45"},
		{"four hundred and twelve", "412"},
		{"dos mil veintisiete", "2027"},
		{"cuatro, cinco... siete - uno", "4571"},
		{"cuatro eh cinco", "45"},
		{"4571 siete tres", "457173"},
		{"4571-7360", "45717360"},
	}
	for _, tt := range tests {
		runs := s.NormalizeNumbers([]byte(tt.in))
		if len(runs) != 1 || runs[0].Digits != tt.want {
			t.Errorf("NormalizeNumbers(%q) = %+v, want one run %s", tt.in, runs, tt.want)
		}
	}
}
