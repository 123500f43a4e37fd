package store

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// ErrBackupPostgres reports that the online backup is only for SQLite; a
// PostgreSQL database is backed up with pg_dump (see docs/audit.md).
var ErrBackupPostgres = errors.New("online backup copies the embedded SQLite database; back PostgreSQL up with pg_dump")

// BackupSQLite writes a consistent copy of the SQLite database to path, which
// must not exist, with VACUUM INTO: it reads one snapshot while other
// connections and processes (a running server) go on writing. The copy is a
// plain database file (no WAL), mode 0600.
func (s *Store) BackupSQLite(ctx context.Context, path string) error {
	if s.dialect != SQLite {
		return ErrBackupPostgres
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("backup to %s: file exists", path)
	}
	// VACUUM INTO runs on the write connection (the read pool is query-only),
	// but takes only a read snapshot: writers in other processes continue.
	if _, err := s.write.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}
