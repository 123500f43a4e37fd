package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
)

// ErrFleetEnrollRefused reports an enrollment secret that is unknown,
// revoked, expired or used up (the device is told nothing more).
var ErrFleetEnrollRefused = errors.New("enrollment secret refused")

// FleetDevice is an enrolled workstation. ClientID, SiteID and TeamID come
// from the enrollment secret, never from the device's claim.
type FleetDevice struct {
	ID           int64      `json:"id"`
	HardwareID   string     `json:"hardware_id"`
	Hostname     string     `json:"hostname"`
	OS           string     `json:"os"`
	OSBuild      string     `json:"os_build"`
	AgentVersion string     `json:"agent_version"`
	ClientID     int64      `json:"client_id,omitempty"`
	SiteID       int64      `json:"site_id,omitempty"`
	TeamID       int64      `json:"team_id,omitempty"`
	PersonID     int64      `json:"person_id,omitempty"`
	Revoked      bool       `json:"revoked"`
	SessionUser  string     `json:"session_user"`
	UptimeS      int64      `json:"uptime_s"`
	PolicyDigest string     `json:"policy_digest"`
	Enrollments  int64      `json:"enrollments"`
	EnrolledAt   time.Time  `json:"enrolled_at"`
	LastSeenAt   time.Time  `json:"last_seen_at"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	// Names resolved for display (empty when unknown).
	ClientName string `json:"client_name,omitempty"`
	SiteName   string `json:"site_name,omitempty"`
	TeamName   string `json:"team_name,omitempty"`
	OwnerName  string `json:"owner_name,omitempty"`
}

// FleetDeviceFacts is what a device says about itself when it enrolls.
type FleetDeviceFacts struct {
	HardwareID   string
	Hostname     string
	OS           string
	OSBuild      string
	AgentVersion string
}

const fleetDeviceColumns = `d.id, d.hardware_id, d.hostname, d.os, d.os_build, d.agent_version, d.client_id, d.site_id, d.team_id, d.person_id,
	d.revoked, d.os_user, d.uptime_s, d.policy_digest, d.enrollments, d.enrolled_at, d.last_seen_at, d.revoked_at,
	COALESCE(c.name, ''), COALESCE(si.name, ''), COALESCE(t.name, ''), COALESCE(p.full_name, '')`

const fleetDeviceFrom = ` FROM fleet_devices d LEFT JOIN clients c ON c.id = d.client_id LEFT JOIN sites si ON si.id = d.site_id
	LEFT JOIN teams t ON t.id = d.team_id LEFT JOIN people p ON p.id = d.person_id`

func scanFleetDevice(sc interface{ Scan(...any) error }, d *FleetDevice) error {
	var client, site, team, person sql.NullInt64
	var rev nullTime
	if err := sc.Scan(&d.ID, &d.HardwareID, &d.Hostname, &d.OS, &d.OSBuild, &d.AgentVersion, &client, &site, &team, &person,
		&d.Revoked, &d.SessionUser, &d.UptimeS, &d.PolicyDigest, &d.Enrollments, ScanTime(&d.EnrolledAt), ScanTime(&d.LastSeenAt), &rev,
		&d.ClientName, &d.SiteName, &d.TeamName, &d.OwnerName); err != nil {
		return err
	}
	d.ClientID, d.SiteID, d.TeamID, d.PersonID = client.Int64, site.Int64, team.Int64, person.Int64
	d.RevokedAt = fleetTimePtr(rev)
	return nil
}

// fleetDeviceScope restricts devices (alias d) to the scope: its clients,
// a supervisor's teams, an agent's own person.
func fleetDeviceScope(scope identity.Scope, args []any) (string, []any) {
	if scope.TeamIDs != nil && len(scope.TeamIDs) == 0 {
		return "1 = 0", args
	}
	where, args := fleetClientScope(scope, "d.client_id", args)
	if scope.TeamIDs != nil {
		var in string
		in, args = orgInList(scope.TeamIDs, args)
		where += " AND d.team_id IN " + in
	}
	if scope.PersonID != 0 {
		where += " AND d.person_id = ?"
		args = append(args, scope.PersonID)
	}
	return where, args
}

// FleetEnroll enrolls a device with the enrollment secret whose digest is
// secretHash, giving it the credential digest credHash. A device already
// known by its hardware id gets the new credential (the old one stops
// working), the secret's client/site/team, and an alert is raised
// (fleet/device_reenrolled). It answers ErrFleetEnrollRefused for a
// secret that cannot be used.
func (tx *Tx) FleetEnroll(ctx context.Context, secretHash string, f FleetDeviceFacts, credHash string, now time.Time) (dev *FleetDevice, reenrolled bool, err error) {
	sec, err := tx.fleetSecretByHash(ctx, secretHash)
	if errors.Is(err, ErrNotFound) || (err == nil && !sec.Usable(now)) {
		return nil, false, ErrFleetEnrollRefused
	}
	if err != nil {
		return nil, false, fmt.Errorf("enroll: %w", err)
	}
	res, err := tx.Exec(ctx, "UPDATE fleet_enroll_secrets SET uses = uses + 1 WHERE id = ? AND (max_uses = 0 OR uses < max_uses)", sec.ID)
	if err != nil {
		return nil, false, fmt.Errorf("enroll: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, false, ErrFleetEnrollRefused
	}
	var id int64
	var prevClient sql.NullInt64
	var prevHost string
	switch err := tx.QueryRow(ctx, "SELECT id, client_id, hostname FROM fleet_devices WHERE hardware_id = ?", f.HardwareID).Scan(&id, &prevClient, &prevHost); {
	case err == nil:
		reenrolled = true
		if _, err := tx.Exec(ctx, `UPDATE fleet_devices SET hostname = ?, hostname_lower = ?, os = ?, os_build = ?, agent_version = ?, client_id = ?, site_id = ?, team_id = ?,
			secret_id = ?, cred_hash = ?, revoked = FALSE, revoked_at = NULL, last_seq = 0, silent_alerted = FALSE, enrollments = enrollments + 1, enrolled_at = ?, last_seen_at = ?
			WHERE id = ?`, f.Hostname, strings.ToLower(f.Hostname), f.OS, f.OSBuild, f.AgentVersion, nullID(sec.ClientID), nullID(sec.SiteID), nullID(sec.TeamID),
			sec.ID, credHash, TimeArg(now), TimeArg(now), id); err != nil {
			return nil, false, fmt.Errorf("re-enroll device %d: %w", id, err)
		}
	case errors.Is(err, sql.ErrNoRows):
		id, err = tx.InsertID(ctx, `INSERT INTO fleet_devices (hardware_id, hostname, hostname_lower, os, os_build, agent_version, client_id, site_id, team_id, secret_id, cred_hash, enrolled_at, last_seen_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, f.HardwareID, f.Hostname, strings.ToLower(f.Hostname), f.OS, f.OSBuild, f.AgentVersion,
			nullID(sec.ClientID), nullID(sec.SiteID), nullID(sec.TeamID), sec.ID, credHash, TimeArg(now), TimeArg(now))
		if err != nil {
			return nil, false, fmt.Errorf("enroll device: %w", err)
		}
	default:
		return nil, false, fmt.Errorf("enroll: %w", err)
	}
	dev, err = tx.fleetDevice(ctx, id)
	if err != nil {
		return nil, false, err
	}
	oid := strconv.FormatInt(id, 10)
	action := "fleet.device_enroll"
	if reenrolled {
		action = "fleet.device_reenroll"
		a := &alert.Alert{Source: "fleet", Kind: "device_reenrolled", Severity: alert.SeverityMedium, ClientID: dev.ClientID,
			Title:    fmt.Sprintf("Device %s enrolled again (its previous credential is revoked)", dev.Hostname),
			Detail:   map[string]any{"device_id": id, "hostname": dev.Hostname, "previous_hostname": prevHost, "previous_client_id": prevClient.Int64, "secret_id": sec.ID},
			DedupKey: "device_reenrolled:" + oid, ObjectType: "device", ObjectID: oid}
		if err := tx.RaiseAlert(ctx, a); err != nil {
			return nil, false, err
		}
	}
	if err := tx.Audit(ctx, audit.Record{Action: action, Actor: "device:" + oid, ObjectType: "device", ObjectID: oid, ClientID: dev.ClientID,
		After: dev, Detail: fmt.Sprintf("%s with enrollment secret %d", dev.Hostname, sec.ID)}); err != nil {
		return nil, false, err
	}
	return dev, reenrolled, nil
}

