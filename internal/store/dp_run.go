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
	DPRunComplete    = "complete"    // every file was visited
	DPRunInterrupted = "interrupted" // the server stopped during the scan; partial counts
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

const dpRunColumns = "r.id, r.location_id, r.client_id, r.started_at, r.finished_at, r.status, r.files_scanned, r.files_skipped, r.bytes, r.files_with_findings, r.file_errors, r.counts, r.newest_finding_at, r.error"

func scanDPRun(sc rowScanner, r *DPRun) error {
	var client sql.NullInt64
	var counts string
	var newest nullTime
	if err := sc.Scan(&r.ID, &r.LocationID, &client, ScanTime(&r.StartedAt), ScanTime(&r.FinishedAt), &r.Status, &r.FilesScanned, &r.FilesSkipped,
		&r.Bytes, &r.FilesWithFindings, &r.FileErrors, &counts, &newest, &r.Error); err != nil {
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
// with findings or errors) and raises alerts, all in tx: the run, its files,
// the location's last-run time (and the cleared scan-now flag), an audit
// entry "dataprotection.scan" with the counts, and the alerts.
func (tx *Tx) DPRecordRun(ctx context.Context, loc *DPLocation, run *DPRun, files []DPRunFile, alerts []*alert.Alert) error {
	run.LocationID, run.ClientID = loc.ID, loc.ClientID
	if run.Counts == nil {
		run.Counts = DPCounts{}
	}
	id, err := tx.InsertID(ctx, `INSERT INTO dp_runs (location_id, client_id, started_at, finished_at, status, files_scanned, files_skipped, bytes,
		files_with_findings, file_errors, counts, newest_finding_at, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		loc.ID, nullID(loc.ClientID), TimeArg(run.StartedAt), TimeArg(run.FinishedAt), run.Status, run.FilesScanned, run.FilesSkipped, run.Bytes,
		run.FilesWithFindings, run.FileErrors, run.Counts.text(), timePtrArg(run.NewestFindingAt), run.Error)
	if err != nil {
		return fmt.Errorf("record discovery run: %w", err)
	}
	run.ID = id
	for i := range files {
		f := &files[i]
		f.RunID, f.LocationID = id, loc.ID
		if f.Counts == nil {
			f.Counts = DPCounts{}
		}
		fid, err := tx.InsertID(ctx, `INSERT INTO dp_run_files (run_id, location_id, client_id, path, bytes, findings, counts, modified_at, error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			id, loc.ID, nullID(loc.ClientID), f.Path, f.Bytes, f.Findings, f.Counts.text(), timePtrArg(f.ModifiedAt), f.Error)
		if err != nil {
			return fmt.Errorf("record discovery run file: %w", err)
		}
		f.ID = fid
	}
	// An interrupted run (shutdown) leaves the location due: it runs again
	// at the next start.
	if run.Status != DPRunInterrupted {
		if _, err := tx.Exec(ctx, "UPDATE dp_locations SET last_run_at = ?, scan_now = ? WHERE id = ?", TimeArg(run.FinishedAt), false, loc.ID); err != nil {
			return fmt.Errorf("record discovery run: %w", err)
		}
	}
	for _, a := range alerts {
		if err := tx.RaiseAlert(ctx, a); err != nil {
			return err
		}
	}
	detail := fmt.Sprintf("%s: %d files, %d bytes, %d with findings, %d errors", run.Status, run.FilesScanned, run.Bytes, run.FilesWithFindings, run.FileErrors)
	if c := dpCountsDetail(run.Counts); c != "" {
		detail += "; " + c
	}
	return tx.Audit(ctx, audit.Record{Actor: "system", Action: "dataprotection.scan", ObjectType: "dp_location", ObjectID: strconv.FormatInt(loc.ID, 10),
		ClientID: loc.ClientID, Detail: detail})
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
