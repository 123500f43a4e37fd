package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/posture/daemon"
)

// syncBuffer is a bytes.Buffer safe for the run loop's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb syncBuffer
	env := &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code = run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// policyFor returns a 4.x policy over files in dir.
func policyFor(dir string) string {
	return `policy: {id: demo, name: Demo}
checks:
  - id: 1
    title: "Idle timeout at most 300"
    compliance:
      - iso_27001_2022: ["A.8.1"]
      - pci_dss: ["8.2.8"]
    condition: all
    rules:
      - 'f:` + dir + `/desktop.conf -> n:^idle=(\d+) compare <= 300'
  - id: 2
    title: "Lock enabled"
    condition: all
    rules:
      - 'f:` + dir + `/desktop.conf -> r:^lock=true'
  - id: 3
    title: "Absent file"
    condition: all
    rules:
      - 'f:` + dir + `/nope.conf -> r:x'
`
}

func TestCheckJSON(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "desktop.conf", "idle=900\nlock=true\n")
	pol := writeFile(t, dir, "demo.yml", policyFor(dir))
	code, out, errs := runCmd(t, "check", "--policy", pol, "--format", "json")
	if code != 1 {
		t.Fatalf("check exit = %d, want 1 (a check failed); stderr %s", code, errs)
	}
	var rep struct {
		Device   string
		Policies []struct {
			Policy string
			Score  float64
			Checks []map[string]any
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if len(rep.Policies) != 1 || rep.Policies[0].Score != 50 {
		t.Fatalf("policies = %+v", rep.Policies)
	}
	c := rep.Policies[0].Checks[0]
	for _, k := range []string{"policy", "id", "title", "result", "reason", "evidence", "compliance"} {
		if _, ok := c[k]; !ok {
			t.Errorf("check JSON lacks %q: %v", k, c)
		}
	}
	if c["result"] != "failed" || c["id"] != "1" || !strings.Contains(c["reason"].(string), "observed 900, expected <= 300") {
		t.Errorf("check 1 = %v", c)
	}
	if got := rep.Policies[0].Checks[2]["result"]; got != "not_applicable" {
		t.Errorf("check 3 result = %v, want not_applicable", got)
	}

	// Fixing the file makes every check pass or not apply: exit 0.
	writeFile(t, dir, "desktop.conf", "idle=300\nlock=true\n")
	code, out, _ = runCmd(t, "check", "--policy", pol)
	if code != 0 || !strings.Contains(out, "PASS 1") || !strings.Contains(out, "score 100.0%") {
		t.Errorf("text check exit %d:\n%s", code, out)
	}
}

func TestCheckSurvivesBadPolicies(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "desktop.conf", "idle=300\nlock=true\n")
	good := writeFile(t, dir, "good.yml", policyFor(dir))
	hostile := writeFile(t, dir, "hostile.yml", "a: &a [*a, *a, *a]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\npolicy: {id: x}\n")
	garbage := writeFile(t, dir, "garbage.yml", "\x00\x01\x02 not yaml: [")
	code, out, errs := runCmd(t, "check", "--policy", hostile, garbage, good) // files after one --policy
	if code != 0 || !strings.Contains(out, "score 100.0%") {
		t.Errorf("check exit %d, out:\n%s", code, out)
	}
	if !strings.Contains(errs, "hostile.yml") || !strings.Contains(errs, "garbage.yml") {
		t.Errorf("stderr does not name the bad files: %s", errs)
	}
	code, _, errs = runCmd(t, "check", "--policy", filepath.Join(dir, "missing.yml"))
	if code != 1 || !strings.Contains(errs, "no policy could be loaded") {
		t.Errorf("missing policy: exit %d, %s", code, errs)
	}
}

func TestLint(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yml", policyFor(dir))
	bad := writeFile(t, dir, "bad.yml", `policy: {id: bad}
checks:
  - {id: 1, title: t, condition: all, rules: ['f:/etc/x -> r:(foo|bar)']}
  - {id: 2, title: u, condition: sometimes, rules: ['q:/etc/x']}
`)
	code, out, _ := runCmd(t, "lint", good)
	if code != 0 || !strings.Contains(out, "ok (demo, wazuh-4.x, 3 checks)") {
		t.Errorf("lint good: exit %d %s", code, out)
	}
	code, out, _ = runCmd(t, "lint", bad, good)
	if code != 1 || !strings.Contains(out, "alternation inside a group") || !strings.Contains(out, `condition "sometimes"`) {
		t.Errorf("lint bad: exit %d %s", code, out)
	}
	code, out, _ = runCmd(t, "lint", "--baseline")
	if code != 0 || strings.Count(out, ": ok") != 6 {
		t.Errorf("lint --baseline: exit %d %s", code, out)
	}
	if code, _, _ := runCmd(t, "lint"); code != 2 {
		t.Errorf("lint without files: exit %d, want 2", code)
	}
}

