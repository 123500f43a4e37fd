// Package sso is the relying-party side of OpenID Connect single sign-on
// (Entra ID, Google Workspace, Keycloak …): the authorization code flow with
// PKCE, state and nonce, ID token validation (via zitadel/oidc's rp
// package), and the mapping of the configured claims to a Custodia role and
// client scope. It knows nothing of HTTP routing or SQL: the console mounts
// /auth/oidc/start and /auth/oidc/callback and hands the result to the
// identity service (auth.Service.SSOLogin).
package sso

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/secret"
)

// Config configures the relying party (from config.Config's OIDC* fields).
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is the console's callback, e.g. https://custodia.example/auth/oidc/callback.
	RedirectURL string
	// RoleClaim names the claim holding the role (a string or an array; a
	// dotted path such as realm_access.roles reaches into objects).
	RoleClaim string
	// ClientsClaim names the claim listing client codes ("*" = all clients).
	ClientsClaim string
	// RoleMap maps claim values to roles, "value=role,…" (see ParseRoleMap).
	RoleMap map[string]identity.Role
	// Scopes requested; default openid, email, profile.
	Scopes []string
	// HTTPClient talks to the provider (tests inject one); default http.DefaultClient.
	HTTPClient *http.Client
}

// StateCookie is the name of the cookie that binds a sign-in to the browser
// that started it (HttpOnly, SameSite=Lax, 10 minutes).
const StateCookie = "custodia_oidc"

// StateLifetime is how long a started sign-in may take.
const StateLifetime = 10 * time.Minute

// Errors with a user-facing message.
var (
	// ErrNoRole: the provider's claims map to no Custodia role.
	ErrNoRole = errors.New("your single sign-on account has no Custodia role; ask your administrator")
	// ErrState: the callback does not belong to a sign-in this browser started
	// (or it took too long).
	ErrState = errors.New("the single sign-on attempt expired or did not start here; try again")
	// ErrProvider: the provider refused or the exchange failed.
	ErrProvider = errors.New("single sign-on failed at the identity provider; try again")
)

// SSO is a configured relying party. It is safe for concurrent use.
type SSO struct {
	cfg  Config
	rp   rp.RelyingParty
	keys *secret.Keyring
}

type nonceKey struct{}

// New runs discovery against the issuer and returns the relying party. The
// keyring seals the state cookie.
func New(ctx context.Context, cfg Config, keys *secret.Keyring) (*SSO, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("single sign-on needs --oidc-issuer, --oidc-client-id and a redirect URL (--base-url)")
	}
	if keys == nil {
		return nil, errors.New("single sign-on needs the master key")
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, oidc.ScopeEmail, oidc.ScopeProfile}
	}
	if cfg.RoleClaim == "" {
		cfg.RoleClaim = "custodia_role"
	}
	if cfg.ClientsClaim == "" {
		cfg.ClientsClaim = "custodia_clients"
	}
	opts := []rp.Option{
		rp.WithVerifierOpts(rp.WithNonce(func(ctx context.Context) string {
			n, _ := ctx.Value(nonceKey{}).(string)
			return n
		})),
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, rp.WithHTTPClient(cfg.HTTPClient))
	}
	party, err := rp.NewRelyingPartyOIDC(ctx, cfg.Issuer, cfg.ClientID, cfg.ClientSecret, cfg.RedirectURL, cfg.Scopes, opts...)
	if err != nil {
		return nil, fmt.Errorf("openid connect discovery at %s: %w", cfg.Issuer, err)
	}
	return &SSO{cfg: cfg, rp: party, keys: keys}, nil
}

// ParseRoleMap parses --oidc-role-map: "claimvalue=role,…". Values not in
// the map are used as role names when they are one.
func ParseRoleMap(s string) (map[string]identity.Role, error) {
	m := map[string]identity.Role{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("--oidc-role-map: %q is not value=role", part)
		}
		r, err := identity.ParseRole(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("--oidc-role-map: %w", err)
		}
		m[strings.TrimSpace(k)] = r
	}
	return m, nil
}

// pending is the sealed content of the state cookie.
type pending struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	ReturnTo string    `json:"r"`
	Expires  time.Time `json:"e"`
}

var cookieAD = []byte("custodia oidc state v1")

