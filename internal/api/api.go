// Package api is Custodia's JSON API under /api/v1: everything the console
// does, for integrations and scripts. Each endpoint is declared once as an
// operation (method, path, policy, parameters, request and response types);
// the same declarations register the routes in the authz router and generate
// the OpenAPI 3.1 document served at /api/v1/openapi.json, so the two cannot
// drift. Errors are RFC 9457 problem documents (internal/problem).
package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sort"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/problem"
	"github.com/custodia/custodia/internal/request"
	"github.com/custodia/custodia/internal/store"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1"

// Deps is what the API needs.
type Deps struct {
	Store  *store.Store
	Logger *slog.Logger
	// Identity is the identity service (users, sessions, tokens); may be nil
	// in tests of other endpoints, in which case those endpoints answer 503.
	Identity Identity
	// Tokens manages API tokens (auth.Service); nil answers 503.
	Tokens Tokens
	// Credentials manages passwords and MFA (auth.Service); nil answers 503.
	Credentials Credentials
	// Version is the binary's version for the OpenAPI document.
	Version string

	// Product modules, each declared in its own files (fleet.go,
	// incidents.go, isms.go, dataprotection.go); a module whose services
	// are nil declares no operations.
	Fleet          FleetDeps
	Incidents      IncidentsDeps
	ISMS           ISMSDeps
	DataProtection DataProtectionDeps
	// IncidentResponse: regulatory clocks, breach register, notifications.
	IncidentResponse IncidentResponseDeps
	// ISMSRisk: assets, risks, policies, audits.
	ISMSRisk ISMSRiskDeps
}

// Server serves the API.
type Server struct {
	store   *store.Store
	log     *slog.Logger
	id      Identity
	tokens  Tokens
	creds   Credentials
	version string
	ops     []*operation

	fleet          FleetDeps
	incidents      IncidentsDeps
	isms           ISMSDeps
	dataprotection DataProtectionDeps
	response       IncidentResponseDeps
	ismsRisk       ISMSRiskDeps
}

// New returns the API server with every operation declared.
func New(d Deps) *Server {
	s := &Server{store: d.Store, log: d.Logger, id: d.Identity, tokens: d.Tokens, creds: d.Credentials, version: d.Version,
		fleet: d.Fleet, incidents: d.Incidents, isms: d.ISMS, dataprotection: d.DataProtection,
		response: d.IncidentResponse, ismsRisk: d.ISMSRisk}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.version == "" {
		s.version = "dev"
	}
	s.declare()
	return s
}

// handlerFunc is an API handler: it writes a success response itself and
// returns an error for anything else (see (*Server).fail).
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// operation is one API endpoint and its documentation.
type operation struct {
	Method  string
	Path    string // under Prefix, e.g. "/people/{id}"
	Policy  authz.Policy
	ID      string // OpenAPI operationId
	Tag     string
	Summary string
	Params  []param
	// Request is a zero value of the JSON request body type (nil: no body).
	Request any
	// RequestCSV: the body is text/csv instead of JSON.
	RequestCSV bool
	// Status is the success status (default 200).
	Status int
	// Response is a zero value of the success body type (nil: 204 No Content).
	Response any
	// ResponseType overrides the media type (e.g. application/x-ndjson).
	ResponseType string
	Handler      handlerFunc
}

// param is a path or query parameter.
type param struct {
	Name     string
	In       string // "path" or "query"
	Type     string // "integer", "string", "boolean"
	Required bool
	Doc      string
}

func pathParam(name, doc string) param {
	return param{Name: name, In: "path", Type: "integer", Required: true, Doc: doc}
}

func queryParam(name, typ, doc string) param {
	return param{Name: name, In: "query", Type: typ, Doc: doc}
}

// pageParams are the pagination query parameters of list endpoints.
var pageParams = []param{
	queryParam("limit", "integer", fmt.Sprintf("page size, 1 to %d (default %d)", MaxLimit, DefaultLimit)),
	queryParam("offset", "integer", "number of items to skip (default 0)"),
}

func (s *Server) add(op *operation) {
	if op.Status == 0 {
		op.Status = http.StatusOK
		if op.Response == nil {
			op.Status = http.StatusNoContent
		}
	}
	s.ops = append(s.ops, op)
}

// Register registers every API route in the router.
func (s *Server) Register(r *authz.Router) {
	for _, op := range s.ops {
		op := op
		pol := op.Policy
		if pol.Doc == "" {
			pol.Doc = op.Summary
		}
		r.Handle(op.Method+" "+Prefix+op.Path, pol, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if err := op.Handler(w, req); err != nil {
				s.fail(w, req, err)
			}
		}))
	}
}