func TestHelpAndUsage(t *testing.T) {
	code, out, _ := runCmd(t, "--help")
	if code != 0 {
		t.Errorf("--help exit %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out, c.name) {
			t.Errorf("--help lacks %s", c.name)
		}
		code, out, _ := runCmd(t, c.name, "--help")
		if code != 0 || !strings.Contains(out, "Usage: custodia-agent "+c.name) {
			t.Errorf("%s --help: exit %d, %q", c.name, code, out)
		}
	}
	if code, _, _ := runCmd(t, "frobnicate"); code != 2 {
		t.Errorf("unknown command exit %d, want 2", code)
	}
	if code, _, _ := runCmd(t, "check", "--format", "xml"); code != 2 {
		t.Errorf("bad format exit %d, want 2", code)
	}
	if code, out, _ := runCmd(t, "policies"); code != 0 || !strings.Contains(out, "windows.yml") {
		t.Errorf("policies: %d %s", code, out)
	}
	if code, out, _ := runCmd(t, "policies", "darwin.yml"); code != 0 || !strings.Contains(out, "custodia_cc_macos") {
		t.Errorf("policies darwin.yml: %d", code)
	}
}

func TestInstallDryRunAndRoot(t *testing.T) {
	code, out, errs := runCmd(t, "install", "--dry-run", "--os", "windows", "--binary", `C:\Program Files\Custodia\custodia-agent.exe`)
	if code != 0 || !strings.Contains(out, `register Windows service "custodia-agent"`) {
		t.Errorf("install --dry-run windows: %d %s %s", code, out, errs)
	}
	code, out, _ = runCmd(t, "install", "--dry-run", "--os", "darwin", "--binary", "/usr/local/bin/custodia-agent")
	if code != 0 || !strings.Contains(out, daemon.LaunchdPath) {
		t.Errorf("install --dry-run darwin: %d %s", code, out)
	}
	root := t.TempDir()
	code, _, errs = runCmd(t, "install", "--root", root, "--os", "linux", "--binary", "/usr/bin/custodia-agent", "--", "--interval", "30m")
	if code != 0 {
		t.Fatalf("install --root: %d %s", code, errs)
	}
	b, err := os.ReadFile(filepath.Join(root, daemon.SystemdPath))
	if err != nil || !strings.Contains(string(b), "ExecStart=/usr/bin/custodia-agent run --interval 30m") {
		t.Errorf("unit = %s, %v", b, err)
	}
	if code, _, errs := runCmd(t, "uninstall", "--root", root, "--os", "linux"); code != 0 {
		t.Errorf("uninstall --root: %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(root, daemon.SystemdPath)); !os.IsNotExist(err) {
		t.Errorf("unit left after uninstall")
	}
	if code, _, _ := runCmd(t, "install", "--os", "windows", "--binary", `C:\x.exe`); code != 1 {
		t.Errorf("installing for another OS without --dry-run/--root should fail")
	}
}

// TestRunRechecksOnChange drives the foreground loop: a check at start and
// another seconds after a watched file changes, each saved as the last report.
func TestRunRechecksOnChange(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "desktop.conf", "idle=300\nlock=true\n")
	pol := writeFile(t, dir, "demo.yml", policyFor(dir))
	state := filepath.Join(dir, "state")
	var out, errb syncBuffer
	env := &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, env, []string{"run", "--policy", pol, "--poll", "100ms", "--state-dir", state})
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; output:\n%s\n%s", what, out.String(), errb.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("the start check", func() bool { return strings.Contains(out.String(), `"reason":"start"`) })
	time.Sleep(250 * time.Millisecond)
	writeFile(t, dir, "desktop.conf", "idle=1200\nlock=true\n")
	waitFor("a re-check on change", func() bool { return strings.Contains(out.String(), "watched settings changed") })
	b, err := os.ReadFile(filepath.Join(state, "last-report.json"))
	if err != nil || !strings.Contains(string(b), "observed 1200") {
		t.Errorf("last-report.json = %s, %v", b, err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("run exit %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop on cancel")
	}
}

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{`CC\agent7`: "CC_agent7", "../etc": ".._etc", "..": "_", "josé": "jos_"} {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
}
