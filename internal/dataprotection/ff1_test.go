package dataprotection

import (
	"encoding/hex"
	"testing"
)

// TestFF1NISTSamples checks the FF1 sample vectors NIST published for
// SP 800-38G (AES-128, AES-192 and AES-256, samples 1–9).
func TestFF1NISTSamples(t *testing.T) {
	k128 := "2B7E151628AED2A6ABF7158809CF4F3C"
	k192 := k128 + "EF4359D8D580AA4F"
	k256 := k192 + "7F036D6F04FC6A94"
	tests := []struct {
		name, key string
		radix     int
		tweak, pt string
		ct        string
	}{
		{"sample1", k128, 10, "", "0123456789", "2433477484"},
		{"sample2", k128, 10, "39383736353433323130", "0123456789", "6124200773"},
		{"sample3", k128, 36, "3737373770717273373737", "0123456789abcdefghi", "a9tv40mll9kdu509eum"},
		{"sample4", k192, 10, "", "0123456789", "2830668132"},
		{"sample5", k192, 10, "39383736353433323130", "0123456789", "2496655549"},
		{"sample6", k192, 36, "3737373770717273373737", "0123456789abcdefghi", "xbj3kv35jrawxv32ysr"},
		{"sample7", k256, 10, "", "0123456789", "6657667009"},
		{"sample8", k256, 10, "39383736353433323130", "0123456789", "1001623463"},
		{"sample9", k256, 36, "3737373770717273373737", "0123456789abcdefghi", "xs8a0azh2avyalyzuwd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, _ := hex.DecodeString(tt.key)
			tweak, _ := hex.DecodeString(tt.tweak)
			f, err := NewFF1(key, tt.radix)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.Encrypt(tt.pt, tweak)
			if err != nil || got != tt.ct {
				t.Errorf("Encrypt(%q) = %q, %v, want %q", tt.pt, got, err, tt.ct)
			}
			back, err := f.Decrypt(tt.ct, tweak)
			if err != nil || back != tt.pt {
				t.Errorf("Decrypt(%q) = %q, %v, want %q", tt.ct, back, err, tt.pt)
			}
		})
	}
}

func TestFF1Domain(t *testing.T) {
	f, _ := NewFF1(make([]byte, 16), 10)
	for _, x := range []string{"", "1", "12345", "12a456"} {
		if _, err := f.Encrypt(x, nil); err == nil {
			t.Errorf("Encrypt(%q) succeeded, want a domain error", x)
		}
	}
}
