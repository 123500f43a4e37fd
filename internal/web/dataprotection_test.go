package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/dataprotection/discovery"
	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/server"
	"github.com/custodia/custodia/internal/store/storetest"
)

// newDPEnv is the real stack with the data-protection module; locations may
// lie under root.
func newDPEnv(tb testing.TB, root string) (*env, *discovery.Service) {
	tb.Helper()
	hs := httptest.NewUnstartedServer(nil)
	st := storetest.SQLite(tb)
	keys, err := secret.New(secret.Generate())
	if err != nil {
		tb.Fatal(err)
	}
	clock := &testClock{now: time.Now().UTC()}
	svc := auth.NewService(st, keys, auth.Config{
		Password:    identity.PasswordParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		SessionIdle: 1000 * time.Hour, SessionMax: 2000 * time.Hour,
	}, clock.Now)
	cat, err := i18n.Load()
	if err != nil {
		tb.Fatal(err)
	}
	cat.Missing = func(lang, key string) { tb.Errorf("missing message %s/%s", lang, key) }
	logger := slog.New(slog.DiscardHandler)
	cfg := config.Defaults()
	cfg.DataProtection.AllowedRoots = root
	dp, err := discovery.New(context.Background(), st, keys, cfg.DataProtection, logger)
	if err != nil {
		tb.Fatal(err)
	}
	w, err := NewServer(Deps{Config: cfg, Store: st, Identity: svc, Catalog: cat, Logger: logger, Now: clock.Now,
		DataProtection: DataProtectionDeps{Service: dp}, Modules: []Module{{Key: ModuleDataProtection, Path: "/dataprotection", Roles: dpReaders}}})
	if err != nil {
		tb.Fatalf("NewServer: %v", err)
	}
	srv, err := server.New(server.Deps{Config: cfg, Store: st, Logger: logger, Auth: svc,
		NeedsMFAEnrolment: svc.NeedsMFAEnrolment, Deny: w.Deny, Registrars: []server.Registrar{w}})
	if err != nil {
		tb.Fatalf("server.New: %v", err)
	}
	e := &env{t: tb, st: st, svc: svc, web: w, clock: clock, seeds: map[string][]byte{}}
	hs.Config.Handler = srv
	hs.Start()
	e.srv = hs
	tb.Cleanup(e.srv.Close)
	e.seedSmall()
	return e, dp
}

