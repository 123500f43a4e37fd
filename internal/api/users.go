package api

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
)

// Identity is what the API needs of the identity service (auth.Service).
// Every method checks the principal's right itself too.
type Identity interface {
	Users(ctx context.Context, p *identity.Principal, f identity.UserFilter) ([]identity.User, int, error)
	User(ctx context.Context, p *identity.Principal, id int64) (*identity.User, error)
	CreateUser(ctx context.Context, p *identity.Principal, in auth.NewUser) (*identity.User, string, error)
	UpdateUser(ctx context.Context, p *identity.Principal, u *identity.User) error
	UpdateProfile(ctx context.Context, p *identity.Principal, displayName, locale string) error
	Sessions(ctx context.Context, p *identity.Principal, userID int64) ([]identity.Session, error)
	RevokeSession(ctx context.Context, p *identity.Principal, userID int64, sessionID string) error
}

// User is a user account as the API shows it; credentials never appear.
type User struct {
	ID                 int64         `json:"id"`
	Username           string        `json:"username"`
	Email              string        `json:"email,omitempty"`
	DisplayName        string        `json:"display_name,omitempty"`
	Role               identity.Role `json:"role"`
	PersonID           int64         `json:"person_id,omitempty"`
	AllClients         bool          `json:"all_clients"`
	ClientIDs          []int64       `json:"client_ids"`
	TeamIDs            []int64       `json:"team_ids,omitempty"`
	HasPassword        bool          `json:"has_password"`
	TOTPEnabled        bool          `json:"totp_enabled"`
	Locale             string        `json:"locale,omitempty"`
	Active             bool          `json:"active"`
	MustChangePassword bool          `json:"must_change_password"`
	SSO                bool          `json:"sso" doc:"linked to an OpenID Connect identity"`
	External           bool          `json:"external,omitempty" doc:"an external account (an invited auditor): confined to the auditor portal"`
	ExpiresAt          *time.Time    `json:"expires_at,omitempty" doc:"the account ends at this time"`
	CreatedAt          time.Time     `json:"created_at"`
	UpdatedAt          time.Time     `json:"updated_at"`
	LastLoginAt        *time.Time    `json:"last_login_at,omitempty"`
}

