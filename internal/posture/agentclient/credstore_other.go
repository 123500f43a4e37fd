//go:build !windows && !darwin

package agentclient

import "path/filepath"

// DefaultCredStore is the root-only credential file in dir.
func DefaultCredStore(dir string) CredStore { return FileStore{Path: filepath.Join(dir, "credential")} }
