package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/response"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

func (w *world) actor(name string) *actor {
	for _, a := range w.actors {
		if a.name == name {
			return a
		}
	}
	return nil
}

// do sends a request through the whole application as a.
func (w *world) do(t *testing.T, a *actor, method, target, contentType, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w.authorize(req, authz.Route{Method: method, Path: target}, a)
	rec := httptest.NewRecorder()
	w.app.Server.ServeHTTP(rec, req)
	return rec
}

// TestBreachOnTwoClientIncidentThroughTheAPI is the end-to-end
// test: a breach flagged on a two-client incident starts one AEPD clock and
// two client clocks with the right deadlines, through the JSON API, and
// the console shows them; a client-A user never sees client B's clock.
func TestBreachOnTwoClientIncidentThroughTheAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		admin := w.actor("admin (all clients)")
		dpoA := w.actor(string(identity.RoleDPO)) // limited to client A
		// Contracts: client A 24 h, client B 48 h.
		for _, c := range []struct {
			id    int64
			hours int
		}{{w.clientA.ID, 24}, {w.clientB.ID, 48}} {
			rec := w.do(t, admin, http.MethodPatch, "/api/v1/response/clients/"+strconv.FormatInt(c.id, 10), "application/json",
				`{"notify_hours":`+strconv.Itoa(c.hours)+`,"financial":false,"contact_name":"DPO","contact_email":"dpo@client.example"}`)
			if rec.Code != http.StatusOK {
				t.Fatalf("PATCH contract = %d %s", rec.Code, rec.Body)
			}
		}
		// A two-client incident (the incidents module's tables).
		var id int64
		err := st.InTx(ctx, func(tx *store.Tx) error {
			now := store.TimeArg(w.clock.Now())
			var err error
			id, err = tx.InsertID(ctx, `INSERT INTO incidents (ref, title, category, severity, status, created_at, updated_at)
				VALUES ('INC-2026-000777', 'Shared spreadsheet exposed', 'data-leak', 'high', 'triaged', ?, ?) RETURNING id`, now, now)
			if err != nil {
				return err
			}
			for _, c := range []int64{w.clientA.ID, w.clientB.ID} {
				if _, err := tx.Exec(ctx, "INSERT INTO incident_clients (incident_id, client_id) VALUES (?, ?)", id, c); err != nil {
					return err
				}
			}
			return nil
		})
		must(t, err)
		base := "/api/v1/incidents/" + strconv.FormatInt(id, 10)
		aware := w.clock.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)

		// Without reasons for the became-aware time: 422, nothing stored.
		rec := w.do(t, admin, http.MethodPost, base+"/breach", "application/json", `{"nature":"spreadsheet shared publicly","aware_at":"`+aware.Format(time.RFC3339)+`"}`)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "aware_reason") {
			t.Fatalf("breach without reason = %d %s", rec.Code, rec.Body)
		}
		rec = w.do(t, admin, http.MethodPost, base+"/breach", "application/json",
			`{"nature":"spreadsheet shared publicly","subjects_count":800,"aware_at":"`+aware.Format(time.RFC3339)+`","aware_reason":"the supervisor saw the public link"}`)
		if rec.Code != http.StatusOK {
			t.Fatalf("flag breach = %d %s", rec.Code, rec.Body)
		}
		rec = w.do(t, admin, http.MethodGet, base+"/regulatory", "", "")
		var v response.View
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("regulatory = %d %s", rec.Code, rec.Body)
		}
		var aepd, clients int
		for _, c := range v.Clocks {
			switch c.Kind {
			case "gdpr_art33_authority":
				aepd++
				if !c.Deadline.Equal(aware.Add(72 * time.Hour)) {
					t.Errorf("AEPD deadline = %v, want %v", c.Deadline, aware.Add(72*time.Hour))
				}
			case "gdpr_art33_2_controller":
				clients++
				want := aware.Add(24 * time.Hour)
				if c.ClientID == w.clientB.ID {
					want = aware.Add(48 * time.Hour)
				}
				if !c.Deadline.Equal(want) {
					t.Errorf("client %d deadline = %v, want %v", c.ClientID, c.Deadline, want)
				}
			}
		}
		if aepd != 1 || clients != 2 {
			t.Fatalf("%d AEPD clocks and %d client clocks, want 1 and 2: %+v", aepd, clients, v.Clocks)
		}

		// A client-A DPO sees the incident, the AEPD clock and client A's
		// clock; client B's clock is a 404.
		rec = w.do(t, dpoA, http.MethodGet, base+"/regulatory", "", "")
		var va response.View
		if err := json.Unmarshal(rec.Body.Bytes(), &va); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("regulatory as client-A DPO = %d %s", rec.Code, rec.Body)
		}
		for _, c := range va.Clocks {
			if c.ClientID == w.clientB.ID {
				t.Errorf("client-A DPO sees client B's clock")
			}
		}
		for _, c := range v.Clocks {
			if c.ClientID != w.clientB.ID {
				continue
			}
			if rec := w.do(t, dpoA, http.MethodGet, base+"/clocks/"+strconv.FormatInt(c.ID, 10)+"/draft", "", ""); rec.Code != http.StatusNotFound {
				t.Errorf("client-A DPO gets client B's draft: %d", rec.Code)
			}
			if rec := w.do(t, dpoA, http.MethodPost, base+"/clocks/"+strconv.FormatInt(c.ID, 10)+"/sent", "application/json", `{"how":"e-mail"}`); rec.Code != http.StatusNotFound {
				t.Errorf("client-A DPO records client B's sending: %d", rec.Code)
			}
		}
		rec = w.do(t, dpoA, http.MethodGet, "/api/v1/clocks", "", "")
		if strings.Contains(rec.Body.String(), `"client_id":`+strconv.FormatInt(w.clientB.ID, 10)+`,`) {
			t.Errorf("client-A DPO's clock overview lists client B's clock")
		}

		// Drafts through the API: PDF and text carry the reference.
		var aepdID int64
		for _, c := range v.Clocks {
			if c.Kind == "gdpr_art33_authority" {
				aepdID = c.ID
			}
		}
		rec = w.do(t, admin, http.MethodGet, base+"/clocks/"+strconv.FormatInt(aepdID, 10)+"/draft.pdf?lang=es", "", "")
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "%PDF") || !strings.Contains(rec.Body.String(), "INC-2026-000777") {
			t.Errorf("draft.pdf = %d %.40q", rec.Code, rec.Body.String())
		}
		rec = w.do(t, admin, http.MethodGet, base+"/clocks/"+strconv.FormatInt(aepdID, 10)+"/draft.txt", "", "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Approximate number of data subjects affected:\n800") {
			t.Errorf("draft.txt = %d %s", rec.Code, rec.Body)
		}
		// Recording the AEPD sending through the console form.
		form := url.Values{"how": {"AEPD sede electrónica"}, "reference": {"REG-2026-1"}, "csrf_token": {admin.csrf},
			"back": {"/incidents/" + strconv.FormatInt(id, 10)}}
		rec = w.do(t, admin, http.MethodPost, "/incidents/"+strconv.FormatInt(id, 10)+"/clocks/"+strconv.FormatInt(aepdID, 10)+"/sent",
			"application/x-www-form-urlencoded", form.Encode())
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/incidents/"+strconv.FormatInt(id, 10)+"?") {
			t.Errorf("console sending = %d %q %s", rec.Code, rec.Header().Get("Location"), rec.Body)
		}
		// The console pages show it: the register, the clocks overview with
		// the "clocks met" ring, the regulatory section.
		rec = w.do(t, admin, http.MethodGet, "/breaches", "", "")
		if body := rec.Body.String(); rec.Code != http.StatusOK || !strings.Contains(body, "INC-2026-000777") || !strings.Contains(body, "0 / 2") {
			t.Errorf("/breaches = %d", rec.Code)
		}
		rec = w.do(t, admin, http.MethodGet, "/clocks", "", "")
		if body := rec.Body.String(); rec.Code != http.StatusOK || !strings.Contains(body, "<svg") || !strings.Contains(body, "100%") {
			t.Errorf("/clocks = %d, lacks the SVG ring at 100%%", rec.Code)
		}
		rec = w.do(t, admin, http.MethodGet, "/incidents/"+strconv.FormatInt(id, 10)+"/regulatory", "", "")
		if body := rec.Body.String(); rec.Code != http.StatusOK || !strings.Contains(body, "REG-2026-1") || !strings.Contains(body, "Telco") || !strings.Contains(body, "Banco") {
			t.Errorf("/regulatory page = %d", rec.Code)
		}
		rec = w.do(t, dpoA, http.MethodGet, "/incidents/"+strconv.FormatInt(id, 10)+"/regulatory", "", "")
		if body := rec.Body.String(); rec.Code != http.StatusOK || strings.Contains(body, "Telco") {
			t.Errorf("/regulatory as client-A DPO = %d, shows client B: %v", rec.Code, strings.Contains(body, "Telco"))
		}
		rec = w.do(t, admin, http.MethodGet, "/breaches.csv", "", "")
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "incident_ref,") || !strings.Contains(rec.Body.String(), "INC-2026-000777") {
			t.Errorf("/breaches.csv = %d %s", rec.Code, rec.Body)
		}
	})
}
