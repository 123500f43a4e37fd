package agentclient

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// HardwareID identifies this machine across re-installs of the agent: a
// SHA-256 of the OS's machine identifier (machine-id on Linux, MachineGuid
// on Windows, IOPlatformUUID on macOS), so the raw identifier never leaves
// the desk.
func HardwareID() (string, error) {
	raw, err := machineID()
	if err != nil {
		return "", err
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("no machine identifier found")
	}
	sum := sha256.Sum256([]byte("custodia-hwid:" + strings.ToLower(raw)))
	return hex.EncodeToString(sum[:]), nil
}
