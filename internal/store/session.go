package store

import (
	"context"
	"fmt"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
)

const sessionColumns = "id, user_id, created_at, last_seen_at, expires_at, ip, user_agent, mfa_passed, csrf_secret"

func scanSession(r rowScanner, s *identity.Session) error {
	return r.Scan(&s.ID, &s.UserID, ScanTime(&s.CreatedAt), ScanTime(&s.LastSeenAt), ScanTime(&s.ExpiresAt),
		&s.IP, &s.UserAgent, &s.MFAPassed, &s.CSRFSecret)
}

// CreateSession stores a new session (its ID is the token's digest). The
// caller audits the sign-in that created it ("auth.login") in the same
// transaction.
func (tx *Tx) CreateSession(ctx context.Context, s *identity.Session) error {
	_, err := tx.Exec(ctx, "INSERT INTO sessions ("+sessionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		s.ID, s.UserID, TimeArg(s.CreatedAt), TimeArg(s.LastSeenAt), TimeArg(s.ExpiresAt), s.IP, s.UserAgent, s.MFAPassed, s.CSRFSecret)
	if err != nil {
		return fmt.Errorf("create session for user %d: %w", s.UserID, MapErr(err))
	}
	return nil
}

// SessionCSRFSecret returns the anti-forgery secret of session id.
func (s *Store) SessionCSRFSecret(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	if err := s.QueryRow(ctx, "SELECT csrf_secret FROM sessions WHERE id = ?", id).Scan(&b); err != nil {
		return nil, fmt.Errorf("session %s: %w", shortID(id), MapErr(err))
	}
	return b, nil
}

// shortID is the part of a session digest shown in lists and the audit
// trail (a digest of the token, so it reveals nothing usable).
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Session returns the session whose digest is id.
func (s *Store) Session(ctx context.Context, id string) (*identity.Session, error) {
	return getSession(ctx, s, id)
}

// Session returns the session whose digest is id, inside the transaction.
func (tx *Tx) Session(ctx context.Context, id string) (*identity.Session, error) {
	return getSession(ctx, tx, id)
}

func getSession(ctx context.Context, q idQuerier, id string) (*identity.Session, error) {
	var ss identity.Session
	if err := scanSession(q.QueryRow(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE id = ?", id), &ss); err != nil {
		return nil, fmt.Errorf("session %s: %w", shortID(id), MapErr(err))
	}
	return &ss, nil
}

// Sessions lists a user's sessions, most recently used first.
func (s *Store) Sessions(ctx context.Context, userID int64) ([]identity.Session, error) {
	rows, err := s.Query(ctx, "SELECT "+sessionColumns+" FROM sessions WHERE user_id = ? ORDER BY last_seen_at DESC", userID)
	if err != nil {
		return nil, fmt.Errorf("sessions of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []identity.Session
	for rows.Next() {
		var ss identity.Session
		if err := scanSession(rows, &ss); err != nil {
			return nil, fmt.Errorf("sessions of user %d: %w", userID, err)
		}
		out = append(out, ss)
	}
	return out, rows.Err()
}

// TouchSession sets the session's last-seen time (bookkeeping, not audited).
func (s *Store) TouchSession(ctx context.Context, id string, now time.Time) error {
	if _, err := s.Exec(ctx, "UPDATE sessions SET last_seen_at = ? WHERE id = ?", TimeArg(now), id); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// PassSessionMFA marks the session as having passed MFA and audits "session.mfa".
func (tx *Tx) PassSessionMFA(ctx context.Context, id string, userID int64, how string) error {
	res, err := tx.Exec(ctx, "UPDATE sessions SET mfa_passed = ? WHERE id = ? AND user_id = ?", true, id, userID)
	if err != nil {
		return fmt.Errorf("session mfa: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("session %s: %w", shortID(id), ErrNotFound)
	}
	return tx.Audit(ctx, audit.Record{Action: "auth.mfa", ObjectType: "user", ObjectID: idUserID(userID),
		Detail: "second factor passed (" + how + ") for session " + shortID(id)})
}

// DeleteSession ends one session of the user and audits action
// ("session.logout", "session.revoke", "session.expire"). A session that is
// not the user's is ErrNotFound.
func (tx *Tx) DeleteSession(ctx context.Context, id string, userID int64, action string) error {
	res, err := tx.Exec(ctx, "DELETE FROM sessions WHERE id = ? AND user_id = ?", id, userID)
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("session %s: %w", shortID(id), ErrNotFound)
	}
	return tx.Audit(ctx, audit.Record{Action: action, ObjectType: "user", ObjectID: idUserID(userID),
		Detail: "session " + shortID(id)})
}

// DeleteSessionByPrefix ends the user's session whose digest starts with
// prefix (as shown in session lists, at least 12 characters) and audits action.
func (tx *Tx) DeleteSessionByPrefix(ctx context.Context, prefix string, userID int64, action string) error {
	if len(prefix) < 12 {
		return fmt.Errorf("session %q: %w", prefix, ErrNotFound)
	}
	var id string
	err := tx.QueryRow(ctx, "SELECT id FROM sessions WHERE user_id = ? AND id LIKE ? ESCAPE '\\'", userID, escapeLike(prefix)+"%").Scan(&id)
	if err != nil {
		return fmt.Errorf("session %s: %w", shortID(prefix), MapErr(err))
	}
	return tx.DeleteSession(ctx, id, userID, action)
}

// DeleteUserSessions ends every session of the user except keep (a digest,
// or "" for none) and audits "session.revoke_all".
func (tx *Tx) DeleteUserSessions(ctx context.Context, userID int64, keep string) (int64, error) {
	res, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = ? AND id <> ?", userID, keep)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	return n, tx.Audit(ctx, audit.Record{Action: "session.revoke_all", ObjectType: "user", ObjectID: idUserID(userID),
		Detail: fmt.Sprintf("%d sessions ended", n)})
}

// DeleteExpiredSessions removes sessions past their absolute expiry or idle
// since before idleBefore, and reports how many (housekeeping, not audited
// per session: one "session.expire" entry when any were removed).
func (s *Store) DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, "DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?", TimeArg(now), TimeArg(idleBefore))
		if err != nil {
			return fmt.Errorf("delete expired sessions: %w", err)
		}
		if n, _ = res.RowsAffected(); n == 0 {
			return nil
		}
		return tx.Audit(ctx, audit.Record{Action: "session.expire", ObjectType: "session", Detail: fmt.Sprintf("%d expired sessions removed", n)})
	})
	return n, err
}
