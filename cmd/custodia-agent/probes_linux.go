//go:build linux

package main

import (
	"context"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/posture"
	"github.com/custodia/custodia/internal/posture/collect"
	"github.com/custodia/custodia/internal/posture/watch"
)

func defaultStateDir() string { return "/var/lib/custodia-agent" }

// probes: USB devices from sysfs, logind session files (sign-in, sign-out,
// user switch), the session's LockedHint (asked of loginctl at most every
// 5 s) and the files the policies read.
func probes(h *posture.Host, policies []*posture.Policy) []watch.Probe {
	locked := watch.Func{Label: "session lock", F: func(ctx context.Context) (string, error) {
		id, _, err := collect.LinuxActiveSession("")
		if err != nil || id == "" || h.Runner == nil {
			return "", err
		}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		out, err := h.Runner.Run(ctx, []string{"loginctl", "show-session", id, "-p", "LockedHint", "--value"})
		return strings.TrimSpace(string(out)), err
	}}
	return []watch.Probe{
		watch.DirEntries{Label: "usb devices", Dirs: []string{"/sys/bus/usb/devices"}},
		watch.Paths{Label: "sessions", Patterns: []string{"/run/systemd/sessions/*"}},
		sessionProbe(h),
		&watch.Throttle{Probe: locked, Every: 5 * time.Second},
		watch.Paths{Label: "watched settings", Patterns: watchedPaths(h, policies)},
	}
}

func runAsService() bool { return false }
