package osregex

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
		{`^\s*PasswordAuthentication\s*\t*no`, "  PasswordAuthentication no", true},
		{`^\s*PasswordAuthentication\s*\t*no`, "PasswordAuthentication\tno", true},
		{`^\s*PasswordAuthentication\s*\t*no`, "#PasswordAuthentication no", false},
		{`Port\.+22`, "Port 2222", true},
		{`a.c`, "a.c", true},              // a bare dot is literal
		{`a.c`, "abc", false},             // …not any character
		{`a\.c`, "abc", true},             // \. is any character
		{`\w+@\w+`, "agent-7@cc_1", true}, // \w includes - @ _
		{`^\d+$`, "123", true},
		{`^\d+$`, "12a", false},
		{`^\s$`, "\t", false}, // \s is only a space
		{`^\t$`, "\t", true},
		{`^\p+$`, "()*+,-.:;<=>?[]!\"'#$%&|{}", true},
		{`^\p$`, "a", false},
		{`^\W\D\S$`, "!a\t", true},
		{`^root:|^toor:`, "toor:x:0", true},
		{`cost \$5`, "cost $5", true},
		{`price\$`, "a price$ tag", true}, // an escaped $ at the end is literal, not an anchor
		{`price\$`, "a price", false},
		{`\(x\)`, "(x)", true},
		{`a\|b`, "a|b", true},
		{`a\\b`, `a\b`, true},
		{`MaxAuthTries`, "maxauthtries 4", true}, // case-insensitive
		{`x[y]{2}?`, "x[y]{2}?", true},           // no classes or counts: all literal
		{`^install /bin/true$`, "install /bin/true", true},
		{`^$`, "", true},
	}
	for _, tt := range tests {
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

func TestCapture(t *testing.T) {
	re, err := Compile(`^\s*MaxAuthTries\s*\t*(\d+)`)
	if err != nil {
		t.Fatal(err)
	}
	m := re.FindStringSubmatch("MaxAuthTries 4")
	if len(m) != 2 || m[1] != "4" {
		t.Errorf("capture = %q, want 4", m)
	}
}

func TestReject(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{`0+`, "modifier after a bare character"},
		{`\d++`, "modifier after"},
		{`(ab)+`, "modifier after"},
		{`(a(b))`, "nested groups"},
		{`(foo|bar)`, "alternation inside a group"},
		{`(foo`, "unbalanced '('"},
		{`foo)`, "unbalanced ')'"},
		{`\x41`, "no escape \\x"},
		{`\b`, "no escape \\b"},
		{`a^b`, "literal caret"},
		{`a$b`, "unescaped '$'"},
		{`a||b`, "empty alternative"},
		{``, "empty pattern"},
		{`abc\`, "lone backslash"},
		{strings.Repeat("a", MaxLen+1), "longer than"},
	}
	for _, tt := range tests {
		_, err := Translate(tt.pattern)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Translate(%q) error = %v, want containing %q", tt.pattern, err, tt.want)
		}
	}
}

func FuzzTranslate(f *testing.F) {
	for _, s := range []string{`^\s*Port\s+22`, `\w+@\d*`, `a.c|^x$`, `(\d+)`, `\p\.\t`, `0+`, `(a|b)`, `\$\(\)\\\|\<`, `a^`, `[`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		s, err := Translate(p)
		if err != nil {
			var e *Error
			if !asError(err, &e) {
				t.Fatalf("Translate(%q) error %T is not *Error", p, err)
			}
			return
		}
		// Every translation must be valid RE2.
		if _, err := regexp.Compile(s); err != nil {
			t.Fatalf("Translate(%q) = %q which does not compile: %v", p, s, err)
		}
	})
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}
