package app

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/response"
	"github.com/custodia/custodia/internal/notify"
	"github.com/custodia/custodia/internal/notify/outbox"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
)

func init() {
	readers := access{roles: []identity.Role{rAdmin, rSec, rDPO, rAud}}
	readersID := access{roles: []identity.Role{rAdmin, rSec, rDPO, rAud}, scoped: true}
	writersID := access{roles: []identity.Role{rAdmin, rSec, rDPO}, scoped: true}
	channels := access{roles: []identity.Role{rAdmin, rSec}, allClientsOnly: true}
	moduleTables["incident_response"] = map[string]access{
		// API: regulatory clocks, breach register, drafts, contracts.
		"GET /api/v1/incidents/{id}/regulatory":                  readersID,
		"POST /api/v1/incidents/{id}/aware":                      writersID,
		"POST /api/v1/incidents/{id}/breach":                     writersID,
		"POST /api/v1/incidents/{id}/art34":                      writersID,
		"POST /api/v1/incidents/{id}/regimes":                    writersID,
		"POST /api/v1/incidents/{id}/clocks/{cid}/sent":          writersID,
		"GET /api/v1/incidents/{id}/clocks/{cid}/draft":          readersID,
		"POST /api/v1/incidents/{id}/clocks/{cid}/draft":         writersID,
		"GET /api/v1/incidents/{id}/clocks/{cid}/draft/versions": readersID,
		"GET /api/v1/incidents/{id}/clocks/{cid}/draft.pdf":      readersID,
		"GET /api/v1/incidents/{id}/clocks/{cid}/draft.txt":      readersID,
		"GET /api/v1/clocks":                                     readers,
		"GET /api/v1/breaches":                                   readers,
		"GET /api/v1/breaches.csv":                               readers,
		"GET /api/v1/response/clients":                           readers,
		"GET /api/v1/response/clients/{id}":                      readersID,
		"PATCH /api/v1/response/clients/{id}":                    writersID,
		"GET /api/v1/notify/channels":                            channels,
		"POST /api/v1/notify/channels":                           channels,
		"GET /api/v1/notify/channels/{id}":                       channels,
		"PATCH /api/v1/notify/channels/{id}":                     channels,
		"DELETE /api/v1/notify/channels/{id}":                    channels,
		"POST /api/v1/notify/channels/{id}/test":                 channels,
		"GET /api/v1/notify/deliveries":                          channels,
		"POST /api/v1/notify/deliveries/{id}/retry":              channels,
		// Console.
		"GET /incidents/{id}/regulatory":             readersID,
		"POST /incidents/{id}/aware":                 writersID,
		"POST /incidents/{id}/breach":                writersID,
		"POST /incidents/{id}/art34":                 writersID,
		"POST /incidents/{id}/regimes":               writersID,
		"POST /incidents/{id}/clocks/{cid}/sent":     writersID,
		"GET /incidents/{id}/clocks/{cid}/draft":     readersID,
		"POST /incidents/{id}/clocks/{cid}/draft":    writersID,
		"GET /incidents/{id}/clocks/{cid}/draft.pdf": readersID,
		"GET /incidents/{id}/clocks/{cid}/draft.txt": readersID,
		"GET /breaches":                              readers,
		"GET /breaches.csv":                          readers,
		"GET /clocks":                                readers,
		"GET /response/clients":                      readers,
		"GET /response/clients/{id}":                 readersID,
		"POST /response/clients/{id}":                writersID,
		"GET /notify":                                channels,
		"POST /notify/channels":                      channels,
		"GET /notify/channels/{id}":                  channels,
		"POST /notify/channels/{id}":                 channels,
		"POST /notify/channels/{id}/delete":          channels,
		"POST /notify/channels/{id}/test":            channels,
		"GET /notify/deliveries":                     channels,
		"POST /notify/deliveries/{id}/retry":         channels,
	}
	moduleSeeders = append(moduleSeeders, seedIncidentResponse)
	moduleTargets = append(moduleTargets, incidentResponseTarget)
}

