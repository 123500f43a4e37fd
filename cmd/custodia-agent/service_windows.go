//go:build windows

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"

	"github.com/custodia/custodia/internal/posture"
	"github.com/custodia/custodia/internal/posture/watch"
)

func defaultStateDir() string {
	if pd := os.Getenv("ProgramData"); pd != "" {
		return filepath.Join(pd, "Custodia")
	}
	return `C:\ProgramData\Custodia`
}

// probes: drive letters (USB disks), the signed-in user and the registry
// values the policies read. Session lock and unlock arrive as service
// control events (see handler.Execute).
func probes(h *posture.Host, policies []*posture.Policy) []watch.Probe {
	drives := watch.Func{Label: "drives", F: func(context.Context) (string, error) {
		mask, err := windows.GetLogicalDrives()
		return fmt.Sprintf("%x", mask), err
	}}
	return []watch.Probe{drives, sessionProbe(h), registryProbe(h, policies),
		watch.Paths{Label: "watched settings", Patterns: watchedPaths(h, policies)}}
}

// registryProbe fingerprints the registry values the policies read.
func registryProbe(h *posture.Host, policies []*posture.Policy) watch.Probe {
	type kv struct{ key, name string }
	var vals []kv
	for _, p := range policies {
		for _, c := range p.Checks {
			for _, r := range c.Rules {
				if r.Kind != posture.KindRegistry || r.Sub == "" {
					continue
				}
				for _, t := range r.Targets {
					if !strings.ContainsAny(t, "*?[") { // wildcards follow the session user probe
						vals = append(vals, kv{t, r.Sub})
					}
				}
			}
		}
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i].key+vals[i].name < vals[j].key+vals[j].name })
	return watch.Func{Label: "watched registry values", F: func(context.Context) (string, error) {
		if h.Registry == nil {
			return "", nil
		}
		var b strings.Builder
		for _, v := range vals {
			lines, ok, _ := h.Registry.Value(v.key, v.name)
			fmt.Fprintf(&b, "%s\\%s=%v:%s\n", v.key, v.name, ok, strings.Join(lines, "|"))
		}
		return b.String(), nil
	}}
}

// runAsService runs the agent under the service control manager when
// started by it, and reports whether it did.
func runAsService() bool {
	ok, err := svc.IsWindowsService()
	if err != nil || !ok {
		return false
	}
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "run" {
		args = args[1:]
	}
	// Below-normal priority, inherited by the commands rules run, so a
	// check never competes with the agent's softphone or CRM.
	_ = windows.SetPriorityClass(windows.CurrentProcess(), windows.BELOW_NORMAL_PRIORITY_CLASS)
	_ = os.MkdirAll(defaultStateDir(), 0o750)
	logf, _ := os.OpenFile(filepath.Join(defaultStateDir(), "agent.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	env := &Env{Stdout: discardIfNil(logf), Stderr: discardIfNil(logf), Getenv: os.Getenv}
	a, err := parseRun(env, args)
	if err != nil {
		return true
	}
	a.watcher = &watch.Watcher{}
	_ = svc.Run("custodia-agent", &handler{a: a})
	return true
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

func discardIfNil(f *os.File) interface{ Write([]byte) (int, error) } {
	if f == nil {
		return nopWriter{}
	}
	return f
}

type handler struct{ a *agent }

// Execute implements svc.Handler: it runs the agent loop and turns session
// changes (logon, logoff, lock, unlock) into immediate re-checks.
func (h *handler) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	const accepts = svc.AcceptStop | svc.AcceptShutdown | svc.AcceptSessionChange
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.a.loop(ctx) }()
	status <- svc.Status{State: svc.Running, Accepts: accepts}
	names := map[uint32]string{
		windows.WTS_SESSION_LOGON: "session logon", windows.WTS_SESSION_LOGOFF: "session logoff",
		windows.WTS_SESSION_LOCK: "session lock", windows.WTS_SESSION_UNLOCK: "session unlock",
		windows.WTS_CONSOLE_CONNECT: "console connect", windows.WTS_REMOTE_CONNECT: "remote connect",
	}
	for {
		select {
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending}
				cancel()
				<-done
				return false, 0
			case svc.SessionChange:
				if n, ok := names[c.EventType]; ok {
					h.a.watcher.Notify(n)
				}
			}
		case <-done:
			cancel()
			return false, 1
		}
	}
}
