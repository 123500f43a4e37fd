package problem

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	w := httptest.NewRecorder()
	w.Header().Set("X-Request-Id", "rid-1")
	w.Header().Set("Content-Length", "99")
	r := httptest.NewRequest("POST", "/api/v1/people?x=1", nil)
	Write(w, r, &Details{Status: 422, Detail: "bad", Errors: []FieldError{{Field: "email", Message: "is not valid"}}})
	if w.Code != 422 || w.Header().Get("Content-Type") != ContentType || w.Header().Get("Content-Length") != "" {
		t.Fatalf("Write: %d %v", w.Code, w.Header())
	}
	var d Details
	if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if d.Type != TypeURI(422) || d.Title != "Unprocessable Entity" || d.Instance != "/api/v1/people" || d.RequestID != "rid-1" || d.Errors[0].Field != "email" {
		t.Errorf("problem = %+v", d)
	}
	w = httptest.NewRecorder()
	Error(w, r, 404, "Not found.")
	d = Details{}
	json.Unmarshal(w.Body.Bytes(), &d)
	if d.Type != "about:blank" || d.Status != 404 || len(d.Errors) != 0 {
		t.Errorf("Error(404) = %+v", d)
	}
}
