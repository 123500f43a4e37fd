package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/identity/sso"
	"github.com/custodia/custodia/internal/web"
)

// newConsole builds the web console, with single sign-on when --oidc-issuer
// is set, and returns its router registrar and its 403/404 page.
func newConsole(ctx context.Context, o Options, svc *auth.Service, mods *modules) (*web.Server, func(http.ResponseWriter, *http.Request, int), error) {
	cat, err := i18n.Load(mods.messages...)
	if err != nil {
		return nil, nil, fmt.Errorf("load the message catalogue: %w", err)
	}
	var rp *sso.SSO
	cfg := o.Config
	if cfg.OIDCIssuer != "" {
		if cfg.BaseURL == "" {
			return nil, nil, fmt.Errorf("single sign-on needs --base-url (the console's public URL, for the redirect)")
		}
		roleMap, err := sso.ParseRoleMap(cfg.OIDCRoleMap)
		if err != nil {
			return nil, nil, fmt.Errorf("--oidc-role-map: %w", err)
		}
		rp, err = sso.New(ctx, sso.Config{
			Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
			RedirectURL: strings.TrimRight(cfg.BaseURL, "/") + "/auth/oidc/callback",
			RoleClaim:   cfg.OIDCRoleClaim, ClientsClaim: cfg.OIDCClientsClaim, RoleMap: roleMap,
		}, o.Keys)
		if err != nil {
			return nil, nil, fmt.Errorf("single sign-on: %w", err)
		}
	}
	w, err := web.NewServer(web.Deps{Config: cfg, Store: o.Store, Identity: svc, SSO: rp, Catalog: cat, Logger: o.Logger, Now: o.Clock,
		Modules: mods.nav, Fleet: mods.web.Fleet, Incidents: mods.web.Incidents, ISMS: mods.web.ISMS, DataProtection: mods.web.DataProtection,
		IncidentResponse: mods.web.IncidentResponse, ISMSRisk: mods.web.ISMSRisk})
	if err != nil {
		return nil, nil, err
	}
	return w, w.Deny, nil
}
