package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runDP runs the custodia command line in-process for the data-protection
// commands and returns the exit code, standard output and standard error.
func runDP(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code := run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func TestScanRedactCommands(t *testing.T) {
	code, out, _ := runDP(t, "Cliente: mi tarjeta es 4111 1111 1111 1111\n", "scan", "-")
	if code != 0 || !strings.Contains(out, `"entity":"CREDIT_CARD"`) || strings.Contains(out, "4111 1111 1111 1111") {
		t.Errorf("scan - = %d %q", code, out)
	}
	code, out, _ = runDP(t, "", "scan", "--help")
	if code != 0 {
		t.Errorf("scan --help exit %d, want 0", code)
	}
	code, _, errOut := runDP(t, "", "scan", "--lang", "fr", "-")
	if code != 2 || !strings.Contains(errOut, "usage") {
		t.Errorf("scan --lang fr = exit %d %q, want 2 and a usage message", code, errOut)
	}
	code, _, _ = runDP(t, "", "redact", "only-one-arg")
	if code != 2 {
		t.Errorf("redact with one argument: exit %d, want 2", code)
	}

	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(in, []byte("name,card\nAna,4111-1111-1111-1111\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	outPath := filepath.Join(dir, "out.csv")
	code, _, errOut = runDP(t, "", "redact", "--operator", "mask", in, outPath)
	if code != 0 {
		t.Fatalf("redact exit %d: %s", code, errOut)
	}
	got, _ := os.ReadFile(outPath)
	if string(got) != "name,card\n***,4111-11**-****-1111\n" {
		t.Errorf("redacted CSV = %q", got)
	}
	code, _, _ = runDP(t, "", "scan", filepath.Join(dir, "missing.txt"))
	if code != 1 {
		t.Errorf("scan of a missing file: exit %d, want 1", code)
	}
}
