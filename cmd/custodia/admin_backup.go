package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
)

// Backup layout: a directory (or a .tar.gz of the same files, no folders) with
// the database copy, the keys found in the data directory and manifest.json.
const (
	backupFormat   = "custodia-backup"
	backupVersion  = 1
	backupManifest = "manifest.json"
	backupDB       = "custodia.db"
	// maxBackupFile bounds one file read from an archive.
	maxBackupFile = 64 << 30
)

// backupKeyFiles are the key files copied along with the database.
var backupKeyFiles = []string{secret.KeyFile, audit.SigningKeyFile}

// pgBackupProcedure is printed when backup or restore meet PostgreSQL.
const pgBackupProcedure = `On PostgreSQL, back up with pg_dump and copy the keys yourself:

  pg_dump --format=custom --file=custodia.dump "$CUSTODIA_DATABASE"
  cp --preserve=mode DATA_DIR/master.key DATA_DIR/audit-signing.key BACKUP_DIR/

and restore into an empty database:

  createdb custodia_restored
  pg_restore --no-owner --exit-on-error --dbname=postgres://…/custodia_restored custodia.dump
  install -m 0600 BACKUP_DIR/master.key BACKUP_DIR/audit-signing.key NEW_DATA_DIR/
  custodia audit verify --database postgres://…/custodia_restored

(see docs/audit.md). Skip the key files when the keys come from
CUSTODIA_MASTER_KEY / CUSTODIA_AUDIT_SIGNING_KEY, and keep those values safe.`

type backupManifestFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

type backupManifestDoc struct {
	Format        string               `json:"format"`
	Version       int                  `json:"version"`
	CreatedAt     time.Time            `json:"created_at"`
	CustodiaVer   string               `json:"custodia_version"`
	SchemaVersion int64                `json:"schema_version"`
	AuditHeadSeq  int64                `json:"audit_head_seq"`
	AuditHeadHash string               `json:"audit_head_hash"`
	Files         []backupManifestFile `json:"files"`
	Notes         []string             `json:"notes,omitempty"`
}

func adminBackup(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("custodia admin backup", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, `Usage: custodia admin backup --out DIR|FILE.tar.gz [--data-dir DIR]

Writes a consistent online copy of the SQLite database (VACUUM INTO: the
server may keep running and writing) together with the keys in the data
directory (master.key, audit-signing.key) and manifest.json (schema version,
time, audit chain head, SHA-256 of every file). --out names a new directory,
or a .tar.gz/.tgz archive; it is written under a temporary name and renamed,
files 0600 and directories 0700. The copy's audit trail is verified before
the backup is declared good. The backup is recorded in the audit trail.
Keys supplied by environment variables are not in the backup: keep them safe.
On PostgreSQL it refuses and prints the pg_dump procedure.

Flags:`)
		fs.PrintDefaults()
	}
	cfg := config.Defaults()
	cfg.RegisterStore(fs)
	out := fs.String("out", "", "new backup `directory`, or an archive FILE ending in .tar.gz or .tgz")
	if err := cfg.Parse(fs, args, env.Getenv); err != nil {
		return usageErr(err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *out == "" {
		return usageErr(errors.New("--out is required"))
	}
	if cfg.DatabaseURL != "" {
		fmt.Fprintln(env.Stderr, pgBackupProcedure)
		return store.ErrBackupPostgres
	}
	if _, err := os.Lstat(*out); err == nil {
		return fmt.Errorf("backup: %s already exists; choose a new name", *out)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, backupDB)); err != nil {
		return fmt.Errorf("backup: no database in --data-dir %s: %w", cfg.DataDir, err)
	}
	st, err := store.Open(ctx, store.Options{DataDir: cfg.DataDir, NoMigrate: true})
	if err != nil {
		return err
	}
	defer st.Close()

	parent := filepath.Dir(*out)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	stage, err := os.MkdirTemp(parent, ".custodia-backup-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(stage)

	actor := audit.WithActor(ctx, audit.Actor{Name: "cli:" + currentUser(env)})
	if err := st.Audit(actor, audit.Record{Action: "admin.backup", ObjectType: "backup", ObjectID: filepath.Base(*out),
		Detail: "online backup"}); err != nil {
		return err
	}
	start := time.Now()
	if err := st.BackupSQLite(ctx, filepath.Join(stage, backupDB)); err != nil {
		return err
	}
	man := backupManifestDoc{Format: backupFormat, Version: backupVersion, CreatedAt: time.Now().UTC().Truncate(time.Second), CustodiaVer: version}
	for _, name := range backupKeyFiles {
		src := filepath.Join(cfg.DataDir, name)
		if err := copyFile(src, filepath.Join(stage, name)); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				man.Notes = append(man.Notes, name+" is not in the data directory (supplied by the environment?); it is not in this backup")
				continue
			}
			return fmt.Errorf("backup: %w", err)
		}
	}
	// Check the copy: its schema, and its audit chain.
	rep, err := checkRestoredDB(ctx, filepath.Join(stage, backupDB), &man)
	if err != nil {
		return fmt.Errorf("backup: the copy does not check out: %w", err)
	}
	if err := rep.Err(); err != nil {
		printReport(env.Stderr, "backup copy", rep)
		return fmt.Errorf("backup: refusing to keep a copy whose audit trail fails verification: %w", err)
	}
	names, err := os.ReadDir(stage)
	if err != nil {
		return err
	}
	for _, de := range names {
		f, err := hashFile(filepath.Join(stage, de.Name()))
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		man.Files = append(man.Files, f)
	}
	mb, _ := json.MarshalIndent(man, "", "  ")
	if err := os.WriteFile(filepath.Join(stage, backupManifest), append(mb, '\n'), 0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}

	if isArchive(*out) {
		err = writeFileAtomic(*out, 0o600, func(w io.Writer) error { return writeTarGz(w, stage) })
	} else {
		err = os.Rename(stage, *out)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(env.Stdout, "backup written to %s in %s: schema version %d, audit trail verified up to entry %d (%d files)\n",
		*out, time.Since(start).Round(time.Millisecond), man.SchemaVersion, man.AuditHeadSeq, len(man.Files)+1)
	for _, n := range man.Notes {
		fmt.Fprintln(env.Stdout, "note:", n)
	}
	return nil
}

