package identity

import "time"

// Session is a browser session as stored. ID is the hex SHA-256 of the
// cookie token; the token itself is never stored.
type Session struct {
	ID         string
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry
	IP         string
	UserAgent  string
	// MFAPassed is true once the user has given a TOTP or recovery code in
	// this session (or the user has no MFA).
	MFAPassed bool
	// CSRFSecret derives the session's anti-forgery token. Never shown.
	CSRFSecret []byte `json:"-"`
}

// APIToken is an integration token as stored: only the SHA-256 of the token
// is kept; Prefix is its first characters, for display.
type APIToken struct {
	ID         int64
	Name       string
	Prefix     string
	Role       Role
	AllClients bool
	ClientIDs  []int64
	CreatedBy  int64
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero = never
	LastUsedAt time.Time
	RevokedAt  time.Time
}

// Valid reports whether the token may be used at now.
func (t *APIToken) Valid(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// AuditView is the token as recorded (digested) in the audit trail.
func (t *APIToken) AuditView() map[string]any {
	return map[string]any{
		"id": t.ID, "name": t.Name, "prefix": t.Prefix, "role": string(t.Role), "all_clients": t.AllClients,
		"client_ids": t.ClientIDs, "created_by": t.CreatedBy, "expires_at": t.ExpiresAt,
	}
}

// APITokenFilter selects API tokens for a list.
type APITokenFilter struct {
	CreatedBy      int64 // 0 = every user's
	IncludeRevoked bool
}