func (tx *Tx) fleetDevice(ctx context.Context, id int64) (*FleetDevice, error) {
	var d FleetDevice
	if err := scanFleetDevice(tx.QueryRow(ctx, "SELECT "+fleetDeviceColumns+fleetDeviceFrom+" WHERE d.id = ?", id), &d); err != nil {
		return nil, fmt.Errorf("device %d: %w", id, mapErr(err))
	}
	return &d, nil
}

// FleetDeviceCred is what authenticating a device's request needs.
type FleetDeviceCred struct {
	ID       int64
	CredHash string
	Revoked  bool
	LastSeq  int64
	ClientID int64
	SiteID   int64
	TeamID   int64
	PersonID int64
	OS       string
	Hostname string
	Digest   string
}

// FleetDeviceCred returns device id's credential digest and state (no scope:
// the device protocol authenticates with it).
func (s *Store) FleetDeviceCred(ctx context.Context, id int64) (*FleetDeviceCred, error) {
	var c FleetDeviceCred
	var client, site, team, person sql.NullInt64
	err := s.QueryRow(ctx, "SELECT id, cred_hash, revoked, last_seq, client_id, site_id, team_id, person_id, os, hostname, policy_digest FROM fleet_devices WHERE id = ?", id).
		Scan(&c.ID, &c.CredHash, &c.Revoked, &c.LastSeq, &client, &site, &team, &person, &c.OS, &c.Hostname, &c.Digest)
	if err != nil {
		return nil, fmt.Errorf("device %d: %w", id, mapErr(err))
	}
	c.ClientID, c.SiteID, c.TeamID, c.PersonID = client.Int64, site.Int64, team.Int64, person.Int64
	return &c, nil
}

