package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/desk"
	"github.com/custodia/custodia/internal/incident/smtpd"
	"github.com/custodia/custodia/internal/incident/triage"
	"github.com/custodia/custodia/internal/notify"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/web"
)

// initIncidents builds the incidents module and adds it to mods: the desk
// service (reports, triage, incidents, playbooks, SLAs), its API and
// console pages, its background worker (acknowledgements, SLA escalation)
// and, when configured, the SMTP listener for reported e-mail.
func (a *App) initIncidents(ctx context.Context, o Options, mods *modules) error {
	cfg := o.Config.Incidents
	if err := cfg.Validate(); err != nil {
		return err
	}
	slas, err := cfg.SLAPolicy()
	if err != nil {
		return err
	}
	var mailer notify.Mailer
	if cfg.MailRelay != "" {
		mailer = &notify.SMTPMailer{Addr: cfg.MailRelay, From: cfg.MailFrom, Username: cfg.MailUser, Password: cfg.MailPassword,
			RequireTLS: cfg.MailRequireTLS, Hello: cfg.SMTPHostname}
	}
	if mailer == nil && mods.svc.Mailer != nil {
		mailer = mods.svc.Mailer // the relay configured for notifications
	}
	svc, err := triage.New(ctx, triage.Options{Store: o.Store, Keys: o.Keys, Mailer: mailer, Logger: o.Logger.With("module", "incidents"),
		Now: o.Clock, SLAs: slas, ClusterWindow: cfg.ClusterWindow, BaseURL: o.Config.BaseURL, EscalateTo: cfg.EscalationAddresses()})
	if err != nil {
		return fmt.Errorf("incidents: %w", err)
	}
	mods.svc.Desk = svc
	mods.api.Incidents.Desk = svc
	mods.web.Incidents.Desk = svc
	mods.nav = append(mods.nav, web.Module{Key: web.ModuleIncidents, Path: "/incidents",
		Roles: []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}})
	interval := cfg.SLACheckInterval
	mods.background = append(mods.background, func(ctx context.Context) { svc.Run(ctx, interval) })
	if cfg.SMTPAddr != "" {
		run, err := incidentsSMTP(cfg.SMTPAddr, cfg.SMTPHostname, cfg.ReportAddresses(), cfg.SMTPTLSCert, cfg.SMTPTLSKey,
			cfg.SMTPMaxBytes, cfg.SMTPIPRate, cfg.SMTPSenderRate, svc, o.Logger)
		if err != nil {
			return err
		}
		mods.background = append(mods.background, run)
	}
	if o.Config.Demo {
		if err := incidentsDemo(ctx, svc); err != nil {
			return fmt.Errorf("incidents demo: %w", err)
		}
	}
	return nil
}

// incidentsSMTP listens at once (so a bad address fails at start) and
// returns the background function serving until ctx ends.
func incidentsSMTP(addr, hostname string, recipients []string, certFile, keyFile string, maxBytes int, ipRate, senderRate float64,
	svc *triage.Service, log *slog.Logger) (func(context.Context), error) {
	cfg := smtpd.Config{Hostname: hostname, Recipients: recipients, MaxMessageBytes: maxBytes, IPRate: ipRate, IPBurst: max(20, int(2*ipRate)),
		SenderRate: senderRate, SenderBurst: 10, Handler: svc.MailHandler()}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("incidents smtp: %w", err)
		}
		cfg.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	srv, err := smtpd.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("incidents smtp: %w", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("incidents smtp: %w", err)
	}
	return func(ctx context.Context) {
		done := make(chan error, 1)
		go func() { done <- srv.Serve(l) }()
		select {
		case <-ctx.Done():
		case err := <-done:
			if !errors.Is(err, smtpd.ErrServerClosed) {
				log.Error("incidents SMTP listener stopped", "err", err)
			}
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	}, nil
}

// incidentsDemo adds a few reports and incidents once (idempotent: it does
// nothing when incidents exist).
func incidentsDemo(ctx context.Context, svc *triage.Service) error {
	ctx = audit.WithActor(ctx, audit.Actor{Name: "demo"})
	all := &identity.Principal{Username: "demo", Role: identity.RoleSecurity, AllClients: true}
	if list, err := svc.Incidents(ctx, all, storeFilterAny()); err != nil || len(list) > 0 {
		return err
	}
	if _, err := svc.Create(ctx, all, triage.NewIncident{Title: "Vishing wave: callers posing as the bank's IT desk", Severity: desk.SeverityHigh,
		Category: "social-engineering", Description: "Several agents received calls asking for their VPN codes."}); err != nil {
		return err
	}
	for _, t := range []triage.ReportInput{
		{Channel: desk.ChannelAPI, Category: desk.ChoiceSuspiciousCall, Text: "Caller asked for the customer's card PIN to 'verify' him",
			Context: map[string]string{"call_id": "DEMO-1001", "queue": "cards", "calling_number": "+34910000001"}},
		{Channel: desk.ChannelAPI, Category: desk.ChoiceMisdirectedData, Text: "I e-mailed a statement to the wrong customer"},
	} {
		if _, err := svc.Submit(ctx, all, t); err != nil {
			return err
		}
	}
	return nil
}

func storeFilterAny() store.IncidentFilter { return store.IncidentFilter{Limit: 1} }
