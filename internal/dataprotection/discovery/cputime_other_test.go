//go:build !linux

package discovery

// threadCPU is not measured on this system.
func threadCPU() int64 { return 0 }

// processCPU is not measured on this system.
func processCPU() int64 { return 0 }
