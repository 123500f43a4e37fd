//go:build !linux && !windows && !darwin

package agentclient

import "os"

func machineID() (string, error) { return os.Hostname() }
