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
	"github.com/custodia/custodia/internal/org"
)

// EnsureOperator creates the operator row (the contact center running
// Custodia) named name if there is none yet; an existing operator is left as is.
func (s *Store) EnsureOperator(ctx context.Context, name string) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.EnsureOperator(ctx, name) })
}

// EnsureOperator is Store.EnsureOperator inside a transaction.
func (tx *Tx) EnsureOperator(ctx context.Context, name string) error {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return org.FieldErrors{{Field: "name", Message: "is required (at most 200 characters)"}}
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM operator WHERE id = 1").Scan(&n); err != nil {
		return fmt.Errorf("ensure operator: %w", err)
	}
	if n > 0 {
		return nil
	}
	op := org.Operator{Name: name, CreatedAt: time.Now().UTC()}
	if _, err := tx.Exec(ctx, "INSERT INTO operator (id, name, created_at) VALUES (1, ?, ?)", op.Name, TimeArg(op.CreatedAt)); err != nil {
		return fmt.Errorf("ensure operator: %w", mapErr(err))
	}
	return tx.Audit(ctx, audit.Record{Action: "operator.create", ObjectType: "operator", ObjectID: "1", After: op})
}

// OrganizationEmpty reports whether there is no client, site, team or person
// yet (the demo seed only runs on an empty organization).
func (tx *Tx) OrganizationEmpty(ctx context.Context) (bool, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM clients) + (SELECT COUNT(*) FROM sites)
		+ (SELECT COUNT(*) FROM teams) + (SELECT COUNT(*) FROM people)`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("count organization: %w", err)
	}
	return n == 0, nil
}

// Operator returns the operator; ErrNotFound before EnsureOperator.
func (s *Store) Operator(ctx context.Context) (*org.Operator, error) {
	var op org.Operator
	err := s.QueryRow(ctx, "SELECT name, created_at FROM operator WHERE id = 1").Scan(&op.Name, ScanTime(&op.CreatedAt))
	if err != nil {
		return nil, fmt.Errorf("operator: %w", mapErr(err))
	}
	return &op, nil
}

// RenameOperator changes the operator's name.
func (s *Store) RenameOperator(ctx context.Context, name string) error {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return org.FieldErrors{{Field: "name", Message: "is required (at most 200 characters)"}}
	}
	return s.InTx(ctx, func(tx *Tx) error {
		var before org.Operator
		if err := tx.QueryRow(ctx, "SELECT name, created_at FROM operator WHERE id = 1").Scan(&before.Name, ScanTime(&before.CreatedAt)); err != nil {
			return fmt.Errorf("rename operator: %w", mapErr(err))
		}
		after := before
		after.Name = name
		if _, err := tx.Exec(ctx, "UPDATE operator SET name = ? WHERE id = 1", name); err != nil {
			return fmt.Errorf("rename operator: %w", err)
		}
		return tx.Audit(ctx, audit.Record{Action: "operator.update", ObjectType: "operator", ObjectID: "1", Before: before, After: after})
	})
}

// orgQuerier is what the organization reads need: a *Store (read pool) or a
// *Tx (inside a write transaction).
type orgQuerier interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// orgInList returns "(?, ?, ?)" for n values (n > 0) and appends them to args.
func orgInList(ids []int64, args []any) (string, []any) {
	var b strings.Builder
	b.Grow(3 * len(ids))
	b.WriteByte('(')
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('?')
		args = append(args, id)
	}
	b.WriteByte(')')
	return b.String(), args
}

// orgLike turns a search query into a LIKE pattern for a lower-cased,
// accent-folded column (use with ESCAPE '\').
func orgLike(q string) string {
	q = org.FoldSearch(strings.TrimSpace(q))
	if r := []rune(q); len(r) > org.MaxQueryLen {
		q = string(r[:org.MaxQueryLen])
	}
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(q) + "%"
}

// orgNullID is an optional foreign key: 0 becomes NULL.
func orgNullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// orgDateArg writes a date column ("YYYY-MM-DD" or NULL).
func orgDateArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return org.FormatDate(t)
}

// orgScanDate scans a date column written by orgDateArg.
type orgScanDate struct{ t *time.Time }

func (d orgScanDate) Scan(v any) error {
	var s string
	switch x := v.(type) {
	case nil:
		*d.t = time.Time{}
		return nil
	case string:
		s = x
	case []byte:
		s = string(x)
	case time.Time:
		*d.t = org.Day(x)
		return nil
	default:
		return fmt.Errorf("scan date: unsupported type %T", v)
	}
	t, err := time.Parse(org.DateLayout, s)
	if err != nil {
		return fmt.Errorf("scan date %q: %w", s, err)
	}
	*d.t = t
	return nil
}

// orgConflict turns a unique violation on field into a field error that also
// matches ErrConflict.
func orgConflict(err error, field, msg string) error {
	if errors.Is(err, ErrConflict) {
		return errors.Join(org.FieldErrors{{Field: field, Message: msg}}, ErrConflict)
	}
	return err
}

func orgID(id int64) string { return strconv.FormatInt(id, 10) }

// AnalyzeOrganization refreshes the query planner's statistics of the
// organization tables after a bulk change (demo seed, large import), so the
// people list keeps using its indexes before autovacuum gets to it. On SQLite,
// whose plans here do not depend on statistics, it does nothing.
func (s *Store) AnalyzeOrganization(ctx context.Context) error {
	if s.Dialect() != Postgres {
		return nil
	}
	if _, err := s.Exec(ctx, "ANALYZE clients, sites, teams, people, person_clients"); err != nil {
		return fmt.Errorf("analyze organization: %w", err)
	}
	return nil
}
