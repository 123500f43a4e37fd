package dataprotection

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"errors"
	"fmt"
)

// SIV is AES-SIV (RFC 5297): deterministic authenticated encryption. The
// same plaintext and associated data always give the same ciphertext (so
// encrypted values still join across records), and any change to the
// ciphertext or the associated data is detected. The key is 32, 48 or 64
// bytes: its first half keys S2V (AES-CMAC), its second half AES-CTR.
type SIV struct {
	mac cmac
	ctr cipher.Block
}

// SIVTagSize is the length of the synthetic IV that starts a ciphertext.
const SIVTagSize = aes.BlockSize

// ErrSIVOpen reports a ciphertext that is not authentic under the key and
// associated data.
var ErrSIVOpen = errors.New("siv: message authentication failed")

// NewSIV returns AES-SIV keyed with key (32, 48 or 64 bytes).
func NewSIV(key []byte) (*SIV, error) {
	switch len(key) {
	case 32, 48, 64:
	default:
		return nil, fmt.Errorf("siv: key of %d bytes (want 32, 48 or 64)", len(key))
	}
	h := len(key) / 2
	macBlock, err := aes.NewCipher(key[:h])
	if err != nil {
		return nil, err
	}
	ctr, err := aes.NewCipher(key[h:])
	if err != nil {
		return nil, err
	}
	return &SIV{mac: newCMAC(macBlock), ctr: ctr}, nil
}

// Seal returns V || C for plaintext under the associated data (any number
// of components, in order; a nonce, when used, is the last one).
func (s *SIV) Seal(plaintext []byte, ad ...[]byte) []byte {
	v := s.s2v(ad, plaintext)
	out := make([]byte, SIVTagSize+len(plaintext))
	copy(out, v[:])
	s.xorCTR(out[SIVTagSize:], plaintext, v)
	return out
}

// Open checks and decrypts a Seal output.
func (s *SIV) Open(ciphertext []byte, ad ...[]byte) ([]byte, error) {
	if len(ciphertext) < SIVTagSize {
		return nil, ErrSIVOpen
	}
	var v [aes.BlockSize]byte
	copy(v[:], ciphertext[:SIVTagSize])
	pt := make([]byte, len(ciphertext)-SIVTagSize)
	s.xorCTR(pt, ciphertext[SIVTagSize:], v)
	t := s.s2v(ad, pt)
	if subtle.ConstantTimeCompare(t[:], v[:]) != 1 {
		clear(pt)
		return nil, ErrSIVOpen
	}
	return pt, nil
}

// xorCTR runs AES-CTR from the counter Q (V with bits 63 and 31 cleared).
func (s *SIV) xorCTR(dst, src []byte, v [aes.BlockSize]byte) {
	q := v
	q[8] &= 0x7f
	q[12] &= 0x7f
	cipher.NewCTR(s.ctr, q[:]).XORKeyStream(dst, src)
}

// s2v is RFC 5297's S2V over the associated data and the plaintext.
func (s *SIV) s2v(ad [][]byte, plaintext []byte) [aes.BlockSize]byte {
	var zero [aes.BlockSize]byte
	d := s.mac.sum(zero[:])
	for _, a := range ad {
		d = dbl(d)
		m := s.mac.sum(a)
		subtle.XORBytes(d[:], d[:], m[:])
	}
	if len(plaintext) >= aes.BlockSize {
		t := make([]byte, len(plaintext))
		copy(t, plaintext)
		tail := t[len(t)-aes.BlockSize:]
		subtle.XORBytes(tail, tail, d[:])
		return s.mac.sum(t)
	}
	d = dbl(d)
	var t [aes.BlockSize]byte
	copy(t[:], plaintext)
	t[len(plaintext)] = 0x80
	subtle.XORBytes(t[:], t[:], d[:])
	return s.mac.sum(t[:])
}

// dbl multiplies by x in GF(2^128) (RFC 5297 section 2.3).
func dbl(b [aes.BlockSize]byte) [aes.BlockSize]byte {
	var out [aes.BlockSize]byte
	carry := b[0] >> 7
	for i := 0; i < aes.BlockSize-1; i++ {
		out[i] = b[i]<<1 | b[i+1]>>7
	}
	out[aes.BlockSize-1] = b[aes.BlockSize-1] << 1
	out[aes.BlockSize-1] ^= 0x87 * carry
	return out
}

// cmac is AES-CMAC (RFC 4493, NIST SP 800-38B).
type cmac struct {
	block  cipher.Block
	k1, k2 [aes.BlockSize]byte
}

func newCMAC(b cipher.Block) cmac {
	var l [aes.BlockSize]byte
	b.Encrypt(l[:], l[:])
	k1 := dbl(l)
	return cmac{block: b, k1: k1, k2: dbl(k1)}
}

func (c *cmac) sum(msg []byte) [aes.BlockSize]byte {
	var x [aes.BlockSize]byte
	n := len(msg)
	// All blocks but the last are chained as they are.
	full := 0
	if n > 0 {
		full = (n - 1) / aes.BlockSize
	}
	for i := 0; i < full; i++ {
		subtle.XORBytes(x[:], x[:], msg[i*aes.BlockSize:(i+1)*aes.BlockSize])
		c.block.Encrypt(x[:], x[:])
	}
	last := msg[full*aes.BlockSize:]
	var m [aes.BlockSize]byte
	if n > 0 && len(last) == aes.BlockSize {
		copy(m[:], last)
		subtle.XORBytes(m[:], m[:], c.k1[:])
	} else {
		copy(m[:], last)
		m[len(last)] = 0x80
		subtle.XORBytes(m[:], m[:], c.k2[:])
	}
	subtle.XORBytes(x[:], x[:], m[:])
	c.block.Encrypt(x[:], x[:])
	return x
}
