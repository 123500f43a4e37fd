package store

import (
	"context"
	"fmt"
	"time"

	"github.com/custodia/custodia/internal/audit"
)

// PutSecret stores a sealed named secret (SMTP password, OIDC client secret
// …) and audits "secret.set" with the name only.
func (tx *Tx) PutSecret(ctx context.Context, name string, sealed []byte, keyID string, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO secrets (name, ciphertext, key_id, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET ciphertext = excluded.ciphertext, key_id = excluded.key_id, updated_at = excluded.updated_at`,
		name, sealed, keyID, TimeArg(now))
	if err != nil {
		return fmt.Errorf("store secret %q: %w", name, err)
	}
	return tx.Audit(ctx, audit.Record{Action: "secret.set", ObjectType: "secret", ObjectID: name})
}

// Secret returns the sealed secret with that name.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	var b []byte
	if err := s.QueryRow(ctx, "SELECT ciphertext FROM secrets WHERE name = ?", name).Scan(&b); err != nil {
		return nil, fmt.Errorf("secret %q: %w", name, MapErr(err))
	}
	return b, nil
}

// DeleteSecret removes a named secret and audits "secret.delete".
func (tx *Tx) DeleteSecret(ctx context.Context, name string) error {
	res, err := tx.Exec(ctx, "DELETE FROM secrets WHERE name = ?", name)
	if err != nil {
		return fmt.Errorf("delete secret %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("secret %q: %w", name, ErrNotFound)
	}
	return tx.Audit(ctx, audit.Record{Action: "secret.delete", ObjectType: "secret", ObjectID: name})
}

// RewrapSealed passes every sealed value in the database (users' TOTP seeds,
// the secrets table and the modules' sealed columns) through rewrap and writes the result back, in the
// caller's transaction; it audits one "secret.rewrap" entry naming the new
// key id and the count. Other packages that store sealed values add their
// tables here.
func (tx *Tx) RewrapSealed(ctx context.Context, newKeyID string, rewrap func([]byte) ([]byte, error)) (int, error) {
	type item struct {
		table, idCol, col string
		id                any
		val               []byte
	}
	var items []item
	collect := func(table, idCol, col string, scanID func() any) error {
		rows, err := tx.Query(ctx, "SELECT "+idCol+", "+col+" FROM "+table+" WHERE "+col+" IS NOT NULL")
		if err != nil {
			return fmt.Errorf("read sealed values of %s: %w", table, err)
		}
		defer rows.Close()
		for rows.Next() {
			it := item{table: table, idCol: idCol, col: col, id: scanID()}
			if err := rows.Scan(it.id, &it.val); err != nil {
				return fmt.Errorf("read sealed values of %s: %w", table, err)
			}
			items = append(items, it)
		}
		return rows.Err()
	}
	if err := collect("users", "id", "totp_secret", func() any { return new(int64) }); err != nil {
		return 0, err
	}
	if err := collect("secrets", "id", "ciphertext", func() any { return new(int64) }); err != nil {
		return 0, err
	}
	// The modules' sealed values: incident files, notification channels'
	// targets and secrets, queued notification events, ISMS evidence files.
	for _, c := range []struct{ table, idCol, col string }{
		{"incident_files", "id", "data"},
		{"notify_channels", "id", "target"},
		{"notify_channels", "id", "secret"},
		{"notify_deliveries", "id", "event"},
		{"isms_evidence_files", "evidence_id", "sealed"},
	} {
		if err := collect(c.table, c.idCol, c.col, func() any { return new(int64) }); err != nil {
			return 0, err
		}
	}
	for _, it := range items {
		nv, err := rewrap(it.val)
		if err != nil {
			return 0, fmt.Errorf("re-wrap %s.%s of row %d: %w", it.table, it.col, *it.id.(*int64), err)
		}
		q := "UPDATE " + it.table + " SET " + it.col + " = ? WHERE " + it.idCol + " = ?"
		args := []any{nv, *it.id.(*int64)}
		switch it.table {
		case "secrets":
			q = "UPDATE secrets SET ciphertext = ?, key_id = ? WHERE id = ?"
			args = []any{nv, newKeyID, *it.id.(*int64)}
		case "isms_evidence_files":
			q = "UPDATE isms_evidence_files SET sealed = ?, key_id = ? WHERE evidence_id = ?"
			args = []any{nv, newKeyID, *it.id.(*int64)}
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return 0, fmt.Errorf("re-wrap %s row %d: %w", it.table, *it.id.(*int64), err)
		}
	}
	return len(items), tx.Audit(ctx, audit.Record{Action: "secret.rewrap", ObjectType: "master_key", ObjectID: newKeyID,
		Detail: fmt.Sprintf("%d sealed values re-wrapped under master key %s", len(items), newKeyID)})
}
