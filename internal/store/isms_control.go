package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance"
)

// ismsScopeSQL restricts an ISMS table aliased a to the scope: rows of the
// scope's clients plus operator-wide rows (client_id NULL), which apply to
// every client.
func ismsScopeSQL(alias string, scope identity.Scope, args []any) (string, []any) {
	if scope.All {
		return "1 = 1", args
	}
	col := alias + "client_id"
	if len(scope.ClientIDs) == 0 {
		return col + " IS NULL", args
	}
	in, args := orgInList(scope.ClientIDs, args)
	return "(" + col + " IS NULL OR " + col + " IN " + in + ")", args
}

// ismsQuerier is what both Store and Tx offer for reads.
type ismsQuerier interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// ISMSTableExists reports whether a table exists (another module's tables
// are read defensively).
func (s *Store) ISMSTableExists(ctx context.Context, name string) (bool, error) {
	return ismsTableExists(ctx, s, s.dialect, name)
}

func ismsTableExists(ctx context.Context, q ismsQuerier, d Dialect, name string) (bool, error) {
	query := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if d == Postgres {
		query = "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = current_schema()"
	}
	var n int
	if err := q.QueryRow(ctx, query, name).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

const ismsControlColumns = `c.id, c.code, c.title, c.description, c.status, c.owner_user_id, COALESCE(u.display_name, u.username, ''),
	c.client_id, c.review_at, c.effectiveness, c.created_at, c.updated_at`

func scanISMSControl(sc interface{ Scan(...any) error }, c *compliance.Control) error {
	var owner, client sql.NullInt64
	var review nullTime
	if err := sc.Scan(&c.ID, &c.Code, &c.Title, &c.Description, &c.Status, &owner, &c.OwnerName, &client, &review, &c.Effectiveness,
		ScanTime(&c.CreatedAt), ScanTime(&c.UpdatedAt)); err != nil {
		return err
	}
	c.OwnerUserID, c.ClientID = owner.Int64, client.Int64
	c.ReviewAt = time.Time{}
	if review.Valid {
		c.ReviewAt = review.Time
	}
	return nil
}

func nullTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return TimeArg(t)
}

// ISMSControlFilter selects controls.
type ISMSControlFilter struct {
	Scope    identity.Scope
	ClientID int64  // only this client's controls (and operator-wide ones)
	Query    string // code or title contains (case-insensitive)
	// Catalog and Requirement: only controls linked to this requirement.
	Catalog, Requirement string
}

// ISMSControls lists the controls in scope with their requirement links
// and evidence counts (stale at now), ordered by code.
func (s *Store) ISMSControls(ctx context.Context, f ISMSControlFilter, now time.Time) ([]compliance.Control, error) {
	where, args := ismsScopeSQL("c.", f.Scope, nil)
	if f.ClientID != 0 {
		where += " AND (c.client_id IS NULL OR c.client_id = ?)"
		args = append(args, f.ClientID)
	}
	if q := strings.ToLower(strings.TrimSpace(f.Query)); q != "" {
		where += " AND (LOWER(c.code) LIKE ? OR LOWER(c.title) LIKE ?)"
		args = append(args, "%"+q+"%", "%"+q+"%")
	}
	if f.Requirement != "" {
		where += " AND EXISTS (SELECT 1 FROM isms_control_requirements l WHERE l.control_id = c.id AND l.catalog_key = ? AND l.ref = ?)"
		args = append(args, f.Catalog, f.Requirement)
	}
	rows, err := s.Query(ctx, "SELECT "+ismsControlColumns+" FROM isms_controls c LEFT JOIN users u ON u.id = c.owner_user_id WHERE "+where+" ORDER BY c.code", args...)
	if err != nil {
		return nil, fmt.Errorf("list controls: %w", err)
	}
	var out []compliance.Control
	idx := map[int64]int{}
	for rows.Next() {
		var c compliance.Control
		if err := scanISMSControl(rows, &c); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list controls: %w", err)
		}
		idx[c.ID] = len(out)
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	links, err := s.ISMSControlLinks(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		if i, ok := idx[l.ControlID]; ok {
			out[i].Requirements = append(out[i].Requirements, l.Ref)
		}
	}
	counts, err := s.ISMSControlEvidenceCounts(ctx, now)
	if err != nil {
		return nil, err
	}
	for i := range out {
		n := counts[out[i].ID]
		out[i].Evidence, out[i].StaleEvidence = n[0], n[1]
		out[i].Health = compliance.ControlHealth(&out[i], now)
	}
	return out, nil
}

// ISMSControlLink is one control ↔ requirement link.
type ISMSControlLink struct {
	ControlID int64
	Ref       catalog.Ref
}

