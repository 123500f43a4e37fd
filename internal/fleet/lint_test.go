package fleet

import (
	"strings"
	"testing"
)

func TestLintPolicy(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		problems int
		line     int    // of the first problem
		contains string // in the first problem
	}{
		{"valid", "policy:\n  id: p\nchecks:\n  - id: c1\n    title: T\n    condition: all\n    rules:\n      - 'f:/etc/hosts'\n", 0, 0, ""},
		{"yaml error", "policy:\n  id: p\nchecks: [\n", 1, 3, "yaml"},
		{"no checks", "policy:\n  id: p\n", 1, 0, "no checks"},
		{"duplicate id", "policy:\n  id: p\nchecks:\n  - id: c1\n    title: T\n    condition: all\n    rules: ['f:/a']\n  - id: c1\n    title: U\n    condition: all\n    rules: ['f:/b']\n", 1, 8, "already used"},
		{"bad check", "policy:\n  id: p\nchecks:\n  - id: c1\n    title: T\n    condition: all\n    rules: ['f:/a']\n  - id: c2\n    condition: often\n    rules: ['f:/b']\n", 1, 8, "condition"},
		{"too large", "policy:\n  id: p\n#" + strings.Repeat("x", MaxPolicySource), 1, 0, "1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, probs := LintPolicy([]byte(tt.src))
			if len(probs) != tt.problems {
				t.Fatalf("LintPolicy(%s) = %d problems %v, want %d", tt.name, len(probs), probs, tt.problems)
			}
			if tt.problems == 0 {
				if p == nil || len(p.Checks) != 1 {
					t.Fatalf("LintPolicy(%s) policy = %+v", tt.name, p)
				}
				return
			}
			if probs[0].Line != tt.line || !strings.Contains(probs[0].Msg, tt.contains) {
				t.Errorf("LintPolicy(%s)[0] = line %d %q, want line %d containing %q", tt.name, probs[0].Line, probs[0].Msg, tt.line, tt.contains)
			}
		})
	}
}

// FuzzLintPolicy: the linter never panics, a policy without problems is
// returned, and lines are never negative.
func FuzzLintPolicy(f *testing.F) {
	f.Add([]byte("policy:\n  id: p\nchecks:\n  - id: c1\n    title: T\n    condition: all\n    rules:\n      - 'f:/etc/hosts -> r:^x'\n"))
	f.Add([]byte("policy:\n  id: p\nchecks: [\n"))
	f.Add([]byte("line 99999999999999999999: x"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, probs := LintPolicy(src)
		if len(probs) == 0 && p == nil {
			t.Fatal("no problems and no policy")
		}
		for _, pr := range probs {
			if pr.Line < 0 || pr.Msg == "" {
				t.Fatalf("problem %+v", pr)
			}
		}
	})
}
