package app

import (
	"context"
	"io/fs"

	"github.com/custodia/custodia/internal/api"
	"github.com/custodia/custodia/internal/incident/triage"
	"github.com/custodia/custodia/internal/notify"
	"github.com/custodia/custodia/internal/server"
	"github.com/custodia/custodia/internal/web"
)

// modules collects what the product modules contribute to the assembled
// application. Each module's init function (app/<module>.go) builds the
// module's services and fills in its part; none touches another's.
type modules struct {
	// api are the API's dependencies (each module sets its own field).
	api api.Deps
	// web are the console's module dependencies (only the module fields
	// Fleet, Incidents, ISMS and DataProtection are used from it).
	web web.Deps
	// nav are the modules' entries in the console navigation.
	nav []web.Module
	// messages are extra message catalogues (<lang>/<module>.json).
	messages []fs.FS
	// registrars mount routes outside the console and /api/v1 (for example
	// the workstation agents' protocol).
	registrars []server.Registrar
	// background runs in its own goroutine from Start until its context
	// ends (schedulers, listeners); Stop waits for it to return.
	background []func(context.Context)

	// Services the modules offer one another; connectModules joins them
	// once every module is built.
	svc moduleServices
}

// moduleServices are the modules' services other modules use.
type moduleServices struct {
	// Mailer sends e-mail through the configured relay (--notify-smtp-addr);
	// nil when none is configured.
	Mailer notify.Mailer
	// Publisher is the notification outbox (incident response module).
	Publisher notify.Publisher
	// Desk is the incident desk: it turns desk reports into incidents.
	Desk *triage.Service
}

// connectModules joins the modules that use one another's services: the
// incident desk publishes to the notification outbox, and a desk report
// received by the fleet becomes an incident.
func (a *App) connectModules(mods *modules) {
	if mods.svc.Desk != nil && mods.svc.Publisher != nil {
		mods.svc.Desk.SetPublisher(mods.svc.Publisher)
	}
	if mods.svc.Desk != nil && mods.api.Fleet.Service != nil {
		mods.api.Fleet.Service.SetReportIntake(mods.svc.Desk)
	}
}
