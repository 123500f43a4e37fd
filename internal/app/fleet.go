package app

import (
	"context"
	"fmt"

	"github.com/custodia/custodia/internal/fleet"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/web"
)

// initFleet builds the fleet module and adds it to mods: the service, the
// agents' protocol (/agent/v1/…), the API and console, the navigation entry
// and the periodic work (silent devices, escalations, desk reports).
// connectModules hands desk reports to the incident module with
// mods.api.Fleet.Service.SetReportIntake.
func (a *App) initFleet(ctx context.Context, o Options, mods *modules) error {
	svc, err := fleet.New(ctx, o.Store, o.Keys, o.Config.Fleet, o.Logger)
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	mods.api.Fleet.Service = svc
	mods.web.Fleet.Service = svc
	mods.registrars = append(mods.registrars, svc.Protocol())
	mods.nav = append(mods.nav, web.Module{Key: web.ModuleWorkstations, Path: "/fleet",
		Roles: []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleAuditor, identity.RoleSupervisor}})
	mods.background = append(mods.background, svc.Run)
	if o.Config.Demo {
		if err := fleetDemo(ctx, o.Store); err != nil {
			return fmt.Errorf("fleet demo: %w", err)
		}
	}
	return nil
}
