package discovery

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// resumeTree writes a folder whose walk order differs from plain string
// order (a/… before a.txt, a-b/…), with findings, clean files, a binary, a
// file over the size limit and a symbolic link, and returns it.
func resumeTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	mod := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	n := 0
	file := func(rel, content string) {
		n++
		write(t, filepath.Join(root, filepath.FromSlash(rel)), content, mod.Add(time.Duration(n)*time.Minute))
	}
	file("a.txt", "tarjeta "+pan+"\n")
	file("a/x.txt", "correo ana@example.com\n")
	file("a/y/z.csv", "name,cvv,email\nAna García,123,ana@example.com\n")
	file("a-b/c.txt", "nada que ver\n")
	file("a-b/d.txt", "pedido 12345\n")
	file("b.bin", "\x00\x01\x02 "+pan)
	file("big.txt", strings.Repeat("x", 5000)+pan)
	for i := range 12 {
		content := fmt.Sprintf("nota %d sin datos\n", i)
		if i%3 == 0 {
			content = fmt.Sprintf("nota %d: %s y luis%d@example.org\n", i, pan, i)
		}
		file(fmt.Sprintf("c/%02d.txt", i), content)
	}
	file("d/e/f/g.txt", "correo eva@example.com\n")
	file("z.txt", pan+"\n")
	if err := os.Symlink(filepath.Join(root, "a.txt"), filepath.Join(root, "c", "link.txt")); err != nil {
		t.Fatal(err)
	}
	return root
}

type resumeFixture struct {
	st  *store.Store
	s   *Service
	loc store.DPLocation
}

func newResumeFixture(t *testing.T, st *store.Store, root string) *resumeFixture {
	t.Helper()
	ctx := context.Background()
	cfg := config.DataProtectionConfig{Interval: time.Hour, Tick: time.Hour, MaxFileBytes: 4096, MaxFiles: 1000, APIMaxBytes: 1 << 20, APIMaxItems: 10,
		Locations: config.DataProtectionLocations{{Path: root, Name: "Share"}}}
	s := newService(t, st, cfg)
	s.checkpointFiles = 3
	if err := s.SyncConfig(ctx); err != nil {
		t.Fatal(err)
	}
	locs, err := st.DPLocations(ctx, allScope)
	if err != nil || len(locs) != 1 {
		t.Fatalf("locations = %+v, %v", locs, err)
	}
	return &resumeFixture{st: st, s: s, loc: locs[0]}
}

// totals is what must not depend on interruptions.
type totals struct {
	Scanned, Skipped, Bytes, WithFindings, Errors, Visited int64
	Counts                                                 store.DPCounts
	Newest                                                 time.Time
	Files                                                  []string // path: counts
}

