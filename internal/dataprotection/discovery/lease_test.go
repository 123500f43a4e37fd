package discovery

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// newNodes starts n Services ("custodia serve" nodes) on one store, sharing
// the master key as servers of one installation do, each configured with
// the folder root, checkpointing every 3 entries and with leases of ttl.
func newNodes(t *testing.T, st *store.Store, root string, n int, ttl time.Duration) []*resumeFixture {
	t.Helper()
	ctx := context.Background()
	keys, err := secret.New(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.DataProtectionConfig{Interval: time.Hour, Tick: 20 * time.Millisecond, MaxFileBytes: 4096, MaxFiles: 1000, APIMaxBytes: 1 << 20,
		APIMaxItems: 10, Locations: config.DataProtectionLocations{{Path: root, Name: "Share"}}}
	var out []*resumeFixture
	for range n {
		s, err := New(ctx, st, keys, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.checkpointFiles, s.leaseDuration = 3, ttl
		if err := s.SyncConfig(ctx); err != nil {
			t.Fatal(err)
		}
		out = append(out, &resumeFixture{st: st, s: s})
	}
	locs, err := st.DPLocations(ctx, allScope)
	if err != nil || len(locs) != 1 {
		t.Fatalf("locations = %+v, %v", locs, err)
	}
	for _, f := range out {
		f.loc = locs[0]
	}
	if out[0].s.nodeID() == out[1%n].s.nodeID() && n > 1 {
		t.Fatal("two nodes share an id")
	}
	return out
}

// reference scans root on a store of its own: the totals and the number of
// alerts one uninterrupted scan gives.
func reference(t *testing.T, root string) (totals, int) {
	t.Helper()
	ref := newResumeFixture(t, storetest.SQLite(t), root)
	want := ref.totals(t, ref.scan(t))
	alerts, err := ref.st.Alerts(context.Background(), allScope, alert.Filter{Source: AlertSource})
	if err != nil {
		t.Fatal(err)
	}
	return want, len(alerts)
}

// runsOf returns the runs of f's location, newest first.
func (f *resumeFixture) runsOf(t *testing.T) []store.DPRun {
	t.Helper()
	runs, err := f.st.DPRuns(context.Background(), allScope, f.loc.ID, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// hold makes f's next scan stop after its k-th entry until the returned
// release is called; held is closed when the scan is there.
func (f *resumeFixture) hold(k int) (held <-chan struct{}, release func()) {
	h, r := make(chan struct{}), make(chan struct{})
	n := 0
	f.s.afterEntry = func(string) {
		if n++; n == k {
			close(h)
			<-r
		}
	}
	var once sync.Once
	return h, func() { once.Do(func() { close(r) }) }
}

// runScheduler runs s's scheduler until the returned stop is called (which
// waits for it to return).
func runScheduler(s *Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// TestLeaseTwoNodes: while node A scans a location, node B's scan of it is
// ErrBusy and B's scheduler (its start and its ticks, for longer than the
// lease lasts) neither marks A's run interrupted nor scans the location;
// A's scan ends with one run, the totals and alerts of a single scan.
func TestLeaseTwoNodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		root := resumeTree(t)
		want, wantAlerts := reference(t, root)
		const ttl = time.Second
		nodes := newNodes(t, st, root, 2, ttl)
		a, b := nodes[0], nodes[1]

		held, release := a.hold(5)
		defer release()
		type result struct {
			run *store.DPRun
			err error
		}
		done := make(chan result, 1)
		go func() {
			run, err := a.s.ScanLocation(ctx, a.loc)
			done <- result{run, err}
		}()
		<-held

		if _, err := b.s.ScanLocation(ctx, b.loc); !errors.Is(err, ErrBusy) {
			t.Fatalf("node B's scan while A scans: err = %v, want ErrBusy", err)
		}
		if n, err := b.s.MarkInterrupted(ctx); err != nil || n != 0 {
			t.Fatalf("node B's MarkInterrupted while A scans = %d, %v; want 0", n, err)
		}
		// B's scheduler starts and ticks for several lease durations while A
		// is held: A's renewals keep the lease.
		stop := runScheduler(b.s)
		time.Sleep(3 * ttl)
		stop()
		runs := a.runsOf(t)
		if len(runs) != 1 || runs[0].Status != store.DPRunRunning {
			t.Fatalf("runs while A is held, after B's scheduler ran: %+v; want A's only, running", runs)
		}
		if l, err := st.DPLease(ctx, a.loc.ID); err != nil || l.Owner != a.s.nodeID() {
			t.Fatalf("lease while A scans = %+v, %v; want A's (%s)", l, err, a.s.nodeID())
		}

		release()
		res := <-done
		if res.err != nil || res.run.Status != store.DPRunComplete {
			t.Fatalf("A's scan = %+v, %v", res.run, res.err)
		}
		runs = a.runsOf(t)
		if len(runs) != 1 || runs[0].ID != res.run.ID || runs[0].Resumes != 0 {
			t.Fatalf("runs = %+v; want A's run only, never resumed", runs)
		}
		if got := a.totals(t, res.run); !reflect.DeepEqual(got, want) {
			t.Errorf("totals:\n got %+v\nwant %+v", got, want)
		}
		alerts, err := st.Alerts(ctx, allScope, alert.Filter{Source: AlertSource})
		if err != nil {
			t.Fatal(err)
		}
		if len(alerts) != wantAlerts || wantAlerts == 0 {
			t.Errorf("%d alerts, want %d", len(alerts), wantAlerts)
		}
		for _, al := range alerts {
			if al.Occurrences != 1 {
				t.Errorf("alert %q raised %d times, want once", al.Title, al.Occurrences)
			}
		}
		if l, _ := st.DPLease(ctx, a.loc.ID); l.Owner != "" {
			t.Errorf("lease after the scan = %+v, want free", l)
		}
	})
}

// TestLeaseOneScanAmongNodes: several nodes scanning one location at the
// same moment: one scans, the others are ErrBusy.
func TestLeaseOneScanAmongNodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		root := resumeTree(t)
		nodes := newNodes(t, st, root, 4, time.Minute)
		release := make(chan struct{})
		for _, n := range nodes {
			first := true
			n.s.afterEntry = func(string) {
				if first {
					first = false
					<-release // the winner waits until the others have tried
				}
			}
		}
		start := make(chan struct{})
		errs := make(chan error, len(nodes))
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Go(func() {
				<-start
				_, err := n.s.ScanLocation(ctx, n.loc)
				errs <- err
			})
		}
		close(start)
		for range len(nodes) - 1 {
			if err := <-errs; !errors.Is(err, ErrBusy) {
				t.Errorf("a losing node's scan: err = %v, want ErrBusy", err)
			}
		}
		close(release)
		wg.Wait()
		if err := <-errs; err != nil {
			t.Errorf("the winning node's scan: %v", err)
		}
		if runs := nodes[0].runsOf(t); len(runs) != 1 || runs[0].Status != store.DPRunComplete {
			t.Errorf("runs = %+v, want one complete", runs)
		}
	})
}

