package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
)

const alertColumns = "id, source, kind, severity, client_id, title, detail, dedup_key, object_type, object_id, status, incident_id, occurrences, created_at, last_seen_at, closed_at"

func scanAlert(sc interface{ Scan(...any) error }, a *alert.Alert) error {
	var client, incident sql.NullInt64
	var detail string
	var closed *time.Time
	var closedAt nullTime
	if err := sc.Scan(&a.ID, &a.Source, &a.Kind, &a.Severity, &client, &a.Title, &detail, &a.DedupKey, &a.ObjectType, &a.ObjectID,
		&a.Status, &incident, &a.Occurrences, ScanTime(&a.CreatedAt), ScanTime(&a.LastSeenAt), &closedAt); err != nil {
		return err
	}
	a.ClientID, a.IncidentID = client.Int64, incident.Int64
	if closedAt.Valid {
		t := closedAt.Time
		closed = &t
	}
	a.ClosedAt = closed
	a.Detail = nil
	if detail != "" && detail != "{}" {
		if err := json.Unmarshal([]byte(detail), &a.Detail); err != nil {
			return fmt.Errorf("alert %d detail: %w", a.ID, err)
		}
	}
	return nil
}

// nullTime scans a nullable timestamp column.
type nullTime struct {
	Time  time.Time
	Valid bool
}

func (n *nullTime) Scan(v any) error {
	if v == nil {
		n.Valid = false
		return nil
	}
	n.Valid = true
	return ScanTime(&n.Time).Scan(v)
}

// RaiseAlert records a within tx: a new open alert, or, when an open alert
// of the same source and non-empty dedup key exists, one more occurrence of
// it (a's ID and Occurrences are set from the stored row). A new alert is
// written to the audit trail.
func (tx *Tx) RaiseAlert(ctx context.Context, a *alert.Alert) error {
	if err := a.Validate(); err != nil {
		return fmt.Errorf("raise alert: %w", err)
	}
	now := time.Now().UTC()
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	a.LastSeenAt = a.CreatedAt
	if a.DedupKey != "" {
		row := tx.QueryRow(ctx, "SELECT id, occurrences FROM alerts WHERE source = ? AND dedup_key = ? AND status = 'open' ORDER BY id LIMIT 1", a.Source, a.DedupKey)
		var id, n int64
		switch err := row.Scan(&id, &n); {
		case err == nil:
			if _, err := tx.Exec(ctx, "UPDATE alerts SET occurrences = occurrences + 1, last_seen_at = ? WHERE id = ?", TimeArg(a.LastSeenAt), id); err != nil {
				return fmt.Errorf("raise alert: %w", err)
			}
			a.ID, a.Occurrences, a.Status = id, n+1, alert.StatusOpen
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("raise alert: %w", err)
		}
	}
	detail := []byte("{}")
	if len(a.Detail) > 0 {
		var err error
		if detail, err = json.Marshal(a.Detail); err != nil {
			return fmt.Errorf("raise alert: detail: %w", err)
		}
	}
	a.Status, a.Occurrences = alert.StatusOpen, 1
	id, err := tx.InsertID(ctx, `INSERT INTO alerts (source, kind, severity, client_id, title, detail, dedup_key, object_type, object_id, status, occurrences, created_at, last_seen_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', 1, ?, ?) RETURNING id`,
		a.Source, a.Kind, a.Severity, nullID(a.ClientID), a.Title, string(detail), a.DedupKey, a.ObjectType, a.ObjectID, TimeArg(a.CreatedAt), TimeArg(a.LastSeenAt))
	if err != nil {
		return fmt.Errorf("raise alert: %w", err)
	}
	a.ID = id
	return tx.Audit(ctx, audit.Record{Action: "alert.raise", ObjectType: "alert", ObjectID: strconv.FormatInt(id, 10),
		ClientID: a.ClientID, After: a, Detail: a.Source + "/" + a.Kind})
}

// RaiseAlert is Tx.RaiseAlert in a transaction of its own.
func (s *Store) RaiseAlert(ctx context.Context, a *alert.Alert) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.RaiseAlert(ctx, a) })
}

// alertScopeSQL restricts alerts to the scope's clients; operator-wide
// alerts (no client) are visible to callers who see every client only.
func alertScopeSQL(scope identity.Scope, args []any) (string, []any) {
	if scope.All {
		return "1 = 1", args
	}
	if len(scope.ClientIDs) == 0 {
		return "1 = 0", args
	}
	in, args := orgInList(scope.ClientIDs, args)
	return "client_id IN " + in, args
}

// Alerts lists the alerts in scope matching f, newest first.
func (s *Store) Alerts(ctx context.Context, scope identity.Scope, f alert.Filter) ([]alert.Alert, error) {
	where, args := alertScopeSQL(scope, nil)
	var b strings.Builder
	b.WriteString("SELECT " + alertColumns + " FROM alerts WHERE " + where)
	for _, c := range []struct {
		col, val string
	}{{"status", f.Status}, {"source", f.Source}, {"kind", f.Kind}} {
		if c.val != "" {
			b.WriteString(" AND " + c.col + " = ?")
			args = append(args, c.val)
		}
	}
	if f.ClientID != 0 {
		b.WriteString(" AND client_id = ?")
		args = append(args, f.ClientID)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	b.WriteString(" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?")
	args = append(args, limit, max(f.Offset, 0))
	rows, err := s.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	out := []alert.Alert{}
	for rows.Next() {
		var a alert.Alert
		if err := scanAlert(rows, &a); err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Alert returns the alert with id if it is in scope.
func (s *Store) Alert(ctx context.Context, scope identity.Scope, id int64) (*alert.Alert, error) {
	where, args := alertScopeSQL(scope, nil)
	args = append(args, id)
	var a alert.Alert
	if err := scanAlert(s.QueryRow(ctx, "SELECT "+alertColumns+" FROM alerts WHERE "+where+" AND id = ?", args...), &a); err != nil {
		return nil, fmt.Errorf("alert %d: %w", id, mapErr(err))
	}
	return &a, nil
}

// CloseAlert links an open alert to an incident (status linked, incidentID
// set) or dismisses it (incidentID 0), within tx, and audits the change. It
// answers ErrNotFound when the alert is not open.
func (tx *Tx) CloseAlert(ctx context.Context, id, incidentID int64, reason string) error {
	status := alert.StatusDismissed
	if incidentID != 0 {
		status = alert.StatusLinked
	}
	res, err := tx.Exec(ctx, "UPDATE alerts SET status = ?, incident_id = ?, closed_at = ? WHERE id = ? AND status = 'open'",
		status, nullID(incidentID), TimeArg(time.Now()), id)
	if err != nil {
		return fmt.Errorf("close alert %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("close alert %d: %w", id, ErrNotFound)
	}
	var client sql.NullInt64
	_ = tx.QueryRow(ctx, "SELECT client_id FROM alerts WHERE id = ?", id).Scan(&client)
	return tx.Audit(ctx, audit.Record{Action: "alert." + status, ObjectType: "alert", ObjectID: strconv.FormatInt(id, 10),
		ClientID: client.Int64, Detail: reason})
}
