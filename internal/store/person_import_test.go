package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

func parseCSV(t *testing.T, text string) []org.ImportRow {
	t.Helper()
	rows, err := org.ParsePeopleCSV(strings.NewReader(text))
	if err != nil {
		t.Fatalf("ParsePeopleCSV: %v", err)
	}
	return rows
}

func itemAt(t *testing.T, plan *org.ImportPlan, line int) org.ImportItem {
	t.Helper()
	for _, it := range plan.Items {
		if it.Line == line {
			return it
		}
	}
	t.Fatalf("no plan item for line %d", line)
	return org.ImportItem{}
}

func peopleCount(t *testing.T, s *store.Store) int {
	t.Helper()
	_, total, err := s.People(context.Background(), org.PersonFilter{Scope: allScope})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

func TestPeopleImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newOrgFixture(t, s)
		today := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)
		csv := "employee_id,full_name,email,role,site,team,clients,start_date,leave_date,active\n" +
			"E001,Ana García Núñez,ana@example.com,agent,mad,mad-bankx,bankx,,,\n" + // line 2: unchanged
			"E002,Bob Smith,bob.smith@example.com,supervisor,,mad-telcoy,telcoy,2020-01-01,,\n" + // 3: update
			"E003,Carmen Both,carmen@example.com,agent,mad,mad-bankx,bankx;telcoy,,2026-05-01,\n" + // 4: deactivate (leave date past)
			"E010,Elena Nueva,elena@example.com,agent,mad,mad-bankx,bankx,2026-05-01,,\n" + // 5: create
			"E011,Frank New,frank@example.com,agent,,,telcoy|bankx,,,\n" + // 6: create
			"E012,Bad Email,not-an-email,agent,,,,,,\n" + // 7: error (row)
			"E013,Ghost Team,ghost@example.com,agent,,no-such-team,bankx,,,\n" + // 8: error (unknown team)
			"E010,Elena Again,elena2@example.com,agent,,,,,,\n" + // 9: error (duplicate)
			"E014,Wrong Site,ws@example.com,agent,svq,mad-bankx,,,,\n" + // 10: error (unknown site)
			"E015,Unknown Client,uc@example.com,agent,,,nope,,,\n" // 11: error
		rows := parseCSV(t, csv)
		opts := org.ImportOptions{Today: today, Scope: allScope}

		auditBefore := auditCount(t, s, "person.create")
		plan, err := s.PlanPeopleImport(ctx, rows, opts)
		if err != nil {
			t.Fatalf("PlanPeopleImport: %v", err)
		}
		want := org.ImportCounts{Create: 2, Update: 1, Deactivate: 1, Unchanged: 1, Errors: 5}
		if plan.Counts != want {
			t.Errorf("plan counts = %+v, want %+v", plan.Counts, want)
		}
		for line, action := range map[int]org.ImportAction{2: org.ActionUnchanged, 3: org.ActionUpdate, 4: org.ActionDeactivate, 5: org.ActionCreate, 6: org.ActionCreate} {
			if it := itemAt(t, plan, line); it.Action != action || len(it.Errors) != 0 {
				t.Errorf("line %d = %s %v, want %s", line, it.Action, it.Errors, action)
			}
		}
		for line, field := range map[int]string{7: "email", 8: "team", 9: "employee_id", 10: "site", 11: "clients"} {
			if it := itemAt(t, plan, line); it.Action != org.ActionError || !it.Errors.Has(field) {
				t.Errorf("line %d = %s %v, want error on %s", line, it.Action, it.Errors, field)
			}
		}
		upd := itemAt(t, plan, 3)
		wantChanges := []org.FieldChange{
			{Field: "email", Old: "bob@example.com", New: "bob.smith@example.com"},
			{Field: "job_role", Old: "agent", New: "supervisor"},
			{Field: "start_date", Old: "", New: "2020-01-01"},
		}
		if !slices.Equal(upd.Changes, wantChanges) {
			t.Errorf("line 3 changes = %+v, want %+v", upd.Changes, wantChanges)
		}
		if d := itemAt(t, plan, 4); !slices.Contains(d.Changes, org.FieldChange{Field: "active", Old: "true", New: "false"}) {
			t.Errorf("line 4 changes = %+v", d.Changes)
		}

		// The dry run changed nothing.
		if n := peopleCount(t, s); n != 4 {
			t.Errorf("people after plan = %d, want 4", n)
		}
		if p, _ := s.PersonByEmployeeID(ctx, allScope, "E002"); p.Email != "bob@example.com" {
			t.Errorf("plan changed E002: %+v", p)
		}
		// Without confirmation, a file with errors imports nothing.
		if _, err := s.ApplyPeopleImport(ctx, plan); !errors.Is(err, org.ErrImportNotConfirmed) {
			t.Fatalf("ApplyPeopleImport(unconfirmed) = %v, want ErrImportNotConfirmed", err)
		}
		if n := peopleCount(t, s); n != 4 || auditCount(t, s, "person.create") != auditBefore {
			t.Errorf("unconfirmed apply wrote: %d people", n)
		}

		// Confirmed: the valid rows are applied, the invalid ones skipped.
		plan.Options.AcceptValidRows = true
		res, err := s.ApplyPeopleImport(ctx, plan)
		if err != nil {
			t.Fatalf("ApplyPeopleImport: %v", err)
		}
		if want := (org.ImportResult{Created: 2, Updated: 1, Deactivated: 1, Unchanged: 1, Skipped: 5}); res != want {
			t.Errorf("result = %+v, want %+v", res, want)
		}
		if n := peopleCount(t, s); n != 6 {
			t.Errorf("people after apply = %d, want 6", n)
		}
		for _, id := range []string{"E012", "E013", "E014", "E015"} {
			if _, err := s.PersonByEmployeeID(ctx, allScope, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("invalid row %s was imported: %v", id, err)
			}
		}
		frank, err := s.PersonByEmployeeID(ctx, allScope, "E011")
		if err != nil || !slices.Equal(frank.ClientIDs, []int64{f.a.ID, f.b.ID}) || !frank.Active || frank.JobRole != "agent" {
			t.Errorf("E011 = %+v, %v", frank, err)
		}
		elena, _ := s.PersonByEmployeeID(ctx, allScope, "E010")
		if elena.TeamID != f.teamA.ID || elena.SiteID != f.site.ID || org.FormatDate(elena.StartDate) != "2026-05-01" {
			t.Errorf("E010 = %+v", elena)
		}
		carmen, _ := s.PersonByEmployeeID(ctx, allScope, "E003")
		if carmen.Active || org.FormatDate(carmen.LeaveDate) != "2026-05-01" {
			t.Errorf("E003 = active %v leave %v, want deactivated", carmen.Active, carmen.LeaveDate)
		}
		if n := auditCount(t, s, "person.import"); n != 1 {
			t.Errorf("person.import audit entries = %d, want 1", n)
		}

		// Applying the same file again changes nothing.
		auditTotal := auditCount(t, s, "person.create") + auditCount(t, s, "person.update") + auditCount(t, s, "person.deactivate")
		res, err = s.ApplyPeopleImport(ctx, plan)
		if err != nil {
			t.Fatalf("second ApplyPeopleImport: %v", err)
		}
		if want := (org.ImportResult{Unchanged: 5, Skipped: 5}); res != want {
			t.Errorf("second result = %+v, want %+v", res, want)
		}
		if n := auditCount(t, s, "person.create") + auditCount(t, s, "person.update") + auditCount(t, s, "person.deactivate"); n != auditTotal {
			t.Errorf("second apply audited %d changes", n-auditTotal)
		}
		if n := peopleCount(t, s); n != 6 {
			t.Errorf("people after second apply = %d", n)
		}
	})
}