// checkRestoredDB opens a database copy without migrating it, records its
// schema version and audit head in man, and verifies its audit trail.
func checkRestoredDB(ctx context.Context, path string, man *backupManifestDoc) (*audit.Report, error) {
	st, err := store.Open(ctx, store.Options{SQLitePath: path, NoMigrate: true})
	if err != nil {
		return nil, err
	}
	defer func() {
		st.Close()
		os.Remove(path + "-wal")
		os.Remove(path + "-shm")
	}()
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	h, err := st.AuditHead(ctx)
	if err != nil {
		return nil, err
	}
	if man.SchemaVersion != 0 {
		// Restoring: the copy must be what the manifest describes.
		if man.SchemaVersion != v || man.AuditHeadSeq != h.Seq || man.AuditHeadHash != h.Hash {
			return nil, fmt.Errorf("the database (schema %d, audit head %d) is not the one the manifest describes (schema %d, audit head %d)",
				v, h.Seq, man.SchemaVersion, man.AuditHeadSeq)
		}
	}
	man.SchemaVersion, man.AuditHeadSeq, man.AuditHeadHash = v, h.Seq, h.Hash
	return st.VerifyAudit(ctx, audit.VerifyOptions{})
}

func adminRestore(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("custodia admin restore", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, `Usage: custodia admin restore --from DIR|FILE.tar.gz --data-dir NEW_DIR

Restores a backup made by "custodia admin backup" into a data directory that
does not exist or is empty (it never overwrites). The SHA-256 of every file
is checked against the manifest, the schema must not be newer than this
binary, and the audit trail is verified before anything is put in place.
Start the server on the new data directory afterwards; it applies any
pending migrations. On PostgreSQL use pg_restore (see docs/audit.md).

Flags:`)
		fs.PrintDefaults()
	}
	cfg := config.Defaults()
	cfg.RegisterStore(fs)
	from := fs.String("from", "", "backup `directory` or .tar.gz archive")
	if err := cfg.Parse(fs, args, env.Getenv); err != nil {
		return usageErr(err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *from == "" {
		return usageErr(errors.New("--from is required"))
	}
	if cfg.DatabaseURL != "" {
		fmt.Fprintln(env.Stderr, pgBackupProcedure)
		return errors.New("restore: restores the embedded SQLite database only; restore PostgreSQL with pg_restore")
	}
	dst := cfg.DataDir
	if err := checkEmptyDir(dst); err != nil {
		return err
	}
	parent := filepath.Dir(filepath.Clean(dst))
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	stage, err := os.MkdirTemp(parent, ".custodia-restore-*")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(stage)

	// Bring the files into the staging directory.
	st, err := os.Stat(*from)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if st.IsDir() {
		err = copyBackupDir(*from, stage)
	} else {
		err = extractTarGz(*from, stage)
	}
	if err != nil {
		return fmt.Errorf("restore from %s: %w", *from, err)
	}
	man, err := checkManifest(stage)
	if err != nil {
		return fmt.Errorf("restore from %s: %w", *from, err)
	}
	if man.SchemaVersion > store.LatestVersion() {
		return fmt.Errorf("restore: the backup is at schema version %d, this binary knows up to %d; use a newer custodia: %w", man.SchemaVersion, store.LatestVersion(), store.ErrSchemaTooNew)
	}
	rep, err := checkRestoredDB(ctx, filepath.Join(stage, backupDB), man)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	printReport(env.Stdout, "restored copy", rep)
	if err := rep.Err(); err != nil {
		return fmt.Errorf("restore: refusing a backup whose audit trail fails verification: %w", err)
	}
	os.Remove(filepath.Join(stage, backupManifest))

	// Put the files in place: rename the staging directory over a missing
	// data dir, or move the files into an existing empty one.
	if _, err := os.Stat(dst); errors.Is(err, os.ErrNotExist) {
		if err := os.Rename(stage, dst); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	} else {
		entries, err := os.ReadDir(stage)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := os.Rename(filepath.Join(stage, e.Name()), filepath.Join(dst, e.Name())); err != nil {
				return fmt.Errorf("restore: %w", err)
			}
		}
	}
	if err := os.Chmod(dst, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// Record the restore in the restored trail itself.
	rs, err := store.Open(ctx, store.Options{DataDir: dst, NoMigrate: true})
	if err != nil {
		return err
	}
	defer rs.Close()
	actor := audit.WithActor(ctx, audit.Actor{Name: "cli:" + currentUser(env)})
	if err := rs.Audit(actor, audit.Record{Action: "admin.restore", ObjectType: "backup", ObjectID: filepath.Base(*from),
		Detail: "restored backup of " + man.CreatedAt.Format(time.RFC3339)}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "restored %s into %s: schema version %d, %d audit entries verified\n", *from, dst, man.SchemaVersion, rep.Entries)
	for _, n := range man.Notes {
		fmt.Fprintln(env.Stdout, "note:", n)
	}
	return nil
}

// checkEmptyDir accepts a directory that does not exist or is empty.
func checkEmptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("restore: data directory %s is not empty; restore into a new or empty directory (nothing is overwritten)", dir)
	}
	return nil
}

