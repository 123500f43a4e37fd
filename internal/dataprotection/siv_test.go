package dataprotection

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestSIVRFC5297 checks the test vectors of RFC 5297 appendix A.
func TestSIVRFC5297(t *testing.T) {
	cases := []struct {
		name, key, pt, want string
		ad                  []string
	}{
		{
			name: "A.1 deterministic",
			key:  "fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0 f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff",
			ad:   []string{"10111213 14151617 18191a1b 1c1d1e1f 20212223 24252627"},
			pt:   "11223344 55667788 99aabbcc ddee",
			want: "85632d07 c6e8f37f 950acd32 0a2ecc93 40c02b96 90c4dc04 daef7f6a fe5c",
		},
		{
			name: "A.2 nonce-based",
			key:  "7f7e7d7c 7b7a7978 77767574 73727170 40414243 44454647 48494a4b 4c4d4e4f",
			ad: []string{
				"00112233 44556677 8899aabb ccddeeff deaddada deaddada ffeeddcc bbaa9988 77665544 33221100",
				"10203040 50607080 90a0",
				"09f91102 9d74e35b d84156c5 635688c0",
			},
			pt: "74686973 20697320 736f6d65 20706c61 696e7465 78742074 6f20656e 63727970 74207573 696e6720 5349562d 414553",
			want: "7bdb6e3b 432667eb 06f4d14b ff2fbd0f cb900f2f ddbe4043 26601965 c889bf17 dba77ceb 094fa663 b7a3f748 ba8af829" +
				" ea64ad54 4a272e9c 485b62a3 fd5c0d",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewSIV(unhex(t, c.key))
			if err != nil {
				t.Fatal(err)
			}
			var ad [][]byte
			for _, a := range c.ad {
				ad = append(ad, unhex(t, a))
			}
			pt, want := unhex(t, c.pt), unhex(t, c.want)
			got := s.Seal(pt, ad...)
			if !bytes.Equal(got, want) {
				t.Fatalf("Seal = %x, want %x", got, want)
			}
			back, err := s.Open(got, ad...)
			if err != nil || !bytes.Equal(back, pt) {
				t.Fatalf("Open = %x, %v; want %x", back, err, pt)
			}
			for i := range got {
				bad := bytes.Clone(got)
				bad[i] ^= 1
				if _, err := s.Open(bad, ad...); err != ErrSIVOpen {
					t.Fatalf("Open with byte %d flipped: err = %v, want ErrSIVOpen", i, err)
				}
			}
			if _, err := s.Open(got, append(ad, []byte("x"))...); err != ErrSIVOpen {
				t.Fatalf("Open with other associated data: err = %v", err)
			}
		})
	}
}

func TestSIVKeysAndShortInput(t *testing.T) {
	for _, n := range []int{0, 16, 31, 65} {
		if _, err := NewSIV(make([]byte, n)); err == nil {
			t.Errorf("NewSIV(%d-byte key) accepted", n)
		}
	}
	s, err := NewSIV(bytes.Repeat([]byte{7}, 64))
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range []string{"", "a", "0123456789abcdef", "0123456789abcdef0"} {
		ct := s.Seal([]byte(pt), []byte("CREDIT_CARD"))
		back, err := s.Open(ct, []byte("CREDIT_CARD"))
		if err != nil || string(back) != pt {
			t.Errorf("round trip of %q = %q, %v", pt, back, err)
		}
	}
	if _, err := s.Open([]byte("short"), nil); err != ErrSIVOpen {
		t.Errorf("Open(short) err = %v", err)
	}
}

func FuzzSIVOpen(f *testing.F) {
	s, err := NewSIV(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(s.Seal([]byte("4111 1111 1111 1111"), []byte("CREDIT_CARD")), []byte("CREDIT_CARD"))
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, ct, ad []byte) {
		pt, err := s.Open(ct, ad)
		if err != nil {
			return
		}
		if !bytes.Equal(s.Seal(pt, ad), ct) {
			t.Fatalf("Open accepted %x but Seal of the plaintext differs", ct)
		}
	})
}

func TestOperatorEncryptSIV(t *testing.T) {
	key := bytes.Repeat([]byte{9}, 32)
	op, err := NewOperator(OpEncryptSIV, key)
	if err != nil {
		t.Fatal(err)
	}
	a, err := op.Apply(CreditCard, []byte("4111 1111 1111 1111"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := op.Apply(CreditCard, []byte("4111 1111 1111 1111"))
	if !bytes.Equal(a, b) || !bytes.HasPrefix(a, []byte("<SIV:CREDIT_CARD:")) || bytes.Contains(a, []byte("4111")) {
		t.Fatalf("Apply = %s and %s, want equal deterministic ciphertexts", a, b)
	}
	if c, _ := op.Apply(CreditCard, []byte("5500 0000 0000 0004")); bytes.Equal(a, c) {
		t.Fatal("two card numbers gave the same ciphertext")
	}
	back, err := op.Reveal(a)
	if err != nil || string(back) != "4111 1111 1111 1111" {
		t.Fatalf("Reveal = %q, %v", back, err)
	}
	// The entity is authenticated: moving the ciphertext to another entity fails.
	moved := bytes.Replace(a, []byte("CREDIT_CARD"), []byte("IBAN_CODE"), 1)
	if _, err := op.Reveal(moved); err == nil {
		t.Fatal("Reveal accepted a ciphertext moved to another entity")
	}
	other, _ := NewOperator(OpEncryptSIV, bytes.Repeat([]byte{8}, 32))
	if _, err := other.Reveal(a); err == nil {
		t.Fatal("another key revealed the value")
	}
	if _, err := op.Reveal([]byte("<ENC:CREDIT_CARD:xx>")); err != ErrNotOurs {
		t.Fatalf("Reveal(GCM token) err = %v, want ErrNotOurs", err)
	}
}
