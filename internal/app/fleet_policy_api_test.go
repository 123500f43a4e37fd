package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// TestFleetPolicyAPI assigns a custom policy through the API with a name,
// lists it, is refused a policy that does not parse (nothing stored) and
// one for another client, and removes it.
func TestFleetPolicyAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		var sec *actor
		for _, a := range w.actors {
			if a.name == string(rSec) {
				sec = a
			}
		}
		call := func(method, path, body string) *httptest.ResponseRecorder {
			w.ensureSignedIn(t, sec)
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			w.app.Server.ServeHTTP(rec, w.authorize(req, authz.Route{Method: method, Path: path}, sec))
			return rec
		}
		src := "policy:\n  id: custom_lock\n  name: Lock\nchecks:\n  - id: l1\n    name: Lock file\n    condition: all\n    rules:\n      - 'f:/etc/lock.conf'\n"
		body, _ := json.Marshal(map[string]any{"name": "Bank screen lock", "client_id": w.clientA.ID, "source": src})
		rec := call(http.MethodPost, "/api/v1/fleet/policies", string(body))
		if rec.Code != http.StatusCreated {
			t.Fatalf("create = %d: %s", rec.Code, rec.Body)
		}
		var created store.FleetPolicy
		must(t, json.Unmarshal(rec.Body.Bytes(), &created))
		if created.Name != "Bank screen lock" || created.ClientID != w.clientA.ID {
			t.Errorf("created = %+v", created)
		}
		rec = call(http.MethodGet, "/api/v1/fleet/policies", "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"Bank screen lock"`) {
			t.Errorf("list = %d: %s", rec.Code, rec.Body)
		}
		bad, _ := json.Marshal(map[string]any{"name": "broken", "client_id": w.clientA.ID, "source": "policy:\n  id: x\nchecks: [\n"})
		if rec := call(http.MethodPost, "/api/v1/fleet/policies", string(bad)); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("broken policy = %d: %s", rec.Code, rec.Body)
		}
		other, _ := json.Marshal(map[string]any{"name": "other", "client_id": w.clientB.ID, "source": src})
		if rec := call(http.MethodPost, "/api/v1/fleet/policies", string(other)); rec.Code < 400 || rec.Code >= 500 {
			t.Errorf("another client's assignment = %d: %s", rec.Code, rec.Body)
		}
		rec = call(http.MethodGet, "/api/v1/fleet/policies", "")
		if strings.Contains(rec.Body.String(), `"broken"`) || strings.Contains(rec.Body.String(), `"other"`) {
			t.Errorf("a refused policy was stored: %s", rec.Body)
		}
		if rec := call(http.MethodDelete, fmt.Sprintf("/api/v1/fleet/policies/%d", created.ID), ""); rec.Code != http.StatusNoContent {
			t.Errorf("delete = %d: %s", rec.Code, rec.Body)
		}
		rec = call(http.MethodGet, "/api/v1/fleet/policies", "")
		if strings.Contains(rec.Body.String(), `"Bank screen lock"`) {
			t.Errorf("deleted policy still listed: %s", rec.Body)
		}
	})
}
