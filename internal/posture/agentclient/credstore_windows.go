//go:build windows

package agentclient

import (
	"errors"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/windows"
)

// DPAPIStore keeps the credential encrypted with DPAPI (machine scope: the
// enrolling administrator and the service running as LocalSystem both
// open it) in a file under the agent's ProgramData directory, whose ACL
// admits Administrators and SYSTEM only.
type DPAPIStore struct{ Path string }

// DefaultCredStore is the DPAPI-protected credential in dir.
func DefaultCredStore(dir string) CredStore {
	return DPAPIStore{Path: filepath.Join(dir, "credential.dpapi")}
}

var dpapiEntropy = []byte("custodia-agent device credential")

func blob(b []byte) *windows.DataBlob {
	if len(b) == 0 {
		return &windows.DataBlob{}
	}
	return &windows.DataBlob{Size: uint32(len(b)), Data: &b[0]}
}

// Save encrypts and writes the credential.
func (d DPAPIStore) Save(cred string) error {
	var out windows.DataBlob
	name, _ := windows.UTF16PtrFromString("Custodia agent credential")
	if err := windows.CryptProtectData(blob([]byte(cred)), name, blob(dpapiEntropy), 0, nil,
		windows.CRYPTPROTECT_UI_FORBIDDEN|windows.CRYPTPROTECT_LOCAL_MACHINE, &out); err != nil {
		return err
	}
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	enc := append([]byte(nil), unsafe.Slice(out.Data, out.Size)...)
	if err := os.MkdirAll(filepath.Dir(d.Path), 0o700); err != nil {
		return err
	}
	return writeFileSync(d.Path, enc)
}

// Load reads and decrypts the credential.
func (d DPAPIStore) Load() (string, error) {
	enc, err := os.ReadFile(d.Path)
	if err != nil {
		return "", err
	}
	if len(enc) == 0 {
		return "", errors.New("the credential file is empty")
	}
	var out windows.DataBlob
	if err := windows.CryptUnprotectData(blob(enc), nil, blob(dpapiEntropy), 0, nil, windows.CRYPTPROTECT_UI_FORBIDDEN, &out); err != nil {
		return "", err
	}
	defer windows.LocalFree(windows.Handle(unsafe.Pointer(out.Data)))
	return string(unsafe.Slice(out.Data, out.Size)), nil
}

// Delete removes the credential file.
func (d DPAPIStore) Delete() error {
	err := os.Remove(d.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
