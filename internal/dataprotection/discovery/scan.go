package discovery

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/dataprotection"
	"github.com/custodia/custodia/internal/store"
)

// maxFileRows caps the files of one run stored with their counts; the
// run's totals still count every file.
const maxFileRows = 10_000

// Alert kinds and source.
const (
	AlertSource         = "dataprotection"
	AlertCardOutsideCDE = "card_outside_cde"
)

// ErrBusy reports a location that is already being scanned, by this
// server or another one sharing the database (it holds the lease).
var ErrBusy = errors.New("this location is being scanned")

// Run is the scheduler: every Tick it scans the locations that are due, one
// after another, until ctx ends. A scan cut short by ctx is recorded as
// interrupted; at every tick, before the scans, the runs left "running" by
// a node that stopped without recording their end (a crash, here or on
// another server sharing the database) are marked interrupted once their
// location's lease has lapsed; either resumes from its checkpoint when its
// location is next scanned, by whichever node claims it first.
func (s *Service) Run(ctx context.Context) {
	if err := s.SyncConfig(ctx); err != nil {
		s.log.ErrorContext(ctx, "data discovery: configured locations", "error", err.Error())
	}
	tick := s.cfg.Tick
	if tick <= 0 {
		tick = time.Minute
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		if _, err := s.MarkInterrupted(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "data discovery: interrupted runs", "error", err.Error())
		}
		s.RunDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// RunDue scans every location that is due now, one after another.
func (s *Service) RunDue(ctx context.Context) {
	due, err := s.st.DPDueLocations(ctx, s.now())
	if err != nil {
		if ctx.Err() == nil {
			s.log.ErrorContext(ctx, "data discovery: due locations", "error", err.Error())
		}
		return
	}
	for _, loc := range due {
		if ctx.Err() != nil {
			return
		}
		if _, err := s.ScanLocation(ctx, loc); err != nil && !errors.Is(err, ErrBusy) && !errors.Is(err, ErrLeaseLost) && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "data discovery: scan", "location_id", loc.ID, "error", err.Error())
		}
	}
}

// Kick wakes the scheduler (after a "scan now").
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// SyncConfig writes the configured locations to the store (matched by
// path); an unknown client code is an error for that location only.
func (s *Service) SyncConfig(ctx context.Context) error {
	var errs []error
	for _, c := range s.cfg.Locations {
		l := store.DPLocation{Name: c.Name, Path: c.Path, CDE: c.CDE, IntervalSeconds: int64(s.interval(c.Every) / time.Second)}
		if c.Client != "" {
			cl, err := s.st.ClientByCode(ctx, allScope, c.Client)
			if err != nil {
				errs = append(errs, fmt.Errorf("location %s: client %q: %w", c.Path, c.Client, err))
				continue
			}
			l.ClientID = cl.ID
		}
		if err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.DPSyncConfigLocation(ctx, &l) }); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Service) interval(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	if s.cfg.Interval > 0 {
		return s.cfg.Interval
	}
	return 24 * time.Hour
}

// fileResult is what the scan of one file found.
type fileResult struct {
	bytes  int64
	counts store.DPCounts
	err    error
	binary bool // not scanned: a NUL byte in its first 8 KB
}

// Checkpoint bounds: a running scan commits its progress (the files found
// since the last checkpoint, their alerts, the totals and the path reached)
// in one transaction every checkpointFiles entries or checkpointPeriod,
// whichever comes first; the same transaction renews the location's lease
// and commits nothing if the lease was lost.
const (
	checkpointFiles  = 500
	checkpointPeriod = 5 * time.Second
)

// MarkInterrupted marks the runs left "running" by a node that stopped
// without recording their end (a crash) as interrupted, so that the next
// scan of their location resumes them. Only runs whose location's lease is
// free or has lapsed are marked: a run whose node still renews its lease is
// left alone. Run calls it at every tick.
func (s *Service) MarkInterrupted(ctx context.Context) (int64, error) {
	var n int64
	now := s.now()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.DPMarkInterrupted(ctx, now)
		return err
	})
	if err == nil && n > 0 {
		s.log.InfoContext(ctx, "data discovery: scans cut short will resume", "runs", n)
	}
	return n, err
}

