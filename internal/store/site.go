package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
)

const siteColumns = "id, code, name, city, country, timezone, created_at, updated_at"

func scanSite(sc interface{ Scan(...any) error }, st *org.Site) error {
	return sc.Scan(&st.ID, &st.Code, &st.Name, &st.City, &st.Country, &st.Timezone, ScanTime(&st.CreatedAt), ScanTime(&st.UpdatedAt))
}

// Sites lists sites by name. Sites are operator-wide: the scope does not
// restrict them.
func (s *Store) Sites(ctx context.Context, f org.SiteFilter) ([]org.Site, error) {
	var b strings.Builder
	args := []any{}
	b.WriteString("SELECT " + siteColumns + " FROM sites WHERE 1 = 1")
	// Sites are few: a search (accent-insensitive) filters in Go, then pages.
	limit, offset := f.Clamp()
	q := org.FoldSearch(strings.TrimSpace(f.Query))
	b.WriteString(" ORDER BY name, id")
	if q == "" {
		b.WriteString(" LIMIT ? OFFSET ?")
		args = append(args, limit, offset)
	}
	rows, err := s.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	defer rows.Close()
	out := []org.Site{}
	skipped := 0
	for rows.Next() {
		var st org.Site
		if err := scanSite(rows, &st); err != nil {
			return nil, fmt.Errorf("list sites: %w", err)
		}
		if q != "" {
			if !strings.Contains(org.FoldSearch(st.Code+" "+st.Name+" "+st.City), q) {
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
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	return out, nil
}

// Site returns the site with id (sites are visible whatever the scope).
func (s *Store) Site(ctx context.Context, scope identity.Scope, id int64) (*org.Site, error) {
	return getSite(ctx, s, "id = ?", id)
}

// SiteByCode returns the site with code.
func (s *Store) SiteByCode(ctx context.Context, scope identity.Scope, code string) (*org.Site, error) {
	return getSite(ctx, s, "code = ?", org.NormalizeCode(code))
}

func getSite(ctx context.Context, q orgQuerier, where string, key any) (*org.Site, error) {
	var st org.Site
	if err := scanSite(q.QueryRow(ctx, "SELECT "+siteColumns+" FROM sites WHERE "+where, key), &st); err != nil {
		return nil, fmt.Errorf("site %v: %w", key, mapErr(err))
	}
	return &st, nil
}

// CreateSite validates and inserts st, setting its id and timestamps.
func (s *Store) CreateSite(ctx context.Context, st *org.Site) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.CreateSite(ctx, st) })
}

// CreateSite is Store.CreateSite inside a transaction.
func (tx *Tx) CreateSite(ctx context.Context, st *org.Site) error {
	if err := st.Validate(); err != nil {
		return err
	}
	now := time.Now().UTC()
	st.CreatedAt, st.UpdatedAt = now, now
	id, err := tx.InsertID(ctx, `INSERT INTO sites (code, name, city, country, timezone, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		st.Code, st.Name, st.City, st.Country, st.Timezone, TimeArg(now), TimeArg(now))
	if err != nil {
		return fmt.Errorf("create site: %w", orgConflict(err, "code", "is already used by another site"))
	}
	st.ID = id
	return tx.Audit(ctx, audit.Record{Action: "site.create", ObjectType: "site", ObjectID: orgID(id), After: st})
}

// UpdateSite validates st and saves its fields.
func (s *Store) UpdateSite(ctx context.Context, st *org.Site) error {
	if err := st.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := getSite(ctx, tx, "id = ?", st.ID)
		if err != nil {
			return fmt.Errorf("update site: %w", err)
		}
		st.CreatedAt, st.UpdatedAt = before.CreatedAt, time.Now().UTC()
		_, err = tx.Exec(ctx, "UPDATE sites SET code = ?, name = ?, city = ?, country = ?, timezone = ?, updated_at = ? WHERE id = ?",
			st.Code, st.Name, st.City, st.Country, st.Timezone, TimeArg(st.UpdatedAt), st.ID)
		if err != nil {
			return fmt.Errorf("update site: %w", orgConflict(mapErr(err), "code", "is already used by another site"))
		}
		return tx.Audit(ctx, audit.Record{Action: "site.update", ObjectType: "site", ObjectID: orgID(st.ID), Before: before, After: st})
	})
}
