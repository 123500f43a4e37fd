package agentclient

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FileStore keeps the credential in a file readable by its owner only
// (0600 in a 0700 directory); on Linux the agent runs as root, so only
// root can read it. Load refuses a file others could read.
type FileStore struct{ Path string }

// Save writes the credential (temp file, fsync, rename).
func (f FileStore) Save(cred string) error {
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return err
	}
	return writeFileSync(f.Path, []byte(cred+"\n"))
}

// Load reads the credential, refusing a file group or others may read.
func (f FileStore) Load() (string, error) {
	st, err := os.Stat(f.Path)
	if err != nil {
		return "", err
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("%s is readable by others (mode %o): fix it with chmod 600 or enroll again", f.Path, perm)
	}
	b, err := os.ReadFile(f.Path)
	if err != nil {
		return "", err
	}
	cred := strings.TrimSpace(string(b))
	if cred == "" {
		return "", errors.New("the credential file is empty")
	}
	return cred, nil
}

// Delete removes the credential file.
func (f FileStore) Delete() error {
	err := os.Remove(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