func (f *resumeFixture) totals(t *testing.T, run *store.DPRun) totals {
	t.Helper()
	got, err := f.st.DPRun(context.Background(), allScope, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	tt := totals{Scanned: got.FilesScanned, Skipped: got.FilesSkipped, Bytes: got.Bytes, WithFindings: got.FilesWithFindings,
		Errors: got.FileErrors, Visited: got.FilesVisited, Counts: got.Counts}
	if got.NewestFindingAt != nil {
		tt.Newest = *got.NewestFindingAt
	}
	files, err := f.st.DPRunFiles(context.Background(), allScope, run.ID, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fl := range files {
		tt.Files = append(tt.Files, fmt.Sprintf("%s: %v %s", fl.Path, fl.Counts, fl.Error))
	}
	sort.Strings(tt.Files)
	return tt
}

// scanCut scans the location and cancels the scan's context once it has
// counted k entries; it returns the interrupted run.
func (f *resumeFixture) scanCut(t *testing.T, k int) *store.DPRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	f.s.afterEntry = func(string) {
		if n++; n == k {
			cancel()
		}
	}
	defer func() { f.s.afterEntry = nil }()
	run, err := f.s.ScanLocation(ctx, f.loc)
	if err != nil {
		t.Fatalf("scan cut after %d entries: %v", k, err)
	}
	if run.Status != store.DPRunInterrupted {
		t.Fatalf("scan cut after %d entries: status %s, want interrupted", k, run.Status)
	}
	return run
}

func (f *resumeFixture) scan(t *testing.T) *store.DPRun {
	t.Helper()
	run, err := f.s.ScanLocation(context.Background(), f.loc)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != store.DPRunComplete {
		t.Fatalf("scan: status %s, want complete", run.Status)
	}
	return run
}

func TestScanResumesAfterInterruption(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newResumeFixture(t, st, resumeTree(t))
		whole := f.scan(t)
		want := f.totals(t, whole)
		// 19 text files scanned; the binary, the big file and the link skipped.
		if want.Scanned != 19 || want.Skipped != 3 || want.WithFindings < 8 || want.Counts["CREDIT_CARD"] != 6 {
			t.Fatalf("uninterrupted scan = %+v", want)
		}
		entries := int(want.Scanned + want.Skipped)
		alertsBefore, err := st.Alerts(ctx, allScope, alert.Filter{Source: AlertSource})
		if err != nil {
			t.Fatal(err)
		}

		for _, k := range []int{1, 2, 3, 4, 7, 11, entries - 1} {
			cut := f.scanCut(t, k)
			if cut.ID == whole.ID || cut.Checkpoint == "" {
				t.Fatalf("cut after %d: run %d checkpoint %q", k, cut.ID, cut.Checkpoint)
			}
			if got := cut.FilesScanned + cut.FilesSkipped; got != int64(k) {
				t.Errorf("cut after %d: %d entries recorded", k, got)
			}
			resumed := f.scan(t)
			if resumed.ID != cut.ID || resumed.Resumes != 1 {
				t.Errorf("cut after %d: resumed run %d (resumes %d), want run %d resumed once", k, resumed.ID, resumed.Resumes, cut.ID)
			}
			if got := f.totals(t, resumed); !reflect.DeepEqual(got, want) {
				t.Errorf("cut after %d then resumed:\n got %+v\nwant %+v", k, got, want)
			}
		}
		// Alerts deduplicate: the same files, not new alerts.
		alertsAfter, err := st.Alerts(ctx, allScope, alert.Filter{Source: AlertSource})
		if err != nil {
			t.Fatal(err)
		}
		if len(alertsAfter) != len(alertsBefore) || len(alertsAfter) == 0 {
			t.Errorf("alerts: %d before, %d after", len(alertsBefore), len(alertsAfter))
		}

		// Cut twice, then resumed: still the same totals.
		first := f.scanCut(t, 5)
		second := f.scanCut(t, 6)
		if second.ID != first.ID || second.Resumes != 1 {
			t.Fatalf("second cut: run %d resumes %d, want run %d", second.ID, second.Resumes, first.ID)
		}
		end := f.scan(t)
		if got := f.totals(t, end); end.ID != first.ID || end.Resumes != 2 || !reflect.DeepEqual(got, want) {
			t.Errorf("cut twice then resumed (run %d, resumes %d):\n got %+v\nwant %+v", end.ID, end.Resumes, got, want)
		}

		entriesAudit, err := st.AuditEntries(ctx, audit.Filter{AllClients: true, Action: "dataprotection.scan", Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		resumedAudit := 0
		for _, e := range entriesAudit {
			if strings.Contains(e.Detail, "resumed 2 times") {
				resumedAudit++
			}
		}
		if resumedAudit != 1 {
			t.Errorf("%d scan audit entries say \"resumed 2 times\", want 1", resumedAudit)
		}
	})
}

// TestScanResumesAfterCrash stops a scan the way a crash does (nothing is
// written after the last checkpoint) and checks that the next start marks
// the run interrupted and the next scan finishes it with the right totals.
func TestScanResumesAfterCrash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newResumeFixture(t, st, resumeTree(t))
		want := f.totals(t, f.scan(t))

		type crash struct{}
		n := 0
		f.s.afterEntry = func(string) {
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
			_, _ = f.s.ScanLocation(ctx, f.loc)
		}()
		f.s.afterEntry = nil

		runs, err := st.DPRuns(ctx, allScope, f.loc.ID, 1, 0)
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs = %+v, %v", runs, err)
		}
		crashed := runs[0]
		// Checkpoints every 3 entries: 6 were committed, the 7th and 8th were not.
		if crashed.Status != store.DPRunRunning || crashed.FilesScanned+crashed.FilesSkipped != 6 {
			t.Fatalf("after the crash: %+v", crashed)
		}
		if _, err := f.s.ScanLocation(ctx, f.loc); err != nil {
			t.Fatal(err)
		}
		if latest, _ := st.DPRuns(ctx, allScope, f.loc.ID, 1, 0); latest[0].ID == crashed.ID {
			t.Fatal("a run left running was resumed before it was marked interrupted")
		}

		// Again, and this time the server starts before the next scan.
		n = 0
		f.s.afterEntry = func(string) {
			if n++; n == 8 {
				panic(crash{})
			}
		}
		func() {
			defer func() { _ = recover() }()
			_, _ = f.s.ScanLocation(ctx, f.loc)
		}()
		f.s.afterEntry = nil
		runs, _ = st.DPRuns(ctx, allScope, f.loc.ID, 1, 0)
		crashed = runs[0]
		// Both crashed runs are marked; the newest resumes.
		if marked, err := f.s.MarkInterrupted(ctx); err != nil || marked != 2 {
			t.Fatalf("MarkInterrupted = %d, %v; want 2", marked, err)
		}
		resumed := f.scan(t)
		if resumed.ID != crashed.ID || resumed.Resumes != 1 {
			t.Fatalf("resumed run %d (resumes %d), want %d", resumed.ID, resumed.Resumes, crashed.ID)
		}
		if got := f.totals(t, resumed); !reflect.DeepEqual(got, want) {
			t.Errorf("crashed then resumed:\n got %+v\nwant %+v", got, want)
		}
	})
}

