package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/custodia/custodia/internal/audit"
)

// Audit appends rec to the audit trail inside the transaction, so the entry
// commits or rolls back together with the change it records.
//
// INITIAL VERSION: the audit owner replaces this with the hash-chained,
// checkpointed implementation; the signature is the contract.
func (tx *Tx) Audit(ctx context.Context, rec audit.Record) error {
	rec.Fill(ctx)
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	var seq int64
	var prev string
	err := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").Scan(&seq, &prev)
	if err != nil && mapErr(err) != ErrNotFound {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	digest := func(v any) string {
		if v == nil {
			return ""
		}
		b, _ := json.Marshal(v)
		s := sha256.Sum256(b)
		return hex.EncodeToString(s[:])
	}
	h := sha256.Sum256([]byte(fmt.Sprint(seq+1, prev, rec.Action, rec.ObjectID)))
	var client any
	if rec.ClientID != 0 {
		client = rec.ClientID
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (seq, at, actor, actor_user_id, action, object_type, object_id, client_id, request_id, ip, before_digest, after_digest, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		seq+1, TimeArg(rec.Time), rec.Actor, rec.ActorUserID, rec.Action, rec.ObjectType, rec.ObjectID, client, rec.RequestID, rec.IP,
		digest(rec.Before), digest(rec.After), rec.Detail, prev, hex.EncodeToString(h[:]))
	if err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}