// ScanLocation scans loc now, or resumes its interrupted run, and records
// the run as it goes: the run is stored when it starts, its files, alerts
// and totals are committed at each checkpoint, and its end (complete,
// interrupted or failed) is recorded with an audit entry.
//
// Only one scan of a location runs at a time, across every server sharing
// the database: the scan first claims the location's lease and is ErrBusy
// if another scan (here or on another node) holds it. It renews the lease
// as it goes and frees it at the end. If it finds the lease lost, it stops
// at once, writes nothing more to the run (which resumes from its last
// checkpoint) and returns ErrLeaseLost.
//
// Resuming: the walk is in a fixed (lexical) order and the run keeps the
// last path whose counts are committed. A scan of the location that finds
// its newest run interrupted, for the same folder and started less than
// one interval ago, continues that run: entries up to the checkpoint are
// passed over (their counts are already in the run, never counted twice,
// even if the file changed since), entries after it are scanned as they
// are now. An older interrupted run is left as it is and a new scan starts.
func (s *Service) ScanLocation(ctx context.Context, loc store.DPLocation) (*store.DPRun, error) {
	if _, busy := s.running.LoadOrStore(loc.ID, struct{}{}); busy {
		return nil, ErrBusy
	}
	defer s.running.Delete(loc.ID)
	sc, err := s.Scanner(ScanOptions{})
	if err != nil {
		return nil, err
	}
	// The run's records are written even when ctx has ended (shutdown),
	// so that the progress is kept.
	wctx := context.WithoutCancel(ctx)
	claimed, err := s.claimLease(wctx, loc.ID)
	if err != nil {
		return nil, err
	}
	if !claimed {
		return nil, ErrBusy
	}
	defer s.releaseLease(wctx, loc.ID)
	// sctx ends with ctx, or when a renewal finds the lease lost.
	sctx, lost := context.WithCancelCause(ctx)
	defer lost(nil)
	stopRenewing := s.keepLease(wctx, loc.ID, lost)
	defer stopRenewing()
	run, err := s.startRun(wctx, &loc)
	if err != nil {
		if errors.Is(err, ErrLeaseLost) {
			return nil, s.leaseLost(wctx, &loc, nil)
		}
		return nil, err
	}
	b := &batch{at: s.now()}
	var walkErr error
	if loc.ManagedBy == store.DPManagedConsole && !s.underAllowedRoot(loc.Path) {
		// The roots changed, or the folder became a link elsewhere, since it was added.
		walkErr = fmt.Errorf("%s is no longer under --dataprotection-allowed-roots", loc.Path)
	} else {
		walkErr = s.scanTree(sctx, wctx, &loc, sc, run, b)
	}
	stopRenewing()
	if errors.Is(walkErr, ErrLeaseLost) || errors.Is(context.Cause(sctx), ErrLeaseLost) {
		return nil, s.leaseLost(wctx, &loc, run)
	}
	run.Status = store.DPRunComplete
	switch {
	case ctx.Err() != nil:
		run.Status = store.DPRunInterrupted
	case walkErr != nil:
		run.Status, run.Error = store.DPRunFailed, walkErr.Error()
	}
	run.FinishedAt = s.now().UTC()
	fctx, cancel := context.WithTimeout(wctx, 30*time.Second)
	defer cancel()
	if err := s.leased(fctx, loc.ID, func(tx *store.Tx) error { return tx.DPFinishRun(fctx, &loc, run, b.files, b.alerts) }); err != nil {
		if errors.Is(err, ErrLeaseLost) {
			return nil, s.leaseLost(wctx, &loc, run)
		}
		return nil, err
	}
	return run, nil
}

// leaseLost ends a scan of loc whose lease this node lost: nothing more is
// written to run, which a scheduler tick marks interrupted (now, if no
// other node holds the lease) and a later scan resumes from its last
// checkpoint. It returns ErrLeaseLost.
func (s *Service) leaseLost(ctx context.Context, loc *store.DPLocation, run *store.DPRun) error {
	var runID int64
	if run != nil {
		runID = run.ID
	}
	s.log.WarnContext(ctx, "data discovery: scan stopped, the location's lease was lost", "location_id", loc.ID, "run_id", runID)
	if _, err := s.MarkInterrupted(ctx); err != nil {
		s.log.ErrorContext(ctx, "data discovery: interrupted runs", "error", err.Error())
	}
	return fmt.Errorf("scan of location %d: %w", loc.ID, ErrLeaseLost)
}

