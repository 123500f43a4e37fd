package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/store"
)

// runCLI runs a custodia command in-process and returns its exit code and output.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	code := run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

// auditDataDir makes a data dir with a signing key and n audit entries (and a client row).
func auditDataDir(t *testing.T, n int) (string, *store.Store) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	st, err := store.Open(context.Background(), store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := audit.LoadSigningKey(dir, nil, true); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = st.InTx(ctx, func(tx *store.Tx) error {
		now := store.TimeArg(time.Now())
		if _, err := tx.Exec(ctx, "INSERT INTO clients (code, name, name_lower, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", "bankx", "Bank X", "bank x", now, now); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "client.create", ObjectType: "client", ObjectID: "bankx", After: map[string]string{"code": "bankx"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n; i++ {
		if err := st.Audit(ctx, audit.Record{Action: "person.update", ObjectType: "person", ObjectID: fmt.Sprint(i), ClientID: 1}); err != nil {
			t.Fatal(err)
		}
	}
	return dir, st
}

func TestAuditExportAndVerifyCommands(t *testing.T) {
	dir, st := auditDataDir(t, 40)
	env := map[string]string{"USER": "ops"}
	file := filepath.Join(t.TempDir(), "trail.jsonl")

	code, _, stderr := runCLI(t, env, "audit", "export", "--data-dir", dir, "--out", file)
	if code != 0 {
		t.Fatalf("export exit %d: %s", code, stderr)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v, mode %v; want 0600", err, fi.Mode())
	}
	code, keyOut, stderr := runCLI(t, env, "audit", "key", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("key exit %d: %s", code, stderr)
	}
	pub := strings.Fields(strings.Split(keyOut, "\n")[1])[2]

	code, stdout, stderr := runCLI(t, env, "audit", "verify", "--file", file, "--public-key", pub, "--require-sealed", "--full", "--stats")
	if code != 0 || !strings.Contains(stdout, "audit trail OK") || !strings.Contains(stdout, "41 entries (1–41)") || !strings.Contains(stdout, "entries/s") {
		t.Fatalf("verify --file exit %d:\n%s%s", code, stdout, stderr)
	}
	// The export was recorded and sealed: entry 41 is audit.export.
	e, err := st.AuditEntry(context.Background(), 41)
	if err != nil || e.Action != "audit.export" || e.Actor != "cli:ops" {
		t.Fatalf("entry 41 = %+v, %v", e, err)
	}
	code, stdout, _ = runCLI(t, env, "audit", "verify", "--data-dir", dir, "--public-key", pub)
	if code != 0 || !strings.Contains(stdout, "sealed up to entry 41 (the last)") {
		t.Fatalf("verify db exit %d:\n%s", code, stdout)
	}

	// A modified export fails, naming the entry.
	data, _ := os.ReadFile(file)
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, bytes.Replace(data, []byte(`"object_id":"17"`), []byte(`"object_id":"71"`), 1), 0o600)
	code, stdout, stderr = runCLI(t, env, "audit", "verify", "--file", bad)
	if code != 1 || !strings.Contains(stdout, "first bad entry:      entry 18: hash mismatch — altered") || !strings.Contains(stderr, "verification failed") {
		t.Fatalf("verify tampered file exit %d:\n%s%s", code, stdout, stderr)
	}
	// A key that is not trusted fails.
	other, _ := audit.GenerateSigningKey()
	code, stdout, _ = runCLI(t, env, "audit", "verify", "--file", file, "--public-key", encodePublicKey(other.PublicKey()))
	if code != 1 || !strings.Contains(stdout, "not trusted") {
		t.Fatalf("verify with another key exit %d:\n%s", code, stdout)
	}

	// Tampering in the database.
	if _, err := st.Exec(context.Background(), "DROP TRIGGER audit_log_no_delete"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Exec(context.Background(), "DELETE FROM audit_log WHERE seq = 30"); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runCLI(t, env, "audit", "verify", "--data-dir", dir)
	if code != 1 || !strings.Contains(stdout, "entry 30 missing (sequence jumps 29 → 31) — removed") {
		t.Fatalf("verify tampered db exit %d:\n%s", code, stdout)
	}

	// Usage errors exit 2.
	if code, _, _ := runCLI(t, env, "audit", "export", "--data-dir", dir, "--from", "yesterday"); code != 2 {
		t.Errorf("bad --from exit %d, want 2", code)
	}
	if code, _, _ := runCLI(t, env, "audit", "nope"); code != 2 {
		t.Errorf("unknown subcommand exit %d, want 2", code)
	}
}

func TestAuditExportTimeRange(t *testing.T) {
	dir, st := auditDataDir(t, 5)
	ctx := context.Background()
	later := time.Now().Add(time.Hour)
	for i := 0; i < 3; i++ {
		if err := st.Audit(ctx, audit.Record{Action: "late", Time: later.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "part.jsonl")
	code, _, stderr := runCLI(t, nil, "audit", "export", "--data-dir", dir, "--out", file, "--from", later.Format(time.RFC3339Nano), "--to", later.Add(2*time.Second).Format(time.RFC3339Nano))
	if code != 0 {
		t.Fatalf("export exit %d: %s", code, stderr)
	}
	code, stdout, _ := runCLI(t, nil, "audit", "verify", "--file", file)
	if code != 0 || !strings.Contains(stdout, "2 entries (6–7)") {
		t.Fatalf("verify partial exit %d:\n%s", code, stdout)
	}
	if code, _, _ := runCLI(t, nil, "audit", "verify", "--file", file, "--full"); code != 1 {
		t.Errorf("partial export verified with --full: exit %d", code)
	}
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	for _, archive := range []bool{false, true} {
		t.Run(fmt.Sprintf("archive=%v", archive), func(t *testing.T) {
			dir, st := auditDataDir(t, 50)
			ctx := context.Background()
			out := filepath.Join(t.TempDir(), "bk")
			if archive {
				out += ".tar.gz"
			}
			// Writes go on during the backup.
			var stop atomic.Bool
			var wg sync.WaitGroup
			var writeErr error
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					if err := st.Audit(ctx, audit.Record{Action: "token.use", ObjectType: "token", ObjectID: "7"}); err != nil {
						writeErr = err
						return
					}
				}
			}()
			code, stdout, stderr := runCLI(t, map[string]string{"USER": "ops"}, "admin", "backup", "--data-dir", dir, "--out", out)
			stop.Store(true)
			wg.Wait()
			if writeErr != nil {
				t.Fatalf("concurrent write: %v", writeErr)
			}
			if code != 0 {
				t.Fatalf("backup exit %d:\n%s%s", code, stdout, stderr)
			}
			if code, _, stderr := runCLI(t, nil, "admin", "backup", "--data-dir", dir, "--out", out); code == 0 || !strings.Contains(stderr, "already exists") {
				t.Errorf("backup over an existing path: exit %d: %s", code, stderr)
			}

			restored := filepath.Join(t.TempDir(), "restored")
			code, stdout, stderr = runCLI(t, nil, "admin", "restore", "--from", out, "--data-dir", restored)
			if code != 0 {
				t.Fatalf("restore exit %d:\n%s%s", code, stdout, stderr)
			}
			for _, name := range []string{"custodia.db", audit.SigningKeyFile} {
				if fi, err := os.Stat(filepath.Join(restored, name)); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("restored %s: %v (mode %v)", name, err, fi.Mode())
				}
			}
			rs, err := store.Open(ctx, store.Options{DataDir: restored})
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			var clients int
			if err := rs.QueryRow(ctx, "SELECT COUNT(*) FROM clients WHERE code = 'bankx'").Scan(&clients); err != nil || clients != 1 {
				t.Errorf("restored clients = %d, %v", clients, err)
			}
			key, err := audit.LoadSigningKey(restored, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			orig, _ := audit.LoadSigningKey(dir, nil, false)
			if key.KeyID() != orig.KeyID() {
				t.Errorf("restored signing key %s, want %s", key.KeyID(), orig.KeyID())
			}
			rep, err := rs.VerifyAudit(ctx, audit.VerifyOptions{})
			if err != nil || rep.Err() != nil || rep.Entries < 52 {
				t.Fatalf("restored chain: %+v, %v", rep, err)
			}
			last, _ := rs.AuditEntry(ctx, rep.LastSeq)
			if last.Action != "admin.restore" {
				t.Errorf("last restored entry = %s, want admin.restore", last.Action)
			}
			// Never over a non-empty data dir.
			if code, _, stderr := runCLI(t, nil, "admin", "restore", "--from", out, "--data-dir", restored); code == 0 || !strings.Contains(stderr, "not empty") {
				t.Errorf("restore over data: exit %d: %s", code, stderr)
			}
		})
	}
}

func TestRestoreRefusesDamagedBackup(t *testing.T) {
	dir, _ := auditDataDir(t, 5)
	out := filepath.Join(t.TempDir(), "bk")
	if code, _, stderr := runCLI(t, nil, "admin", "backup", "--data-dir", dir, "--out", out); code != 0 {
		t.Fatalf("backup: %s", stderr)
	}
	f, err := os.OpenFile(filepath.Join(out, audit.SigningKeyFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("x")
	f.Close()
	target := filepath.Join(t.TempDir(), "new")
	code, _, stderr := runCLI(t, nil, "admin", "restore", "--from", out, "--data-dir", target)
	if code != 1 || !strings.Contains(stderr, "checksum mismatch") {
		t.Fatalf("restore of a damaged backup: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed restore left %s behind: %v", target, err)
	}
}

func TestBackupRefusesPostgres(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "admin", "backup", "--database", "postgres://nobody@127.0.0.1:1/none", "--out", filepath.Join(t.TempDir(), "x"))
	if code != 1 || !strings.Contains(stderr, "pg_dump --format=custom") {
		t.Fatalf("backup on postgres: exit %d: %s", code, stderr)
	}
}
