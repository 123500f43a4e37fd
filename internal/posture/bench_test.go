package posture

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkPolicyRun evaluates a CIS-sized policy (300 checks over files
// and a command) against a temporary root.
func BenchmarkPolicyRun(b *testing.B) {
	th := newTestHost(b)
	var cfg strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&cfg, "# comment %d\nSetting%d %d\n", i, i, i)
	}
	th.file(b, "/etc/big.conf", cfg.String())
	th.script(b, "sshd", `echo "maxauthtries 4"; echo "permitrootlogin no"`)
	var doc strings.Builder
	doc.WriteString("policy: {id: bench}\nchecks:\n")
	for i := 0; i < 300; i++ {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&doc, "  - {id: %d, title: t, condition: all, rules: ['f:/etc/big.conf -> n:^Setting%d\\s+(\\d+) compare <= 1000']}\n", i, i%200)
		case 1:
			fmt.Fprintf(&doc, "  - {id: %d, title: t, condition: all, rules: ['f:/etc/big.conf -> !r:^# && r:^Setting%d\\s']}\n", i, i%200)
		default:
			fmt.Fprintf(&doc, "  - {id: %d, title: t, condition: any, rules: ['c:sshd -T -> r:^maxauthtries\\s+4', 'f:/etc/missing']}\n", i)
		}
	}
	p, err := Parse([]byte(doc.String()))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pr := NewRun(th.Host).Policy(context.Background(), p)
		if pr.Passed != 300 {
			b.Fatalf("passed = %d, want 300", pr.Passed)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := Parse([]byte(doc4)); err != nil {
			b.Fatal(err)
		}
	}
}
