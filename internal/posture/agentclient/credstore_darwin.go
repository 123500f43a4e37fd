//go:build darwin

package agentclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// KeychainStore keeps the credential as a generic password in the System
// keychain, through the security(1) tool (no cgo). The secret is written
// to security's standard input in its interactive mode, never on a
// command line other processes could read.
type KeychainStore struct {
	Service, Account, Keychain string
}

// DefaultCredStore is the System keychain item of the agent.
func DefaultCredStore(dir string) CredStore {
	_ = dir
	return KeychainStore{Service: "com.custodia.agent", Account: "device-credential", Keychain: "/Library/Keychains/System.keychain"}
}

func securityCmd(ctx context.Context, stdin string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/security", args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("security %s: %v: %s", args[0], err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

// quote quotes a word for security's interactive mode.
func quote(s string) string { return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"` }

// Save adds or updates the keychain item.
func (k KeychainStore) Save(cred string) error {
	line := "add-generic-password -U -a " + quote(k.Account) + " -s " + quote(k.Service) + " -w " + quote(cred) + " " + quote(k.Keychain) + "\n"
	_, err := securityCmd(context.Background(), line, "-i")
	return err
}

// Load reads the keychain item.
func (k KeychainStore) Load() (string, error) {
	out, err := securityCmd(context.Background(), "", "find-generic-password", "-a", k.Account, "-s", k.Service, "-w", k.Keychain)
	if err != nil {
		return "", err
	}
	cred := strings.TrimSpace(string(out))
	if cred == "" {
		return "", errors.New("the keychain item is empty")
	}
	return cred, nil
}

// Delete removes the keychain item.
func (k KeychainStore) Delete() error {
	_, err := securityCmd(context.Background(), "", "delete-generic-password", "-a", k.Account, "-s", k.Service, k.Keychain)
	return err
}
