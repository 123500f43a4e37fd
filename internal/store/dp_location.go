package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
)

// DPLocation is a folder that data discovery scans on a schedule.
type DPLocation struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Path string `json:"path"`
	// ClientID is the client whose data the folder holds; 0 = operator-wide.
	ClientID   int64  `json:"client_id,omitempty"`
	ClientCode string `json:"client_code,omitempty"`
	// CDE: the folder is a declared cardholder-data environment, where
	// card data is expected (no alert).
	CDE bool `json:"cde"`
	// IntervalSeconds is the time between two scans.
	IntervalSeconds int64 `json:"interval_seconds"`
	Enabled         bool  `json:"enabled"`
	// ManagedBy is "console" (changed in the console or API), "config"
	// (from the server's configuration) or "demo" (the --demo sample); the
	// last two are read-only.
	ManagedBy string     `json:"managed_by"`
	ScanNow   bool       `json:"scan_now"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	LastRunAt *time.Time `json:"last_run_at,omitempty"`
}

// Interval is the time between two scans.
func (l *DPLocation) Interval() time.Duration {
	return time.Duration(l.IntervalSeconds) * time.Second
}

// DPLocation managers.
const (
	DPManagedConsole = "console"
	DPManagedConfig  = "config"
	DPManagedDemo    = "demo" // the --demo sample folder
)

const dpLocationColumns = "l.id, l.name, l.path, l.client_id, COALESCE(c.code, ''), l.cde, l.interval_s, l.enabled, l.managed_by, l.scan_now, l.created_at, l.updated_at, l.last_run_at"

const dpLocationFrom = " FROM dp_locations l LEFT JOIN clients c ON c.id = l.client_id"

func scanDPLocation(sc rowScanner, l *DPLocation) error {
	var client sql.NullInt64
	var last nullTime
	if err := sc.Scan(&l.ID, &l.Name, &l.Path, &client, &l.ClientCode, &l.CDE, &l.IntervalSeconds, &l.Enabled, &l.ManagedBy, &l.ScanNow,
		ScanTime(&l.CreatedAt), ScanTime(&l.UpdatedAt), &last); err != nil {
		return err
	}
	l.ClientID = client.Int64
	l.LastRunAt = nil
	if last.Valid {
		t := last.Time
		l.LastRunAt = &t
	}
	return nil
}

// dpScopeSQL restricts a data-discovery table (alias a) to the scope's
// clients; operator-wide rows (no client) are seen by callers who see every
// client only.
func dpScopeSQL(scope identity.Scope, alias string, args []any) (string, []any) {
	if scope.All {
		return "1 = 1", args
	}
	if len(scope.ClientIDs) == 0 {
		return "1 = 0", args
	}
	in, args := orgInList(scope.ClientIDs, args)
	return alias + ".client_id IN " + in, args
}

// DPLocations lists the locations in scope, by name.
func (s *Store) DPLocations(ctx context.Context, scope identity.Scope) ([]DPLocation, error) {
	where, args := dpScopeSQL(scope, "l", nil)
	return s.dpLocations(ctx, s, where, args)
}

func (s *Store) dpLocations(ctx context.Context, q orgQuerier, where string, args []any) ([]DPLocation, error) {
	rows, err := q.Query(ctx, "SELECT "+dpLocationColumns+dpLocationFrom+" WHERE "+where+" ORDER BY l.name, l.id", args...)
	if err != nil {
		return nil, fmt.Errorf("list discovery locations: %w", err)
	}
	defer rows.Close()
	out := []DPLocation{}
	for rows.Next() {
		var l DPLocation
		if err := scanDPLocation(rows, &l); err != nil {
			return nil, fmt.Errorf("list discovery locations: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// DPLocation returns the location with id if it is in scope.
func (s *Store) DPLocation(ctx context.Context, scope identity.Scope, id int64) (*DPLocation, error) {
	return dpLocation(ctx, s, scope, id)
}

func dpLocation(ctx context.Context, q orgQuerier, scope identity.Scope, id int64) (*DPLocation, error) {
	where, args := dpScopeSQL(scope, "l", nil)
	args = append(args, id)
	var l DPLocation
	if err := scanDPLocation(q.QueryRow(ctx, "SELECT "+dpLocationColumns+dpLocationFrom+" WHERE "+where+" AND l.id = ?", args...), &l); err != nil {
		return nil, fmt.Errorf("discovery location %d: %w", id, mapErr(err))
	}
	return &l, nil
}

// dpLocationAudit is what the audit trail digests of a location.
func dpLocationAudit(l *DPLocation) map[string]any {
	return map[string]any{"name": l.Name, "path": l.Path, "client_id": l.ClientID, "cde": l.CDE,
		"interval_seconds": l.IntervalSeconds, "enabled": l.Enabled, "managed_by": l.ManagedBy}
}

// DPCreateLocation inserts l (already validated), setting its id and
// timestamps, and audits "dataprotection.location.create". A path already
// used by another location is ErrConflict.
func (tx *Tx) DPCreateLocation(ctx context.Context, l *DPLocation) error {
	now := time.Now().UTC()
	l.CreatedAt, l.UpdatedAt = now, now
	if l.ManagedBy == "" {
		l.ManagedBy = DPManagedConsole
	}
	id, err := tx.InsertID(ctx, `INSERT INTO dp_locations (name, path, client_id, cde, interval_s, enabled, managed_by, scan_now, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		l.Name, l.Path, nullID(l.ClientID), l.CDE, l.IntervalSeconds, l.Enabled, l.ManagedBy, l.ScanNow, TimeArg(now), TimeArg(now))
	if err != nil {
		return fmt.Errorf("create discovery location: %w", mapErr(err))
	}
	l.ID = id
	return tx.Audit(ctx, audit.Record{Action: "dataprotection.location.create", ObjectType: "dp_location", ObjectID: strconv.FormatInt(id, 10),
		ClientID: l.ClientID, After: dpLocationAudit(l), Detail: l.Name})
}

