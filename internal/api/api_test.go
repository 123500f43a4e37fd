package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// fixture is a store with two clients (A in scope of the scoped principals,
// B not), a site, a team and a person of each client.
type fixture struct {
	st               *store.Store
	clientA, clientB org.Client
	site             org.Site
	teamA, teamB     org.Team
	personA, personB org.Person
	h                http.Handler
	router           *authz.Router
	api              *Server
	svc              *auth.Service
	adminUser        *identity.User
}

func newFixture(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: st}
	f.clientA = org.Client{Code: "bank", Name: "Banco Uno"}
	f.clientB = org.Client{Code: "telco", Name: "Telco Dos"}
	must(t, st.CreateClient(ctx, &f.clientA))
	must(t, st.CreateClient(ctx, &f.clientB))
	f.site = org.Site{Code: "mad", Name: "Madrid", Timezone: "Europe/Madrid"}
	must(t, st.CreateSite(ctx, &f.site))
	f.teamA = org.Team{Code: "bank-1", Name: "Bank team", SiteID: f.site.ID, ClientID: f.clientA.ID}
	f.teamB = org.Team{Code: "telco-1", Name: "Telco team", SiteID: f.site.ID, ClientID: f.clientB.ID}
	must(t, st.CreateTeam(ctx, &f.teamA))
	must(t, st.CreateTeam(ctx, &f.teamB))
	f.personA = org.Person{EmployeeID: "E1", FullName: "José Núñez", Email: "jose@example.com", SiteID: f.site.ID, TeamID: f.teamA.ID, ClientIDs: []int64{f.clientA.ID}, Active: true}
	f.personB = org.Person{EmployeeID: "E2", FullName: "Jane Roe", Email: "jane@example.com", SiteID: f.site.ID, TeamID: f.teamB.ID, ClientIDs: []int64{f.clientB.ID}, Active: true}
	must(t, st.CreatePerson(ctx, &f.personA))
	must(t, st.CreatePerson(ctx, &f.personB))
	keys, err := secret.New(secret.Generate())
	must(t, err)
	f.svc = auth.NewService(st, keys, auth.Config{Password: identity.PasswordParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}, nil)
	f.adminUser, _, err = f.svc.CreateUser(ctx, nil, auth.NewUser{User: identity.User{Username: "admin", Role: identity.RoleAdmin, AllClients: true}, Password: "correct horse battery staple 42"})
	must(t, err)
	f.api = New(Deps{Store: st, Identity: f.svc, Tokens: f.svc, Credentials: f.svc})
	f.router = authz.NewRouter(authz.Options{})
	f.api.Register(f.router)
	f.h = f.router
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// call serves one request as principal p (nil = anonymous).
func (f *fixture) call(t *testing.T, p *identity.Principal, method, target, body string) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if body != "" && !strings.Contains(target, "/import") {
		req.Header.Set("Content-Type", "application/json")
	}
	if p != nil {
		req = req.WithContext(identity.WithPrincipal(req.Context(), p))
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	var out map[string]any
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: response is not a JSON object: %v\n%s", method, target, err, w.Body)
		}
	}
	return w.Code, out, w.Header()
}

func (f *fixture) admin() *identity.Principal { return f.adminUser.Principal() }

func (f *fixture) scopedSecurity() *identity.Principal {
	return &identity.Principal{UserID: 2, Username: "sec", Role: identity.RoleSecurity, ClientIDs: []int64{f.clientA.ID}}
}