// FleetHeartbeat is the device state a check-in updates.
type FleetHeartbeat struct {
	SessionUser  string
	AgentVersion string
	UptimeS      int64
	PolicyDigest string
}

// ErrFleetReplay reports a request whose sequence number is not above the
// highest one the device used (a replay), or a credential that changed.
var ErrFleetReplay = errors.New("request replayed or credential superseded")

// FleetCheckin accepts request seq of device id authenticated with
// credHash: it records the heartbeat and last-seen time, atomically
// refusing a replay (seq not above the last one) or a credential revoked
// or superseded in between (ErrFleetReplay).
func (tx *Tx) FleetCheckin(ctx context.Context, id int64, credHash string, seq int64, hb FleetHeartbeat, now time.Time) error {
	res, err := tx.Exec(ctx, `UPDATE fleet_devices SET last_seq = ?, last_seen_at = ?, os_user = ?, agent_version = ?, uptime_s = ?, policy_digest = ?, silent_alerted = FALSE
		WHERE id = ? AND cred_hash = ? AND revoked = FALSE AND last_seq < ?`,
		seq, TimeArg(now), hb.SessionUser, hb.AgentVersion, hb.UptimeS, hb.PolicyDigest, id, credHash, seq)
	if err != nil {
		return fmt.Errorf("check-in of device %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrFleetReplay
	}
	return nil
}

// FleetBeat records a check-in of device id that carries no results, in
// one statement that is also its authentication: the UPDATE stores the
// heartbeat only if credHash is the device's current credential digest, the
// device is not revoked and seq is above the last sequence it used, and
// returns the device's state. Otherwise nothing changes and it answers
// ErrFleetReplay (the caller tells the cases apart with FleetDeviceCred).
//
// On PostgreSQL the statement's own transaction commits asynchronously
// (synchronous_commit off for that transaction only, see fleetBeatAsync):
// it answers before the WAL flush. A crash of the database server, never of
// Custodia, can lose the heartbeats of the last moments before it (at most
// 3 × wal_writer_delay, 0.6 s by default): last-seen times and heartbeat
// fields go back that far, and so can last_seq. A heartbeat-only request
// accepted in that moment could then be replayed once, inside the
// clock-skew window, and would only store the same heartbeat again.
// Everything else stays synchronous, and a synchronous commit flushes the
// WAL written before it: results, desk reports (FleetCheckin,
// FleetCheckinSeq), enrollment and revocation are durable when answered,
// and a sequence number that carried results cannot be replayed.
func (s *Store) FleetBeat(ctx context.Context, id int64, credHash string, seq int64, hb FleetHeartbeat, now time.Time) (*FleetDeviceCred, error) {
	var from string
	if s.dialect == Postgres {
		from = fleetBeatAsync
	}
	var c FleetDeviceCred
	var client, site, team, person sql.NullInt64
	err := s.write.QueryRowContext(ctx, rebind(s.dialect, `UPDATE fleet_devices SET last_seq = ?, last_seen_at = ?, os_user = ?, agent_version = ?, uptime_s = ?, policy_digest = ?, silent_alerted = FALSE`+from+`
		WHERE id = ? AND cred_hash = ? AND revoked = FALSE AND last_seq < ?
		RETURNING id, cred_hash, revoked, last_seq, client_id, site_id, team_id, person_id, os, hostname, policy_digest`),
		seq, TimeArg(now), hb.SessionUser, hb.AgentVersion, hb.UptimeS, hb.PolicyDigest, id, credHash, seq).
		Scan(&c.ID, &c.CredHash, &c.Revoked, &c.LastSeq, &client, &site, &team, &person, &c.OS, &c.Hostname, &c.Digest)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrFleetReplay
	}
	if err != nil {
		return nil, fmt.Errorf("heartbeat of device %d: %w", id, err)
	}
	c.ClientID, c.SiteID, c.TeamID, c.PersonID = client.Int64, site.Int64, team.Int64, person.Int64
	return &c, nil
}

