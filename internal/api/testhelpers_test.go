package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/custodia/custodia/internal/identity"
)

func withPrincipal(r *http.Request, p *identity.Principal) context.Context {
	return identity.WithPrincipal(r.Context(), p)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
