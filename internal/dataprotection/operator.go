package dataprotection

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Operator kinds.
const (
	OpRedact  = "redact"  // <CREDIT_CARD>
	OpMask    = "mask"    // 411111******1111; nothing of a CVV
	OpHash    = "hash"    // keyed HMAC-SHA-256: equal values join across records
	OpToken   = "token"   // short deterministic token
	OpEncrypt = "encrypt" // AES-256-GCM, reversible with the key
	// OpEncryptSIV is deterministic authenticated encryption (AES-SIV,
	// RFC 5297): equal values give equal ciphertexts, reversible with the key.
	OpEncryptSIV = "encrypt-siv"
	OpFPE        = "fpe" // FF1 on card numbers: a card-shaped value
)

// OperatorKinds lists the operators in the order the CLI documents them.
func OperatorKinds() []string {
	return []string{OpRedact, OpMask, OpHash, OpToken, OpEncrypt, OpEncryptSIV, OpFPE}
}

// MinKeyLen is the shortest key the keyed operators accept.
const MinKeyLen = 16

// Operator turns a sensitive value into its replacement.
type Operator struct {
	kind     string
	hashKey  []byte
	tokenKey []byte
	aead     cipher.AEAD
	siv      *SIV
	ff1      *FF1
}

// NewOperator returns the operator kind. hash, token, encrypt and fpe need
// a key of at least MinKeyLen bytes; sub-keys for each use are derived
// from it with HKDF-SHA-256, so one key file serves every operator.
func NewOperator(kind string, key []byte) (*Operator, error) {
	o := &Operator{kind: kind}
	switch kind {
	case OpRedact, OpMask:
		return o, nil
	case OpHash, OpToken, OpEncrypt, OpEncryptSIV, OpFPE:
	default:
		return nil, fmt.Errorf("unknown operator %q (want %s)", kind, strings.Join(OperatorKinds(), ", "))
	}
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("operator %s needs a key of at least %d bytes, got %d", kind, MinKeyLen, len(key))
	}
	derive := func(label string) ([]byte, error) {
		n := 32
		if label == OpEncryptSIV {
			n = 64 // AES-256-SIV: a CMAC key and a CTR key
		}
		return hkdf.Key(sha256.New, key, nil, "custodia/dataprotection/"+label, n)
	}
	var err error
	if o.hashKey, err = derive("hash"); err != nil {
		return nil, err
	}
	if o.tokenKey, err = derive("token"); err != nil {
		return nil, err
	}
	encKey, err := derive("encrypt")
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, err
	}
	if o.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	sivKey, err := derive(OpEncryptSIV)
	if err != nil {
		return nil, err
	}
	if o.siv, err = NewSIV(sivKey); err != nil {
		return nil, err
	}
	fpeKey, err := derive("fpe")
	if err != nil {
		return nil, err
	}
	if o.ff1, err = NewFF1(fpeKey, 10); err != nil {
		return nil, err
	}
	return o, nil
}

// Kind returns the operator's name.
func (o *Operator) Kind() string { return o.kind }

// normalize reduces a value to its upper-case letters and digits so that
// "4111 1111…" and "4111-1111…" hash alike; other values are kept.
func normalize(e Entity, v []byte) []byte {
	switch e {
	case EmailAddress, URL, Person, Location:
		return []byte(strings.ToLower(string(v)))
	}
	out := make([]byte, 0, len(v))
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z':
			out = append(out, c-32)
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c >= 0x80:
			out = append(out, c)
		}
	}
	return out
}

