package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// TestResponseClocksStore checks the clock rows: an upsert keeps the
// sending record, warnings fire once, and scopes hide other clients'
// incidents and per-client clocks.
func TestResponseClocksStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := org.Client{Code: "a", Name: "A"}, org.Client{Code: "b", Name: "B"}
		for _, c := range []*org.Client{&a, &b} {
			if err := st.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		var inc int64
		var clockA, clockB, authority store.ResponseClock
		err := st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			inc, err = tx.InsertID(ctx, `INSERT INTO incidents (ref, title, severity, status, created_at, updated_at) VALUES ('INC-9', 't', 'high', 'new', ?, ?) RETURNING id`,
				store.TimeArg(now), store.TimeArg(now))
			if err != nil {
				return err
			}
			for _, c := range []int64{a.ID, b.ID} {
				if _, err := tx.Exec(ctx, "INSERT INTO incident_clients (incident_id, client_id) VALUES (?, ?)", inc, c); err != nil {
					return err
				}
			}
			authority = store.ResponseClock{IncidentID: inc, Key: "gdpr_art33_authority", Kind: "gdpr_art33_authority", Rule: "GDPR Art. 33(1)", Recipient: "AEPD",
				Start: now, Deadline: now.Add(72 * time.Hour), State: "running", Active: true}
			clockA = store.ResponseClock{IncidentID: inc, Key: "gdpr_art33_2_controller:a", Kind: "gdpr_art33_2_controller", ClientID: a.ID, Recipient: "A",
				Start: now, Deadline: now.Add(24 * time.Hour), State: "running", Active: true}
			clockB = clockA
			clockB.Key, clockB.ClientID, clockB.Recipient = "gdpr_art33_2_controller:b", b.ID, "B"
			for _, c := range []*store.ResponseClock{&authority, &clockA, &clockB} {
				if err := tx.ResponseUpsertClock(ctx, c, now); err != nil {
					return err
				}
			}
			clockA.SentAt, clockA.SentHow, clockA.SentBy, clockA.State = now.Add(time.Hour), "e-mail", "dpo", "met"
			if err := tx.ResponseRecordSending(ctx, &clockA, now); err != nil {
				return err
			}
			// A recomputation moves the deadline but keeps the sending.
			again := clockA
			again.Deadline, again.SentAt = now.Add(12*time.Hour), time.Time{}
			return tx.ResponseUpsertClock(ctx, &again, now)
		})
		if err != nil {
			t.Fatal(err)
		}
		all := identity.Scope{All: true}
		got, err := st.ResponseClock(ctx, all, inc, clockA.ID)
		if err != nil || !got.SentAt.Equal(now.Add(time.Hour)) || got.SentHow != "e-mail" || !got.Deadline.Equal(now.Add(12*time.Hour)) {
			t.Fatalf("clock after upsert = %+v, %v", got, err)
		}
		// Warnings fire once.
		for i, want := range []bool{true, false} {
			var fresh bool
			if err := st.InTx(ctx, func(tx *store.Tx) error {
				var err error
				fresh, err = tx.ResponseMarkWarned(ctx, clockB.ID, "50%")
				return err
			}); err != nil || fresh != want {
				t.Errorf("MarkWarned #%d = %v, %v; want %v", i, fresh, err, want)
			}
		}
		// Scope: client A sees the authority clock and its own.
		scopeA := identity.Scope{ClientIDs: []int64{a.ID}}
		list, err := st.ResponseClocks(ctx, scopeA, inc)
		if err != nil || len(list) != 2 {
			t.Fatalf("scope A clocks = %+v, %v", list, err)
		}
		if _, err := st.ResponseClock(ctx, scopeA, inc, clockB.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("scope A gets client B's clock: %v", err)
		}
		over, _ := st.ResponseClockOverview(ctx, scopeA, store.ResponseClockFilter{})
		if len(over) != 2 {
			t.Errorf("scope A overview = %d clocks, want 2", len(over))
		}
		if over, _ := st.ResponseClockOverview(ctx, identity.Scope{ClientIDs: []int64{}}, store.ResponseClockFilter{}); len(over) != 0 {
			t.Errorf("an empty scope sees %d clocks", len(over))
		}
		stats, _ := st.ResponseClockStats(ctx, all)
		if stats["met"] != 1 || stats["running"] != 2 {
			t.Errorf("stats = %v", stats)
		}
		run, _ := st.ResponseRunningClocks(ctx)
		if len(run) != 2 {
			t.Errorf("running clocks = %d, want 2", len(run))
		}
		// Contract settings are scoped by client.
		if _, err := st.ResponseClientSettingsOf(ctx, scopeA, b.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("scope A reads client B's contract: %v", err)
		}
		if l, _ := st.ResponseClientSettingsList(ctx, scopeA); len(l) != 1 || l[0].ClientID != a.ID {
			t.Errorf("scope A contracts = %+v", l)
		}
	})
}
