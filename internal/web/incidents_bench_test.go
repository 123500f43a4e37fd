package web

import (
	"context"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
)

// seedIncidentsBulk adds n incidents (1 % new, 4 % in progress, the rest
// closed; a third for client A, the rest for B, every tenth operator-wide) and n/10 reports
// straight in SQL, so the seed takes seconds.
func seedIncidentsBulk(tb testing.TB, e *env, n int) {
	tb.Helper()
	ctx := context.Background()
	stmts := []string{
		`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ` + itoaBench(n) + `)
		INSERT INTO incidents (ref, title, category, severity, status, source, created_at, updated_at, acknowledged_at, closed_at, outcome)
		SELECT 'INC-2020-' || printf('%06d', i), 'Bulk incident ' || i, 'phishing',
			CASE i % 4 WHEN 0 THEN 'low' WHEN 1 THEN 'medium' WHEN 2 THEN 'high' ELSE 'critical' END,
			CASE WHEN i % 100 = 0 THEN 'new' WHEN i % 25 = 0 THEN 'triaged' ELSE 'closed' END, 'report',
			strftime('%Y-%m-%dT%H:%M:%f', 'now', '-' || (` + itoaBench(n) + ` - i) || ' minutes') || '000Z',
			strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z',
			strftime('%Y-%m-%dT%H:%M:%f', 'now', '-' || (` + itoaBench(n) + ` - i) || ' minutes', '+10 minutes') || '000Z',
			CASE WHEN i % 100 = 0 OR i % 25 = 0 THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z' END,
			CASE WHEN i % 100 = 0 OR i % 25 = 0 THEN '' ELSE 'false_positive' END
		FROM s`,
		`INSERT INTO incident_clients (incident_id, client_id) SELECT id, CASE id % 3 WHEN 0 THEN ` + itoaBench(int(e.clientA.ID)) + ` ELSE ` + itoaBench(int(e.clientB.ID)) + ` END FROM incidents WHERE id % 10 <> 7`,
		`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ` + itoaBench(n/10) + `)
		INSERT INTO reports (ref, channel, category, text, client_id, status, incident_id, created_at)
		SELECT 'R-2020-' || printf('%06d', i), 'email', 'suspicious_email', 'bulk', ` + itoaBench(int(e.clientA.ID)) + `,
			CASE WHEN i % 50 = 0 THEN 'new' ELSE 'linked' END, CASE WHEN i % 50 = 0 THEN NULL ELSE i * 10 END,
			strftime('%Y-%m-%dT%H:%M:%f', 'now', '-' || i || ' minutes') || '000Z' FROM s`,
		`ANALYZE`,
	}
	for _, q := range stmts {
		if _, err := e.st.Exec(ctx, q); err != nil {
			tb.Fatalf("seed: %v", err)
		}
	}
}

func itoaBench(n int) string { return incItoa(int64(n)) }

// BenchmarkIncidentQueuePage measures GET /incidents (the triage queue and
// the open incidents) with 100,000 incidents on SQLite, for an officer who
// sees every client and for an analyst limited to one client.
func BenchmarkIncidentQueuePage(b *testing.B) {
	e, _ := newIncidentsEnv(b)
	e.addUser("ciso", identity.RoleSecurity, true, nil)
	e.addUser("analyst", identity.RoleSecurity, true, func(u *identity.User) { u.AllClients, u.ClientIDs = false, []int64{e.clientA.ID} })
	start := time.Now()
	seedIncidentsBulk(b, e, 100_000)
	b.Logf("seeded 100,000 incidents and 10,000 reports in %v", time.Since(start).Round(time.Millisecond))
	for _, who := range []string{"ciso", "analyst"} {
		b.Run(who, func(b *testing.B) {
			br := e.browser()
			br.signIn(who)
			var lat []time.Duration
			for b.Loop() {
				// The browser's own client, without the test harness's HTML
				// checks: the time is the server's plus loopback.
				t0 := time.Now()
				res, err := br.c.Get(e.srv.URL + "/incidents")
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lat = append(lat, time.Since(t0))
				if res.StatusCode != http.StatusOK || n < 10_000 {
					b.Fatalf("GET /incidents = %d (%d bytes)", res.StatusCode, n)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		})
	}
}
