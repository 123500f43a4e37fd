package audit

import "time"

// Filter selects entries for the console page and the API, newest first.
//
// Scope: with AllClients false only entries of the clients in ClientIDs are
// returned, never operator-wide entries (ClientID 0: sign-ins, users, tokens,
// settings), because those may concern every client. Callers set AllClients
// only for principals that see every client (administrator, security officer,
// DPO, auditor without a client restriction); a nil or empty ClientIDs with
// AllClients false matches nothing.
type Filter struct {
	AllClients bool
	ClientIDs  []int64

	ClientID   int64  // only this client's entries (within the scope); 0 for any
	Actor      string // exact actor name
	ObjectType string // exact object type
	ObjectID   string // exact object id (with ObjectType)
	// Action is an exact action, or a prefix when it ends in "*" ("person.*").
	Action string
	From   time.Time // at or after (inclusive)
	To     time.Time // before (exclusive)
	// BeforeSeq pages backwards: only entries with a smaller sequence number.
	BeforeSeq int64
	// Limit is the page size: default 50, at most 500.
	Limit int
}

// Page size bounds for Filter.Limit.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// PageSize returns the effective limit.
func (f *Filter) PageSize() int {
	switch {
	case f.Limit <= 0:
		return DefaultLimit
	case f.Limit > MaxLimit:
		return MaxLimit
	}
	return f.Limit
}
