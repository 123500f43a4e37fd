package org

import "github.com/custodia/custodia/internal/identity"

// Page is the pagination shared by list filters. A Limit of 0 means
// DefaultLimit; larger than MaxLimit is capped.
type Page struct {
	Limit  int
	Offset int
}

// Clamp returns the effective limit and offset.
func (p Page) Clamp() (limit, offset int) {
	limit, offset = p.Limit, p.Offset
	if limit <= 0 {
		limit = DefaultLimit
	}
	if limit > MaxLimit {
		limit = MaxLimit
	}
	if offset < 0 {
		offset = 0
	}
	return limit, offset
}

// ClientFilter selects clients. Only clients in Scope are returned.
type ClientFilter struct {
	Scope identity.Scope
	// Query matches the code or name, case-insensitively.
	Query string
	// Active, when non-nil, keeps only active (true) or inactive (false) clients.
	Active *bool
	Page
}

// SiteFilter selects sites. Sites are operator-wide: every signed-in member
// of staff may see them whatever their client scope (Scope is kept for uniformity).
type SiteFilter struct {
	Scope identity.Scope
	Query string
	Page
}

// TeamFilter selects teams. A team is visible when its client is in Scope or
// it is an internal team (no client).
type TeamFilter struct {
	Scope    identity.Scope
	Query    string
	SiteID   int64 // 0: any
	ClientID int64 // 0: any
	Page
}

// PersonFilter selects people. A person is visible when one of their clients
// is in Scope (or Scope.All), their team is in Scope.TeamIDs when that is
// non-nil, and they are Scope.PersonID when that is non-zero.
type PersonFilter struct {
	Scope identity.Scope
	// Query matches employee id, name or email, case- and accent-insensitively.
	Query    string
	ClientID int64 // 0: any
	SiteID   int64 // 0: any
	TeamID   int64 // 0: any
	// Active, when non-nil, keeps only active (true) or inactive (false) people.
	Active *bool
	Page
}