// DPUpdateLocation changes the location l.ID (in scope) to l's name, path,
// client, CDE flag, interval and enabled flag, and audits
// "dataprotection.location.update" with the states before and after.
func (tx *Tx) DPUpdateLocation(ctx context.Context, scope identity.Scope, l *DPLocation) error {
	before, err := dpLocation(ctx, tx, scope, l.ID)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	_, err = tx.Exec(ctx, `UPDATE dp_locations SET name = ?, path = ?, client_id = ?, cde = ?, interval_s = ?, enabled = ?, updated_at = ? WHERE id = ?`,
		l.Name, l.Path, nullID(l.ClientID), l.CDE, l.IntervalSeconds, l.Enabled, TimeArg(now), l.ID)
	if err != nil {
		return fmt.Errorf("update discovery location %d: %w", l.ID, mapErr(err))
	}
	l.UpdatedAt, l.CreatedAt, l.ManagedBy, l.LastRunAt, l.ScanNow = now, before.CreatedAt, before.ManagedBy, before.LastRunAt, before.ScanNow
	return tx.Audit(ctx, audit.Record{Action: "dataprotection.location.update", ObjectType: "dp_location", ObjectID: strconv.FormatInt(l.ID, 10),
		ClientID: l.ClientID, Before: dpLocationAudit(before), After: dpLocationAudit(l), Detail: l.Name})
}

// DPDeleteLocation removes the location id (in scope) with its run history
// and audits "dataprotection.location.delete".
func (tx *Tx) DPDeleteLocation(ctx context.Context, scope identity.Scope, id int64) error {
	l, err := dpLocation(ctx, tx, scope, id)
	if err != nil {
		return err
	}
	for _, q := range []string{"DELETE FROM dp_run_files WHERE location_id = ?", "DELETE FROM dp_runs WHERE location_id = ?", "DELETE FROM dp_locations WHERE id = ?"} {
		if _, err := tx.Exec(ctx, q, id); err != nil {
			return fmt.Errorf("delete discovery location %d: %w", id, err)
		}
	}
	return tx.Audit(ctx, audit.Record{Action: "dataprotection.location.delete", ObjectType: "dp_location", ObjectID: strconv.FormatInt(id, 10),
		ClientID: l.ClientID, Before: dpLocationAudit(l), Detail: l.Name})
}

