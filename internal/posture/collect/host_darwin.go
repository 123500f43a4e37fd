//go:build darwin

package collect

import "github.com/custodia/custodia/internal/posture"

// New returns the host the agent runs on.
func New() *posture.Host { return NewDarwin(&posture.ExecRunner{}) }
