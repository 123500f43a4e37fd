package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Head is the state of the chain: its last entry and its last checkpoint.
type Head struct {
	Seq  int64  // last entry, 0 when the trail is empty
	Hash string // its hash
	// Sealed is the checkpoint with the highest sequence number (Seq 0 if none).
	Sealed Checkpoint
}

// SealStore is what sealing needs of the store (internal/store.Store has it).
type SealStore interface {
	AuditHead(ctx context.Context) (Head, error)
	// EachAuditEntry calls fn for entries fromSeq..toSeq in sequence order.
	EachAuditEntry(ctx context.Context, fromSeq, toSeq int64, fn func(*Entry) error) error
	// AddAuditCheckpoint stores c; it fails if entry c.Seq does not have hash c.Hash.
	AddAuditCheckpoint(ctx context.Context, c Checkpoint) error
}

// Seal signs a checkpoint at the head of the chain if entries were appended
// since the last one. Before signing it verifies the entries since the last
// checkpoint (hashes and links back to the checkpointed hash), so a chain
// tampered with since then is never sealed. It reports whether it sealed.
func Seal(ctx context.Context, st SealStore, key *SigningKey, now time.Time) (Checkpoint, bool, error) {
	h, err := st.AuditHead(ctx)
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("seal audit trail: %w", err)
	}
	if h.Seq == 0 || h.Seq <= h.Sealed.Seq {
		return h.Sealed, false, nil
	}
	if h.Sealed.Seq > 0 {
		// The chain is checked from the last checkpoint on, so that one must be genuine.
		if err := h.Sealed.CheckSignature(); err != nil {
			return Checkpoint{}, false, fmt.Errorf("refusing to seal: the last checkpoint (entry %d) does not verify: %w", h.Sealed.Seq, err)
		}
	}
	opts := VerifyOptions{FromSeq: h.Sealed.Seq + 1, PrevHash: h.Sealed.Hash}
	v := NewVerifier(opts)
	err = st.EachAuditEntry(ctx, opts.FromSeq, h.Seq, func(e *Entry) error {
		v.Entry(*e)
		return nil
	})
	if err != nil {
		return Checkpoint{}, false, fmt.Errorf("seal audit trail: read entries: %w", err)
	}
	rep := v.Finish()
	if rep.LastSeq != h.Seq && rep.OK() {
		rep.Problems++
		rep.EntryProblem = &Problem{Seq: rep.LastSeq + 1, Kind: KindRemoved, Message: fmt.Sprintf("entries up to %d missing — removed", h.Seq)}
	}
	if err := rep.Err(); err != nil {
		return Checkpoint{}, false, fmt.Errorf("refusing to seal entries %d–%d: %w", opts.FromSeq, h.Seq, err)
	}
	c := key.Sign(h.Seq, h.Hash, now)
	if err := st.AddAuditCheckpoint(ctx, c); err != nil {
		return Checkpoint{}, false, fmt.Errorf("seal audit trail: %w", err)
	}
	return c, true, nil
}

// SealerOptions says how often a Sealer seals.
type SealerOptions struct {
	// Every seals once this many entries are unsealed (default 1000).
	Every int64
	// Interval seals unsealed entries at least this often (default 1 minute).
	Interval time.Duration
	// Poll is how often the head is read (default 1 second).
	Poll time.Duration
}

// Sealer seals the chain in the background for "custodia serve": every
// Interval, or sooner once Every entries are waiting, and once more when it
// stops. Start it with Start(ctx); stop it with Shutdown (cancelling ctx also
// stops it, after the last seal).
type Sealer struct {
	st   SealStore
	key  *SigningKey
	opts SealerOptions
	log  *slog.Logger
	now  func() time.Time

	stopOnce  sync.Once
	startOnce sync.Once
	stop      chan struct{}
	done      chan struct{}
	started   bool
}

// NewSealer returns a Sealer; logger may be nil.
func NewSealer(st SealStore, key *SigningKey, opts SealerOptions, logger *slog.Logger) *Sealer {
	if opts.Every <= 0 {
		opts.Every = 1000
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Poll > opts.Interval {
		opts.Poll = opts.Interval
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sealer{st: st, key: key, opts: opts, log: logger, now: time.Now,
		stop: make(chan struct{}), done: make(chan struct{})}
}

// Start runs the sealer in a goroutine until ctx is cancelled or Shutdown is
// called. Later calls do nothing.
func (s *Sealer) Start(ctx context.Context) {
	s.startOnce.Do(func() {
		s.started = true
		go s.run(ctx)
	})
}

func (s *Sealer) run(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	lastSeal := s.now()
	for {
		select {
		case <-ctx.Done():
			s.final(context.WithoutCancel(ctx))
			return
		case <-s.stop:
			s.final(ctx)
			return
		case <-t.C:
		}
		h, err := s.st.AuditHead(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("audit sealer: read chain head", "err", err)
			}
			continue
		}
		unsealed := h.Seq - h.Sealed.Seq
		if unsealed <= 0 || (unsealed < s.opts.Every && s.now().Sub(lastSeal) < s.opts.Interval) {
			continue
		}
		if s.sealNow(ctx) {
			lastSeal = s.now()
		}
	}
}

func (s *Sealer) final(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s.sealNow(ctx)
}

func (s *Sealer) sealNow(ctx context.Context) bool {
	c, sealed, err := Seal(ctx, s.st, s.key, s.now())
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			s.log.Error("audit sealer: seal failed", "err", err)
		}
		return false
	}
	if sealed {
		s.log.Debug("audit trail sealed", "seq", c.Seq, "key_id", c.KeyID)
	}
	return sealed
}

// Shutdown stops the sealer after a last seal and waits for it, or for ctx
// to end. It returns at once if the sealer was never started.
func (s *Sealer) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stop) })
	started := false
	s.startOnce.Do(func() {}) // no Start after Shutdown
	started = s.started
	if !started {
		return nil
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
