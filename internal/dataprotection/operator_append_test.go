package dataprotection

import (
	"bytes"
	"strings"
	"testing"
)

// appendApplyValues are values of every shape mask distinguishes: PANs of
// 12, 13 and 19 digits, spoken numbers, e-mails with short and long local
// parts, non-ASCII letters, separators only, nothing at all.
var appendApplyValues = []string{
	"", " ", ",", "@", "a@b", "ab@c.es", "abc@example.com", "maría.lópez@correo.es", "no-at-sign",
	"4111 1111 1111 1111", "4111-1111-1111-1111", "411111111111", "4111111111111", "4111111111111111111",
	"ES91 2100 0418 4502 0005 1332", "GB82WEST12345698765432", "+34 612 345 678", "612345678", "12345678",
	"12345678Z", "X1234567L", "123", "12/27", "cuatro uno uno uno, dos", "seis uno dos tres",
	"José Álvarez", "Calle Mayor 5, 28013 Madrid", "https://example.com/a?b=c", "192.168.0.1",
	"fe80::1", "1980-02-29", "AB 12 34 56 C", "078-05-1120", "1234 BCD", "\xff\xfe4111", "ñ1ñ2ñ3",
}

// TestAppendApplyMatchesApply: AppendApply appends exactly the bytes Apply
// returns, for every operator, entity and value shape, after whatever dst
// already holds.
func TestAppendApplyMatchesApply(t *testing.T) {
	for _, kind := range OperatorKinds() {
		op := testOperator(t, kind)
		for _, e := range AllEntities() {
			for _, v := range appendApplyValues {
				got, err := op.AppendApply([]byte("prefix|"), e, []byte(v))
				if err != nil {
					t.Fatalf("%s.AppendApply(%s, %q): %v", kind, e, v, err)
				}
				if !bytes.HasPrefix(got, []byte("prefix|")) {
					t.Fatalf("%s.AppendApply(%s, %q) = %q, lost the prefix", kind, e, v, got)
				}
				got = got[len("prefix|"):]
				if kind == OpEncrypt { // random nonce: compare what it reveals
					pt, err := op.Reveal(got)
					if err != nil || string(pt) != v {
						t.Errorf("encrypt.AppendApply(%s, %q) reveals %q, %v", e, v, pt, err)
					}
					continue
				}
				want, err := op.Apply(e, []byte(v))
				if err != nil {
					t.Fatalf("%s.Apply(%s, %q): %v", kind, e, v, err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s.AppendApply(%s, %q) = %q, want %q (Apply)", kind, e, v, got, want)
				}
			}
		}
	}
}

// TestAppendMaskNoAlloc: masking into a buffer with room allocates nothing.
func TestAppendMaskNoAlloc(t *testing.T) {
	op := testOperator(t, OpMask)
	buf := make([]byte, 0, 256)
	v := []byte("4111 1111 1111 1111")
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = op.AppendApply(buf[:0], CreditCard, v)
	})
	if allocs != 0 {
		t.Errorf("AppendApply(mask) allocates %v times per call, want 0", allocs)
	}
	if string(buf) != "4111 11** **** 1111" {
		t.Errorf("AppendApply(mask) = %q", buf)
	}
}

// maskRef is the allocating mask that appendMask replaced, kept as the
// reference of its rules.
func maskRef(e Entity, v []byte) []byte {
	out := make([]byte, len(v))
	copy(out, v)
	digits := 0
	for _, c := range v {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	keepHead, keepTail := 0, 0
	switch e {
	case CreditCard:
		if digits >= 13 {
			keepHead, keepTail = 6, 4
		} else if digits >= 12 {
			keepHead, keepTail = 4, 4
		}
	case IBANCode:
		keepHead, keepTail = 2, 4
	case PhoneNumber:
		if digits >= 9 {
			keepTail = 3
		}
	case EmailAddress:
		at := strings.IndexByte(string(v), '@')
		from := 1
		if at <= 2 { // a one- or two-letter local part would show (almost) whole
			from = 0
		}
		for i := from; i < at; i++ {
			out[i] = '*'
		}
		return out
	}
	// Count positions of alphanumerics from both ends.
	total := 0
	for _, c := range v {
		if isAlnumASCII(c) {
			total++
		}
	}
	k := 0
	for i, c := range v {
		if c >= 0x80 {
			out[i] = '*'
			continue
		}
		if !isAlnumASCII(c) {
			continue
		}
		if k >= keepHead && k < total-keepTail || digits == 0 {
			out[i] = '*'
		}
		k++
	}
	if digits == 0 { // spoken numbers: hide the words entirely
		for i := range out {
			if out[i] != ' ' && out[i] != ',' {
				out[i] = '*'
			}
		}
	}
	return out
}

// FuzzAppendMask checks that appendMask after a prefix keeps the prefix
// and appends what the reference mask returns, on arbitrary values.
func FuzzAppendMask(f *testing.F) {
	for i, v := range appendApplyValues {
		f.Add(uint8(i), []byte(v))
	}
	all := AllEntities()
	f.Fuzz(func(t *testing.T, ei uint8, v []byte) {
		e := all[int(ei)%len(all)]
		want := maskRef(e, v)
		got := appendMask([]byte("x"), e, v)
		if string(got[1:]) != string(want) || got[0] != 'x' {
			t.Errorf("appendMask(%s, %q) = %q, want x%q", e, v, got, want)
		}
	})
}

// BenchmarkMask compares Apply with AppendApply into a reused buffer on a
// card, a phone number and an e-mail address.
func BenchmarkMask(b *testing.B) {
	op := testOperator(b, OpMask)
	vals := []struct {
		e Entity
		v []byte
	}{{CreditCard, []byte("4111 1111 1111 1111")}, {PhoneNumber, []byte("+34 612 345 678")}, {EmailAddress, []byte("ana.lopez@example.com")}}
	b.Run("Apply", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, x := range vals {
				op.Apply(x.e, x.v)
			}
		}
	})
	b.Run("AppendApply", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 64)
		for b.Loop() {
			for _, x := range vals {
				buf, _ = op.AppendApply(buf[:0], x.e, x.v)
			}
		}
	})
}
