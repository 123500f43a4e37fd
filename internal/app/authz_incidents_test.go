package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
)

func init() {
	readers := access{roles: []identity.Role{rAdmin, rSec, rDPO, rAud}}
	readersID := access{roles: []identity.Role{rAdmin, rSec, rDPO, rAud}, scoped: true}
	writers := access{roles: []identity.Role{rAdmin, rSec}}
	writersID := access{roles: []identity.Role{rAdmin, rSec}, scoped: true}
	moduleTables["incidents"] = map[string]access{
		// API.
		"POST /api/v1/reports":                            signedIn,
		"GET /api/v1/reports/mine":                        signedIn,
		"GET /api/v1/reports":                             readers,
		"GET /api/v1/reports/{id}":                        readersID,
		"POST /api/v1/reports/{id}/incident":              writersID,
		"POST /api/v1/reports/{id}/merge":                 writersID,
		"POST /api/v1/reports/{id}/dismiss":               writersID,
		"GET /api/v1/triage/queue":                        readers,
		"POST /api/v1/triage/alerts/{id}/incident":        writersID,
		"POST /api/v1/triage/alerts/{id}/merge":           writersID,
		"POST /api/v1/triage/alerts/{id}/dismiss":         writersID,
		"GET /api/v1/triage/metrics":                      readers,
		"GET /api/v1/incidents":                           readers,
		"POST /api/v1/incidents":                          writers,
		"GET /api/v1/incidents/{id}":                      readersID,
		"PATCH /api/v1/incidents/{id}":                    writersID,
		"POST /api/v1/incidents/{id}/status":              writersID,
		"POST /api/v1/incidents/{id}/merge":               writersID,
		"POST /api/v1/incidents/{id}/notes":               writersID,
		"POST /api/v1/incidents/{id}/observables":         writersID,
		"DELETE /api/v1/incidents/{id}/observables/{sub}": writersID,
		"POST /api/v1/incidents/{id}/tasks":               writersID,
		"PATCH /api/v1/incidents/{id}/tasks/{sub}":        writersID,
		"POST /api/v1/incidents/{id}/affected":            writersID,
		"DELETE /api/v1/incidents/{id}/affected/{sub}":    writersID,
		"POST /api/v1/incidents/{id}/links":               writersID,
		"POST /api/v1/incidents/{id}/links/remove":        writersID,
		"POST /api/v1/incidents/{id}/evidence":            writersID,
		"GET /api/v1/incidents/{id}/evidence/{sub}":       readersID,
		"GET /api/v1/playbooks":                           readers,
		"PUT /api/v1/playbooks":                           writers,
		// Console: every signed-in person reports.
		"GET /report":      signedIn,
		"POST /report":     signedIn,
		"GET /report/done": signedIn,
		"GET /report/mine": signedIn,
		// Console: the security team.
		"GET /incidents":                                readers,
		"GET /incidents/all":                            readers,
		"GET /incidents/new":                            writers,
		"POST /incidents/new":                           writers,
		"GET /incidents/{id}":                           readersID,
		"POST /incidents/{id}/edit":                     writersID,
		"POST /incidents/{id}/status":                   writersID,
		"POST /incidents/{id}/notes":                    writersID,
		"POST /incidents/{id}/observables":              writersID,
		"POST /incidents/{id}/observables/{sub}/delete": writersID,
		"POST /incidents/{id}/tasks":                    writersID,
		"POST /incidents/{id}/tasks/{sub}":              writersID,
		"POST /incidents/{id}/affected":                 writersID,
		"POST /incidents/{id}/affected/{sub}/delete":    writersID,
		"POST /incidents/{id}/links":                    writersID,
		"POST /incidents/{id}/links/remove":             writersID,
		"POST /incidents/{id}/evidence":                 writersID,
		"GET /incidents/{id}/evidence/{sub}":            readersID,
		"POST /incidents/{id}/merge":                    writersID,
		"GET /triage/reports/{id}":                      readersID,
		"GET /triage/reports/{id}/files/{sub}":          writersID,
		"POST /triage/reports/{id}/incident":            writersID,
		"POST /triage/reports/{id}/merge":               writersID,
		"POST /triage/reports/{id}/dismiss":             writersID,
		"POST /triage/alerts/{id}/incident":             writersID,
		"POST /triage/alerts/{id}/merge":                writersID,
		"POST /triage/alerts/{id}/dismiss":              writersID,
		"GET /triage/metrics":                           readers,
		"GET /triage/playbooks":                         readers,
		"POST /triage/playbooks":                        writers,
	}
	moduleSeeders = append(moduleSeeders, seedIncidents)
	moduleTargets = append(moduleTargets, incidentsTarget)
}

