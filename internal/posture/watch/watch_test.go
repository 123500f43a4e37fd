package watch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWatcherTriggersOnChange(t *testing.T) {
	dir := t.TempDir()
	setting := filepath.Join(dir, "00-screensaver")
	if err := os.WriteFile(setting, []byte("idle-delay=uint32 300\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	usb := filepath.Join(dir, "usb")
	if err := os.Mkdir(usb, 0o755); err != nil {
		t.Fatal(err)
	}
	w := &Watcher{
		Probes: []Probe{
			Paths{Label: "screen lock setting", Patterns: []string{filepath.Join(dir, "0*")}},
			DirEntries{Label: "usb devices", Dirs: []string{usb}},
		},
		Interval: 20 * time.Millisecond,
		Debounce: 50 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan []string, 10)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, func(r []string) { got <- r }) }()

	wait := func(want string) {
		t.Helper()
		select {
		case r := <-got:
			if !strings.Contains(strings.Join(r, ","), want) {
				t.Errorf("trigger reasons = %v, want %q", r, want)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("no trigger for %q", want)
		}
	}
	time.Sleep(60 * time.Millisecond) // let the first poll record fingerprints
	if err := os.WriteFile(setting, []byte("idle-delay=uint32 900\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wait("screen lock setting changed")
	if err := os.Mkdir(filepath.Join(usb, "1-1"), 0o755); err != nil {
		t.Fatal(err)
	}
	wait("usb devices changed")
	w.Notify("session lock")
	w.Notify("session lock") // duplicates in one batch collapse
	wait("session lock")

	select {
	case r := <-got:
		t.Errorf("unexpected extra trigger %v", r)
	case <-time.After(150 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Errorf("Run() = %v, want context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestFuncProbe(t *testing.T) {
	user := "agent7"
	p := Func{Label: "session user", F: func(context.Context) (string, error) { return user, nil }}
	a, _ := p.Fingerprint(context.Background())
	user = "agent8"
	b, _ := p.Fingerprint(context.Background())
	if a == b || p.Name() != "session user" {
		t.Errorf("fingerprints %q %q", a, b)
	}
}

func TestThrottle(t *testing.T) {
	calls := 0
	th := &Throttle{Probe: Func{Label: "lock", F: func(context.Context) (string, error) {
		calls++
		return "x", nil
	}}, Every: time.Hour}
	for i := 0; i < 5; i++ {
		if fp, _ := th.Fingerprint(context.Background()); fp != "x" {
			t.Fatalf("fingerprint %q", fp)
		}
	}
	if calls != 1 || th.Name() != "lock" {
		t.Errorf("calls = %d, want 1", calls)
	}
}
