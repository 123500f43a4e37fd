package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
)

// RewrapAll re-wraps every sealed value in the database from the keys of
// from to the current key of to, in one transaction, and returns how many
// values it re-wrapped.
func RewrapAll(ctx context.Context, st *store.Store, from, to *secret.Keyring) (int, error) {
	var n int
	err := st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.RewrapSealed(ctx, to.KeyID(), func(v []byte) ([]byte, error) { return to.Rewrap(v, from) })
		return err
	})
	return n, err
}

// RotateMasterKey rotates the master key file of dataDir: a new key is
// written to master.key.new, every sealed value is re-wrapped with it in one
// transaction, and only then does the new key replace master.key (the old
// one is kept as master.key.old-<timestamp>). If the re-wrap fails nothing
// changed and the pending key is removed; if the process dies after the
// commit, the next start loads both keys and the next rotate-key finishes.
func RotateMasterKey(ctx context.Context, st *store.Store, dataDir string, now time.Time) (newKeys *secret.Keyring, oldKeyFile string, rewrapped int, err error) {
	rot, err := secret.BeginRotation(dataDir)
	if err != nil {
		return nil, "", 0, err
	}
	n, err := RewrapAll(ctx, st, rot.Old, rot.New)
	if err != nil {
		_ = rot.Abort()
		return nil, "", 0, fmt.Errorf("re-wrap sealed values (nothing changed): %w", err)
	}
	oldPath, err := rot.Commit(now)
	if err != nil {
		return nil, "", n, fmt.Errorf("the values were re-wrapped but the new key file was not installed; run rotate-key again: %w", err)
	}
	return rot.New, oldPath, n, nil
}
