package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/request"
	"github.com/custodia/custodia/internal/store"
)

//go:embed templates
var templateFS embed.FS

// parseTemplates parses the base layout and partials once, then each page
// on a clone of them, so every page defines its own "title" and "content".
func (s *Server) parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"static": s.assets.url,
		"date":   func(t time.Time) string { return org.FormatDate(t) },
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"add":  func(a, b int) int { return a + b },
		"auto": func(a string, f Field) Field { f.Auto = a; return f },
		"hint": func(h string, f Field) Field { f.Hint = h; return f },
		"qrsrc": func(png []byte) template.URL {
			return template.URL("data:image/png;base64," + base64Std(png))
		},
	}
	base, err := template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/partial_*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/page_*.html")
	if err != nil {
		return nil, err
	}
	pages := make(map[string]*template.Template, len(names))
	for _, n := range names {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFS, n); err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(path.Base(n), "page_"), ".html")
		pages[name] = t
	}
	return pages, nil
}

// view is what every page template receives: the layout's data plus the
// page's own (D).
type view struct {
	s         *Server
	r         *http.Request
	Lang      string
	Title     string // message key of the page title
	P         *identity.Principal
	CSRF      string
	Nav       []navLink
	Path      string
	Flash     string
	FormError string            // shown above the form (translated)
	Errs      map[string]string // field → translated message
	Form      url.Values        // submitted values, to refill a form
	D         any
	RequestID string
	Bare      bool // no navigation (sign-in pages, forced enrolment)
}

// T translates key in the page's language.
func (v *view) T(key string, args ...any) string { return v.s.cat.T(v.Lang, key, args...) }

// RoleName is the translated name of a role.
func (v *view) RoleName(r identity.Role) string { return v.T("role." + string(r)) }

// Err is the translated error of a field, "" if none.
func (v *view) Err(field string) string { return v.Errs[field] }

// Val is the submitted value of a form field.
func (v *view) Val(field string) string { return v.Form.Get(field) }

// Checked reports whether a multi-valued form field holds value.
func (v *view) Checked(field, value string) bool {
	for _, x := range v.Form[field] {
		if x == value {
			return true
		}
	}
	return false
}

// Can reports whether the principal has one of the roles (for showing
// buttons; the routes enforce it).
func (v *view) Can(roles ...string) bool {
	if v.P == nil {
		return false
	}
	for _, r := range roles {
		if string(v.P.Role) == r {
			return true
		}
	}
	return false
}

type sessionTable struct {
	V *view
	S *sessionsData
}

// SessionTable feeds the "session_table" partial.
func (v *view) SessionTable(sd *sessionsData) sessionTable { return sessionTable{V: v, S: sd} }

// Field describes an input for the "field" partial.
type Field struct {
	V        *view
	Name     string
	Label    string // translated
	Type     string
	Value    string
	Required bool
	Hint     string // translated
	Auto     string // autocomplete
	Options  []Option
}

// Option is one choice of a select.
type Option struct {
	Value, Label string
	Selected     bool
}

// Input builds a text-like field: name, label key, type, value, required.
func (v *view) Input(name, labelKey, typ, value string, required bool) Field {
	return Field{V: v, Name: name, Label: v.T(labelKey), Type: typ, Value: value, Required: required}
}

// Select builds a select field.
func (v *view) Select(name, labelKey string, opts []Option, required bool) Field {
	return Field{V: v, Name: name, Label: v.T(labelKey), Type: "select", Options: opts, Required: required}
}

func (s *Server) lang(r *http.Request) string {
	pref := ""
	if p := principal(r); p != nil {
		pref = p.Locale
	}
	if c, err := r.Cookie("custodia_lang"); err == nil && pref == "" {
		pref = c.Value
	}
	return i18n.Negotiate(pref, r.Header.Get("Accept-Language"))
}

// newView prepares the layout data for a page.
func (s *Server) newView(r *http.Request, title string, d any) *view {
	v := &view{s: s, r: r, Lang: s.lang(r), Title: title, P: principal(r), Path: r.URL.Path,
		D: d, Errs: map[string]string{}, Form: url.Values{}, RequestID: request.ID(r)}
	if v.P != nil {
		if tok, err := s.id.CSRFToken(r.Context(), v.P); err == nil {
			v.CSRF = tok
		}
		v.Nav = markActive(s.nav(v.P), r.URL.Path)
	}
	if f := r.URL.Query().Get("flash"); f != "" && s.cat.Has("flash."+f) {
		v.Flash = v.T("flash."+f, flashArgs(f, r.URL.Query()["fa"])...)
	}
	return v
}

