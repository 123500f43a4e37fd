package identity

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"
)

// TOTP parameters (RFC 6238): 30-second steps, 6 digits, HMAC-SHA1 (what
// every authenticator app supports), one step of clock skew either way.
const (
	TOTPPeriod  = 30
	TOTPDigits  = 6
	TOTPSkew    = 1
	totpSeedLen = 20
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("identity: crypto/rand failed: " + err.Error())
	}
	return b
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSeed returns a random 160-bit TOTP seed.
func NewTOTPSeed() []byte { return randomBytes(totpSeedLen) }

// TOTPSecretText is the seed as base32, as typed into an authenticator app.
func TOTPSecretText(seed []byte) string { return b32.EncodeToString(seed) }

// TOTPStep is the RFC 6238 time step of t.
func TOTPStep(t time.Time) int64 { return t.Unix() / TOTPPeriod }

// TOTPCode returns the code of seed for a time step.
func TOTPCode(seed []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, seed)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

// MatchTOTP returns the time step whose code equals code, within ±TOTPSkew
// steps of now (constant-time comparisons), or ok=false.
func MatchTOTP(seed []byte, code string, now time.Time) (step int64, ok bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != TOTPDigits {
		return 0, false
	}
	cur := TOTPStep(now)
	for d := int64(-TOTPSkew); d <= TOTPSkew; d++ {
		if subtle.ConstantTimeCompare([]byte(TOTPCode(seed, cur+d)), []byte(code)) == 1 {
			step, ok = cur+d, true
		}
	}
	return step, ok
}

// TOTPURL is the otpauth:// URL an authenticator app reads from the QR code.
func TOTPURL(issuer, account string, seed []byte) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	q := url.Values{}
	q.Set("secret", TOTPSecretText(seed))
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(TOTPDigits))
	q.Set("period", fmt.Sprint(TOTPPeriod))
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// QRCodePNG renders content (an otpauth:// URL) as a PNG QR code.
func QRCodePNG(content string) ([]byte, error) {
	png, err := qrcode.Encode(content, qrcode.Medium, 256)
	if err != nil {
		return nil, errors.New("render QR code failed")
	}
	return png, nil
}

// RecoveryCodeCount is how many recovery codes a user gets.
const RecoveryCodeCount = 10

// NewRecoveryCodes returns RecoveryCodeCount random codes such as
// "k3m9-x2qa-7hfd-pw4e" (80 bits each).
func NewRecoveryCodes() []string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789" // 31 letters: no 0/o, 1/l/i
	codes := make([]string, RecoveryCodeCount)
	for i := range codes {
		var b strings.Builder
		for j := 0; j < 16; j++ {
			if j > 0 && j%4 == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(alphabet[randIndex(len(alphabet))])
		}
		codes[i] = b.String()
	}
	return codes
}

// randIndex returns a uniform random index below n (n ≤ 256), without modulo bias.
func randIndex(n int) int {
	limit := 256 - 256%n
	for {
		b := randomBytes(1)[0]
		if int(b) < limit {
			return int(b) % n
		}
	}
}

// NormalizeRecoveryCode lower-cases a typed code and drops spaces and dashes.
func NormalizeRecoveryCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return r
	}, code)
}

// HashRecoveryCode is the stored form of a recovery code (hex SHA-256 of the
// normalized code; the codes carry 80 random bits, so a fast hash suffices).
func HashRecoveryCode(code string) string { return Digest(NormalizeRecoveryCode(code)) }

// LooksLikeRecoveryCode reports whether s has the shape of a recovery code
// (rather than a 6-digit TOTP code).
func LooksLikeRecoveryCode(s string) bool { return len(NormalizeRecoveryCode(s)) == 16 }

// Digest is the hex SHA-256 of s: how session tokens, API tokens and
// recovery codes are stored.
func Digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// APITokenPrefix starts every API token, so leaked tokens are easy to find.
const APITokenPrefix = "cust_"

// NewAPIToken returns a new random API token "cust_<43 characters>".
func NewAPIToken() string {
	return APITokenPrefix + base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

// LooksLikeAPIToken reports whether s has the shape of an API token.
func LooksLikeAPIToken(s string) bool {
	return strings.HasPrefix(s, APITokenPrefix) && len(s) == len(APITokenPrefix)+43
}

// TokenDisplayPrefix is the part of a token kept for display ("cust_Ab3dE9x").
func TokenDisplayPrefix(token string) string {
	if len(token) > len(APITokenPrefix)+7 {
		return token[:len(APITokenPrefix)+7]
	}
	return token
}

// NewSessionToken returns a new random session token for the cookie.
func NewSessionToken() string { return base64.RawURLEncoding.EncodeToString(randomBytes(32)) }

// NewCSRFSecret returns a random per-session anti-forgery secret.
func NewCSRFSecret() []byte { return randomBytes(32) }

// CSRF field and header names the console and API use.
const (
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

// CSRFToken derives the session's anti-forgery token from its secret.
func CSRFToken(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("custodia csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ValidCSRFToken compares a submitted token with the session's in constant time.
func ValidCSRFToken(secret []byte, token string) bool {
	if len(secret) == 0 || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(CSRFToken(secret)), []byte(token)) == 1
}
