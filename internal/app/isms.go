package app

import (
	"context"
	"fmt"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance"
	"github.com/custodia/custodia/internal/isms/compliance/office"
	"github.com/custodia/custodia/internal/isms/ens"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/web"
)

// initISMS builds the ISMS compliance module and adds it to mods: the
// compliance office (catalogues registered in the store), the API and
// console, the navigation entry, and the daily compliance snapshot.
func (a *App) initISMS(ctx context.Context, o Options, mods *modules) error {
	off, err := office.New(ctx, o.Store, o.Keys, o.Clock)
	if err != nil {
		return fmt.Errorf("isms: %w", err)
	}
	mods.api.ISMS.Office = off
	mods.web.ISMS.Office = off
	mods.nav = append(mods.nav, web.Module{Key: web.ModuleISMS, Path: "/isms",
		Roles: []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}})
	every := o.Config.ISMS.SnapshotInterval
	if every <= 0 {
		every = time.Hour
	}
	log := o.Logger
	mods.background = append(mods.background, func(ctx context.Context) {
		off.RunSnapshots(ctx, every, func(err error) { log.Error("isms compliance snapshot failed", "error", err.Error()) })
	})
	if o.Config.Demo {
		if err := ismsDemo(ctx, off, o); err != nil {
			return fmt.Errorf("isms demo: %w", err)
		}
	}
	return nil
}

// ismsDemo seeds a few controls, an ENS system and SoA statements once
// (nothing when controls exist already).
func ismsDemo(ctx context.Context, off *office.Office, o Options) error {
	all := identity.Scope{All: true}
	existing, err := o.Store.ISMSControls(ctx, storeControlFilter(all), off.Now())
	if err != nil || len(existing) > 0 {
		return err
	}
	p := &identity.Principal{Username: "demo", Role: identity.RoleAdmin, AllClients: true}
	iso := func(ids ...string) []catalog.Ref {
		var out []catalog.Ref
		for _, id := range ids {
			out = append(out, catalog.Ref{Catalog: catalog.ISO27001, Requirement: id})
		}
		return out
	}
	controls := []compliance.Control{
		{Code: "CC-MFA", Title: "MFA for agents and supervisors", Status: compliance.Implemented, Effectiveness: compliance.Effective,
			Requirements: append(iso("A.8.5"), catalog.Ref{Catalog: catalog.ENS, Requirement: "op.acc.6"})},
		{Code: "CC-AV", Title: "Antimalware on every agent desktop", Status: compliance.Implemented, Requirements: iso("A.8.7")},
		{Code: "CC-PCI-PAUSE", Title: "Pause-and-resume of call recording during card capture", Status: compliance.Partial, Requirements: iso("A.8.12")},
		{Code: "CC-BACKUP", Title: "Daily backups of CRM and recordings", Status: compliance.Planned, Requirements: iso("A.8.13")},
	}
	for i := range controls {
		if err := off.SaveControl(ctx, p, &controls[i]); err != nil {
			return err
		}
	}
	now := off.Now()
	for _, e := range []compliance.Evidence{
		{Kind: compliance.EvidenceRecord, Title: "Identity provider MFA report", ControlID: controls[0].ID, RecordModule: "identity", RecordRef: "mfa-report", CollectedAt: now.AddDate(0, 0, -10), FreshDays: 90},
		{Kind: compliance.EvidenceLink, Title: "Antimalware console export", ControlID: controls[1].ID, URL: "https://intranet.example/av/export", CollectedAt: now.AddDate(0, 0, -200), FreshDays: 180},
	} {
		if err := off.AddEvidence(ctx, p, &e, nil); err != nil {
			return err
		}
	}
	sys := &compliance.ENSSystem{Name: "Plataforma de contact center", Description: "ACD, grabaciones, CRM",
		Valuation: ens.Valuation{C: ens.Medio, I: ens.Medio, T: ens.Bajo, A: ens.Medio, D: ens.Alto}}
	if err := off.SaveSystem(ctx, p, sys); err != nil {
		return err
	}
	return off.SetMeasure(ctx, p, sys.ID, &compliance.MeasureState{Measure: "op.acc.6", Status: catalog.Implemented})
}

func storeControlFilter(scope identity.Scope) store.ISMSControlFilter {
	return store.ISMSControlFilter{Scope: scope}
}
