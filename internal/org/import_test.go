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
