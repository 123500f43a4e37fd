//go:build linux

package main

import (
	"github.com/custodia/custodia/internal/posture"
	"github.com/custodia/custodia/internal/posture/watch"
)

func defaultStateDir() string { return "/var/lib/custodia-agent" }

// probes: USB devices from sysfs, logind session files (user change, lock
// and unlock rewrite them), and the files the policies read.
func probes(h *posture.Host, policies []*posture.Policy) []watch.Probe {
	return []watch.Probe{
		watch.DirEntries{Label: "usb devices", Dirs: []string{"/sys/bus/usb/devices"}},
		watch.Paths{Label: "sessions", Patterns: []string{"/run/systemd/sessions/*"}},
		sessionProbe(h),
		watch.Paths{Label: "watched settings", Patterns: watchedPaths(h, policies)},
	}
}

func runAsService() bool { return false }
