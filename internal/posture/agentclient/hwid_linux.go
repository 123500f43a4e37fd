//go:build linux

package agentclient

import "os"

func machineID() (string, error) {
	var last error
	for _, p := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id", "/sys/class/dmi/id/product_uuid"} {
		b, err := os.ReadFile(p)
		if err == nil && len(b) > 0 {
			return string(b), nil
		}
		last = err
	}
	return "", last
}
