package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

func employeeIDs(people []org.Person) []string {
	ids := make([]string, len(people))
	for i, p := range people {
		ids[i] = p.EmployeeID
	}
	slices.Sort(ids)
	return ids
}

func TestPeopleScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newOrgFixture(t, s)
		for _, tc := range []struct {
			name   string
			filter org.PersonFilter
			want   []string
		}{
			{"all", org.PersonFilter{Scope: allScope}, []string{"E001", "E002", "E003", "E004"}},
			{"client A", org.PersonFilter{Scope: scopeOf(f.a.ID)}, []string{"E001", "E003"}},
			{"client B", org.PersonFilter{Scope: scopeOf(f.b.ID)}, []string{"E002", "E003"}},
			{"empty scope", org.PersonFilter{Scope: identity.Scope{}}, []string{}},
			{"client A searching B's person", org.PersonFilter{Scope: scopeOf(f.a.ID), Query: "bob"}, []string{}},
			{"client A searching by email", org.PersonFilter{Scope: scopeOf(f.a.ID), Query: "ANA@EXAMPLE"}, []string{"E001"}},
			{"accent-insensitive", org.PersonFilter{Scope: allScope, Query: "garcia nunez"}, []string{"E001"}},
			{"accented query", org.PersonFilter{Scope: allScope, Query: "Núñez"}, []string{"E001"}},
			{"employee id", org.PersonFilter{Scope: allScope, Query: "e002"}, []string{"E002"}},
			{"LIKE metacharacters are literal", org.PersonFilter{Scope: allScope, Query: "%"}, []string{}},
			{"underscore literal", org.PersonFilter{Scope: allScope, Query: "_"}, []string{}},
			{"supervisor of team A, client A", org.PersonFilter{Scope: identity.Scope{ClientIDs: []int64{f.a.ID}, TeamIDs: []int64{f.teamA.ID}}}, []string{"E001", "E003"}},
			{"supervisor without teams", org.PersonFilter{Scope: identity.Scope{All: true, TeamIDs: []int64{}}}, []string{}},
			{"agent sees self", org.PersonFilter{Scope: identity.Scope{ClientIDs: []int64{f.a.ID}, PersonID: f.pa.ID}}, []string{"E001"}},
			{"agent of other client", org.PersonFilter{Scope: identity.Scope{ClientIDs: []int64{f.a.ID}, PersonID: f.pb.ID}}, []string{}},
			{"filter by client", org.PersonFilter{Scope: allScope, ClientID: f.b.ID}, []string{"E002", "E003"}},
			{"filter by client outside scope", org.PersonFilter{Scope: scopeOf(f.a.ID), ClientID: f.b.ID}, []string{"E003"}},
			{"filter by team", org.PersonFilter{Scope: allScope, TeamID: f.internal.ID}, []string{"E004"}},
			{"filter by site", org.PersonFilter{Scope: allScope, SiteID: f.site.ID}, []string{"E001", "E002", "E003", "E004"}},
		} {
			got, total, err := s.People(ctx, tc.filter)
			if err != nil {
				t.Fatalf("%s: People: %v", tc.name, err)
			}
			if ids := employeeIDs(got); !slices.Equal(ids, tc.want) || total != len(tc.want) {
				t.Errorf("%s: People = %v (total %d), want %v", tc.name, ids, total, tc.want)
			}
		}

		// A person of A and B read through scope A shows only client A.
		p, err := s.Person(ctx, scopeOf(f.a.ID), f.pab.ID)
		if err != nil || !slices.Equal(p.ClientIDs, []int64{f.a.ID}) {
			t.Errorf("Person(scope A, both) = %+v, %v", p, err)
		}
		if p.SiteID != f.site.ID || p.SiteName != "Madrid" || p.TeamName != "Bank X Madrid" {
			t.Errorf("Person site/team = %d %q %q; want site from team", p.SiteID, p.SiteName, p.TeamName)
		}
		// Carmen (clients A and B) is on team A: a B-scoped viewer doesn't see the team's name.
		if p, err := s.Person(ctx, scopeOf(f.b.ID), f.pab.ID); err != nil || p.TeamName != "" || !slices.Equal(p.ClientIDs, []int64{f.b.ID}) {
			t.Errorf("Person(scope B, both) = %+v, %v; want no team name and client B only", p, err)
		}
		if p, _ := s.Person(ctx, allScope, f.pab.ID); !slices.Equal(p.ClientIDs, []int64{f.a.ID, f.b.ID}) {
			t.Errorf("Person(all).ClientIDs = %v", p.ClientIDs)
		}
		if _, err := s.Person(ctx, scopeOf(f.a.ID), f.pb.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Person(scope A, B's person) = %v, want ErrNotFound", err)
		}
		if _, err := s.PersonByEmployeeID(ctx, scopeOf(f.a.ID), "E002"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("PersonByEmployeeID(scope A, B's person) = %v, want ErrNotFound", err)
		}
		if _, err := s.Person(ctx, scopeOf(f.a.ID), f.pnone.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Person(scope A, internal person) = %v, want ErrNotFound", err)
		}
		if p, err := s.PersonByEmployeeID(ctx, allScope, " E004 "); err != nil || p.ID != f.pnone.ID || len(p.ClientIDs) != 0 {
			t.Errorf("PersonByEmployeeID(E004) = %+v, %v", p, err)
		}

		// Pagination: name order, total independent of the page.
		page, total, err := s.People(ctx, org.PersonFilter{Scope: allScope, Page: org.Page{Limit: 2, Offset: 1}})
		if err != nil || total != 4 || len(page) != 2 || page[0].FullName != "Bob Smith" || page[1].FullName != "Carmen Both" {
			t.Errorf("People(page 2 of 2) = %v, %d, %v", employeeIDs(page), total, err)
		}
		// Totals when the page is full (the count query runs), on each count path.
		for _, tc := range []struct {
			name string
			f    org.PersonFilter
			want int
		}{
			{"all", org.PersonFilter{Scope: allScope}, 4},
			{"client A", org.PersonFilter{Scope: scopeOf(f.a.ID)}, 2},
			{"clients A and B (a person of both counts once)", org.PersonFilter{Scope: scopeOf(f.a.ID, f.b.ID)}, 3},
			{"client A, searching", org.PersonFilter{Scope: scopeOf(f.a.ID), Query: "example"}, 2},
			{"supervisor", org.PersonFilter{Scope: identity.Scope{ClientIDs: []int64{f.a.ID, f.b.ID}, TeamIDs: []int64{f.teamB.ID}}}, 1},
			{"empty scope", org.PersonFilter{Scope: identity.Scope{}}, 0},
		} {
			tc.f.Limit = 1
			page, total, err := s.People(ctx, tc.f)
			if err != nil || total != tc.want || len(page) != min(1, tc.want) {
				t.Errorf("%s: People(limit 1) = %d rows, total %d, %v; want total %d", tc.name, len(page), total, err, tc.want)
			}
		}
		if page, total, _ := s.People(ctx, org.PersonFilter{Scope: allScope, Page: org.Page{Offset: 10}}); len(page) != 0 || total != 4 {
			t.Errorf("People(offset past end) = %d rows, total %d", len(page), total)
		}
	})
}

func TestPersonWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newOrgFixture(t, s)

		dup := org.Person{EmployeeID: "E001", FullName: "Dup", Email: "dup@example.com"}
		if err := s.CreatePerson(ctx, &dup); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreatePerson(duplicate employee id) = %v", err)
		}
		bad := org.Person{EmployeeID: "E100", FullName: "X", Email: "x@example.com", TeamID: 9999, ClientIDs: []int64{9999}}
		if fe, ok := org.AsFieldErrors(s.CreatePerson(ctx, &bad)); !ok || !fe.Has("team_id") || !fe.Has("client_ids") {
			t.Errorf("CreatePerson(unknown refs) = %v", fe)
		}
		other := org.Site{Code: "svq", Name: "Sevilla", Timezone: "Europe/Madrid"}
		mustOK(t, s.CreateSite(ctx, &other))
		// Moving a team to another site moves its people.
		moved := f.internal
		moved.SiteID = other.ID
		mustOK(t, s.UpdateTeam(ctx, &moved))
		if p, _ := s.Person(ctx, allScope, f.pnone.ID); p.SiteID != other.ID || p.SiteName != "Sevilla" {
			t.Errorf("person of moved team at site %d %q", p.SiteID, p.SiteName)
		}
		wrongSite := org.Person{EmployeeID: "E101", FullName: "X", Email: "x@example.com", TeamID: f.teamA.ID, SiteID: other.ID}
		if fe, ok := org.AsFieldErrors(s.CreatePerson(ctx, &wrongSite)); !ok || !fe.Has("team_id") {
			t.Errorf("CreatePerson(team at another site) = %v", fe)
		}

		// A scoped caller can't create a person for another client, nor without one of theirs.
		outside := org.Person{EmployeeID: "E102", FullName: "Out", Email: "o@example.com", ClientIDs: []int64{f.b.ID}}
		if fe, ok := org.AsFieldErrors(s.CreatePersonScoped(ctx, scopeOf(f.a.ID), &outside)); !ok || !fe.Has("client_ids") {
			t.Errorf("CreatePersonScoped(other client) = %v", fe)
		}
		none := org.Person{EmployeeID: "E103", FullName: "None", Email: "n@example.com"}
		if fe, ok := org.AsFieldErrors(s.CreatePersonScoped(ctx, scopeOf(f.a.ID), &none)); !ok || !fe.Has("client_ids") {
			t.Errorf("CreatePersonScoped(no client) = %v", fe)
		}

		// A scoped update keeps the person's out-of-scope clients.
		p, _ := s.Person(ctx, scopeOf(f.a.ID), f.pab.ID)
		p.FullName = "Carmen Ambos"
		p.JobRole = "team_lead"
		mustOK(t, s.UpdatePersonScoped(ctx, scopeOf(f.a.ID), p))
		got, _ := s.Person(ctx, allScope, f.pab.ID)
		if got.FullName != "Carmen Ambos" || got.JobRole != "team_lead" || !slices.Equal(got.ClientIDs, []int64{f.a.ID, f.b.ID}) {
			t.Errorf("after scoped update = %+v", got)
		}
		if got, _, _ := s.People(ctx, org.PersonFilter{Scope: allScope, Query: "ambos"}); len(got) != 1 {
			t.Errorf("search after rename = %v (search text not updated)", employeeIDs(got))
		}
		pb, _ := s.Person(ctx, allScope, f.pb.ID)
		if err := s.UpdatePersonScoped(ctx, scopeOf(f.a.ID), pb); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdatePersonScoped(out of scope) = %v, want ErrNotFound", err)
		}
		// An unscoped update replaces the clients.
		got.ClientIDs = []int64{f.b.ID}
		mustOK(t, s.UpdatePerson(ctx, got))
		if _, err := s.Person(ctx, scopeOf(f.a.ID), f.pab.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Person(scope A) after moving to B only = %v", err)
		}

		// Deactivation.
		leave := time.Date(2026, 3, 31, 15, 0, 0, 0, time.UTC)
		mustOK(t, s.DeactivatePerson(ctx, f.pa.ID, leave))
		pa, _ := s.Person(ctx, allScope, f.pa.ID)
		if pa.Active || org.FormatDate(pa.LeaveDate) != "2026-03-31" {
			t.Errorf("after DeactivatePerson = active %v, leave %v", pa.Active, pa.LeaveDate)
		}
		active := true
		if got, total, _ := s.People(ctx, org.PersonFilter{Scope: allScope, Active: &active}); total != 3 || slices.Contains(employeeIDs(got), "E001") {
			t.Errorf("active people = %v", employeeIDs(got))
		}
		if err := s.DeactivatePerson(ctx, 9999, time.Time{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeactivatePerson(missing) = %v", err)
		}
		// A future leave date is kept; DeactivateLeavers deactivates once it has passed.
		pb.LeaveDate = time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
		mustOK(t, s.UpdatePerson(ctx, pb))
		n, err := s.DeactivateLeavers(ctx, time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC))
		if err != nil || n != 0 {
			t.Errorf("DeactivateLeavers(on leave day) = %d, %v; want 0", n, err)
		}
		n, err = s.DeactivateLeavers(ctx, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
		if err != nil || n != 1 {
			t.Errorf("DeactivateLeavers(day after) = %d, %v; want 1", n, err)
		}
		if pb, _ := s.Person(ctx, allScope, f.pb.ID); pb.Active {
			t.Errorf("person B still active after leaving")
		}
		for action, want := range map[string]int{"person.create": 4, "person.update": 3, "person.deactivate": 2} {
			if n := auditCount(t, s, action); n != want {
				t.Errorf("audit %s = %d, want %d", action, n, want)
			}
		}
	})
}