// fleetBeatAsync is the PostgreSQL-only clause of FleetBeat's UPDATE that
// turns synchronous_commit off for the statement's own implicit
// transaction (set_config with is_local: PostgreSQL applies the setting in
// force when a transaction commits, and drops it when it ends). Nothing
// else is affected: not the session, not a connection pooler's other
// clients, not the server's configuration.
const fleetBeatAsync = ` FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async`

// FleetDeviceRevoke revokes device id (in scope): its next request is
// refused. It audits the change.
func (tx *Tx) FleetDeviceRevoke(ctx context.Context, scope identity.Scope, id int64) error {
	where, args := fleetDeviceScope(scope, nil)
	var client sql.NullInt64
	var revoked bool
	if err := tx.QueryRow(ctx, "SELECT d.client_id, d.revoked FROM fleet_devices d WHERE "+where+" AND d.id = ?", append(args, id)...).Scan(&client, &revoked); err != nil {
		return fmt.Errorf("device %d: %w", id, mapErr(err))
	}
	if revoked {
		return nil
	}
	if _, err := tx.Exec(ctx, "UPDATE fleet_devices SET revoked = TRUE, revoked_at = ? WHERE id = ?", TimeArg(time.Now()), id); err != nil {
		return fmt.Errorf("revoke device %d: %w", id, err)
	}
	return tx.Audit(ctx, audit.Record{Action: "fleet.device_revoke", ObjectType: "device", ObjectID: strconv.FormatInt(id, 10), ClientID: client.Int64})
}

// FleetDevice returns device id if it is in scope.
func (s *Store) FleetDevice(ctx context.Context, scope identity.Scope, id int64) (*FleetDevice, error) {
	where, args := fleetDeviceScope(scope, nil)
	var d FleetDevice
	if err := scanFleetDevice(s.QueryRow(ctx, "SELECT "+fleetDeviceColumns+fleetDeviceFrom+" WHERE "+where+" AND d.id = ?", append(args, id)...), &d); err != nil {
		return nil, fmt.Errorf("device %d: %w", id, mapErr(err))
	}
	return &d, nil
}

// FleetDeviceFilter selects devices.
type FleetDeviceFilter struct {
	Query    string // hostname contains (case-insensitive)
	ClientID int64
	SiteID   int64
	TeamID   int64
	OS       string
	// StaleBefore, when set, keeps devices not seen since then (Stale) or
	// seen since then (Fresh).
	StaleBefore time.Time
	Stale       bool
	Fresh       bool
	// FailingPolicy/FailingCheck keep devices where that check's current
	// result is failed (for any session user).
	FailingPolicy string
	FailingCheck  string
	Revoked       *bool
	Limit, Offset int
}

