package org

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
)

// fuzzRef is existing data for planning fuzzed files: two sites, two
// clients, two teams and two people.
func fuzzRef() ImportRef {
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return ImportRef{
		Sites:   map[string]Site{"mad": {ID: 1, Code: "mad"}, "svq": {ID: 2, Code: "svq"}},
		Clients: map[string]Client{"a": {ID: 1, Code: "a"}, "b": {ID: 2, Code: "b"}},
		Teams:   map[string]Team{"t1": {ID: 1, Code: "t1", SiteID: 1, ClientID: 1}, "t2": {ID: 2, Code: "t2", SiteID: 2}},
		People: map[string]Person{
			"E1": {ID: 1, EmployeeID: "E1", FullName: "Ana", Email: "a@b.es", JobRole: "agent", SiteID: 1, TeamID: 1, ClientIDs: []int64{1}, StartDate: day, Active: true},
			"E2": {ID: 2, EmployeeID: "E2", FullName: "Bo", Email: "b@b.es", JobRole: "agent", SiteID: 2, TeamID: 2, ClientIDs: []int64{1, 2}, Active: true},
		},
	}
}

func TestParsePeopleCSV(t *testing.T) {
	in := "\ufeffEmployee_ID,Full Name,email,role,site,team,clients,start_date,leave_date,active\n" +
		"E001, Ana  García ,ANA@Example.com,Agent,MAD,mad-bank,bankx;Telco|bankx,2024-01-15,,yes\n" +
		"\n" +
		"E002,\"Smith, John\",john@example.com,supervisor,,,,,2025-02-01,no\n" +
		"E003,Bad Date,bad@example.com,agent,,,,2024-13-01,,\n" +
		",No Id,noid@example.com,agent,,,,,,\n" +
		"E005,Bad Email,not-an-email,agent,,,,,,maybe\n" +
		"E006,Too,few\n" +
		"E007,\"Multi\nLine\",ml@example.com,agent,,,,,,\n" +
		"E008,Bad Client,bc@example.com,agent,,,BAD CODE!,,,\n"
	rows, err := ParsePeopleCSV(strings.NewReader(in))
	if err != nil {
		t.Fatalf("ParsePeopleCSV: %v", err)
	}
	if len(rows) != 8 {
		t.Fatalf("got %d rows, want 8: %+v", len(rows), rows)
	}
	r := rows[0]
	if r.Line != 2 || r.EmployeeID != "E001" || r.FullName != "Ana García" || r.Email != "ana@example.com" || r.JobRole != "agent" ||
		r.Site != "mad" || r.Team != "mad-bank" || strings.Join(r.Clients, ",") != "bankx,telco" || !r.Active ||
		!r.StartDate.Equal(time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)) || len(r.Errors) != 0 {
		t.Errorf("row 0 = %+v", r)
	}
	r = rows[1]
	if r.Line != 4 || r.FullName != "Smith, John" || r.Active || r.LeaveDate.IsZero() || len(r.Errors) != 0 {
		t.Errorf("row 1 = %+v", r)
	}
	wantErr := []struct {
		line  int
		field string
	}{{5, "start_date"}, {6, "employee_id"}, {7, "email"}, {7, "active"}, {8, "line"}, {11, "clients"}}
	for _, w := range wantErr {
		found := false
		for _, r := range rows {
			if r.Line == w.line && r.Errors.Has(w.field) {
				found = true
			}
		}
		if !found {
			t.Errorf("no error on line %d field %s; rows: %+v", w.line, w.field, rows)
		}
	}
	if rows[6].Line != 9 || rows[6].FullName != "Multi Line" || len(rows[6].Errors) != 0 {
		t.Errorf("multi-line row = %+v", rows[6])
	}
}

func TestParsePeopleCSVSemicolons(t *testing.T) {
	in := "employee_id;full_name;email;clients\r\nE1;José Núñez;jose@example.es;\"bankx;telco\"\r\n"
	rows, err := ParsePeopleCSV(strings.NewReader(in))
	if err != nil || len(rows) != 1 {
		t.Fatalf("ParsePeopleCSV = %+v, %v", rows, err)
	}
	if r := rows[0]; r.FullName != "José Núñez" || len(r.Clients) != 2 || len(r.Errors) != 0 {
		t.Errorf("row = %+v", r)
	}
	if r := rows[0]; r.Columns.Has(ColSite) || !r.Columns.Has(ColClients) {
		t.Errorf("columns = %b", r.Columns)
	}
}

