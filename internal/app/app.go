// Package app assembles Custodia's server from its parts — the identity
// service, the console, the API, the audit sealer and the housekeeping — so
// that "custodia serve", the end-to-end tests and the load generator run the
// very same wiring. It also performs the first-run work: the demo seed and
// the first administrator.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/custodia/custodia/internal/api"
	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/demo"
	"github.com/custodia/custodia/internal/identity/auth"
	auditsvc "github.com/custodia/custodia/internal/isms/auditprog/service"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/server"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/web"
)

// Options is what New needs.
type Options struct {
	Config  config.Config
	Store   *store.Store
	Keys    *secret.Keyring
	Signing *audit.SigningKey // signs audit checkpoints; nil disables the sealer
	Logger  *slog.Logger
	Version string
	// Auth tunes the identity service (tests lower the password cost); its
	// session timeouts default to the Config's.
	Auth auth.Config
	// Clock is the identity service's clock (tests); nil is time.Now.
	Clock func() time.Time
	// DemoScale multiplies the demo people (10 for the benchmark); 0 is 1.
	DemoScale int
}

// App is the assembled application.
type App struct {
	Server   *server.Server
	Identity *auth.Service
	API      *api.Server
	Console  *web.Server
	// Announce are the lines to print once on the terminal after the URL
	// ({url} stands for the public URL): the one-time administrator password,
	// the demo summary. They are never logged.
	Announce []string
	// Demo is what the demo seed did (zero without --demo).
	Demo demo.Result
	// ISMSAudits is the audit programme (external auditors' invitations).
	ISMSAudits *auditsvc.Service

	log        *slog.Logger
	background []func(context.Context)
	store      *store.Store
	sealer     *audit.Sealer
	stop       context.CancelFunc
	wg         sync.WaitGroup
	stopOnce   sync.Once
}

// New builds the application and performs the first-run work. Call Start to
// begin the background work and Stop to end it.
func New(ctx context.Context, o Options) (*App, error) {
	if o.Store == nil || o.Keys == nil || o.Logger == nil {
		return nil, errors.New("app: store, keys and logger are required")
	}
	cfg := o.Config
	ac := o.Auth
	if ac.SessionIdle == 0 {
		ac.SessionIdle = cfg.SessionIdle
	}
	if ac.SessionMax == 0 {
		ac.SessionMax = cfg.SessionMax
	}
	svc := auth.NewService(o.Store, o.Keys, ac, o.Clock)
	a := &App{Identity: svc, log: o.Logger, store: o.Store}

	if cfg.Demo {
		res, err := demo.Seed(ctx, o.Store, demo.Options{Scale: o.DemoScale})
		if err != nil {
			return nil, err
		}
		a.Demo = res
		if res.Seeded {
			o.Logger.Info("demo organization seeded", "clients", res.Clients, "sites", res.Sites, "teams", res.Teams, "people", res.People)
			a.Announce = append(a.Announce, fmt.Sprintf("Demo organization seeded: %d clients, %d sites, %d teams, %d people.",
				res.Clients, res.Sites, res.Teams, res.People))
		}
	}
	// The product modules build their services and fill in their part of
	// the API's and the console's dependencies (app/<module>.go).
	mods := &modules{
		api: api.Deps{Store: o.Store, Logger: o.Logger, Identity: svc, Tokens: svc, Credentials: svc, Version: o.Version},
	}
	for _, init := range []func(context.Context, Options, *modules) error{a.initFleet, a.initIncidentResponse, a.initIncidents, a.initISMS, a.initISMSRisk, a.initDataProtection} {
		if err := init(ctx, o, mods); err != nil {
			return nil, err
		}
	}
	a.connectModules(mods)
	a.API = api.New(mods.api)
	console, deny, err := newConsole(ctx, o, svc, mods)
	if err != nil {
		return nil, err
	}
	a.Console = console
	regs := append([]server.Registrar{console, a.API}, mods.registrars...)
	a.background = mods.background

	a.Server, err = server.New(server.Deps{
		Config: cfg, Store: o.Store, Logger: o.Logger,
		Auth:              svc,
		NeedsMFAEnrolment: svc.NeedsMFAEnrolment,
		Deny:              deny,
		Registrars:        regs,
	})
	if err != nil {
		return nil, err
	}
	if o.Signing != nil {
		a.sealer = audit.NewSealer(o.Store, o.Signing, audit.SealerOptions{}, o.Logger)
	}
	// Last, once nothing else can fail: a one-time password that is created
	// must also be shown.
	username, password, created, err := svc.EnsureFirstAdmin(ctx)
	if err != nil {
		return nil, fmt.Errorf("create the first administrator: %w", err)
	}
	if created {
		// The password goes to the terminal only, never to the log.
		o.Logger.Info("first administrator created", "username", username)
		a.Announce = append(a.Announce,
			"",
			"  Sign in at {url}/login as "+username+" with this one-time password:",
			"",
			"      "+password,
			"",
			"  It is shown only now. You will choose your own password and set up",
			"  two-factor authentication at the first sign-in.",
			"")
	}
	return a, nil
}

// Start begins the background work: the audit sealer and the housekeeping.
// It runs until Stop (or ctx ends).
func (a *App) Start(ctx context.Context) {
	ctx, a.stop = context.WithCancel(context.WithoutCancel(ctx))
	if a.sealer != nil {
		a.sealer.Start(ctx)
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.maintain(ctx)
	}()
	for _, run := range a.background {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			run(ctx)
		}()
	}
}

// Stop ends the background work after a last audit seal and waits for it,
// at most until ctx ends. Call it after the HTTP server has stopped, so that
// no request is cut short.
func (a *App) Stop(ctx context.Context) error {
	var err error
	a.stopOnce.Do(func() {
		if a.stop != nil {
			a.stop()
		}
		if a.sealer != nil {
			if e := a.sealer.Shutdown(ctx); e != nil {
				err = fmt.Errorf("audit sealer: %w", e)
			}
		}
		done := make(chan struct{})
		go func() { a.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = errors.Join(err, fmt.Errorf("housekeeping did not stop: %w", ctx.Err()))
		}
	})
	return err
}

// maintain runs the housekeeping right away and then every 10 minutes:
// expired sessions and throttling records are removed, and people whose
// leave date has passed are deactivated (their access revoked).
func (a *App) maintain(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if err := a.Identity.Cleanup(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("session cleanup failed", "error", err.Error())
		}
		if n, err := a.store.DeactivateLeavers(ctx, time.Now()); err != nil && ctx.Err() == nil {
			a.log.Warn("deactivating leavers failed", "error", err.Error())
		} else if n > 0 {
			a.log.Info("leavers deactivated", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
