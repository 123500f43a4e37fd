//go:build linux

package discovery

import "golang.org/x/sys/unix"

// threadCPU is the calling thread's CPU time in nanoseconds (lock the
// goroutine to its thread around the measure).
func threadCPU() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}

// processCPU is the process's user and system CPU time in nanoseconds.
func processCPU() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