func TestParsePeopleCSVSpanishHeader(t *testing.T) {
	in := "ID Empleado;Nombre;Correo;Puesto;Sede;Equipo;Clientes;Fecha alta;Fecha baja;Activo\n" +
		"E7;Lucía Romero;lucia@example.es;Team Lead;svq;svq-1;bankx;2024-02-01;;sí\n"
	rows, err := ParsePeopleCSV(strings.NewReader(in))
	if err != nil || len(rows) != 1 {
		t.Fatalf("ParsePeopleCSV = %+v, %v", rows, err)
	}
	if r := rows[0]; r.EmployeeID != "E7" || r.JobRole != "team_lead" || r.Site != "svq" || r.Team != "svq-1" || !r.Active || len(r.Errors) != 0 {
		t.Errorf("row = %+v", r)
	}
}

func TestParsePeopleCSVFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "empty"},
		{"missing required", "employee_id,full_name\nE1,A\n", `"email" is missing`},
		{"unknown column", "employee_id,full_name,email,salary\n", `unknown column "salary"`},
		{"duplicate column", "employee_id,full_name,email,EMAIL\n", "appears twice"},
		{"unnamed column", "employee_id,,full_name,email\n", "has no name"},
		{"bad quote in header", "employee_id,\"full_name,email\n", "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := ParsePeopleCSV(strings.NewReader(tc.in))
			fe, ok := AsFieldErrors(err)
			if !ok || rows != nil || !strings.Contains(err.Error(), tc.want) || !fe.Has("file") {
				t.Errorf("ParsePeopleCSV(%q) = %v, %v; want file error containing %q", tc.in, rows, err, tc.want)
			}
		})
	}
}

func TestParsePeopleCSVTooLarge(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("employee_id,full_name,email\n")
	b.WriteString("E1,")
	b.Write(bytes.Repeat([]byte("x"), MaxImportBytes))
	b.WriteString(",someone@example.com\n")
	_, err := ParsePeopleCSV(&b)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("ParsePeopleCSV(huge) = %v, want too large", err)
	}
}

func TestFieldErrors(t *testing.T) {
	var fe FieldErrors
	if fe.Err() != nil {
		t.Fatal("empty FieldErrors.Err() != nil")
	}
	fe.Add("email", "is required")
	err := errors.Join(errors.New("x"), fe.Err())
	got, ok := AsFieldErrors(err)
	if !ok || len(got) != 1 || got[0].Field != "email" {
		t.Errorf("AsFieldErrors = %v, %v", got, ok)
	}
}

func TestPersonValidate(t *testing.T) {
	p := Person{EmployeeID: " E1 ", FullName: "  Ana   Pérez ", Email: "Ana@Example.COM", ClientIDs: []int64{3, 1, 3}}
	if err := p.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if p.EmployeeID != "E1" || p.FullName != "Ana Pérez" || p.Email != "ana@example.com" || p.JobRole != "agent" || len(p.ClientIDs) != 2 {
		t.Errorf("normalized = %+v", p)
	}
	if got := p.SearchText(); got != "e1 ana perez ana@example.com" {
		t.Errorf("SearchText = %q", got)
	}
	bad := Person{EmployeeID: "E 1", FullName: "", Email: "x@", JobRole: "Team Lead!",
		StartDate: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), LeaveDate: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)}
	fe, ok := AsFieldErrors(bad.Validate())
	if !ok {
		t.Fatal("Validate(bad) = nil")
	}
	for _, f := range []string{"employee_id", "full_name", "email", "job_role", "leave_date"} {
		if !fe.Has(f) {
			t.Errorf("Validate(bad) lacks %s: %v", f, fe)
		}
	}
}

