package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
)

// idQuerier is what the identity reads need: a *Store (read pool) or a *Tx.
type idQuerier interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

const userColumns = `id, username, email, display_name, role, COALESCE(person_id, 0), all_clients,
	password_hash <> '', totp_enabled, locale, active, must_change_password, oidc_issuer, oidc_subject,
	created_at, updated_at, last_login_at, external, expires_at`

func scanUser(r rowScanner, u *identity.User) error {
	var role string
	err := r.Scan(&u.ID, &u.Username, &u.Email, &u.DisplayName, &role, &u.PersonID, &u.AllClients,
		&u.HasPassword, &u.TOTPEnabled, &u.Locale, &u.Active, &u.MustChangePassword, &u.OIDCIssuer, &u.OIDCSubject,
		ScanTime(&u.CreatedAt), ScanTime(&u.UpdatedAt), ScanTime(&u.LastLoginAt), &u.External, ScanTime(&u.ExpiresAt))
	u.Role = identity.Role(role)
	return err
}

// idUserID formats a user id for audit records.
func idUserID(id int64) string { return strconv.FormatInt(id, 10) }

// idInList returns "(?, ?, …)" for ids (at least one) and appends them to args.
func idInList(ids []int64, args []any) (string, []any) {
	for _, id := range ids {
		args = append(args, id)
	}
	return "(" + placeholders(len(ids)) + ")", args
}