func random() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("sso: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Start begins a sign-in: it returns the provider URL to redirect the
// browser to and the value of the StateCookie to set (sealed: it holds the
// state, nonce and PKCE verifier). returnTo is a local path to come back to.
func (s *SSO) Start(returnTo string, now time.Time) (authURL, cookieValue string, err error) {
	if !strings.HasPrefix(returnTo, "/") || strings.HasPrefix(returnTo, "//") || strings.Contains(returnTo, "\\") {
		returnTo = "/"
	}
	p := pending{State: random(), Nonce: random(), Verifier: random(), ReturnTo: returnTo, Expires: now.Add(StateLifetime)}
	b, _ := json.Marshal(p)
	sealed, err := s.keys.Seal(b, cookieAD)
	if err != nil {
		return "", "", err
	}
	u := rp.AuthURL(p.State, s.rp,
		rp.WithCodeChallenge(oidc.NewSHACodeChallenge(p.Verifier)),
		rp.AuthURLOpt(rp.WithURLParam("nonce", p.Nonce)))
	return u, base64.RawURLEncoding.EncodeToString(sealed), nil
}

// SetStateCookie writes the state cookie (Secure when secure is true).
func SetStateCookie(w http.ResponseWriter, value string, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: StateCookie, Value: value, Path: "/", MaxAge: int(StateLifetime / time.Second),
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
}

// ClearStateCookie removes the state cookie.
func ClearStateCookie(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: StateCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
}

// Finish completes a sign-in at the callback: it checks the state against
// the browser's state cookie, exchanges the code (with the PKCE verifier) for
// tokens, validates the ID token (signature, issuer, audience, expiry,
// nonce) and maps its claims. It returns the identity and the local path to
// return to. Errors are ErrState, ErrProvider or ErrNoRole (wrapping details
// for the log; the wrapped details never contain tokens).
func (s *SSO) Finish(ctx context.Context, r *http.Request, now time.Time) (*identity.ExternalIdentity, string, error) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return nil, "", fmt.Errorf("%w (provider said %q)", ErrProvider, truncate(e, 80))
	}
	c, err := r.Cookie(StateCookie)
	if err != nil {
		return nil, "", fmt.Errorf("%w: no state cookie", ErrState)
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil, "", fmt.Errorf("%w: malformed state cookie", ErrState)
	}
	b, err := s.keys.Open(raw, cookieAD)
	if err != nil {
		return nil, "", fmt.Errorf("%w: state cookie does not open", ErrState)
	}
	var p pending
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, "", fmt.Errorf("%w: state cookie content", ErrState)
	}
	if !now.Before(p.Expires) {
		return nil, "", fmt.Errorf("%w: started more than %v ago", ErrState, StateLifetime)
	}
	if st := q.Get("state"); st == "" || st != p.State {
		return nil, "", fmt.Errorf("%w: state mismatch", ErrState)
	}
	code := q.Get("code")
	if code == "" {
		return nil, "", fmt.Errorf("%w: no code", ErrProvider)
	}
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](context.WithValue(ctx, nonceKey{}, p.Nonce), code, s.rp, rp.WithCodeVerifier(p.Verifier))
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrProvider, err)
	}
	id, err := s.Map(tokens.IDTokenClaims)
	if err != nil {
		return nil, "", err
	}
	return id, p.ReturnTo, nil
}

// Map turns validated ID token claims into an identity with a role and a
// client scope. Claims that map to no role are ErrNoRole.
func (s *SSO) Map(c *oidc.IDTokenClaims) (*identity.ExternalIdentity, error) {
	claims := c.Claims
	if claims == nil {
		claims = map[string]any{}
	}
	id := &identity.ExternalIdentity{
		Issuer: c.Issuer, Subject: c.Subject, Email: strings.ToLower(strings.TrimSpace(c.Email)),
		Name: strings.TrimSpace(c.Name), Username: strings.TrimSpace(c.PreferredUsername),
	}
	if id.Email == "" {
		id.Email = strings.ToLower(stringClaim(claims, "email"))
	}
	if id.Name == "" {
		id.Name = stringClaim(claims, "name")
	}
	if id.Username == "" {
		id.Username = stringClaim(claims, "preferred_username")
	}
	best := -1
	for _, v := range listClaim(lookup(claims, s.cfg.RoleClaim)) {
		r, ok := s.cfg.RoleMap[v]
		if !ok {
			var err error
			if r, err = identity.ParseRole(v); err != nil {
				continue
			}
		}
		if i := slices.Index(identity.Roles, r); best < 0 || i < best {
			best = i
		}
	}
	if best < 0 {
		return nil, fmt.Errorf("%w (claim %q)", ErrNoRole, s.cfg.RoleClaim)
	}
	id.Role = identity.Roles[best]
	for _, v := range listClaim(lookup(claims, s.cfg.ClientsClaim)) {
		v = strings.ToLower(v)
		if v == "*" {
			id.AllClients, id.ClientCodes = true, nil
			break
		}
		if !slices.Contains(id.ClientCodes, v) {
			id.ClientCodes = append(id.ClientCodes, v)
		}
	}
	return id, nil
}

// lookup follows a dotted path through nested claim objects.
func lookup(claims map[string]any, path string) any {
	if v, ok := claims[path]; ok {
		return v
	}
	var cur any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// listClaim reads a claim that is a string (comma- or space-separated) or
// an array of strings.
func listClaim(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		out = strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == ' ' })
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
	case []string:
		out = x
	}
	return out
}

func stringClaim(claims map[string]any, k string) string {
	s, _ := claims[k].(string)
	return strings.TrimSpace(s)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