// Apply returns the replacement for value, which the scanner reported as e.
func (o *Operator) Apply(e Entity, value []byte) ([]byte, error) {
	switch o.kind {
	case OpRedact:
		return []byte("<" + string(e) + ">"), nil
	case OpMask:
		return mask(e, value), nil
	case OpHash:
		m := hmac.New(sha256.New, o.hashKey)
		m.Write([]byte(e))
		m.Write([]byte{0})
		m.Write(normalize(e, value))
		return []byte("<" + string(e) + ":" + hex.EncodeToString(m.Sum(nil)) + ">"), nil
	case OpToken:
		m := hmac.New(sha256.New, o.tokenKey)
		m.Write([]byte(e))
		m.Write([]byte{0})
		m.Write(normalize(e, value))
		tok := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)[:10])
		return []byte("TOK_" + string(e) + "_" + tok), nil
	case OpEncrypt:
		nonce := make([]byte, o.aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		ct := o.aead.Seal(nonce, nonce, value, []byte(e))
		return []byte("<ENC:" + string(e) + ":" + base64.RawURLEncoding.EncodeToString(ct) + ">"), nil
	case OpEncryptSIV:
		ct := o.siv.Seal(value, []byte(e))
		return []byte("<SIV:" + string(e) + ":" + base64.RawURLEncoding.EncodeToString(ct) + ">"), nil
	case OpFPE:
		if e == CreditCard {
			if out, ok := o.fpeCard(value, true); ok {
				return out, nil
			}
		}
		if e == CardCVV || e == CardExpiry {
			return mask(e, value), nil
		}
		tok := *o
		tok.kind = OpToken
		return tok.Apply(e, value)
	}
	return nil, fmt.Errorf("unknown operator %q", o.kind)
}

// AppendApply appends the replacement for value, which the scanner
// reported as e, to dst and returns the extended slice: the bytes Apply
// returns. For mask and redact it allocates nothing when dst has room, so
// a caller that handles many findings can reuse one buffer. value must not
// share memory with dst's spare capacity.
func (o *Operator) AppendApply(dst []byte, e Entity, value []byte) ([]byte, error) {
	switch o.kind {
	case OpRedact:
		dst = append(dst, '<')
		dst = append(dst, e...)
		return append(dst, '>'), nil
	case OpMask:
		return appendMask(dst, e, value), nil
	}
	rep, err := o.Apply(e, value)
	if err != nil {
		return dst, err
	}
	return append(dst, rep...), nil
}

