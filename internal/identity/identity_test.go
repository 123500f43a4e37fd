package identity

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

var testParams = PasswordParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashPassword(t *testing.T) {
	h := HashPassword("correct horse battery staple", testParams)
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(h) {
		t.Fatalf("HashPassword = %q, not a PHC argon2id string", h)
	}
	if h == HashPassword("correct horse battery staple", testParams) {
		t.Fatal("two hashes of one password are equal (no salt?)")
	}
	ok, rehash, err := VerifyPassword(h, "correct horse battery staple", testParams)
	if !ok || rehash || err != nil {
		t.Fatalf("VerifyPassword(right) = %v, %v, %v", ok, rehash, err)
	}
	if ok, _, _ := VerifyPassword(h, "correct horse battery stapl", testParams); ok {
		t.Fatal("VerifyPassword(wrong) = true")
	}
	stronger := testParams
	stronger.Memory = 2048
	if ok, rehash, _ := VerifyPassword(h, "correct horse battery staple", stronger); !ok || !rehash {
		t.Fatalf("VerifyPassword with new params = %v, rehash %v; want true, true", ok, rehash)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=1024,t=1$c2FsdHNhbHQ$aGFzaA", "plain"} {
		if _, _, err := VerifyPassword(bad, "x", testParams); err == nil {
			t.Errorf("VerifyPassword(%q) accepted a bad hash", bad)
		}
	}
}

// FuzzParseHash checks that no stored string makes hash parsing panic or
// accept parameters outside the safe bounds.
func FuzzParseHash(f *testing.F) {
	f.Add(HashPassword("x", testParams))
	f.Add("$argon2id$v=19$m=65536,t=2,p=2$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Add("$$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHash(s)
		if err != nil {
			return
		}
		p := h.params
		if p.Memory > maxHashMemory || p.Time > maxHashTime || p.Threads == 0 || p.Threads > maxHashThreads || len(h.salt) < 8 || len(h.key) < 16 {
			t.Fatalf("parseHash(%q) accepted out-of-bounds parameters %+v", s, p)
		}
	})
}

func TestPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		user, pw string
		ok       bool
	}{
		{"ana", "short", false},
		{"ana.lopez.garcia", "ana.lopez.garcia", false},
		{"ana", "password1234", false},
		{"ana", "Password1234", false},
		{"ana", "qwertyuiop123", false},
		{"ana", "abcabcabcabcabc", false},
		{"ana", "tres tristes tigres", true},
		{"ana", strings.Repeat("ñ", 12), false},
		{"ana", "ñandú-en-la-pampa", true},
	} {
		msg := CheckPasswordPolicy(tc.user, tc.pw)
		if (msg == "") != tc.ok {
			t.Errorf("CheckPasswordPolicy(%q, %q) = %q, want ok=%v", tc.user, tc.pw, msg, tc.ok)
		}
	}
}