// FleetDevices lists the devices in scope matching f, by hostname.
func (s *Store) FleetDevices(ctx context.Context, scope identity.Scope, f FleetDeviceFilter) ([]FleetDevice, error) {
	where, args := fleetDeviceScope(scope, nil)
	var b strings.Builder
	b.WriteString("SELECT " + fleetDeviceColumns + fleetDeviceFrom + " WHERE " + where)
	if q := strings.ToLower(strings.TrimSpace(f.Query)); q != "" {
		b.WriteString(` AND d.hostname_lower LIKE ? ESCAPE '\'`)
		args = append(args, "%"+strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q)+"%")
	}
	for _, c := range []struct {
		col string
		v   int64
	}{{"d.client_id", f.ClientID}, {"d.site_id", f.SiteID}, {"d.team_id", f.TeamID}} {
		if c.v != 0 {
			b.WriteString(" AND " + c.col + " = ?")
			args = append(args, c.v)
		}
	}
	if f.OS != "" {
		b.WriteString(" AND d.os = ?")
		args = append(args, f.OS)
	}
	if f.Revoked != nil {
		b.WriteString(" AND d.revoked = ?")
		args = append(args, *f.Revoked)
	}
	if !f.StaleBefore.IsZero() && f.Stale {
		b.WriteString(" AND d.last_seen_at < ?")
		args = append(args, TimeArg(f.StaleBefore))
	}
	if !f.StaleBefore.IsZero() && f.Fresh {
		b.WriteString(" AND d.last_seen_at >= ?")
		args = append(args, TimeArg(f.StaleBefore))
	}
	if f.FailingCheck != "" {
		b.WriteString(" AND EXISTS (SELECT 1 FROM fleet_results r WHERE r.device_id = d.id AND r.check_id = ? AND r.result = 'failed'")
		args = append(args, f.FailingCheck)
		if f.FailingPolicy != "" {
			b.WriteString(" AND r.policy = ?")
			args = append(args, f.FailingPolicy)
		}
		b.WriteString(")")
	}
	limit := f.Limit
	if limit <= 0 || limit > 5000 {
		limit = 50
	}
	b.WriteString(" ORDER BY d.hostname_lower, d.id LIMIT ? OFFSET ?")
	args = append(args, limit, max(f.Offset, 0))
	rows, err := s.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	out := []FleetDevice{}
	for rows.Next() {
		var d FleetDevice
		if err := scanFleetDevice(rows, &d); err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// FleetDeviceSetOwner sets device id's owner (a person; 0 clears it) and
// audits the change.
func (tx *Tx) FleetDeviceSetOwner(ctx context.Context, scope identity.Scope, id, personID int64) error {
	where, args := fleetDeviceScope(scope, nil)
	var client sql.NullInt64
	if err := tx.QueryRow(ctx, "SELECT d.client_id FROM fleet_devices d WHERE "+where+" AND d.id = ?", append(args, id)...).Scan(&client); err != nil {
		return fmt.Errorf("device %d: %w", id, mapErr(err))
	}
	if _, err := tx.Exec(ctx, "UPDATE fleet_devices SET person_id = ? WHERE id = ?", nullID(personID), id); err != nil {
		return fmt.Errorf("set owner of device %d: %w", id, mapErr(err))
	}
	return tx.Audit(ctx, audit.Record{Action: "fleet.device_owner", ObjectType: "device", ObjectID: strconv.FormatInt(id, 10), ClientID: client.Int64,
		Detail: "person " + strconv.FormatInt(personID, 10)})
}

// FleetMarkSilent flags the active devices not seen since before and not
// yet flagged, raising one fleet/device_silent alert per device; it
// returns how many it flagged. A check-in clears the flag.
func (s *Store) FleetMarkSilent(ctx context.Context, before time.Time, limit int) (int, error) {
	n := 0
	err := s.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, "SELECT id, hostname, client_id, last_seen_at FROM fleet_devices WHERE revoked = FALSE AND silent_alerted = FALSE AND last_seen_at < ? ORDER BY id LIMIT ?",
			TimeArg(before), limit)
		if err != nil {
			return err
		}
		type silent struct {
			id     int64
			host   string
			client int64
			seen   time.Time
		}
		var list []silent
		for rows.Next() {
			var x silent
			var client sql.NullInt64
			if err := rows.Scan(&x.id, &x.host, &client, ScanTime(&x.seen)); err != nil {
				rows.Close()
				return err
			}
			x.client = client.Int64
			list = append(list, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, x := range list {
			oid := strconv.FormatInt(x.id, 10)
			if _, err := tx.Exec(ctx, "UPDATE fleet_devices SET silent_alerted = TRUE WHERE id = ?", x.id); err != nil {
				return err
			}
			if err := tx.RaiseAlert(ctx, &alert.Alert{Source: "fleet", Kind: "device_silent", Severity: alert.SeverityMedium, ClientID: x.client,
				Title:  fmt.Sprintf("Device %s has not checked in since %s", x.host, x.seen.Format(time.RFC3339)),
				Detail: map[string]any{"device_id": x.id, "hostname": x.host, "last_seen_at": x.seen.Format(time.RFC3339)}, DedupKey: "device_silent:" + oid,
				ObjectType: "device", ObjectID: oid}); err != nil {
				return err
			}
		}
		n = len(list)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("flag silent devices: %w", err)
	}
	return n, nil
}

// FleetCheckinSeq accepts request seq of device id (a desk report) without
// touching the heartbeat: like FleetCheckin it refuses a replay or a
// superseded credential (ErrFleetReplay).
func (tx *Tx) FleetCheckinSeq(ctx context.Context, id int64, credHash string, seq int64) error {
	res, err := tx.Exec(ctx, `UPDATE fleet_devices SET last_seq = ?, last_seen_at = ?, silent_alerted = FALSE WHERE id = ? AND cred_hash = ? AND revoked = FALSE AND last_seq < ?`,
		seq, TimeArg(time.Now()), id, credHash, seq)
	if err != nil {
		return fmt.Errorf("request of device %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrFleetReplay
	}
	return nil
}
