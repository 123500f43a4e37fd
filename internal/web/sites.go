package web

import (
	"net/http"
	"strings"

	"github.com/custodia/custodia/internal/org"
)

type sitesData struct {
	Sites []org.Site
	Query string
}

type siteForm struct {
	Site    org.Site
	New     bool
	CanEdit bool
}

func (s *Server) siteList(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	list, err := s.store.Sites(r.Context(), org.SiteFilter{Scope: scope(r), Query: q, Page: org.Page{Limit: org.MaxLimit}})
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "sites", s.newView(r, "sites.title", &sitesData{Sites: list, Query: q}))
}

func (s *Server) siteNew(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "sites.new", &siteForm{Site: org.Site{Timezone: "Europe/Madrid", Country: "ES"}, New: true, CanEdit: true})
	return s.render(w, http.StatusOK, "site_form", v)
}

func siteFromForm(r *http.Request, st *org.Site) {
	st.Code = r.PostForm.Get("code")
	st.Name = r.PostForm.Get("name")
	st.City = r.PostForm.Get("city")
	st.Country = r.PostForm.Get("country")
	st.Timezone = r.PostForm.Get("timezone")
}

func (s *Server) siteCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	var st org.Site
	siteFromForm(r, &st)
	if err := s.store.CreateSite(r.Context(), &st); err != nil {
		v := s.newView(r, "sites.new", &siteForm{Site: st, New: true, CanEdit: true})
		if v.setFieldErrors(err) {
			return s.render(w, http.StatusUnprocessableEntity, "site_form", v)
		}
		return err
	}
	return redirect(w, r, withFlash("/sites", "saved"))
}

func (s *Server) siteEdit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st, err := s.store.Site(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	v := s.newView(r, "sites.edit", &siteForm{Site: *st})
	v.D.(*siteForm).CanEdit = v.Can("admin")
	return s.render(w, http.StatusOK, "site_form", v)
}

func (s *Server) siteUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	st, err := s.store.Site(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	siteFromForm(r, st)
	if err := s.store.UpdateSite(r.Context(), st); err != nil {
		v := s.newView(r, "sites.edit", &siteForm{Site: *st, CanEdit: true})
		if v.setFieldErrors(err) {
			return s.render(w, http.StatusUnprocessableEntity, "site_form", v)
		}
		return err
	}
	return redirect(w, r, withFlash("/sites", "saved"))
}
