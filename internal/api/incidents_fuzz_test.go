package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/incident/desk"
)

// FuzzReportRequest feeds arbitrary bodies to the report decoder and its
// validation: a body is either refused with a 400/413/415/422 problem or
// becomes a valid report input; nothing panics.
func FuzzReportRequest(f *testing.F) {
	for _, seed := range []string{
		`{"category":"suspicious_call","text":"caller asked for a PIN","call_id":"C-1","queue":"cards","calling_number":"+34 911 22 33 44"}`,
		`{"category":"suspicious_email","observables":[{"kind":"url","value":"https://evil.example/x"},{"kind":"ip","value":"203.0.113.9"}]}`,
		`{"category":"other","attachment":{"name":"a.txt","data_base64":"aGVsbG8="}}`,
		`{"category":"other","attachment":{"name":"a.txt","data_base64":"%%%"}}`,
		`{"category":"nope"}`, `{"text":""}`, `{"calling_number":"call me"}`, `{"reporter_email":"x"}`,
		`{"context":{"a":"b"},"text":"x"}`, `{"observables":[{"kind":"colour","value":"red"}],"text":"x"}`,
		`{}`, `[]`, `null`, `{"text":"\u0000"}`, `{"text":"x"} {}`, `{"client_id":-1,"text":"x"}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/api/v1/reports", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Body = http.MaxBytesReader(httptest.NewRecorder(), req.Body, 1<<16)
		var in ReportRequest
		err := decode(req, &in)
		if err == nil {
			_, err = in.toInput()
		}
		if err == nil {
			r := desk.Report{Channel: desk.ChannelAPI, Category: in.Category, Text: in.Text, Severity: in.Severity}
			if verr := r.Validate(); verr != nil {
				t.Fatalf("toInput accepted an invalid report %q: %v", body, verr)
			}
			return
		}
		var pe problemError
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &pe):
			if s := pe.d.Status; s != 400 && s != 415 && s != 422 {
				t.Fatalf("report %q = status %d", body, s)
			}
		case errors.As(err, &mbe):
		default:
			t.Fatalf("report %q = unclassified error %v", body, err)
		}
	})
}
