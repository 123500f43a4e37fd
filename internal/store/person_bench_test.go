//go:build unix

package store_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/demo"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// BenchmarkPeople measures the people list and search queries on the demo
// organization ×10 (3,000 people) on SQLite, the queries behind the people
// pages and API that must answer at p99 < 20 ms under load.
func BenchmarkPeople(b *testing.B) {
	benchmarkPeople(b, storetest.SQLite(b))
}

// BenchmarkPeoplePostgres is BenchmarkPeople on PostgreSQL.
func BenchmarkPeoplePostgres(b *testing.B) {
	benchmarkPeople(b, storetest.Postgres(b))
}

func benchmarkPeople(b *testing.B, s *store.Store) {
	ctx := context.Background()
	if _, err := demo.Seed(ctx, s, demo.Options{Scale: 10, Now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}); err != nil {
		b.Fatal(err)
	}
	clients, err := s.Clients(ctx, org.ClientFilter{Scope: identity.Scope{All: true}})
	if err != nil || len(clients) == 0 {
		b.Fatal(err)
	}
	one := identity.Scope{ClientIDs: []int64{clients[0].ID}}
	active := true
	for _, bc := range []struct {
		name string
		f    org.PersonFilter
	}{
		{"list-all", org.PersonFilter{Scope: identity.Scope{All: true}}},
		{"list-client-scope", org.PersonFilter{Scope: one}},
		{"list-client-scope-page-20", org.PersonFilter{Scope: one, Active: &active, Page: org.Page{Offset: 950}}},
		{"search-name", org.PersonFilter{Scope: identity.Scope{All: true}, Query: "garcia"}},
		{"search-client-scope", org.PersonFilter{Scope: one, Query: "mar"}},
		{"search-employee-id", org.PersonFilter{Scope: one, Query: "at1234"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cpu0 := orgCPUTime()
			for b.Loop() {
				if _, _, err := s.People(ctx, bc.f); err != nil {
					b.Fatal(err)
				}
			}
			// CPU per call is steadier than wall time on a shared machine
			// (on PostgreSQL it leaves out the server's share).
			b.ReportMetric(float64(orgCPUTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
	b.Run("get", func(b *testing.B) {
		p, err := s.PersonByEmployeeID(ctx, identity.Scope{All: true}, "AT11500")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := s.Person(ctx, one, p.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				b.Fatal(err)
			}
		}
	})
}

// orgCPUTime is this process's user+system CPU time.
func orgCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
