package agentclient

// CredStore keeps the device credential with the operating system's
// protection: a root-only file on Linux (FileStore), DPAPI on Windows,
// the System keychain on macOS (DefaultCredStore picks the right one).
type CredStore interface {
	Save(cred string) error
	Load() (string, error)
	Delete() error
}
