package audit

import (
	"bytes"
	"testing"
	"time"
)

// BenchmarkVerifier measures the verifier alone (entries already in memory).
func BenchmarkVerifier(b *testing.B) {
	entries, cps := chain(b, 10_000, 1000)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := verifyChain(entries, cps, VerifyOptions{}).Err(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(entries)*b.N)/time.Since(start).Seconds(), "entries/s")
}

// BenchmarkVerifyExport measures "custodia audit verify --file" on an export in memory.
func BenchmarkVerifyExport(b *testing.B) {
	entries, cps := chain(b, 10_000, 1000)
	data := export(b, entries, cps)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		rep, err := VerifyExport(bytes.NewReader(data), ExportOptions{Full: true})
		if err != nil || rep.Err() != nil {
			b.Fatal(err, rep.Err())
		}
	}
	b.ReportMetric(float64(len(entries)*b.N)/time.Since(start).Seconds(), "entries/s")
}

// BenchmarkNewEntry measures building an entry (digests of before/after and the hash).
func BenchmarkNewEntry(b *testing.B) {
	rec := Record{Actor: "ana", Action: "person.update", ObjectType: "person", ObjectID: "42", ClientID: 2,
		Before: map[string]any{"team_id": 7, "active": true, "email": "ana@example.com"},
		After:  map[string]any{"team_id": 8, "active": true, "email": "ana@example.com"}}
	for i := 0; i < b.N; i++ {
		if _, err := NewEntry(rec, int64(i), GenesisHash); err != nil {
			b.Fatal(err)
		}
	}
}