// TestScanResumeSemantics: a file changed after the interruption counts as
// it was when scanned if it lies before the checkpoint, and as it is now if
// after; a run older than the location's interval is not resumed; nor is
// one of a location whose folder changed.
func TestScanResumeSemantics(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	root := resumeTree(t)
	f := newResumeFixture(t, st, root)
	want := f.totals(t, f.scan(t))

	cut := f.scanCut(t, 3) // a/x.txt, a/y/z.csv, a-b/c.txt (walk order)
	if cut.Checkpoint != "a-b/c.txt" {
		t.Fatalf("checkpoint = %q, want a-b/c.txt", cut.Checkpoint)
	}
	later := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	write(t, filepath.Join(root, "a", "x.txt"), "correo ana@example.com, tarjeta "+pan+"\n", later) // before: not rescanned
	write(t, filepath.Join(root, "a-b", "d.txt"), "tarjeta "+pan+"\n", later)                       // after: scanned as it is now
	resumed := f.scan(t)
	got := f.totals(t, resumed)
	if got.Counts["CREDIT_CARD"] != want.Counts["CREDIT_CARD"]+1 || got.WithFindings != want.WithFindings+1 || !got.Newest.Equal(later) {
		t.Errorf("after changes: %+v; want one more card (a-b/d.txt only)", got)
	}

	// An interrupted run older than one interval starts over.
	cut = f.scanCut(t, 4)
	f.s.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	fresh := f.scan(t)
	f.s.now = time.Now
	if fresh.ID == cut.ID || fresh.Resumes != 0 {
		t.Errorf("stale interrupted run resumed: run %d resumes %d (cut %d)", fresh.ID, fresh.Resumes, cut.ID)
	}

	// A location whose folder changed starts over.
	cut = f.scanCut(t, 4)
	other := t.TempDir()
	write(t, filepath.Join(other, "only.txt"), pan+"\n", later)
	loc := f.loc
	loc.Path = other
	run, err := f.s.ScanLocation(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	if run.ID == cut.ID || run.FilesScanned != 1 {
		t.Errorf("scan of another folder: run %d (cut %d) scanned %d", run.ID, cut.ID, run.FilesScanned)
	}
}

// TestWalkOrder checks walkCompare against the order fs.WalkDir visits a
// tree in, and that a walk resumed after any entry visits exactly the
// entries after it.
func TestWalkOrder(t *testing.T) {
	root := resumeTree(t)
	var order []string
	if err := fs.WalkDir(os.DirFS(root), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." {
			order = append(order, p)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range order {
		for j := range order {
			got := walkCompare(order[i], order[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("walkCompare(%q, %q) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	if strings.Compare("a.txt", "a/x.txt") >= 0 || walkCompare("a.txt", "a/x.txt") <= 0 {
		t.Error("the tree does not exercise the difference from string order")
	}

	s := &Service{cfg: config.DataProtectionConfig{}}
	var files []string
	for _, p := range order {
		if info, err := os.Lstat(filepath.Join(root, p)); err == nil && !info.IsDir() {
			files = append(files, p)
		}
	}
	for i, after := range append([]string{""}, files...) {
		var got []string
		add := func(rel string) error { got = append(got, rel); return nil }
		err := s.walk(context.Background(), root, after, func() bool { return false },
			func(rel string, _ fs.FileInfo, _ func() (io.ReadCloser, error)) error { return add(rel) }, add)
		if err != nil {
			t.Fatal(err)
		}
		if want := files[i:]; !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("walk after %q = %v, want %v", after, got, want)
		}
	}
}

// FuzzWalkCompare: walkCompare is an order (antisymmetric, zero only for
// equal paths) that puts a directory before what it holds and agrees with
// string order on names without a slash.
func FuzzWalkCompare(f *testing.F) {
	f.Add("a.txt", "a/x.txt")
	f.Add("a-b/c", "a/b")
	f.Add("d/e/f", "d/e")
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := walkCompare(a, b), walkCompare(b, a)
		if ab != -ba || (ab == 0) != (a == b) {
			t.Fatalf("walkCompare(%q, %q) = %d, reverse %d", a, b, ab, ba)
		}
		if walkCompare(a, a+"/x") != -1 {
			t.Fatalf("%q does not come before %q", a, a+"/x")
		}
		if !strings.Contains(a+b, "/") && ab != strings.Compare(a, b) {
			t.Fatalf("walkCompare(%q, %q) = %d, string order %d", a, b, ab, strings.Compare(a, b))
		}
	})
}
