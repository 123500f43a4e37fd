// Package audit is Custodia's tamper-evident audit trail: every state change,
// sign-in, export, permission change and token use becomes an entry whose
// hash chains to the previous one, sealed periodically by signed checkpoints.
// This package holds the domain logic (records, canonical encoding, chaining,
// verification); the SQL lives in internal/store/audit.go.
package audit

import (
	"context"
	"time"
)

// Record is what a caller says happened; the store adds time, sequence and hashes.
type Record struct {
	Time        time.Time // set by the store when zero
	Actor       string    // who: username, "token:ID(name)", "system"; filled from the context when empty
	ActorUserID int64     // 0 for system or anonymous
	Action      string    // verb in dotted form: "person.update", "auth.login_failed", "token.use"
	ObjectType  string    // "person", "user", "client", …
	ObjectID    string    // the object's id (as text)
	ClientID    int64     // the client the object belongs to; 0 for operator-wide objects
	RequestID   string    // filled from the context when empty
	IP          string    // filled from the context when empty
	// Before and After are the object's state; only their SHA-256 digests of the
	// canonical JSON are stored. Never put a secret in them.
	Before any
	After  any
	// Detail is a short human-readable note (never a secret, never personal card data).
	Detail string
}

// Actor identifies who is acting on a request, carried in the context.
type Actor struct {
	UserID    int64
	Name      string
	RequestID string
	IP        string
	ClientIDs []int64
}

type actorKey struct{}

// WithActor returns a context that carries the acting principal for audit records.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, or a "system" actor when there is none.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Name: "system"}
}

// Fill completes r's actor, request id and IP from the context where r leaves them empty.
func (r *Record) Fill(ctx context.Context) {
	a := ActorFrom(ctx)
	if r.Actor == "" {
		r.Actor = a.Name
		if r.ActorUserID == 0 {
			r.ActorUserID = a.UserID
		}
	}
	if r.RequestID == "" {
		r.RequestID = a.RequestID
	}
	if r.IP == "" {
		r.IP = a.IP
	}
}
