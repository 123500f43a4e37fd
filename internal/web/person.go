package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/custodia/custodia/internal/org"
)

type personData struct {
	Person      org.Person
	ClientNames string
	CanEdit     bool
	New         bool
	Sites       []Option
	Teams       []Option
	Clients     []Option
}

func (s *Server) personDetail(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sc := scope(r)
	p, err := s.store.Person(r.Context(), sc, id)
	if err != nil {
		return err
	}
	rf, err := s.loadRefs(r.Context(), sc)
	if err != nil {
		return err
	}
	v := s.newView(r, "people.detail", nil)
	v.D = &personData{Person: *p, ClientNames: rf.clientNames(p.ClientIDs), CanEdit: v.Can("admin", "security")}
	return s.render(w, http.StatusOK, "person", v)
}

func (s *Server) personFormView(r *http.Request, title string, d *personData) (*view, error) {
	rf, err := s.loadRefs(r.Context(), scope(r))
	if err != nil {
		return nil, err
	}
	v := s.newView(r, title, d)
	none := v.T("common.none")
	d.Sites = rf.siteOptions(none, d.Person.SiteID)
	d.Teams = rf.teamOptions(none, d.Person.TeamID)
	for _, c := range rf.clients {
		d.Clients = append(d.Clients, Option{Value: itoa64(c.ID), Label: c.Name, Selected: slices.Contains(d.Person.ClientIDs, c.ID)})
	}
	d.CanEdit = true
	return v, nil
}

func (s *Server) personNew(w http.ResponseWriter, r *http.Request) error {
	v, err := s.personFormView(r, "people.new", &personData{Person: org.Person{Active: true, JobRole: "agent"}, New: true})
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "person_form", v)
}

// personFromForm reads the form into p; malformed numbers and dates are
// field errors.
func personFromForm(r *http.Request, p *org.Person) org.FieldErrors {
	var fe org.FieldErrors
	f := r.PostForm
	p.EmployeeID = f.Get("employee_id")
	p.FullName = f.Get("full_name")
	p.Email = f.Get("email")
	p.JobRole = f.Get("job_role")
	p.Active = f.Get("active") == "on"
	optID := func(name string) int64 {
		s := f.Get(name)
		if s == "" {
			return 0
		}
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			fe.Add(name, "is not valid")
			return 0
		}
		return id
	}
	p.SiteID = optID("site_id")
	p.TeamID = optID("team_id")
	p.ClientIDs = p.ClientIDs[:0:0]
	for _, c := range f["client_ids"] {
		id, err := strconv.ParseInt(c, 10, 64)
		if err != nil || id <= 0 {
			fe.Add("client_ids", "contains an invalid client")
			break
		}
		p.ClientIDs = append(p.ClientIDs, id)
	}
	for _, d := range []struct {
		name string
		out  *time.Time
	}{{"start_date", &p.StartDate}, {"leave_date", &p.LeaveDate}} {
		t, err := org.ParseDate(f.Get(d.name))
		if err != nil {
			fe.Add(d.name, err.Error())
			continue
		}
		*d.out = t
	}
	return fe
}

func (s *Server) personSave(w http.ResponseWriter, r *http.Request, p *org.Person, isNew bool) error {
	sc := scope(r)
	fe := personFromForm(r, p)
	if len(fe) > 0 {
		// Show the domain's problems with the other fields too.
		if dfe, ok := org.AsFieldErrors(p.Validate()); ok {
			for _, e := range dfe {
				if !fe.Has(e.Field) {
					fe = append(fe, e)
				}
			}
		}
	}
	var err error = fe.Err()
	if err == nil {
		if isNew {
			err = s.store.CreatePersonScoped(r.Context(), sc, p)
		} else {
			err = s.store.UpdatePersonScoped(r.Context(), sc, p)
		}
	}
	if err != nil {
		title := "people.edit"
		if isNew {
			title = "people.new"
		}
		v, verr := s.personFormView(r, title, &personData{Person: *p, New: isNew})
		if verr != nil {
			return verr
		}
		v.Form = r.PostForm
		if v.setFieldErrors(err) {
			return s.render(w, http.StatusUnprocessableEntity, "person_form", v)
		}
		return err
	}
	return redirect(w, r, withFlash("/people/"+itoa64(p.ID), "saved"))
}

func (s *Server) personCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	return s.personSave(w, r, &org.Person{}, true)
}

func (s *Server) personEdit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.store.Person(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	v, err := s.personFormView(r, "people.edit", &personData{Person: *p})
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "person_form", v)
}

func (s *Server) personUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	p, err := s.store.Person(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	return s.personSave(w, r, p, false)
}

// personDeactivate marks a leaver inactive (never deleted); the store
// revokes their accounts' sessions and tokens in the same transaction.
func (s *Server) personDeactivate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	if _, err := s.store.Person(r.Context(), scope(r), id); err != nil {
		return err
	}
	leave, err := org.ParseDate(r.PostForm.Get("leave_date"))
	if err != nil {
		return errStatus(http.StatusUnprocessableEntity, "validation.invalid_date")
	}
	if leave.IsZero() {
		leave = org.Day(s.now().UTC())
	}
	if err := s.store.DeactivatePerson(r.Context(), id, leave); err != nil {
		return err
	}
	return redirect(w, r, withFlash("/people/"+itoa64(id), "deactivated"))
}
