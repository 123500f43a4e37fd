//go:build darwin

package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

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
	// The screen-lock state is in the IOConsoleUsers entry of the I/O
	// registry; ioreg is asked at most every 5 s.
	locked := watch.Func{Label: "session lock", F: func(ctx context.Context) (string, error) {
		if h.Runner == nil {
			return "", nil
		}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		out, err := h.Runner.Run(ctx, []string{"/usr/sbin/ioreg", "-n", "Root", "-d1"})
		var keep []string
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "Locked") {
				keep = append(keep, strings.TrimSpace(line))
			}
		}
		return strings.Join(keep, "\n"), err
	}}
	return []watch.Probe{
		watch.DirEntries{Label: "volumes", Dirs: []string{"/Volumes"}},
		console,
		&watch.Throttle{Probe: locked, Every: 5 * time.Second},
		watch.Paths{Label: "managed preferences", Patterns: []string{"/Library/Managed Preferences/*"}},
		watch.Paths{Label: "watched settings", Patterns: watchedPaths(h, policies)},
	}
}

func runAsService() bool { return false }
