package app

import (
	"context"
	"fmt"
	"time"

	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/auditprog"
	auditsvc "github.com/custodia/custodia/internal/isms/auditprog/service"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/magerit"
	"github.com/custodia/custodia/internal/isms/policy"
	"github.com/custodia/custodia/internal/isms/policy/reminder"
	"github.com/custodia/custodia/internal/web"
)

// initISMSRisk builds the risk, policy and audit module and adds it to
// mods: the API and console, the navigation entries, and the background
// jobs (policy reminders; corrective-action escalation, auditor expiry and
// risk recomputation).
func (a *App) initISMSRisk(ctx context.Context, o Options, mods *modules) error {
	lib, err := catalog.Builtin()
	if err != nil {
		return fmt.Errorf("isms risk: %w", err)
	}
	cat, err := i18n.Load()
	if err != nil {
		return fmt.Errorf("isms risk: %w", err)
	}
	// Reminders go through the relay configured for notifications
	// (--notify-smtp-addr); without one they are recorded as due.
	mailer := mods.svc.Mailer
	rem := &reminder.Service{Store: o.Store, Mailer: mailer, Catalog: cat, Logger: o.Logger, BaseURL: o.Config.BaseURL}
	audits := &auditsvc.Service{Store: o.Store, Library: lib, Identity: a.Identity, Logger: o.Logger, Now: o.Clock}
	a.ISMSAudits = audits

	mods.api.ISMSRisk.Store = o.Store
	mods.api.ISMSRisk.Library = lib
	mods.api.ISMSRisk.Policies = rem
	mods.api.ISMSRisk.Audits = audits
	mods.api.ISMSRisk.Catalog = cat
	mods.web.ISMSRisk = web.ISMSRiskDeps{Store: o.Store, Library: lib, Policies: rem, Audits: audits}

	governance := []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}
	mods.nav = append(mods.nav,
		web.Module{Key: "risks", Path: "/isms/risks", Roles: governance},
		web.Module{Key: "policies", Path: "/isms/policies", Roles: governance},
		web.Module{Key: "audits", Path: "/isms/audits", Roles: governance},
		web.Module{Key: "mypolicies", Path: "/policies/mine", Roles: identity.Roles},
		web.Module{Key: "auditorportal", Path: "/auditor", Roles: []identity.Role{identity.RoleAuditor}, External: true},
	)
	mods.background = append(mods.background, rem.Run, audits.Run)
	if o.Config.Demo {
		if err := ismsRiskDemo(ctx, o, lib); err != nil {
			return fmt.Errorf("isms risk demo: %w", err)
		}
	}
	return nil
}

// ismsRiskDemo loads the contact-center starter model operator-wide and an
// internal ISO audit once (when there are no assets), and an acceptable-use
// policy published to agents and supervisors, approved by the first
// administrator (on the first start with an administrator: a fresh data
// directory gets its administrator after the modules are built).
func ismsRiskDemo(ctx context.Context, o Options, lib *catalog.Library) error {
	all := identity.Scope{All: true}
	existing, err := o.Store.RiskAssets(ctx, all)
	if err != nil {
		return err
	}
	if len(existing) == 0 {
		m, err := magerit.ContactCenter()
		if err != nil {
			return err
		}
		if _, err := o.Store.RiskLoadStarter(ctx, all, 0, m); err != nil {
			return err
		}
		items, err := auditprog.Checklist(lib, catalog.ISO27001, []string{"A.5"}, nil, "en")
		if err != nil {
			return err
		}
		start := time.Now().UTC().AddDate(0, 1, 0).Truncate(24 * time.Hour)
		au := auditprog.Audit{Title: "Internal audit: organisational controls", Kind: "internal", Framework: catalog.ISO27001,
			Scope: "Annex A.5 at every site", Auditors: "Internal audit team", PlannedStart: start, PlannedEnd: start.AddDate(0, 0, 3)}
		if err := o.Store.ISMSAuditCreate(ctx, all, lib, &au, items); err != nil {
			return err
		}
	}
	policies, err := o.Store.ISMSPolicies(ctx, all)
	if err != nil || len(policies) > 0 {
		return err
	}
	admins, _, err := o.Store.Users(ctx, identity.UserFilter{Role: identity.RoleAdmin, Limit: 1})
	if err != nil || len(admins) == 0 {
		return err
	}
	pol := policy.Policy{Code: "aup", Title: "Acceptable use of workstations and customer data", Kind: policy.KindPolicy, OwnerUserID: admins[0].ID}
	if err := o.Store.ISMSPolicyCreate(ctx, all, &pol); err != nil {
		return err
	}
	v := policy.Version{Body: demoPolicy, ChangeNote: "First version", Target: policy.Target{Roles: []identity.Role{identity.RoleAgent, identity.RoleSupervisor}}}
	if err := o.Store.ISMSPolicyAddVersion(ctx, all, pol.ID, &v, []int64{admins[0].ID}, "demo"); err != nil {
		return err
	}
	if err := o.Store.ISMSPolicyApprove(ctx, admins[0].Principal(), v.ID, "demo"); err != nil {
		return err
	}
	return o.Store.ISMSPolicyPublish(ctx, all, v.ID, time.Now())
}

const demoPolicy = `# Acceptable use

This policy applies to every agent and supervisor.

## Customer data

- Never write card numbers down, on paper or in notes.
- Pause the recording before a customer reads a card number.
- Lock your workstation (**Windows + L**) whenever you leave it.

## Reporting

Report anything suspicious to the security team at once.
`
