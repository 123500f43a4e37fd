//go:build windows

package posture

import "syscall"

// syscall_ENOTDIR is returned when a path goes through a regular file.
var syscall_ENOTDIR error = syscall.ERROR_PATH_NOT_FOUND
