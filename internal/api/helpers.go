package api

import (
	"errors"
	"net/http"
	"slices"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/problem"
)

// principal returns the caller; the router guarantees one on every
// non-public route.
func principal(r *http.Request) *identity.Principal {
	if p := identity.PrincipalFrom(r.Context()); p != nil {
		return p
	}
	return &identity.Principal{} // sees nothing
}

// scope returns the caller's query scope.
func scope(r *http.Request) identity.Scope { return identity.PrincipalFrom(r.Context()).Scope() }

// checkClients answers 422 when a request names a client the caller may not
// see (it is reported as unknown, so its existence does not leak).
func checkClients(r *http.Request, field string, ids ...int64) error {
	p := principal(r)
	for _, id := range ids {
		if id != 0 && !p.CanSeeClient(id) {
			return fieldErr(field, "is not a known client")
		}
	}
	return nil
}

// Roles groups used by the policies below.
var (
	// staff is everybody but agents: they see the organization.
	staff = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor, identity.RoleSupervisor}
	// governance reads the audit trail.
	governance = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}
	// peopleManagers create, change and import people.
	peopleManagers = []identity.Role{identity.RoleAdmin, identity.RoleSecurity}
	admins         = []identity.Role{identity.RoleAdmin}
)

func roles(rs []identity.Role) []identity.Role { return slices.Clone(rs) }

// problemFieldError is a field problem in a problem document.
type problemFieldError = problem.FieldError

// IsTooLargeErr reports whether err comes from reading past the body limit.
func IsTooLargeErr(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// personSelf is the scope that shows exactly one person (an agent's own).
func personSelf(personID int64) identity.Scope {
	return identity.Scope{All: true, PersonID: personID}
}
