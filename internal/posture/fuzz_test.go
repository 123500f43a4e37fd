package posture

import (
	"context"
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(doc4))
	f.Add([]byte(doc5))
	f.Add([]byte("policy: {id: x}\nchecks: [{id: 1, title: t, condition: all, rules: ['f:/x -> n:^(\\d+) compare <= 3 && !r:^#']}]"))
	f.Add([]byte("policy: {id: x}\nchecks: [{id: 1, name: t, compliance: {a: b}, condition: none, rules: ['every r:HKU\\*\\x -> y -> v:>= 1']}]"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		_ = p.Problems()
		// Evaluating a parsed policy against an empty host must not panic
		// or block.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		NewRun(&Host{Root: t.TempDir()}).Policy(ctx, p)
	})
}

func FuzzRule(f *testing.F) {
	for _, s := range []string{`f:/etc/passwd -> r:^root`, `not c:ls -la -> n:(\d+) compare >= 1`, `d:/x -> r:y -> z`, `r:HKLM\a -> b -> c`, `pkg:a,b -> v:>= 1`, `every os:build -> 1`} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, pcre2 bool) {
		rp := ruleParser{regex: RegexOS}
		if pcre2 {
			rp.regex = RegexPCRE2
		}
		r, err := rp.parse(s)
		if err != nil {
			if r != nil {
				t.Fatalf("parse(%q) returned a rule with error %v", s, err)
			}
			return
		}
		NewRun(&Host{Root: t.TempDir()}).rule(context.Background(), r)
	})
}

// FuzzCompareVersions checks that version comparison is a consistent
// order: antisymmetric and reflexive, for any input.
func FuzzCompareVersions(f *testing.F) {
	for _, p := range [][2]string{{"1.10", "1.9"}, {"1:1.0", "2.0"}, {"1.0~rc1", "1.0"}, {"10.0.19045.4291", "10.0.22631.3447"}, {"", "0"}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := CompareVersions(a, b), CompareVersions(b, a)
		if ab != -ba {
			t.Fatalf("CompareVersions(%q, %q) = %d but reversed = %d", a, b, ab, ba)
		}
		if CompareVersions(a, a) != 0 {
			t.Fatalf("CompareVersions(%q, itself) != 0", a)
		}
	})
}
