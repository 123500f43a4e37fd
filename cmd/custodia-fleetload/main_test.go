package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
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
	err = cmdLoad(ctx, []string{"--url", info.URL, "--secret", info.Secret, "--pid", "0", "--agents", "30", "--heartbeat", "1s",
		"--duration", "1s", "--checks", "10", "--change-rate", "0.5", "--workers", "4"}, &out, io.Discard)
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
	cancel()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	pw.Close()
}
