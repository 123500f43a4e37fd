// Package watch triggers a posture re-check when something that matters
// changes — a USB device arrives, the session locks or unlocks, the
// signed-in user changes, a watched setting changes — so drift shows in
// seconds rather than at the next timer. It polls cheap fingerprints (a few
// stat calls or registry reads) and also accepts events pushed by the
// operating system (Windows session-change notifications).
package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Probe fingerprints one thing the watcher follows. A changed fingerprint
// triggers a re-check.
type Probe interface {
	Name() string
	Fingerprint(ctx context.Context) (string, error)
}

// Watcher polls probes and reports changes.
type Watcher struct {
	Probes []Probe
	// Interval between polls (default 2 s).
	Interval time.Duration
	// Debounce collects changes that arrive together into one trigger
	// (default 1 s).
	Debounce time.Duration

	events chan string
	once   sync.Once
}

func (w *Watcher) init() {
	w.once.Do(func() { w.events = make(chan string, 16) })
}

// Notify pushes an event from the operating system (e.g. "session lock").
// It never blocks.
func (w *Watcher) Notify(reason string) {
	w.init()
	select {
	case w.events <- reason:
	default:
	}
}

// Run polls until ctx ends, calling trigger with the reasons of each batch
// of changes. The first poll records fingerprints without triggering.
func (w *Watcher) Run(ctx context.Context, trigger func(reasons []string)) error {
	w.init()
	interval, debounce := w.Interval, w.Debounce
	if interval <= 0 {
		interval = 2 * time.Second
	}
	if debounce <= 0 {
		debounce = time.Second
	}
	last := make([]string, len(w.Probes))
	for i, p := range w.Probes {
		last[i], _ = p.Fingerprint(ctx)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var pending []string
	var fire <-chan time.Time
	var timer *time.Timer
	add := func(r string) {
		for _, p := range pending {
			if p == r {
				return
			}
		}
		pending = append(pending, r)
		if timer == nil {
			timer = time.NewTimer(debounce)
			fire = timer.C
		}
	}
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return ctx.Err()
		case r := <-w.events:
			add(r)
		case <-tick.C:
			for i, p := range w.Probes {
				fp, err := p.Fingerprint(ctx)
				if err != nil {
					fp = "error: " + err.Error()
				}
				if fp != last[i] {
					last[i] = fp
					add(p.Name() + " changed")
				}
			}
		case <-fire:
			reasons := pending
			pending, timer, fire = nil, nil, nil
			trigger(reasons)
		}
	}
}

// Paths fingerprints files and directories by existence, size and
// modification time; a glob pattern is expanded on every poll.
type Paths struct {
	Label    string
	Patterns []string
}

// Name implements Probe.
func (p Paths) Name() string { return p.Label }

// Fingerprint implements Probe.
func (p Paths) Fingerprint(context.Context) (string, error) {
	h := sha256.New()
	for _, pat := range p.Patterns {
		matches := []string{pat}
		if strings.ContainsAny(pat, "*?[") {
			m, err := filepath.Glob(pat)
			if err != nil {
				return "", fmt.Errorf("watch %s: %w", pat, err)
			}
			matches = m
		}
		for _, m := range matches {
			st, err := os.Stat(m)
			if err != nil {
				fmt.Fprintf(h, "%s:absent\n", m)
				continue
			}
			fmt.Fprintf(h, "%s:%d:%d\n", m, st.Size(), st.ModTime().UnixNano())
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// DirEntries fingerprints the names in directories, e.g. the USB devices
// under /sys/bus/usb/devices or mounted volumes under /Volumes.
type DirEntries struct {
	Label string
	Dirs  []string
}

// Name implements Probe.
func (d DirEntries) Name() string { return d.Label }

// Fingerprint implements Probe.
func (d DirEntries) Fingerprint(context.Context) (string, error) {
	var names []string
	for _, dir := range d.Dirs {
		ents, err := os.ReadDir(dir)
		if err != nil {
			names = append(names, dir+":absent")
			continue
		}
		for _, e := range ents {
			names = append(names, dir+"/"+e.Name())
		}
	}
	sort.Strings(names)
	return strings.Join(names, "\n"), nil
}

// Func adapts a function to a Probe.
type Func struct {
	Label string
	F     func(context.Context) (string, error)
}

// Name implements Probe.
func (f Func) Name() string { return f.Label }

// Fingerprint implements Probe.
func (f Func) Fingerprint(ctx context.Context) (string, error) { return f.F(ctx) }

// Throttle runs a costlier probe (one that starts a process) at most once
// per Every, returning the last fingerprint in between.
type Throttle struct {
	Probe Probe
	Every time.Duration

	mu   sync.Mutex
	last time.Time
	fp   string
	err  error
}

// Name implements Probe.
func (t *Throttle) Name() string { return t.Probe.Name() }

// Fingerprint implements Probe.
func (t *Throttle) Fingerprint(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.last.IsZero() && time.Since(t.last) < t.Every {
		return t.fp, t.err
	}
	t.last = time.Now()
	t.fp, t.err = t.Probe.Fingerprint(ctx)
	return t.fp, t.err
}
