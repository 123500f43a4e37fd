package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
)

// Exception scopes.
const (
	FleetScopeDevice = "device"
	FleetScopeTeam   = "team"
	FleetScopeClient = "client"
)

// FleetException accepts a known failure of one check on a device, on the
// devices of a team or on the devices of a client until it expires.
type FleetException struct {
	ID        int64      `json:"id"`
	Policy    string     `json:"policy"`
	CheckID   string     `json:"check_id"`
	Scope     string     `json:"scope"`
	DeviceID  int64      `json:"device_id,omitempty"`
	TeamID    int64      `json:"team_id,omitempty"`
	ClientID  int64      `json:"client_id,omitempty"`
	Owner     string     `json:"owner"`
	Reason    string     `json:"reason"`
	ExpiresAt time.Time  `json:"expires_at"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// InForce reports whether the exception applies at now.
func (e *FleetException) InForce(now time.Time) bool {
	return e.RevokedAt == nil && now.Before(e.ExpiresAt)
}

// Covers reports whether e (in force) applies to a result of policy/check on
// a device of that client and team.
func (e *FleetException) Covers(policy, check string, deviceID, clientID, teamID int64) bool {
	if e.Policy != policy || e.CheckID != check {
		return false
	}
	switch e.Scope {
	case FleetScopeDevice:
		return e.DeviceID == deviceID
	case FleetScopeTeam:
		return e.TeamID != 0 && e.TeamID == teamID
	case FleetScopeClient:
		return e.ClientID != 0 && e.ClientID == clientID
	}
	return false
}

const fleetExceptionColumns = "e.id, e.policy, e.check_id, e.scope, e.device_id, e.team_id, e.client_id, e.owner, e.reason, e.expires_at, e.created_by, e.created_at, e.revoked_at"

func scanFleetException(sc interface{ Scan(...any) error }, e *FleetException) error {
	var dev, team, client sql.NullInt64
	var rev nullTime
	if err := sc.Scan(&e.ID, &e.Policy, &e.CheckID, &e.Scope, &dev, &team, &client, &e.Owner, &e.Reason, ScanTime(&e.ExpiresAt), &e.CreatedBy, ScanTime(&e.CreatedAt), &rev); err != nil {
		return err
	}
	e.DeviceID, e.TeamID, e.ClientID = dev.Int64, team.Int64, client.Int64
	e.RevokedAt = fleetTimePtr(rev)
	return nil
}

// fleetExceptionScope restricts exceptions (alias e) to the scope: the
// client's, and for supervisors the exceptions of their teams' devices or
// teams.
func fleetExceptionScope(scope identity.Scope, args []any) (string, []any) {
	if (scope.TeamIDs != nil && len(scope.TeamIDs) == 0) || scope.PersonID != 0 {
		return "1 = 0", args
	}
	where, args := fleetClientScope(scope, "e.client_id", args)
	if scope.TeamIDs != nil {
		in1, a := orgInList(scope.TeamIDs, args)
		in2, a := orgInList(scope.TeamIDs, a)
		where += " AND (e.team_id IN " + in1 + " OR e.device_id IN (SELECT id FROM fleet_devices WHERE team_id IN " + in2 + "))"
		args = a
	}
	return where, args
}

// FleetExceptionCreate stores an exception and audits it. The caller has
// validated it and resolved ClientID (and TeamID for a device) from the
// device, team or client in the caller's scope.
func (tx *Tx) FleetExceptionCreate(ctx context.Context, e *FleetException) error {
	e.CreatedAt = time.Now().UTC()
	id, err := tx.InsertID(ctx, `INSERT INTO fleet_exceptions (policy, check_id, scope, device_id, team_id, client_id, owner, reason, expires_at, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.Policy, e.CheckID, e.Scope, nullID(e.DeviceID), nullID(e.TeamID), nullID(e.ClientID),
		e.Owner, e.Reason, TimeArg(e.ExpiresAt), e.CreatedBy, TimeArg(e.CreatedAt))
	if err != nil {
		return fmt.Errorf("create exception: %w", err)
	}
	e.ID = id
	return tx.Audit(ctx, audit.Record{Action: "fleet.exception_create", ObjectType: "fleet_exception", ObjectID: strconv.FormatInt(id, 10),
		ClientID: e.ClientID, After: e, Detail: e.Policy + "/" + e.CheckID + " " + e.Scope})
}