// DPRequestScan marks the location id (in scope) to be scanned at the
// scheduler's next tick and audits "dataprotection.location.scan_now".
func (tx *Tx) DPRequestScan(ctx context.Context, scope identity.Scope, id int64) error {
	l, err := dpLocation(ctx, tx, scope, id)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE dp_locations SET scan_now = ? WHERE id = ?", true, id); err != nil {
		return fmt.Errorf("request a scan of location %d: %w", id, err)
	}
	return tx.Audit(ctx, audit.Record{Action: "dataprotection.location.scan_now", ObjectType: "dp_location", ObjectID: strconv.FormatInt(id, 10),
		ClientID: l.ClientID, Detail: l.Name})
}

// DPSyncConfigLocation makes the configured location l exist (matched by
// path): it is created, or its name, client, CDE flag and interval are set,
// and it becomes read-only in the console (managed_by config). It audits
// only when something changed.
func (tx *Tx) DPSyncConfigLocation(ctx context.Context, l *DPLocation) error {
	var cur DPLocation
	err := scanDPLocation(tx.QueryRow(ctx, "SELECT "+dpLocationColumns+dpLocationFrom+" WHERE l.path = ?", l.Path), &cur)
	switch {
	case err == sql.ErrNoRows:
		l.ManagedBy, l.Enabled = DPManagedConfig, true
		return tx.DPCreateLocation(ctx, l)
	case err != nil:
		return fmt.Errorf("sync configured location %q: %w", l.Path, err)
	}
	l.ID = cur.ID
	if cur.Name == l.Name && cur.ClientID == l.ClientID && cur.CDE == l.CDE && cur.IntervalSeconds == l.IntervalSeconds && cur.ManagedBy == DPManagedConfig && cur.Enabled {
		return nil
	}
	now := time.Now().UTC()
	if _, err := tx.Exec(ctx, `UPDATE dp_locations SET name = ?, client_id = ?, cde = ?, interval_s = ?, enabled = ?, managed_by = ?, updated_at = ? WHERE id = ?`,
		l.Name, nullID(l.ClientID), l.CDE, l.IntervalSeconds, true, DPManagedConfig, TimeArg(now), cur.ID); err != nil {
		return fmt.Errorf("sync configured location %q: %w", l.Path, err)
	}
	l.ManagedBy, l.Enabled = DPManagedConfig, true
	return tx.Audit(ctx, audit.Record{Action: "dataprotection.location.update", ObjectType: "dp_location", ObjectID: strconv.FormatInt(cur.ID, 10),
		ClientID: l.ClientID, Before: dpLocationAudit(&cur), After: dpLocationAudit(l), Detail: l.Name + " (configuration)"})
}

// DPDueLocations returns the enabled locations whose scan is due at now
// (never scanned, interval elapsed, or a scan asked for), every client.
func (s *Store) DPDueLocations(ctx context.Context, now time.Time) ([]DPLocation, error) {
	all, err := s.dpLocations(ctx, s, "l.enabled = ?", []any{true})
	if err != nil {
		return nil, err
	}
	var out []DPLocation
	for _, l := range all {
		if l.ScanNow || l.LastRunAt == nil || !now.Before(l.LastRunAt.Add(l.Interval())) {
			out = append(out, l)
		}
	}
	return out, nil
}

// DPCounts is a count per entity.
type DPCounts map[string]int64

// Total is the sum of the counts.
func (c DPCounts) Total() int64 {
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}

func (c DPCounts) text() string {
	if len(c) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(map[string]int64(c))
	return string(b)
}

func parseDPCounts(s string) (DPCounts, error) {
	c := DPCounts{}
	if s == "" || s == "{}" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, err
	}
	return c, nil
}

// dpCountsDetail renders counts for an audit detail: "CREDIT_CARD=2 EMAIL_ADDRESS=1".
func dpCountsDetail(c DPCounts) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, c[k])
	}
	return b.String()
}
