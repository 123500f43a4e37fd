package authz

import (
	"net/http"

	"github.com/custodia/custodia/internal/problem"
)

// WriteProblem is the default Options.Problem: an RFC 9457 problem document.
func WriteProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	problem.Error(w, r, status, detail)
}

// problemOnError turns ServeMux's own text/plain 404 and 405 answers into
// problem documents for API paths.
type problemOnError struct {
	http.ResponseWriter
	r        *http.Request
	problem  func(w http.ResponseWriter, r *http.Request, status int, detail string)
	replaced bool
}

func (p *problemOnError) WriteHeader(status int) {
	if status >= 400 && !p.replaced {
		p.replaced = true
		detail := "No such API endpoint."
		if status == http.StatusMethodNotAllowed {
			detail = "This endpoint does not accept " + p.r.Method + "."
		}
		p.problem(p.ResponseWriter, p.r, status, detail)
		return
	}
	p.ResponseWriter.WriteHeader(status)
}

func (p *problemOnError) Write(b []byte) (int, error) {
	if p.replaced {
		return len(b), nil // ServeMux's text body is dropped
	}
	return p.ResponseWriter.Write(b)
}