// FleetExceptionRevoke ends exception id (in scope) now and audits it.
func (tx *Tx) FleetExceptionRevoke(ctx context.Context, scope identity.Scope, id int64) error {
	where, args := fleetExceptionScope(scope, nil)
	var e FleetException
	if err := scanFleetException(tx.QueryRow(ctx, "SELECT "+fleetExceptionColumns+" FROM fleet_exceptions e WHERE "+where+" AND e.id = ?", append(args, id)...), &e); err != nil {
		return fmt.Errorf("exception %d: %w", id, mapErr(err))
	}
	if e.RevokedAt != nil {
		return nil
	}
	if _, err := tx.Exec(ctx, "UPDATE fleet_exceptions SET revoked_at = ? WHERE id = ?", TimeArg(time.Now()), id); err != nil {
		return fmt.Errorf("revoke exception %d: %w", id, err)
	}
	return tx.Audit(ctx, audit.Record{Action: "fleet.exception_revoke", ObjectType: "fleet_exception", ObjectID: strconv.FormatInt(id, 10), ClientID: e.ClientID, Before: e})
}

// FleetExceptionFilter selects exceptions.
type FleetExceptionFilter struct {
	// Active keeps the exceptions in force at Now; Expired those that ended.
	Active, Expired bool
	Now             time.Time
	Policy, CheckID string
	DeviceID        int64
	Limit, Offset   int
}

// FleetExceptions lists exceptions in scope, newest first.
func (s *Store) FleetExceptions(ctx context.Context, scope identity.Scope, f FleetExceptionFilter) ([]FleetException, error) {
	where, args := fleetExceptionScope(scope, nil)
	q := "SELECT " + fleetExceptionColumns + " FROM fleet_exceptions e WHERE " + where
	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	if f.Active {
		q += " AND e.revoked_at IS NULL AND e.expires_at > ?"
		args = append(args, TimeArg(now))
	}
	if f.Expired {
		q += " AND (e.revoked_at IS NOT NULL OR e.expires_at <= ?)"
		args = append(args, TimeArg(now))
	}
	if f.Policy != "" {
		q += " AND e.policy = ?"
		args = append(args, f.Policy)
	}
	if f.CheckID != "" {
		q += " AND e.check_id = ?"
		args = append(args, f.CheckID)
	}
	if f.DeviceID != 0 {
		q += " AND (e.device_id = ? OR (e.scope = 'team' AND e.team_id = (SELECT team_id FROM fleet_devices WHERE id = ?)) OR (e.scope = 'client' AND e.client_id = (SELECT client_id FROM fleet_devices WHERE id = ?)))"
		args = append(args, f.DeviceID, f.DeviceID, f.DeviceID)
	}
	limit := f.Limit
	if limit <= 0 || limit > 5000 {
		limit = 200
	}
	q += " ORDER BY e.id DESC LIMIT ? OFFSET ?"
	args = append(args, limit, max(f.Offset, 0))
	rows, err := s.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list exceptions: %w", err)
	}
	defer rows.Close()
	out := []FleetException{}
	for rows.Next() {
		var e FleetException
		if err := scanFleetException(rows, &e); err != nil {
			return nil, fmt.Errorf("list exceptions: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// FleetExceptionsInForce returns every exception in force at now (all
// clients: the caller filters per device).
func (s *Store) FleetExceptionsInForce(ctx context.Context, now time.Time) ([]FleetException, error) {
	return s.FleetExceptions(ctx, identity.Scope{All: true}, FleetExceptionFilter{Active: true, Now: now, Limit: 5000})
}

// FleetExceptionsExpire writes one audit entry per exception that expired
// by now (not revoked) and was not yet recorded, and answers how many. An
// exception stops applying at its expiry whether or not this ran; this
// only puts the event in the audit trail.
func (s *Store) FleetExceptionsExpire(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+fleetExceptionColumns+" FROM fleet_exceptions e WHERE e.expiry_audited = FALSE AND e.revoked_at IS NULL AND e.expires_at <= ? ORDER BY e.id LIMIT 500", TimeArg(now))
		if err != nil {
			return err
		}
		var list []FleetException
		for rows.Next() {
			var e FleetException
			if err := scanFleetException(rows, &e); err != nil {
				rows.Close()
				return err
			}
			list = append(list, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, e := range list {
			if _, err := tx.Exec(ctx, "UPDATE fleet_exceptions SET expiry_audited = TRUE WHERE id = ?", e.ID); err != nil {
				return err
			}
			if err := tx.Audit(ctx, audit.Record{Action: "fleet.exception_expire", Actor: "system", ObjectType: "fleet_exception",
				ObjectID: strconv.FormatInt(e.ID, 10), ClientID: e.ClientID, Before: e, Detail: e.Policy + "/" + e.CheckID}); err != nil {
				return err
			}
		}
		n = len(list)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("record expired exceptions: %w", err)
	}
	return n, nil
}
