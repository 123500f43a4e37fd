package app

import (
	"context"
	"fmt"
	"time"

	"github.com/custodia/custodia/internal/fleet/wire"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/posture/baseline"
	"github.com/custodia/custodia/internal/store"
)

// fleetDemo enrolls a few demo workstations per team with results of the
// built-in baseline (some failing), once: it does nothing when devices
// exist already. The results are invented but the checks are the real
// baseline's, so the fleet views and exceptions can be tried.
func fleetDemo(ctx context.Context, st *store.Store) error {
	all := identity.Scope{All: true}
	if ds, err := st.FleetDevices(ctx, all, store.FleetDeviceFilter{Limit: 1}); err != nil || len(ds) > 0 {
		return err
	}
	teams, err := st.Teams(ctx, org.TeamFilter{Scope: all, Page: org.Page{Limit: 20}})
	if err != nil || len(teams) == 0 {
		return err
	}
	oses := []string{"windows", "windows", "linux", "darwin"}
	now := time.Now().UTC()
	n := 0
	for ti, t := range teams {
		if ti >= 6 {
			break
		}
		hash := wire.HashSecret(fmt.Sprintf("demo-secret-%d-%d", t.ID, now.UnixNano()))
		err := st.InTx(ctx, func(tx *store.Tx) error {
			sec := &store.FleetEnrollSecret{Name: "Demo " + t.Name, Hint: "ces_demo", ClientID: t.ClientID, SiteID: t.SiteID, TeamID: t.ID, CreatedBy: "demo"}
			if err := tx.FleetSecretCreate(ctx, sec, hash); err != nil {
				return err
			}
			for i := 0; i < 5; i++ {
				n++
				osName := oses[(ti+i)%len(oses)]
				dev, _, err := tx.FleetEnroll(ctx, hash, store.FleetDeviceFacts{HardwareID: fmt.Sprintf("demo-%d-%d", t.ID, i),
					Hostname: fmt.Sprintf("CC-%s-%02d", t.Code, i+1), OS: osName, AgentVersion: "demo"}, wire.HashSecret(fmt.Sprintf("demo-cred-%d", n)), now)
				if err != nil {
					return err
				}
				ps, err := baseline.Load(baseline.For(osName, false)...)
				if err != nil {
					return err
				}
				var rs []store.FleetResult
				for _, p := range ps {
					for ci, c := range p.Checks {
						res := "passed"
						if (ci+i+ti)%7 == 0 {
							res = "failed"
						}
						rs = append(rs, store.FleetResult{Policy: p.ID, CheckID: c.ID, Title: c.Title, Result: res, SessionUser: fmt.Sprintf("agent%02d", i+1),
							Reason: "demo result", Evidence: `[{"rule":"demo","observed":"demo value","result":"` + res + `"}]`})
					}
				}
				cred := &store.FleetDeviceCred{ID: dev.ID, ClientID: dev.ClientID, SiteID: dev.SiteID, TeamID: dev.TeamID, Hostname: dev.Hostname, OS: osName}
				if _, err := tx.FleetApplyResults(ctx, cred, rs, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
