package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/store"
)

// auditCommands are the "custodia audit" subcommands.
func auditCommands() []command {
	return []command{
		{"verify", "check the hash chain and checkpoint signatures (database or export file); exit 1 naming the first bad entry", auditVerify},
		{"export", "write the trail with its signed checkpoints as a JSON Lines file that verifies on its own", auditExport},
		{"key", "print the audit signing key's id and public key (to pin with verify --public-key)", auditKey},
	}
}

func cmdAudit(ctx context.Context, env *Env, args []string) error {
	return runGroup(ctx, env, "audit", auditCommands(), args)
}

// publicKeys is a repeatable --public-key flag: base64 keys or files holding one.
type publicKeys []ed25519.PublicKey

func (p *publicKeys) String() string { return "" }

func (p *publicKeys) Set(v string) error {
	k, err := audit.ParsePublicKey(v)
	if err != nil {
		b, ferr := os.ReadFile(v)
		if ferr != nil {
			return fmt.Errorf("%q is neither a base64 Ed25519 public key nor a readable file", v)
		}
		if k, err = audit.ParsePublicKey(string(b)); err != nil {
			return fmt.Errorf("file %s: %v", v, err)
		}
	}
	*p = append(*p, k)
	return nil
}

func auditVerify(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("custodia audit verify", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, `Usage: custodia audit verify [--file export.jsonl] [--public-key KEY]... [flags]

Verifies the audit trail: sequence continuity, every entry's hash and its link
to the previous entry, every checkpoint's Ed25519 signature, and that each
checkpointed hash is the one at that entry. Reads the database (--data-dir or
--database) unless --file names an export made by "custodia audit export".
Exits with status 1 naming the first entry that was altered, removed or
reordered and the first bad checkpoint.

Without --public-key any checkpoint whose signature verifies with the public
key stored beside it is accepted, and the key ids are listed: pin the keys you
trust (see "custodia audit key") to catch a trail re-signed with another key.

Flags:`)
		fs.PrintDefaults()
	}
	cfg := config.Defaults()
	cfg.RegisterStore(fs)
	file := fs.String("file", "", "verify this JSON Lines `export` instead of the database (- for standard input)")
	var keys publicKeys
	fs.Var(&keys, "public-key", "trusted checkpoint signing `key` (base64, or a file holding it); repeat for earlier keys")
	requireSealed := fs.Bool("require-sealed", false, "fail if entries after the last checkpoint are not sealed")
	full := fs.Bool("full", false, "with --file: fail unless the export starts at entry 1")
	stats := fs.Bool("stats", false, "print the verification speed (entries/s)")
	if err := cfg.Parse(fs, args, env.Getenv); err != nil {
		return usageErr(err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	opts := audit.VerifyOptions{TrustedKeys: keys, RequireSealed: *requireSealed}
	start := time.Now()
	var rep *audit.Report
	var source string
	if *file != "" {
		var r io.Reader = env.Stdin
		source = "standard input"
		if *file != "-" {
			f, err := os.Open(*file)
			if err != nil {
				return err
			}
			defer f.Close()
			r, source = f, *file
		}
		var err error
		if rep, err = audit.VerifyExport(r, audit.ExportOptions{VerifyOptions: opts, Full: *full}); err != nil {
			return err
		}
	} else {
		st, err := openExistingStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		source = "the database"
		if rep, err = st.VerifyAudit(ctx, opts); err != nil {
			return err
		}
	}
	elapsed := time.Since(start)
	printReport(env.Stdout, source, rep)
	if len(keys) == 0 && rep.Checkpoints > 0 {
		if k, err := audit.LoadSigningKey(cfg.DataDir, env.Getenv, false); err == nil {
			note := "not among them: checkpoints were signed with other keys (earlier keys, or forged); pin trusted keys with --public-key"
			if rep.Keys[k.KeyID()] > 0 {
				note = "among them"
			}
			fmt.Fprintf(env.Stdout, "this installation's signing key %s is %s\n", k.KeyID(), note)
		}
	}
	if *stats {
		rate := float64(rep.Entries) / elapsed.Seconds()
		fmt.Fprintf(env.Stdout, "verified %d entries and %d checkpoints in %s (%.0f entries/s)\n", rep.Entries, rep.Checkpoints, elapsed.Round(time.Millisecond), rate)
	}
	return rep.Err()
}

func printReport(w io.Writer, source string, rep *audit.Report) {
	if rep.OK() {
		if rep.Entries == 0 {
			fmt.Fprintf(w, "audit trail OK (%s): no entries\n", source)
			return
		}
		fmt.Fprintf(w, "audit trail OK (%s): %d entries (%d–%d), %d checkpoints\n", source, rep.Entries, rep.FirstSeq, rep.LastSeq, rep.Checkpoints)
	} else {
		fmt.Fprintf(w, "audit trail FAILED verification (%s): %d problems in %d entries and %d checkpoints\n", source, rep.Problems, rep.Entries, rep.Checkpoints)
		if p := rep.EntryProblem; p != nil {
			fmt.Fprintf(w, "  first bad entry:      %s\n", p.Message)
		}
		if p := rep.CheckpointProblem; p != nil {
			fmt.Fprintf(w, "  first bad checkpoint: %s\n", p.Message)
		}
	}
	if rep.Entries > 0 {
		if n := rep.Unsealed(); n > 0 {
			fmt.Fprintf(w, "sealed up to entry %d; %d later entries are not sealed yet\n", rep.SealedSeq, n)
		} else {
			fmt.Fprintf(w, "sealed up to entry %d (the last)\n", rep.SealedSeq)
		}
		fmt.Fprintf(w, "last hash %s\n", rep.LastHash)
	}
	for _, id := range rep.KeyIDs() {
		fmt.Fprintf(w, "signing key %s: %d checkpoints\n", id, rep.Keys[id])
	}
}

func auditExport(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("custodia audit export", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, `Usage: custodia audit export [--out FILE] [--from TIME] [--to TIME] [flags]

Writes the audit trail as JSON Lines (see docs/audit.md), with the signed
checkpoints, so that "custodia audit verify --file FILE" checks it on its own.
The export is itself recorded in the trail (action audit.export), and the head
is sealed first when the signing key is available (data dir or
CUSTODIA_AUDIT_SIGNING_KEY), so every exported entry is covered by a checkpoint.
--from and --to select the entries written in that time range; the export
covers the contiguous sequence range between the first and the last of them.
The file is written to a temporary name and renamed, with mode 0600.

Flags:`)
		fs.PrintDefaults()
	}
	cfg := config.Defaults()
	cfg.RegisterStore(fs)
	out := fs.String("out", "-", "output `file` (- for standard output)")
	fromS := fs.String("from", "", "first `time` to include (RFC 3339 or YYYY-MM-DD)")
	toS := fs.String("to", "", "`time` to stop before (RFC 3339 or YYYY-MM-DD)")
	noSeal := fs.Bool("no-seal", false, "do not seal the head before exporting")
	if err := cfg.Parse(fs, args, env.Getenv); err != nil {
		return usageErr(err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	from, err := parseTimeFlag("from", *fromS)
	if err != nil {
		return usageErr(err)
	}
	to, err := parseTimeFlag("to", *toS)
	if err != nil {
		return usageErr(err)
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return usageErr(errors.New("--to must be after --from"))
	}
	st, err := openExistingStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	detail := "export to " + filepath.Base(*out)
	if *out == "-" {
		detail = "export to standard output"
	}
	if *fromS != "" || *toS != "" {
		detail += fmt.Sprintf(" (from %q to %q)", *fromS, *toS)
	}
	actor := audit.WithActor(ctx, audit.Actor{Name: "cli:" + currentUser(env)})
	if err := st.Audit(actor, audit.Record{Action: "audit.export", ObjectType: "audit_log", Detail: detail}); err != nil {
		return err
	}
	if !*noSeal {
		key, err := audit.LoadSigningKey(cfg.DataDir, env.Getenv, false)
		switch {
		case err == nil:
			if _, _, err := audit.Seal(ctx, st, key, time.Now()); err != nil {
				return err
			}
		case errors.Is(err, os.ErrNotExist):
			fmt.Fprintf(env.Stderr, "note: no audit signing key here (%v); the newest entries are exported unsealed\n", err)
		default:
			return err
		}
	}
	fromSeq, toSeq := int64(1), int64(0)
	if !from.IsZero() || !to.IsZero() {
		if fromSeq, toSeq, err = st.AuditSeqRange(ctx, from, to); err != nil {
			return err
		}
		if fromSeq == 0 {
			return errors.New("no audit entries in that time range")
		}
	}
	write := func(w io.Writer) (int64, int64, error) {
		x, err := audit.NewExportWriter(w, fromSeq)
		if err != nil {
			return 0, 0, err
		}
		if err := st.AuditStream(ctx, fromSeq, toSeq, x.Entry, x.Checkpoint); err != nil {
			return 0, 0, err
		}
		e, c := x.Counts()
		return e, c, x.Close()
	}
	var entries, checkpoints int64
	if *out == "-" {
		entries, checkpoints, err = write(env.Stdout)
	} else {
		err = writeFileAtomic(*out, 0o600, func(w io.Writer) error {
			var err error
			entries, checkpoints, err = write(w)
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("export audit trail: %w", err)
	}
	fmt.Fprintf(env.Stderr, "exported %d entries and %d checkpoints", entries, checkpoints)
	if *out != "-" {
		fmt.Fprintf(env.Stderr, " to %s", *out)
	}
	fmt.Fprintln(env.Stderr)
	return nil
}

func auditKey(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("custodia audit key", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, `Usage: custodia audit key [--data-dir DIR]

Prints the id and the public half of the audit signing key (from
CUSTODIA_AUDIT_SIGNING_KEY or audit-signing.key in the data directory). Keep
the public key somewhere the server cannot write, and pass it to
"custodia audit verify --public-key". The private key is never printed.

Flags:`)
		fs.PrintDefaults()
	}
	cfg := config.Defaults()
	cfg.RegisterStore(fs)
	if err := cfg.Parse(fs, args, env.Getenv); err != nil {
		return usageErr(err)
	}
	k, err := audit.LoadSigningKey(cfg.DataDir, env.Getenv, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "key id     %s\npublic key %s\n", k.KeyID(), encodePublicKey(k.PublicKey()))
	return nil
}

func encodePublicKey(k ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(k) }

// auditSchemaVersion is the migration that completes the audit tables.
const auditSchemaVersion = 4

// openExistingStore opens the database without migrating it (and without
// creating an empty SQLite file) and checks that it has the audit tables.
func openExistingStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	if cfg.DatabaseURL == "" {
		path := filepath.Join(cfg.DataDir, "custodia.db")
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no Custodia database in --data-dir %s: %w", cfg.DataDir, err)
		}
	}
	st, err := store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL, DataDir: cfg.DataDir, NoMigrate: true})
	if err != nil {
		return nil, err
	}
	v, err := st.SchemaVersion(ctx)
	if err == nil && v < auditSchemaVersion {
		err = fmt.Errorf("the database is at schema version %d, without the complete audit trail; run 'custodia migrate' first", v)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// parseTimeFlag reads an RFC 3339 time or a YYYY-MM-DD date (midnight UTC).
func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: want an RFC 3339 time (2026-01-31T09:00:00Z) or a date (2026-01-31)", name, v)
}

// currentUser names the operating-system user running a command, for the audit trail.
func currentUser(env *Env) string {
	for _, k := range []string{"USER", "LOGNAME", "USERNAME"} {
		if v := strings.TrimSpace(env.Getenv(k)); v != "" {
			return v
		}
	}
	return "unknown"
}

// writeFileAtomic writes path through a temporary file in the same directory
// (created with mode perm), synced and renamed into place; on any error the
// temporary file is removed and path is left as it was.
func writeFileAtomic(path string, perm os.FileMode, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
