package web

import (
	"net/http"
	"strings"

	"github.com/custodia/custodia/internal/org"
)

type clientsData struct {
	Clients []org.Client
	Query   string
}

type clientForm struct {
	Client  org.Client
	New     bool
	CanEdit bool
}

func (s *Server) clientList(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	list, err := s.store.Clients(r.Context(), org.ClientFilter{Scope: scope(r), Query: q, Page: org.Page{Limit: org.MaxLimit}})
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "clients", s.newView(r, "clients.title", &clientsData{Clients: list, Query: q}))
}

func (s *Server) clientNew(w http.ResponseWriter, r *http.Request) error {
	if !principal(r).AllClients {
		return errStatus(http.StatusForbidden, "error.forbidden")
	}
	v := s.newView(r, "clients.new", &clientForm{Client: org.Client{Active: true}, New: true, CanEdit: true})
	return s.render(w, http.StatusOK, "client_form", v)
}

func clientFromForm(r *http.Request, c *org.Client) {
	c.Code = r.PostForm.Get("code")
	c.Name = r.PostForm.Get("name")
	c.Sector = r.PostForm.Get("sector")
	c.Active = r.PostForm.Get("active") == "on"
}

func (s *Server) clientCreate(w http.ResponseWriter, r *http.Request) error {
	if !principal(r).AllClients {
		return errStatus(http.StatusForbidden, "error.forbidden")
	}
	if err := parseForm(r); err != nil {
		return err
	}
	var c org.Client
	clientFromForm(r, &c)
	if err := s.store.CreateClient(r.Context(), &c); err != nil {
		v := s.newView(r, "clients.new", &clientForm{Client: c, New: true, CanEdit: true})
		if v.setFieldErrors(err) {
			return s.render(w, http.StatusUnprocessableEntity, "client_form", v)
		}
		return err
	}
	return redirect(w, r, withFlash("/clients", "saved"))
}

func (s *Server) clientEdit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.Client(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	v := s.newView(r, "clients.edit", &clientForm{Client: *c})
	v.D.(*clientForm).CanEdit = v.Can("admin")
	return s.render(w, http.StatusOK, "client_form", v)
}

func (s *Server) clientUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	c, err := s.store.Client(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	clientFromForm(r, c)
	if err := s.store.UpdateClient(r.Context(), c); err != nil {
		v := s.newView(r, "clients.edit", &clientForm{Client: *c, CanEdit: true})
		if v.setFieldErrors(err) {
			return s.render(w, http.StatusUnprocessableEntity, "client_form", v)
		}
		return err
	}
	return redirect(w, r, withFlash("/clients", "saved"))
}
