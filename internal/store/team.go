package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
)

const teamColumns = "t.id, t.site_id, t.client_id, t.code, t.name, t.created_at, t.updated_at"

func scanTeam(sc interface{ Scan(...any) error }, t *org.Team) error {
	var client sql.NullInt64
	if err := sc.Scan(&t.ID, &t.SiteID, &client, &t.Code, &t.Name, ScanTime(&t.CreatedAt), ScanTime(&t.UpdatedAt)); err != nil {
		return err
	}
	t.ClientID = client.Int64
	return nil
}

// teamScopeSQL restricts teams (alias t) to those of in-scope clients plus the
// internal teams (no client).
func teamScopeSQL(scope identity.Scope, args []any) (string, []any) {
	if scope.All {
		return "", args
	}
	if len(scope.ClientIDs) == 0 {
		return " AND t.client_id IS NULL", args
	}
	in, args := orgInList(scope.ClientIDs, args)
	return " AND (t.client_id IS NULL OR t.client_id IN " + in + ")", args
}

// Teams lists the teams visible in the filter's scope, by name.
func (s *Store) Teams(ctx context.Context, f org.TeamFilter) ([]org.Team, error) {
	var b strings.Builder
	args := []any{}
	b.WriteString("SELECT " + teamColumns + " FROM teams t WHERE 1 = 1")
	var w string
	w, args = teamScopeSQL(f.Scope, args)
	b.WriteString(w)
	if f.SiteID != 0 {
		b.WriteString(" AND t.site_id = ?")
		args = append(args, f.SiteID)
	}
	if f.ClientID != 0 {
		b.WriteString(" AND t.client_id = ?")
		args = append(args, f.ClientID)
	}
	// Teams are few: a search (accent-insensitive, which SQL can't do on
	// both dialects) filters in Go, then pages.
	limit, offset := f.Clamp()
	q := org.FoldSearch(strings.TrimSpace(f.Query))
	b.WriteString(" ORDER BY t.name, t.id")
	if q == "" {
		b.WriteString(" LIMIT ? OFFSET ?")
		args = append(args, limit, offset)
	}
	rows, err := s.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	defer rows.Close()
	out := []org.Team{}
	skipped := 0
	for rows.Next() {
		var t org.Team
		if err := scanTeam(rows, &t); err != nil {
			return nil, fmt.Errorf("list teams: %w", err)
		}
		if q != "" {
			if !strings.Contains(org.FoldSearch(t.Code+" "+t.Name), q) {
				continue
			}
			if skipped < offset {
				skipped++
				continue
			}
			if len(out) == limit {
				break
			}
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return out, nil
}

// Team returns the team with id if it is visible in scope, else an error
// wrapping ErrNotFound.
func (s *Store) Team(ctx context.Context, scope identity.Scope, id int64) (*org.Team, error) {
	return getTeam(ctx, s, scope, "t.id = ?", id)
}

// TeamByCode returns the team with code if it is visible in scope.
func (s *Store) TeamByCode(ctx context.Context, scope identity.Scope, code string) (*org.Team, error) {
	return getTeam(ctx, s, scope, "t.code = ?", org.NormalizeCode(code))
}

func getTeam(ctx context.Context, q orgQuerier, scope identity.Scope, where string, key any) (*org.Team, error) {
	args := []any{key}
	w, args := teamScopeSQL(scope, args)
	var t org.Team
	if err := scanTeam(q.QueryRow(ctx, "SELECT "+teamColumns+" FROM teams t WHERE "+where+w, args...), &t); err != nil {
		return nil, fmt.Errorf("team %v: %w", key, mapErr(err))
	}
	return &t, nil
}

// checkTeamRefs reports a missing site or client as field errors.
func (tx *Tx) checkTeamRefs(ctx context.Context, t *org.Team) error {
	var fe org.FieldErrors
	if _, err := getSite(ctx, tx, "id = ?", t.SiteID); err != nil {
		if !orgNotFound(err) {
			return err
		}
		fe.Add("site_id", "is not a known site")
	}
	if t.ClientID != 0 {
		if _, err := getClient(ctx, tx, identity.Scope{All: true}, "id = ?", t.ClientID); err != nil {
			if !orgNotFound(err) {
				return err
			}
			fe.Add("client_id", "is not a known client")
		}
	}
	return fe.Err()
}

// CreateTeam validates and inserts t, setting its id and timestamps.
func (s *Store) CreateTeam(ctx context.Context, t *org.Team) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.CreateTeam(ctx, t) })
}

// CreateTeam is Store.CreateTeam inside a transaction.
func (tx *Tx) CreateTeam(ctx context.Context, t *org.Team) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := tx.checkTeamRefs(ctx, t); err != nil {
		return err
	}
	now := time.Now().UTC()
	t.CreatedAt, t.UpdatedAt = now, now
	id, err := tx.InsertID(ctx, `INSERT INTO teams (site_id, client_id, code, name, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		t.SiteID, orgNullID(t.ClientID), t.Code, t.Name, TimeArg(now), TimeArg(now))
	if err != nil {
		return fmt.Errorf("create team: %w", orgConflict(err, "code", "is already used by another team"))
	}
	t.ID = id
	return tx.Audit(ctx, audit.Record{Action: "team.create", ObjectType: "team", ObjectID: orgID(id), ClientID: t.ClientID, After: t})
}

// UpdateTeam validates t and saves its site, client, code and name. When the
// team moves to another site, its people move with it.
func (s *Store) UpdateTeam(ctx context.Context, t *org.Team) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := getTeam(ctx, tx, identity.Scope{All: true}, "t.id = ?", t.ID)
		if err != nil {
			return fmt.Errorf("update team: %w", err)
		}
		if err := tx.checkTeamRefs(ctx, t); err != nil {
			return err
		}
		t.CreatedAt, t.UpdatedAt = before.CreatedAt, time.Now().UTC()
		_, err = tx.Exec(ctx, "UPDATE teams SET site_id = ?, client_id = ?, code = ?, name = ?, updated_at = ? WHERE id = ?",
			t.SiteID, orgNullID(t.ClientID), t.Code, t.Name, TimeArg(t.UpdatedAt), t.ID)
		if err != nil {
			return fmt.Errorf("update team: %w", orgConflict(mapErr(err), "code", "is already used by another team"))
		}
		detail := ""
		if t.SiteID != before.SiteID {
			// The team's people move with it.
			res, err := tx.Exec(ctx, "UPDATE people SET site_id = ?, updated_at = ? WHERE team_id = ?", t.SiteID, TimeArg(t.UpdatedAt), t.ID)
			if err != nil {
				return fmt.Errorf("move team members: %w", err)
			}
			n, _ := res.RowsAffected()
			detail = fmt.Sprintf("moved to site %d with its %d people", t.SiteID, n)
		}
		return tx.Audit(ctx, audit.Record{Action: "team.update", ObjectType: "team", ObjectID: orgID(t.ID), ClientID: t.ClientID, Before: before, After: t, Detail: detail})
	})
}

func orgNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
