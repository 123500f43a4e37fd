package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// TestFleetScopes checks client, supervisor-team and agent segregation of
// devices, exceptions, secrets and the fleet view of a check.
func TestFleetScopes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		a, b := &org.Client{Code: "a", Name: "A"}, &org.Client{Code: "b", Name: "B"}
		for _, c := range []*org.Client{a, b} {
			if err := st.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		site := &org.Site{Code: "s", Name: "S"}
		if err := st.CreateSite(ctx, site); err != nil {
			t.Fatal(err)
		}
		t1 := &org.Team{Code: "t1", Name: "T1", SiteID: site.ID, ClientID: a.ID}
		t2 := &org.Team{Code: "t2", Name: "T2", SiteID: site.ID, ClientID: a.ID}
		t3 := &org.Team{Code: "t3", Name: "T3", SiteID: site.ID, ClientID: b.ID}
		for _, tm := range []*org.Team{t1, t2, t3} {
			if err := st.CreateTeam(ctx, tm); err != nil {
				t.Fatal(err)
			}
		}
		devs := map[string]int64{}
		for _, d := range []struct {
			name         string
			client, team int64
		}{{"a1", a.ID, t1.ID}, {"a2", a.ID, t2.ID}, {"b3", b.ID, t3.ID}} {
			err := st.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.FleetSecretCreate(ctx, &store.FleetEnrollSecret{Name: d.name, ClientID: d.client, TeamID: d.team}, "hash-"+d.name); err != nil {
					return err
				}
				dev, re, err := tx.FleetEnroll(ctx, "hash-"+d.name, store.FleetDeviceFacts{HardwareID: "hw-" + d.name, Hostname: "PC-" + d.name, OS: "windows"}, "cred-"+d.name, now)
				if err != nil || re {
					return errors.Join(err, errors.New("unexpected re-enrollment"))
				}
				devs[d.name] = dev.ID
				_, err = tx.FleetApplyResults(ctx, &store.FleetDeviceCred{ID: dev.ID, ClientID: d.client, TeamID: d.team, Hostname: dev.Hostname},
					[]store.FleetResult{{Policy: "p", CheckID: "usb", Result: "failed", Evidence: "[]"}, {Policy: "p", CheckID: "fw", Result: "passed", Evidence: "[]"}}, now)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		names := func(sc identity.Scope, f store.FleetDeviceFilter) string {
			ds, err := st.FleetDevices(ctx, sc, f)
			if err != nil {
				t.Fatalf("FleetDevices(%+v, %+v): %v", sc, f, err)
			}
			out := ""
			for _, d := range ds {
				out += d.Hostname + " "
			}
			return out
		}
		for _, tc := range []struct {
			name  string
			scope identity.Scope
			want  string
		}{
			{"all", identity.Scope{All: true}, "PC-a1 PC-a2 PC-b3 "},
			{"client A", identity.Scope{ClientIDs: []int64{a.ID}}, "PC-a1 PC-a2 "},
			{"supervisor of T1", identity.Scope{ClientIDs: []int64{a.ID}, TeamIDs: []int64{t1.ID}}, "PC-a1 "},
			{"supervisor without teams", identity.Scope{ClientIDs: []int64{a.ID}, TeamIDs: []int64{}}, ""},
			{"agent", identity.Scope{ClientIDs: []int64{a.ID}, PersonID: -1}, ""},
			{"no clients", identity.Scope{ClientIDs: []int64{}}, ""},
		} {
			if got := names(tc.scope, store.FleetDeviceFilter{}); got != tc.want {
				t.Errorf("%s: devices %q, want %q", tc.name, got, tc.want)
			}
		}
		if got := names(identity.Scope{All: true}, store.FleetDeviceFilter{FailingCheck: "fw"}); got != "" {
			t.Errorf("failing fw = %q, want none", got)
		}
		if got := names(identity.Scope{All: true}, store.FleetDeviceFilter{Query: "a2"}); got != "PC-a2 " {
			t.Errorf("query a2 = %q", got)
		}
		view, err := st.FleetCheckResults(ctx, identity.Scope{ClientIDs: []int64{b.ID}}, store.FleetCheckFilter{CheckID: "usb"})
		if err != nil || len(view) != 1 || view[0].Hostname != "PC-b3" {
			t.Errorf("client B's view of usb = %+v, %v", view, err)
		}
		secs, _ := st.FleetSecrets(ctx, identity.Scope{ClientIDs: []int64{b.ID}})
		if len(secs) != 1 {
			t.Errorf("client B sees %d secrets, want 1", len(secs))
		}
		// Exceptions: a team exception of T2 is invisible to T1's supervisor.
		err = st.InTx(ctx, func(tx *store.Tx) error {
			return tx.FleetExceptionCreate(ctx, &store.FleetException{Policy: "p", CheckID: "usb", Scope: store.FleetScopeTeam, TeamID: t2.ID, ClientID: a.ID,
				Owner: "o", Reason: "r", ExpiresAt: now.Add(time.Hour)})
		})
		if err != nil {
			t.Fatal(err)
		}
		if es, _ := st.FleetExceptions(ctx, identity.Scope{ClientIDs: []int64{a.ID}, TeamIDs: []int64{t1.ID}}, store.FleetExceptionFilter{}); len(es) != 0 {
			t.Errorf("T1's supervisor sees %d exceptions of T2", len(es))
		}
		if es, _ := st.FleetExceptions(ctx, identity.Scope{All: true}, store.FleetExceptionFilter{DeviceID: devs["a2"]}); len(es) != 1 {
			t.Errorf("exceptions applying to a2 = %d, want the team's", len(es))
		}
		if es, _ := st.FleetExceptions(ctx, identity.Scope{All: true}, store.FleetExceptionFilter{Active: true, Now: now.Add(2 * time.Hour)}); len(es) != 0 {
			t.Errorf("expired exception listed as active")
		}
		// Revoke out of scope is a not-found.
		err = st.InTx(ctx, func(tx *store.Tx) error {
			return tx.FleetDeviceRevoke(ctx, identity.Scope{ClientIDs: []int64{b.ID}}, devs["a1"])
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoke out of scope: %v", err)
		}
		// A replayed or superseded credential is refused atomically.
		err = st.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.FleetCheckin(ctx, devs["a1"], "cred-a1", 5, store.FleetHeartbeat{}, now); err != nil {
				return err
			}
			return tx.FleetCheckin(ctx, devs["a1"], "cred-a1", 5, store.FleetHeartbeat{}, now)
		})
		if !errors.Is(err, store.ErrFleetReplay) {
			t.Errorf("same sequence twice: %v, want ErrFleetReplay", err)
		}
		err = st.InTx(ctx, func(tx *store.Tx) error {
			return tx.FleetCheckin(ctx, devs["a1"], "wrong", 9, store.FleetHeartbeat{}, now)
		})
		if !errors.Is(err, store.ErrFleetReplay) {
			t.Errorf("wrong credential digest: %v, want ErrFleetReplay", err)
		}
	})
}
