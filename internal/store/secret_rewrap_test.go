package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// TestRewrapModulesSealedColumns checks that a master-key rotation re-wraps
// the modules' sealed columns too, so nothing becomes unreadable.
func TestRewrapModulesSealedColumns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		from, _ := secret.New(secret.Generate())
		to, _ := secret.New(secret.Generate())
		seal := func(v, aad string) []byte {
			b, err := from.Seal([]byte(v), []byte(aad))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		now := store.TimeArg(time.Now())
		_, err := st.Exec(ctx, `INSERT INTO notify_channels (name, kind, target, secret, created_at, updated_at) VALUES (?, 'webhook', ?, ?, ?, ?), (?, 'slack', ?, NULL, ?, ?)`,
			"hook", seal("https://hooks.example/a", "t"), seal("s3cret", "s"), now, now, "slack", seal("https://hooks.slack.example/b", "t"), now, now)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		err = st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			n, err = tx.RewrapSealed(ctx, to.KeyID(), func(v []byte) ([]byte, error) { return to.Rewrap(v, from) })
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("re-wrapped %d values, want 3 (two targets, one secret; the NULL secret skipped)", n)
		}
		rows, err := st.Query(ctx, "SELECT name, target, secret FROM notify_channels ORDER BY name")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		want := map[string][2]string{"hook": {"https://hooks.example/a", "s3cret"}, "slack": {"https://hooks.slack.example/b", ""}}
		for rows.Next() {
			var name string
			var target, sec []byte
			if err := rows.Scan(&name, &target, &sec); err != nil {
				t.Fatal(err)
			}
			if _, err := from.Open(target, []byte("t")); err == nil {
				t.Errorf("%s: the old key still opens the target", name)
			}
			pt, err := to.Open(target, []byte("t"))
			if err != nil || string(pt) != want[name][0] {
				t.Errorf("%s: target after rotation = %q, %v", name, pt, err)
			}
			if sec != nil {
				if ps, err := to.Open(sec, []byte("s")); err != nil || string(ps) != want[name][1] {
					t.Errorf("%s: secret after rotation = %q, %v", name, ps, err)
				}
			}
		}
	})
}
