package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
)

type profileData struct {
	User          *identity.User
	Person        *org.Person
	PersonClients string
	Languages     []Option
	RecoveryCodes []string
}

// profile is the signed-in user's own page, and an agent's whole portal:
// their person record, language, password and two-factor authentication.
func (s *Server) profile(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "profile.title", nil)
	d, err := s.profileData(r, v)
	if err != nil {
		return err
	}
	v.D = d
	return s.render(w, http.StatusOK, "profile", v)
}

func (s *Server) profileData(r *http.Request, v *view) (*profileData, error) {
	p := principal(r)
	u, err := s.id.User(r.Context(), p, p.UserID)
	if err != nil {
		return nil, err
	}
	d := &profileData{User: u}
	if p.PersonID != 0 {
		sc := identity.Scope{All: true, PersonID: p.PersonID}
		person, err := s.store.Person(r.Context(), sc, p.PersonID)
		switch {
		case err == nil:
			d.Person = person
			rf, err := s.loadRefs(r.Context(), identity.Scope{All: true})
			if err != nil {
				return nil, err
			}
			d.PersonClients = rf.clientNames(person.ClientIDs)
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	d.Languages = []Option{{Value: "", Label: v.T("profile.language_browser"), Selected: u.Locale == ""}}
	for _, l := range i18n.Languages {
		d.Languages = append(d.Languages, Option{Value: l, Label: v.T("lang." + l), Selected: u.Locale == l})
	}
	return d, nil
}

func (s *Server) profileLanguage(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	l := r.PostForm.Get("locale")
	if l != "" && !i18n.Supported(l) {
		return errStatus(http.StatusUnprocessableEntity, "validation.invalid_choice")
	}
	p := principal(r)
	u, err := s.id.User(r.Context(), p, p.UserID)
	if err != nil {
		return err
	}
	if err := s.id.UpdateProfile(r.Context(), p, u.DisplayName, l); err != nil {
		return err
	}
	return redirect(w, r, withFlash("/profile", "saved"))
}

func (s *Server) profilePassword(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	cur, next, confirm := r.PostForm.Get("current_password"), r.PostForm.Get("new_password"), r.PostForm.Get("confirm_password")
	v := s.newView(r, "profile.title", nil)
	fail := func(err error) error {
		d, derr := s.profileData(r, v)
		if derr != nil {
			return derr
		}
		v.D = d
		if err != nil && !v.setFieldErrors(err) {
			return err
		}
		v.FormError = v.T("common.form_errors")
		return s.render(w, http.StatusUnprocessableEntity, "profile", v)
	}
	if cur == "" {
		v.Errs["current_password"] = v.T("validation.required")
	}
	if next == "" {
		v.Errs["new_password"] = v.T("validation.required")
	}
	if next != confirm {
		v.Errs["confirm_password"] = v.T("profile.password_mismatch")
	}
	if len(v.Errs) > 0 {
		return fail(nil)
	}
	if err := s.id.ChangePassword(r.Context(), principal(r), cur, next); err != nil {
		return fail(err)
	}
	return redirect(w, r, withFlash("/profile", "password_changed"))
}

type mfaEnrolData struct {
	Enrolment     *auth.Enrolment
	Required      bool
	RecoveryCodes []string
	Next          string // where "continue" goes after the codes
}

// mfaEnrolPage shows a fresh TOTP secret as a QR code and as text; the user
// confirms it with a code. Users whose role requires MFA are sent here
// until they have enrolled. Each visit starts a new pending secret.
func (s *Server) mfaEnrolPage(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	en, err := s.id.BeginTOTPEnrolment(r.Context(), p)
	if errors.Is(err, auth.ErrMFAEnrolled) {
		return redirect(w, r, "/profile")
	}
	if err != nil {
		return err
	}
	required := s.id.NeedsMFAEnrolment(p)
	v := s.newView(r, "mfa.enrol_title", &mfaEnrolData{Enrolment: en, Required: required})
	v.Bare = required
	return s.render(w, http.StatusOK, "mfa_enrol", v)
}

// mfaEnrolConfirm activates the pending secret. A wrong code asks again
// for a code of the same secret (the authenticator app already has it).
func (s *Server) mfaEnrolConfirm(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	p := principal(r)
	codes, err := s.id.ConfirmTOTPEnrolment(r.Context(), p, strings.TrimSpace(r.PostForm.Get("code")))
	if errors.Is(err, auth.ErrMFAEnrolled) {
		return redirect(w, r, "/profile")
	}
	if err != nil {
		status, key, args, ok := authFailure(err)
		if !ok {
			return err
		}
		required := s.id.NeedsMFAEnrolment(p)
		v := s.newView(r, "mfa.enrol_title", &mfaEnrolData{Required: required})
		v.Bare = required
		v.Errs["code"] = v.T(key, args...)
		v.FormError = v.T("common.form_errors")
		return s.render(w, status, "mfa_enrol", v)
	}
	d := &mfaEnrolData{RecoveryCodes: codes, Next: "/"}
	if u, err := s.id.User(r.Context(), p, p.UserID); err == nil && u.MustChangePassword {
		// A first sign-in with a one-time password: choose a password next.
		d.Next = withFlash("/profile", "must_change_password")
	}
	v := s.newView(r, "mfa.codes_title", d)
	return s.render(w, http.StatusOK, "mfa_codes", v)
}

// recoveryCodesRegenerate replaces the recovery codes and shows the new ones
// once (this POST answers with the page itself, so they are never in a URL
// or shown again).
func (s *Server) recoveryCodesRegenerate(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	u, err := s.id.User(r.Context(), p, p.UserID)
	if err != nil {
		return err
	}
	if !u.TOTPEnabled {
		// Recovery codes come with two-factor authentication: set it up first.
		return errStatus(http.StatusConflict, "profile.recovery_needs_mfa")
	}
	codes, err := s.id.RegenerateRecoveryCodes(r.Context(), p)
	if err != nil {
		return err
	}
	v := s.newView(r, "mfa.codes_title", &mfaEnrolData{RecoveryCodes: codes, Next: "/profile"})
	return s.render(w, http.StatusOK, "mfa_codes", v)
}
