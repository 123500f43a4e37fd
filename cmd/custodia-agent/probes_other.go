//go:build !linux && !darwin && !windows

package main

import (
	"github.com/custodia/custodia/internal/posture"
	"github.com/custodia/custodia/internal/posture/watch"
)

func defaultStateDir() string { return "" }

func probes(h *posture.Host, policies []*posture.Policy) []watch.Probe {
	return []watch.Probe{watch.Paths{Label: "watched settings", Patterns: watchedPaths(h, policies)}}
}

func runAsService() bool { return false }