// seedIncidents creates, through the real API with an administrator's
// token, an incident of client A and one of client B (each with an
// observable, a task, an affected person and an evidence file), a report
// with an attachment for each client, and an open alert for each.
func seedIncidents(t *testing.T, w *world) {
	t.Helper()
	ctx := context.Background()
	var admin *identity.User
	for _, a := range w.actors {
		if a.user.AllClients && a.user.Role == rAdmin {
			admin = a.user
		}
	}
	tok, _, err := w.app.Identity.CreateAPIToken(ctx, admin.Principal(), auth.NewAPIToken{Name: "incidents-seed", Role: rAdmin, AllClients: true})
	must(t, err)
	call := func(method, path string, body any, out any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req := httptest.NewRequest(method, "/api/v1"+path, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		w.app.Server.ServeHTTP(rec, req)
		if rec.Code >= 300 {
			t.Fatalf("seed %s %s = %d %s", method, path, rec.Code, rec.Body)
		}
		if out != nil {
			must(t, json.Unmarshal(rec.Body.Bytes(), out))
		}
	}
	var inc, obs, task, aff, file, rep, repFile, al [2]int64
	for i, client := range []int64{w.clientA.ID, w.clientB.ID} {
		var in struct{ ID int64 }
		call("POST", "/incidents", map[string]any{"title": fmt.Sprintf("Phishing wave %d", i), "severity": "high", "category": "phishing", "client_ids": []int64{client}}, &in)
		inc[i] = in.ID
		p := "/incidents/" + strconv.FormatInt(in.ID, 10)
		call("POST", p+"/observables", map[string]any{"kind": "domain", "value": fmt.Sprintf("evil%d.example", i)}, nil)
		call("POST", p+"/affected", map[string]any{"kind": "person", "label": "Person", "ref_id": 0}, nil)
		var ev struct{ ID int64 }
		call("POST", p+"/evidence", map[string]any{"name": "mail.eml", "data_base64": base64.StdEncoding.EncodeToString([]byte("evidence"))}, &ev)
		file[i] = ev.ID
		var d struct {
			Tasks       []struct{ ID int64 }
			Observables []struct{ ID int64 }
			Affected    []struct{ ID int64 }
		}
		call("GET", p, nil, &d)
		if len(d.Tasks) == 0 || len(d.Observables) == 0 || len(d.Affected) == 0 {
			t.Fatalf("seed incident %d: %+v", i, d)
		}
		task[i], obs[i], aff[i] = d.Tasks[0].ID, d.Observables[0].ID, d.Affected[0].ID
		var r struct{ ID int64 }
		call("POST", "/reports", map[string]any{"category": "suspicious_call", "text": "Caller asked for a PIN", "client_id": client,
			"attachment": map[string]any{"name": "shot.png", "data_base64": base64.StdEncoding.EncodeToString([]byte("png"))}}, &r)
		rep[i] = r.ID
		must(t, w.st.QueryRow(ctx, "SELECT id FROM incident_files WHERE owner_kind = 'report' AND owner_id = ?", r.ID).Scan(&repFile[i]))
		a := alert.Alert{Source: "fleet", Kind: "check_failed", Severity: alert.SeverityHigh, ClientID: client, Title: "USB unblocked"}
		must(t, w.st.RaiseAlert(ctx, &a))
		al[i] = a.ID
	}
	w.ids["incidents.incident"], w.ids["incidents.observable"], w.ids["incidents.task"] = inc, obs, task
	w.ids["incidents.affected"], w.ids["incidents.file"], w.ids["incidents.report"] = aff, file, rep
	w.ids["incidents.report_file"], w.ids["incidents.alert"] = repFile, al
}

func incidentsTarget(w *world, rt authz.Route, inScope bool) (string, bool) {
	p := rt.Path
	bare := strings.TrimPrefix(p, "/api/v1")
	pick := func(key string) string {
		ids := w.ids[key]
		if inScope {
			return strconv.FormatInt(ids[0], 10)
		}
		return strconv.FormatInt(ids[1], 10)
	}
	switch {
	case bare == "/report/done":
		return p + "?ref=R-2026-000001", true
	case strings.HasPrefix(bare, "/reports/{id}"), strings.HasPrefix(bare, "/triage/reports/{id}"):
		p = strings.ReplaceAll(p, "{id}", pick("incidents.report"))
		return strings.ReplaceAll(p, "{sub}", pick("incidents.report_file")), true
	case strings.HasPrefix(bare, "/triage/alerts/{id}"):
		return strings.ReplaceAll(p, "{id}", pick("incidents.alert")), true
	case strings.HasPrefix(bare, "/incidents/{id}") && !strings.Contains(bare, "/clocks/") && !strings.HasSuffix(bare, "/regulatory") &&
		!strings.HasSuffix(bare, "/aware") && !strings.HasSuffix(bare, "/breach") && !strings.HasSuffix(bare, "/art34") && !strings.HasSuffix(bare, "/regimes"):
		p = strings.ReplaceAll(p, "{id}", pick("incidents.incident"))
		sub := ""
		switch {
		case strings.Contains(bare, "/observables/"):
			sub = pick("incidents.observable")
		case strings.Contains(bare, "/tasks/"):
			sub = pick("incidents.task")
		case strings.Contains(bare, "/affected/"):
			sub = pick("incidents.affected")
		case strings.Contains(bare, "/evidence/"):
			sub = pick("incidents.file")
		}
		return strings.ReplaceAll(p, "{sub}", sub), true
	}
	return "", false
}
