package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeAndLoad runs the real server in-process ("serve") and a small
// load against it: every agent enrolls, uploads its results once, then
// heartbeats get the few-byte "unchanged" answer, with no errors.
func TestServeAndLoad(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- cmdServe(ctx, []string{"--data-dir", t.TempDir(), "--checkin-interval", "1s"}, pw, io.Discard)
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	var info serveInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("serve said %q: %v", line, err)
	}
	var out strings.Builder
	agentsFile := filepath.Join(t.TempDir(), "agents")
	loadArgs := []string{"--url", info.URL, "--secret", info.Secret, "--pid", "0", "--agents", "30", "--heartbeat", "1s",
		"--duration", "1s", "--checks", "10", "--change-rate", "0.5", "--workers", "4", "--agents-file", agentsFile}
	err = cmdLoad(ctx, loadArgs, &out, io.Discard)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"enrolled 30 agents", "30 policy bundles sent", "0 errors", `"errors":0`} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(text, "steady:") || !strings.Contains(text, "0 policy bundles sent") {
		t.Errorf("steady phase should fetch no bundle:\n%s", text)
	}
	// Again with the agents written to --agents-file: no enrollment, and
	// the same credentials keep working.
	out.Reset()
	if err := cmdLoad(ctx, loadArgs, &out, io.Discard); err != nil {
		t.Fatalf("load with the agents file: %v\n%s", err, out.String())
	}
	if text := out.String(); !strings.Contains(text, "30 agents read from") || strings.Contains(text, "enrolled 30") || !strings.Contains(text, `"errors":0`) {
		t.Errorf("second load should reuse the 30 agents without errors:\n%s", text)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	pw.Close()
}
