package app

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/store/storetest"
)

// TestAuditRecordsRequestContext checks that a change made through the API
// is audited with the token as actor, the request id and the client address
// the middleware established.
func TestAuditRecordsRequestContext(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	ctx := context.Background()
	var adminAll *actor
	for _, a := range w.actors {
		if a.user.AllClients {
			adminAll = a
		}
	}
	tok, tk, err := w.app.Identity.CreateAPIToken(ctx, adminAll.user.Principal(), auth.NewAPIToken{Name: "ci", Role: identity.RoleAdmin, AllClients: true})
	must(t, err)
	req := httptest.NewRequest("POST", "/api/v1/clients", strings.NewReader(`{"code":"ins","name":"Seguros"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Request-Id", "req-audit-1")
	rec := httptest.NewRecorder()
	w.app.Server.ServeHTTP(rec, req)
	if rec.Code != 201 {
		t.Fatalf("POST /api/v1/clients = %d %s", rec.Code, rec.Body)
	}
	entries, err := w.st.AuditEntries(ctx, audit.Filter{AllClients: true, Action: "client.create", Limit: 1})
	must(t, err)
	if len(entries) != 1 {
		t.Fatalf("client.create entries = %d", len(entries))
	}
	e := entries[0]
	if e.RequestID != "req-audit-1" || e.IP != "192.0.2.1" || !strings.HasPrefix(e.Actor, "token:") || e.ActorUserID != adminAll.user.ID {
		t.Errorf("audit entry = actor %q (user %d), request %q, ip %q; want token:%d, user %d, req-audit-1, 192.0.2.1",
			e.Actor, e.ActorUserID, e.RequestID, e.IP, tk.ID, adminAll.user.ID)
	}
	if strings.Contains(e.Detail, tok) {
		t.Error("the token appears in the audit trail")
	}
}
