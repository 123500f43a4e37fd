package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
)

const apiTokenColumns = "id, name, prefix, role, all_clients, COALESCE(created_by, 0), created_at, expires_at, last_used_at, revoked_at"

func scanAPIToken(r rowScanner, t *identity.APIToken) error {
	var role string
	err := r.Scan(&t.ID, &t.Name, &t.Prefix, &role, &t.AllClients, &t.CreatedBy, ScanTime(&t.CreatedAt),
		ScanTime(&t.ExpiresAt), ScanTime(&t.LastUsedAt), ScanTime(&t.RevokedAt))
	t.Role = identity.Role(role)
	return err
}

// CreateAPIToken stores t with the hex SHA-256 of the token (never the token)
// and audits "token.create". Unknown clients are a field error.
func (tx *Tx) CreateAPIToken(ctx context.Context, t *identity.APIToken, hash string) error {
	if len(t.ClientIDs) > 0 {
		in, args := idInList(t.ClientIDs, nil)
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM clients WHERE id IN "+in, args...).Scan(&n); err != nil {
			return fmt.Errorf("check token clients: %w", err)
		}
		if n != len(t.ClientIDs) {
			return identity.FieldErrors{"client_ids": "Unknown client."}
		}
	}
	id, err := tx.InsertID(ctx, `INSERT INTO api_tokens (name, token_hash, prefix, role, all_clients, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.Name, hash, t.Prefix, string(t.Role), t.AllClients, nullID(t.CreatedBy), TimeArg(t.CreatedAt), TimeArg(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create api token %q: %w", t.Name, err)
	}
	t.ID = id
	for _, c := range t.ClientIDs {
		if _, err := tx.Exec(ctx, "INSERT INTO api_token_clients (token_id, client_id) VALUES (?, ?)", id, c); err != nil {
			return fmt.Errorf("api token %d client %d: %w", id, c, MapErr(err))
		}
	}
	return tx.Audit(ctx, audit.Record{Action: "token.create", ObjectType: "api_token", ObjectID: idUserID(id),
		After: t.AuditView(), Detail: fmt.Sprintf("API token %q with role %s", t.Name, t.Role)})
}

// APITokenByHash returns the token with that hash (revoked and expired ones
// included: the caller checks Valid).
func (s *Store) APITokenByHash(ctx context.Context, hash string) (*identity.APIToken, error) {
	var t identity.APIToken
	if err := scanAPIToken(s.QueryRow(ctx, "SELECT "+apiTokenColumns+" FROM api_tokens WHERE token_hash = ?", hash), &t); err != nil {
		return nil, fmt.Errorf("api token: %w", MapErr(err))
	}
	var err error
	if t.ClientIDs, err = idList(ctx, s, "SELECT client_id FROM api_token_clients WHERE token_id = ? ORDER BY client_id", t.ID); err != nil {
		return nil, fmt.Errorf("api token %d clients: %w", t.ID, err)
	}
	return &t, nil
}

// APIToken returns token id.
func (tx *Tx) APIToken(ctx context.Context, id int64) (*identity.APIToken, error) {
	var t identity.APIToken
	if err := scanAPIToken(tx.QueryRow(ctx, "SELECT "+apiTokenColumns+" FROM api_tokens WHERE id = ?", id), &t); err != nil {
		return nil, fmt.Errorf("api token %d: %w", id, MapErr(err))
	}
	var err error
	if t.ClientIDs, err = idList(ctx, tx, "SELECT client_id FROM api_token_clients WHERE token_id = ? ORDER BY client_id", t.ID); err != nil {
		return nil, fmt.Errorf("api token %d clients: %w", t.ID, err)
	}
	return &t, nil
}

// APITokens lists tokens matching f, newest first.
func (s *Store) APITokens(ctx context.Context, f identity.APITokenFilter) ([]identity.APIToken, error) {
	var where []string
	var args []any
	if f.CreatedBy != 0 {
		where = append(where, "created_by = ?")
		args = append(args, f.CreatedBy)
	}
	if !f.IncludeRevoked {
		where = append(where, "revoked_at IS NULL")
	}
	q := "SELECT " + apiTokenColumns + " FROM api_tokens"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.Query(ctx, q+" ORDER BY id DESC", args...)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	var out []identity.APIToken
	for rows.Next() {
		var t identity.APIToken
		if err := scanAPIToken(rows, &t); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list api tokens: %w", err)
		}
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	for i := range out {
		if out[i].ClientIDs, err = idList(ctx, s, "SELECT client_id FROM api_token_clients WHERE token_id = ? ORDER BY client_id", out[i].ID); err != nil {
			return nil, fmt.Errorf("api token %d clients: %w", out[i].ID, err)
		}
	}
	return out, nil
}

// RevokeAPIToken revokes token id and audits "token.revoke". Revoking a
// revoked token is ErrNotFound.
func (tx *Tx) RevokeAPIToken(ctx context.Context, id int64, now time.Time) error {
	res, err := tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", TimeArg(now), id)
	if err != nil {
		return fmt.Errorf("revoke api token %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("api token %d: %w", id, ErrNotFound)
	}
	return tx.Audit(ctx, audit.Record{Action: "token.revoke", ObjectType: "api_token", ObjectID: idUserID(id)})
}

// UseAPIToken records a use of the token: sets last_used_at and audits
// "token.use". The identity service calls it at most once a minute per token.
func (tx *Tx) UseAPIToken(ctx context.Context, t *identity.APIToken, now time.Time, detail string) error {
	if _, err := tx.Exec(ctx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", TimeArg(now), t.ID); err != nil {
		return fmt.Errorf("record use of api token %d: %w", t.ID, err)
	}
	return tx.Audit(ctx, audit.Record{Action: "token.use", ObjectType: "api_token", ObjectID: idUserID(t.ID), Detail: detail})
}
