//go:build !windows

package posture

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFIFOIsAnError: reading a FIFO would block the agent forever; the rule
// reports error instead.
func TestFIFOIsAnError(t *testing.T) {
	th := newTestHost(t)
	if err := syscall.Mkfifo(filepath.Join(th.root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ev := evalRule(t, th.Host, RegexOS, `f:/fifo -> r:x`)
	if ev.Result != Error || !strings.Contains(ev.Observed, "not a regular file") {
		t.Errorf("fifo: %+v, want error 'not a regular file'", ev)
	}
	if time.Since(start) > time.Second {
		t.Error("fifo rule blocked")
	}
}