// seedIncidentResponse creates a breach incident of client A and one of
// client B (each with its clocks) and two notification channels.
func seedIncidentResponse(t *testing.T, w *world) {
	ctx := context.Background()
	svc := &response.Service{Store: w.st, Now: w.clock.Now, ClientDeadline: 24 * time.Hour}
	officer := &identity.Principal{Username: "seed", Role: identity.RoleDPO, AllClients: true}
	var inc, clk [2]int64
	for i, client := range []int64{w.clientA.ID, w.clientB.ID} {
		var id int64
		err := w.st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			now := store.TimeArg(w.clock.Now())
			id, err = tx.InsertID(ctx, `INSERT INTO incidents (ref, title, category, severity, status, created_at, updated_at)
				VALUES (?, 'Wrong recipient', 'misdirected-data', 'high', 'triaged', ?, ?) RETURNING id`, "INC-AUTHZ-"+strconv.Itoa(i), now, now)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, "INSERT INTO incident_clients (incident_id, client_id) VALUES (?, ?)", id, client)
			return err
		})
		must(t, err)
		_, err = svc.FlagBreach(ctx, officer, id, response.BreachInput{Nature: "a list sent to the wrong address", AwareAt: w.clock.Now().Add(-time.Hour), AwareReason: "seed"})
		must(t, err)
		clocks, err := w.st.ResponseClocks(ctx, identity.Scope{All: true}, id)
		must(t, err)
		for _, c := range clocks {
			if c.ClientID == client {
				clk[i] = c.ID
			}
		}
		inc[i] = id
	}
	w.ids["response.incident"] = inc
	w.ids["response.clock"] = clk
	keys, err := secret.New(secret.Generate())
	must(t, err)
	ob := outbox.New(w.st, keys, &notify.Sender{}, nil)
	var chans [2]int64
	for i, name := range []string{"keep", "delete-me"} {
		ch, err := ob.SaveChannel(ctx, 0, outbox.ChannelInput{Name: name, Kind: notify.KindWebhook, Address: "https://hooks.example/custodia",
			Secret: "0123456789abcdef0123", Sensitivity: notify.SensitivitySummary})
		must(t, err)
		chans[i] = ch.ID
	}
	w.ids["response.channel"] = chans
}

func incidentResponseTarget(w *world, rt authz.Route, inScope bool) (string, bool) {
	p := rt.Path
	pick := func(key string) string {
		ids := w.ids[key]
		if inScope {
			return strconv.FormatInt(ids[0], 10)
		}
		return strconv.FormatInt(ids[1], 10)
	}
	bare := strings.TrimPrefix(p, "/api/v1")
	switch {
	case strings.HasPrefix(bare, "/incidents/{id}/") && (strings.HasSuffix(bare, "/regulatory") || strings.HasSuffix(bare, "/aware") ||
		strings.HasSuffix(bare, "/breach") || strings.HasSuffix(bare, "/art34") || strings.HasSuffix(bare, "/regimes") || strings.Contains(bare, "/clocks/{cid}")):
		p = strings.ReplaceAll(p, "{id}", pick("response.incident"))
		p = strings.ReplaceAll(p, "{cid}", pick("response.clock"))
		return p, true
	case strings.HasPrefix(bare, "/response/clients/{id}"):
		id := w.clientA.ID
		if !inScope {
			id = w.clientB.ID
		}
		return strings.ReplaceAll(p, "{id}", strconv.FormatInt(id, 10)), true
	case strings.HasPrefix(bare, "/notify/channels/{id}"):
		id := w.ids["response.channel"][0]
		if strings.HasSuffix(bare, "/delete") || rt.Method == "DELETE" {
			id = w.ids["response.channel"][1]
		}
		return strings.ReplaceAll(p, "{id}", strconv.FormatInt(id, 10)), true
	case strings.HasPrefix(bare, "/notify/deliveries/{id}"):
		return strings.ReplaceAll(p, "{id}", "999999"), true
	}
	return "", false
}
