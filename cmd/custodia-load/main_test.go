package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestSelfContainedRun runs the whole tool on a small organization: seed,
// server, token, one short round, report.
func TestSelfContainedRun(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"--scale", "1", "--runs", "1", "--duration", "1s", "--concurrency", "2"}, &out, &errOut)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"people list page", "API search", "p99", "CPU time per request"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if m := regexp.MustCompile(`seeded (\d+) people`).FindStringSubmatch(errOut.String()); m == nil || len(m[1]) != 3 {
		t.Errorf("expected about 300 people seeded:\n%s", errOut.String())
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--runs", "0"}, {"--concurrency", "0"}, {"--duration", "10m"},
		{"--url", "http://127.0.0.1:1"}, // no token
		{"--url", "http://192.0.2.1:80", "--token", "x", "--runs", "1"},
	} {
		if err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("run(%v) succeeded", args)
		}
	}
}
