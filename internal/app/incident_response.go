package app

import (
	"context"
	"fmt"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/response"
	"github.com/custodia/custodia/internal/notify"
	"github.com/custodia/custodia/internal/notify/outbox"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/web"
)

// initIncidentResponse builds the incident response module and adds it to
// mods: the notification outbox and its delivery worker, the regulatory
// clocks service and its warning job, their API operations and pages.
func (a *App) initIncidentResponse(ctx context.Context, o Options, mods *modules) error {
	cfg := o.Config.Notify
	sender := &notify.Sender{}
	if cfg.SMTPAddr != "" {
		sender.Mailer = &notify.SMTPMailer{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
			RequireTLS: cfg.SMTPRequireTLS}
	}
	mods.svc.Mailer = sender.Mailer
	ob := outbox.New(o.Store, o.Keys, sender, o.Logger.With("module", "notify"))
	ob.Backoff, ob.MaxBackoff, ob.MaxAttempts = cfg.RetryBase, cfg.RetryMax, cfg.MaxAttempts
	svc := &response.Service{Store: o.Store, Publisher: ob, Logger: o.Logger.With("module", "response"),
		ClientDeadline: cfg.ClientDeadline, NIS2: cfg.NIS2, BaseURL: o.Config.BaseURL, Now: o.Clock}

	mods.svc.Publisher = ob
	mods.api.IncidentResponse.Response = svc
	mods.api.IncidentResponse.Notify = ob
	mods.web.IncidentResponse = web.IncidentResponseDeps{Response: svc, Notify: ob}
	mods.nav = append(mods.nav, web.Module{Key: web.ModuleResponse, Path: "/clocks",
		Roles: []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}})
	mods.background = append(mods.background, ob.Run, func(ctx context.Context) { svc.Run(ctx, cfg.ClockCheck) })

	if o.Config.Demo {
		if err := seedResponseDemo(ctx, o.Store, svc); err != nil {
			return fmt.Errorf("demo contract settings: %w", err)
		}
	}
	return nil
}

// seedResponseDemo gives the demo clients contract terms once: the first a
// 24 h breach-notice deadline and DORA (a bank), the others 48 h.
func seedResponseDemo(ctx context.Context, st *store.Store, svc *response.Service) error {
	list, err := st.ResponseClientSettingsList(ctx, identity.Scope{All: true})
	if err != nil {
		return err
	}
	for _, c := range list {
		if !c.UpdatedAt.IsZero() {
			return nil // already seeded (or edited)
		}
	}
	clients, err := st.Clients(ctx, org.ClientFilter{Scope: identity.Scope{All: true}, Page: org.Page{Limit: 50}})
	if err != nil {
		return err
	}
	system := &identity.Principal{Username: "demo", Role: identity.RoleAdmin, AllClients: true}
	for i, c := range clients {
		in := response.ClientSettingsInput{NotifyHours: 48, ContactName: "DPO " + c.Name}
		if i == 0 {
			in = response.ClientSettingsInput{NotifyHours: 24, Financial: true, ContactName: "DPO " + c.Name}
		}
		if _, err := svc.SaveClientSettings(ctx, system, c.ID, in); err != nil {
			return err
		}
	}
	return nil
}
