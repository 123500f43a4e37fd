package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
)

// FleetResult is the current result of one check on one device for one
// session user ("" for a device-wide check).
type FleetResult struct {
	DeviceID    int64  `json:"device_id"`
	Policy      string `json:"policy"`
	CheckID     string `json:"check_id"`
	SessionUser string `json:"session_user"`
	Title       string `json:"title"`
	Result      string `json:"result"`
	Reason      string `json:"reason,omitempty"`
	// Evidence is the JSON array the agent sent (posture.Evidence items).
	Evidence     string     `json:"evidence"`
	FailingSince *time.Time `json:"failing_since,omitempty"`
	Escalated    bool       `json:"escalated"`
	ChangedAt    time.Time  `json:"changed_at"`
	// Accepted is set (by the fleet service) when a failed result is covered
	// by an exception in force.
	Accepted    bool  `json:"accepted"`
	ExceptionID int64 `json:"exception_id,omitempty"`
	// Device context for fleet views (filled by FleetCheckResults).
	Hostname string `json:"hostname,omitempty"`
	ClientID int64  `json:"client_id,omitempty"`
	TeamID   int64  `json:"team_id,omitempty"`
}

// FleetHistoryEntry is one change of a check's result on a device.
type FleetHistoryEntry struct {
	ID          int64     `json:"id"`
	Policy      string    `json:"policy"`
	CheckID     string    `json:"check_id"`
	SessionUser string    `json:"session_user"`
	Previous    string    `json:"previous"`
	Result      string    `json:"result"`
	Reason      string    `json:"reason,omitempty"`
	Evidence    string    `json:"evidence"`
	At          time.Time `json:"at"`
}

// FleetResultChange is what FleetApplyResults did with one reported result.
type FleetResultChange struct {
	Policy, CheckID, SessionUser, Previous, Result string
	Alerted                                        bool
}

// FleetApplyResults stores the results a device reported at now: results
// equal to the current state (result, reason, evidence) are ignored; a
// change updates the current state and appends to the history; a passed →
// failed transition raises a fleet/check_failed alert (one open alert per
// device and check) once the results are stored. It answers the changes
// made. The device's current rows are read in one query and new rows are
// inserted in batches, so a desk's first upload of its whole baseline is a
// handful of statements.
func (tx *Tx) FleetApplyResults(ctx context.Context, dev *FleetDeviceCred, results []FleetResult, now time.Time) ([]FleetResultChange, error) {
	type cur struct {
		result, reason, evidence string
		since                    nullTime
	}
	current := map[[3]string]cur{}
	rows, err := tx.Query(ctx, "SELECT policy, check_id, os_user, result, reason, evidence, failing_since FROM fleet_results WHERE device_id = ?", dev.ID)
	if err != nil {
		return nil, fmt.Errorf("results of device %d: %w", dev.ID, err)
	}
	for rows.Next() {
		var k [3]string
		var c cur
		if err := rows.Scan(&k[0], &k[1], &k[2], &c.result, &c.reason, &c.evidence, &c.since); err != nil {
			rows.Close()
			return nil, fmt.Errorf("results of device %d: %w", dev.ID, err)
		}
		current[k] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("results of device %d: %w", dev.ID, err)
	}
	var changes []FleetResultChange
	var newRows, histRows [][]any
	var alerts []*alert.Alert
	ts := TimeArg(now)
	for _, r := range results {
		k := [3]string{r.Policy, r.CheckID, r.SessionUser}
		c, exists := current[k]
		if exists && c.result == r.Result && c.reason == r.Reason && c.evidence == r.Evidence {
			continue
		}
		var failingSince any
		switch {
		case r.Result == "failed" && exists && c.result == "failed" && c.since.Valid:
			failingSince = TimeArg(c.since.Time)
		case r.Result == "failed":
			failingSince = ts
		}
		if exists {
			q := "UPDATE fleet_results SET title = ?, result = ?, reason = ?, evidence = ?, failing_since = ?, changed_at = ?"
			if c.result != r.Result {
				q += ", escalated = FALSE"
			}
			q += " WHERE device_id = ? AND policy = ? AND check_id = ? AND os_user = ?"
			if _, err := tx.Exec(ctx, q, r.Title, r.Result, r.Reason, r.Evidence, failingSince, ts, dev.ID, r.Policy, r.CheckID, r.SessionUser); err != nil {
				return nil, fmt.Errorf("results of device %d: %w", dev.ID, err)
			}
		} else {
			newRows = append(newRows, []any{dev.ID, r.Policy, r.CheckID, r.SessionUser, r.Title, r.Result, r.Reason, r.Evidence, failingSince, ts})
		}
		// The same check twice in one batch: the later one wins.
		current[k] = cur{result: r.Result, reason: r.Reason, evidence: r.Evidence, since: nullTime{Valid: failingSince != nil, Time: now}}
		histRows = append(histRows, []any{dev.ID, r.Policy, r.CheckID, r.SessionUser, c.result, r.Result, r.Reason, r.Evidence, ts})
		ch := FleetResultChange{Policy: r.Policy, CheckID: r.CheckID, SessionUser: r.SessionUser, Previous: c.result, Result: r.Result}
		if c.result == "passed" && r.Result == "failed" {
			oid := strconv.FormatInt(dev.ID, 10)
			title := r.Title
			if title == "" {
				title = r.CheckID
			}
			a := &alert.Alert{Source: "fleet", Kind: "check_failed", Severity: alert.SeverityMedium, ClientID: dev.ClientID,
				Title: trimTo(fmt.Sprintf("%s: %s now fails", dev.Hostname, title), 300),
				Detail: map[string]any{"device_id": dev.ID, "hostname": dev.Hostname, "policy": r.Policy, "check_id": r.CheckID,
					"session_user": r.SessionUser, "reason": trimTo(r.Reason, 500)},
				DedupKey: trimTo(FleetCheckAlertKey(dev.ID, r.Policy, r.CheckID), 300), ObjectType: "device", ObjectID: oid, CreatedAt: now}
			alerts = append(alerts, a)
			ch.Alerted = true
		}
		changes = append(changes, ch)
	}
	if err := tx.fleetInsertRows(ctx, "INSERT INTO fleet_results (device_id, policy, check_id, os_user, title, result, reason, evidence, failing_since, changed_at) VALUES ", 10, newRows); err != nil {
		return nil, fmt.Errorf("results of device %d: %w", dev.ID, mapErr(err))
	}
	if err := tx.fleetInsertRows(ctx, "INSERT INTO fleet_result_history (device_id, policy, check_id, os_user, previous, result, reason, evidence, at) VALUES ", 9, histRows); err != nil {
		return nil, fmt.Errorf("result history of device %d: %w", dev.ID, err)
	}
	// Alerts last: raising one appends to the audit chain, which holds the
	// chain's lock until the transaction ends (keep that short).
	for _, a := range alerts {
		if err := tx.RaiseAlert(ctx, a); err != nil {
			return nil, err
		}
	}
	return changes, nil
}