// fpeCard enciphers the digits of a written PAN between the first six and
// the last four with FF1 (tweak: those ten digits), keeping separators, so
// the result is card-shaped and reversible with the key.
func (o *Operator) fpeCard(value []byte, enc bool) ([]byte, bool) {
	var digits []byte
	for _, c := range value {
		if c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	n := len(digits)
	if n < 12 || n > 19 {
		return nil, false
	}
	lo, hi := 6, n-4
	if hi-lo < 6 { // FF1 needs at least six decimal digits
		lo = hi - 6
	}
	tweak := append(append([]byte{}, digits[:lo]...), digits[hi:]...)
	var mid string
	var err error
	if enc {
		mid, err = o.ff1.Encrypt(string(digits[lo:hi]), tweak)
	} else {
		mid, err = o.ff1.Decrypt(string(digits[lo:hi]), tweak)
	}
	if err != nil {
		return nil, false
	}
	copy(digits[lo:hi], mid)
	out := make([]byte, len(value))
	k := 0
	for i, c := range value {
		if c >= '0' && c <= '9' {
			out[i] = digits[k]
			k++
		} else {
			out[i] = c
		}
	}
	return out, true
}

// ErrNotOurs reports a value that is not a token this operator produced.
var ErrNotOurs = errors.New("not a value produced by this operator")

// Reveal reverses an encrypt, encrypt-siv or fpe replacement with the
// operator's key. For fpe, pass the card-shaped value.
func (o *Operator) Reveal(replacement []byte) ([]byte, error) {
	switch o.kind {
	case OpEncryptSIV:
		s := string(replacement)
		if !strings.HasPrefix(s, "<SIV:") || !strings.HasSuffix(s, ">") {
			return nil, ErrNotOurs
		}
		entity, enc, ok := strings.Cut(s[5:len(s)-1], ":")
		if !ok {
			return nil, ErrNotOurs
		}
		ct, err := base64.RawURLEncoding.DecodeString(enc)
		if err != nil {
			return nil, ErrNotOurs
		}
		pt, err := o.siv.Open(ct, []byte(entity))
		if err != nil {
			return nil, fmt.Errorf("decrypt: %w", err)
		}
		return pt, nil
	case OpEncrypt:
		s := string(replacement)
		if !strings.HasPrefix(s, "<ENC:") || !strings.HasSuffix(s, ">") {
			return nil, ErrNotOurs
		}
		parts := strings.SplitN(s[5:len(s)-1], ":", 2)
		if len(parts) != 2 {
			return nil, ErrNotOurs
		}
		ct, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil || len(ct) < o.aead.NonceSize() {
			return nil, ErrNotOurs
		}
		ns := o.aead.NonceSize()
		pt, err := o.aead.Open(nil, ct[:ns], ct[ns:], []byte(parts[0]))
		if err != nil {
			return nil, fmt.Errorf("decrypt: %w", err)
		}
		return pt, nil
	case OpFPE:
		out, ok := o.fpeCard(replacement, false)
		if !ok {
			return nil, ErrNotOurs
		}
		return out, nil
	}
	return nil, fmt.Errorf("operator %s is not reversible", o.kind)
}

// mask hides a value: a written PAN keeps at most its first six and last
// four digits (PCI DSS); a CVV keeps nothing; an IBAN keeps its country
// and last four; an e-mail its first letter and domain; everything else
// keeps its separators only.
func mask(e Entity, v []byte) []byte {
	return appendMask(make([]byte, 0, len(v)), e, v)
}

// appendMask appends v masked by mask's rules (see there) to dst, without
// allocating when dst has room: one pass over v to count, one to hide.
func appendMask(dst []byte, e Entity, v []byte) []byte {
	n := len(dst)
	dst = append(dst, v...)
	out := dst[n:]
	digits, total := 0, 0
	for _, c := range v {
		k := maskClass[c]
		digits += int(k & maskDigit)
		total += int(k&maskAlnum) >> 1
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
		at := bytes.IndexByte(v, '@')
		from := 1
		if at <= 2 {
			from = 0
		}
		for i := from; i < at; i++ {
			out[i] = '*'
		}
		return dst
	}
	if digits == 0 { // spoken numbers: only blanks and commas stay
		for i, c := range v {
			if c != ' ' && c != ',' {
				out[i] = '*'
			}
		}
		return dst
	}
	k, hideTo := 0, total-keepTail
	for i, c := range v {
		switch maskClass[c] {
		case 0:
		case maskHigh:
			out[i] = '*'
		default:
			if k >= keepHead && k < hideTo {
				out[i] = '*'
			}
			k++
		}
	}
	return dst
}

// Byte classes for appendMask.
const (
	maskDigit = 1 << iota // 0-9
	maskAlnum             // 0-9, a-z, A-Z
	maskHigh              // not ASCII
)

// maskClass holds each byte's classes. It is never written after start.
var maskClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c >= '0' && c <= '9':
			t[c] = maskDigit | maskAlnum
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			t[c] = maskAlnum
		case c >= 0x80:
			t[c] = maskHigh
		}
	}
	return t
}()

func isAlnumASCII(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// RedactBytes returns text with each finding replaced by the operator's
// output. Findings must be sorted and not overlap, as Scan returns them.
func (o *Operator) RedactBytes(text []byte, findings []Finding) ([]byte, error) {
	out := make([]byte, 0, len(text)+len(findings)*16)
	pos := 0
	for _, f := range findings {
		if f.Start < pos || f.End > len(text) {
			continue
		}
		out = append(out, text[pos:f.Start]...)
		r, err := o.Apply(f.Entity, text[f.Start:f.End])
		if err != nil {
			return nil, err
		}
		out = append(out, r...)
		pos = f.End
	}
	return append(out, text[pos:]...), nil
}
