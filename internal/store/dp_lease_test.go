package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

func newLeaseLocation(t *testing.T, st *store.Store, path string) *store.DPLocation {
	t.Helper()
	l := &store.DPLocation{Name: path, Path: path, IntervalSeconds: 3600, Enabled: true}
	if err := st.InTx(context.Background(), func(tx *store.Tx) error { return tx.DPCreateLocation(context.Background(), l) }); err != nil {
		t.Fatal(err)
	}
	return l
}

func claim(t *testing.T, st *store.Store, id int64, owner string, now, until time.Time) bool {
	t.Helper()
	var ok bool
	err := st.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		ok, err = tx.DPClaimLease(context.Background(), id, owner, now, until)
		return err
	})
	if err != nil {
		t.Fatalf("DPClaimLease(%d, %q): %v", id, owner, err)
	}
	return ok
}

func renew(t *testing.T, st *store.Store, id int64, owner string, now, until time.Time) bool {
	t.Helper()
	var ok bool
	err := st.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		ok, err = tx.DPRenewLease(context.Background(), id, owner, now, until)
		return err
	})
	if err != nil {
		t.Fatalf("DPRenewLease(%d, %q): %v", id, owner, err)
	}
	return ok
}

func release(t *testing.T, st *store.Store, id int64, owner string) bool {
	t.Helper()
	var ok bool
	err := st.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		ok, err = tx.DPReleaseLease(context.Background(), id, owner)
		return err
	})
	if err != nil {
		t.Fatalf("DPReleaseLease(%d, %q): %v", id, owner, err)
	}
	return ok
}

func lease(t *testing.T, st *store.Store, id int64) store.DPLease {
	t.Helper()
	l, err := st.DPLease(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func markInterrupted(t *testing.T, st *store.Store, now time.Time) int64 {
	t.Helper()
	var n int64
	err := st.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		n, err = tx.DPMarkInterrupted(context.Background(), now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDPLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		loc := newLeaseLocation(t, st, "/srv/lease")
		now := time.Now().UTC().Truncate(time.Second)
		ttl := time.Minute

		if l := lease(t, st, loc.ID); l.Owner != "" || !l.Until.IsZero() || l.Live(now) {
			t.Fatalf("new location's lease = %+v, want free", l)
		}
		if !claim(t, st, loc.ID, "a", now, now.Add(ttl)) {
			t.Fatal("claim of a free lease failed")
		}
		if l := lease(t, st, loc.ID); l.Owner != "a" || !l.Until.Equal(now.Add(ttl)) || !l.Live(now) {
			t.Fatalf("lease = %+v, want a's until %v", l, now.Add(ttl))
		}
		if claim(t, st, loc.ID, "b", now.Add(time.Second), now.Add(ttl)) {
			t.Fatal("b claimed a's live lease")
		}
		if !claim(t, st, loc.ID, "a", now.Add(time.Second), now.Add(time.Second+ttl)) {
			t.Fatal("a could not claim its own lease again")
		}
		if renew(t, st, loc.ID, "b", now, now.Add(2*ttl)) {
			t.Fatal("b renewed a's lease")
		}
		if !renew(t, st, loc.ID, "a", now.Add(30*time.Second), now.Add(30*time.Second+ttl)) {
			t.Fatal("a could not renew its live lease")
		}
		until := now.Add(30*time.Second + ttl)
		if l := lease(t, st, loc.ID); l.Owner != "a" || !l.Until.Equal(until) {
			t.Fatalf("after renewal: %+v, want a's until %v", l, until)
		}
		// Lapsed: a may no longer renew it, b may take it.
		lapsed := until.Add(time.Millisecond)
		if renew(t, st, loc.ID, "a", lapsed, lapsed.Add(ttl)) {
			t.Fatal("a renewed its lapsed lease")
		}
		if !claim(t, st, loc.ID, "b", lapsed, lapsed.Add(ttl)) {
			t.Fatal("b could not claim a lapsed lease")
		}
		if release(t, st, loc.ID, "a") {
			t.Fatal("a released b's lease")
		}
		if l := lease(t, st, loc.ID); l.Owner != "b" {
			t.Fatalf("after a's release: %+v, want b's", l)
		}
		if !release(t, st, loc.ID, "b") {
			t.Fatal("b could not release its lease")
		}
		if l := lease(t, st, loc.ID); l.Owner != "" || !l.Until.IsZero() {
			t.Fatalf("after b's release: %+v, want free", l)
		}
		if renew(t, st, loc.ID, "b", lapsed, lapsed.Add(ttl)) {
			t.Fatal("b renewed a released lease")
		}

		err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.DPClaimLease(ctx, loc.ID+1000, "a", now, now.Add(ttl))
			return err
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("claim of a missing location: %v, want ErrNotFound", err)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error { _, err := tx.DPClaimLease(ctx, loc.ID, "", now, now.Add(ttl)); return err }); err == nil {
			t.Error("a claim without owner was accepted")
		}
		if _, err := st.DPLease(ctx, loc.ID+1000); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DPLease of a missing location: %v, want ErrNotFound", err)
		}
	})
}

