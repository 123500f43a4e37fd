package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/custodia/custodia/internal/problem"
)

// Page size bounds of list endpoints.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// List is the envelope of every list response.
type List[T any] struct {
	Items []T `json:"items"`
	// Total is the number of items matching the filter across all pages,
	// where the server counts them (people, users, tokens).
	Total  *int `json:"total,omitempty"`
	Limit  int  `json:"limit"`
	Offset int  `json:"offset"`
	// NextOffset is the offset of the next page; absent on the last page.
	NextOffset *int `json:"next_offset,omitempty"`
}

// newPage builds a page from up to limit+1 items (the extra one, fetched to
// learn whether there is a next page, is dropped).
func newPage[T any](items []T, limit, offset int) List[T] {
	if items == nil {
		items = []T{}
	}
	l := List[T]{Items: items, Limit: limit, Offset: offset}
	if len(items) > limit {
		l.Items = items[:limit]
		next := offset + limit
		l.NextOffset = &next
	}
	return l
}

// pageOf cuts one page out of a complete, small list.
func pageOf[T any](all []T, limit, offset int) List[T] {
	total := len(all)
	if offset > total {
		offset = total
	}
	end := min(offset+limit, total)
	return newCountedPage(all[offset:end], total, limit, offset)
}

// newCountedPage builds a page of at most limit items out of total.
func newCountedPage[T any](items []T, total, limit, offset int) List[T] {
	l := newPage(items, limit, offset)
	l.Total = &total
	if next := offset + len(l.Items); next < total && len(l.Items) > 0 {
		l.NextOffset = &next
	} else {
		l.NextOffset = nil
	}
	return l
}

// page reads ?limit= and ?offset=, answering 422 for bad values.
func page(r *http.Request) (limit, offset int, err error) {
	q := r.URL.Query()
	var fe []problem.FieldError
	limit, offset = DefaultLimit, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			fe = append(fe, problem.FieldError{Field: "limit", Message: fmt.Sprintf("must be a whole number from 1 to %d", MaxLimit)})
		} else {
			limit = n
		}
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000_000 {
			fe = append(fe, problem.FieldError{Field: "offset", Message: "must be a whole number, 0 or more"})
		} else {
			offset = n
		}
	}
	if len(fe) > 0 {
		return 0, 0, fieldErrs(fe...)
	}
	return limit, offset, nil
}

// queryInt reads an optional positive integer query parameter (0 if absent).
func queryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, fieldErr(name, "must be a positive whole number")
	}
	return n, nil
}

// queryBool reads an optional boolean query parameter (nil if absent).
func queryBool(r *http.Request, name string) (*bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, fieldErr(name, "must be true or false")
	}
	return &b, nil
}

// queryString reads an optional text query parameter of at most max bytes.
func queryString(r *http.Request, name string, max int) (string, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if len(v) > max {
		return "", fieldErr(name, fmt.Sprintf("is too long (at most %d characters)", max))
	}
	return v, nil
}

// pathID reads a positive integer path parameter; anything else is a 404
// (such a resource cannot exist).
func pathID(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, errNotFound
	}
	return n, nil
}

// decode reads a JSON request body into v: the body must be application/json,
// hold exactly one JSON value and no unknown fields. Syntax errors are 400,
// unknown fields and wrong types 422 naming the field, oversized bodies 413.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return httpErr(http.StatusUnsupportedMediaType, "Send the request body as application/json.")
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			var mbe *http.MaxBytesError
			if errors.As(extra, &mbe) {
				return mbe
			}
			return httpErr(http.StatusBadRequest, "The request body must hold a single JSON value.")
		}
		return nil
	}
	return jsonError(err)
}

// jsonError turns a decoding error into a clear 400/413/422.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return mbe
	case errors.Is(err, io.EOF):
		return httpErr(http.StatusBadRequest, "The request body is empty; send a JSON object.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return httpErr(http.StatusBadRequest, "The request body is truncated JSON.")
	case errors.As(err, &syn):
		return httpErr(http.StatusBadRequest, fmt.Sprintf("The request body is not valid JSON (at byte %d).", syn.Offset))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return httpErr(http.StatusBadRequest, "The request body must be a JSON object.")
		}
		return fieldErr(field, "must be "+jsonTypeName(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldErr(name, "is not a known field")
	}
	return httpErr(http.StatusBadRequest, "The request body could not be read as JSON.")
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "a list"
	case "struct", "map":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number"
	case "float32", "float64":
		return "a number"
	}
	return "of another type"
}

// writeJSON sends v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
