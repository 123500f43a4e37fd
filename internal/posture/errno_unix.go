//go:build !windows

package posture

import "syscall"

// errNotDir is returned when a path goes through a regular file.
var errNotDir error = syscall.ENOTDIR
