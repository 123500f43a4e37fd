package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custodia/custodia/internal/identity"
)

// LoginAttempt returns the throttling record of key; an unknown key is a
// zero record (not an error).
func (tx *Tx) LoginAttempt(ctx context.Context, key string) (*identity.LoginAttempt, error) {
	return loginAttempt(ctx, tx, key)
}

// LoginAttempt returns the throttling record of key (read pool).
func (s *Store) LoginAttempt(ctx context.Context, key string) (*identity.LoginAttempt, error) {
	return loginAttempt(ctx, s, key)
}

func loginAttempt(ctx context.Context, q idQuerier, key string) (*identity.LoginAttempt, error) {
	a := &identity.LoginAttempt{Key: key}
	err := q.QueryRow(ctx, "SELECT failures, window_start, locked_until, lockouts, updated_at FROM login_attempts WHERE key = ?", key).
		Scan(&a.Failures, ScanTime(&a.WindowStart), ScanTime(&a.LockedUntil), &a.Lockouts, ScanTime(&a.UpdatedAt))
	if err := MapErr(err); err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("login attempts: %w", err)
	}
	return a, nil
}

// PutLoginAttempt writes a throttling record (bookkeeping: the failed
// sign-in itself is audited by the caller in the same transaction).
func (tx *Tx) PutLoginAttempt(ctx context.Context, a *identity.LoginAttempt) error {
	_, err := tx.Exec(ctx, `INSERT INTO login_attempts (key, failures, window_start, locked_until, lockouts, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
		locked_until = excluded.locked_until, lockouts = excluded.lockouts, updated_at = excluded.updated_at`,
		a.Key, a.Failures, TimeArg(a.WindowStart), TimeArg(a.LockedUntil), a.Lockouts, TimeArg(a.UpdatedAt))
	if err != nil {
		return fmt.Errorf("record login attempt: %w", err)
	}
	return nil
}

// ClearLoginAttempts forgets a key's failures (after a successful sign-in).
func (tx *Tx) ClearLoginAttempts(ctx context.Context, key string) error {
	if _, err := tx.Exec(ctx, "DELETE FROM login_attempts WHERE key = ?", key); err != nil {
		return fmt.Errorf("clear login attempts: %w", err)
	}
	return nil
}

// DeleteStaleLoginAttempts removes records not updated since before (housekeeping).
func (s *Store) DeleteStaleLoginAttempts(ctx context.Context, before time.Time) error {
	if _, err := s.Exec(ctx, "DELETE FROM login_attempts WHERE updated_at < ? AND (locked_until IS NULL OR locked_until < ?)", TimeArg(before), TimeArg(before)); err != nil {
		return fmt.Errorf("delete stale login attempts: %w", err)
	}
	return nil
}
