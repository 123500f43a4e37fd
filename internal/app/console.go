package app

import (
	"net/http"

	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/server"
)

// newConsole builds the web console. Until the console is wired it returns
// nil and the server serves the API and operational endpoints only.
func newConsole(o Options, svc *auth.Service) (server.Registrar, func(http.ResponseWriter, *http.Request, int), error) {
	return nil, nil, nil
}
