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

// FleetPolicy is a custom policy (Wazuh SCA YAML) assigned to the devices
// of a client, site or team (none = every device), for one OS or any.
type FleetPolicy struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	OS        string    `json:"os,omitempty"`
	ClientID  int64     `json:"client_id,omitempty"`
	SiteID    int64     `json:"site_id,omitempty"`
	TeamID    int64     `json:"team_id,omitempty"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
}

const fleetPolicyColumns = "id, name, os, client_id, site_id, team_id, source, created_at"

func scanFleetPolicy(sc interface{ Scan(...any) error }, p *FleetPolicy) error {
	var client, site, team sql.NullInt64
	if err := sc.Scan(&p.ID, &p.Name, &p.OS, &client, &site, &team, &p.Source, ScanTime(&p.CreatedAt)); err != nil {
		return err
	}
	p.ClientID, p.SiteID, p.TeamID = client.Int64, site.Int64, team.Int64
	return nil
}

// FleetPoliciesFor returns the custom policies that apply to a device of
// that OS, client, site and team.
func (s *Store) FleetPoliciesFor(ctx context.Context, os string, client, site, team int64) ([]FleetPolicy, error) {
	rows, err := s.Query(ctx, "SELECT "+fleetPolicyColumns+` FROM fleet_policies WHERE (os = '' OR os = ?)
		AND (client_id IS NULL OR client_id = ?) AND (site_id IS NULL OR site_id = ?) AND (team_id IS NULL OR team_id = ?) ORDER BY id`, os, client, site, team)
	if err != nil {
		return nil, fmt.Errorf("assigned policies: %w", err)
	}
	defer rows.Close()
	var out []FleetPolicy
	for rows.Next() {
		var p FleetPolicy
		if err := scanFleetPolicy(rows, &p); err != nil {
			return nil, fmt.Errorf("assigned policies: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// FleetPolicies lists the custom policies in scope (operator-wide ones,
// with no client, only for callers who see every client).
func (s *Store) FleetPolicies(ctx context.Context, scope identity.Scope) ([]FleetPolicy, error) {
	where, args := fleetClientScope(scope, "client_id", nil)
	rows, err := s.Query(ctx, "SELECT "+fleetPolicyColumns+" FROM fleet_policies WHERE "+where+" ORDER BY name, id", args...)
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	defer rows.Close()
	out := []FleetPolicy{}
	for rows.Next() {
		var p FleetPolicy
		if err := scanFleetPolicy(rows, &p); err != nil {
			return nil, fmt.Errorf("list policies: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// FleetPolicyCreate stores an assigned custom policy (validated by the
// caller) and audits it.
func (tx *Tx) FleetPolicyCreate(ctx context.Context, p *FleetPolicy) error {
	p.CreatedAt = time.Now().UTC()
	id, err := tx.InsertID(ctx, `INSERT INTO fleet_policies (name, os, client_id, site_id, team_id, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.Name, p.OS, nullID(p.ClientID), nullID(p.SiteID), nullID(p.TeamID), p.Source, TimeArg(p.CreatedAt))
	if err != nil {
		return fmt.Errorf("create policy: %w", err)
	}
	p.ID = id
	return tx.Audit(ctx, audit.Record{Action: "fleet.policy_create", ObjectType: "fleet_policy", ObjectID: strconv.FormatInt(id, 10), ClientID: p.ClientID, After: p, Detail: p.Name})
}

// FleetPolicyDelete removes custom policy id (in scope) and audits it.
func (tx *Tx) FleetPolicyDelete(ctx context.Context, scope identity.Scope, id int64) error {
	where, args := fleetClientScope(scope, "client_id", nil)
	var p FleetPolicy
	if err := scanFleetPolicy(tx.QueryRow(ctx, "SELECT "+fleetPolicyColumns+" FROM fleet_policies WHERE "+where+" AND id = ?", append(args, id)...), &p); err != nil {
		return fmt.Errorf("policy %d: %w", id, mapErr(err))
	}
	if _, err := tx.Exec(ctx, "DELETE FROM fleet_policies WHERE id = ?", id); err != nil {
		return fmt.Errorf("delete policy %d: %w", id, err)
	}
	return tx.Audit(ctx, audit.Record{Action: "fleet.policy_delete", ObjectType: "fleet_policy", ObjectID: strconv.FormatInt(id, 10), ClientID: p.ClientID, Before: p, Detail: p.Name})
}

// FleetPolicy returns custom policy id if it is in scope (operator-wide
// ones only for callers who see every client).
func (s *Store) FleetPolicy(ctx context.Context, scope identity.Scope, id int64) (*FleetPolicy, error) {
	where, args := fleetClientScope(scope, "client_id", nil)
	var p FleetPolicy
	if err := scanFleetPolicy(s.QueryRow(ctx, "SELECT "+fleetPolicyColumns+" FROM fleet_policies WHERE "+where+" AND id = ?", append(args, id)...), &p); err != nil {
		return nil, fmt.Errorf("policy %d: %w", id, mapErr(err))
	}
	return &p, nil
}

// FleetPolicyChecks counts the current results of the checks of policy
// (the policy id devices report, as in the policy file) on the active
// devices in scope, one row per check. It reads the results index on
// (policy, check_id, result) only for that policy.
func (s *Store) FleetPolicyChecks(ctx context.Context, scope identity.Scope, policy string) ([]FleetCheckSummary, error) {
	where, args := fleetDeviceScope(scope, []any{policy})
	rows, err := s.Query(ctx, `SELECT r.policy, r.check_id, MAX(r.title),
		SUM(CASE WHEN r.result = 'passed' THEN 1 ELSE 0 END), SUM(CASE WHEN r.result = 'failed' THEN 1 ELSE 0 END),
		SUM(CASE WHEN r.result NOT IN ('passed', 'failed') THEN 1 ELSE 0 END)
		FROM fleet_results r JOIN fleet_devices d ON d.id = r.device_id WHERE r.policy = ? AND d.revoked = FALSE AND `+where+`
		GROUP BY r.policy, r.check_id ORDER BY 2`, args...)
	if err != nil {
		return nil, fmt.Errorf("policy checks: %w", err)
	}
	defer rows.Close()
	out := []FleetCheckSummary{}
	for rows.Next() {
		var c FleetCheckSummary
		if err := rows.Scan(&c.Policy, &c.CheckID, &c.Title, &c.Passed, &c.Failed, &c.Other); err != nil {
			return nil, fmt.Errorf("policy checks: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
