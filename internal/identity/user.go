package identity

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
)

// User is an account that may sign in. Credentials (password hash, TOTP seed)
// are not part of it: they never leave the identity service.
type User struct {
	ID          int64
	Username    string // lower-case, unique
	Email       string // lower-case
	DisplayName string
	Role        Role
	// PersonID links the account to a person of the organization (0 = none).
	PersonID int64
	// AllClients is true when the user sees every client; otherwise ClientIDs.
	AllClients bool
	ClientIDs  []int64
	// TeamIDs are the teams a supervisor supervises.
	TeamIDs            []int64
	HasPassword        bool // a local password is set (false for SSO-only accounts)
	TOTPEnabled        bool
	Locale             string // "" = the browser's language
	Active             bool
	MustChangePassword bool
	OIDCIssuer         string
	OIDCSubject        string
	// External marks an account of someone outside the organization (an
	// external auditor invited to one audit): it reaches only the routes
	// marked for external accounts (authz.Policy.External) and the pages of
	// its own account. It is set when the account is created and never
	// changes.
	External bool
	// ExpiresAt ends an account at a fixed time (zero = never): sign-in and
	// every request are refused from then on.
	ExpiresAt   time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	LastLoginAt time.Time
}

// Principal returns the principal the user acts as (without session or token).
func (u *User) Principal() *Principal {
	p := &Principal{
		UserID:     u.ID,
		Username:   u.Username,
		Role:       u.Role,
		AllClients: u.AllClients,
		ClientIDs:  slices.Clone(u.ClientIDs),
		TeamIDs:    slices.Clone(u.TeamIDs),
		PersonID:   u.PersonID,
		Locale:     u.Locale,

		MustChangePassword: u.MustChangePassword && u.HasPassword,
		External:           u.External,
	}
	if p.ClientIDs == nil {
		p.ClientIDs = []int64{}
	}
	return p
}

// Usable reports whether the account may sign in and act at now: it is
// active and has not expired.
func (u *User) Usable(now time.Time) bool {
	return u.Active && (u.ExpiresAt.IsZero() || now.Before(u.ExpiresAt))
}

// NeedsMFAEnrolment reports whether the user's role requires TOTP and none is enrolled.
func (u *User) NeedsMFAEnrolment() bool { return u.Role.RequiresMFA() && !u.TOTPEnabled }

// AuditView is the user as recorded (digested) in the audit trail: no secrets.
func (u *User) AuditView() map[string]any {
	m := map[string]any{
		"id": u.ID, "username": u.Username, "email": u.Email, "display_name": u.DisplayName,
		"role": string(u.Role), "person_id": u.PersonID, "all_clients": u.AllClients,
		"client_ids": u.ClientIDs, "team_ids": u.TeamIDs, "totp_enabled": u.TOTPEnabled,
		"locale": u.Locale, "active": u.Active, "oidc_issuer": u.OIDCIssuer, "oidc_subject": u.OIDCSubject,
	}
	if u.External {
		m["external"] = true
	}
	if !u.ExpiresAt.IsZero() {
		m["expires_at"] = u.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return m
}

// UserFilter selects users for a list.
type UserFilter struct {
	// Query matches username, e-mail or display name (case-insensitive substring).
	Query  string
	Role   Role
	Active *bool
	// PersonID selects the accounts linked to one person.
	PersonID int64
	Limit    int // default 50, at most 500
	Offset   int
}

// FieldErrors maps a form or JSON field to a user-facing message. It is the
// error returned for invalid input; the web layers show each message next to
// its field (HTTP 422).
type FieldErrors map[string]string

func (fe FieldErrors) Error() string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+fe[k])
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Err returns fe as an error, or nil when it is empty.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{1,63}$`)

// NormalizeUsername lower-cases and trims a username.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Normalize lower-cases username and e-mail and trims the text fields.
func (u *User) Normalize() {
	u.Username = NormalizeUsername(u.Username)
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	u.DisplayName = strings.TrimSpace(u.DisplayName)
	u.Locale = strings.TrimSpace(u.Locale)
	slices.Sort(u.ClientIDs)
	u.ClientIDs = slices.Compact(u.ClientIDs)
	slices.Sort(u.TeamIDs)
	u.TeamIDs = slices.Compact(u.TeamIDs)
}

// Validate checks the user's fields (after Normalize) and returns FieldErrors.
func (u *User) Validate() error {
	fe := FieldErrors{}
	if !usernameRE.MatchString(u.Username) {
		fe["username"] = "Use 2 to 64 lower-case letters, digits, dots, dashes, underscores or @, starting with a letter or digit."
	}
	if u.Email != "" {
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email {
			fe["email"] = "Enter a valid e-mail address."
		}
	}
	if len(u.DisplayName) > 200 {
		fe["display_name"] = "Use at most 200 characters."
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		fe["role"] = "Choose one of the roles."
	}
	if u.Locale != "" && u.Locale != "en" && u.Locale != "es" {
		fe["locale"] = "Choose English, Spanish or the browser's language."
	}
	if u.AllClients && len(u.ClientIDs) > 0 {
		fe["client_ids"] = "Choose either all clients or some clients, not both."
	}
	if len(u.TeamIDs) > 0 && u.Role != RoleSupervisor {
		fe["team_ids"] = "Only supervisors supervise teams."
	}
	for _, id := range u.ClientIDs {
		if id <= 0 {
			fe["client_ids"] = fmt.Sprintf("Unknown client %d.", id)
		}
	}
	return fe.Err()
}

// ExternalIdentity is who an OpenID Connect provider says signed in, with the
// role and client scope mapped from its claims.
type ExternalIdentity struct {
	Issuer      string
	Subject     string
	Email       string // lower-case; "" when the provider sent none
	Name        string
	Username    string // preferred_username, if any
	Role        Role
	AllClients  bool
	ClientCodes []string // client codes from the clients claim (when not AllClients)
}
