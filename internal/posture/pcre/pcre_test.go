package pcre

import (
	"regexp"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, input string
		want           bool
	}{
		{`^\s*PasswordAuthentication\s+no\b`, "PasswordAuthentication no", true},
		{`^\s+x$`, "\vx", true}, // PCRE2's \s includes vertical tab, RE2's does not
		{`^[\s]x$`, "\vx", true},
		{`^\S+$`, "abc", true},
		{`^\S+$`, "a\vb", false},
		{`^\h+x`, "\t x", true},
		{`^a\Rb$`, "a\r\nb", true},
		{`^a\Nb$`, "a-b", true},
		{`^\e$`, "\x1b", true},
		{`^\cA$`, "\x01", true},
		{`^\x41\x{42}$`, "AB", true},
		{`^\o{101}$`, "A", true},
		{`^\012$`, "\n", true},
		{`(?<year>\d{4})-(?'month'\d\d)`, "2024-05", true},
		{`(?i)maxauthtries`, "MaxAuthTries", true},
		{`MaxAuthTries`, "maxauthtries", false}, // PCRE2 is case-sensitive
		{`a(?#comment)b`, "ab", true},
		{`^\Qa.b\E$`, "a.b", true},
		{`^\Qa.b\E$`, "axb", false},
		{`[]a]+`, "]a", true},
		{`[^]a]`, "b", true},
		{`[[:digit:]]+`, "42", true},
		{`x{2,}`, "xx", true},
		{`x{,2}`, "", false}, // rejected below; here never reached
		{`a{x}`, "a{x}", true},
		{`^(\d+)\s*$`, "300 ", true},
		{`end\Z`, "end", true},
		{`[\b]`, "\b", true},
	}
	for _, tt := range tests {
		if strings.HasPrefix(tt.pattern, "x{,") {
			continue
		}
		re, err := Compile(tt.pattern)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.pattern, err)
			continue
		}
		if got := re.MatchString(tt.input); got != tt.want {
			s, _ := Translate(tt.pattern)
			t.Errorf("Compile(%q) [%s].MatchString(%q) = %v, want %v", tt.pattern, s, tt.input, got, tt.want)
		}
	}
}

func TestReject(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{`(a)\1`, "backreference"},
		{`\k<x>`, "backreferences"},
		{`foo(?=bar)`, "lookaround"},
		{`(?<!x)y`, "lookaround"},
		{`(?>a+)b`, "atomic"},
		{`a++`, "possessive"},
		{`a{2}+`, "possessive"},
		{`(?|(a)|(b))`, "branch-reset"},
		{`(?(1)a|b)`, "conditional"},
		{`(?R)`, "recursion"},
		{`(?1)`, "subroutine"},
		{`(*UTF)x`, "verbs"},
		{`(?x) a b`, "extended mode"},
		{`(?J)x`, "option (?J)"},
		{`a\Kb`, `\K`},
		{`\Gx`, `\G`},
		{`\X`, "grapheme"},
		{`x{,3}`, "{0,n}"},
		{`[\S]`, "inside a character class"},
		{`[abc`, "missing terminating ]"},
		{`abc\`, "lone backslash"},
		{`\p`, "needs a property name"},
		{`x\P`, "needs a property name"},
		{strings.Repeat("a", MaxLen+1), "longer than"},
	}
	for _, tt := range tests {
		_, err := Translate(tt.pattern)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Translate(%q) error = %v, want containing %q", tt.pattern, err, tt.want)
		}
	}
	// What passes translation but RE2 cannot compile is reported by Compile.
	if _, err := Compile(`\p{Xan}`); err == nil || !strings.Contains(err.Error(), "not supported by RE2") {
		t.Errorf("Compile(\\p{Xan}) error = %v", err)
	}
}

func FuzzTranslate(f *testing.F) {
	for _, s := range []string{`^\s*Port\s+22\b`, `(?<n>\d+)`, `[]a-z\s]`, `\Qx\E`, `a++`, `(?=x)`, `\o{17}`, `\cZ`, `x{2,3}?`, `(?i:a)`, `[[:alpha:]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		s, err := Translate(p)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Translate(%q) error %T is not *Error", p, err)
			}
			return
		}
		// A translation may still be refused by RE2 (Compile reports it),
		// but compiling must never panic or hang.
		_, _ = regexp.Compile(s)
	})
}