// Errors handlers return for common answers.
var (
	errNotFound    = httpErr(http.StatusNotFound, "Not found.")
	errUnavailable = httpErr(http.StatusServiceUnavailable, "This function is not available on this server.")
)

// problemError lets a *problem.Details be returned as an error.
type problemError struct{ d *problem.Details }

func (e problemError) Error() string { return e.d.Detail }

// fieldErr returns a 422 for one invalid field.
func fieldErr(field, msg string) error {
	return fieldErrs(problem.FieldError{Field: field, Message: msg})
}

func fieldErrs(fe ...problem.FieldError) error {
	return problemError{&problem.Details{Status: http.StatusUnprocessableEntity, Detail: "The request has invalid fields.", Errors: fe}}
}

func httpErr(status int, detail string) error {
	return problemError{&problem.Details{Status: status, Detail: detail}}
}

// fail maps err to a problem document. Validation errors become 422 with
// their fields, not-found 404, conflicts 409, oversized bodies 413; anything
// else is logged with the request id and answered 500 without details.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var pe problemError
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, store.ErrConflict) && asFieldErrors(err) != nil:
		problem.Write(w, r, &problem.Details{Status: http.StatusConflict, Detail: "It conflicts with an existing record.", Errors: asFieldErrors(err)})
	case errors.As(err, &pe):
		d := *pe.d
		problem.Write(w, r, &d)
	case asFieldErrors(err) != nil:
		problem.Write(w, r, &problem.Details{Status: http.StatusUnprocessableEntity, Detail: "The request has invalid fields.", Errors: asFieldErrors(err)})
	case errors.As(err, &mbe):
		problem.Error(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than the %d bytes this server accepts.", mbe.Limit))
	case errors.Is(err, auth.ErrBadCode):
		problem.Write(w, r, &problem.Details{Status: http.StatusUnprocessableEntity, Detail: "The request has invalid fields.",
			Errors: []problem.FieldError{{Field: "code", Message: "wrong or already used code"}}})
	case errors.Is(err, auth.ErrMFAEnrolled):
		problem.Error(w, r, http.StatusConflict, "Two-factor authentication is already set up; an administrator can reset it.")
	case errors.Is(err, auth.ErrForbidden):
		problem.Error(w, r, http.StatusForbidden, "You are not allowed to do this.")
	case errors.Is(err, store.ErrNotFound):
		problem.Error(w, r, http.StatusNotFound, "Not found.")
	case errors.Is(err, store.ErrConflict):
		problem.Error(w, r, http.StatusConflict, "It conflicts with an existing record (a code, employee id, username or email already in use).")
	default:
		s.log.ErrorContext(r.Context(), "api request failed", "request_id", request.ID(r), "route", r.Pattern, "error", err.Error())
		problem.Error(w, r, http.StatusInternalServerError, "Something went wrong on our side. Quote the request id if you report it.")
	}
}

// fieldLister is implemented by validation errors of other domains that
// report field-level problems the same way org.FieldErrors does.
type fieldLister interface {
	FieldErrors() []problem.FieldError
}

// asFieldErrors extracts field errors from a validation error of any domain:
// a fieldLister, or a slice of structs with Field and Message strings.
func asFieldErrors(err error) []problem.FieldError {
	if err == nil {
		return nil
	}
	if fl, ok := err.(fieldLister); ok {
		return fl.FieldErrors()
	}
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Map:
		if v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.String && v.Len() > 0 {
			keys := make([]string, 0, v.Len())
			for _, k := range v.MapKeys() {
				keys = append(keys, k.String())
			}
			sort.Strings(keys)
			out := make([]problem.FieldError, len(keys))
			for i, k := range keys {
				out[i] = problem.FieldError{Field: k, Message: v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())).String()}
			}
			return out
		}
	case reflect.Slice:
		if out := fieldsOf(v); len(out) > 0 {
			return out
		}
	case reflect.Struct:
		if f, m := v.FieldByName("Field"), v.FieldByName("Message"); f.IsValid() && m.IsValid() && f.Kind() == reflect.String && m.Kind() == reflect.String {
			return []problem.FieldError{{Field: f.String(), Message: m.String()}}
		}
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return asFieldErrors(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if out := asFieldErrors(e); out != nil {
				return out
			}
		}
	}
	return nil
}

func fieldsOf(v reflect.Value) []problem.FieldError {
	var out []problem.FieldError
	for i := 0; i < v.Len(); i++ {
		el := v.Index(i)
		if el.Kind() != reflect.Struct {
			return nil
		}
		f, m := el.FieldByName("Field"), el.FieldByName("Message")
		if !f.IsValid() || !m.IsValid() || f.Kind() != reflect.String || m.Kind() != reflect.String {
			return nil
		}
		out = append(out, problem.FieldError{Field: f.String(), Message: m.String()})
	}
	return out
}
