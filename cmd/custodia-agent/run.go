package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/posture"
	"github.com/custodia/custodia/internal/posture/collect"
	"github.com/custodia/custodia/internal/posture/watch"
)

// agent is the long-running loop shared by "run" and the Windows service.
type agent struct {
	env      *Env
	opts     checkOptions
	interval time.Duration
	poll     time.Duration
	stateDir string
	watcher  *watch.Watcher
}

func cmdRun(ctx context.Context, env *Env, args []string) error {
	a, err := parseRun(env, args)
	if err != nil {
		return err
	}
	return a.loop(ctx)
}

func parseRun(env *Env, args []string) (*agent, error) {
	fs := newFlags(env, "run", "[flags]",
		`Run in the foreground (the service managers start the agent this way):
check at start, whenever something watched changes (USB device, session
lock/unlock, signed-in user, a setting a policy reads) and every --interval.
Each report is printed as one JSON line and saved as last-report.json in
--state-dir.`)
	a := &agent{env: env}
	a.opts.register(fs)
	fs.DurationVar(&a.interval, "interval", time.Hour, "full re-check period")
	fs.DurationVar(&a.poll, "poll", 2*time.Second, "how often watched things are polled for changes")
	fs.StringVar(&a.stateDir, "state-dir", defaultStateDir(), "`DIR` for last-report.json (empty: do not save)")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if a.interval < time.Minute || a.poll < 100*time.Millisecond {
		fmt.Fprintln(env.Stderr, "run: --interval must be at least 1m and --poll at least 100ms")
		return nil, errUsage
	}
	return a, nil
}

func (a *agent) loop(ctx context.Context) error {
	policies, err := a.opts.loadPolicies(a.env.Stderr)
	if err != nil {
		return err
	}
	h := collect.New()
	h.CommandTimeout = a.opts.timeout
	if a.watcher == nil {
		a.watcher = &watch.Watcher{}
	}
	a.watcher.Interval = a.poll
	a.watcher.Probes = append(a.watcher.Probes, probes(h, policies)...)

	checkNow := make(chan string, 1)
	request := func(reason string) {
		select {
		case checkNow <- reason:
		default: // a check is already queued
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.watcher.Run(wctx, func(reasons []string) { request(strings.Join(reasons, ", ")) })
	}()
	defer func() { cancel(); <-done }()

	tick := time.NewTicker(a.interval)
	defer tick.Stop()
	reason := "start"
	for {
		a.checkOnce(ctx, h, policies, reason)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			reason = "timer"
		case reason = <-checkNow:
		}
	}
}

// runReport is one line of run's output.
type runReport struct {
	Reason string `json:"reason"`
	posture.Report
}

func (a *agent) checkOnce(ctx context.Context, h *posture.Host, policies []*posture.Policy, reason string) {
	rep := runChecks(ctx, h, policies, a.opts.runTimeout, a.opts.parallel)
	if ctx.Err() != nil {
		return // stopping: a run cut short must not replace the last report
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(runReport{Reason: reason, Report: rep}); err != nil {
		fmt.Fprintf(a.env.Stderr, "custodia-agent: encode report: %v\n", err)
		return
	}
	line := buf.Bytes()
	if a.stateDir != "" {
		paths := []string{filepath.Join(a.stateDir, "last-report.json")}
		if rep.User != "" {
			// Hot desks change hands every shift: keep each user's latest.
			paths = append(paths, filepath.Join(a.stateDir, "users", safeName(rep.User)+".json"))
		}
		for _, p := range paths {
			if err := writeAtomic(p, line); err != nil {
				fmt.Fprintf(a.env.Stderr, "custodia-agent: save report: %v\n", err)
			}
		}
	}
	_, _ = a.env.Stdout.Write(line)
}

// safeName turns a user name (DOMAIN\\user) into a file name.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if n := b.String(); n != "" && n != "." && n != ".." {
		return n
	}
	return "_"
}

func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// watchedPaths lists the files and directories the policies read, so a
// change to one of them triggers a re-check.
func watchedPaths(h *posture.Host, policies []*posture.Policy) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range policies {
		for _, c := range p.Checks {
			for _, r := range c.Rules {
				if r.Kind != posture.KindFile && r.Kind != posture.KindDir {
					continue
				}
				for _, t := range r.Targets {
					full := t
					if h.Root != "" {
						full = filepath.Join(h.Root, t)
					}
					if !seen[full] {
						seen[full] = true
						out = append(out, full)
					}
				}
			}
		}
	}
	return out
}

// sessionProbe fingerprints the signed-in user.
func sessionProbe(h *posture.Host) watch.Probe {
	return watch.Func{Label: "session user", F: func(ctx context.Context) (string, error) {
		if h.SessionUser == nil {
			return "", nil
		}
		u, err := h.SessionUser(ctx)
		if err != nil || u == nil {
			return "", err
		}
		return u.Name, nil
	}}
}
