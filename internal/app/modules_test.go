package app

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// TestModulesConnected checks the joins connectModules makes in the real
// application: an incident opened at the desk reaches the notification
// outbox: a delivery for a matching channel is queued.
func TestModulesConnected(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		admin := w.actor("admin (all clients)")
		rec := w.do(t, admin, http.MethodPost, "/api/v1/notify/channels", "application/json",
			`{"name":"soc","kind":"webhook","address":"https://soc.example/hook","secret":"0123456789abcdef0123456789abcdef","sensitivity":"summary","kinds":["incident.created"]}`)
		if rec.Code != http.StatusCreated {
			t.Fatalf("create channel = %d %s", rec.Code, rec.Body)
		}
		rec = w.do(t, admin, http.MethodPost, "/api/v1/incidents", "application/json",
			`{"title":"Phishing wave","severity":"high","category":"phishing","client_ids":[`+strconv.FormatInt(w.clientA.ID, 10)+`]}`)
		if rec.Code != http.StatusCreated {
			t.Fatalf("create incident = %d %s", rec.Code, rec.Body)
		}
		var inc struct {
			Ref string `json:"ref"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &inc); err != nil || inc.Ref == "" {
			t.Fatalf("incident answer %s: %v", rec.Body, err)
		}
		// Exactly one delivery to our channel, for this incident (the world's
		// seeders may have made other channels and incidents).
		var n int
		err := st.QueryRow(ctx, `SELECT COUNT(*) FROM notify_deliveries d JOIN notify_channels c ON c.id = d.channel_id
			WHERE c.name = 'soc' AND d.event_kind = 'incident.created' AND d.event_title LIKE ?`, inc.Ref+"%").Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("%d deliveries of the new incident to the channel, want 1: the desk does not publish to the outbox", n)
		}
	})
}
