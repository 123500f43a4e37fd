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

// FleetEnrollSecret is an enrollment secret: whoever holds it may enroll a
// device into its client, site and team. Only the SHA-256 digest of the
// secret is stored; Hint is its first characters so people recognise it.
type FleetEnrollSecret struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Hint      string     `json:"hint"`
	ClientID  int64      `json:"client_id,omitempty"`
	SiteID    int64      `json:"site_id,omitempty"`
	TeamID    int64      `json:"team_id,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	MaxUses   int64      `json:"max_uses"`
	Uses      int64      `json:"uses"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Usable reports whether the secret may enroll a device at now.
func (e *FleetEnrollSecret) Usable(now time.Time) bool {
	if e.RevokedAt != nil {
		return false
	}
	if e.ExpiresAt != nil && !now.Before(*e.ExpiresAt) {
		return false
	}
	return e.MaxUses == 0 || e.Uses < e.MaxUses
}

const fleetSecretColumns = "id, name, hint, client_id, site_id, team_id, expires_at, max_uses, uses, created_by, created_at, revoked_at"

func scanFleetSecret(sc interface{ Scan(...any) error }, e *FleetEnrollSecret) error {
	var client, site, team sql.NullInt64
	var exp, rev nullTime
	if err := sc.Scan(&e.ID, &e.Name, &e.Hint, &client, &site, &team, &exp, &e.MaxUses, &e.Uses, &e.CreatedBy, ScanTime(&e.CreatedAt), &rev); err != nil {
		return err
	}
	e.ClientID, e.SiteID, e.TeamID = client.Int64, site.Int64, team.Int64
	e.ExpiresAt, e.RevokedAt = fleetTimePtr(exp), fleetTimePtr(rev)
	return nil
}

func fleetTimePtr(n nullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time
	return &t
}

func fleetTimeArgPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return TimeArg(*t)
}

// fleetClientScope restricts rows with a client_id column (named col) to
// the scope's clients; rows without a client are visible to callers who
// see every client only.
func fleetClientScope(scope identity.Scope, col string, args []any) (string, []any) {
	if scope.All {
		return "1 = 1", args
	}
	if len(scope.ClientIDs) == 0 {
		return "1 = 0", args
	}
	in, args := orgInList(scope.ClientIDs, args)
	return col + " IN " + in, args
}

// FleetSecretCreate stores a new enrollment secret (hash is the hex SHA-256
// of the secret the administrator is shown once) and audits it.
func (tx *Tx) FleetSecretCreate(ctx context.Context, e *FleetEnrollSecret, hash string) error {
	e.CreatedAt = time.Now().UTC()
	id, err := tx.InsertID(ctx, `INSERT INTO fleet_enroll_secrets (name, secret_hash, hint, client_id, site_id, team_id, expires_at, max_uses, uses, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) RETURNING id`,
		e.Name, hash, e.Hint, nullID(e.ClientID), nullID(e.SiteID), nullID(e.TeamID), fleetTimeArgPtr(e.ExpiresAt), e.MaxUses, e.CreatedBy, TimeArg(e.CreatedAt))
	if err != nil {
		return fmt.Errorf("create enrollment secret: %w", err)
	}
	e.ID = id
	return tx.Audit(ctx, audit.Record{Action: "fleet.secret_create", ObjectType: "fleet_enroll_secret", ObjectID: strconv.FormatInt(id, 10),
		ClientID: e.ClientID, After: e, Detail: e.Name})
}

// FleetSecrets lists the enrollment secrets in scope, newest first.
func (s *Store) FleetSecrets(ctx context.Context, scope identity.Scope) ([]FleetEnrollSecret, error) {
	where, args := fleetClientScope(scope, "client_id", nil)
	rows, err := s.Query(ctx, "SELECT "+fleetSecretColumns+" FROM fleet_enroll_secrets WHERE "+where+" ORDER BY id DESC LIMIT 1000", args...)
	if err != nil {
		return nil, fmt.Errorf("list enrollment secrets: %w", err)
	}
	defer rows.Close()
	out := []FleetEnrollSecret{}
	for rows.Next() {
		var e FleetEnrollSecret
		if err := scanFleetSecret(rows, &e); err != nil {
			return nil, fmt.Errorf("list enrollment secrets: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// FleetSecret returns the enrollment secret id if it is in scope.
func (s *Store) FleetSecret(ctx context.Context, scope identity.Scope, id int64) (*FleetEnrollSecret, error) {
	where, args := fleetClientScope(scope, "client_id", nil)
	var e FleetEnrollSecret
	if err := scanFleetSecret(s.QueryRow(ctx, "SELECT "+fleetSecretColumns+" FROM fleet_enroll_secrets WHERE "+where+" AND id = ?", append(args, id)...), &e); err != nil {
		return nil, fmt.Errorf("enrollment secret %d: %w", id, mapErr(err))
	}
	return &e, nil
}

// FleetSecretRevoke revokes the enrollment secret id (in scope) and audits
// it; devices already enrolled with it keep working.
func (tx *Tx) FleetSecretRevoke(ctx context.Context, scope identity.Scope, id int64) error {
	where, args := fleetClientScope(scope, "client_id", nil)
	var client sql.NullInt64
	if err := tx.QueryRow(ctx, "SELECT client_id FROM fleet_enroll_secrets WHERE "+where+" AND id = ?", append(args, id)...).Scan(&client); err != nil {
		return fmt.Errorf("enrollment secret %d: %w", id, mapErr(err))
	}
	if _, err := tx.Exec(ctx, "UPDATE fleet_enroll_secrets SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", TimeArg(time.Now()), id); err != nil {
		return fmt.Errorf("revoke enrollment secret %d: %w", id, err)
	}
	return tx.Audit(ctx, audit.Record{Action: "fleet.secret_revoke", ObjectType: "fleet_enroll_secret", ObjectID: strconv.FormatInt(id, 10), ClientID: client.Int64})
}

// fleetSecretByHash returns the enrollment secret with that digest.
func (tx *Tx) fleetSecretByHash(ctx context.Context, hash string) (*FleetEnrollSecret, error) {
	var e FleetEnrollSecret
	if err := scanFleetSecret(tx.QueryRow(ctx, "SELECT "+fleetSecretColumns+" FROM fleet_enroll_secrets WHERE secret_hash = ?", hash), &e); err != nil {
		return nil, mapErr(err)
	}
	return &e, nil
}