// ISMSControlLinks returns every control ↔ requirement link.
func (s *Store) ISMSControlLinks(ctx context.Context) ([]ISMSControlLink, error) {
	rows, err := s.Query(ctx, "SELECT control_id, catalog_key, ref FROM isms_control_requirements ORDER BY control_id, catalog_key, ref")
	if err != nil {
		return nil, fmt.Errorf("list control links: %w", err)
	}
	defer rows.Close()
	var out []ISMSControlLink
	for rows.Next() {
		var l ISMSControlLink
		if err := rows.Scan(&l.ControlID, &l.Ref.Catalog, &l.Ref.Requirement); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// ISMSControlEvidenceCounts returns, per control, the number of evidence
// items and how many of them are stale at now.
func (s *Store) ISMSControlEvidenceCounts(ctx context.Context, now time.Time) (map[int64][2]int, error) {
	rows, err := s.Query(ctx, `SELECT control_id, COUNT(*), SUM(CASE WHEN expires_at <= ? THEN 1 ELSE 0 END)
		FROM isms_evidence WHERE control_id IS NOT NULL GROUP BY control_id`, TimeArg(now))
	if err != nil {
		return nil, fmt.Errorf("count evidence: %w", err)
	}
	defer rows.Close()
	out := map[int64][2]int{}
	for rows.Next() {
		var id int64
		var n, stale int
		if err := rows.Scan(&id, &n, &stale); err != nil {
			return nil, err
		}
		out[id] = [2]int{n, stale}
	}
	return out, rows.Err()
}

// ISMSControl returns one control in scope (ErrNotFound otherwise).
func (s *Store) ISMSControl(ctx context.Context, scope identity.Scope, id int64, now time.Time) (*compliance.Control, error) {
	return ismsControl(ctx, s, scope, id, now)
}

func ismsControl(ctx context.Context, q ismsQuerier, scope identity.Scope, id int64, now time.Time) (*compliance.Control, error) {
	where, args := ismsScopeSQL("c.", scope, []any{id})
	var c compliance.Control
	err := scanISMSControl(q.QueryRow(ctx, "SELECT "+ismsControlColumns+" FROM isms_controls c LEFT JOIN users u ON u.id = c.owner_user_id WHERE c.id = ? AND "+where, args...), &c)
	if err != nil {
		return nil, fmt.Errorf("control %d: %w", id, mapErr(err))
	}
	rows, err := q.Query(ctx, "SELECT catalog_key, ref FROM isms_control_requirements WHERE control_id = ? ORDER BY catalog_key, ref", id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var r catalog.Ref
		if err := rows.Scan(&r.Catalog, &r.Requirement); err != nil {
			rows.Close()
			return nil, err
		}
		c.Requirements = append(c.Requirements, r)
	}
	rows.Close()
	var stale sql.NullInt64
	if err := q.QueryRow(ctx, "SELECT COUNT(*), SUM(CASE WHEN expires_at <= ? THEN 1 ELSE 0 END) FROM isms_evidence WHERE control_id = ?", TimeArg(now), id).Scan(&c.Evidence, &stale); err != nil {
		return nil, err
	}
	c.StaleEvidence = int(stale.Int64)
	c.Health = compliance.ControlHealth(&c, now)
	return &c, nil
}

// ISMSCreateControl stores a new control and its requirement links (the
// caller has validated them against the loaded frameworks).
func (s *Store) ISMSCreateControl(ctx context.Context, c *compliance.Control) error {
	c.Normalize()
	if err := c.Validate(); err != nil {
		return err
	}
	now := time.Now().UTC()
	return s.InTx(ctx, func(tx *Tx) error {
		id, err := tx.InsertID(ctx, `INSERT INTO isms_controls (code, title, description, status, owner_user_id, client_id, review_at, effectiveness, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.Code, c.Title, c.Description, c.Status, nullID(c.OwnerUserID), nullID(c.ClientID), nullTimeArg(c.ReviewAt), c.Effectiveness, TimeArg(now), TimeArg(now))
		if err != nil {
			return ismsCodeConflict(err)
		}
		c.ID, c.CreatedAt, c.UpdatedAt = id, now, now
		if err := ismsWriteLinks(ctx, tx, id, c.Requirements); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.control.create", ObjectType: "isms_control", ObjectID: strconv.FormatInt(id, 10),
			ClientID: c.ClientID, After: c, Detail: c.Code})
	})
}

func ismsCodeConflict(err error) error {
	if errors.Is(err, ErrConflict) {
		return fmt.Errorf("%w: %w", ErrConflict, fieldConflict{"code", "is already used by another control"})
	}
	return err
}

// fieldConflict names the field of a unique violation.
type fieldConflict struct{ Field, Message string }

func (f fieldConflict) Error() string { return f.Field + ": " + f.Message }

func ismsWriteLinks(ctx context.Context, tx *Tx, id int64, refs []catalog.Ref) error {
	if _, err := tx.Exec(ctx, "DELETE FROM isms_control_requirements WHERE control_id = ?", id); err != nil {
		return err
	}
	for _, r := range refs {
		if _, err := tx.Exec(ctx, "INSERT INTO isms_control_requirements (control_id, catalog_key, ref) VALUES (?, ?, ?)", id, r.Catalog, r.Requirement); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// ISMSUpdateControl changes a control in scope (its client may only move
// within the caller's scope; the caller checks that).
func (s *Store) ISMSUpdateControl(ctx context.Context, scope identity.Scope, c *compliance.Control) error {
	c.Normalize()
	if err := c.Validate(); err != nil {
		return err
	}
	now := time.Now().UTC()
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := ismsControl(ctx, tx, scope, c.ID, now)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE isms_controls SET code = ?, title = ?, description = ?, status = ?, owner_user_id = ?, client_id = ?, review_at = ?,
			effectiveness = ?, updated_at = ? WHERE id = ?`,
			c.Code, c.Title, c.Description, c.Status, nullID(c.OwnerUserID), nullID(c.ClientID), nullTimeArg(c.ReviewAt), c.Effectiveness, TimeArg(now), c.ID)
		if err != nil {
			return ismsCodeConflict(mapErr(err))
		}
		if err := ismsWriteLinks(ctx, tx, c.ID, c.Requirements); err != nil {
			return err
		}
		c.CreatedAt, c.UpdatedAt = before.CreatedAt, now
		return tx.Audit(ctx, audit.Record{Action: "isms.control.update", ObjectType: "isms_control", ObjectID: strconv.FormatInt(c.ID, 10),
			ClientID: c.ClientID, Before: before, After: c, Detail: c.Code})
	})
}

// ISMSControlReferences lists what refers to a control: evidence items and
// risks (the risk module's isms_risk_controls).
func (s *Store) ISMSControlReferences(ctx context.Context, id int64) ([]compliance.Reference, error) {
	return ismsControlReferences(ctx, s, s.dialect, id)
}

func ismsControlReferences(ctx context.Context, q ismsQuerier, d Dialect, id int64) ([]compliance.Reference, error) {
	var refs []compliance.Reference
	rows, err := q.Query(ctx, "SELECT id, title FROM isms_evidence WHERE control_id = ? ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		r := compliance.Reference{Kind: "evidence"}
		if err := rows.Scan(&r.ID, &r.Label); err != nil {
			rows.Close()
			return nil, err
		}
		refs = append(refs, r)
	}
	rows.Close()
	query := "SELECT risk_id, '' FROM isms_risk_controls WHERE control_id = ? ORDER BY risk_id"
	if ok, err := ismsTableExists(ctx, q, d, "isms_risks"); err != nil {
		return nil, err
	} else if ok {
		query = "SELECT rc.risk_id, COALESCE(r.title, '') FROM isms_risk_controls rc LEFT JOIN isms_risks r ON r.id = rc.risk_id WHERE rc.control_id = ? ORDER BY rc.risk_id"
	}
	if ok, err := ismsTableExists(ctx, q, d, "isms_findings"); err != nil {
		return nil, err
	} else if ok {
		frows, err := q.Query(ctx, "SELECT id, title FROM isms_findings WHERE control_id = ? ORDER BY id", id)
		if err != nil {
			return nil, err
		}
		for frows.Next() {
			r := compliance.Reference{Kind: "finding"}
			if err := frows.Scan(&r.ID, &r.Label); err != nil {
				frows.Close()
				return nil, err
			}
			refs = append(refs, r)
		}
		frows.Close()
	}
	rows, err = q.Query(ctx, query, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		r := compliance.Reference{Kind: "risk"}
		if err := rows.Scan(&r.ID, &r.Label); err != nil {
			return nil, err
		}
		if r.Label == "" {
			r.Label = "#" + strconv.FormatInt(r.ID, 10)
		}
		refs = append(refs, r)
	}
	return refs, rows.Err()
}

// ISMSDeleteControl deletes a control in scope; a control that evidence or
// risks refer to is refused with a *compliance.InUseError listing them.
func (s *Store) ISMSDeleteControl(ctx context.Context, scope identity.Scope, id int64) error {
	now := time.Now().UTC()
	return s.InTx(ctx, func(tx *Tx) error {
		c, err := ismsControl(ctx, tx, scope, id, now)
		if err != nil {
			return err
		}
		refs, err := ismsControlReferences(ctx, tx, tx.dialect, id)
		if err != nil {
			return err
		}
		if len(refs) > 0 {
			return &compliance.InUseError{Object: "control " + c.Code, References: refs}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM isms_control_requirements WHERE control_id = ?", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM isms_controls WHERE id = ?", id); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.control.delete", ObjectType: "isms_control", ObjectID: strconv.FormatInt(id, 10),
			ClientID: c.ClientID, Before: c, Detail: c.Code})
	})
}
