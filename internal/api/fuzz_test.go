package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/problem"
)

// FuzzDecode feeds arbitrary bodies to the JSON request decoder: it must
// either fill the value or return a 400/413/415/422 problem, never panic.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"employee_id":"E1","full_name":"Ana","client_ids":[1,2]}`, `{"full_name":`, `[1]`, `null`,
		`{"start_date":"2024-01-01","active":true}`, `{"site_id":"x"}`, `{"nope":1}`, `{} {}`, "\x00", `{"client_ids":[1e400]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/api/v1/people", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Body = http.MaxBytesReader(httptest.NewRecorder(), req.Body, 1<<16)
		var in PersonInput
		err := decode(req, &in)
		if err == nil {
			return
		}
		var pe problemError
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &pe):
			if s := pe.d.Status; s != 400 && s != 415 && s != 422 {
				t.Fatalf("decode(%q) = status %d", body, s)
			}
		case errors.As(err, &mbe):
		default:
			t.Fatalf("decode(%q) = unclassified error %v", body, err)
		}
	})
}

// FuzzQuery feeds arbitrary query strings to the list parameters.
func FuzzQuery(f *testing.F) {
	for _, seed := range []string{"limit=10&offset=20", "limit=0", "limit=999999999999999999999", "offset=-1", "active=maybe", "q=%ZZ", "from=2024-13-01"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequest("GET", "/api/v1/people", nil)
		req.URL.RawQuery = q
		limit, offset, err := page(req)
		if err == nil && (limit < 1 || limit > MaxLimit || offset < 0) {
			t.Fatalf("page(%q) = %d, %d", q, limit, offset)
		}
		for _, fn := range []func() error{
			func() error { _, err := queryBool(req, "active"); return err },
			func() error { _, err := queryInt(req, "team_id"); return err },
			func() error { _, err := queryTime(req, "from"); return err },
			func() error { _, err := queryString(req, "q", 200); return err },
		} {
			if err := fn(); err != nil {
				var pe problemError
				if !errors.As(err, &pe) || pe.d.Status != http.StatusUnprocessableEntity || len(pe.d.Errors) == 0 {
					t.Fatalf("query %q: error %v is not a 422 naming the field", q, err)
				}
			}
		}
		_ = problem.ContentType
	})
}
