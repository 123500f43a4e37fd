package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/org"
)

// Person is a person as the API shows it (dates as YYYY-MM-DD).
type Person struct {
	ID         int64     `json:"id"`
	EmployeeID string    `json:"employee_id"`
	FullName   string    `json:"full_name"`
	Email      string    `json:"email"`
	JobRole    string    `json:"job_role"`
	SiteID     int64     `json:"site_id,omitempty"`
	SiteName   string    `json:"site_name,omitempty"`
	TeamID     int64     `json:"team_id,omitempty"`
	TeamName   string    `json:"team_name,omitempty"`
	ClientIDs  []int64   `json:"client_ids" doc:"the clients the person works for, limited to the caller's scope"`
	StartDate  string    `json:"start_date,omitempty" doc:"YYYY-MM-DD"`
	LeaveDate  string    `json:"leave_date,omitempty" doc:"YYYY-MM-DD"`
	Active     bool      `json:"active"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func personOut(p *org.Person) Person {
	ids := p.ClientIDs
	if ids == nil {
		ids = []int64{}
	}
	return Person{ID: p.ID, EmployeeID: p.EmployeeID, FullName: p.FullName, Email: p.Email, JobRole: p.JobRole,
		SiteID: p.SiteID, SiteName: p.SiteName, TeamID: p.TeamID, TeamName: p.TeamName, ClientIDs: ids,
		StartDate: org.FormatDate(p.StartDate), LeaveDate: org.FormatDate(p.LeaveDate), Active: p.Active,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// PersonInput creates or changes a person; on PATCH absent fields are kept.
// Dates are YYYY-MM-DD; an empty string clears them.
type PersonInput struct {
	EmployeeID *string  `json:"employee_id,omitempty"`
	FullName   *string  `json:"full_name,omitempty"`
	Email      *string  `json:"email,omitempty"`
	JobRole    *string  `json:"job_role,omitempty"`
	SiteID     *int64   `json:"site_id,omitempty"`
	TeamID     *int64   `json:"team_id,omitempty"`
	ClientIDs  *[]int64 `json:"client_ids,omitempty"`
	StartDate  *string  `json:"start_date,omitempty"`
	LeaveDate  *string  `json:"leave_date,omitempty"`
	Active     *bool    `json:"active,omitempty"`
}

func (in PersonInput) apply(p *org.Person) error {
	setStr(&p.EmployeeID, in.EmployeeID)
	setStr(&p.FullName, in.FullName)
	setStr(&p.Email, in.Email)
	setStr(&p.JobRole, in.JobRole)
	if in.SiteID != nil {
		p.SiteID = *in.SiteID
	}
	if in.TeamID != nil {
		p.TeamID = *in.TeamID
	}
	if in.ClientIDs != nil {
		p.ClientIDs = append([]int64(nil), (*in.ClientIDs)...)
	}
	if in.Active != nil {
		p.Active = *in.Active
	}
	var fe org.FieldErrors
	for _, d := range []struct {
		field string
		in    *string
		out   *time.Time
	}{{"start_date", in.StartDate, &p.StartDate}, {"leave_date", in.LeaveDate, &p.LeaveDate}} {
		if d.in == nil {
			continue
		}
		t, err := org.ParseDate(*d.in)
		if err != nil {
			fe.Add(d.field, err.Error())
			continue
		}
		*d.out = t
	}
	return fe.Err()
}

// DeactivateInput says when a person left (today when absent).
type DeactivateInput struct {
	LeaveDate string `json:"leave_date,omitempty" doc:"YYYY-MM-DD; default today"`
}

func (s *Server) listPeople(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	f := org.PersonFilter{Scope: scope(r), Page: org.Page{Limit: limit, Offset: offset}}
	if f.Query, err = queryString(r, "q", 200); err != nil {
		return err
	}
	if f.ClientID, err = queryInt(r, "client_id"); err != nil {
		return err
	}
	if f.SiteID, err = queryInt(r, "site_id"); err != nil {
		return err
	}
	if f.TeamID, err = queryInt(r, "team_id"); err != nil {
		return err
	}
	if f.Active, err = queryBool(r, "active"); err != nil {
		return err
	}
	people, total, err := s.store.People(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]Person, len(people))
	for i := range people {
		out[i] = personOut(&people[i])
	}
	writeJSON(w, http.StatusOK, newCountedPage(out, total, limit, offset))
	return nil
}

func (s *Server) getPerson(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.store.Person(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, personOut(p))
	return nil
}

func (s *Server) createPerson(w http.ResponseWriter, r *http.Request) error {
	var in PersonInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p := org.Person{Active: true}
	if err := in.apply(&p); err != nil {
		return err
	}
	if err := s.store.CreatePersonScoped(r.Context(), scope(r), &p); err != nil {
		return err
	}
	// Read back for the site and team names.
	if got, err := s.store.Person(r.Context(), scope(r), p.ID); err == nil {
		p = *got
	}
	writeJSON(w, http.StatusCreated, personOut(&p))
	return nil
}

func (s *Server) updatePerson(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in PersonInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := s.store.Person(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	if err := in.apply(p); err != nil {
		return err
	}
	if err := s.store.UpdatePersonScoped(r.Context(), scope(r), p); err != nil {
		return err
	}
	if got, err := s.store.Person(r.Context(), scope(r), id); err == nil {
		p = got
	}
	writeJSON(w, http.StatusOK, personOut(p))
	return nil
}

func (s *Server) deactivatePerson(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in DeactivateInput
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return err
		}
	}
	leave, err := org.ParseDate(in.LeaveDate)
	if err != nil {
		return fieldErr("leave_date", err.Error())
	}
	if _, err := s.store.Person(r.Context(), scope(r), id); err != nil {
		return err // out of scope: 404
	}
	if err := s.store.DeactivatePerson(r.Context(), id, leave); err != nil {
		return err
	}
	p, err := s.store.Person(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, personOut(p))
	return nil
}

// getMyPerson: the caller's own person record (the agents' portal).
func (s *Server) getMyPerson(w http.ResponseWriter, r *http.Request) error {
	pr := principal(r)
	if pr.PersonID == 0 {
		return httpErr(http.StatusNotFound, "Your account is not linked to a person.")
	}
	p, err := s.store.Person(r.Context(), personSelf(pr.PersonID), pr.PersonID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, personOut(p))
	return nil
}

// ImportResponse is the outcome of a people CSV import: the plan (what each
// row does or why it is refused, with line numbers) and, unless it was a dry
// run, what was applied.
type ImportResponse struct {
	DryRun bool              `json:"dry_run"`
	Counts org.ImportCounts  `json:"counts"`
	Items  []org.ImportItem  `json:"items"`
	Result *org.ImportResult `json:"result,omitempty" doc:"what was written (absent on a dry run)"`
}

// importPeople: POST /people/import?dry_run=&accept_valid_rows=&deactivate_missing=
// with the CSV file as the body (text/csv) or as the "file" part of a
// multipart form. A dry run changes nothing. Applying a file with invalid
// rows needs accept_valid_rows=true, else 422 listing the rows; the invalid
// rows are never imported.
func (s *Server) importPeople(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	flags := map[string]bool{}
	for _, name := range []string{"dry_run", "accept_valid_rows", "deactivate_missing"} {
		b, err := queryBool(r, name)
		if err != nil {
			return err
		}
		flags[name] = b != nil && *b
	}
	_ = q
	body, err := csvBody(r)
	if err != nil {
		return err
	}
	defer body.Close()
	rows, err := org.ParsePeopleCSV(body)
	if err != nil {
		return err
	}
	opts := org.ImportOptions{Scope: scope(r), DeactivateMissing: flags["deactivate_missing"], AcceptValidRows: flags["accept_valid_rows"]}
	plan, err := s.store.PlanPeopleImport(r.Context(), rows, opts)
	if err != nil {
		return err
	}
	resp := ImportResponse{DryRun: flags["dry_run"], Counts: plan.Counts, Items: plan.Items}
	if resp.Items == nil {
		resp.Items = []org.ImportItem{}
	}
	if flags["dry_run"] {
		writeJSON(w, http.StatusOK, resp)
		return nil
	}
	res, err := s.store.ApplyPeopleImport(r.Context(), plan)
	if err != nil {
		if errors.Is(err, org.ErrImportNotConfirmed) {
			return fieldErrs(importRowErrors(plan)...)
		}
		return err
	}
	resp.Result = &res
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// importRowErrors lists a plan's row errors as "line N: field" problems.
func importRowErrors(plan *org.ImportPlan) []problemFieldError {
	var out []problemFieldError
	for _, it := range plan.Items {
		for _, e := range it.Errors {
			out = append(out, problemFieldError{Field: fmt.Sprintf("line %d: %s", it.Line, e.Field), Message: e.Message})
		}
	}
	out = append(out, problemFieldError{Field: "accept_valid_rows", Message: "the file has invalid rows: fix them, or confirm with accept_valid_rows=true to import only the valid rows"})
	return out
}

// csvBody returns the uploaded CSV: the "file" part of a multipart form, or
// the raw body (text/csv, text/plain or application/octet-stream).
func csvBody(r *http.Request) (io.ReadCloser, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "multipart/form-data":
		f, _, err := r.FormFile("file")
		if err != nil {
			if IsTooLargeErr(err) {
				return nil, err
			}
			return nil, fieldErr("file", "attach the CSV file as the form field \"file\"")
		}
		return f, nil
	case mt == "", mt == "text/csv", mt == "text/plain", mt == "application/octet-stream", strings.HasSuffix(mt, "/csv"):
		return r.Body, nil
	}
	return nil, httpErr(http.StatusUnsupportedMediaType, "Send the people file as text/csv (or as the \"file\" field of a multipart form).")
}
