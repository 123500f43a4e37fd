package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// benchRecord is a realistic entry: an actor, a client, before/after states.
func benchRecord(i int) audit.Record {
	return audit.Record{
		Actor: "supervisor.garcia", ActorUserID: 42, Action: "person.update", ObjectType: "person",
		ObjectID: strconv.Itoa(i), ClientID: int64(i%3 + 1), RequestID: "01JB7Q3M4X9K2ZP5T8R6W1Y0VE", IP: "10.20.30.40",
		Before: map[string]any{"team_id": 7, "active": true, "email": "ana.garcia@example.com"},
		After:  map[string]any{"team_id": 8, "active": true, "email": "ana.garcia@example.com"},
	}
}

// BenchmarkAuditAppend appends one entry per transaction, as production does,
// on SQLite in a file on disk (WAL, synchronous=NORMAL).
func BenchmarkAuditAppend(b *testing.B) {
	s := storetest.SQLite(b)
	ctx := context.Background()
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		rec := benchRecord(i)
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.Audit(ctx, rec) }); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, b.N, start, cpu)
}

// BenchmarkAuditAppendBatch appends 100 entries per transaction (bulk imports).
func BenchmarkAuditAppendBatch(b *testing.B) {
	s := storetest.SQLite(b)
	ctx := context.Background()
	const batch = 100
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	for i := 0; i < b.N; i += batch {
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for j := i; j < i+batch && j < b.N; j++ {
				if err := tx.Audit(ctx, benchRecord(j)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, b.N, start, cpu)
}

// BenchmarkAuditVerify verifies a chain of 100,000 entries with a checkpoint
// every 1,000, streamed from SQLite on disk (what "custodia audit verify" does).
func BenchmarkAuditVerify(b *testing.B) {
	const n = 100_000
	s := storetest.SQLite(b)
	ctx := context.Background()
	key, err := audit.GenerateSigningKey()
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i += 1000 {
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for j := i; j < i+1000; j++ {
				if err := tx.Audit(ctx, benchRecord(j)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := audit.Seal(ctx, s, key, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		rep, err := s.VerifyAudit(ctx, audit.VerifyOptions{})
		if err != nil || rep.Err() != nil || rep.Entries != n {
			b.Fatalf("VerifyAudit = %+v, %v", rep, err)
		}
	}
	reportRates(b, n*b.N, start, cpu)
}

// reportRates reports entries per wall-clock second and per CPU-second of
// the whole process (the second is steadier on a busy shared machine).
func reportRates(b *testing.B, n int, start time.Time, cpu time.Duration) {
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "entries/s")
	if used := cpuTime() - cpu; used > 0 {
		b.ReportMetric(float64(n)/used.Seconds(), "entries/cpu-s")
	}
}
