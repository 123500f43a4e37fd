package detect

import (
	"encoding/json"
	"fmt"
	"github.com/custodia/custodia/internal/corpora"
	"os"
	"path/filepath"
	"testing"

	"github.com/custodia/custodia/internal/detect/sigma"
)

var specTests = filepath.Join(corpora.Dir("sigma-specification"), "tests/schema")

// TestSpecCorrelationExamples loads each correlation example of the
// specification's tests/ folder, supplies the detection rules it refers to,
// and checks it fires exactly when its condition is first met.
func TestSpecCorrelationExamples(t *testing.T) {
	base := func(ref string) string {
		return fmt.Sprintf("title: %s\nid: %s\nname: %s\nlogsource: {product: test}\ndetection: {sel: {rule: %s}, condition: sel}\n", ref, ref, ref, ref)
	}
	ev := func(sec int, fields ...any) string {
		m := map[string]any{"logsource": map[string]string{"product": "test"}, "time": fmt.Sprintf("2026-01-01T00:%02d:%02dZ", sec/60, sec%60)}
		for i := 0; i+1 < len(fields); i += 2 {
			m[fields[i].(string)] = fields[i+1]
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	const r1 = "5638f7c0-ac70-491d-8465-2a65075e0d86"
	tests := []struct {
		file   string
		refs   []string
		events func() []string
		want   int64 // index of the event that completes the correlation
	}{
		{"event_count.yml", []string{r1}, func() (out []string) {
			for i := 0; i < 100; i++ {
				out = append(out, ev(i, "rule", r1, "ComputerName", "ws1"))
			}
			return
		}, 99},
		{"event_count_ecs.yml", []string{r1}, func() (out []string) {
			for i := 0; i < 100; i++ {
				out = append(out, ev(i, "rule", r1, "dns", map[string]any{"question": map[string]any{"name": "x.example"}}))
			}
			return
		}, 99},
		{"value_count.yml", []string{r1}, func() (out []string) {
			for i := 0; i < 100; i++ {
				out = append(out, ev(i, "rule", r1, "ComputerName", "dc1", "WorkstationName", "ws", "User", fmt.Sprintf("u%d", i)))
			}
			return
		}, 99},
		{"temporal.yml", []string{"recon_cmd_a", "recon_cmd_b", "recon_cmd_c"}, func() []string {
			return []string{ev(0, "rule", "recon_cmd_c", "ComputerName", "ws", "User", "u"), ev(1, "rule", "recon_cmd_a", "ComputerName", "ws", "User", "u"), ev(2, "rule", "recon_cmd_b", "ComputerName", "ws", "User", "u")}
		}, 2},
		{"temporal_ordered.yml", []string{"recon_cmd_a", "recon_cmd_b", "recon_cmd_c"}, func() []string {
			return []string{ev(0, "rule", "recon_cmd_c", "ComputerName", "ws", "User", "u"), ev(1, "rule", "recon_cmd_a", "ComputerName", "ws", "User", "u"), ev(2, "rule", "recon_cmd_b", "ComputerName", "ws", "User", "u"), ev(3, "rule", "recon_cmd_c", "ComputerName", "ws", "User", "u")}
		}, 3},
		{"value_sum.yml", []string{"website_access"}, func() []string {
			return []string{ev(0, "rule", "website_access", "SourceIP", "10.0.0.1", "User", "u", "bytes_sent", 600000), ev(1, "rule", "website_access", "SourceIP", "10.0.0.1", "User", "u", "bytes_sent", 500000)}
		}, 1},
		{"value_avg.yml", []string{"rule_a_id"}, func() []string {
			return []string{ev(0, "rule", "rule_a_id", "SourceIP", "10.0.0.1", "User", "u", "BytesOut", 100), ev(1, "rule", "rule_a_id", "SourceIP", "10.0.0.1", "User", "u", "BytesOut", 1000)}
		}, 1},
		{"value_percentile.yml", []string{"process_creation"}, func() (out []string) {
			for i := 0; i < 150; i++ {
				out = append(out, ev(i, "rule", "process_creation", "ComputerName", "ws", "Image", `C:\Windows\svchost.exe`))
			}
			return append(out, ev(150, "rule", "process_creation", "ComputerName", "ws", "Image", `C:\Users\x\rare.exe`))
		}, 150},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(specTests, "correlation", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			rules, errs := sigma.Parse(data, tt.file, nil)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			for _, ref := range tt.refs {
				rs, errs := sigma.Parse([]byte(base(ref)), ref, nil)
				if len(errs) > 0 {
					t.Fatal(errs)
				}
				rules = append(rules, rs...)
			}
			e, err := NewEngine(Config{}, rules...)
			if err != nil {
				t.Fatal(err)
			}
			var fired []int64
			for _, l := range tt.events() {
				for _, a := range e.Process(parseLine(t, l)) {
					if a.Correlation == "" {
						t.Errorf("referenced rule %s alerted on its own", a.RuleID)
					}
					fired = append(fired, a.EventIndex)
				}
			}
			if len(fired) != 1 || fired[0] != tt.want {
				t.Errorf("correlation fired at %v, want once at %d", fired, tt.want)
			}
		})
	}
}

// TestSpecFilterExample applies the specification's filter example to a
// rule it names: matches by users starting with adm_ are suppressed.
func TestSpecFilterExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(specTests, "filter", "filter_1.yml"))
	if err != nil {
		t.Fatal(err)
	}
	rules, errs := sigma.Parse(data, "filter_1.yml", nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	rar, errs := sigma.Parse([]byte("title: rar\nid: 6f3e2987-db24-4c78-a860-b4f4095a7095\nlogsource: {product: windows, category: process_creation}\ndetection: {sel: {Image|endswith: '\\rar.exe'}, condition: sel}\n"), "rar", nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	e, err := NewEngine(Config{}, append(rules, rar...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user string
		want int
	}{{"adm_bob", 0}, {"bob", 1}} {
		got := e.Process(parseLine(t, winEvent(sysmon, 1, map[string]string{"Image": `C:\Program Files\WinRAR\rar.exe`, "User": tt.user})))
		if len(got) != tt.want {
			t.Errorf("User %s: %d alerts, want %d", tt.user, len(got), tt.want)
		}
	}
}