// linkUser creates an active user for the person with a session and an API
// token, and returns the user id, session id and token hash.
func linkUser(t *testing.T, s *store.Store, personID int64, name string) (int64, string, string) {
	t.Helper()
	ctx := context.Background()
	u := &identity.User{Username: name, Role: identity.RoleAgent, PersonID: personID, Active: true}
	u.Normalize()
	if err := u.Validate(); err != nil {
		t.Fatalf("validate user: %v", err)
	}
	now := time.Now()
	sessID, hash := "sess-"+name, "hash-"+name
	err := s.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, u, "$argon2id$test", now); err != nil {
			return err
		}
		if err := tx.CreateSession(ctx, &identity.Session{ID: sessID, UserID: u.ID, CreatedAt: now, LastSeenAt: now,
			ExpiresAt: now.Add(time.Hour), CSRFSecret: []byte("0123456789abcdef")}); err != nil {
			return err
		}
		return tx.CreateAPIToken(ctx, &identity.APIToken{Name: "tok-" + name, Prefix: "cust_x", Role: identity.RoleAgent, CreatedBy: u.ID, CreatedAt: now}, hash)
	})
	if err != nil {
		t.Fatalf("link user to person %d: %v", personID, err)
	}
	return u.ID, sessID, hash
}

func assertAccess(t *testing.T, s *store.Store, who string, userID int64, sessID, tokenHash string, want bool) {
	t.Helper()
	ctx := context.Background()
	u, err := s.User(ctx, userID)
	if err != nil {
		t.Fatalf("%s: User: %v", who, err)
	}
	_, serr := s.Session(ctx, sessID)
	tok, terr := s.APITokenByHash(ctx, tokenHash)
	if terr != nil {
		t.Fatalf("%s: APITokenByHash: %v", who, terr)
	}
	if want {
		if !u.Active || serr != nil || !tok.RevokedAt.IsZero() {
			t.Errorf("%s: active %v, session err %v, token revoked %v; want access kept", who, u.Active, serr, tok.RevokedAt)
		}
		return
	}
	if u.Active || !errors.Is(serr, store.ErrNotFound) || tok.RevokedAt.IsZero() {
		t.Errorf("%s: active %v, session err %v, token revoked %v; want access revoked", who, u.Active, serr, tok.RevokedAt)
	}
}

