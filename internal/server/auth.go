package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/request"
)

// credential says how a request was authenticated.
type credential int

const (
	credNone    credential = iota
	credSession            // the session cookie: ambient, needs CSRF protection
	credBearer             // an API token in Authorization: not sent by browsers on their own
)

type credentialKey struct{}

// authenticate resolves the caller: an API token (Authorization: Bearer) or
// the session cookie. A bad token is refused with 401; a bad or expired
// session cookie leaves the request anonymous (the router then sends the
// console to the sign-in page). The principal goes in the context for the
// router and handlers (identity.PrincipalFrom) and for audit records
// (audit.ActorFrom).
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var p *identity.Principal
		cred := credNone
		if authz := r.Header.Get("Authorization"); authz != "" {
			scheme, token, _ := strings.Cut(authz, " ")
			token = strings.TrimSpace(token)
			if !strings.EqualFold(scheme, "Bearer") || token == "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="custodia"`)
				writeError(w, r, http.StatusUnauthorized, "Authorization must be \"Bearer <API token>\".")
				return
			}
			var err error
			if s.auth != nil {
				p, err = s.auth.TokenPrincipal(ctx, token)
			}
			if s.auth == nil || err != nil || p == nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="custodia", error="invalid_token"`)
				writeError(w, r, http.StatusUnauthorized, "The API token is unknown, revoked or expired.")
				return
			}
			cred = credBearer
		} else if c, err := r.Cookie(s.cookie); err == nil && c.Value != "" && s.auth != nil {
			if sp, err := s.auth.SessionPrincipal(ctx, c.Value); err == nil && sp != nil {
				p, cred = sp, credSession
			} else if err != nil {
				s.log.DebugContext(ctx, "session cookie rejected", "request_id", request.ID(r))
			}
		}
		if p != nil {
			info := request.From(ctx)
			ctx = identity.WithPrincipal(ctx, p)
			ctx = audit.WithActor(ctx, audit.Actor{
				UserID: p.UserID, Name: p.Actor(), RequestID: info.ID, IP: info.IP, ClientIDs: p.ClientIDs,
			})
			setLoggedPrincipal(ctx, p)
		}
		ctx = context.WithValue(ctx, credentialKey{}, cred)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// csrfCheck protects every state-changing request that a browser could send
// on its own: Sec-Fetch-Site/Origin must be same-origin (anonymous forms
// such as sign-in included), and a request authenticated by the session
// cookie must also carry the session's anti-forgery token. Requests with an
// API token are exempt: browsers never attach one by themselves.
func (s *Server) csrfCheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if safeMethod(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		cred, _ := r.Context().Value(credentialKey{}).(credential)
		if cred == credBearer {
			next.ServeHTTP(w, r)
			return
		}
		if err := s.csrf.Check(r); err != nil {
			writeError(w, r, http.StatusForbidden, "Cross-site request refused.")
			return
		}
		if cred == credSession {
			if err := s.auth.CheckCSRF(r, identity.PrincipalFrom(r.Context())); err != nil {
				writeError(w, r, http.StatusForbidden, "The form has expired or did not come from this site; reload the page and try again.")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
