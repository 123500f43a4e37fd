package web

import (
	"strings"
	"testing"
)

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"", "/", "/people?q=a", "//evil.example", "/\\evil", "https://evil.example", "/login", "javascript:alert(1)", "/%2F%2Fevil", "\t/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := safeNext(s)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t") {
			t.Fatalf("safeNext(%q) = %q: not a local path", s, got)
		}
	})
}

func FuzzParseAuditTime(f *testing.F) {
	for _, s := range []string{"", "2026-01-31", "2026-01-31T10:00", "2026-01-31T10:00:05", "yesterday", "2026-02-30", "9999-99-99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, ok := parseAuditTime(s)
		if ok && strings.TrimSpace(s) != "" && tm.IsZero() {
			t.Fatalf("parseAuditTime(%q) accepted a zero time", s)
		}
		if !ok && !tm.IsZero() {
			t.Fatalf("parseAuditTime(%q) refused but returned %v", s, tm)
		}
	})
}

func FuzzFlashArgs(f *testing.F) {
	f.Add("imported", "1", "2", "3", "4")
	f.Add("saved", "x", "", "", "")
	f.Add("imported", "-1", "99999999999999999999", "a", "%s")
	f.Fuzz(func(t *testing.T, flash, a, b, c, d string) {
		args := flashArgs(flash, []string{a, b, c, d})
		for _, x := range args {
			if _, ok := x.(int); !ok {
				t.Fatalf("flashArgs gave a non-integer %T", x)
			}
		}
	})
}
