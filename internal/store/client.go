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

const clientColumns = "id, code, name, sector, active, created_at, updated_at"

func scanClient(sc interface{ Scan(...any) error }, c *org.Client) error {
	return sc.Scan(&c.ID, &c.Code, &c.Name, &c.Sector, &c.Active, ScanTime(&c.CreatedAt), ScanTime(&c.UpdatedAt))
}

// clientScopeSQL restricts the clients table (alias-free) to the scope.
func clientScopeSQL(scope identity.Scope, col string, args []any) (string, []any) {
	if scope.All {
		return "", args
	}
	if len(scope.ClientIDs) == 0 {
		return " AND 1 = 0", args
	}
	in, args := orgInList(scope.ClientIDs, args)
	return " AND " + col + " IN " + in, args
}

// Clients lists the clients in the filter's scope, by name.
func (s *Store) Clients(ctx context.Context, f org.ClientFilter) ([]org.Client, error) {
	var b strings.Builder
	args := []any{}
	b.WriteString("SELECT " + clientColumns + " FROM clients WHERE 1 = 1")
	var w string
	w, args = clientScopeSQL(f.Scope, "id", args)
	b.WriteString(w)
	if q := strings.TrimSpace(f.Query); q != "" {
		b.WriteString(` AND (name_lower LIKE ? ESCAPE '\' OR code LIKE ? ESCAPE '\')`)
		args = append(args, orgLike(q), orgLike(q))
	}
	if f.Active != nil {
		b.WriteString(" AND active = ?")
		args = append(args, *f.Active)
	}
	limit, offset := f.Clamp()
	b.WriteString(" ORDER BY name_lower, id LIMIT ? OFFSET ?")
	args = append(args, limit, offset)
	rows, err := s.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	defer rows.Close()
	out := []org.Client{}
	for rows.Next() {
		var c org.Client
		if err := scanClient(rows, &c); err != nil {
			return nil, fmt.Errorf("list clients: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	return out, nil
}

// Client returns the client with id if it is in scope, else an error
// wrapping ErrNotFound.
func (s *Store) Client(ctx context.Context, scope identity.Scope, id int64) (*org.Client, error) {
	return getClient(ctx, s, scope, "id = ?", id)
}

// ClientByCode returns the client with code if it is in scope.
func (s *Store) ClientByCode(ctx context.Context, scope identity.Scope, code string) (*org.Client, error) {
	return getClient(ctx, s, scope, "code = ?", org.NormalizeCode(code))
}

func getClient(ctx context.Context, q orgQuerier, scope identity.Scope, where string, key any) (*org.Client, error) {
	args := []any{key}
	w, args := clientScopeSQL(scope, "id", args)
	var c org.Client
	err := scanClient(q.QueryRow(ctx, "SELECT "+clientColumns+" FROM clients WHERE "+where+w, args...), &c)
	if err != nil {
		return nil, fmt.Errorf("client %v: %w", key, mapErr(err))
	}
	return &c, nil
}

// CreateClient validates and inserts c, setting its id and timestamps. A new
// client is always active (deactivate it with UpdateClient).
func (s *Store) CreateClient(ctx context.Context, c *org.Client) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.CreateClient(ctx, c) })
}

// CreateClient is Store.CreateClient inside a transaction.
func (tx *Tx) CreateClient(ctx context.Context, c *org.Client) error {
	if err := c.Validate(); err != nil {
		return err
	}
	now := time.Now().UTC()
	c.CreatedAt, c.UpdatedAt, c.Active = now, now, true
	id, err := tx.InsertID(ctx, `INSERT INTO clients (code, name, name_lower, sector, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.Code, c.Name, org.FoldSearch(c.Name), c.Sector, c.Active, TimeArg(now), TimeArg(now))
	if err != nil {
		return fmt.Errorf("create client: %w", orgConflict(err, "code", "is already used by another client"))
	}
	c.ID = id
	return tx.Audit(ctx, audit.Record{Action: "client.create", ObjectType: "client", ObjectID: orgID(id), ClientID: id, After: c})
}

// UpdateClient validates c and saves its code, name, sector and active flag.
func (s *Store) UpdateClient(ctx context.Context, c *org.Client) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := getClient(ctx, tx, identity.Scope{All: true}, "id = ?", c.ID)
		if err != nil {
			return fmt.Errorf("update client: %w", err)
		}
		c.CreatedAt, c.UpdatedAt = before.CreatedAt, time.Now().UTC()
		_, err = tx.Exec(ctx, "UPDATE clients SET code = ?, name = ?, name_lower = ?, sector = ?, active = ?, updated_at = ? WHERE id = ?",
			c.Code, c.Name, org.FoldSearch(c.Name), c.Sector, c.Active, TimeArg(c.UpdatedAt), c.ID)
		if err != nil {
			return fmt.Errorf("update client: %w", orgConflict(mapErr(err), "code", "is already used by another client"))
		}
		return tx.Audit(ctx, audit.Record{Action: "client.update", ObjectType: "client", ObjectID: orgID(c.ID), ClientID: c.ID, Before: before, After: c})
	})
}
