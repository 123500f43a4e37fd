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

// ErrBusy reports a location that is already being scanned.
var ErrBusy = errors.New("this location is being scanned")

// Run is the scheduler: every Tick it scans the locations that are due, one
// after another, until ctx ends. A scan cut short by ctx is recorded as
// interrupted and runs again at the next start.
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
		if _, err := s.ScanLocation(ctx, loc); err != nil && !errors.Is(err, ErrBusy) && ctx.Err() == nil {
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

// ScanLocation scans loc now and records the run, its files and any alert
// in one transaction. Only one scan of a location runs at a time (ErrBusy).
func (s *Service) ScanLocation(ctx context.Context, loc store.DPLocation) (*store.DPRun, error) {
	if _, busy := s.running.LoadOrStore(loc.ID, struct{}{}); busy {
		return nil, ErrBusy
	}
	defer s.running.Delete(loc.ID)
	sc, err := s.Scanner(ScanOptions{})
	if err != nil {
		return nil, err
	}
	run := &store.DPRun{StartedAt: s.now().UTC(), Status: store.DPRunComplete, Counts: store.DPCounts{}}
	var files []store.DPRunFile
	var alerts []*alert.Alert
	var walkErr error
	if loc.ManagedBy == store.DPManagedConsole && !s.underAllowedRoot(loc.Path) {
		// The roots changed, or the folder became a link elsewhere, since it was added.
		walkErr = fmt.Errorf("%s is no longer under --dataprotection-allowed-roots", loc.Path)
	} else {
		walkErr = s.scanTree(ctx, &loc, sc, run, &files, &alerts)
	}
	switch {
	case ctx.Err() != nil:
		run.Status = store.DPRunInterrupted
	case walkErr != nil:
		run.Status, run.Error = store.DPRunFailed, walkErr.Error()
	}
	run.FinishedAt = s.now().UTC()
	// Record even when ctx has ended (shutdown): the partial run is kept.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.st.InTx(wctx, func(tx *store.Tx) error { return tx.DPRecordRun(wctx, &loc, run, files, alerts) }); err != nil {
		return nil, err
	}
	return run, nil
}

// scanTree walks the location and fills in run, files and alerts.
func (s *Service) scanTree(ctx context.Context, loc *store.DPLocation, sc *dataprotection.Scanner, run *store.DPRun,
	filesOut *[]store.DPRunFile, alertsOut *[]*alert.Alert) error {
	files, alerts := *filesOut, *alertsOut
	defer func() { *filesOut, *alertsOut = files, alerts }()
	return s.walk(ctx, loc.Path, func(rel string, info fs.FileInfo, open func() (io.ReadCloser, error)) {
		res := s.scanFile(ctx, sc, rel, open)
		if res.binary {
			run.FilesSkipped++
			return
		}
		run.FilesScanned++
		run.Bytes += res.bytes
		if res.err != nil {
			if ctx.Err() != nil {
				return
			}
			run.FileErrors++
			if len(files) < maxFileRows {
				files = append(files, store.DPRunFile{Path: rel, Bytes: res.bytes, Error: res.err.Error()})
			}
			return
		}
		if len(res.counts) == 0 {
			return
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
		if len(files) < maxFileRows {
			files = append(files, store.DPRunFile{Path: rel, Bytes: res.bytes, Findings: res.counts.Total(), Counts: res.counts, ModifiedAt: &mod})
		}
		if a := cardAlert(loc, rel, res.counts); a != nil {
			alerts = append(alerts, a)
		}
	}, func() { run.FilesSkipped++ })
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

// walk visits the regular files under root in lexical order through an
// os.Root, so that nothing outside root is ever opened: symbolic links are
// not followed (counted as skipped), nor are devices, sockets and pipes;
// files over MaxFileBytes and binary files are skipped (counted); at most
// MaxFiles files are visited.
func (s *Service) walk(ctx context.Context, root string, visit func(rel string, info fs.FileInfo, open func() (io.ReadCloser, error)), skip func()) error {
	r, err := os.OpenRoot(root)
	if err != nil {
		return fmt.Errorf("open %s: %w", root, err)
	}
	defer r.Close()
	visited := 0
	return fs.WalkDir(r.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if p == "." {
				return err
			}
			skip()
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() { // symlinks, devices, sockets, pipes
			skip()
			return nil
		}
		info, err := d.Info()
		if err != nil {
			skip()
			return nil
		}
		if max := s.cfg.MaxFileBytes; max > 0 && info.Size() > max {
			skip()
			return nil
		}
		if max := s.cfg.MaxFiles; max > 0 && visited >= max {
			return fs.SkipAll
		}
		visited++
		visit(p, info, func() (io.ReadCloser, error) { return r.Open(p) })
		return nil
	})
}
