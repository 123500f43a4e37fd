package app

import (
	"context"
	"log/slog"
	"testing"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/dataprotection/discovery"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store/storetest"
)

// TestDataProtectionDemo checks that --demo creates, once, a demo location
// whose first scan finds card data outside a CDE and raises the alert.
func TestDataProtectionDemo(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	keys, _ := secret.New(secret.Generate())
	cfg := config.Defaults()
	cfg.Demo, cfg.DataDir = true, t.TempDir()
	all := identity.Scope{All: true}
	for i := 0; i < 2; i++ {
		if _, err := New(ctx, Options{Config: cfg, Store: st, Keys: keys, Logger: slog.New(slog.DiscardHandler)}); err != nil {
			t.Fatal(err)
		}
		locs, err := st.DPLocations(ctx, all)
		if err != nil || len(locs) != 1 || locs[0].ClientID == 0 || !locs[0].ScanNow {
			t.Fatalf("demo locations after start %d = %+v, %v; want one, for a client, queued", i+1, locs, err)
		}
	}
	svc, err := discovery.New(ctx, st, keys, cfg.DataProtection, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc.RunDue(ctx)
	alerts, err := st.Alerts(ctx, all, alert.Filter{Source: discovery.AlertSource})
	if err != nil || len(alerts) != 2 {
		t.Fatalf("demo alerts = %+v, %v; want the card note and the CVV chat", alerts, err)
	}
}