func TestPeopleImportOptions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newOrgFixture(t, s)
		today := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)

		// A file without optional columns keeps the current values; absent
		// people are deactivated only in "deactivate missing" mode, and only
		// within the importer's scope.
		rows := parseCSV(t, "employee_id,full_name,email\nE001,Ana García Núñez,ana@example.com\n")
		plan, err := s.PlanPeopleImport(ctx, rows, org.ImportOptions{Today: today, Scope: allScope})
		if err != nil || plan.Counts != (org.ImportCounts{Unchanged: 1}) {
			t.Fatalf("plan without optional columns = %+v, %v", plan.Counts, err)
		}
		plan, err = s.PlanPeopleImport(ctx, rows, org.ImportOptions{Today: today, DeactivateMissing: true, Scope: scopeOf(f.a.ID)})
		if err != nil || plan.Counts != (org.ImportCounts{Unchanged: 1, Deactivate: 1}) {
			t.Fatalf("plan deactivate missing (scope A) = %+v, %v", plan.Counts, err)
		}
		var missing []string
		for _, it := range plan.Items {
			if it.Line == 0 {
				missing = append(missing, it.EmployeeID)
			}
		}
		if !slices.Equal(missing, []string{"E003"}) {
			t.Errorf("missing people deactivated in scope A = %v, want [E003]", missing)
		}
		// A file without any valid row never deactivates everybody.
		broken := parseCSV(t, "employee_id,full_name,email\n\"E001,broken\n")
		if bp, err := s.PlanPeopleImport(ctx, broken, org.ImportOptions{Today: today, DeactivateMissing: true, Scope: allScope}); err != nil || bp.Counts.Deactivate != 0 || len(bp.Warnings) != 1 {
			t.Errorf("plan of a broken file with deactivate missing = %+v %v, %v", bp.Counts, bp.Warnings, err)
		}
		res, err := s.ApplyPeopleImport(ctx, plan)
		if err != nil || res.Deactivated != 1 {
			t.Fatalf("apply deactivate missing = %+v, %v", res, err)
		}
		if p, _ := s.PersonByEmployeeID(ctx, allScope, "E003"); p.Active || org.FormatDate(p.LeaveDate) != "2026-05-10" {
			t.Errorf("E003 = active %v leave %v", p.Active, p.LeaveDate)
		}
		if p, _ := s.PersonByEmployeeID(ctx, allScope, "E002"); !p.Active {
			t.Errorf("E002 (client B) deactivated by an import scoped to client A")
		}

		// A scoped importer can't touch other clients' people or assign their clients.
		rows = parseCSV(t, "employee_id,full_name,email,clients\n"+
			"E002,Bob Smith,bob@example.com,telcoy\n"+
			"E020,New A,newa@example.com,telcoy\n"+
			"E021,New B,newb@example.com,\n"+
			"E022,New C,newc@example.com,bankx\n")
		plan, err = s.PlanPeopleImport(ctx, rows, org.ImportOptions{Today: today, Scope: scopeOf(f.a.ID)})
		if err != nil {
			t.Fatal(err)
		}
		for line, field := range map[int]string{2: "employee_id", 3: "clients", 4: "clients"} {
			if it := itemAt(t, plan, line); it.Action != org.ActionError || !it.Errors.Has(field) {
				t.Errorf("scoped line %d = %s %v, want error on %s", line, it.Action, it.Errors, field)
			}
		}
		if it := itemAt(t, plan, 5); it.Action != org.ActionCreate {
			t.Errorf("scoped line 5 = %s %v", it.Action, it.Errors)
		}

		// Reactivation with active=true; active=false deactivates with today's date.
		rows = parseCSV(t, "employee_id,full_name,email,active,leave_date\nE003,Carmen Both,carmen@example.com,true,\nE004,Diego Internal,diego@example.com,no,\n")
		plan, err = s.PlanPeopleImport(ctx, rows, org.ImportOptions{Today: today, Scope: allScope})
		if err != nil || plan.Counts != (org.ImportCounts{Update: 1, Deactivate: 1}) {
			t.Fatalf("reactivate plan = %+v, %v", plan.Counts, err)
		}
		if _, err := s.ApplyPeopleImport(ctx, plan); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.PersonByEmployeeID(ctx, allScope, "E003"); !p.Active || !p.LeaveDate.IsZero() {
			t.Errorf("E003 after reactivation = active %v leave %v", p.Active, p.LeaveDate)
		}
		if p, _ := s.PersonByEmployeeID(ctx, allScope, "E004"); p.Active || org.FormatDate(p.LeaveDate) != "2026-05-10" {
			t.Errorf("E004 after active=no = active %v leave %v", p.Active, p.LeaveDate)
		}
		// Idempotent: planning the same file again shows nothing to do.
		plan, _ = s.PlanPeopleImport(ctx, rows, org.ImportOptions{Today: today, Scope: allScope})
		if plan.Changes() {
			t.Errorf("second plan = %+v, want no changes", plan.Counts)
		}

		// A rehire: explicit active=true without a leave_date column clears the
		// old leave date; with a past leave date in the file it is an error.
		later := org.ImportOptions{Today: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Scope: allScope}
		rows = parseCSV(t, "employee_id,full_name,email,active,leave_date\nE004,Diego Internal,diego@example.com,yes,2026-05-10\n")
		plan, _ = s.PlanPeopleImport(ctx, rows, later)
		if it := itemAt(t, plan, 2); it.Action != org.ActionError || !it.Errors.Has("active") {
			t.Errorf("active=yes with a past leave date = %s %v", it.Action, it.Errors)
		}
		rows = parseCSV(t, "employee_id,full_name,email,active\nE004,Diego Internal,diego@example.com,\n")
		if plan, _ = s.PlanPeopleImport(ctx, rows, later); plan.Changes() {
			t.Errorf("empty active cell changed something: %+v", plan.Items)
		}
		rows = parseCSV(t, "employee_id,full_name,email,active\nE004,Diego Internal,diego@example.com,yes\n")
		plan, _ = s.PlanPeopleImport(ctx, rows, later)
		if res, err := s.ApplyPeopleImport(ctx, plan); err != nil || res.Updated != 1 {
			t.Errorf("rehire = %+v, %v", res, err)
		}
		if p, _ := s.PersonByEmployeeID(ctx, allScope, "E004"); !p.Active || !p.LeaveDate.IsZero() {
			t.Errorf("E004 after rehire = active %v leave %v", p.Active, p.LeaveDate)
		}

		// Moving a person to another site without changing their team is an
		// error in the plan (not a failed apply); clearing the team too is fine.
		mustOK(t, s.CreateSite(ctx, &org.Site{Code: "svq", Name: "Sevilla", Timezone: "Europe/Madrid"}))
		rows = parseCSV(t, "employee_id,full_name,email,site\nE001,Ana García Núñez,ana@example.com,svq\n")
		plan, _ = s.PlanPeopleImport(ctx, rows, org.ImportOptions{Today: today, Scope: allScope})
		if it := itemAt(t, plan, 2); it.Action != org.ActionError || !it.Errors.Has("site") {
			t.Errorf("site change keeping a team of another site = %s %v", it.Action, it.Errors)
		}
		rows = parseCSV(t, "employee_id,full_name,email,site,team\nE001,Ana García Núñez,ana@example.com,svq,\n")
		plan, _ = s.PlanPeopleImport(ctx, rows, org.ImportOptions{Today: today, Scope: allScope})
		if res, err := s.ApplyPeopleImport(ctx, plan); err != nil || res.Updated != 1 {
			t.Errorf("move to svq without team = %+v, %v", res, err)
		}

		// A file that is all valid applies without confirmation.
		rows = parseCSV(t, "employee_id,full_name,email,team\nE030,Zoe Park,zoe@example.com,mad-it\n")
		plan, _ = s.PlanPeopleImport(ctx, rows, org.ImportOptions{Today: today, Scope: allScope})
		if res, err := s.ApplyPeopleImport(ctx, plan); err != nil || res.Created != 1 {
			t.Errorf("apply all-valid file = %+v, %v", res, err)
		}
	})
}
