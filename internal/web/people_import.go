package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/custodia/custodia/internal/org"
)

// The import is stateless: the preview page carries the file's text in a
// hidden field, and applying it parses and plans it again (the store plans
// once more inside its transaction), so nothing half-done is kept on the
// server between the two steps.

type importData struct {
	Plan              *org.ImportPlan
	CSV               string
	DeactivateMissing bool
	Errors            []org.ImportItem
	Changes           []org.ImportItem
	Unchanged         int
}

func (s *Server) importPage(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, http.StatusOK, "people_import", s.newView(r, "import.title", &importData{}))
}

// readImportFile takes the uploaded file (or, as a fallback, pasted text).
func readImportFile(r *http.Request) (string, error) {
	f, _, err := r.FormFile("file")
	if err == nil {
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, org.MaxImportBytes+1))
		if err != nil {
			return "", err
		}
		if len(b) > org.MaxImportBytes {
			return "", org.FieldErrors{{Field: "file", Message: "is too large"}}
		}
		if len(b) > 0 {
			return string(b), nil
		}
	} else if !errors.Is(err, http.ErrMissingFile) && !errors.Is(err, http.ErrNotMultipart) {
		return "", err
	}
	if t := r.PostFormValue("text"); strings.TrimSpace(t) != "" {
		return t, nil
	}
	return "", org.FieldErrors{{Field: "file", Message: "is required"}}
}

func (s *Server) importPreview(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	v := s.newView(r, "import.title", &importData{})
	text, err := readImportFile(r)
	if err != nil {
		if v.setFieldErrors(err) {
			return s.render(w, http.StatusUnprocessableEntity, "people_import", v)
		}
		return err
	}
	deactivate := r.PostForm.Get("deactivate_missing") == "on"
	return s.renderPlan(w, r, v, text, deactivate, false, nil)
}

// renderPlan parses and plans text and shows the preview (or the upload
// form with the file's error).
func (s *Server) renderPlan(w http.ResponseWriter, r *http.Request, v *view, text string, deactivate, accept bool, applyErr error) error {
	rows, err := org.ParsePeopleCSV(strings.NewReader(text))
	if err != nil {
		if v.setFieldErrors(err) {
			v.D = &importData{}
			return s.render(w, http.StatusUnprocessableEntity, "people_import", v)
		}
		return err
	}
	plan, err := s.store.PlanPeopleImport(r.Context(), rows, org.ImportOptions{
		Scope: scope(r), DeactivateMissing: deactivate, AcceptValidRows: accept, Today: s.now().UTC()})
	if err != nil {
		return err
	}
	d := &importData{Plan: plan, CSV: text, DeactivateMissing: deactivate}
	for _, it := range plan.Items {
		switch it.Action {
		case org.ActionError:
			d.Errors = append(d.Errors, it)
		case org.ActionUnchanged:
			d.Unchanged++
		default:
			d.Changes = append(d.Changes, it)
		}
	}
	v.D = d
	status := http.StatusOK
	if applyErr != nil {
		status = http.StatusUnprocessableEntity
		v.Errs["accept_valid_rows"] = v.T("import.confirm_needed")
		v.FormError = v.T("common.form_errors")
	}
	return s.render(w, status, "people_import_preview", v)
}

func (s *Server) importApply(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	text := r.PostForm.Get("csv")
	deactivate := r.PostForm.Get("deactivate_missing") == "on"
	accept := r.PostForm.Get("accept_valid_rows") == "on"
	v := s.newView(r, "import.title", &importData{})
	rows, err := org.ParsePeopleCSV(strings.NewReader(text))
	if err != nil {
		if v.setFieldErrors(err) {
			return s.render(w, http.StatusUnprocessableEntity, "people_import", v)
		}
		return err
	}
	plan := &org.ImportPlan{Rows: rows, Options: org.ImportOptions{
		Scope: scope(r), DeactivateMissing: deactivate, AcceptValidRows: accept, Today: s.now().UTC()}}
	res, err := s.store.ApplyPeopleImport(r.Context(), plan)
	if errors.Is(err, org.ErrImportNotConfirmed) {
		return s.renderPlan(w, r, v, text, deactivate, false, err)
	}
	if err != nil {
		if v.setFieldErrors(err) {
			return s.renderPlan(w, r, v, text, deactivate, accept, nil)
		}
		return err
	}
	to := "/people?flash=imported&fa=" + strconv.Itoa(res.Created) + "&fa=" + strconv.Itoa(res.Updated) +
		"&fa=" + strconv.Itoa(res.Deactivated) + "&fa=" + strconv.Itoa(res.Skipped)
	return redirect(w, r, to)
}
