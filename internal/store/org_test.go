package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// orgFixture is a small organization: clients A and B, one site, a team per
// client plus an internal team, and people of A, of B, of both and of none.
type orgFixture struct {
	a, b                   org.Client
	site                   org.Site
	teamA, teamB, internal org.Team
	pa, pb, pab, pnone     org.Person
}

func newOrgFixture(t *testing.T, s *store.Store) *orgFixture {
	t.Helper()
	ctx := context.Background()
	f := &orgFixture{
		a:    org.Client{Code: "bankx", Name: "Bank X", Sector: "banking"},
		b:    org.Client{Code: "telcoy", Name: "Telco Y", Sector: "telco"},
		site: org.Site{Code: "mad", Name: "Madrid", City: "Madrid", Country: "ES", Timezone: "Europe/Madrid"},
	}
	mustOK(t, s.CreateClient(ctx, &f.a))
	mustOK(t, s.CreateClient(ctx, &f.b))
	mustOK(t, s.CreateSite(ctx, &f.site))
	f.teamA = org.Team{Code: "mad-bankx", Name: "Bank X Madrid", SiteID: f.site.ID, ClientID: f.a.ID}
	f.teamB = org.Team{Code: "mad-telcoy", Name: "Telco Y Madrid", SiteID: f.site.ID, ClientID: f.b.ID}
	f.internal = org.Team{Code: "mad-it", Name: "IT Madrid", SiteID: f.site.ID}
	mustOK(t, s.CreateTeam(ctx, &f.teamA))
	mustOK(t, s.CreateTeam(ctx, &f.teamB))
	mustOK(t, s.CreateTeam(ctx, &f.internal))
	f.pa = org.Person{EmployeeID: "E001", FullName: "Ana García Núñez", Email: "ana@example.com", TeamID: f.teamA.ID, ClientIDs: []int64{f.a.ID}, Active: true}
	f.pb = org.Person{EmployeeID: "E002", FullName: "Bob Smith", Email: "bob@example.com", TeamID: f.teamB.ID, ClientIDs: []int64{f.b.ID}, Active: true}
	f.pab = org.Person{EmployeeID: "E003", FullName: "Carmen Both", Email: "carmen@example.com", TeamID: f.teamA.ID, ClientIDs: []int64{f.a.ID, f.b.ID}, Active: true}
	f.pnone = org.Person{EmployeeID: "E004", FullName: "Diego Internal", Email: "diego@example.com", TeamID: f.internal.ID, Active: true}
	for _, p := range []*org.Person{&f.pa, &f.pb, &f.pab, &f.pnone} {
		mustOK(t, s.CreatePerson(ctx, p))
	}
	return f
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func auditCount(t *testing.T, s *store.Store, action string) int {
	t.Helper()
	var n int
	if err := s.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_log WHERE action = ?", action).Scan(&n); err != nil {
		t.Fatalf("count audit %s: %v", action, err)
	}
	return n
}

func scopeOf(clients ...int64) identity.Scope { return identity.Scope{ClientIDs: clients} }

var allScope = identity.Scope{All: true}

func TestOperator(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.Operator(ctx); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Operator before Ensure = %v, want ErrNotFound", err)
		}
		mustOK(t, s.EnsureOperator(ctx, "Atalaya"))
		mustOK(t, s.EnsureOperator(ctx, "Other"))
		op, err := s.Operator(ctx)
		if err != nil || op.Name != "Atalaya" {
			t.Fatalf("Operator = %+v, %v; want Atalaya", op, err)
		}
		mustOK(t, s.RenameOperator(ctx, "Atalaya BPO"))
		if op, _ := s.Operator(ctx); op.Name != "Atalaya BPO" {
			t.Errorf("after rename = %q", op.Name)
		}
		if n := auditCount(t, s, "operator.create"); n != 1 {
			t.Errorf("operator.create audit entries = %d, want 1", n)
		}
	})
}

