// Package request carries what the server's middleware learned about an HTTP
// request — its id, the client's address after trusted proxies, whether it
// arrived over HTTPS — to the handlers of the console and the API.
package request

import (
	"context"
	"net/http"
	"time"
)

// Info describes the request being served.
type Info struct {
	// ID is the request id (X-Request-Id), also in every log line and audit entry.
	ID string
	// IP is the client's address: the TCP peer, or the address a trusted
	// reverse proxy forwarded (X-Forwarded-For). Use it for throttling and audit.
	IP string
	// Secure is true when the client reached us over HTTPS, directly or
	// through a trusted proxy (X-Forwarded-Proto: https). Cookies get Secure.
	Secure bool
	// Start is when the server began serving the request.
	Start time.Time
}

type infoKey struct{}

// WithInfo returns a context carrying info.
func WithInfo(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// From returns the request's Info, or an empty Info outside the server (tests).
func From(ctx context.Context) *Info {
	if i, ok := ctx.Value(infoKey{}).(*Info); ok {
		return i
	}
	return &Info{}
}

// Secure reports whether r arrived over HTTPS (directly or via a trusted proxy).
func Secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return From(r.Context()).Secure
}

// IP returns the client address of r as decided by the server middleware.
func IP(r *http.Request) string { return From(r.Context()).IP }

// ID returns the request id of r.
func ID(r *http.Request) string { return From(r.Context()).ID }
