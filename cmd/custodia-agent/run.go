package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/fleet/wire"
	"github.com/custodia/custodia/internal/posture"
	"github.com/custodia/custodia/internal/posture/agentclient"
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
	// client is set when the device is enrolled with a server: results
	// are queued and sent, and the server's signed policies are used.
	client   *agentclient.Client
	failures int
	digest   string
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
	if a.stateDir != "" && len(a.opts.policies) == 0 {
		c, err := agentclient.Open(a.stateDir, credStore(a.stateDir))
		switch {
		case err == nil:
			a.client = c
		case errors.Is(err, agentclient.ErrNotEnrolled):
		default:
			return nil, fmt.Errorf("open the enrollment in %s: %w", a.stateDir, err)
		}
	}
	return a, nil
}

// serverPolicies parses the policies of the server's last verified bundle
// (nil when none was received yet). A policy that does not parse is
// reported and skipped.
func (a *agent) serverPolicies() []*posture.Policy {
	ps, err := a.client.Policies()
	if err != nil {
		fmt.Fprintf(a.env.Stderr, "custodia-agent: server policies: %v\n", err)
		return nil
	}
	var out []*posture.Policy
	for _, p := range ps {
		pol, err := posture.Parse([]byte(p.Source))
		if err != nil {
			fmt.Fprintf(a.env.Stderr, "custodia-agent: server policy %s: %v\n", p.Name, err)
			continue
		}
		out = append(out, pol)
	}
	return out
}

// sync sends what is queued (or a heartbeat) and answers when to sync
// next: the server's interval, or a jittered backoff after a failure. It
// reports whether the server sent new policies.
func (a *agent) sync(ctx context.Context, h *posture.Host) (time.Duration, bool) {
	user := ""
	if u, err := posture.NewRun(h).Session(ctx); err == nil && u != nil {
		user = u.Name
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	resp, _, err := a.client.Flush(sctx, wire.Heartbeat{SessionUser: user, AgentVersion: version, UptimeS: int64(time.Since(started).Seconds())})
	if err != nil {
		a.failures++
		wait := backoff(a.failures, a.client.Interval())
		if ctx.Err() == nil {
			fmt.Fprintf(a.env.Stderr, "custodia-agent: server unreachable (%v); %d queued, retry in %s\n", err, a.client.Pending(), wait.Round(time.Second))
		}
		return wait, false
	}
	a.failures = 0
	next := a.client.Interval()
	if resp != nil && resp.NextSeconds > 0 {
		next = time.Duration(resp.NextSeconds) * time.Second
	}
	changed := resp != nil && resp.Bundle != nil && resp.Bundle.Digest != a.digest
	if changed {
		a.digest = resp.Bundle.Digest
	}
	return next, changed
}

var started = time.Now()

func (a *agent) loop(ctx context.Context) error {
	h := collect.New()
	h.CommandTimeout = a.opts.timeout
	var syncAt <-chan time.Time
	var policies []*posture.Policy
	if a.client != nil {
		// Enrolled: fetch the signed policies first (the built-in baseline
		// runs until the server can be reached).
		next, _ := a.sync(ctx, h)
		syncAt = time.After(next)
		policies = a.serverPolicies()
	}
	if len(policies) == 0 {
		var err error
		if policies, err = a.opts.loadPolicies(a.env.Stderr); err != nil {
			return err
		}
	}
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
		rep, ok := a.checkOnce(ctx, h, policies, reason)
		if ok && a.client != nil {
			if n, err := a.client.QueueResults(rep); err != nil {
				fmt.Fprintf(a.env.Stderr, "custodia-agent: queue results: %v\n", err)
			} else if n > 0 {
				next, changed := a.sync(ctx, h)
				syncAt = time.After(next)
				if changed {
					if ps := a.serverPolicies(); len(ps) > 0 {
						policies = ps
						request("new policies")
					}
				}
			}
		}
	wait:
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			reason = "timer"
		case reason = <-checkNow:
		case <-syncAt:
			next, changed := a.sync(ctx, h)
			syncAt = time.After(next)
			if !changed {
				goto wait
			}
			if ps := a.serverPolicies(); len(ps) > 0 {
				policies = ps
			}
			reason = "new policies"
		}
	}
}

// runReport is one line of run's output.
type runReport struct {
	Reason string `json:"reason"`
	posture.Report
}

func (a *agent) checkOnce(ctx context.Context, h *posture.Host, policies []*posture.Policy, reason string) (posture.Report, bool) {
	rep := runChecks(ctx, h, policies, a.opts.runTimeout, a.opts.parallel)
	if ctx.Err() != nil {
		return rep, false // stopping: a run cut short must not replace the last report
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(runReport{Reason: reason, Report: rep}); err != nil {
		fmt.Fprintf(a.env.Stderr, "custodia-agent: encode report: %v\n", err)
		return rep, false
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
	return rep, true
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