func TestSiteTeamClientValidate(t *testing.T) {
	s := Site{Code: "MAD", Name: "Madrid", Country: "es", Timezone: "Europe/Madrid"}
	if err := s.Validate(); err != nil || s.Code != "mad" || s.Country != "ES" {
		t.Errorf("Site.Validate = %v, %+v", err, s)
	}
	s = Site{Code: "x y", Name: "", Country: "Spain", Timezone: "Mars/Olympus"}
	fe, _ := AsFieldErrors(s.Validate())
	for _, f := range []string{"code", "name", "country", "timezone"} {
		if !fe.Has(f) {
			t.Errorf("Site.Validate(bad) lacks %s: %v", f, fe)
		}
	}
	tm := Team{Code: "t1", Name: "T"}
	if fe, _ := AsFieldErrors(tm.Validate()); !fe.Has("site_id") {
		t.Errorf("Team.Validate without site = %v", fe)
	}
	c := Client{Code: "", Name: "Bank"}
	if fe, _ := AsFieldErrors(c.Validate()); !fe.Has("code") {
		t.Errorf("Client.Validate without code = %v", fe)
	}
}

// FuzzParsePeopleCSV checks that any input parses without panicking or
// hanging, that every row has a plausible line number, and that valid rows
// satisfy the person validation.
func FuzzParsePeopleCSV(f *testing.F) {
	f.Add([]byte("employee_id,full_name,email\nE1,Ana,ana@example.com\n"))
	f.Add([]byte("employee_id;full_name;email;clients\nE1;Ana;a@b.es;\"x;y\"\n"))
	f.Add([]byte("\ufeffemployee_id,full_name,email,role,site,team,clients,start_date,leave_date,active\nE1,A,a@b.co,agent,mad,t1,a|b,2024-01-01,2025-01-01,no\n"))
	f.Add([]byte("employee_id,full_name,email\n\"E1,\"A\nb\",x\n"))
	f.Add([]byte("employee_id,full_name,email\nE1\nE2,B,b@c.de,extra\n"))
	f.Add([]byte("employee_id,full_name,email\n\xff\xfe,bad,utf8@x.io\n"))
	f.Add([]byte("a,b\n"))
	f.Add([]byte("employee_id,full_name,email,site,team,clients,active\nE1,Ana,a@b.es,mad,t1,a,no\nE9,Zed,z@b.es,svq,t1,b;c,\nE1,Dup,d@b.es,,,,\n"))
	ref := fuzzRef()
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ParsePeopleCSV(bytes.NewReader(data))
		if err != nil {
			if _, ok := AsFieldErrors(err); !ok {
				t.Fatalf("error is not FieldErrors: %v", err)
			}
			return
		}
		// Planning the rows against existing data never panics, accounts for
		// every row, and only proposes valid people.
		for _, scope := range []identity.Scope{{All: true}, {ClientIDs: []int64{1}}, {ClientIDs: []int64{2}, TeamIDs: []int64{1}}} {
			plan := BuildPlan(rows, ref, ImportOptions{Scope: scope, DeactivateMissing: true, Today: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)})
			c := plan.Counts
			if c.Create+c.Update+c.Deactivate+c.Unchanged+c.Errors != len(plan.Items) || len(plan.Items) < len(rows) {
				t.Fatalf("plan counts %+v for %d items, %d rows", c, len(plan.Items), len(rows))
			}
			for _, it := range plan.Items {
				if it.Action == ActionError {
					if len(it.Errors) == 0 {
						t.Fatalf("error item without errors: %+v", it)
					}
					continue
				}
				p := it.Person
				if err := p.Validate(); err != nil {
					t.Fatalf("plan proposes an invalid person: %+v: %v", it.Person, err)
				}
				if !scope.All && !Visible(identity.Scope{ClientIDs: scope.ClientIDs}, &p) {
					t.Fatalf("plan proposes a person outside the scope: %+v", p)
				}
			}
		}
		lines := bytes.Count(data, []byte{'\n'}) + 1
		prev := 1
		for _, r := range rows {
			if r.Line < 2 || r.Line > lines || r.Line < prev {
				t.Fatalf("row line %d out of range (file has %d lines, previous %d)", r.Line, lines, prev)
			}
			prev = r.Line
			if len(r.Errors) == 0 {
				p := Person{EmployeeID: r.EmployeeID, FullName: r.FullName, Email: r.Email, JobRole: r.JobRole, StartDate: r.StartDate, LeaveDate: r.LeaveDate}
				if err := p.Validate(); err != nil {
					t.Fatalf("valid row fails validation: %+v: %v", r, err)
				}
				if p.EmployeeID != r.EmployeeID || p.Email != r.Email {
					t.Fatalf("valid row not normalized: %+v", r)
				}
			}
		}
	})
}
