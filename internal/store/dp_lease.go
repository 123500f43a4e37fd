package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DPLease is who holds the scan lease of a discovery location. Several
// servers may share one database: a location is scanned only by the node
// that holds its lease, and a lease that is not renewed lapses at Until.
// Times are the callers' clocks, so the servers' clocks must agree to well
// within a lease's duration.
type DPLease struct {
	Owner string    // node id; "" = free
	Until time.Time // zero when free
}

// Live reports whether the lease is held at now.
func (l DPLease) Live(now time.Time) bool {
	return l.Owner != "" && !l.Until.IsZero() && !l.Until.Before(now)
}

// DPLease returns the lease of location id.
func (s *Store) DPLease(ctx context.Context, id int64) (DPLease, error) {
	var l DPLease
	var until nullTime
	if err := s.QueryRow(ctx, "SELECT lease_owner, lease_until FROM dp_locations WHERE id = ?", id).Scan(&l.Owner, &until); err != nil {
		return DPLease{}, fmt.Errorf("lease of discovery location %d: %w", id, mapErr(err))
	}
	if until.Valid {
		l.Until = until.Time
	}
	return l, nil
}

// DPClaimLease gives owner the lease of location id until until, if the
// lease is free, lapsed at now, or already owner's; it reports whether
// owner holds the lease now. The claim is one conditional UPDATE, so of
// several nodes claiming at once exactly one wins. Taking over a lapsed
// lease of another node (which crashed or stalled) also marks the runs of
// the location it left "running" as interrupted, in the same transaction,
// so that the claimer resumes them rather than start another run. A
// missing location is ErrNotFound.
func (tx *Tx) DPClaimLease(ctx context.Context, id int64, owner string, now, until time.Time) (bool, error) {
	if owner == "" {
		return false, fmt.Errorf("claim lease of discovery location %d: no owner", id)
	}
	var prev string
	if err := tx.QueryRow(ctx, "SELECT lease_owner FROM dp_locations WHERE id = ?", id).Scan(&prev); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("claim lease of discovery location %d: %w", id, ErrNotFound)
		}
		return false, fmt.Errorf("claim lease of discovery location %d: %w", id, err)
	}
	res, err := tx.Exec(ctx, `UPDATE dp_locations SET lease_owner = ?, lease_until = ?
		WHERE id = ? AND (lease_owner = '' OR lease_until IS NULL OR lease_until < ? OR lease_owner = ?)`,
		owner, TimeArg(until), id, TimeArg(now), owner)
	if err != nil {
		return false, fmt.Errorf("claim lease of discovery location %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim lease of discovery location %d: %w", id, err)
	}
	if n != 1 {
		return false, nil
	}
	// prev may be stale (PostgreSQL reads before the UPDATE locks the
	// row); marking is safe either way, since no other node can write a
	// run of a location whose lease owner holds.
	if prev != "" && prev != owner {
		if _, err := tx.Exec(ctx, "UPDATE dp_runs SET status = ? WHERE location_id = ? AND status = ?", DPRunInterrupted, id, DPRunRunning); err != nil {
			return false, fmt.Errorf("claim lease of discovery location %d: mark interrupted runs: %w", id, err)
		}
	}
	return true, nil
}

// DPRenewLease extends owner's lease of location id to until and reports
// whether it did: false when the lease is another node's, free, or lapsed
// at now (another node may have marked the run interrupted or taken the
// location over since). Called in the transaction that writes a scan's
// progress, it makes that write conditional on still holding the lease.
func (tx *Tx) DPRenewLease(ctx context.Context, id int64, owner string, now, until time.Time) (bool, error) {
	res, err := tx.Exec(ctx, "UPDATE dp_locations SET lease_until = ? WHERE id = ? AND lease_owner = ? AND lease_owner <> '' AND lease_until >= ?",
		TimeArg(until), id, owner, TimeArg(now))
	if err != nil {
		return false, fmt.Errorf("renew lease of discovery location %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("renew lease of discovery location %d: %w", id, err)
	}
	return n == 1, nil
}

// DPReleaseLease frees the lease of location id if owner holds it (even
// lapsed) and reports whether it did; another node's lease is left alone.
func (tx *Tx) DPReleaseLease(ctx context.Context, id int64, owner string) (bool, error) {
	res, err := tx.Exec(ctx, "UPDATE dp_locations SET lease_owner = '', lease_until = NULL WHERE id = ? AND lease_owner = ? AND lease_owner <> ''", id, owner)
	if err != nil {
		return false, fmt.Errorf("release lease of discovery location %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("release lease of discovery location %d: %w", id, err)
	}
	return n == 1, nil
}
