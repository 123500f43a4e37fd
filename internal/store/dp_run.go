package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
)

// Discovery run statuses.
const (
	DPRunRunning     = "running"     // being scanned (counts up to the checkpoint)
	DPRunComplete    = "complete"    // every file was visited
	DPRunInterrupted = "interrupted" // the server stopped during the scan; partial counts, resumed at the next scan
	DPRunFailed      = "failed"      // the folder could not be read at all
)

// DPRun is one scan of a location: totals only, never a found value.
type DPRun struct {
	ID                int64      `json:"id"`
	LocationID        int64      `json:"location_id"`
	ClientID          int64      `json:"client_id,omitempty"`
	StartedAt         time.Time  `json:"started_at"`
	FinishedAt        time.Time  `json:"finished_at"`
	Status            string     `json:"status"`
	FilesScanned      int64      `json:"files_scanned"`
	FilesSkipped      int64      `json:"files_skipped"`
	Bytes             int64      `json:"bytes"`
	FilesWithFindings int64      `json:"files_with_findings"`
	FileErrors        int64      `json:"file_errors"`
	Counts            DPCounts   `json:"counts"`
	NewestFindingAt   *time.Time `json:"newest_finding_at,omitempty"`
	Error             string     `json:"error,omitempty"`
	// Checkpoint is the relative path of the last file whose counts are
	// committed, in walk order ("" before the first checkpoint); Resumes
	// counts the restarts from a checkpoint after an interruption.
	Checkpoint string `json:"checkpoint,omitempty"`
	Resumes    int64  `json:"resumes,omitempty"`
	// Root is the folder the run walks; FilesVisited counts the files the
	// walk handed to the scanner (scanned or binary), for the file cap.
	Root         string `json:"-"`
	FilesVisited int64  `json:"-"`
}

// DPRunFile is a file of a run with findings (counts per entity) or an
// error; Path is relative to the location.
type DPRunFile struct {
	ID         int64      `json:"id"`
	RunID      int64      `json:"run_id"`
	LocationID int64      `json:"location_id"`
	Path       string     `json:"path"`
	Bytes      int64      `json:"bytes"`
	Findings   int64      `json:"findings"`
	Counts     DPCounts   `json:"counts"`
	ModifiedAt *time.Time `json:"modified_at,omitempty"`
	Error      string     `json:"error,omitempty"`
}

const dpRunColumns = "r.id, r.location_id, r.client_id, r.started_at, r.finished_at, r.status, r.files_scanned, r.files_skipped, r.bytes, r.files_with_findings, r.file_errors, r.counts, r.newest_finding_at, r.error, r.checkpoint, r.resumes, r.root, r.files_visited"

func scanDPRun(sc rowScanner, r *DPRun) error {
	var client sql.NullInt64
	var counts string
	var newest nullTime
	if err := sc.Scan(&r.ID, &r.LocationID, &client, ScanTime(&r.StartedAt), ScanTime(&r.FinishedAt), &r.Status, &r.FilesScanned, &r.FilesSkipped,
		&r.Bytes, &r.FilesWithFindings, &r.FileErrors, &counts, &newest, &r.Error, &r.Checkpoint, &r.Resumes, &r.Root, &r.FilesVisited); err != nil {
		return err
	}
	r.ClientID = client.Int64
	c, err := parseDPCounts(counts)
	if err != nil {
		return fmt.Errorf("run %d counts: %w", r.ID, err)
	}
	r.Counts = c
	r.NewestFindingAt = nil
	if newest.Valid {
		t := newest.Time
		r.NewestFindingAt = &t
	}
	return nil
}

func timePtrArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return TimeArg(*t)
}

// DPRecordRun stores a finished run of location loc with its files (those
// with findings or errors) and raises alerts, all in tx: DPStartRun then
// DPFinishRun.
func (tx *Tx) DPRecordRun(ctx context.Context, loc *DPLocation, run *DPRun, files []DPRunFile, alerts []*alert.Alert) error {
	status := run.Status
	if err := tx.DPStartRun(ctx, loc, run); err != nil {
		return err
	}
	run.Status = status
	return tx.DPFinishRun(ctx, loc, run, files, alerts)
}

