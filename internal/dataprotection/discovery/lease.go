package discovery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"sync"
	"time"

	"github.com/custodia/custodia/internal/store"
)

// Several servers may share one database. A location is scanned only by
// the node that holds its lease (store.DPLease): ScanLocation claims it
// before the run starts, renews it every quarter of its duration and in
// every transaction that writes the run's progress, and frees it at the
// end. A node that crashes stops renewing: once the lease lapses, any
// node's scheduler marks the run interrupted and the next scan of the
// location resumes it. A node that finds its lease lost (it stalled longer
// than the lease, so another node may have taken the location over) stops
// the scan and writes nothing more to the run.

// defaultLeaseDuration is how long a location's lease lasts unless renewed.
const defaultLeaseDuration = 60 * time.Second

// ErrLeaseLost reports a scan stopped because this node no longer holds
// its location's lease; what it found since its last checkpoint is not
// recorded (the run resumes from that checkpoint).
var ErrLeaseLost = errors.New("this server lost the location's scan lease")

// nodeID is the Service's lease-owner id: the host name and random bits,
// new for each Service (so a restarted server never mistakes the leases of
// its previous life for its own).
func (s *Service) nodeID() string {
	s.nodeOnce.Do(func() {
		if s.node != "" {
			return
		}
		var b [8]byte
		_, _ = rand.Read(b[:])
		host, _ := os.Hostname()
		if len(host) > 64 {
			host = host[:64]
		}
		s.node = host + "/" + hex.EncodeToString(b[:])
	})
	return s.node
}

func (s *Service) leaseTTL() time.Duration {
	if s.leaseDuration > 0 {
		return s.leaseDuration
	}
	return defaultLeaseDuration
}

// claimLease claims the lease of location id for this node and reports
// whether it holds it.
func (s *Service) claimLease(ctx context.Context, id int64) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	now := s.now()
	var ok bool
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		ok, err = tx.DPClaimLease(ctx, id, s.nodeID(), now, now.Add(s.leaseTTL()))
		return err
	})
	return ok, err
}

// leased runs fn in one transaction that first renews this node's lease of
// location id: what fn writes is committed only while the node holds the
// lease; otherwise nothing is written and the error is ErrLeaseLost.
func (s *Service) leased(ctx context.Context, id int64, fn func(tx *store.Tx) error) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		now := s.now()
		ok, err := tx.DPRenewLease(ctx, id, s.nodeID(), now, now.Add(s.leaseTTL()))
		if err != nil {
			return err
		}
		if !ok {
			return ErrLeaseLost
		}
		return fn(tx)
	})
}

// keepLease renews the lease of location id every quarter of its duration
// until the returned stop is called (which waits for it; calling stop
// again does nothing), so that the lease holds while one big file is
// scanned between two checkpoints. When a renewal finds the lease lost it
// calls lost with ErrLeaseLost and renews no more. A renewal that fails
// (the database unreachable) is logged and tried again at the next tick;
// if they fail for longer than the lease, the next one finds it lost.
func (s *Service) keepLease(ctx context.Context, id int64, lost context.CancelCauseFunc) (stop func()) {
	every := max(s.leaseTTL()/4, time.Millisecond)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			rctx, cancel := context.WithTimeout(ctx, 2*every)
			err := s.leased(rctx, id, func(*store.Tx) error { return nil })
			cancel()
			switch {
			case errors.Is(err, ErrLeaseLost):
				lost(ErrLeaseLost)
				return
			case err != nil:
				s.log.WarnContext(ctx, "data discovery: renew the scan lease", "location_id", id, "error", err.Error())
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}

// releaseLease frees this node's lease of location id (if it still holds
// it), so that another node may scan the location without waiting for the
// lease to lapse.
func (s *Service) releaseLease(ctx context.Context, id int64) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.DPReleaseLease(ctx, id, s.nodeID())
		return err
	})
	if err != nil {
		s.log.WarnContext(ctx, "data discovery: release the scan lease", "location_id", id, "error", err.Error())
	}
}
