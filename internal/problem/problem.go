// Package problem writes HTTP API errors as RFC 9457 problem details
// (application/problem+json), with field-level errors for validation failures.
// What it writes is meant for the caller; internal details are logged, never
// put in a problem.
package problem

import (
	"encoding/json"
	"net/http"
)

// ContentType is the media type of a problem document.
const ContentType = "application/problem+json"

// FieldError is one invalid field of a request.
type FieldError struct {
	// Field is the JSON name of the field (dotted for nested fields, "rows[3].email" for lists).
	Field string `json:"field"`
	// Message says what is wrong, for a person.
	Message string `json:"message"`
}

// Details is an RFC 9457 problem document.
type Details struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
	// RequestID lets an operator find the log lines of the failed request.
	RequestID string `json:"request_id,omitempty"`
}

// TypeURI returns the problem type for a status: "about:blank" as RFC 9457
// recommends when the status says it all, except for validation failures.
func TypeURI(status int) string {
	switch status {
	case http.StatusUnprocessableEntity:
		return "https://custodia.dev/problems/validation"
	case http.StatusRequestEntityTooLarge:
		return "https://custodia.dev/problems/too-large"
	}
	return "about:blank"
}

// New returns a problem for status with a human-readable detail.
func New(status int, detail string) *Details {
	return &Details{Type: TypeURI(status), Title: http.StatusText(status), Status: status, Detail: detail}
}

// Write sends d. Instance defaults to the request path; RequestID to the
// request's X-Request-Id response header when the middleware set one.
func Write(w http.ResponseWriter, r *http.Request, d *Details) {
	if d.Type == "" {
		d.Type = TypeURI(d.Status)
	}
	if d.Title == "" {
		d.Title = http.StatusText(d.Status)
	}
	if d.Instance == "" && r != nil {
		d.Instance = r.URL.Path
	}
	if d.RequestID == "" {
		d.RequestID = w.Header().Get("X-Request-Id")
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(d.Status)
	_ = json.NewEncoder(w).Encode(d)
}

// Error writes a problem with status and detail.
func Error(w http.ResponseWriter, r *http.Request, status int, detail string) {
	Write(w, r, New(status, detail))
}
