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

// TestFleetPolicyScopeAndChecks checks that one policy is read within the
// caller's clients only and that its per-check counts cover the devices in
// scope and that policy only.
func TestFleetPolicyScopeAndChecks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		a, b := &org.Client{Code: "a", Name: "A"}, &org.Client{Code: "b", Name: "B"}
		for _, c := range []*org.Client{a, b} {
			if err := st.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		all, onlyA := identity.Scope{All: true}, identity.Scope{ClientIDs: []int64{a.ID}}
		pa := &store.FleetPolicy{Name: "A's", ClientID: a.ID, Source: "policy: {}"}
		pOp := &store.FleetPolicy{Name: "everyone's", Source: "policy: {}"}
		for _, p := range []*store.FleetPolicy{pa, pOp} {
			if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.FleetPolicyCreate(ctx, p) }); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := st.FleetPolicy(ctx, onlyA, pa.ID); err != nil || got.Name != "A's" || got.ClientID != a.ID {
			t.Fatalf("FleetPolicy(onlyA, A's) = %+v, %v", got, err)
		}
		if _, err := st.FleetPolicy(ctx, onlyA, pOp.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("FleetPolicy(onlyA, operator-wide) err = %v, want ErrNotFound", err)
		}
		if _, err := st.FleetPolicy(ctx, all, pOp.ID); err != nil {
			t.Fatalf("FleetPolicy(all, operator-wide) err = %v", err)
		}

		results := map[string][]store.FleetResult{
			"a1": {{Policy: "mine", CheckID: "c1", Result: "failed"}, {Policy: "mine", CheckID: "c2", Result: "passed"}, {Policy: "other", CheckID: "c1", Result: "failed"}},
			"a2": {{Policy: "mine", CheckID: "c1", Result: "passed"}, {Policy: "mine", CheckID: "c2", Result: "error"}},
			"b1": {{Policy: "mine", CheckID: "c1", Result: "failed"}},
		}
		for _, d := range []struct {
			name   string
			client int64
		}{{"a1", a.ID}, {"a2", a.ID}, {"b1", b.ID}} {
			err := st.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.FleetSecretCreate(ctx, &store.FleetEnrollSecret{Name: d.name, ClientID: d.client}, "hash-"+d.name); err != nil {
					return err
				}
				dev, _, err := tx.FleetEnroll(ctx, "hash-"+d.name, store.FleetDeviceFacts{HardwareID: "hw-" + d.name, Hostname: "PC-" + d.name, OS: "linux"}, "cred-"+d.name, now)
				if err != nil {
					return err
				}
				rs := results[d.name]
				for i := range rs {
					rs[i].Evidence = "[]"
				}
				_, err = tx.FleetApplyResults(ctx, &store.FleetDeviceCred{ID: dev.ID, ClientID: d.client, Hostname: dev.Hostname}, rs, now)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name  string
			scope identity.Scope
			want  []store.FleetCheckSummary
		}{
			{"all", all, []store.FleetCheckSummary{{Policy: "mine", CheckID: "c1", Passed: 1, Failed: 2}, {Policy: "mine", CheckID: "c2", Passed: 1, Other: 1}}},
			{"client A", onlyA, []store.FleetCheckSummary{{Policy: "mine", CheckID: "c1", Passed: 1, Failed: 1}, {Policy: "mine", CheckID: "c2", Passed: 1, Other: 1}}},
			{"no client", identity.Scope{}, []store.FleetCheckSummary{}},
		} {
			got, err := st.FleetPolicyChecks(ctx, tc.scope, "mine")
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%s: FleetPolicyChecks = %+v, want %+v", tc.name, got, tc.want)
			}
			for i := range got {
				got[i].Title = ""
				if got[i] != tc.want[i] {
					t.Errorf("%s: FleetPolicyChecks[%d] = %+v, want %+v", tc.name, i, got[i], tc.want[i])
				}
			}
		}
	})
}