func TestLeaverAccessRevoked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newOrgFixture(t, s)
		ua, sa, ta := linkUser(t, s, f.pa.ID, "ana")
		ub, sb, tb := linkUser(t, s, f.pb.ID, "bob")
		uc, sc, tc := linkUser(t, s, f.pab.ID, "carmen")
		ud, sd, td := linkUser(t, s, f.pnone.ID, "diego")

		// DeactivatePerson revokes at once.
		mustOK(t, s.DeactivatePerson(ctx, f.pa.ID, time.Time{}))
		assertAccess(t, s, "deactivated ana", ua, sa, ta, false)
		assertAccess(t, s, "bob", ub, sb, tb, true)

		// So does a CSV import (a past leave date and active=no).
		rows := parseCSV(t, "employee_id,full_name,email,leave_date,active\n"+
			"E002,Bob Smith,bob@example.com,2026-01-31,\n"+
			"E003,Carmen Both,carmen@example.com,,no\n")
		plan, err := s.PlanPeopleImport(ctx, rows, org.ImportOptions{Scope: allScope, Today: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil || plan.Counts.Deactivate != 2 {
			t.Fatalf("plan = %+v, %v", plan.Counts, err)
		}
		if _, err := s.ApplyPeopleImport(ctx, plan); err != nil {
			t.Fatal(err)
		}
		assertAccess(t, s, "bob after import", ub, sb, tb, false)
		assertAccess(t, s, "carmen after import", uc, sc, tc, false)
		assertAccess(t, s, "diego", ud, sd, td, true)

		// And an update that clears the active flag.
		p, _ := s.Person(ctx, allScope, f.pnone.ID)
		p.Active = false
		mustOK(t, s.UpdatePerson(ctx, p))
		assertAccess(t, s, "diego after update", ud, sd, td, false)
		if n := auditCount(t, s, "user.deactivate"); n != 4 {
			t.Errorf("user.deactivate audit entries = %d, want 4", n)
		}
	})
}