// isBackupName reports whether name may appear in a backup.
func isBackupName(name string) bool {
	return name == backupDB || name == backupManifest || slices.Contains(backupKeyFiles, name)
}

func checkManifest(dir string) (*backupManifestDoc, error) {
	b, err := os.ReadFile(filepath.Join(dir, backupManifest))
	if err != nil {
		return nil, fmt.Errorf("no manifest: %w", err)
	}
	var man backupManifestDoc
	if err := json.Unmarshal(b, &man); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if man.Format != backupFormat || man.Version != backupVersion {
		return nil, fmt.Errorf("manifest: format %q version %d, this binary reads %q version %d", man.Format, man.Version, backupFormat, backupVersion)
	}
	listed := map[string]bool{}
	for _, f := range man.Files {
		if !isBackupName(f.Name) || f.Name == backupManifest || listed[f.Name] {
			return nil, fmt.Errorf("manifest: unexpected file %q", f.Name)
		}
		listed[f.Name] = true
		got, err := hashFile(filepath.Join(dir, f.Name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		if got.Size != f.Size || got.SHA256 != f.SHA256 {
			return nil, fmt.Errorf("%s: checksum mismatch (the backup is damaged or was modified)", f.Name)
		}
	}
	if !listed[backupDB] {
		return nil, fmt.Errorf("manifest: no %s", backupDB)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Name() != backupManifest && !listed[e.Name()] {
			return nil, fmt.Errorf("%s is not listed in the manifest", e.Name())
		}
	}
	return &man, nil
}

func hashFile(path string) (backupManifestFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return backupManifestFile{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return backupManifestFile{}, err
	}
	return backupManifestFile{Name: filepath.Base(path), Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// copyFile copies src to a new file dst with mode 0600.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func copyBackupDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !isBackupName(e.Name()) {
			return fmt.Errorf("unexpected entry %q in the backup", e.Name())
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func isArchive(name string) bool {
	return strings.HasSuffix(name, ".tar.gz") || strings.HasSuffix(name, ".tgz")
}

// writeTarGz writes the regular files of dir (no folders) as a gzipped tar.
func writeTarGz(w io.Writer, dir string) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: e.Name(), Mode: 0o600, Size: st.Size(), ModTime: st.ModTime(), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// extractTarGz unpacks a backup archive file into dir.
func extractTarGz(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return readTarGz(f, dir)
}

// readTarGz unpacks a backup archive into dir, accepting only the known flat
// file names, once each, as regular files (no paths, links or devices).
func readTarGz(r io.Reader, dir string) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("not a .tar.gz backup: %w", err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg || !isBackupName(hdr.Name) || hdr.Size < 0 || hdr.Size > maxBackupFile {
			return fmt.Errorf("unexpected entry %q in the archive", hdr.Name)
		}
		out, err := os.OpenFile(filepath.Join(dir, hdr.Name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		_, err = io.CopyN(out, tr, hdr.Size)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
}