// DPStartRun records run of location loc as running, with its totals so far
// (none for a new scan), and sets run.ID.
func (tx *Tx) DPStartRun(ctx context.Context, loc *DPLocation, run *DPRun) error {
	run.LocationID, run.ClientID, run.Status = loc.ID, loc.ClientID, DPRunRunning
	if run.Counts == nil {
		run.Counts = DPCounts{}
	}
	if run.FinishedAt.IsZero() {
		run.FinishedAt = run.StartedAt
	}
	id, err := tx.InsertID(ctx, `INSERT INTO dp_runs (location_id, client_id, started_at, finished_at, status, files_scanned, files_skipped, bytes,
		files_with_findings, file_errors, counts, newest_finding_at, error, checkpoint, resumes, root, files_visited)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		loc.ID, nullID(loc.ClientID), TimeArg(run.StartedAt), TimeArg(run.FinishedAt), run.Status, run.FilesScanned, run.FilesSkipped, run.Bytes,
		run.FilesWithFindings, run.FileErrors, run.Counts.text(), timePtrArg(run.NewestFindingAt), run.Error, run.Checkpoint, run.Resumes, run.Root, run.FilesVisited)
	if err != nil {
		return fmt.Errorf("record discovery run: %w", err)
	}
	run.ID = id
	return nil
}

// DPCheckpointRun commits the progress of run (recorded by DPStartRun): the
// files found since the last checkpoint, the alerts they raise, and the
// run's totals, checkpoint path and time, all in tx. A scan cut short after
// it resumes from run.Checkpoint without counting a committed file twice.
func (tx *Tx) DPCheckpointRun(ctx context.Context, loc *DPLocation, run *DPRun, files []DPRunFile, alerts []*alert.Alert) error {
	if run.ID == 0 {
		return fmt.Errorf("checkpoint discovery run of location %d: run not started", loc.ID)
	}
	if run.Counts == nil {
		run.Counts = DPCounts{}
	}
	for i := range files {
		f := &files[i]
		f.RunID, f.LocationID = run.ID, loc.ID
		if f.Counts == nil {
			f.Counts = DPCounts{}
		}
		fid, err := tx.InsertID(ctx, `INSERT INTO dp_run_files (run_id, location_id, client_id, path, bytes, findings, counts, modified_at, error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			run.ID, loc.ID, nullID(loc.ClientID), f.Path, f.Bytes, f.Findings, f.Counts.text(), timePtrArg(f.ModifiedAt), f.Error)
		if err != nil {
			return fmt.Errorf("record discovery run file: %w", err)
		}
		f.ID = fid
	}
	res, err := tx.Exec(ctx, `UPDATE dp_runs SET finished_at = ?, status = ?, files_scanned = ?, files_skipped = ?, bytes = ?, files_with_findings = ?,
		file_errors = ?, counts = ?, newest_finding_at = ?, error = ?, checkpoint = ?, resumes = ?, files_visited = ? WHERE id = ?`,
		TimeArg(run.FinishedAt), run.Status, run.FilesScanned, run.FilesSkipped, run.Bytes, run.FilesWithFindings,
		run.FileErrors, run.Counts.text(), timePtrArg(run.NewestFindingAt), run.Error, run.Checkpoint, run.Resumes, run.FilesVisited, run.ID)
	if err != nil {
		return fmt.Errorf("checkpoint discovery run %d: %w", run.ID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("checkpoint discovery run %d: %w", run.ID, ErrNotFound)
	}
	for _, a := range alerts {
		if err := tx.RaiseAlert(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// DPFinishRun records the end of run (complete, interrupted or failed, in
// run.Status) with its last files and alerts (DPCheckpointRun), the
// location's last-run time and cleared scan-now flag (unless interrupted:
// the location stays due and the run resumes), and an audit entry
// "dataprotection.scan" with the counts.
func (tx *Tx) DPFinishRun(ctx context.Context, loc *DPLocation, run *DPRun, files []DPRunFile, alerts []*alert.Alert) error {
	if err := tx.DPCheckpointRun(ctx, loc, run, files, alerts); err != nil {
		return err
	}
	// An interrupted run (shutdown) leaves the location due: it resumes at
	// the next start.
	if run.Status != DPRunInterrupted {
		if _, err := tx.Exec(ctx, "UPDATE dp_locations SET last_run_at = ?, scan_now = ? WHERE id = ?", TimeArg(run.FinishedAt), false, loc.ID); err != nil {
			return fmt.Errorf("record discovery run: %w", err)
		}
	}
	detail := fmt.Sprintf("%s: %d files, %d bytes, %d with findings, %d errors", run.Status, run.FilesScanned, run.Bytes, run.FilesWithFindings, run.FileErrors)
	if run.Resumes > 0 {
		detail += fmt.Sprintf(", resumed %d times", run.Resumes)
	}
	if c := dpCountsDetail(run.Counts); c != "" {
		detail += "; " + c
	}
	return tx.Audit(ctx, audit.Record{Actor: "system", Action: "dataprotection.scan", ObjectType: "dp_location", ObjectID: strconv.FormatInt(loc.ID, 10),
		ClientID: loc.ClientID, Detail: detail})
}

// DPResumableRun returns the newest run of location loc if it was
// interrupted while walking the location's current folder, so that a scan
// can continue it; ErrNotFound otherwise.
func (s *Store) DPResumableRun(ctx context.Context, loc *DPLocation) (*DPRun, error) {
	var r DPRun
	err := scanDPRun(s.QueryRow(ctx, "SELECT "+dpRunColumns+` FROM dp_runs r WHERE r.location_id = ?
		AND r.id = (SELECT MAX(r2.id) FROM dp_runs r2 WHERE r2.location_id = r.location_id)`, loc.ID), &r)
	if err != nil {
		return nil, fmt.Errorf("resumable run of location %d: %w", loc.ID, mapErr(err))
	}
	if r.Status != DPRunInterrupted || r.Root == "" || r.Root != loc.Path {
		return nil, fmt.Errorf("resumable run of location %d: %w", loc.ID, ErrNotFound)
	}
	return &r, nil
}

// DPResumeRun marks interrupted run as running again and counts the resume.
func (tx *Tx) DPResumeRun(ctx context.Context, run *DPRun) error {
	res, err := tx.Exec(ctx, "UPDATE dp_runs SET status = ?, resumes = resumes + 1 WHERE id = ? AND status = ?", DPRunRunning, run.ID, DPRunInterrupted)
	if err != nil {
		return fmt.Errorf("resume discovery run %d: %w", run.ID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("resume discovery run %d: %w", run.ID, ErrConflict)
	}
	run.Status = DPRunRunning
	run.Resumes++
	return nil
}

// DPMarkInterrupted marks as interrupted the runs still "running" whose
// location's lease is free or lapsed at now (the node that ran them stopped
// without recording their end, or lost its lease), and reports how many; a
// run whose location's lease is live is left alone, since its node is
// still scanning it. Lapsed leases are freed first, in the same
// transaction, so that their former holder can no longer renew them. The
// scheduler calls it at every tick; a node restarting after a crash gets a
// new id, so its own runs are marked once their lease lapses.
func (tx *Tx) DPMarkInterrupted(ctx context.Context, now time.Time) (int64, error) {
	if _, err := tx.Exec(ctx, "UPDATE dp_locations SET lease_owner = '', lease_until = NULL WHERE lease_owner <> '' AND (lease_until IS NULL OR lease_until < ?)",
		TimeArg(now)); err != nil {
		return 0, fmt.Errorf("mark interrupted discovery runs: free lapsed leases: %w", err)
	}
	res, err := tx.Exec(ctx, `UPDATE dp_runs SET status = ? WHERE status = ? AND location_id IN
		(SELECT l.id FROM dp_locations l WHERE l.lease_owner = '' OR l.lease_until IS NULL OR l.lease_until < ?)`,
		DPRunInterrupted, DPRunRunning, TimeArg(now))
	if err != nil {
		return 0, fmt.Errorf("mark interrupted discovery runs: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("mark interrupted discovery runs: %w", err)
	}
	return n, nil
}

// DPRuns lists the runs of location locationID (0: every location) in
// scope, newest first.
func (s *Store) DPRuns(ctx context.Context, scope identity.Scope, locationID int64, limit, offset int) ([]DPRun, error) {
	where, args := dpScopeSQL(scope, "r", nil)
	if locationID != 0 {
		where += " AND r.location_id = ?"
		args = append(args, locationID)
	}
	args = append(args, limit, offset)
	rows, err := s.Query(ctx, "SELECT "+dpRunColumns+" FROM dp_runs r WHERE "+where+" ORDER BY r.id DESC LIMIT ? OFFSET ?", args...)
	if err != nil {
		return nil, fmt.Errorf("list discovery runs: %w", err)
	}
	defer rows.Close()
	out := []DPRun{}
	for rows.Next() {
		var r DPRun
		if err := scanDPRun(rows, &r); err != nil {
			return nil, fmt.Errorf("list discovery runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DPLatestRuns returns the newest run of each location in scope, by
// location id.
func (s *Store) DPLatestRuns(ctx context.Context, scope identity.Scope) (map[int64]DPRun, error) {
	where, args := dpScopeSQL(scope, "r", nil)
	rows, err := s.Query(ctx, "SELECT "+dpRunColumns+" FROM dp_runs r WHERE "+where+
		" AND r.id = (SELECT MAX(r2.id) FROM dp_runs r2 WHERE r2.location_id = r.location_id)", args...)
	if err != nil {
		return nil, fmt.Errorf("latest discovery runs: %w", err)
	}
	defer rows.Close()
	out := map[int64]DPRun{}
	for rows.Next() {
		var r DPRun
		if err := scanDPRun(rows, &r); err != nil {
			return nil, fmt.Errorf("latest discovery runs: %w", err)
		}
		out[r.LocationID] = r
	}
	return out, rows.Err()
}

// DPRun returns the run with id if it is in scope.
func (s *Store) DPRun(ctx context.Context, scope identity.Scope, id int64) (*DPRun, error) {
	where, args := dpScopeSQL(scope, "r", nil)
	args = append(args, id)
	var r DPRun
	if err := scanDPRun(s.QueryRow(ctx, "SELECT "+dpRunColumns+" FROM dp_runs r WHERE "+where+" AND r.id = ?", args...), &r); err != nil {
		return nil, fmt.Errorf("discovery run %d: %w", id, mapErr(err))
	}
	return &r, nil
}

// DPRunFiles lists the files of run runID (in scope) with findings or
// errors, most findings first.
func (s *Store) DPRunFiles(ctx context.Context, scope identity.Scope, runID int64, limit, offset int) ([]DPRunFile, error) {
	where, args := dpScopeSQL(scope, "f", nil)
	args = append(args, runID, limit, offset)
	rows, err := s.Query(ctx, `SELECT f.id, f.run_id, f.location_id, f.path, f.bytes, f.findings, f.counts, f.modified_at, f.error
		FROM dp_run_files f WHERE `+where+` AND f.run_id = ? ORDER BY f.findings DESC, f.path, f.id LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("list discovery run files: %w", err)
	}
	defer rows.Close()
	out := []DPRunFile{}
	for rows.Next() {
		var f DPRunFile
		var counts string
		var mod nullTime
		if err := rows.Scan(&f.ID, &f.RunID, &f.LocationID, &f.Path, &f.Bytes, &f.Findings, &counts, &mod, &f.Error); err != nil {
			return nil, fmt.Errorf("list discovery run files: %w", err)
		}
		if f.Counts, err = parseDPCounts(counts); err != nil {
			return nil, fmt.Errorf("list discovery run files: %w", err)
		}
		if mod.Valid {
			t := mod.Time
			f.ModifiedAt = &t
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
