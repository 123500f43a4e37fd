package dataprotection

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// phoneCases returns national numbers to try for region metadata m: the
// example numbers of each type, each with every digit changed, one digit
// dropped or added, and random numbers that share a prefix with them.
func phoneCases(m *phonenumbers.PhoneMetadata, r *rand.Rand) []string {
	var ex []string
	for _, d := range []*phonenumbers.PhoneNumberDesc{m.GetGeneralDesc(), m.GetFixedLine(), m.GetMobile(), m.GetTollFree(),
		m.GetPremiumRate(), m.GetSharedCost(), m.GetPersonalNumber(), m.GetVoip(), m.GetPager(), m.GetUan(), m.GetVoicemail()} {
		if e := d.GetExampleNumber(); e != "" {
			ex = append(ex, e)
		}
	}
	var out []string
	for _, e := range ex {
		out = append(out, e, "0"+e, e+"5", e[:len(e)-1])
		for i := range len(e) {
			b := []byte(e)
			b[i] = byte('0' + r.IntN(10))
			out = append(out, string(b))
		}
		for range 20 {
			p := r.IntN(len(e) + 1)
			n := 4 + r.IntN(11)
			b := []byte(e[:min(p, n)])
			for len(b) < n {
				b = append(b, byte('0'+r.IntN(10)))
			}
			out = append(out, string(b))
		}
	}
	for range 30 {
		n := 4 + r.IntN(11)
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		out = append(out, string(b))
	}
	return out
}

// TestPhoneValidatorMatchesLibrary checks that the compiled automata give
// libphonenumber's answers, for every calling code and region in its
// metadata, without and with a region.
func TestPhoneValidatorMatchesLibrary(t *testing.T) {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	fallbacks, checked, valid := 0, 0, 0
	for _, m := range coll.GetMetadata() {
		cc := int(m.GetCountryCode())
		code := m.GetId()
		if code != "001" {
			r, fb, ok := phoneRules.region(code)
			if !ok || fb {
				fallbacks++
			} else if _, fb := r.valid([]byte("1234567")); fb {
				fallbacks++
			}
		}
		for _, n := range phoneCases(m, r) {
			nat := []byte(n)
			got, want := validPhone(cc, nat, ""), libraryValidPhone(cc, nat, "")
			if got != want {
				t.Errorf("validPhone(%d, %s, \"\") = %v, library %v", cc, n, got, want)
			}
			if code != "001" {
				got, want = validPhone(cc, nat, code), libraryValidPhone(cc, nat, code)
				if got != want {
					t.Errorf("validPhone(%d, %s, %s) = %v, library %v", cc, n, code, got, want)
				}
				// A region of another calling code is never valid.
				if got, want := validPhone(cc+1, nat, code), libraryValidPhone(cc+1, nat, code); got != want {
					t.Errorf("validPhone(%d, %s, %s) = %v, library %v", cc+1, n, code, got, want)
				}
			}
			checked++
			if want {
				valid++
			}
		}
	}
	t.Logf("%d numbers checked (%d valid), %d of %d regions answered by the library", checked, valid, fallbacks, len(coll.GetMetadata()))
	if valid < checked/10 {
		t.Errorf("only %d of %d cases are valid numbers: the cases do not exercise the patterns", valid, checked)
	}
	if fallbacks > 0 {
		t.Errorf("%d regions have no automaton: the library answers for them", fallbacks)
	}
}

// TestPhoneValidatorSweep compares the two on every prefix of the number
// ranges the scanner meets most: Spanish numbers (9 digits), NANP (10)
// and British numbers (10), each with every five-digit prefix, and
// Italian ones (every three-digit prefix, leading zeros included).
func TestPhoneValidatorSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("long sweep")
	}
	r := rand.New(rand.NewPCG(3, 4))
	sweep := func(cc int, region string, prefixDigits, length int) {
		lim := 1
		for range prefixDigits {
			lim *= 10
		}
		for p := range lim {
			b := []byte(strconv.Itoa(p))
			for len(b) < prefixDigits {
				b = slices.Insert(b, 0, '0')
			}
			for len(b) < length {
				b = append(b, byte('0'+r.IntN(10)))
			}
			for _, reg := range []string{"", region} {
				if got, want := validPhone(cc, b, reg), libraryValidPhone(cc, b, reg); got != want {
					t.Fatalf("validPhone(%d, %s, %q) = %v, library %v", cc, b, reg, got, want)
				}
			}
		}
	}
	sweep(34, "ES", 5, 9)
	sweep(1, "", 5, 10)
	sweep(44, "GB", 5, 10)
	sweep(39, "IT", 3, 10)
}

// FuzzPhoneValidator compares the automata with the library on arbitrary
// calling codes and digit strings.
func FuzzPhoneValidator(f *testing.F) {
	f.Add(34, "612345678", "ES")
	f.Add(1, "2025550123", "")
	f.Add(44, "2079460000", "GB")
	f.Add(39, "0612345678", "")
	f.Add(800, "12345678", "")
	f.Fuzz(func(t *testing.T, cc int, digits, region string) {
		if cc < 0 || cc > 999 || len(digits) > 16 {
			return
		}
		b := []byte(digits)
		if !allDigits(b) {
			return
		}
		if region != "" && region != "ES" && region != "GB" && region != "US" && region != "IT" {
			return
		}
		if got, want := validPhone(cc, b, region), libraryValidPhone(cc, b, region); got != want {
			t.Fatalf("validPhone(%d, %s, %q) = %v, library %v", cc, digits, region, got, want)
		}
	})
}

func BenchmarkValidPhone(b *testing.B) {
	nums := [][]byte{[]byte("612345678"), []byte("912345678"), []byte("2025550123"), []byte("2079460000")}
	ccs := []int{34, 34, 1, 44}
	regs := []string{"ES", "ES", "", "GB"}
	b.Run("automata", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			k := i & 3
			validPhone(ccs[k], nums[k], regs[k])
		}
	})
	b.Run("library", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			k := i & 3
			libraryValidPhone(ccs[k], nums[k], regs[k])
		}
	})
}