func TestDataProtectionPages(t *testing.T) {
	root := t.TempDir()
	share := filepath.Join(root, "share")
	if err := os.MkdirAll(filepath.Join(share, "crm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(share, "crm", "notes.txt"), []byte("Tarjeta 4111 1111 1111 1111, correo ana@example.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, dp := newDPEnv(t, root)
	e.addUser("dpo", identity.RoleDPO, true, func(u *identity.User) { u.AllClients, u.ClientIDs = false, []int64{e.clientA.ID} })
	e.addUser("aud", identity.RoleAuditor, true, func(u *identity.User) { u.AllClients, u.ClientIDs = false, []int64{e.clientA.ID} })
	e.addUser("audb", identity.RoleAuditor, true, func(u *identity.User) { u.AllClients, u.ClientIDs = false, []int64{e.clientB.ID} })
	e.addUser("sup", identity.RoleSupervisor, false, func(u *identity.User) { u.AllClients, u.ClientIDs = false, []int64{e.clientA.ID} })

	b := e.browser()
	b.signIn("dpo")
	list := b.get("/dataprotection")
	wantStatus(t, "GET /dataprotection", list, http.StatusOK)
	list.doc.mustFind(t, `a[href="/dataprotection/try"]`)
	if !list.doc.hasText("p", "No locations yet.") {
		t.Error("empty list has no message")
	}

	form := b.get("/dataprotection/locations/new")
	wantStatus(t, "GET new", form, http.StatusOK)
	form.doc.mustFind(t, `input[name=path]`)
	form.doc.mustFind(t, `input[name=cde]`)
	bad := b.post("/dataprotection/locations", url.Values{"name": {"Etc"}, "path": {"/etc"}, "client_id": {strconv.FormatInt(e.clientA.ID, 10)}})
	wantStatus(t, "POST bad location", bad, http.StatusUnprocessableEntity)
	bad.doc.mustFind(t, `input[name=path][aria-invalid=true]`)
	b.get("/dataprotection/locations/new")
	r := b.post("/dataprotection/locations", url.Values{"name": {"Shared drive"}, "path": {share}, "client_id": {strconv.FormatInt(e.clientA.ID, 10)},
		"interval_minutes": {"60"}, "enabled": {"on"}})
	wantStatus(t, "POST location", r, http.StatusSeeOther)
	loc := strings.TrimSuffix(r.location, "?ok=created")
	page := b.get(r.location)
	wantStatus(t, "GET location", page, http.StatusOK)
	if !page.doc.hasText("p", "Not scanned yet.") {
		t.Error("a new location does not say it was never scanned")
	}
	r = b.post(loc+"/scan", nil)
	wantStatus(t, "POST scan now", r, http.StatusSeeOther)
	dp.RunDue(context.Background())

	page = b.get(loc)
	wantStatus(t, "GET location after scan", page, http.StatusOK)
	if !page.doc.hasText("code", "crm/notes.txt") || !page.doc.hasText("code", "CREDIT_CARD") {
		t.Fatalf("location page lacks the file with findings:\n%s", truncateForLog(page.body))
	}
	if strings.Contains(page.body, "4111") {
		t.Fatal("the location page shows a card number")
	}
	list = b.get("/dataprotection")
	if !list.doc.hasText("strong", "Card data outside the CDE") || !strings.Contains(list.body, "Card data outside the cardholder-data environment") {
		t.Errorf("the list shows no card warning or alert:\n%s", truncateForLog(list.body))
	}
	runs, err := e.st.DPRuns(context.Background(), identity.Scope{All: true}, mustID(t, loc), 10, 0)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs = %v, %v", runs, err)
	}
	href := "/dataprotection/runs/" + strconv.FormatInt(runs[0].ID, 10)
	page.doc.mustFind(t, `a[href="`+href+`"]`)
	wantStatus(t, "GET run", b.get(href), http.StatusOK)

	// Declare it a CDE.
	b.get(loc)
	r = b.post(loc, url.Values{"name": {"Shared drive"}, "path": {share}, "client_id": {strconv.FormatInt(e.clientA.ID, 10)}, "cde": {"on"}, "enabled": {"on"}, "interval_minutes": {"60"}})
	wantStatus(t, "POST update", r, http.StatusSeeOther)
	b.get(loc)
	r = b.post(loc, url.Values{"name": {""}, "path": {share}, "client_id": {strconv.FormatInt(e.clientA.ID, 10)}})
	wantStatus(t, "POST bad update", r, http.StatusUnprocessableEntity)
	l, _ := e.st.DPLocation(context.Background(), identity.Scope{All: true}, mustID(t, loc))
	if !l.CDE || l.Name != "Shared drive" {
		t.Errorf("after update: %+v", l)
	}

	// Try it: findings masked, redaction shown, nothing stored.
	try := b.get("/dataprotection/try")
	wantStatus(t, "GET try", try, http.StatusOK)
	note := "Mi tarjeta es 4111 1111 1111 1111 y mi DNI 12345678Z"
	res := b.post("/dataprotection/try", url.Values{"text": {note}, "lang": {"es"}, "operator": {"token"}, "action": {"scan"}})
	wantStatus(t, "POST try scan", res, http.StatusOK)
	if !res.doc.hasText("code", "4111 11** **** 1111") || !res.doc.hasText("code", "ES_NIF") {
		t.Errorf("try scan shows no masked findings:\n%s", truncateForLog(res.body))
	}
	res = b.post("/dataprotection/try", url.Values{"text": {note}, "lang": {"es"}, "operator": {"token"}, "action": {"redact"}})
	wantStatus(t, "POST try redact", res, http.StatusOK)
	if !res.doc.hasText("textarea", "TOK_CREDIT_CARD_") {
		t.Errorf("try redact shows no tokens:\n%s", truncateForLog(res.body))
	}
	all, err := e.st.AuditEntries(context.Background(), audit.Filter{AllClients: true, Action: "dataprotection.*"})
	var entries []string
	for _, en := range all {
		if strings.HasSuffix(en.Action, "_text") {
			entries = append(entries, en.Detail)
		}
	}
	if err != nil || len(entries) != 2 || !strings.Contains(strings.Join(entries, ";"), "CREDIT_CARD=1") ||
		strings.Contains(strings.Join(entries, ";"), "4111") {
		t.Errorf("try-it audit entries = %+v, %v; want 2 with counts only", entries, err)
	}
	res = b.post("/dataprotection/try", url.Values{"text": {"Ref 1234 5678 9012 3456"}, "fail_closed": {"on"}, "action": {"scan"}})
	if !res.doc.hasText("td", "fail-closed") {
		t.Errorf("payment mode did not flag a non-Luhn 16-digit run:\n%s", truncateForLog(res.body))
	}
	res = b.post("/dataprotection/try", url.Values{"text": {""}, "action": {"scan"}})
	wantStatus(t, "POST try empty", res, http.StatusUnprocessableEntity)

	// Auditors read, do not change; another client's auditor sees nothing; supervisors are refused.
	ab := e.browser()
	ab.signIn("aud")
	p := ab.get(loc)
	wantStatus(t, "auditor GET location", p, http.StatusOK)
	if p.doc.find(`form[action="`+loc+`/scan"]`) != nil {
		t.Error("an auditor sees the scan-now button")
	}
	if ab.get("/dataprotection/try").status != http.StatusForbidden {
		t.Error("an auditor opened try it")
	}
	bb := e.browser()
	bb.signIn("audb")
	if got := bb.get(loc).status; got != http.StatusNotFound {
		t.Errorf("another client's auditor GET location = %d, want 404", got)
	}
	if got := bb.get(href).status; got != http.StatusNotFound {
		t.Errorf("another client's auditor GET run = %d, want 404", got)
	}
	sb := e.browser()
	sb.signIn("sup")
	if got := sb.get("/dataprotection").status; got != http.StatusForbidden {
		t.Errorf("supervisor GET /dataprotection = %d, want 403", got)
	}

	b.get(loc)
	r = b.post(loc+"/delete", nil)
	wantStatus(t, "POST delete", r, http.StatusSeeOther)
	if _, err := e.st.DPLocation(context.Background(), identity.Scope{All: true}, mustID(t, loc)); err == nil {
		t.Error("the location survived its deletion")
	}
}

func mustID(t *testing.T, path string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(path[strings.LastIndex(path, "/")+1:], 10, 64)
	if err != nil {
		t.Fatalf("no id in %q", path)
	}
	return n
}
