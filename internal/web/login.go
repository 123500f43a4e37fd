package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/identity/sso"
	"github.com/custodia/custodia/internal/request"
)

// langCookie keeps an anonymous visitor's language choice (sign-in pages).
const langCookie = "custodia_lang"

type loginData struct {
	Next     string
	Username string
	SSO      bool
	SSOName  string
}

// safeNext keeps a post-sign-in redirect on this site: a local absolute
// path, never "//host" or a backslash trick.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") || strings.HasPrefix(next, "/login") || strings.HasPrefix(next, "/logout") ||
		strings.HasPrefix(next, "/auth/") {
		return "/"
	}
	return next
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	if l := r.URL.Query().Get("lang"); l != "" {
		if i18n.Supported(l) {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: request.Secure(r)})
		}
		q := r.URL.Query()
		q.Del("lang")
		to := "/login"
		if len(q) > 0 {
			to += "?" + q.Encode()
		}
		return redirect(w, r, to)
	}
	if principal(r) != nil {
		return redirect(w, r, safeNext(r.URL.Query().Get("next")))
	}
	return s.renderLogin(w, r, http.StatusOK, loginData{Next: safeNext(r.URL.Query().Get("next"))}, "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginData, formError string) error {
	d.SSO = s.sso != nil
	d.SSOName = s.cfg.OIDCDisplayName
	if d.SSOName == "" {
		d.SSOName = "SSO"
	}
	v := s.newView(r, "login.title", d)
	v.Bare = true
	v.FormError = formError
	return s.render(w, status, "login", v)
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	d := loginData{Next: safeNext(r.PostForm.Get("next")), Username: strings.TrimSpace(r.PostForm.Get("username")),
		SSO: s.sso != nil, SSOName: s.cfg.OIDCDisplayName}
	password := r.PostForm.Get("password")
	if d.Username == "" || password == "" {
		v := s.newView(r, "login.title", d)
		v.Bare = true
		if d.Username == "" {
			v.Errs["username"] = v.T("validation.required")
		}
		if password == "" {
			v.Errs["password"] = v.T("validation.required")
		}
		v.FormError = v.T("common.form_errors")
		return s.render(w, http.StatusUnprocessableEntity, "login", v)
	}
	res, err := s.id.PasswordLogin(r.Context(), d.Username, password, request.IP(r), r.UserAgent())
	if err != nil {
		status, key, args, ok := authFailure(err)
		if !ok {
			return err
		}
		return s.renderLogin(w, r, status, d, s.cat.T(s.lang(r), key, args...))
	}
	return s.startSession(w, r, res, d.Next)
}

// startSession sets the session cookie and sends the browser to the next
// step: the MFA code, the forced enrolment, or where it was going (an
// agent always lands on their own profile).
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, res *auth.LoginResult, next string) error {
	c := &http.Cookie{Name: s.cookie, Value: res.Token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: request.Secure(r)}
	if res.Session != nil && !res.Session.ExpiresAt.IsZero() {
		c.Expires = res.Session.ExpiresAt
	}
	http.SetCookie(w, c)
	switch {
	case res.NeedMFA:
		return redirect(w, r, "/login/mfa?next="+urlQueryEscape(next))
	case res.NeedEnrolMFA:
		return redirect(w, r, "/profile/mfa")
	case res.MustChangePassword:
		return redirect(w, r, withFlash("/profile", "must_change_password"))
	}
	if res.User != nil && res.User.Role == identity.RoleAgent {
		next = "/profile"
	}
	return redirect(w, r, next)
}

func (s *Server) sessionToken(r *http.Request) string {
	c, err := r.Cookie(s.cookie)
	if err != nil {
		return ""
	}
	return c.Value
}

type mfaData struct {
	Next string
	CSRF string
}

// loginMFAPage asks a session waiting for its second factor for a code.
func (s *Server) loginMFAPage(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	if principal(r) != nil {
		return redirect(w, r, next)
	}
	sess, _, err := s.id.PendingSession(r.Context(), s.sessionToken(r))
	if err != nil {
		return redirect(w, r, "/login")
	}
	if sess.MFAPassed {
		return redirect(w, r, next)
	}
	v := s.newView(r, "mfa.title", mfaData{Next: next})
	v.Bare = true
	v.CSRF = auth.SessionCSRFToken(sess)
	return s.render(w, http.StatusOK, "login_mfa", v)
}

func (s *Server) loginMFASubmit(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	tok := s.sessionToken(r)
	sess, u, err := s.id.PendingSession(r.Context(), tok)
	if err != nil {
		return redirect(w, r, "/login")
	}
	if err := auth.CheckSessionCSRF(r, sess.CSRFSecret); err != nil {
		return errStatus(http.StatusForbidden, "error.csrf")
	}
	next := safeNext(r.PostForm.Get("next"))
	code := strings.TrimSpace(r.PostForm.Get("code"))
	v := s.newView(r, "mfa.title", mfaData{Next: next})
	v.Bare = true
	v.CSRF = auth.SessionCSRFToken(sess)
	if code == "" {
		v.Errs["code"] = v.T("validation.required")
		return s.render(w, http.StatusUnprocessableEntity, "login_mfa", v)
	}
	if _, err := s.id.VerifyMFA(r.Context(), tok, code, request.IP(r)); err != nil {
		status, key, args, ok := authFailure(err)
		if !ok {
			return err
		}
		if errors.Is(err, auth.ErrSessionInvalid) {
			return redirect(w, r, "/login")
		}
		v.Errs["code"] = v.T(key, args...)
		return s.render(w, status, "login_mfa", v)
	}
	if u.Role == identity.RoleAgent {
		next = "/profile"
	}
	return redirect(w, r, next)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if tok := s.sessionToken(r); tok != "" {
		if err := s.id.Logout(r.Context(), tok); err != nil {
			s.log.WarnContext(r.Context(), "logout", "request_id", request.ID(r), "error", err.Error())
		}
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookie, Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: request.Secure(r), Expires: time.Unix(0, 0)})
	return redirect(w, r, "/login")
}

func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) error {
	if s.sso == nil {
		return errNotFound
	}
	authURL, cookie, err := s.sso.Start(safeNext(r.URL.Query().Get("next")), s.now())
	if err != nil {
		return err
	}
	sso.SetStateCookie(w, cookie, request.Secure(r))
	http.Redirect(w, r, authURL, http.StatusFound)
	return nil
}

func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	if s.sso == nil {
		return errNotFound
	}
	sso.ClearStateCookie(w, request.Secure(r))
	fail := func(err error) error {
		s.log.WarnContext(r.Context(), "single sign-on failed", "request_id", request.ID(r), "error", err.Error())
		status, key, args, ok := authFailure(err)
		if !ok {
			status, key, args = http.StatusUnauthorized, "login.sso_failed", nil
		}
		return s.renderLogin(w, r, status, loginData{Next: "/"}, s.cat.T(s.lang(r), key, args...))
	}
	ext, returnTo, err := s.sso.Finish(r.Context(), r, s.now())
	if err != nil {
		return fail(err)
	}
	res, err := s.id.SSOLogin(r.Context(), ext, request.IP(r), r.UserAgent())
	if err != nil {
		return fail(err)
	}
	return s.startSession(w, r, res, safeNext(returnTo))
}