// TestLeaseCrashResumedByAnotherNode: node A dies mid-scan holding the
// lease (it never renews it again); until the lease lapses node B leaves
// the run alone, then B's scheduler marks it interrupted and resumes it
// from its checkpoint, with the totals of an uninterrupted scan.
func TestLeaseCrashResumedByAnotherNode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		root := resumeTree(t)
		want, _ := reference(t, root)
		const ttl = time.Second
		nodes := newNodes(t, st, root, 2, ttl)
		a, b := nodes[0], nodes[1]

		// A crashes after 8 entries (6 committed at checkpoints).
		type crash struct{}
		n := 0
		a.s.afterEntry = func(string) {
			if n++; n == 8 {
				panic(crash{})
			}
		}
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Fatal("the scan did not stop")
				} else if _, ok := r.(crash); !ok {
					panic(r)
				}
			}()
			_, _ = a.s.ScanLocation(ctx, a.loc)
		}()
		// A panic unwinds and frees the lease; a dead process does not: the
		// lease stays with the dead node until it lapses.
		claimedAt := time.Now()
		var ok bool
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			ok, err = tx.DPClaimLease(ctx, a.loc.ID, a.s.nodeID(), claimedAt, claimedAt.Add(ttl))
			return err
		}); err != nil || !ok {
			t.Fatalf("re-create the dead node's lease: %v, %v", ok, err)
		}
		runs := a.runsOf(t)
		if len(runs) != 1 || runs[0].Status != store.DPRunRunning || runs[0].FilesScanned+runs[0].FilesSkipped != 6 {
			t.Fatalf("after the crash: %+v", runs)
		}
		crashed := runs[0]

		if n, err := b.s.MarkInterrupted(ctx); err != nil || n != 0 {
			t.Fatalf("B's MarkInterrupted before the lease lapses = %d, %v; want 0", n, err)
		}
		if _, err := b.s.ScanLocation(ctx, b.loc); !errors.Is(err, ErrBusy) {
			t.Fatalf("B's scan before the lease lapses: err = %v, want ErrBusy", err)
		}

		stop := runScheduler(b.s)
		defer stop()
		deadline := time.Now().Add(20 * time.Second)
		for {
			if runs := b.runsOf(t); runs[0].Status == store.DPRunComplete {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("B did not finish the crashed run: %+v", b.runsOf(t))
			}
			time.Sleep(10 * time.Millisecond)
		}
		stop()
		if waited := time.Since(claimedAt); waited < ttl {
			t.Errorf("resumed %v after the crash, before the lease lapsed (%v)", waited, ttl)
		}
		runs = b.runsOf(t)
		if len(runs) != 1 || runs[0].ID != crashed.ID || runs[0].Resumes != 1 {
			t.Fatalf("runs = %+v; want run %d resumed once", runs, crashed.ID)
		}
		if got := b.totals(t, &runs[0]); !reflect.DeepEqual(got, want) {
			t.Errorf("crashed on A, resumed on B:\n got %+v\nwant %+v", got, want)
		}
		if l, _ := st.DPLease(ctx, b.loc.ID); l.Owner != "" {
			t.Errorf("lease after B's scan = %+v, want free", l)
		}
	})
}

