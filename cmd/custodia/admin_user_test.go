package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
)

func runAdminUserCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	code := run(context.Background(), env, args)
	return code, out.String(), errb.String()
}

func TestAdminCreateUserAndRotateKey(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runAdminUserCmd(t, "", "admin", "create-user", "--data-dir", dir, "--username", "Ciso", "--role", "security", "--all-clients")
	if code != 0 || !strings.Contains(out, "one-time password") || !strings.Contains(out, "created user ciso") {
		t.Fatalf("create-user = %d\n%s\n%s", code, out, errs)
	}
	code, _, errs = runAdminUserCmd(t, "tres tristes tigres comen trigo\n", "admin", "create-user", "--data-dir", dir, "--username", "ana", "--role", "agent", "--password-stdin")
	if code != 0 {
		t.Fatalf("create-user --password-stdin = %d: %s", code, errs)
	}
	code, _, errs = runAdminUserCmd(t, "short\n", "admin", "create-user", "--data-dir", dir, "--username", "bob", "--role", "agent", "--password-stdin")
	if code == 0 || !strings.Contains(errs, "--password") {
		t.Fatalf("weak password accepted: %d %s", code, errs)
	}
	code, _, errs = runAdminUserCmd(t, "", "admin", "create-user", "--data-dir", dir, "--username", "eve", "--role", "agent", "--clients", "nosuch")
	if code == 0 || !strings.Contains(errs, "unknown client codes: nosuch") {
		t.Fatalf("unknown client accepted: %d %s", code, errs)
	}
	if code, _, _ = runAdminUserCmd(t, "", "admin", "create-user", "--data-dir", dir, "--role", "agent"); code != 2 {
		t.Fatalf("missing --username: exit %d, want 2", code)
	}
	if code, _, _ = runAdminUserCmd(t, "", "admin", "create-user", "--data-dir", dir, "--username", "x1", "--role", "boss"); code != 2 {
		t.Fatalf("bad --role: exit %d, want 2", code)
	}

	// Enrol TOTP for ciso so there is a sealed value to re-wrap.
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secret.Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.UserByUsername(ctx, "ciso")
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.NewService(st, keys, auth.Config{}, nil)
	if _, err := svc.BeginTOTPEnrolment(ctx, u.Principal()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	oldID := keys.KeyID()

	code, out, errs = runAdminUserCmd(t, "", "admin", "rotate-key", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "re-wrapped 1 encrypted values") {
		t.Fatalf("rotate-key = %d\n%s\n%s", code, out, errs)
	}
	nk, err := secret.Load(dir, "")
	if err != nil || nk.KeyID() == oldID {
		t.Fatalf("key after rotation %v (%v), old %v", nk.KeyID(), err, oldID)
	}
	olds, _ := filepath.Glob(filepath.Join(dir, "master.key.old-*"))
	if len(olds) != 1 {
		t.Fatalf("old key files: %v", olds)
	}
	if _, err := os.Stat(filepath.Join(dir, "master.key.new")); !os.IsNotExist(err) {
		t.Fatalf("pending key left behind: %v", err)
	}
	st, err = store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	creds, err := st.UserCredentials(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := secret.KeyIDOf(creds.TOTPSecret); id != nk.KeyID() {
		t.Fatalf("TOTP seed wrapped under %s, want %s", id, nk.KeyID())
	}
	if _, err := nk.Open(creds.TOTPSecret, []byte("users.totp_secret:"+adminUserItoa(u.ID))); err != nil {
		t.Fatalf("TOTP seed does not open with the new key: %v", err)
	}
}

func adminUserItoa(n int64) string { return strconv.FormatInt(n, 10) }
