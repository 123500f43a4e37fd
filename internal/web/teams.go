package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/custodia/custodia/internal/org"
)

type teamsData struct {
	Teams []teamRow
	Query string
}

type teamRow struct {
	org.Team
	SiteName, ClientName string
}

type teamForm struct {
	Team    org.Team
	New     bool
	CanEdit bool
	Sites   []Option
	Clients []Option
}

func (rf *refs) siteName(id int64) string {
	for _, s := range rf.sites {
		if s.ID == id {
			return s.Name
		}
	}
	return ""
}

func (s *Server) teamList(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	sc := scope(r)
	list, err := s.store.Teams(r.Context(), org.TeamFilter{Scope: sc, Query: q, Page: org.Page{Limit: org.MaxLimit}})
	if err != nil {
		return err
	}
	rf, err := s.loadRefs(r.Context(), sc)
	if err != nil {
		return err
	}
	d := &teamsData{Query: q}
	for _, t := range list {
		row := teamRow{Team: t, SiteName: rf.siteName(t.SiteID)}
		if t.ClientID != 0 {
			row.ClientName = rf.clientName(t.ClientID)
		}
		d.Teams = append(d.Teams, row)
	}
	return s.render(w, http.StatusOK, "teams", s.newView(r, "teams.title", d))
}

func (s *Server) teamFormView(r *http.Request, title string, f *teamForm) (*view, error) {
	rf, err := s.loadRefs(r.Context(), scope(r))
	if err != nil {
		return nil, err
	}
	v := s.newView(r, title, f)
	f.Sites = rf.siteOptions("", f.Team.SiteID)
	f.Clients = rf.clientOptions(v.T("teams.internal"), f.Team.ClientID)
	return v, nil
}

func (s *Server) teamNew(w http.ResponseWriter, r *http.Request) error {
	v, err := s.teamFormView(r, "teams.new", &teamForm{New: true, CanEdit: true})
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "team_form", v)
}

// teamFromForm reads the form; a client the user cannot see is a field error.
func teamFromForm(r *http.Request, t *org.Team) org.FieldErrors {
	var fe org.FieldErrors
	t.Code = r.PostForm.Get("code")
	t.Name = r.PostForm.Get("name")
	t.SiteID, _ = strconv.ParseInt(r.PostForm.Get("site_id"), 10, 64)
	t.ClientID = 0
	if c := r.PostForm.Get("client_id"); c != "" {
		id, err := strconv.ParseInt(c, 10, 64)
		if err != nil || id <= 0 || !principal(r).CanSeeClient(id) {
			fe.Add("client_id", "is not a valid client")
		} else {
			t.ClientID = id
		}
	}
	return fe
}

func (s *Server) teamSave(w http.ResponseWriter, r *http.Request, t *org.Team, isNew bool) error {
	fe := teamFromForm(r, t)
	var err error = fe.Err()
	if err == nil {
		if isNew {
			err = s.store.CreateTeam(r.Context(), t)
		} else {
			err = s.store.UpdateTeam(r.Context(), t)
		}
	}
	if err != nil {
		title := "teams.edit"
		if isNew {
			title = "teams.new"
		}
		v, verr := s.teamFormView(r, title, &teamForm{Team: *t, New: isNew, CanEdit: true})
		if verr != nil {
			return verr
		}
		if v.setFieldErrors(err) {
			return s.render(w, http.StatusUnprocessableEntity, "team_form", v)
		}
		return err
	}
	return redirect(w, r, withFlash("/teams", "saved"))
}

func (s *Server) teamCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	return s.teamSave(w, r, &org.Team{}, true)
}

func (s *Server) teamEdit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.store.Team(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	f := &teamForm{Team: *t}
	v, err := s.teamFormView(r, "teams.edit", f)
	if err != nil {
		return err
	}
	f.CanEdit = v.Can("admin")
	return s.render(w, http.StatusOK, "team_form", v)
}

func (s *Server) teamUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	t, err := s.store.Team(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	return s.teamSave(w, r, t, false)
}