// steal gives location id's lease to another node as if this node had
// stalled past its lease: the thief's clock is ahead by more than ttl.
func steal(t *testing.T, st *store.Store, id int64, ttl time.Duration) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().Add(2 * ttl)
	var ok bool
	err := st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		ok, err = tx.DPClaimLease(ctx, id, "thief", now, now.Add(time.Hour))
		return err
	})
	if err != nil || !ok {
		t.Errorf("steal the lease: %v, %v", ok, err)
	}
}

// TestLeaseLost: a node whose lease was taken over stops its scan, found at
// its next checkpoint or by its renewal ticker during a long file, writes
// nothing more to the run (no checkpoint, no end, no audit entry), and
// leaves the lease with its new holder; the run later resumes from the
// last checkpoint the node did commit.
func TestLeaseLost(t *testing.T) {
	for _, c := range []struct {
		name    string
		ttl     time.Duration
		stall   time.Duration // the scan of the 4th entry takes this long
		entries int           // entries the scan counts in all
	}{
		// Found when the checkpoint after the 6th entry renews the lease.
		{name: "checkpoint", ttl: time.Minute, entries: 5},
		// Found by the ticker while the 4th entry is "scanned": the walk
		// goes no further.
		{name: "ticker", ttl: 400 * time.Millisecond, stall: 2 * time.Second, entries: 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				ctx := context.Background()
				root := resumeTree(t)
				want, _ := reference(t, root)
				f := newNodes(t, st, root, 1, c.ttl)[0]
				audits := func() int {
					t.Helper()
					es, err := st.AuditEntries(ctx, audit.Filter{AllClients: true, Action: "dataprotection.scan", Limit: 100})
					if err != nil {
						t.Fatal(err)
					}
					return len(es)
				}
				var atSteal store.DPRun
				n := 0
				f.s.afterEntry = func(string) {
					if n++; n == 4 {
						runs := f.runsOf(t)
						atSteal = runs[0]
						steal(t, st, f.loc.ID, c.ttl)
						time.Sleep(c.stall)
					}
				}
				run, err := f.s.ScanLocation(ctx, f.loc)
				f.s.afterEntry = nil
				if !errors.Is(err, ErrLeaseLost) || run != nil {
					t.Fatalf("scan after the lease was taken = %+v, %v; want ErrLeaseLost", run, err)
				}
				if n != c.entries {
					t.Errorf("the scan counted %d entries, want %d", n, c.entries)
				}
				runs := f.runsOf(t)
				if len(runs) != 1 {
					t.Fatalf("runs = %+v", runs)
				}
				got := runs[0]
				if atSteal.FilesScanned+atSteal.FilesSkipped != 3 || got.Checkpoint != atSteal.Checkpoint ||
					got.FilesScanned != atSteal.FilesScanned || got.FilesSkipped != atSteal.FilesSkipped || !reflect.DeepEqual(got.Counts, atSteal.Counts) {
					t.Errorf("run after losing the lease = %+v, want as committed before (%+v)", got, atSteal)
				}
				// Taking the lapsed lease over marked the run interrupted, for
				// the new holder to resume; the node did not record an end.
				if got.Status != store.DPRunInterrupted || !got.FinishedAt.Equal(atSteal.FinishedAt) {
					t.Errorf("run = %s finished at %v, want interrupted by the takeover, last written at %v", got.Status, got.FinishedAt, atSteal.FinishedAt)
				}
				if l, _ := st.DPLease(ctx, f.loc.ID); l.Owner != "thief" {
					t.Errorf("lease = %+v, want the thief's", l)
				}
				if a := audits(); a != 0 {
					t.Errorf("%d scan audit entries, want none", a)
				}

				if _, err := f.s.ScanLocation(ctx, f.loc); !errors.Is(err, ErrBusy) {
					t.Fatalf("scan while the thief holds the lease: err = %v, want ErrBusy", err)
				}
				// The thief gives the lease up without scanning; the node
				// resumes the run from its last checkpoint.
				if err := st.InTx(ctx, func(tx *store.Tx) error { _, err := tx.DPReleaseLease(ctx, f.loc.ID, "thief"); return err }); err != nil {
					t.Fatal(err)
				}
				resumed := f.scan(t)
				if resumed.ID != got.ID || resumed.Resumes != 1 {
					t.Errorf("resumed run %d (resumes %d), want %d", resumed.ID, resumed.Resumes, got.ID)
				}
				if tt := f.totals(t, resumed); !reflect.DeepEqual(tt, want) {
					t.Errorf("lost then resumed:\n got %+v\nwant %+v", tt, want)
				}
			})
		})
	}
}
