package demo_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/demo"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

var now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func TestSeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		res, err := demo.Seed(ctx, s, demo.Options{Now: now})
		if err != nil {
			t.Fatalf("Seed: %v", err)
		}
		if !res.Seeded || res.Clients != 3 || res.Sites != 2 || res.Teams != 12 || res.People < 280 || res.People > 300 {
			t.Fatalf("Seed = %+v; want 3 clients, 2 sites, 12 teams, ~300 people", res)
		}
		t.Logf("seeded %+v", res)
		if res.Leavers == 0 || res.Leavers > res.People/5 {
			t.Errorf("leavers = %d of %d", res.Leavers, res.People)
		}
		all := identity.Scope{All: true}
		people, total, err := s.People(ctx, org.PersonFilter{Scope: all, Page: org.Page{Limit: org.MaxLimit}})
		if err != nil || total != res.People || len(people) != total {
			t.Fatalf("People = %d rows, total %d, %v; want %d", len(people), total, err, res.People)
		}
		emails := map[string]bool{}
		spanish, english := 0, 0
		for _, p := range people {
			if emails[p.Email] {
				t.Errorf("duplicate email %s", p.Email)
			}
			emails[p.Email] = true
			if !strings.HasSuffix(p.Email, "@"+demo.EmailDomain) || p.TeamID == 0 || p.SiteID == 0 || p.StartDate.IsZero() {
				t.Errorf("implausible person %+v", p)
			}
			if !p.Active && (p.LeaveDate.IsZero() || !p.LeaveDate.Before(now)) {
				t.Errorf("leaver %s without a past leave date: %v", p.EmployeeID, p.LeaveDate)
			}
			if len(strings.Fields(p.FullName)) >= 3 {
				spanish++
			} else {
				english++
			}
		}
		if spanish < total/2 || english < total/20 {
			t.Errorf("names: %d Spanish-style, %d English-style", spanish, english)
		}
		if op, err := s.Operator(ctx); err != nil || op.Name != demo.OperatorName {
			t.Errorf("Operator = %+v, %v", op, err)
		}

		// Each client's people are segregated.
		clients, _ := s.Clients(ctx, org.ClientFilter{Scope: all})
		sum := 0
		for _, c := range clients {
			got, n, err := s.People(ctx, org.PersonFilter{Scope: identity.Scope{ClientIDs: []int64{c.ID}}, Page: org.Page{Limit: org.MaxLimit}})
			if err != nil || n < 50 {
				t.Errorf("client %s: %d people, %v", c.Code, n, err)
			}
			for _, p := range got {
				if !slices.Equal(p.ClientIDs, []int64{c.ID}) {
					t.Errorf("client %s scope shows person %s with clients %v", c.Code, p.EmployeeID, p.ClientIDs)
					break
				}
			}
			sum += n
		}
		if sum <= total-30 {
			t.Errorf("people seen through the three clients = %d, total %d", sum, total)
		}
		if sups, n, _ := s.People(ctx, org.PersonFilter{Scope: all, Query: ""}); n == 0 || len(sups) == 0 {
			t.Error("no people listed")
		}

		// Seeding again does nothing.
		again, err := demo.Seed(ctx, s, demo.Options{Now: now})
		if err != nil || again.Seeded {
			t.Fatalf("second Seed = %+v, %v; want not seeded", again, err)
		}
		if _, n, _ := s.People(ctx, org.PersonFilter{Scope: all}); n != total {
			t.Errorf("people after second seed = %d, want %d", n, total)
		}
	})
}

func TestSeedDeterministicAndSkipsExistingData(t *testing.T) {
	ctx := context.Background()
	names := func(s *store.Store) []string {
		people, _, err := s.People(ctx, org.PersonFilter{Scope: identity.Scope{All: true}, Page: org.Page{Limit: org.MaxLimit}})
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(people))
		for i, p := range people {
			out[i] = p.EmployeeID + " " + p.FullName + " " + p.Email
		}
		return out
	}
	a, b := storetest.SQLite(t), storetest.SQLite(t)
	for _, s := range []*store.Store{a, b} {
		if _, err := demo.Seed(ctx, s, demo.Options{Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	if na, nb := names(a), names(b); !slices.Equal(na, nb) {
		t.Errorf("two seeds differ: %d vs %d people", len(na), len(nb))
	}

	// An organization with data of its own is never seeded.
	c := storetest.SQLite(t)
	if err := c.CreateSite(ctx, &org.Site{Code: "hq", Name: "HQ"}); err != nil {
		t.Fatal(err)
	}
	res, err := demo.Seed(ctx, c, demo.Options{Now: now})
	if err != nil || res.Seeded {
		t.Fatalf("Seed on existing data = %+v, %v", res, err)
	}
	if got, _ := c.Clients(ctx, org.ClientFilter{Scope: identity.Scope{All: true}}); len(got) != 0 {
		t.Errorf("Seed on existing data created clients: %v", got)
	}
	if _, err := demo.Seed(ctx, c, demo.Options{Scale: 100000}); err == nil {
		t.Error("Seed(scale 100000) = nil error")
	}
}

// BenchmarkSeedScale10 seeds the benchmark organization (3,000 people) on SQLite.
func BenchmarkSeedScale10(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		s := storetest.SQLite(b)
		b.StartTimer()
		res, err := demo.Seed(ctx, s, demo.Options{Scale: 10, Now: now})
		if err != nil || res.People < 2900 {
			b.Fatalf("Seed = %+v, %v", res, err)
		}
	}
}
