// Package identity holds who may sign in to Custodia and what they may see:
// users, roles, client scope, credentials, sessions and API tokens.
package identity

import (
	"context"
	"fmt"
	"slices"
)

// Role is what a user may do. The set is closed.
type Role string

// The roles, from most to least powerful.
const (
	RoleAdmin      Role = "admin"      // administrator: everything, including users and roles
	RoleSecurity   Role = "security"   // security officer (CISO)
	RoleDPO        Role = "dpo"        // data protection officer
	RoleAuditor    Role = "auditor"    // read-only; may export evidence
	RoleSupervisor Role = "supervisor" // sees and acts on their own teams
	RoleAgent      Role = "agent"      // self-service portal only
)

// Roles lists every role in a stable order.
var Roles = []Role{RoleAdmin, RoleSecurity, RoleDPO, RoleAuditor, RoleSupervisor, RoleAgent}

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if slices.Contains(Roles, r) {
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want one of admin, security, dpo, auditor, supervisor, agent)", s)
}

// RequiresMFA reports whether users with this role must enrol TOTP.
func (r Role) RequiresMFA() bool {
	switch r {
	case RoleAdmin, RoleSecurity, RoleDPO, RoleAuditor:
		return true
	}
	return false
}

// Principal is the authenticated caller of a request: a signed-in user or an
// API token acting with a role and a client scope.
type Principal struct {
	UserID   int64
	Username string
	Role     Role
	// AllClients is true when the principal is not restricted to some clients.
	AllClients bool
	// ClientIDs is the client scope when AllClients is false. Every query that
	// reads client data must be filtered by it.
	ClientIDs []int64
	// TeamIDs are the teams a supervisor supervises.
	TeamIDs []int64
	// PersonID links the user to a person record (agents' self-service portal); 0 if none.
	PersonID int64
	// TokenID is set when the request is authenticated by an API token.
	TokenID int64
	// SessionID is set when the request is authenticated by a browser session.
	SessionID string
	Locale    string
	// MustChangePassword is set for a signed-in user whose password was
	// one-time (first administrator, admin-created or reset accounts): such a
	// session may only reach the routes that let it change the password.
	MustChangePassword bool
	// External is set for an external account (identity.User.External): the
	// router admits it only to routes marked for external accounts and to
	// the MFA-optional pages of its own account.
	External bool
}

// CanSeeClient reports whether the principal's scope includes the client.
func (p *Principal) CanSeeClient(clientID int64) bool {
	if p == nil {
		return false
	}
	return p.AllClients || slices.Contains(p.ClientIDs, clientID)
}

// Actor is how the principal is named in the audit trail.
func (p *Principal) Actor() string {
	if p == nil {
		return "system"
	}
	if p.TokenID != 0 {
		return fmt.Sprintf("token:%d(%s)", p.TokenID, p.Username)
	}
	return p.Username
}

// Scope is the part of a principal that filters queries: store list and get
// methods take it and add it to their WHERE clause, so out-of-scope rows are
// never read (a get of an out-of-scope row is ErrNotFound, not a 403).
type Scope struct {
	// All means no client restriction.
	All bool
	// ClientIDs restricts to rows of these clients (when All is false).
	ClientIDs []int64
	// TeamIDs, when non-nil, further restricts people-like rows to these teams
	// (supervisors see their own teams).
	TeamIDs []int64
	// PersonID, when non-zero, restricts to the principal's own person (agents).
	PersonID int64
}

// Scope returns the query scope for the principal. A nil principal sees nothing.
func (p *Principal) Scope() Scope {
	if p == nil {
		return Scope{ClientIDs: []int64{}}
	}
	s := Scope{All: p.AllClients, ClientIDs: p.ClientIDs}
	if s.ClientIDs == nil {
		s.ClientIDs = []int64{}
	}
	switch p.Role {
	case RoleSupervisor:
		s.TeamIDs = p.TeamIDs
		if s.TeamIDs == nil {
			s.TeamIDs = []int64{}
		}
	case RoleAgent:
		s.PersonID = p.PersonID
		if s.PersonID == 0 {
			s.PersonID = -1 // an agent without a person record sees no person
		}
	}
	return s
}

type principalKey struct{}

// WithPrincipal returns a context carrying the authenticated principal.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or nil for an anonymous request.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
