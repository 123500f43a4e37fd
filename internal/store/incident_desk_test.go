package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/desk"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

func TestIncidentDeskStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := org.Client{Code: "a", Name: "A"}, org.Client{Code: "b", Name: "B"}
		for _, c := range []*org.Client{&a, &b} {
			if err := st.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		year := time.Now().UTC().Year()
		var ins []*desk.Incident
		for i, clients := range [][]int64{{a.ID}, {b.ID}, {a.ID, b.ID}, nil} {
			in := &desk.Incident{Title: fmt.Sprintf("incident %d", i), Severity: desk.SeverityMedium, Category: "phishing", ClientIDs: clients}
			if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.IncidentCreate(ctx, in) }); err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("INC-%d-%06d", year, i+1); in.Ref != want {
				t.Errorf("ref = %s, want %s", in.Ref, want)
			}
			ins = append(ins, in)
		}
		bad := &desk.Incident{Title: "x", Severity: "urgent"}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.IncidentCreate(ctx, bad) }); err == nil {
			t.Error("an unknown severity was stored")
		}
		onlyA := identity.Scope{ClientIDs: []int64{a.ID}}
		list, err := st.Incidents(ctx, onlyA, store.IncidentFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for _, in := range list {
			refs = append(refs, in.Ref)
		}
		if !slices.Equal(refs, []string{ins[2].Ref, ins[0].Ref}) {
			t.Errorf("client A sees %v, want its own and the shared one", refs)
		}
		if _, err := st.Incident(ctx, onlyA, ins[1].ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("client B's incident read through A's scope: %v", err)
		}
		if _, err := st.Incident(ctx, onlyA, ins[3].ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("operator-wide incident read through A's scope: %v", err)
		}
		if all, _ := st.Incidents(ctx, identity.Scope{All: true}, store.IncidentFilter{}); len(all) != 4 {
			t.Errorf("all-client scope sees %d", len(all))
		}
		if none, _ := st.Incidents(ctx, identity.Scope{ClientIDs: []int64{}}, store.IncidentFilter{}); len(none) != 0 {
			t.Errorf("empty scope sees %d", len(none))
		}
		id := ins[0].ID
		err = st.InTx(ctx, func(tx *store.Tx) error {
			for _, v := range []string{"203.0.113.5", "203.0.113.5", "::ffff:203.0.113.5"} {
				if _, err := tx.IncidentAddObservable(ctx, id, desk.Observable{Kind: desk.ObsIP, Value: v}); err != nil {
					return err
				}
			}
			_, err := tx.IncidentSetStatus(ctx, id, desk.StatusEradicated, "", "")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if obs, _ := st.IncidentObservables(ctx, id); len(obs) != 1 {
			t.Errorf("observables = %+v, want one (deduplicated)", obs)
		}
		err = st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.IncidentSetStatus(ctx, id, desk.StatusTriaged, "", "")
			return err
		})
		if !errors.Is(err, desk.ErrTransition) {
			t.Errorf("eradicated → triaged: %v", err)
		}
		got, _ := st.Incident(ctx, onlyA, id)
		if got.AcknowledgedAt == nil || got.EradicatedAt == nil || got.TriagedAt != nil {
			t.Errorf("stage times = %+v", got)
		}
		tl, _ := st.IncidentTimeline(ctx, id)
		if len(tl) < 3 || tl[0].Kind != "created" {
			t.Errorf("timeline = %+v", tl)
		}
		// Reports: references, scope, clustering.
		mk := func(client int64, msgID string) *desk.Report {
			r := &desk.Report{Channel: desk.ChannelEmail, Category: desk.ChoiceSuspiciousEmail, ClientID: client, MessageID: msgID,
				Observables: []desk.Observable{{Kind: desk.ObsURL, Value: "https://evil.example/" + msgID}, {Kind: desk.ObsIP, Value: "999.1.1.1"}}}
			if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.ReportCreate(ctx, r) }); err != nil {
				t.Fatal(err)
			}
			return r
		}
		r1, r2, r3 := mk(a.ID, "m1"), mk(b.ID, "m1"), mk(a.ID, "m2")
		if r1.Ref != fmt.Sprintf("R-%d-000001", year) || r3.Ref != fmt.Sprintf("R-%d-000003", year) {
			t.Errorf("report refs %s %s", r1.Ref, r3.Ref)
		}
		if len(r1.Observables) != 1 {
			t.Errorf("invalid observable kept: %+v", r1.Observables)
		}
		err = st.InTx(ctx, func(tx *store.Tx) error {
			other, inc, err := tx.ReportCluster(ctx, r2, time.Now().Add(-time.Hour))
			if err != nil || other != r1.ID || inc != 0 {
				return fmt.Errorf("cluster(r2) = %d, %d, %v; want r1", other, inc, err)
			}
			if _, _, err := tx.ReportCluster(ctx, r3, time.Now().Add(-time.Hour)); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("cluster(r3) = %v, want not found", err)
			}
			return tx.ReportLink(ctx, r1.ID, id)
		})
		if err != nil {
			t.Fatal(err)
		}
		if rs, _ := st.Reports(ctx, onlyA, store.ReportFilter{}); len(rs) != 2 {
			t.Errorf("client A sees %d reports, want 2", len(rs))
		}
		if _, err := st.Report(ctx, onlyA, r2.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("client B's report through A's scope: %v", err)
		}
		if obs, _ := st.IncidentObservables(ctx, id); len(obs) != 2 {
			t.Errorf("linking did not bring the report's observables: %+v", obs)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.ReportDismiss(ctx, r3.ID, "") }); err == nil {
			t.Error("dismissed without a reason")
		}
		var n int
		if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'incident.%' OR action LIKE 'report.%'").Scan(&n); err != nil || n < 10 {
			t.Errorf("audit entries = %d, %v", n, err)
		}
	})
}