// startRun resumes loc's interrupted run (see ScanLocation) or records a
// new one.
func (s *Service) startRun(ctx context.Context, loc *store.DPLocation) (*store.DPRun, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	now := s.now().UTC()
	prev, err := s.st.DPResumableRun(ctx, loc)
	switch {
	case err == nil && now.Sub(prev.StartedAt) < loc.Interval():
		if err := s.leased(ctx, loc.ID, func(tx *store.Tx) error { return tx.DPResumeRun(ctx, prev) }); err != nil {
			return nil, err
		}
		return prev, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	run := &store.DPRun{StartedAt: now, Counts: store.DPCounts{}, Root: loc.Path}
	if err := s.leased(ctx, loc.ID, func(tx *store.Tx) error { return tx.DPStartRun(ctx, loc, run) }); err != nil {
		return nil, err
	}
	return run, nil
}

// batch is what a running scan found since its last checkpoint.
type batch struct {
	files   []store.DPRunFile
	alerts  []*alert.Alert
	entries int       // entries counted since the checkpoint
	at      time.Time // time of the last checkpoint
}

// counted notes that the entry at rel is in the run's totals; it commits a
// checkpoint when one is due.
func (s *Service) counted(ctx context.Context, loc *store.DPLocation, run *store.DPRun, b *batch, rel string) error {
	run.Checkpoint = rel
	b.entries++
	every, period := s.checkpointFiles, s.checkpointPeriod
	if every <= 0 {
		every = checkpointFiles
	}
	if period <= 0 {
		period = checkpointPeriod
	}
	now := s.now()
	if b.entries >= every || now.Sub(b.at) >= period {
		run.FinishedAt = now.UTC()
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		// Written only while this node holds the lease (else ErrLeaseLost).
		if err := s.leased(cctx, loc.ID, func(tx *store.Tx) error { return tx.DPCheckpointRun(cctx, loc, run, b.files, b.alerts) }); err != nil {
			return err
		}
		*b = batch{at: now}
	}
	if s.afterEntry != nil {
		s.afterEntry(rel)
	}
	return nil
}

// scanTree walks the location from run's checkpoint on and adds what it
// finds to run and b, committing checkpoints with wctx (a context that
// outlives a shutdown) as it goes.
func (s *Service) scanTree(ctx, wctx context.Context, loc *store.DPLocation, sc *dataprotection.Scanner, run *store.DPRun, b *batch) error {
	skip := func(rel string) error {
		run.FilesSkipped++
		return s.counted(wctx, loc, run, b, rel)
	}
	full := func() bool { return s.cfg.MaxFiles > 0 && run.FilesVisited >= int64(s.cfg.MaxFiles) }
	return s.walk(ctx, loc.Path, run.Checkpoint, full, func(rel string, info fs.FileInfo, open func() (io.ReadCloser, error)) error {
		res := s.scanFile(ctx, sc, rel, open)
		if res.err != nil && ctx.Err() != nil {
			return ctx.Err() // cut short: not counted, scanned again on resume
		}
		run.FilesVisited++
		if res.binary {
			return skip(rel)
		}
		run.FilesScanned++
		run.Bytes += res.bytes
		rows := run.FilesWithFindings + run.FileErrors // rows stored so far (until maxFileRows)
		if res.err != nil {
			run.FileErrors++
			if rows < maxFileRows {
				b.files = append(b.files, store.DPRunFile{Path: rel, Bytes: res.bytes, Error: res.err.Error()})
			}
			return s.counted(wctx, loc, run, b, rel)
		}
		if len(res.counts) == 0 {
			return s.counted(wctx, loc, run, b, rel)
		}
		run.FilesWithFindings++
		mod := info.ModTime().UTC().Truncate(time.Second)
		if run.NewestFindingAt == nil || mod.After(*run.NewestFindingAt) {
			m := mod
			run.NewestFindingAt = &m
		}
		for e, n := range res.counts {
			run.Counts[e] += n
		}
		if rows < maxFileRows {
			b.files = append(b.files, store.DPRunFile{Path: rel, Bytes: res.bytes, Findings: res.counts.Total(), Counts: res.counts, ModifiedAt: &mod})
		}
		if a := cardAlert(loc, rel, res.counts); a != nil {
			b.alerts = append(b.alerts, a)
		}
		return s.counted(wctx, loc, run, b, rel)
	}, skip)
}

// cardAlert is the alert for card data in a file of a location that is not
// a declared cardholder-data environment, or nil.
func cardAlert(loc *store.DPLocation, rel string, counts store.DPCounts) *alert.Alert {
	pans, cvvs := counts[string(dataprotection.CreditCard)], counts[string(dataprotection.CardCVV)]
	if loc.CDE || pans+cvvs == 0 {
		return nil
	}
	sev := alert.SeverityHigh
	if cvvs > 0 || pans >= 10 { // PCI DSS forbids keeping a CVV at all
		sev = alert.SeverityCritical
	}
	title := fmt.Sprintf("Card data outside the cardholder-data environment: %s", filepath.Join(loc.Path, rel))
	if len(title) > 300 {
		title = title[:297] + "..."
	}
	detail := map[string]any{"location_id": loc.ID, "location": loc.Name, "path": rel, "counts": map[string]int64(counts)}
	return &alert.Alert{Source: AlertSource, Kind: AlertCardOutsideCDE, Severity: sev, ClientID: loc.ClientID, Title: title,
		Detail: detail, DedupKey: dedupKey(loc.ID, rel), ObjectType: "dp_location", ObjectID: strconv.FormatInt(loc.ID, 10)}
}

func dedupKey(loc int64, rel string) string {
	k := "location:" + strconv.FormatInt(loc, 10) + ":" + rel
	if len(k) > 300 {
		k = k[:300]
	}
	return k
}

// scanFile scans one file as its extension says, streaming (constant
// memory); a binary file is not scanned.
func (s *Service) scanFile(ctx context.Context, sc *dataprotection.Scanner, rel string, open func() (io.ReadCloser, error)) fileResult {
	f, err := open()
	if err != nil {
		return fileResult{err: err}
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(8 << 10)
	if bytes.IndexByte(head, 0) >= 0 {
		return fileResult{binary: true}
	}
	counts := store.DPCounts{}
	fn := func(fd dataprotection.Finding, _ []byte) error {
		counts[string(fd.Entity)]++
		return nil
	}
	format := dataprotection.FormatFromPath(rel)
	var rep *dataprotection.Report
	if format == dataprotection.FormatEML {
		rep, err = sc.ScanEML(ctx, br, fn)
	} else {
		rep, err = sc.ScanStream(ctx, br, format, fn)
	}
	res := fileResult{counts: counts, err: err}
	if rep != nil {
		res.bytes = rep.Bytes
	}
	if len(counts) == 0 {
		res.counts = nil
	}
	return res
}

// walk visits the regular files under root in walk order (lexical, a
// directory's entries right after it) through an os.Root, so that nothing
// outside root is ever opened: symbolic links are not followed (skipped),
// nor are devices, sockets and pipes; files over MaxFileBytes are skipped.
// Entries up to after (a relative path, "" for none) in walk order are
// passed over without a call, whole directories at once. full reports that
// the file cap is reached (the walk ends). An error from visit or skip ends
// the walk with it.
func (s *Service) walk(ctx context.Context, root, after string, full func() bool,
	visit func(rel string, info fs.FileInfo, open func() (io.ReadCloser, error)) error, skip func(rel string) error) error {
	r, err := os.OpenRoot(root)
	if err != nil {
		return fmt.Errorf("open %s: %w", root, err)
	}
	defer r.Close()
	return fs.WalkDir(r.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if p != "." && after != "" && walkCompare(p, after) <= 0 {
			// Already counted. A directory that does not hold the
			// checkpoint was walked whole.
			if d != nil && d.IsDir() && !strings.HasPrefix(after, p+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if err != nil {
			if p == "." {
				return err
			}
			if serr := skip(p); serr != nil {
				return serr
			}
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() { // symlinks, devices, sockets, pipes
			return skip(p)
		}
		info, err := d.Info()
		if err != nil {
			return skip(p)
		}
		if max := s.cfg.MaxFileBytes; max > 0 && info.Size() > max {
			return skip(p)
		}
		if full() {
			return fs.SkipAll
		}
		return visit(p, info, func() (io.ReadCloser, error) { return r.Open(p) })
	})
}

// walkCompare orders two slash-separated relative paths as walk visits
// them: name by name, a directory before the entries it holds. (Plain
// string order differs: "a.txt" < "a/x" but the walk visits a/x first.)
func walkCompare(a, b string) int {
	for {
		ai, bi := strings.IndexByte(a, '/'), strings.IndexByte(b, '/')
		an, bn := a, b
		if ai >= 0 {
			an = a[:ai]
		}
		if bi >= 0 {
			bn = b[:bi]
		}
		if c := strings.Compare(an, bn); c != 0 {
			return c
		}
		switch {
		case ai < 0 && bi < 0:
			return 0
		case ai < 0:
			return -1 // a holds b
		case bi < 0:
			return 1
		}
		a, b = a[ai+1:], b[bi+1:]
	}
}