func TestOrgEndpoints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		sec := f.scopedSecurity()
		code, body, _ := f.call(t, sec, "GET", "/api/v1/clients", "")
		if code != 200 || len(body["items"].([]any)) != 1 {
			t.Fatalf("GET /clients as scoped user = %d %v, want only client A", code, body)
		}
		if code, _, _ := f.call(t, sec, "GET", "/api/v1/clients/"+itoa64(f.clientB.ID), ""); code != 404 {
			t.Errorf("GET out-of-scope client = %d, want 404", code)
		}
		code, body, _ = f.call(t, f.admin(), "POST", "/api/v1/clients", `{"code":"ins","name":"Seguros Tres","sector":"insurance"}`)
		if code != 201 || body["code"] != "ins" || body["active"] != true {
			t.Fatalf("POST /clients = %d %v", code, body)
		}
		code, body, _ = f.call(t, f.admin(), "POST", "/api/v1/clients", `{"code":"ins","name":"Again"}`)
		if code != 409 || fieldOf(body) != "code" {
			t.Errorf("POST duplicate client = %d %v, want 409 on code", code, body)
		}
		code, body, _ = f.call(t, f.admin(), "POST", "/api/v1/clients", `{"code":"Bad Code!","name":""}`)
		if code != 422 || len(body["errors"].([]any)) != 2 {
			t.Errorf("POST invalid client = %d %v, want 422 with 2 field errors", code, body)
		}
		code, body, _ = f.call(t, f.admin(), "PATCH", "/api/v1/clients/"+itoa64(f.clientA.ID), `{"sector":"banking"}`)
		if code != 200 || body["sector"] != "banking" || body["name"] != "Banco Uno" {
			t.Errorf("PATCH client = %d %v", code, body)
		}
		// Teams: a scoped user may not create a team for an out-of-scope client.
		scopedAdmin := &identity.Principal{UserID: 3, Username: "sa", Role: identity.RoleAdmin, ClientIDs: []int64{f.clientA.ID}}
		code, body, _ = f.call(t, scopedAdmin, "POST", "/api/v1/teams", `{"code":"x1","name":"X","site_id":`+itoa64(f.site.ID)+`,"client_id":`+itoa64(f.clientB.ID)+`}`)
		if code != 422 || fieldOf(body) != "client_id" {
			t.Errorf("POST team for out-of-scope client = %d %v, want 422 on client_id", code, body)
		}
		code, body, _ = f.call(t, sec, "GET", "/api/v1/teams", "")
		if code != 200 || len(body["items"].([]any)) != 1 {
			t.Errorf("GET /teams scoped = %d %v, want 1 team", code, body)
		}
		code, body, _ = f.call(t, f.admin(), "GET", "/api/v1/sites?limit=1", "")
		if code != 200 || body["limit"].(float64) != 1 || body["next_offset"] != nil {
			t.Errorf("GET /sites?limit=1 = %d %v", code, body)
		}
	})
}

func TestPeopleEndpoints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		sec := f.scopedSecurity()
		code, body, _ := f.call(t, sec, "GET", "/api/v1/people?q=jose", "")
		if code != 200 || body["total"].(float64) != 1 {
			t.Fatalf("GET /people?q=jose = %d %v", code, body)
		}
		if code, _, _ := f.call(t, sec, "GET", "/api/v1/people/"+itoa64(f.personB.ID), ""); code != 404 {
			t.Errorf("GET out-of-scope person = %d, want 404", code)
		}
		if code, _, _ := f.call(t, sec, "PATCH", "/api/v1/people/"+itoa64(f.personB.ID), `{"full_name":"X"}`); code != 404 {
			t.Errorf("PATCH out-of-scope person = %d, want 404", code)
		}
		if code, _, _ := f.call(t, sec, "POST", "/api/v1/people/"+itoa64(f.personB.ID)+"/deactivate", ""); code != 404 {
			t.Errorf("deactivate out-of-scope person = %d, want 404", code)
		}
		code, body, _ = f.call(t, sec, "POST", "/api/v1/people", `{"employee_id":"E3","full_name":"Ana Gil","email":"ana@example.com","client_ids":[`+itoa64(f.clientA.ID)+`],"team_id":`+itoa64(f.teamA.ID)+`,"start_date":"2024-02-01"}`)
		if code != 201 || body["start_date"] != "2024-02-01" || body["team_name"] != "Bank team" {
			t.Fatalf("POST /people = %d %v", code, body)
		}
		newID := int64(body["id"].(float64))
		code, body, _ = f.call(t, sec, "POST", "/api/v1/people", `{"employee_id":"E4","full_name":"B","email":"b@example.com","client_ids":[`+itoa64(f.clientB.ID)+`]}`)
		if code != 422 {
			t.Errorf("POST person for out-of-scope client = %d %v, want 422", code, body)
		}
		code, body, _ = f.call(t, sec, "POST", "/api/v1/people", `{"employee_id":"E5","full_name":"C","email":"not-an-email","start_date":"01/02/2024"}`)
		if code != 422 || !hasField(body, "start_date") {
			t.Errorf("POST invalid person = %d %v, want 422 naming start_date", code, body)
		}
		code, body, _ = f.call(t, sec, "POST", "/api/v1/people/"+itoa64(newID)+"/deactivate", `{"leave_date":"2024-03-01"}`)
		if code != 200 || body["active"] != false || body["leave_date"] != "2024-03-01" {
			t.Errorf("deactivate = %d %v", code, body)
		}
		// Malformed and unknown input.
		for _, tc := range []struct {
			body string
			want int
		}{
			{`{"full_name":`, 400},
			{`[1,2]`, 400},
			{`{"full_name":"x"} {}`, 400},
			{`{"nickname":"x"}`, 422},
			{`{"site_id":"madrid"}`, 422},
		} {
			code, body, hdr := f.call(t, sec, "PATCH", "/api/v1/people/"+itoa64(f.personA.ID), tc.body)
			if code != tc.want || hdr.Get("Content-Type") != "application/problem+json" || body["status"].(float64) != float64(tc.want) {
				t.Errorf("PATCH %s = %d %v, want %d problem", tc.body, code, body, tc.want)
			}
		}
		for _, q := range []string{"limit=0", "limit=201", "offset=-1", "limit=abc", "active=maybe", "team_id=x"} {
			if code, body, _ := f.call(t, sec, "GET", "/api/v1/people?"+q, ""); code != 422 {
				t.Errorf("GET /people?%s = %d %v, want 422", q, code, body)
			}
		}
	})
}

func TestPeopleImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		csv := "employee_id,full_name,email,team,clients\nE10,Luis Pérez,luis@example.com,bank-1,bank\nE11,Bad Row,not-an-email,bank-1,bank\n"
		code, body, _ := f.call(t, f.admin(), "POST", "/api/v1/people/import?dry_run=true", csv)
		if code != 200 || body["dry_run"] != true {
			t.Fatalf("dry run = %d %v", code, body)
		}
		counts := body["counts"].(map[string]any)
		if counts["create"].(float64) != 1 || counts["errors"].(float64) != 1 {
			t.Errorf("dry run counts = %v, want 1 create and 1 error", counts)
		}
		_, list, _ := f.call(t, f.admin(), "GET", "/api/v1/people?q=luis", "")
		if list["total"].(float64) != 0 {
			t.Fatalf("dry run wrote people: %v", list)
		}
		code, body, _ = f.call(t, f.admin(), "POST", "/api/v1/people/import", csv)
		if code != 422 || !hasField(body, "line 3: email") {
			t.Errorf("apply with invalid rows = %d %v, want 422 naming line 3", code, body)
		}
		code, body, _ = f.call(t, f.admin(), "POST", "/api/v1/people/import?accept_valid_rows=true", csv)
		if code != 200 || body["result"].(map[string]any)["created"].(float64) != 1 {
			t.Errorf("apply accepted = %d %v", code, body)
		}
		code, body, _ = f.call(t, f.admin(), "POST", "/api/v1/people/import?accept_valid_rows=true", csv)
		if code != 200 || body["result"].(map[string]any)["created"].(float64) != 0 {
			t.Errorf("re-apply = %d %v, want nothing created (idempotent)", code, body)
		}
		code, body, _ = f.call(t, f.admin(), "POST", "/api/v1/people/import", "")
		if code != 422 || !hasField(body, "file") {
			t.Errorf("empty file = %d %v, want 422 on file", code, body)
		}
	})
}

func fieldOf(body map[string]any) string {
	errs, _ := body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	return errs[0].(map[string]any)["field"].(string)
}

func hasField(body map[string]any, field string) bool {
	errs, _ := body["errors"].([]any)
	for _, e := range errs {
		if e.(map[string]any)["field"] == field {
			return true
		}
	}
	return false
}

func itoa64(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
