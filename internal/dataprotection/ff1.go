package dataprotection

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"math"
	"math/big"
)

// FF1 is the format-preserving encryption mode FF1 of NIST SP 800-38G
// over AES, for strings of digits in a given radix (2–36).
type FF1 struct {
	block cipher.Block
	radix int
}

// NewFF1 returns an FF1 cipher for the given AES key (16, 24 or 32 bytes).
func NewFF1(key []byte, radix int) (*FF1, error) {
	if radix < 2 || radix > 36 {
		return nil, fmt.Errorf("ff1: radix %d out of range 2–36", radix)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("ff1: %w", err)
	}
	return &FF1{block: b, radix: radix}, nil
}

const ff1Alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// ErrFF1Domain reports an input too short for FF1's security bound
// (radix^len ≥ 1,000,000) or holding symbols outside the radix.
var ErrFF1Domain = errors.New("ff1: input outside the domain")

// Encrypt enciphers the numeral string x (symbols of ff1Alphabet) under tweak.
func (f *FF1) Encrypt(x string, tweak []byte) (string, error) { return f.crypt(x, tweak, true) }

// Decrypt reverses Encrypt.
func (f *FF1) Decrypt(x string, tweak []byte) (string, error) { return f.crypt(x, tweak, false) }

func (f *FF1) crypt(x string, tweak []byte, enc bool) (string, error) {
	n := len(x)
	radix := f.radix
	if n < 2 || float64(n)*math.Log10(float64(radix)) < 6 || n > 1<<16 {
		return "", ErrFF1Domain
	}
	for i := 0; i < n; i++ {
		if symbolValue(x[i]) < 0 || symbolValue(x[i]) >= radix {
			return "", ErrFF1Domain
		}
	}
	u := n / 2
	v := n - u
	a, b := x[:u], x[u:]
	bl := int(math.Ceil(math.Ceil(float64(v)*math.Log2(float64(radix))) / 8))
	d := 4*((bl+3)/4) + 4
	t := len(tweak)

	p := [16]byte{1, 2, 1, byte(radix >> 16), byte(radix >> 8), byte(radix), 10, byte(u % 256),
		byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), byte(t >> 24), byte(t >> 16), byte(t >> 8), byte(t)}
	pad := (16 - (t+bl+1)%16) % 16
	q := make([]byte, t+pad+1+bl)
	copy(q, tweak)

	bigRadix := big.NewInt(int64(radix))
	modU := new(big.Int).Exp(bigRadix, big.NewInt(int64(u)), nil)
	modV := new(big.Int).Exp(bigRadix, big.NewInt(int64(v)), nil)
	var r [16]byte
	s := make([]byte, ((d+15)/16)*16)
	y, c := new(big.Int), new(big.Int)

	round := func(i int, in string) {
		q[t+pad] = byte(i)
		numB := num(in, radix)
		nb := numB.Bytes()
		for k := t + pad + 1; k < len(q); k++ {
			q[k] = 0
		}
		copy(q[len(q)-len(nb):], nb)
		// R = PRF(P || Q): CBC-MAC with a zero IV.
		r = [16]byte{}
		f.block.Encrypt(r[:], p[:])
		for off := 0; off < len(q); off += 16 {
			for k := 0; k < 16; k++ {
				r[k] ^= q[off+k]
			}
			f.block.Encrypt(r[:], r[:])
		}
		copy(s, r[:])
		for j := 1; j*16 < d; j++ {
			var blk [16]byte
			blk = r
			jj := uint64(j)
			for k := 0; k < 8; k++ {
				blk[15-k] ^= byte(jj >> (8 * k))
			}
			f.block.Encrypt(s[j*16:], blk[:])
		}
		y.SetBytes(s[:d])
	}
	if enc {
		for i := 0; i < 10; i++ {
			round(i, b)
			m, mod := u, modU
			if i%2 == 1 {
				m, mod = v, modV
			}
			c.Add(num(a, radix), y)
			c.Mod(c, mod)
			a, b = b, str(c, radix, m)
		}
	} else {
		for i := 9; i >= 0; i-- {
			round(i, a)
			m, mod := u, modU
			if i%2 == 1 {
				m, mod = v, modV
			}
			c.Sub(num(b, radix), y)
			c.Mod(c, mod)
			b, a = a, str(c, radix, m)
		}
	}
	return a + b, nil
}

func symbolValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	}
	return -1
}

func num(x string, radix int) *big.Int {
	r := new(big.Int)
	br := big.NewInt(int64(radix))
	for i := 0; i < len(x); i++ {
		r.Mul(r, br)
		r.Add(r, big.NewInt(int64(symbolValue(x[i]))))
	}
	return r
}

func str(v *big.Int, radix, m int) string {
	out := make([]byte, m)
	x := new(big.Int).Set(v)
	br := big.NewInt(int64(radix))
	mod := new(big.Int)
	for i := m - 1; i >= 0; i-- {
		x.DivMod(x, br, mod)
		out[i] = ff1Alphabet[mod.Int64()]
	}
	return string(out)
}
