package api

import (
	"net/http"

	"github.com/custodia/custodia/internal/org"
)

// ClientInput creates or changes a client; on PATCH absent fields are kept.
type ClientInput struct {
	Code   *string `json:"code,omitempty"`
	Name   *string `json:"name,omitempty"`
	Sector *string `json:"sector,omitempty"`
	Active *bool   `json:"active,omitempty"`
}

func (in ClientInput) apply(c *org.Client) {
	setStr(&c.Code, in.Code)
	setStr(&c.Name, in.Name)
	setStr(&c.Sector, in.Sector)
	if in.Active != nil {
		c.Active = *in.Active
	}
}

// SiteInput creates or changes a site.
type SiteInput struct {
	Code     *string `json:"code,omitempty"`
	Name     *string `json:"name,omitempty"`
	City     *string `json:"city,omitempty"`
	Country  *string `json:"country,omitempty"`
	Timezone *string `json:"timezone,omitempty"`
}

func (in SiteInput) apply(s *org.Site) {
	setStr(&s.Code, in.Code)
	setStr(&s.Name, in.Name)
	setStr(&s.City, in.City)
	setStr(&s.Country, in.Country)
	setStr(&s.Timezone, in.Timezone)
}

// TeamInput creates or changes a team. client_id 0 (or absent on create)
// makes an internal team.
type TeamInput struct {
	Code     *string `json:"code,omitempty"`
	Name     *string `json:"name,omitempty"`
	SiteID   *int64  `json:"site_id,omitempty"`
	ClientID *int64  `json:"client_id,omitempty"`
}

func (in TeamInput) apply(t *org.Team) {
	setStr(&t.Code, in.Code)
	setStr(&t.Name, in.Name)
	if in.SiteID != nil {
		t.SiteID = *in.SiteID
	}
	if in.ClientID != nil {
		t.ClientID = *in.ClientID
	}
}

func setStr(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// listClients: GET /clients?q=&active=
func (s *Server) listClients(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	q, err := queryString(r, "q", 200)
	if err != nil {
		return err
	}
	active, err := queryBool(r, "active")
	if err != nil {
		return err
	}
	items, err := s.store.Clients(r.Context(), org.ClientFilter{Scope: scope(r), Query: q, Active: active, Page: org.Page{Limit: limit + 1, Offset: offset}})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(items, limit, offset))
	return nil
}

func (s *Server) getClient(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.Client(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) createClient(w http.ResponseWriter, r *http.Request) error {
	var in ClientInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if !principal(r).AllClients {
		return httpErr(http.StatusForbidden, "Only users who see every client may create clients.")
	}
	if in.Active != nil && !*in.Active {
		return fieldErr("active", "a new client is always active; deactivate it afterwards with PATCH")
	}
	var c org.Client
	in.apply(&c)
	if err := s.store.CreateClient(r.Context(), &c); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) updateClient(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in ClientInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.store.Client(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	in.apply(c)
	if err := s.store.UpdateClient(r.Context(), c); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) listSites(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	q, err := queryString(r, "q", 200)
	if err != nil {
		return err
	}
	items, err := s.store.Sites(r.Context(), org.SiteFilter{Scope: scope(r), Query: q, Page: org.Page{Limit: limit + 1, Offset: offset}})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(items, limit, offset))
	return nil
}

func (s *Server) getSite(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st, err := s.store.Site(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) createSite(w http.ResponseWriter, r *http.Request) error {
	var in SiteInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var st org.Site
	in.apply(&st)
	if err := s.store.CreateSite(r.Context(), &st); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, st)
	return nil
}

func (s *Server) updateSite(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in SiteInput
	if err := decode(r, &in); err != nil {
		return err
	}
	st, err := s.store.Site(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	in.apply(st)
	if err := s.store.UpdateSite(r.Context(), st); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	q, err := queryString(r, "q", 200)
	if err != nil {
		return err
	}
	site, err := queryInt(r, "site_id")
	if err != nil {
		return err
	}
	client, err := queryInt(r, "client_id")
	if err != nil {
		return err
	}
	items, err := s.store.Teams(r.Context(), org.TeamFilter{Scope: scope(r), Query: q, SiteID: site, ClientID: client, Page: org.Page{Limit: limit + 1, Offset: offset}})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(items, limit, offset))
	return nil
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.store.Team(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) createTeam(w http.ResponseWriter, r *http.Request) error {
	var in TeamInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var t org.Team
	in.apply(&t)
	if err := checkClients(r, "client_id", t.ClientID); err != nil {
		return err
	}
	if err := s.store.CreateTeam(r.Context(), &t); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) updateTeam(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in TeamInput
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := s.store.Team(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	if t.ClientID == 0 && !principal(r).AllClients {
		return httpErr(http.StatusForbidden, "Only users who see every client may change internal teams.")
	}
	in.apply(t)
	if err := checkClients(r, "client_id", t.ClientID); err != nil {
		return err
	}
	if err := s.store.UpdateTeam(r.Context(), t); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}
