package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runDetect(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code = run(context.Background(), env, append([]string{"detect"}, args...))
	return out.String(), errb.String(), code
}

const sysmonCmd = `{"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WS1","TimeCreated":{"#attributes":{"SystemTime":"2026-01-02T03:04:05Z"}}},"EventData":{"Image":"C:\\Users\\a\\AnyDesk.exe","CommandLine":"AnyDesk.exe"}}}`

func TestDetectJSONL(t *testing.T) {
	in := "not json at all {\n" + `{"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},"EventData":{"Image":"C:\\x\\notepad.exe"}}}` + "\n" + sysmonCmd + "\n"
	stdout, stderr, code := runDetect(t, in, "--rules", "builtin", "--stats", "-")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d alert lines, want 1:\n%s", len(lines), stdout)
	}
	var a map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &a); err != nil {
		t.Fatal(err)
	}
	if a["rule_id"] != "6a1d3c0e-5b7f-4e0a-9c2d-01a0c0c0de05" || a["event_index"] != float64(2) || a["level"] != "high" || a["time"] != "2026-01-02T03:04:05Z" {
		t.Errorf("alert = %v", a)
	}
	if f, _ := a["fields"].(map[string]any); f["Image"] != `C:\Users\a\AnyDesk.exe` {
		t.Errorf("fields = %v", a["fields"])
	}
	for _, want := range []string{"events: 3", "rules:", "0 rejected"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestDetectTextAndFiles(t *testing.T) {
	dir := t.TempDir()
	f1 := filepath.Join(dir, "a.jsonl")
	os.WriteFile(f1, []byte("plain line\n"), 0o600)
	f2 := filepath.Join(dir, "b.jsonl")
	os.WriteFile(f2, []byte(sysmonCmd+"\n"), 0o600)
	stdout, stderr, code := runDetect(t, "", "--rules", "builtin", "--format", "text", f1, f2)
	if code != 0 || !strings.Contains(stdout, "HIGH") || !strings.Contains(stdout, "event 1") {
		t.Errorf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
}

func TestDetectCheckRules(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "good.yml"), []byte("title: g\nlogsource: {product: x}\ndetection: {s: {A: b}, condition: s}\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "bad.yml"), []byte("title: b\nlogsource: {product: x}\ndetection: {s: {A|re: '(?=x)'}, condition: s}\n"), 0o600)
	stdout, _, code := runDetect(t, "", "--check-rules", dir)
	if code != 1 || !strings.Contains(stdout, "lookahead") || !strings.Contains(stdout, "1 rules loaded, 1 rejected") {
		t.Errorf("exit %d stdout %q", code, stdout)
	}
	stdout, _, code = runDetect(t, "", "--check-rules", "builtin")
	if code != 0 || !strings.Contains(stdout, "0 rejected") {
		t.Errorf("builtin: exit %d stdout %q", code, stdout)
	}
}

func TestDetectEnvironment(t *testing.T) {
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(sysmonCmd + "\n"), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string {
			return map[string]string{"CUSTODIA_RULES": "builtin", "CUSTODIA_FORMAT": "text"}[k]
		}}
	if code := run(context.Background(), env, []string{"detect"}); code != 0 || !strings.Contains(out.String(), "HIGH") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}

func TestDetectUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"--format", "xml", "--rules", "builtin"}, {"--input-format", "bogus", "--rules", "builtin"}, {"--nope"}} {
		_, _, code := runDetect(t, "", args...)
		if code != 2 {
			t.Errorf("detect %v: exit %d, want 2", args, code)
		}
	}
	var out, errb bytes.Buffer
	err := cmdDetect(context.Background(), &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, []string{"--help"})
	if !errors.Is(err, flagErrHelp()) || !strings.Contains(errb.String(), "-input-format") {
		t.Errorf("--help: err %v, usage %q", err, errb.String())
	}
}

func flagErrHelp() error { return flag.ErrHelp }
