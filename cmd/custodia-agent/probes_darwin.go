//go:build darwin

package main

import (
	"context"
	"os"
	"strconv"
	"syscall"

	"github.com/custodia/custodia/internal/posture"
	"github.com/custodia/custodia/internal/posture/watch"
)

func defaultStateDir() string { return "/Library/Application Support/Custodia" }

// probes: mounted volumes (USB disks), the owner of /dev/console (the
// signed-in user, read without starting a process), managed preferences and
// the files the policies read.
func probes(h *posture.Host, policies []*posture.Policy) []watch.Probe {
	console := watch.Func{Label: "console user", F: func(context.Context) (string, error) {
		st, err := os.Stat("/dev/console")
		if err != nil {
			return "", err
		}
		if s, ok := st.Sys().(*syscall.Stat_t); ok {
			return strconv.FormatUint(uint64(s.Uid), 10), nil
		}
		return "", nil
	}}
	return []watch.Probe{
		watch.DirEntries{Label: "volumes", Dirs: []string{"/Volumes"}},
		console,
		watch.Paths{Label: "managed preferences", Patterns: []string{"/Library/Managed Preferences/*"}},
		watch.Paths{Label: "watched settings", Patterns: watchedPaths(h, policies)},
	}
}

func runAsService() bool { return false }