// fleetInsertRows inserts rows of n columns with multi-row INSERTs of at
// most 100 rows each.
func (tx *Tx) fleetInsertRows(ctx context.Context, head string, n int, rows [][]any) error {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	for start := 0; start < len(rows); start += 100 {
		end := min(start+100, len(rows))
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, (end-start)*n)
		for i := start; i < end; i++ {
			if i > start {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, rows[i]...)
		}
		if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// FleetCheckAlertKey is the dedup key of the check_failed alert of a device
// and check.
func FleetCheckAlertKey(deviceID int64, policy, checkID string) string {
	return "check_failed:" + strconv.FormatInt(deviceID, 10) + ":" + policy + ":" + checkID
}

func trimTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut]
}

// FleetResults returns device id's current results (the caller has checked
// the device is in scope), by policy and check.
func (s *Store) FleetResults(ctx context.Context, deviceID int64) ([]FleetResult, error) {
	rows, err := s.Query(ctx, `SELECT device_id, policy, check_id, os_user, title, result, reason, evidence, failing_since, escalated, changed_at
		FROM fleet_results WHERE device_id = ? ORDER BY policy, check_id, os_user`, deviceID)
	if err != nil {
		return nil, fmt.Errorf("results of device %d: %w", deviceID, err)
	}
	defer rows.Close()
	out := []FleetResult{}
	for rows.Next() {
		var r FleetResult
		var since nullTime
		if err := rows.Scan(&r.DeviceID, &r.Policy, &r.CheckID, &r.SessionUser, &r.Title, &r.Result, &r.Reason, &r.Evidence, &since, &r.Escalated, ScanTime(&r.ChangedAt)); err != nil {
			return nil, fmt.Errorf("results of device %d: %w", deviceID, err)
		}
		r.FailingSince = fleetTimePtr(since)
		out = append(out, r)
	}
	return out, rows.Err()
}