func TestClientsSitesTeams(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newOrgFixture(t, s)

		// Clients: scope filtering on list and get.
		got, err := s.Clients(ctx, org.ClientFilter{Scope: scopeOf(f.a.ID)})
		if err != nil || len(got) != 1 || got[0].ID != f.a.ID || !got[0].Active {
			t.Errorf("Clients(scope A) = %+v, %v", got, err)
		}
		if got, _ := s.Clients(ctx, org.ClientFilter{Scope: allScope, Query: "TELCO"}); len(got) != 1 || got[0].Code != "telcoy" {
			t.Errorf("Clients(query TELCO) = %+v", got)
		}
		if got, _ := s.Clients(ctx, org.ClientFilter{Scope: identity.Scope{}}); len(got) != 0 {
			t.Errorf("Clients(empty scope) = %+v, want none", got)
		}
		if _, err := s.Client(ctx, scopeOf(f.a.ID), f.b.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Client(scope A, B) = %v, want ErrNotFound", err)
		}
		if c, err := s.ClientByCode(ctx, allScope, "BANKX"); err != nil || c.ID != f.a.ID {
			t.Errorf("ClientByCode = %+v, %v", c, err)
		}
		dup := org.Client{Code: "bankx", Name: "Again"}
		err = s.CreateClient(ctx, &dup)
		if fe, ok := org.AsFieldErrors(err); !ok || !fe.Has("code") || !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateClient(duplicate) = %v, want code field error and ErrConflict", err)
		}
		if fe, ok := org.AsFieldErrors(s.CreateClient(ctx, &org.Client{Code: "Bad Code", Name: ""})); !ok || !fe.Has("code") || !fe.Has("name") {
			t.Errorf("CreateClient(invalid) = %v", fe)
		}
		upd := f.b
		upd.Name, upd.Active = "Telco Y Group", false
		mustOK(t, s.UpdateClient(ctx, &upd))
		if c, _ := s.Client(ctx, allScope, f.b.ID); c.Name != "Telco Y Group" || c.Active {
			t.Errorf("after UpdateClient = %+v", c)
		}
		inactive := false
		if got, _ := s.Clients(ctx, org.ClientFilter{Scope: allScope, Active: &inactive}); len(got) != 1 || got[0].ID != f.b.ID {
			t.Errorf("Clients(inactive) = %+v", got)
		}
		upd.Code = "bankx"
		if err := s.UpdateClient(ctx, &upd); !errors.Is(err, store.ErrConflict) {
			t.Errorf("UpdateClient(duplicate code) = %v", err)
		}
		missing := org.Client{ID: 9999, Code: "zz", Name: "Z"}
		if err := s.UpdateClient(ctx, &missing); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateClient(missing) = %v", err)
		}

		// Sites are operator-wide.
		if got, err := s.Sites(ctx, org.SiteFilter{Scope: scopeOf(f.a.ID)}); err != nil || len(got) != 1 {
			t.Errorf("Sites = %+v, %v", got, err)
		}
		site := f.site
		site.Name = "Madrid Norte"
		mustOK(t, s.UpdateSite(ctx, &site))
		if st, err := s.SiteByCode(ctx, allScope, "mad"); err != nil || st.Name != "Madrid Norte" {
			t.Errorf("SiteByCode = %+v, %v", st, err)
		}
		if _, err := s.Site(ctx, allScope, 9999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Site(missing) = %v", err)
		}

		// Teams: visible when their client is in scope, or internal.
		teams, err := s.Teams(ctx, org.TeamFilter{Scope: scopeOf(f.a.ID)})
		if err != nil || len(teams) != 2 {
			t.Errorf("Teams(scope A) = %+v, %v; want bank x and internal", teams, err)
		}
		for _, tm := range teams {
			if tm.ID == f.teamB.ID {
				t.Errorf("Teams(scope A) includes telco team")
			}
		}
		if _, err := s.Team(ctx, scopeOf(f.a.ID), f.teamB.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Team(scope A, telco team) = %v, want ErrNotFound", err)
		}
		if tm, err := s.TeamByCode(ctx, scopeOf(f.a.ID), "mad-it"); err != nil || tm.ClientID != 0 {
			t.Errorf("TeamByCode(internal) = %+v, %v", tm, err)
		}
		if got, _ := s.Teams(ctx, org.TeamFilter{Scope: allScope, ClientID: f.b.ID}); len(got) != 1 {
			t.Errorf("Teams(client B) = %+v", got)
		}
		// Search is case- and accent-insensitive and pages after filtering.
		form := org.Team{Code: "mad-training", Name: "Formación", SiteID: f.site.ID}
		mustOK(t, s.CreateTeam(ctx, &form))
		if got, _ := s.Teams(ctx, org.TeamFilter{Scope: allScope, Query: "FORMACION"}); len(got) != 1 || got[0].ID != form.ID {
			t.Errorf("Teams(query FORMACION) = %+v", got)
		}
		if got, _ := s.Teams(ctx, org.TeamFilter{Scope: allScope, Query: "madrid"}); len(got) != 3 {
			t.Errorf("Teams(query madrid) = %d teams, want 3", len(got))
		}
		if got, _ := s.Teams(ctx, org.TeamFilter{Scope: allScope, Query: "madrid", Page: org.Page{Limit: 1, Offset: 2}}); len(got) != 1 || got[0].ID != f.teamB.ID {
			t.Errorf("Teams(query madrid, third) = %+v", got)
		}
		if got, _ := s.Teams(ctx, org.TeamFilter{Scope: scopeOf(f.a.ID), Query: "telco"}); len(got) != 0 {
			t.Errorf("Teams(scope A, query telco) = %+v", got)
		}
		if got, _ := s.Sites(ctx, org.SiteFilter{Query: "NORTE"}); len(got) != 1 {
			t.Errorf("Sites(query NORTE) = %+v", got)
		}
		bad := org.Team{Code: "t9", Name: "T9", SiteID: 9999, ClientID: 9999}
		if fe, ok := org.AsFieldErrors(s.CreateTeam(ctx, &bad)); !ok || !fe.Has("site_id") || !fe.Has("client_id") {
			t.Errorf("CreateTeam(unknown refs) = %v", fe)
		}
		tm := f.internal
		tm.ClientID = f.b.ID
		mustOK(t, s.UpdateTeam(ctx, &tm))
		if _, err := s.Team(ctx, scopeOf(f.a.ID), tm.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Team after moving to client B, scope A = %v", err)
		}

		for action, want := range map[string]int{"client.create": 2, "client.update": 1, "site.create": 1, "site.update": 1, "team.create": 4, "team.update": 1} {
			if n := auditCount(t, s, action); n != want {
				t.Errorf("audit %s = %d, want %d", action, n, want)
			}
		}
	})
}
