package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
)

// FleetReport is a desk report as the fleet stored it.
type FleetReport struct {
	ID          int64      `json:"id"`
	DeviceID    int64      `json:"device_id"`
	Hostname    string     `json:"hostname"`
	ClientID    int64      `json:"client_id,omitempty"`
	SiteID      int64      `json:"site_id,omitempty"`
	TeamID      int64      `json:"team_id,omitempty"`
	PersonID    int64      `json:"person_id,omitempty"`
	OS          string     `json:"os"`
	AgentVer    string     `json:"agent_version"`
	SessionUser string     `json:"session_user"`
	Category    string     `json:"category"`
	Text        string     `json:"text"`
	Key         string     `json:"-"`
	ReportedAt  time.Time  `json:"reported_at"`
	ReceivedAt  time.Time  `json:"received_at"`
	Reference   string     `json:"reference,omitempty"`
	ForwardedAt *time.Time `json:"forwarded_at,omitempty"`
	Attempts    int64      `json:"attempts"`
}

const fleetReportColumns = `r.id, r.device_id, d.hostname, r.client_id, d.site_id, d.team_id, d.person_id, d.os, d.agent_version, r.os_user, r.category, r.body,
	r.report_key, r.reported_at, r.received_at, r.reference, r.forwarded_at, r.attempts`

func scanFleetReport(sc interface{ Scan(...any) error }, r *FleetReport) error {
	var client, site, team, person sql.NullInt64
	var fwd nullTime
	if err := sc.Scan(&r.ID, &r.DeviceID, &r.Hostname, &client, &site, &team, &person, &r.OS, &r.AgentVer, &r.SessionUser, &r.Category, &r.Text,
		&r.Key, ScanTime(&r.ReportedAt), ScanTime(&r.ReceivedAt), &r.Reference, &fwd, &r.Attempts); err != nil {
		return err
	}
	r.ClientID, r.SiteID, r.TeamID, r.PersonID = client.Int64, site.Int64, team.Int64, person.Int64
	r.ForwardedAt = fleetTimePtr(fwd)
	return nil
}

// FleetReportAdd stores a desk report from device dev. A report the device
// already sent (same key) is not stored twice: the stored one is answered.
// A new report is audited.
func (tx *Tx) FleetReportAdd(ctx context.Context, dev *FleetDeviceCred, r *FleetReport) (*FleetReport, error) {
	if r.Key != "" {
		var id int64
		err := tx.QueryRow(ctx, "SELECT id FROM fleet_reports WHERE device_id = ? AND report_key = ?", dev.ID, r.Key).Scan(&id)
		if err == nil {
			return tx.fleetReport(ctx, id)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("store report: %w", err)
		}
	}
	id, err := tx.InsertID(ctx, `INSERT INTO fleet_reports (device_id, client_id, os_user, category, body, report_key, reported_at, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, dev.ID, nullID(dev.ClientID), r.SessionUser, r.Category, r.Text, r.Key, TimeArg(r.ReportedAt), TimeArg(r.ReceivedAt))
	if err != nil {
		return nil, fmt.Errorf("store report: %w", err)
	}
	if err := tx.Audit(ctx, audit.Record{Action: "fleet.report_receive", Actor: "device:" + strconv.FormatInt(dev.ID, 10), ObjectType: "fleet_report",
		ObjectID: strconv.FormatInt(id, 10), ClientID: dev.ClientID, Detail: "category " + r.Category}); err != nil {
		return nil, err
	}
	return tx.fleetReport(ctx, id)
}

func (tx *Tx) fleetReport(ctx context.Context, id int64) (*FleetReport, error) {
	var r FleetReport
	if err := scanFleetReport(tx.QueryRow(ctx, "SELECT "+fleetReportColumns+" FROM fleet_reports r JOIN fleet_devices d ON d.id = r.device_id WHERE r.id = ?", id), &r); err != nil {
		return nil, fmt.Errorf("report %d: %w", id, mapErr(err))
	}
	return &r, nil
}

// FleetReportsPending lists reports not yet handed to the incident intake,
// oldest first.
func (s *Store) FleetReportsPending(ctx context.Context, limit int) ([]FleetReport, error) {
	rows, err := s.Query(ctx, "SELECT "+fleetReportColumns+" FROM fleet_reports r JOIN fleet_devices d ON d.id = r.device_id WHERE r.forwarded_at IS NULL ORDER BY r.id LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("pending reports: %w", err)
	}
	defer rows.Close()
	var out []FleetReport
	for rows.Next() {
		var r FleetReport
		if err := scanFleetReport(rows, &r); err != nil {
			return nil, fmt.Errorf("pending reports: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// FleetReportForwarded records the reference the intake answered for
// report id (or, with err set, one more failed attempt).
func (s *Store) FleetReportForwarded(ctx context.Context, id int64, ref string, failure error) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if failure != nil {
			_, err := tx.Exec(ctx, "UPDATE fleet_reports SET attempts = attempts + 1, last_error = ? WHERE id = ?", trimTo(failure.Error(), 500), id)
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE fleet_reports SET attempts = attempts + 1, reference = ?, forwarded_at = ?, last_error = '' WHERE id = ? AND forwarded_at IS NULL",
			ref, TimeArg(time.Now()), id); err != nil {
			return err
		}
		var client sql.NullInt64
		_ = tx.QueryRow(ctx, "SELECT client_id FROM fleet_reports WHERE id = ?", id).Scan(&client)
		return tx.Audit(ctx, audit.Record{Action: "fleet.report_forward", Actor: "system", ObjectType: "fleet_report", ObjectID: strconv.FormatInt(id, 10),
			ClientID: client.Int64, Detail: "reference " + ref})
	})
}

// FleetReports lists the desk reports in scope, newest first.
func (s *Store) FleetReports(ctx context.Context, scope identity.Scope, deviceID int64, limit, offset int) ([]FleetReport, error) {
	where, args := fleetDeviceScope(scope, nil)
	q := "SELECT " + fleetReportColumns + " FROM fleet_reports r JOIN fleet_devices d ON d.id = r.device_id WHERE " + where
	if deviceID != 0 {
		q += " AND r.device_id = ?"
		args = append(args, deviceID)
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q += " ORDER BY r.id DESC LIMIT ? OFFSET ?"
	args = append(args, limit, max(offset, 0))
	rows, err := s.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list reports: %w", err)
	}
	defer rows.Close()
	out := []FleetReport{}
	for rows.Next() {
		var r FleetReport
		if err := scanFleetReport(rows, &r); err != nil {
			return nil, fmt.Errorf("list reports: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
