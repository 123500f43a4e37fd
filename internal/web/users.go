package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
)

const usersPageSize = 50

type usersData struct {
	Users []identity.User
	Query string
	Pager pager
}

type userForm struct {
	User     identity.User
	New      bool
	Roles    []Option
	Clients  []Option
	Teams    []Option
	OneTime  string // shown once after creation
	Sessions *sessionsData
}

func (s *Server) userList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := identity.UserFilter{Query: strings.TrimSpace(q.Get("q")), Limit: usersPageSize, Offset: queryOffset(q)}
	list, total, err := s.id.Users(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	v := s.newView(r, "users.title", nil)
	v.D = &usersData{Users: list, Query: f.Query, Pager: pageLinks(v, "/users", q, f.Offset, usersPageSize, len(list), total)}
	return s.render(w, http.StatusOK, "users", v)
}

func (s *Server) userFormView(r *http.Request, title string, d *userForm) (*view, error) {
	rf, err := s.loadRefs(r.Context(), scope(r))
	if err != nil {
		return nil, err
	}
	v := s.newView(r, title, d)
	for _, role := range identity.Roles {
		d.Roles = append(d.Roles, Option{Value: string(role), Label: v.RoleName(role), Selected: d.User.Role == role})
	}
	for _, c := range rf.clients {
		d.Clients = append(d.Clients, Option{Value: itoa64(c.ID), Label: c.Name, Selected: slices.Contains(d.User.ClientIDs, c.ID)})
	}
	for _, t := range rf.teams {
		d.Teams = append(d.Teams, Option{Value: itoa64(t.ID), Label: t.Name, Selected: slices.Contains(d.User.TeamIDs, t.ID)})
	}
	return v, nil
}

func (s *Server) userNew(w http.ResponseWriter, r *http.Request) error {
	v, err := s.userFormView(r, "users.new", &userForm{User: identity.User{Role: identity.RoleAgent, Active: true}, New: true})
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "user_form", v)
}

// userFromForm reads the editable fields of a user.
func userFromForm(r *http.Request, u *identity.User) identity.FieldErrors {
	fe := identity.FieldErrors{}
	f := r.PostForm
	if u.ID == 0 {
		u.Username = strings.ToLower(strings.TrimSpace(f.Get("username")))
	}
	u.Email = strings.TrimSpace(f.Get("email"))
	u.DisplayName = strings.TrimSpace(f.Get("display_name"))
	role, err := identity.ParseRole(f.Get("role"))
	if err != nil {
		fe["role"] = "Choose one of the roles."
	}
	u.Role = role
	u.AllClients = f.Get("all_clients") == "on"
	u.Active = u.ID == 0 || f.Get("active") == "on"
	ids := func(name string) []int64 {
		var out []int64
		for _, s := range f[name] {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil || id <= 0 {
				fe[name] = "contains an invalid choice"
				return nil
			}
			out = append(out, id)
		}
		return out
	}
	u.ClientIDs = ids("client_ids")
	u.TeamIDs = ids("team_ids")
	if p := strings.TrimSpace(f.Get("person_id")); p != "" && p != "0" {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id <= 0 {
			fe["person_id"] = "is not valid"
		}
		u.PersonID = id
	} else {
		u.PersonID = 0
	}
	return fe
}

func (s *Server) userCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	var u identity.User
	fe := userFromForm(r, &u)
	mergeUserErrors(fe, &u)
	var oneTime string
	var err error = fe.Err()
	if err == nil {
		var created *identity.User
		created, oneTime, err = s.id.CreateUser(r.Context(), principal(r), auth.NewUser{User: u})
		if err == nil {
			u = *created
		}
	}
	if err != nil {
		v, verr := s.userFormView(r, "users.new", &userForm{User: u, New: true})
		if verr != nil {
			return verr
		}
		if v.setFieldErrors(err) {
			return s.render(w, http.StatusUnprocessableEntity, "user_form", v)
		}
		return err
	}
	// The one-time password is shown once, on this response only.
	v, err := s.userFormView(r, "users.created", &userForm{User: u, OneTime: oneTime})
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "user_created", v)
}

func (s *Server) userEditView(r *http.Request, u *identity.User) (*view, error) {
	list, err := s.id.Sessions(r.Context(), principal(r), u.ID)
	if err != nil {
		return nil, err
	}
	return s.userFormView(r, "users.edit", &userForm{User: *u,
		Sessions: &sessionsData{Sessions: list, Current: principal(r).SessionID, UserID: u.ID}})
}

func (s *Server) userEdit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.id.User(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	v, err := s.userEditView(r, u)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "user_form", v)
}

func (s *Server) userUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	u, err := s.id.User(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	fe := userFromForm(r, u)
	mergeUserErrors(fe, u)
	err = fe.Err()
	if err == nil {
		err = s.id.UpdateUser(r.Context(), principal(r), u)
	}
	if err != nil {
		v, verr := s.userEditView(r, u)
		if verr != nil {
			return verr
		}
		if v.setFieldErrors(err) {
			return s.render(w, http.StatusUnprocessableEntity, "user_form", v)
		}
		return err
	}
	return redirect(w, r, withFlash("/users/"+itoa64(id), "saved"))
}

func (s *Server) userSessionRevoke(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	sid := r.PostForm.Get("session_id")
	if sid == "" {
		return errStatus(http.StatusBadRequest, "error.bad_request")
	}
	if err := s.id.RevokeSession(r.Context(), principal(r), id, sid); err != nil {
		return err
	}
	return redirect(w, r, withFlash("/users/"+itoa64(id), "session_revoked"))
}

func (s *Server) userMFAReset(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.id.ResetMFA(r.Context(), principal(r), id); err != nil {
		return err
	}
	return redirect(w, r, withFlash("/users/"+itoa64(id), "mfa_reset"))
}

// mergeUserErrors adds the domain's validation problems to the form's own,
// so that every wrong field is marked at once.
func mergeUserErrors(fe identity.FieldErrors, u *identity.User) {
	if len(fe) == 0 {
		return
	}
	check := *u
	if check.Role == "" {
		check.Role = identity.RoleAgent
	}
	var dfe identity.FieldErrors
	if errors.As(check.Validate(), &dfe) {
		for k, v := range dfe {
			if _, ok := fe[k]; !ok {
				fe[k] = v
			}
		}
	}
}
