package posture

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testHost is a Host rooted in a temporary directory whose commands are
// scripts in <root>/bin.
type testHost struct {
	*Host
	root string
	bin  string
}

func newTestHost(tb testing.TB) *testHost {
	tb.Helper()
	root := tb.TempDir()
	bin := filepath.Join(root, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		tb.Fatal(err)
	}
	h := &Host{
		Root:           root,
		Runner:         &ExecRunner{Path: []string{bin}, Env: []string{"PATH=/usr/bin:/bin"}},
		CommandTimeout: 2 * time.Second,
	}
	return &testHost{Host: h, root: root, bin: bin}
}

// file writes a file at the rule path p under the root.
func (th *testHost) file(tb testing.TB, p, content string) {
	tb.Helper()
	full := filepath.Join(th.root, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// script writes an executable shell script named name into the bin dir.
func (th *testHost) script(tb testing.TB, name, body string) {
	tb.Helper()
	p := filepath.Join(th.bin, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		tb.Fatal(err)
	}
}

func mustParse(tb testing.TB, doc string) *Policy {
	tb.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		tb.Fatalf("Parse: %v", err)
	}
	for _, pr := range p.Problems() {
		tb.Fatalf("Parse problem: %s", pr)
	}
	return p
}