// TestDPMarkInterruptedRespectsLease: a running run is marked interrupted
// only when its location's lease is free or lapsed, and a lapsed lease is
// freed so that its former holder cannot renew it.
func TestDPMarkInterruptedRespectsLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		held, free := newLeaseLocation(t, st, "/srv/held"), newLeaseLocation(t, st, "/srv/free")
		now := time.Now().UTC().Truncate(time.Second)
		runs := map[int64]*store.DPRun{}
		for _, l := range []*store.DPLocation{held, free} {
			r := &store.DPRun{StartedAt: now.Add(-time.Minute), Root: l.Path}
			if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DPStartRun(ctx, l, r) }); err != nil {
				t.Fatal(err)
			}
			runs[l.ID] = r
		}
		if !claim(t, st, held.ID, "node-a", now, now.Add(time.Minute)) {
			t.Fatal("claim failed")
		}
		status := func(l *store.DPLocation) string {
			t.Helper()
			r, err := st.DPRun(ctx, identity.Scope{All: true}, runs[l.ID].ID)
			if err != nil {
				t.Fatal(err)
			}
			return r.Status
		}
		if n := markInterrupted(t, st, now.Add(30*time.Second)); n != 1 {
			t.Fatalf("DPMarkInterrupted with one live lease = %d, want 1", n)
		}
		if status(held) != store.DPRunRunning || status(free) != store.DPRunInterrupted {
			t.Fatalf("held run %s, free run %s; want running and interrupted", status(held), status(free))
		}
		if l := lease(t, st, held.ID); l.Owner != "node-a" {
			t.Fatalf("a live lease was touched: %+v", l)
		}
		after := now.Add(time.Minute + time.Second)
		if n := markInterrupted(t, st, after); n != 1 {
			t.Fatalf("DPMarkInterrupted once the lease lapsed = %d, want 1", n)
		}
		if status(held) != store.DPRunInterrupted {
			t.Fatalf("held run after the lapse: %s, want interrupted", status(held))
		}
		if l := lease(t, st, held.ID); l.Owner != "" {
			t.Fatalf("lapsed lease not freed: %+v", l)
		}
		// Even with its old clock, the former holder cannot renew it.
		if renew(t, st, held.ID, "node-a", now, now.Add(time.Minute)) {
			t.Fatal("a freed lease was renewed by its former holder")
		}
		if n := markInterrupted(t, st, after); n != 0 {
			t.Fatalf("DPMarkInterrupted again = %d, want 0", n)
		}
	})
}

// TestDPLeaseConcurrentClaim: of many nodes claiming one location at the
// same moment, exactly one wins, whether the lease is free or lapsed.
func TestDPLeaseConcurrentClaim(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		loc := newLeaseLocation(t, st, "/srv/contended")
		const nodes = 12
		for round := range 6 {
			now := time.Now().UTC()
			if round%2 == 1 {
				// A lapsed lease of a node that crashed.
				if !claim(t, st, loc.ID, "crashed", now.Add(-time.Hour), now.Add(-time.Minute)) {
					t.Fatal("set up a lapsed lease")
				}
			}
			start := make(chan struct{})
			var wg sync.WaitGroup
			won := make([]bool, nodes)
			errs := make([]error, nodes)
			for i := range nodes {
				wg.Go(func() {
					<-start
					errs[i] = st.InTx(ctx, func(tx *store.Tx) error {
						var err error
						won[i], err = tx.DPClaimLease(ctx, loc.ID, fmt.Sprintf("node-%d", i), now, now.Add(time.Minute))
						return err
					})
				})
			}
			close(start)
			wg.Wait()
			winner := -1
			for i := range nodes {
				if errs[i] != nil {
					t.Fatalf("round %d node %d: %v", round, i, errs[i])
				}
				if won[i] {
					if winner >= 0 {
						t.Fatalf("round %d: nodes %d and %d both won", round, winner, i)
					}
					winner = i
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: no node won", round)
			}
			if l := lease(t, st, loc.ID); l.Owner != fmt.Sprintf("node-%d", winner) {
				t.Fatalf("round %d: lease %+v, winner node-%d", round, l, winner)
			}
			if !release(t, st, loc.ID, fmt.Sprintf("node-%d", winner)) {
				t.Fatalf("round %d: release failed", round)
			}
		}
	})
}

// TestDPClaimLeaseTakeover: claiming the lapsed lease of another node marks
// the runs it left running as interrupted (so the claimer resumes them);
// claiming a free lease, or one's own, leaves running runs alone.
func TestDPClaimLeaseTakeover(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		loc := newLeaseLocation(t, st, "/srv/takeover")
		now := time.Now().UTC().Truncate(time.Second)
		run := &store.DPRun{StartedAt: now, Root: loc.Path}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DPStartRun(ctx, loc, run) }); err != nil {
			t.Fatal(err)
		}
		status := func() string {
			t.Helper()
			r, err := st.DPRun(ctx, identity.Scope{All: true}, run.ID)
			if err != nil {
				t.Fatal(err)
			}
			return r.Status
		}
		if !claim(t, st, loc.ID, "a", now, now.Add(time.Minute)) || !claim(t, st, loc.ID, "a", now, now.Add(time.Minute)) {
			t.Fatal("claim failed")
		}
		if s := status(); s != store.DPRunRunning {
			t.Fatalf("after claiming a free lease and re-claiming it: run %s, want running", s)
		}
		if claim(t, st, loc.ID, "b", now.Add(time.Second), now.Add(time.Minute)) || status() != store.DPRunRunning {
			t.Fatalf("b's refused claim: run %s, want running", status())
		}
		later := now.Add(2 * time.Minute)
		if !claim(t, st, loc.ID, "b", later, later.Add(time.Minute)) {
			t.Fatal("b could not take over a lapsed lease")
		}
		if s := status(); s != store.DPRunInterrupted {
			t.Fatalf("after b took a's lapsed lease: run %s, want interrupted", s)
		}
	})
}
