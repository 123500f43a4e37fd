package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

func TestAlerts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := org.Client{Code: "a", Name: "A"}, org.Client{Code: "b", Name: "B"}
		if err := st.CreateClient(ctx, &a); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateClient(ctx, &b); err != nil {
			t.Fatal(err)
		}
		bad := alert.Alert{Source: "fleet", Kind: "check_failed", Severity: "urgent", Title: "x"}
		if err := st.RaiseAlert(ctx, &bad); err == nil {
			t.Fatal("an unknown severity was accepted")
		}
		x := alert.Alert{Source: "fleet", Kind: "check_failed", Severity: alert.SeverityHigh, ClientID: a.ID,
			Title: "USB storage unblocked on PC-1", DedupKey: "dev1/usb", Detail: map[string]any{"check": "usb"}}
		if err := st.RaiseAlert(ctx, &x); err != nil {
			t.Fatal(err)
		}
		again := x
		again.ID = 0
		if err := st.RaiseAlert(ctx, &again); err != nil {
			t.Fatal(err)
		}
		if again.ID != x.ID || again.Occurrences != 2 {
			t.Fatalf("dedup: got id %d occurrences %d, want id %d and 2", again.ID, again.Occurrences, x.ID)
		}
		y := alert.Alert{Source: "dataprotection", Kind: "card_outside_cde", Severity: alert.SeverityCritical, ClientID: b.ID, Title: "PAN in /srv/share"}
		if err := st.RaiseAlert(ctx, &y); err != nil {
			t.Fatal(err)
		}
		onlyA := identity.Scope{ClientIDs: []int64{a.ID}}
		got, err := st.Alerts(ctx, onlyA, alert.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != x.ID || got[0].Detail["check"] != "usb" || got[0].Occurrences != 2 {
			t.Fatalf("client A's alerts = %+v", got)
		}
		if _, err := st.Alert(ctx, onlyA, y.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another client's alert: err = %v, want not found", err)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.CloseAlert(ctx, x.ID, 0, "known") }); err != nil {
			t.Fatal(err)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.CloseAlert(ctx, x.ID, 0, "twice") }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("closing a closed alert: %v", err)
		}
		open, _ := st.Alerts(ctx, identity.Scope{All: true}, alert.Filter{Status: alert.StatusOpen})
		if len(open) != 1 || open[0].ID != y.ID {
			t.Fatalf("open alerts = %+v", open)
		}
		c, _ := st.Alert(ctx, identity.Scope{All: true}, x.ID)
		if c.Status != alert.StatusDismissed || c.ClosedAt == nil {
			t.Fatalf("closed alert = %+v", c)
		}
		// After closing, the same dedup key opens a new alert.
		z := alert.Alert{Source: "fleet", Kind: "check_failed", Severity: alert.SeverityHigh, ClientID: a.ID, Title: "again", DedupKey: "dev1/usb"}
		if err := st.RaiseAlert(ctx, &z); err != nil || z.ID == x.ID {
			t.Fatalf("re-raise after close: id %d err %v", z.ID, err)
		}
	})
}
