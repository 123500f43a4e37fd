package identity

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are the argon2id cost parameters.
type PasswordParams struct {
	Memory  uint32 // KiB
	Time    uint32 // iterations
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultPasswordParams suit an interactive sign-in on a small server: one
// of OWASP's recommended argon2id settings (46 MiB, 1 pass, 1 lane; about
// 40–60 ms on an idle core).
var DefaultPasswordParams = PasswordParams{Memory: 46 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// ErrBadHash reports a stored hash that is not a PHC argon2id string.
var ErrBadHash = errors.New("stored password hash is not an argon2id PHC string")

// HashPassword returns the PHC string
// $argon2id$v=19$m=…,t=…,p=…$salt$hash of password.
func HashPassword(password string, p PasswordParams) string {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		panic("identity: crypto/rand failed: " + err.Error())
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key))
}

// parsedHash is a decoded PHC string.
type parsedHash struct {
	params PasswordParams
	salt   []byte
	key    []byte
}

// Limits that keep a tampered hash from making verification run away.
const (
	maxHashMemory  = 1 << 20 // 1 GiB in KiB
	maxHashTime    = 20
	maxHashThreads = 64
)

func parseHash(s string) (*parsedHash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, ErrBadHash
	}
	var h parsedHash
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, ErrBadHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, ErrBadHash
		}
		switch k {
		case "m":
			h.params.Memory = uint32(n)
		case "t":
			h.params.Time = uint32(n)
		case "p":
			if n > 255 {
				return nil, ErrBadHash
			}
			h.params.Threads = uint8(n)
		default:
			return nil, ErrBadHash
		}
	}
	p := h.params
	if p.Memory < 8 || p.Memory > maxHashMemory || p.Time < 1 || p.Time > maxHashTime || p.Threads < 1 || p.Threads > maxHashThreads || p.Memory < 8*uint32(p.Threads) {
		return nil, ErrBadHash
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(h.salt) < 8 || len(h.salt) > 64 {
		return nil, ErrBadHash
	}
	if h.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return nil, ErrBadHash
	}
	h.params.SaltLen, h.params.KeyLen = uint32(len(h.salt)), uint32(len(h.key))
	return &h, nil
}

// VerifyPassword reports whether password matches the PHC hash (constant-time
// comparison) and whether the hash should be recomputed because it was made
// with parameters other than want.
func VerifyPassword(hash, password string, want PasswordParams) (ok, rehash bool, err error) {
	h, err := parseHash(hash)
	if err != nil {
		return false, false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.Memory, h.params.Threads, uint32(len(h.key)))
	if subtle.ConstantTimeCompare(key, h.key) != 1 {
		return false, false, nil
	}
	p := h.params
	rehash = p.Memory != want.Memory || p.Time != want.Time || p.Threads != want.Threads || p.KeyLen != want.KeyLen || p.SaltLen != want.SaltLen
	return true, rehash, nil
}

//go:embed common_passwords.txt
var commonPasswordsText string

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// MaxPasswordLength bounds the work of hashing (bytes).
const MaxPasswordLength = 256

// CheckPasswordPolicy returns a user-facing message when password is not
// acceptable for username ("" when it is).
func CheckPasswordPolicy(username, password string) string {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return fmt.Sprintf("Use at least %d characters.", MinPasswordLength)
	case len(password) > MaxPasswordLength:
		return fmt.Sprintf("Use at most %d characters.", MaxPasswordLength)
	case strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(username)):
		return "The password must not be the username."
	case isCommonPassword(password):
		return "This password is too common; choose another."
	}
	return ""
}

func isCommonPassword(pw string) bool {
	pw = strings.ToLower(pw)
	for line := range strings.Lines(commonPasswordsText) {
		if strings.TrimSpace(line) == pw {
			return true
		}
	}
	// Repetitions of a short pattern ("aaaaaaaaaaaa", "abcabcabcabc").
	for n := 1; n <= 4 && n < len(pw); n++ {
		if strings.Repeat(pw[:n], len(pw)/n+1)[:len(pw)] == pw {
			return true
		}
	}
	return false
}

// RandomPassword returns a random password for one-time use (20 characters
// from an unambiguous alphabet, about 110 bits).
func RandomPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic("identity: crypto/rand failed: " + err.Error())
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
