package org

import (
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
)

func TestBuildPlanDeactivateMissing(t *testing.T) {
	ref := fuzzRef()
	today := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	e2 := ref.People["E2"]
	e2.LeaveDate = time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC) // serving notice
	ref.People["E2"] = e2
	hire := Person{ID: 3, EmployeeID: "E3", FullName: "Future", Email: "f@b.es", JobRole: "agent", ClientIDs: []int64{1},
		StartDate: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Active: true}
	ref.People["E3"] = hire

	rows, err := ParsePeopleCSV(strings.NewReader("employee_id,full_name,email\nE1,Ana,a@b.es\n"))
	if err != nil {
		t.Fatal(err)
	}
	plan := BuildPlan(rows, ref, ImportOptions{Scope: identity.Scope{All: true}, DeactivateMissing: true, Today: today})
	if plan.Counts != (ImportCounts{Unchanged: 1, Deactivate: 2}) {
		t.Fatalf("counts = %+v", plan.Counts)
	}
	for _, it := range plan.Items[1:] {
		p := it.Person
		if p.Active || it.Line != 0 {
			t.Errorf("%s: active %v line %d", it.EmployeeID, p.Active, it.Line)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", it.EmployeeID, err)
		}
		switch it.EmployeeID {
		case "E2":
			if !p.LeaveDate.Equal(today) {
				t.Errorf("E2 leave date = %v, want today (missing from the file means gone now)", p.LeaveDate)
			}
		case "E3":
			if !p.LeaveDate.Equal(hire.StartDate) {
				t.Errorf("E3 leave date = %v, want its start date", p.LeaveDate)
			}
		}
	}

	// Limited to client 2: only E2 (clients 1 and 2) is in scope; E1 row is
	// then outside the importer's scope and an error.
	plan = BuildPlan(rows, ref, ImportOptions{Scope: identity.Scope{ClientIDs: []int64{2}}, DeactivateMissing: true, Today: today})
	if plan.Counts.Errors != 1 || plan.Counts.Deactivate != 0 || len(plan.Warnings) != 1 {
		t.Errorf("scoped plan = %+v %v", plan.Counts, plan.Warnings)
	}
}

func TestBuildPlanHidesOutOfScopeClients(t *testing.T) {
	ref := fuzzRef()
	ref.Clients["c"] = Client{ID: 3, Code: "c"}
	rows, err := ParsePeopleCSV(strings.NewReader("employee_id,full_name,email,clients\nE2,Bo,b@b.es,a;c\n"))
	if err != nil {
		t.Fatal(err)
	}
	// E2 works for a and b; the importer sees a and c only.
	plan := BuildPlan(rows, ref, ImportOptions{Scope: identity.Scope{ClientIDs: []int64{1, 3}}, Today: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)})
	it := plan.Items[0]
	if it.Action != ActionUpdate || len(it.Changes) != 1 || it.Changes[0] != (FieldChange{Field: "clients", Old: "a", New: "a;c"}) {
		t.Errorf("plan = %s %+v %v; want clients a → a;c without b", it.Action, it.Changes, it.Errors)
	}
	if got := it.Person.ClientIDs; len(got) != 3 {
		t.Errorf("person clients = %v, want a, b (kept) and c", got)
	}
}