func getUser(ctx context.Context, q idQuerier, where string, args ...any) (*identity.User, error) {
	var u identity.User
	if err := scanUser(q.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE "+where, args...), &u); err != nil {
		return nil, MapErr(err)
	}
	if err := loadUserScope(ctx, q, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

func loadUserScope(ctx context.Context, q idQuerier, u *identity.User) error {
	var err error
	if u.ClientIDs, err = idList(ctx, q, "SELECT client_id FROM user_clients WHERE user_id = ? ORDER BY client_id", u.ID); err != nil {
		return fmt.Errorf("user %d clients: %w", u.ID, err)
	}
	if u.TeamIDs, err = idList(ctx, q, "SELECT team_id FROM user_teams WHERE user_id = ? ORDER BY team_id", u.ID); err != nil {
		return fmt.Errorf("user %d teams: %w", u.ID, err)
	}
	return nil
}

func idList(ctx context.Context, q idQuerier, query string, args ...any) ([]int64, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// User returns user id.
func (s *Store) User(ctx context.Context, id int64) (*identity.User, error) {
	u, err := getUser(ctx, s, "id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// User returns user id, read inside the transaction.
func (tx *Tx) User(ctx context.Context, id int64) (*identity.User, error) {
	u, err := getUser(ctx, tx, "id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

// UserByUsername returns the user with that (lower-case) username.
func (s *Store) UserByUsername(ctx context.Context, username string) (*identity.User, error) {
	u, err := getUser(ctx, s, "username = ?", identity.NormalizeUsername(username))
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", username, err)
	}
	return u, nil
}

// UserByUsername returns the user with that username, read inside the transaction.
func (tx *Tx) UserByUsername(ctx context.Context, username string) (*identity.User, error) {
	u, err := getUser(ctx, tx, "username = ?", identity.NormalizeUsername(username))
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", username, err)
	}
	return u, nil
}

// UserByOIDC returns the user linked to an OpenID Connect issuer and subject.
func (tx *Tx) UserByOIDC(ctx context.Context, issuer, subject string) (*identity.User, error) {
	if issuer == "" || subject == "" {
		return nil, fmt.Errorf("oidc user: %w", ErrNotFound)
	}
	u, err := getUser(ctx, tx, "oidc_issuer = ? AND oidc_subject = ?", issuer, subject)
	if err != nil {
		return nil, fmt.Errorf("oidc user: %w", err)
	}
	return u, nil
}

// Users returns a page of users matching f, ordered by username, and the
// number of matching users.
func (s *Store) Users(ctx context.Context, f identity.UserFilter) ([]identity.User, int, error) {
	var where []string
	var args []any
	if q := strings.ToLower(strings.TrimSpace(f.Query)); q != "" {
		pat := "%" + escapeLike(q) + "%"
		where = append(where, `(username LIKE ? ESCAPE '\' OR email LIKE ? ESCAPE '\' OR LOWER(display_name) LIKE ? ESCAPE '\')`)
		args = append(args, pat, pat, pat)
	}
	if f.Role != "" {
		where = append(where, "role = ?")
		args = append(args, string(f.Role))
	}
	if f.Active != nil {
		where = append(where, "active = ?")
		args = append(args, *f.Active)
	}
	if f.PersonID != 0 {
		where = append(where, "person_id = ?")
		args = append(args, f.PersonID)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.QueryRow(ctx, "SELECT COUNT(*) FROM users"+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	rows, err := s.Query(ctx, "SELECT "+userColumns+" FROM users"+cond+" ORDER BY username LIMIT ? OFFSET ?",
		append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	var out []identity.User
	for rows.Next() {
		var u identity.User
		if err := scanUser(rows, &u); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	for i := range out {
		if err := loadUserScope(ctx, s, &out[i]); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// checkUserRefs reports unknown clients, teams or person as field errors.
func (tx *Tx) checkUserRefs(ctx context.Context, u *identity.User) error {
	fe := identity.FieldErrors{}
	check := func(field, table string, ids []int64, msg string) error {
		if len(ids) == 0 {
			return nil
		}
		in, args := idInList(ids, nil)
		found, err := idList(ctx, tx, "SELECT id FROM "+table+" WHERE id IN "+in, args...)
		if err != nil {
			return fmt.Errorf("check %s: %w", table, err)
		}
		for _, id := range ids {
			if !slices.Contains(found, id) {
				fe[field] = fmt.Sprintf(msg, id)
				break
			}
		}
		return nil
	}
	if err := check("client_ids", "clients", u.ClientIDs, "Unknown client %d."); err != nil {
		return err
	}
	if err := check("team_ids", "teams", u.TeamIDs, "Unknown team %d."); err != nil {
		return err
	}
	if u.PersonID != 0 {
		if err := check("person_id", "people", []int64{u.PersonID}, "Unknown person %d."); err != nil {
			return err
		}
	}
	return fe.Err()
}

func (tx *Tx) replaceUserScope(ctx context.Context, u *identity.User) error {
	if _, err := tx.Exec(ctx, "DELETE FROM user_clients WHERE user_id = ?", u.ID); err != nil {
		return fmt.Errorf("user %d clients: %w", u.ID, err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM user_teams WHERE user_id = ?", u.ID); err != nil {
		return fmt.Errorf("user %d teams: %w", u.ID, err)
	}
	for _, c := range u.ClientIDs {
		if _, err := tx.Exec(ctx, "INSERT INTO user_clients (user_id, client_id) VALUES (?, ?)", u.ID, c); err != nil {
			return fmt.Errorf("user %d client %d: %w", u.ID, c, MapErr(err))
		}
	}
	for _, t := range u.TeamIDs {
		if _, err := tx.Exec(ctx, "INSERT INTO user_teams (user_id, team_id) VALUES (?, ?)", u.ID, t); err != nil {
			return fmt.Errorf("user %d team %d: %w", u.ID, t, MapErr(err))
		}
	}
	return nil
}

// CreateUser inserts u (normalized and validated by the caller) with a
// password hash ("" for none) and audits "user.create". An unknown client,
// team or person is an identity.FieldErrors; a taken username is too.
func (tx *Tx) CreateUser(ctx context.Context, u *identity.User, passwordHash string, now time.Time) error {
	if err := tx.checkUserRefs(ctx, u); err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = now.UTC(), now.UTC()
	id, err := tx.InsertID(ctx, `INSERT INTO users (username, email, display_name, role, person_id, all_clients,
		password_hash, locale, active, must_change_password, oidc_issuer, oidc_subject, created_at, updated_at, external, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Username, u.Email, u.DisplayName, string(u.Role), nullID(u.PersonID), u.AllClients,
		passwordHash, u.Locale, u.Active, u.MustChangePassword, u.OIDCIssuer, u.OIDCSubject, TimeArg(now), TimeArg(now),
		u.External, TimeArg(u.ExpiresAt))
	if errors.Is(err, ErrConflict) {
		return identity.FieldErrors{"username": "This username is taken."}
	}
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Username, err)
	}
	u.ID = id
	u.HasPassword = passwordHash != ""
	if err := tx.replaceUserScope(ctx, u); err != nil {
		return err
	}
	return tx.Audit(ctx, audit.Record{Action: "user.create", ObjectType: "user", ObjectID: idUserID(u.ID),
		After: u.AuditView(), Detail: fmt.Sprintf("user %s created with role %s", u.Username, u.Role)})
}

// UpdateUser writes u's profile, role, scope, locale and active flag. It
// audits "user.update", and also "user.role_change" when the role or client
// or team scope changed. Deactivating a user deletes their sessions and
// revokes their API tokens in the same transaction ("user.deactivate").
func (tx *Tx) UpdateUser(ctx context.Context, u *identity.User, now time.Time) error {
	before, err := tx.User(ctx, u.ID)
	if err != nil {
		return err
	}
	if err := tx.checkUserRefs(ctx, u); err != nil {
		return err
	}
	u.UpdatedAt = now.UTC()
	_, err = tx.Exec(ctx, `UPDATE users SET username = ?, email = ?, display_name = ?, role = ?, person_id = ?, all_clients = ?,
		locale = ?, active = ?, must_change_password = ?, oidc_issuer = ?, oidc_subject = ?, updated_at = ? WHERE id = ?`,
		u.Username, u.Email, u.DisplayName, string(u.Role), nullID(u.PersonID), u.AllClients,
		u.Locale, u.Active, u.MustChangePassword, u.OIDCIssuer, u.OIDCSubject, TimeArg(now), u.ID)
	if errors.Is(MapErr(err), ErrConflict) {
		return identity.FieldErrors{"username": "This username is taken."}
	}
	if err != nil {
		return fmt.Errorf("update user %d: %w", u.ID, err)
	}
	if err := tx.replaceUserScope(ctx, u); err != nil {
		return err
	}
	u.HasPassword, u.TOTPEnabled = before.HasPassword, before.TOTPEnabled
	u.CreatedAt, u.LastLoginAt = before.CreatedAt, before.LastLoginAt
	id := idUserID(u.ID)
	if err := tx.Audit(ctx, audit.Record{Action: "user.update", ObjectType: "user", ObjectID: id,
		Before: before.AuditView(), After: u.AuditView()}); err != nil {
		return err
	}
	if before.Role != u.Role || before.AllClients != u.AllClients || !slices.Equal(before.ClientIDs, u.ClientIDs) || !slices.Equal(before.TeamIDs, u.TeamIDs) {
		if err := tx.Audit(ctx, audit.Record{Action: "user.role_change", ObjectType: "user", ObjectID: id,
			Before: before.AuditView(), After: u.AuditView(),
			Detail: fmt.Sprintf("user %s: role %s → %s, scope changed", u.Username, before.Role, u.Role)}); err != nil {
			return err
		}
	}
	if before.Active && !u.Active {
		return tx.revokeUserAccess(ctx, u.ID, now, "user deactivated")
	}
	return nil
}

// revokeUserAccess deletes the user's sessions and revokes their API tokens
// and audits "user.deactivate".
func (tx *Tx) revokeUserAccess(ctx context.Context, userID int64, now time.Time, why string) error {
	res, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = ?", userID)
	if err != nil {
		return fmt.Errorf("revoke sessions of user %d: %w", userID, err)
	}
	sessions, _ := res.RowsAffected()
	res, err = tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = ? WHERE created_by = ? AND revoked_at IS NULL", TimeArg(now), userID)
	if err != nil {
		return fmt.Errorf("revoke api tokens of user %d: %w", userID, err)
	}
	tokens, _ := res.RowsAffected()
	return tx.Audit(ctx, audit.Record{Action: "user.deactivate", ObjectType: "user", ObjectID: idUserID(userID),
		Detail: fmt.Sprintf("%s: %d sessions ended, %d API tokens revoked", why, sessions, tokens)})
}

// RevokePersonAccess disables every active user account linked to the
// person, deletes their sessions and revokes their API tokens, all in the
// caller's transaction, and audits each account ("user.deactivate"). It is
// called when a person leaves; a person without accounts is not an error.
func (tx *Tx) RevokePersonAccess(ctx context.Context, personID int64) error {
	now := time.Now().UTC()
	ids, err := idList(ctx, tx, "SELECT id FROM users WHERE person_id = ? AND active = ? ORDER BY id", personID, true)
	if err != nil {
		return fmt.Errorf("revoke access of person %d: %w", personID, err)
	}
	for _, id := range ids {
		if _, err := tx.Exec(ctx, "UPDATE users SET active = ?, updated_at = ? WHERE id = ?", false, TimeArg(now), id); err != nil {
			return fmt.Errorf("deactivate user %d: %w", id, err)
		}
		if err := tx.revokeUserAccess(ctx, id, now, fmt.Sprintf("person %d left", personID)); err != nil {
			return err
		}
	}
	return nil
}

// Credentials are a user's secrets as stored: never shown, never logged.
type Credentials struct {
	PasswordHash string // argon2id PHC string; "" = none
	TOTPSecret   []byte // sealed seed; nil = none
	TOTPEnabled  bool
	TOTPLastStep int64
}

// UserCredentials returns the stored credentials of user id.
func (tx *Tx) UserCredentials(ctx context.Context, id int64) (*Credentials, error) {
	return userCredentials(ctx, tx, id)
}

// UserCredentials returns the stored credentials of user id.
func (s *Store) UserCredentials(ctx context.Context, id int64) (*Credentials, error) {
	return userCredentials(ctx, s, id)
}

func userCredentials(ctx context.Context, q idQuerier, id int64) (*Credentials, error) {
	var c Credentials
	err := q.QueryRow(ctx, "SELECT password_hash, totp_secret, totp_enabled, totp_last_step FROM users WHERE id = ?", id).
		Scan(&c.PasswordHash, &c.TOTPSecret, &c.TOTPEnabled, &c.TOTPLastStep)
	if err != nil {
		return nil, fmt.Errorf("credentials of user %d: %w", id, MapErr(err))
	}
	return &c, nil
}

// SetPasswordHash stores a new password hash and the must-change flag and
// audits action ("user.password_change", "user.password_reset" or
// "user.password_rehash"). Never pass the password itself.
func (tx *Tx) SetPasswordHash(ctx context.Context, userID int64, hash string, mustChange bool, action string, now time.Time) error {
	res, err := tx.Exec(ctx, "UPDATE users SET password_hash = ?, must_change_password = ?, updated_at = ? WHERE id = ?",
		hash, mustChange, TimeArg(now), userID)
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user %d: %w", userID, ErrNotFound)
	}
	return tx.Audit(ctx, audit.Record{Action: action, ObjectType: "user", ObjectID: idUserID(userID)})
}

// SetTOTP stores a sealed TOTP seed (nil removes it) and whether it is
// confirmed, and audits action ("user.mfa_enrol_start", "user.mfa_enrol",
// "user.mfa_reset"). The used-step counter is kept: steps only grow.
func (tx *Tx) SetTOTP(ctx context.Context, userID int64, sealed []byte, enabled bool, action string, now time.Time) error {
	var arg any
	if sealed != nil {
		arg = sealed
	}
	res, err := tx.Exec(ctx, "UPDATE users SET totp_secret = ?, totp_enabled = ?, updated_at = ? WHERE id = ?",
		arg, enabled, TimeArg(now), userID)
	if err != nil {
		return fmt.Errorf("set totp of user %d: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user %d: %w", userID, ErrNotFound)
	}
	return tx.Audit(ctx, audit.Record{Action: action, ObjectType: "user", ObjectID: idUserID(userID)})
}

// UseTOTPStep records that the TOTP code of time step was accepted. It
// reports false when that step (or a later one) was already used: a code is
// accepted once only.
func (tx *Tx) UseTOTPStep(ctx context.Context, userID, step int64) (bool, error) {
	res, err := tx.Exec(ctx, "UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?", step, userID, step)
	if err != nil {
		return false, fmt.Errorf("record totp step of user %d: %w", userID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RecordLogin sets the user's last sign-in time.
func (tx *Tx) RecordLogin(ctx context.Context, userID int64, now time.Time) error {
	if _, err := tx.Exec(ctx, "UPDATE users SET last_login_at = ? WHERE id = ?", TimeArg(now), userID); err != nil {
		return fmt.Errorf("record sign-in of user %d: %w", userID, err)
	}
	return nil
}

// ReplaceRecoveryCodes deletes the user's recovery codes and stores the new
// hashes (hex SHA-256 of the normalized codes); it audits "user.recovery_codes".
func (tx *Tx) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes []string, now time.Time) error {
	if _, err := tx.Exec(ctx, "DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
		return fmt.Errorf("delete recovery codes of user %d: %w", userID, err)
	}
	for _, h := range hashes {
		if _, err := tx.Exec(ctx, "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)", userID, h, TimeArg(now)); err != nil {
			return fmt.Errorf("store recovery code of user %d: %w", userID, err)
		}
	}
	return tx.Audit(ctx, audit.Record{Action: "user.recovery_codes", ObjectType: "user", ObjectID: idUserID(userID),
		Detail: fmt.Sprintf("%d recovery codes issued", len(hashes))})
}

// UseRecoveryCode marks the unused recovery code with that hash as used and
// reports whether there was one; it audits "user.recovery_code_used".
func (tx *Tx) UseRecoveryCode(ctx context.Context, userID int64, hash string, now time.Time) (bool, error) {
	res, err := tx.Exec(ctx, "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
		TimeArg(now), userID, hash)
	if err != nil {
		return false, fmt.Errorf("use recovery code of user %d: %w", userID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	left, err := recoveryCodesLeft(ctx, tx, userID)
	if err != nil {
		return false, err
	}
	return true, tx.Audit(ctx, audit.Record{Action: "user.recovery_code_used", ObjectType: "user", ObjectID: idUserID(userID),
		Detail: fmt.Sprintf("%d recovery codes left", left)})
}

// RecoveryCodesLeft counts the user's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	return recoveryCodesLeft(ctx, s, userID)
}

func recoveryCodesLeft(ctx context.Context, q idQuerier, userID int64) (int, error) {
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL", userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count recovery codes of user %d: %w", userID, err)
	}
	return n, nil
}

// CountUsers counts all users (the first start creates an administrator when there are none).
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.QueryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CountUsers counts all users inside the transaction.
func (tx *Tx) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// UserMFAState reports, for the MFA-enrolment gate, whether the user has TOTP
// enabled and whether they have a local password.
func (s *Store) UserMFAState(ctx context.Context, id int64) (totpEnabled, hasPassword bool, err error) {
	err = s.QueryRow(ctx, "SELECT totp_enabled, password_hash <> '' FROM users WHERE id = ?", id).Scan(&totpEnabled, &hasPassword)
	if err != nil {
		return false, false, fmt.Errorf("user %d: %w", id, MapErr(err))
	}
	return totpEnabled, hasPassword, nil
}

// CountActiveAdmins counts active administrators other than exceptUserID.
func (tx *Tx) CountActiveAdmins(ctx context.Context, exceptUserID int64) (int, error) {
	var n int
	err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM users WHERE role = ? AND active = ? AND id <> ?", string(identity.RoleAdmin), true, exceptUserID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count administrators: %w", err)
	}
	return n, nil
}

// DeleteRecoveryCodes removes all of a user's recovery codes (MFA reset).
func (tx *Tx) DeleteRecoveryCodes(ctx context.Context, userID int64) error {
	if _, err := tx.Exec(ctx, "DELETE FROM recovery_codes WHERE user_id = ?", userID); err != nil {
		return fmt.Errorf("delete recovery codes of user %d: %w", userID, err)
	}
	return nil
}

// ClientIDsByCodes resolves client codes to ids; unknown codes are left out.
func (tx *Tx) ClientIDsByCodes(ctx context.Context, codes []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(codes) == 0 {
		return out, nil
	}
	args := make([]any, len(codes))
	for i, c := range codes {
		args[i] = c
	}
	rows, err := tx.Query(ctx, "SELECT code, id FROM clients WHERE code IN ("+placeholders(len(codes))+")", args...)
	if err != nil {
		return nil, fmt.Errorf("resolve client codes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var code string
		var id int64
		if err := rows.Scan(&code, &id); err != nil {
			return nil, fmt.Errorf("resolve client codes: %w", err)
		}
		out[code] = id
	}
	return out, rows.Err()
}