// FleetResultsOf returns the current results of several devices (scores of
// a page of devices), keyed by device id.
func (s *Store) FleetResultsOf(ctx context.Context, ids []int64) (map[int64][]FleetResult, error) {
	out := map[int64][]FleetResult{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := orgInList(ids, nil)
	rows, err := s.Query(ctx, "SELECT device_id, policy, check_id, os_user, result FROM fleet_results WHERE device_id IN "+in, args...)
	if err != nil {
		return nil, fmt.Errorf("results of devices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r FleetResult
		if err := rows.Scan(&r.DeviceID, &r.Policy, &r.CheckID, &r.SessionUser, &r.Result); err != nil {
			return nil, fmt.Errorf("results of devices: %w", err)
		}
		out[r.DeviceID] = append(out[r.DeviceID], r)
	}
	return out, rows.Err()
}

// FleetHistory returns the latest changes of device id's results, newest first.
func (s *Store) FleetHistory(ctx context.Context, deviceID int64, limit int) ([]FleetHistoryEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := s.Query(ctx, `SELECT id, policy, check_id, os_user, previous, result, reason, evidence, at FROM fleet_result_history
		WHERE device_id = ? ORDER BY id DESC LIMIT ?`, deviceID, limit)
	if err != nil {
		return nil, fmt.Errorf("history of device %d: %w", deviceID, err)
	}
	defer rows.Close()
	out := []FleetHistoryEntry{}
	for rows.Next() {
		var h FleetHistoryEntry
		if err := rows.Scan(&h.ID, &h.Policy, &h.CheckID, &h.SessionUser, &h.Previous, &h.Result, &h.Reason, &h.Evidence, ScanTime(&h.At)); err != nil {
			return nil, fmt.Errorf("history of device %d: %w", deviceID, err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// FleetCheckFilter selects the fleet view of one check.
type FleetCheckFilter struct {
	Policy  string
	CheckID string
	Result  string // "" = any
	Limit   int
	Offset  int
}

// FleetCheckResults lists the current results of one check across the
// devices in scope (active devices only), failures first, then by hostname.
func (s *Store) FleetCheckResults(ctx context.Context, scope identity.Scope, f FleetCheckFilter) ([]FleetResult, error) {
	where, args := fleetDeviceScope(scope, nil)
	var b strings.Builder
	b.WriteString(`SELECT r.device_id, r.policy, r.check_id, r.os_user, r.title, r.result, r.reason, r.evidence, r.failing_since, r.escalated, r.changed_at,
		d.hostname, d.client_id, d.team_id FROM fleet_results r JOIN fleet_devices d ON d.id = r.device_id WHERE d.revoked = FALSE AND ` + where + " AND r.check_id = ?")
	args = append(args, f.CheckID)
	if f.Policy != "" {
		b.WriteString(" AND r.policy = ?")
		args = append(args, f.Policy)
	}
	if f.Result != "" {
		b.WriteString(" AND r.result = ?")
		args = append(args, f.Result)
	}
	limit := f.Limit
	if limit <= 0 || limit > 100000 {
		limit = 100
	}
	b.WriteString(" ORDER BY CASE r.result WHEN 'failed' THEN 0 WHEN 'error' THEN 1 ELSE 2 END, d.hostname_lower, r.device_id, r.os_user LIMIT ? OFFSET ?")
	args = append(args, limit, max(f.Offset, 0))
	rows, err := s.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("fleet view of %s: %w", f.CheckID, err)
	}
	defer rows.Close()
	out := []FleetResult{}
	for rows.Next() {
		var r FleetResult
		var since nullTime
		var client, team sql.NullInt64
		if err := rows.Scan(&r.DeviceID, &r.Policy, &r.CheckID, &r.SessionUser, &r.Title, &r.Result, &r.Reason, &r.Evidence, &since, &r.Escalated, ScanTime(&r.ChangedAt),
			&r.Hostname, &client, &team); err != nil {
			return nil, fmt.Errorf("fleet view of %s: %w", f.CheckID, err)
		}
		r.FailingSince = fleetTimePtr(since)
		r.ClientID, r.TeamID = client.Int64, team.Int64
		out = append(out, r)
	}
	return out, rows.Err()
}

// FleetCheckSummary counts one check's results in scope.
type FleetCheckSummary struct {
	Policy  string `json:"policy"`
	CheckID string `json:"check_id"`
	Title   string `json:"title"`
	Passed  int64  `json:"passed"`
	Failed  int64  `json:"failed"`
	Other   int64  `json:"other"`
}

// FleetChecks summarises every check reported by devices in scope, most
// failures first.
func (s *Store) FleetChecks(ctx context.Context, scope identity.Scope) ([]FleetCheckSummary, error) {
	where, args := fleetDeviceScope(scope, nil)
	rows, err := s.Query(ctx, `SELECT r.policy, r.check_id, MAX(r.title),
		SUM(CASE WHEN r.result = 'passed' THEN 1 ELSE 0 END), SUM(CASE WHEN r.result = 'failed' THEN 1 ELSE 0 END),
		SUM(CASE WHEN r.result NOT IN ('passed', 'failed') THEN 1 ELSE 0 END)
		FROM fleet_results r JOIN fleet_devices d ON d.id = r.device_id WHERE d.revoked = FALSE AND `+where+`
		GROUP BY r.policy, r.check_id ORDER BY 5 DESC, 1, 2 LIMIT 2000`, args...)
	if err != nil {
		return nil, fmt.Errorf("fleet checks: %w", err)
	}
	defer rows.Close()
	out := []FleetCheckSummary{}
	for rows.Next() {
		var c FleetCheckSummary
		if err := rows.Scan(&c.Policy, &c.CheckID, &c.Title, &c.Passed, &c.Failed, &c.Other); err != nil {
			return nil, fmt.Errorf("fleet checks: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// FleetOverdueFailure is a failure past its grace period, not yet escalated.
type FleetOverdueFailure struct {
	DeviceID     int64
	Hostname     string
	ClientID     int64
	TeamID       int64
	Policy       string
	CheckID      string
	SessionUser  string
	Title        string
	FailingSince time.Time
}

// FleetFailuresSince lists failed, not yet escalated results failing since
// before the given time, on active devices.
func (s *Store) FleetFailuresSince(ctx context.Context, before time.Time, limit int) ([]FleetOverdueFailure, error) {
	rows, err := s.Query(ctx, `SELECT r.device_id, d.hostname, d.client_id, d.team_id, r.policy, r.check_id, r.os_user, r.title, r.failing_since
		FROM fleet_results r JOIN fleet_devices d ON d.id = r.device_id
		WHERE r.result = 'failed' AND r.escalated = FALSE AND r.failing_since < ? AND d.revoked = FALSE ORDER BY r.failing_since LIMIT ?`, TimeArg(before), limit)
	if err != nil {
		return nil, fmt.Errorf("overdue failures: %w", err)
	}
	defer rows.Close()
	var out []FleetOverdueFailure
	for rows.Next() {
		var o FleetOverdueFailure
		var client, team sql.NullInt64
		if err := rows.Scan(&o.DeviceID, &o.Hostname, &client, &team, &o.Policy, &o.CheckID, &o.SessionUser, &o.Title, ScanTime(&o.FailingSince)); err != nil {
			return nil, fmt.Errorf("overdue failures: %w", err)
		}
		o.ClientID, o.TeamID = client.Int64, team.Int64
		out = append(out, o)
	}
	return out, rows.Err()
}

// FleetEscalate marks a failure escalated and raises its check_failed alert
// to severity (the open alert's severity goes up, or a new alert is raised
// when none is open), auditing the escalation.
func (tx *Tx) FleetEscalate(ctx context.Context, o FleetOverdueFailure, severity string, now time.Time) error {
	if _, err := tx.Exec(ctx, "UPDATE fleet_results SET escalated = TRUE WHERE device_id = ? AND policy = ? AND check_id = ? AND os_user = ?",
		o.DeviceID, o.Policy, o.CheckID, o.SessionUser); err != nil {
		return fmt.Errorf("escalate: %w", err)
	}
	oid := strconv.FormatInt(o.DeviceID, 10)
	title := o.Title
	if title == "" {
		title = o.CheckID
	}
	a := &alert.Alert{Source: "fleet", Kind: "check_failed", Severity: severity, ClientID: o.ClientID,
		Title:    trimTo(fmt.Sprintf("%s: %s has failed since %s", o.Hostname, title, o.FailingSince.Format(time.RFC3339)), 300),
		Detail:   map[string]any{"device_id": o.DeviceID, "hostname": o.Hostname, "policy": o.Policy, "check_id": o.CheckID, "escalated": true},
		DedupKey: trimTo(FleetCheckAlertKey(o.DeviceID, o.Policy, o.CheckID), 300), ObjectType: "device", ObjectID: oid, CreatedAt: now}
	if err := tx.RaiseAlert(ctx, a); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "UPDATE alerts SET severity = ? WHERE id = ? AND status = 'open'", severity, a.ID); err != nil {
		return fmt.Errorf("escalate alert %d: %w", a.ID, err)
	}
	return tx.Audit(ctx, audit.Record{Action: "fleet.check_escalate", Actor: "system", ObjectType: "device", ObjectID: oid, ClientID: o.ClientID,
		Detail: o.Policy + "/" + o.CheckID + " → " + severity})
}
