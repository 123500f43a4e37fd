package office_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance/office"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// The scale: all four frameworks loaded, 2,000 assets, 5,000
// risks and 20,000 evidence items on SQLite.
const (
	benchAssets   = 2000
	benchRisks    = 5000
	benchEvidence = 20000
	benchControls = 600
	benchClients  = 10
)

// seedScale fills a fresh SQLite store at the scale. Rows are
// written in bulk (one transaction per table, no audit entries): the
// benchmark measures reading, not the write path.
func seedScale(tb testing.TB) (*office.Office, *store.Store) {
	tb.Helper()
	ctx := context.Background()
	st := storetest.SQLite(tb)
	keys, err := secret.New(secret.Generate())
	if err != nil {
		tb.Fatal(err)
	}
	o, err := office.New(ctx, st, keys, nil)
	if err != nil {
		tb.Fatal(err)
	}
	var clients []int64
	for i := range benchClients {
		c := org.Client{Code: fmt.Sprintf("c%02d", i), Name: fmt.Sprintf("Client %02d", i)}
		if err := st.CreateClient(ctx, &c); err != nil {
			tb.Fatal(err)
		}
		clients = append(clients, c.ID)
	}
	lib := o.Library()
	var refs []catalog.Ref
	for _, c := range lib.Catalogs {
		for _, r := range c.Requirements {
			refs = append(refs, catalog.Ref{Catalog: c.ID, Requirement: r.ID})
		}
	}
	now := time.Now().UTC()
	ts := store.TimeArg(now)
	exec := func(tx *store.Tx, q string, args ...any) {
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
	err = st.InTx(ctx, func(tx *store.Tx) error {
		statuses := []string{"implemented", "implemented", "partial", "planned"}
		for i := range benchControls {
			var client any
			if i%3 != 0 {
				client = clients[i%len(clients)]
			}
			exec(tx, `INSERT INTO isms_controls (code, title, status, client_id, effectiveness, created_at, updated_at) VALUES (?, ?, ?, ?, 'effective', ?, ?)`,
				fmt.Sprintf("CTL-%04d", i), fmt.Sprintf("Control %d", i), statuses[i%len(statuses)], client, ts, ts)
			for j := range 3 {
				r := refs[(i*7+j*131)%len(refs)]
				exec(tx, "INSERT INTO isms_control_requirements (control_id, catalog_key, ref) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", i+1, r.Catalog, r.Requirement)
			}
		}
		for i := range benchEvidence {
			control := i%benchControls + 1
			collected := now.AddDate(0, 0, -(i % 400))
			exec(tx, `INSERT INTO isms_evidence (kind, title, control_id, url, collected_at, fresh_days, expires_at, created_at)
				VALUES ('link', ?, ?, 'https://evidence.example/x', ?, 365, ?, ?)`,
				"Evidence "+strconv.Itoa(i), control, store.TimeArg(collected), store.TimeArg(collected.AddDate(0, 0, 365)), ts)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	ok, err := st.ISMSTableExists(ctx, "isms_risks")
	if err != nil {
		tb.Fatal(err)
	}
	if ok {
		err = st.InTx(ctx, func(tx *store.Tx) error {
			exec(tx, "INSERT INTO isms_threats (code, name, frequency, created_at, updated_at) VALUES ('A.24', 'Denial of service', 1, ?, ?)", ts, ts)
			for i := range benchAssets {
				client := clients[i%len(clients)]
				exec(tx, "INSERT INTO isms_assets (code, name, type, client_id, client_key, created_at, updated_at) VALUES (?, ?, 'SW', ?, ?, ?, ?)",
					fmt.Sprintf("AS-%05d", i), fmt.Sprintf("Asset %d", i), client, client, ts, ts)
			}
			levels := []string{"MB", "B", "M", "A", "MA"}
			for i := range benchRisks {
				asset := i%benchAssets + 1
				exec(tx, `INSERT INTO isms_risks (title, client_id, asset_id, threat_id, residual_level, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?, ?)`,
					fmt.Sprintf("Risk %d", i), clients[(asset-1)%len(clients)], asset, levels[i%len(levels)], ts, ts)
				exec(tx, "INSERT INTO isms_risk_controls (risk_id, control_id) VALUES (?, ?)", i+1, i%benchControls+1)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	} else {
		tb.Log("isms_risks does not exist: assets and risks not seeded")
	}
	return o, st
}

// BenchmarkDashboard measures the compliance dashboard (all frameworks, the
// operator and every client) at the scale.
func BenchmarkDashboard(b *testing.B) {
	o, _ := seedScale(b)
	p := &identity.Principal{Username: "bench", Role: identity.RoleSecurity, AllClients: true}
	ctx := context.Background()
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := o.Dashboard(ctx, p, 90); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(t0))
	}
	if p95 := reportP95(b, times); p95 > 200*time.Millisecond {
		b.Errorf("dashboard p95 %v, over the 200 ms budget", p95)
	}
}

// BenchmarkSoAPDF measures building and rendering the ISO 27001 SoA PDF.
func BenchmarkSoAPDF(b *testing.B) {
	o, _ := seedScale(b)
	p := &identity.Principal{Username: "bench", Role: identity.RoleSecurity, AllClients: true}
	ctx := context.Background()
	iso, err := o.Catalog(catalog.ISO27001)
	if err != nil {
		b.Fatal(err)
	}
	var times []time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		rows, err := o.SoA(ctx, p, catalog.ISO27001)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := o.SoAPDF(iso, rows, "es"); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(t0))
	}
	if p95 := reportP95(b, times); p95 > 3*time.Second {
		b.Errorf("SoA PDF p95 %v, over the 3 s budget", p95)
	}
}

// reportP95 reports the 95th percentile of times as p95-ms and returns it.
func reportP95(b *testing.B, times []time.Duration) time.Duration {
	if len(times) == 0 {
		return 0
	}
	slices.Sort(times)
	p95 := times[(len(times)*95+99)/100-1]
	b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
	if os.Getenv("CUSTODIA_BENCH_VERBOSE") == "1" {
		b.Logf("%d runs: min %v, p50 %v, p95 %v, max %v", len(times), times[0], times[len(times)/2], p95, times[len(times)-1])
	}
	return p95
}