// TestTOTPVectors uses the SHA-1 test vectors of RFC 6238 appendix B
// (truncated to 6 digits).
func TestTOTPVectors(t *testing.T) {
	seed := []byte("12345678901234567890")
	for _, tc := range []struct {
		unix int64
		code string
	}{
		{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"},
	} {
		if got := TOTPCode(seed, TOTPStep(time.Unix(tc.unix, 0))); got != tc.code {
			t.Errorf("TOTPCode(t=%d) = %s, want %s", tc.unix, got, tc.code)
		}
	}
	now := time.Unix(1111111111, 0)
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{{now, true}, {now.Add(-30 * time.Second), true}, {now.Add(30 * time.Second), true}, {now.Add(-61 * time.Second), false}, {now.Add(61 * time.Second), false}} {
		if _, ok := MatchTOTP(seed, TOTPCode(seed, TOTPStep(tc.at)), now); ok != tc.want {
			t.Errorf("MatchTOTP(code at %v) = %v, want %v", tc.at.Sub(now), ok, tc.want)
		}
	}
	if _, ok := MatchTOTP(seed, "05 0471", now); !ok {
		t.Error("MatchTOTP with a space = false")
	}
	if _, ok := MatchTOTP(seed, "", now); ok {
		t.Error("MatchTOTP(empty) = true")
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes := NewRecoveryCodes()
	seen := map[string]bool{}
	for _, c := range codes {
		if !regexp.MustCompile(`^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$`).MatchString(c) || seen[c] {
			t.Fatalf("bad or duplicate recovery code %q", c)
		}
		seen[c] = true
		if HashRecoveryCode(strings.ToUpper(strings.ReplaceAll(c, "-", " "))) != HashRecoveryCode(c) || !LooksLikeRecoveryCode(c) {
			t.Fatalf("normalization of %q", c)
		}
	}
	if LooksLikeRecoveryCode("123456") {
		t.Error("a TOTP code looks like a recovery code")
	}
}

func TestThrottlePolicy(t *testing.T) {
	p := DefaultAccountPolicy
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &LoginAttempt{Key: "user:x"}
	for i := 0; i < 4; i++ {
		if d := p.Fail(a, now.Add(time.Duration(i)*time.Minute)); d != 0 {
			t.Fatalf("failure %d locked for %v", i+1, d)
		}
	}
	if d := p.Fail(a, now.Add(4*time.Minute)); d != 5*time.Minute {
		t.Fatalf("5th failure locks for %v, want 5m", d)
	}
	if a.RetryAfter(now.Add(6*time.Minute)) != 3*time.Minute {
		t.Fatalf("RetryAfter = %v", a.RetryAfter(now.Add(6*time.Minute)))
	}
	// Failures spread beyond the window never lock.
	b := &LoginAttempt{}
	for i := 0; i < 20; i++ {
		if d := p.Fail(b, now.Add(time.Duration(i)*16*time.Minute)); d != 0 {
			t.Fatalf("spread failures locked at %d", i)
		}
	}
	// Growing delay, capped.
	want := []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 40 * time.Minute, time.Hour, time.Hour}
	c := &LoginAttempt{}
	at := now
	for _, w := range want {
		var d time.Duration
		for i := 0; i < 5; i++ {
			d = p.Fail(c, at)
		}
		if d != w {
			t.Fatalf("lock = %v, want %v", d, w)
		}
		at = at.Add(d + time.Second)
	}
	if msg := (&ThrottledError{RetryAfter: 90 * time.Second}).Error(); !strings.Contains(msg, "2 minutes") {
		t.Errorf("message %q", msg)
	}
}

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":            "ip:192.0.2.7",
		"::ffff:192.0.2.7":     "ip:192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "ip:2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9": "ip:2001:db8:1:2::/64",
		"not an address":       "ip:not an address",
	} {
		if got := IPKey(in); got != want {
			t.Errorf("IPKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSRFToken(t *testing.T) {
	s1, s2 := NewCSRFSecret(), NewCSRFSecret()
	if !ValidCSRFToken(s1, CSRFToken(s1)) || ValidCSRFToken(s2, CSRFToken(s1)) || ValidCSRFToken(s1, "") || ValidCSRFToken(nil, CSRFToken(nil)) {
		t.Fatal("CSRF token checks")
	}
}

func TestUserValidate(t *testing.T) {
	u := User{Username: " Ana@Example.com ", Email: "ANA@example.com", Role: RoleAgent, TeamIDs: []int64{1}}
	u.Normalize()
	err := u.Validate()
	fe, ok := err.(FieldErrors)
	if !ok || fe["team_ids"] == "" || fe["username"] != "" || fe["email"] != "" {
		t.Fatalf("Validate = %v", err)
	}
	if len(NewAPIToken()) != len(APITokenPrefix)+43 || !LooksLikeAPIToken(NewAPIToken()) {
		t.Fatal("API token shape")
	}
}
