package web

import (
	"errors"
	"net/http"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/identity/sso"
)

// authFailure maps an identity service error to a status and the message
// key the user sees; ok is false for an internal error.
func authFailure(err error) (status int, key string, args []any, ok bool) {
	var te *identity.ThrottledError
	switch {
	case errors.As(err, &te):
		mins := int((te.RetryAfter + 59_999_999_999) / 60_000_000_000)
		if mins < 1 {
			mins = 1
		}
		return http.StatusTooManyRequests, "login.throttled", []any{mins}, true
	case errors.Is(err, auth.ErrBadCredentials):
		return http.StatusUnauthorized, "login.bad_credentials", nil, true
	case errors.Is(err, auth.ErrInactive):
		return http.StatusForbidden, "login.inactive", nil, true
	case errors.Is(err, auth.ErrBadCode):
		return http.StatusUnprocessableEntity, "login.bad_code", nil, true
	case errors.Is(err, auth.ErrSessionInvalid):
		return http.StatusUnauthorized, "login.session_expired", nil, true
	case errors.Is(err, sso.ErrState), errors.Is(err, sso.ErrProvider), errors.Is(err, sso.ErrNoRole):
		return http.StatusUnauthorized, "login.sso_failed", nil, true
	}
	return 0, "", nil, false
}
