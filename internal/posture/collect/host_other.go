//go:build !linux && !darwin && !windows

package collect

import "github.com/custodia/custodia/internal/posture"

// New returns a host with files and commands only.
func New() *posture.Host { return &posture.Host{Runner: &posture.ExecRunner{}} }