// render executes a page template into a buffer first, so a template error
// becomes a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, status int, page string, v *view) error {
	t, ok := s.pages[page]
	if !ok {
		return fmt.Errorf("no template %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", v.Lang)
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Language, Cookie")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	if err != nil {
		return errAlreadyWritten{err}
	}
	return nil
}

// errAlreadyWritten wraps an error that happened after the response began.
type errAlreadyWritten struct{ err error }

func (e errAlreadyWritten) Error() string { return "write response: " + e.err.Error() }

// setFieldErrors turns domain validation errors into translated messages
// next to their fields. It reports whether err was a validation error.
func (v *view) setFieldErrors(err error) bool {
	if fe, ok := org.AsFieldErrors(err); ok {
		for _, e := range fe {
			if _, dup := v.Errs[e.Field]; !dup {
				v.Errs[e.Field] = v.fieldMessage(e.Message)
			}
		}
		v.FormError = v.T("common.form_errors")
		return true
	}
	var ife identity.FieldErrors
	if errors.As(err, &ife) {
		for f, m := range ife {
			v.Errs[f] = v.fieldMessage(m)
		}
		v.FormError = v.T("common.form_errors")
		return true
	}
	return false
}

// FieldMsg translates a domain validation message for templates.
func (v *view) FieldMsg(m string) string { return v.fieldMessage(m) }

// fieldMessage translates a domain validation message (plain English) when
// the catalogue has it under "msg.<text>", else shows it as it is.
func (v *view) fieldMessage(m string) string {
	if v.s.cat.Has("msg." + m) {
		return v.T("msg." + m)
	}
	return m
}

// fail renders err as an error page: the user sees a translated message
// (and the request id for a 500); the details go to the log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var aw errAlreadyWritten
	if errors.As(err, &aw) {
		s.log.DebugContext(r.Context(), "console response cut short", "request_id", request.ID(r), "error", err.Error())
		return
	}
	status, key, args := http.StatusInternalServerError, "error.internal", []any{request.ID(r)}
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		status, key, args = he.status, he.key, he.args
	case errors.Is(err, store.ErrNotFound):
		status, key, args = http.StatusNotFound, "error.not_found", nil
	case errors.Is(err, auth.ErrForbidden):
		status, key, args = http.StatusForbidden, "error.forbidden", nil
	case errors.Is(err, store.ErrConflict):
		status, key, args = http.StatusConflict, "error.conflict", nil
	case errors.As(err, &mbe):
		status, key, args = http.StatusRequestEntityTooLarge, "error.too_large", nil
	default:
		if _, ok := org.AsFieldErrors(err); ok {
			status, key, args = http.StatusUnprocessableEntity, "error.validation", nil
		}
	}
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "console page failed", "request_id", request.ID(r), "path", r.URL.Path, "error", err.Error())
	}
	s.errorPage(w, r, status, s.cat.T(s.lang(r), key, args...))
}

// errorPage writes the error page; it falls back to plain text if even
// that fails.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	v := s.newView(r, "error.title", map[string]any{"Status": status, "Message": msg})
	if err := s.render(w, status, "error", v); err != nil {
		s.log.ErrorContext(r.Context(), "render error page", "request_id", request.ID(r), "error", err.Error())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintln(w, msg)
	}
}

// Deny renders the console's 403 and 404 pages for the router
// (server.Deps.Deny).
func (s *Server) Deny(w http.ResponseWriter, r *http.Request, status int) {
	key := "error.forbidden"
	if status == http.StatusNotFound {
		key = "error.not_found"
	}
	s.errorPage(w, r, status, s.cat.T(s.lang(r), key))
}

// redirect answers a POST with 303 See Other (POST-redirect-GET).
func redirect(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// withFlash adds a flash message key to a local URL.
func withFlash(to, flash string) string {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	return to + sep + "flash=" + url.QueryEscape(flash)
}

// pathID parses the {id} wildcard; a malformed id is a 404.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound
	}
	return id, nil
}

// parseForm reads an urlencoded or multipart form; a body over the limit is 413.
func parseForm(r *http.Request) error {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(8 << 20)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return &httpError{status: http.StatusBadRequest, key: "error.bad_request", err: err}
	}
	return nil
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// flashArgs are the numbers a flash message shows (only "imported" has
// any); anything else in the query is ignored, so a crafted link cannot put
// text on the page.
func flashArgs(flash string, raw []string) []any {
	if flash != "imported" || len(raw) != 4 {
		if flash == "imported" {
			return []any{0, 0, 0, 0}
		}
		return nil
	}
	args := make([]any, len(raw))
	for i, s := range raw {
		n, err := strconv.Atoi(s)
		if err != nil {
			n = 0
		}
		args[i] = n
	}
	return args
}