func userOut(u *identity.User) User {
	out := User{ID: u.ID, Username: u.Username, Email: u.Email, DisplayName: u.DisplayName, Role: u.Role,
		PersonID: u.PersonID, AllClients: u.AllClients, ClientIDs: u.ClientIDs, TeamIDs: u.TeamIDs,
		HasPassword: u.HasPassword, TOTPEnabled: u.TOTPEnabled, Locale: u.Locale, Active: u.Active,
		MustChangePassword: u.MustChangePassword, SSO: u.OIDCSubject != "", CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
	if out.ClientIDs == nil {
		out.ClientIDs = []int64{}
	}
	out.External = u.External
	if !u.ExpiresAt.IsZero() {
		t := u.ExpiresAt
		out.ExpiresAt = &t
	}
	if !u.LastLoginAt.IsZero() {
		t := u.LastLoginAt
		out.LastLoginAt = &t
	}
	return out
}

// UserInput creates or changes a user; on PATCH absent fields are kept.
type UserInput struct {
	Username    *string        `json:"username,omitempty"`
	Email       *string        `json:"email,omitempty"`
	DisplayName *string        `json:"display_name,omitempty"`
	Role        *identity.Role `json:"role,omitempty"`
	PersonID    *int64         `json:"person_id,omitempty"`
	AllClients  *bool          `json:"all_clients,omitempty"`
	ClientIDs   *[]int64       `json:"client_ids,omitempty"`
	TeamIDs     *[]int64       `json:"team_ids,omitempty"`
	Locale      *string        `json:"locale,omitempty"`
	Active      *bool          `json:"active,omitempty"`
}

func (in UserInput) apply(u *identity.User) {
	setStr(&u.Username, in.Username)
	setStr(&u.Email, in.Email)
	setStr(&u.DisplayName, in.DisplayName)
	setStr(&u.Locale, in.Locale)
	if in.Role != nil {
		u.Role = *in.Role
	}
	if in.PersonID != nil {
		u.PersonID = *in.PersonID
	}
	if in.AllClients != nil {
		u.AllClients = *in.AllClients
	}
	if in.ClientIDs != nil {
		u.ClientIDs = slices.Clone(*in.ClientIDs)
	}
	if in.TeamIDs != nil {
		u.TeamIDs = slices.Clone(*in.TeamIDs)
	}
	if in.Active != nil {
		u.Active = *in.Active
	}
}

// NewUserInput creates a user: without password a one-time password is
// generated and returned once (unless sso_only).
type NewUserInput struct {
	UserInput
	Password string `json:"password,omitempty" doc:"initial password; empty generates a one-time password"`
	SSOOnly  bool   `json:"sso_only,omitempty" doc:"no local password: signs in with single sign-on only"`
}

// CreatedUser is a new user and, once, its one-time password.
type CreatedUser struct {
	User
	OneTimePassword string `json:"one_time_password,omitempty" doc:"shown once; the user must change it at first sign-in"`
}

// checkGrant refuses to give a user more client scope than the caller has.
func checkGrant(p *identity.Principal, u *identity.User) error {
	if u.AllClients && !p.AllClients {
		return fieldErr("all_clients", "you may only grant the clients you see yourself")
	}
	for _, id := range u.ClientIDs {
		if !p.CanSeeClient(id) {
			return fieldErr("client_ids", "is not a known client")
		}
	}
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	if s.id == nil {
		return errUnavailable
	}
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	f := identity.UserFilter{Limit: limit, Offset: offset}
	if f.Query, err = queryString(r, "q", 200); err != nil {
		return err
	}
	if v := r.URL.Query().Get("role"); v != "" {
		role, err := identity.ParseRole(v)
		if err != nil {
			return fieldErr("role", "is not a role (admin, security, dpo, auditor, supervisor, agent)")
		}
		f.Role = role
	}
	if f.Active, err = queryBool(r, "active"); err != nil {
		return err
	}
	users, total, err := s.id.Users(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	out := make([]User, len(users))
	for i := range users {
		out[i] = userOut(&users[i])
	}
	writeJSON(w, http.StatusOK, newCountedPage(out, total, limit, offset))
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	if s.id == nil {
		return errUnavailable
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.id.User(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userOut(u))
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	if s.id == nil {
		return errUnavailable
	}
	var in NewUserInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var u identity.User
	in.apply(&u)
	if err := checkGrant(principal(r), &u); err != nil {
		return err
	}
	created, oneTime, err := s.id.CreateUser(r.Context(), principal(r), auth.NewUser{User: u, Password: in.Password, SSOOnly: in.SSOOnly})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, CreatedUser{User: userOut(created), OneTimePassword: oneTime})
	return nil
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	if s.id == nil {
		return errUnavailable
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in UserInput
	if err := decode(r, &in); err != nil {
		return err
	}
	return s.changeUser(w, r, id, in.apply)
}

func (s *Server) deactivateUser(w http.ResponseWriter, r *http.Request) error {
	if s.id == nil {
		return errUnavailable
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.changeUser(w, r, id, func(u *identity.User) { u.Active = false })
}

func (s *Server) changeUser(w http.ResponseWriter, r *http.Request, id int64, change func(*identity.User)) error {
	p := principal(r)
	u, err := s.id.User(r.Context(), p, id)
	if err != nil {
		return err
	}
	if err := checkGrant(p, u); err != nil {
		// The user already has scope beyond the caller's: only someone who
		// sees it all may change them.
		return httpErr(http.StatusForbidden, "This user sees clients you do not; ask an administrator who sees every client.")
	}
	change(u)
	if err := checkGrant(p, u); err != nil {
		return err
	}
	if err := s.id.UpdateUser(r.Context(), p, u); err != nil {
		return err
	}
	if got, err := s.id.User(r.Context(), p, id); err == nil {
		u = got
	}
	writeJSON(w, http.StatusOK, userOut(u))
	return nil
}

// MeInput changes the caller's own profile.
type MeInput struct {
	DisplayName *string `json:"display_name,omitempty"`
	Locale      *string `json:"locale,omitempty" doc:"en, es, or empty for the browser's language"`
}

func (s *Server) updateMe(w http.ResponseWriter, r *http.Request) error {
	if s.id == nil {
		return errUnavailable
	}
	var in MeInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p := principal(r)
	if p.TokenID != 0 {
		return httpErr(http.StatusForbidden, "An API token has no profile to change.")
	}
	u, err := s.id.User(r.Context(), p, p.UserID)
	if err != nil {
		return err
	}
	name, locale := u.DisplayName, u.Locale
	setStr(&name, in.DisplayName)
	setStr(&locale, in.Locale)
	if err := s.id.UpdateProfile(r.Context(), p, name, locale); err != nil {
		return err
	}
	me := meOf(p)
	me.Locale = locale
	writeJSON(w, http.StatusOK, me)
	return nil
}

// Session is a browser session of a user.
type Session struct {
	ID         string    `json:"id" doc:"the session's identifier (a digest; it cannot be used to sign in)"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IP         string    `json:"ip,omitempty"`
	UserAgent  string    `json:"user_agent,omitempty"`
	Current    bool      `json:"current" doc:"the session making this request"`
}

func (s *Server) sessionsOf(w http.ResponseWriter, r *http.Request, userID int64) error {
	if s.id == nil {
		return errUnavailable
	}
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	p := principal(r)
	sessions, err := s.id.Sessions(r.Context(), p, userID)
	if err != nil {
		return err
	}
	out := make([]Session, len(sessions))
	for i, x := range sessions {
		out[i] = Session{ID: x.ID, CreatedAt: x.CreatedAt, LastSeenAt: x.LastSeenAt, ExpiresAt: x.ExpiresAt,
			IP: x.IP, UserAgent: x.UserAgent, Current: x.ID == p.SessionID && p.SessionID != ""}
	}
	writeJSON(w, http.StatusOK, pageOf(out, limit, offset))
	return nil
}

func (s *Server) revokeSessionOf(w http.ResponseWriter, r *http.Request, userID int64) error {
	if s.id == nil {
		return errUnavailable
	}
	sid := r.PathValue("sid")
	if len(sid) != 64 {
		return errNotFound
	}
	if err := s.id.RevokeSession(r.Context(), principal(r), userID, sid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) mySessions(w http.ResponseWriter, r *http.Request) error {
	return s.sessionsOf(w, r, principal(r).UserID)
}

func (s *Server) revokeMySession(w http.ResponseWriter, r *http.Request) error {
	return s.revokeSessionOf(w, r, principal(r).UserID)
}

func (s *Server) userSessions(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.sessionsOf(w, r, id)
}

func (s *Server) revokeUserSession(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.revokeSessionOf(w, r, id)
}
