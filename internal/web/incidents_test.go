package web

import (
	"bytes"
	"context"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/incident/desk"
	"github.com/custodia/custodia/internal/incident/triage"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/server"
	"github.com/custodia/custodia/internal/store/storetest"
)

// newIncidentsEnv is the real stack with the incident desk wired in.
func newIncidentsEnv(tb testing.TB) (*env, *triage.Service) {
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
	logger := slog.New(slog.DiscardHandler)
	deskSvc, err := triage.New(context.Background(), triage.Options{Store: st, Keys: keys, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	cfg := config.Defaults()
	w, err := NewServer(Deps{Config: cfg, Store: st, Identity: svc, Catalog: cat, Logger: logger, Now: clock.Now,
		Incidents: IncidentsDeps{Desk: deskSvc}})
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
	return e, deskSvc
}

// postMultipart submits a multipart form with one file.
func (b *browser) postMultipart(path string, vals url.Values, field, name string, data []byte) *response {
	b.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	vals.Set("csrf_token", b.csrf())
	for k, vs := range vals {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if field != "" {
		fw, _ := mw.CreateFormFile(field, name)
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

var refRe = regexp.MustCompile(`R-[0-9]{4}-[0-9]{6}`)

// TestReportPortal: an agent reports in one page from the button on every
// page, gets the reference at once and follows it under "my reports".
func TestReportPortal(t *testing.T) {
	e, _ := newIncidentsEnv(t)
	e.addUser("ana", identity.RoleAgent, false, func(u *identity.User) {
		u.AllClients, u.ClientIDs, u.PersonID = false, []int64{e.clientA.ID}, e.personA.ID
	})
	b := e.browser()
	b.signIn("ana")
	for _, page := range []string{"/profile", "/sessions"} {
		if n := b.get(page).doc.find(`a[href="/report"]`); n == nil {
			t.Fatalf("no report button on %s", page)
		}
	}
	form := b.get("/report")
	wantStatus(t, "GET /report", form, http.StatusOK)
	if got := len(form.doc.findAll(`input[name=category]`)); got != len(desk.Choices) {
		t.Errorf("%d quick choices, want %d", got, len(desk.Choices))
	}
	for _, sel := range []string{`textarea[name=text]`, `input[name=attachment]`, `input[name=anonymous]`} {
		form.doc.mustFind(t, sel)
	}
	bad := b.postMultipart("/report", url.Values{"category": {"bogus"}}, "", "", nil)
	wantStatus(t, "POST /report bogus", bad, http.StatusUnprocessableEntity)
	b.get("/report")
	r := b.postMultipart("/report", url.Values{"category": {desk.ChoiceSuspiciousCall}, "text": {"Caller wanted a customer's IBAN"}},
		"attachment", "call-note.txt", []byte("caller id +34 600 000 000"))
	wantStatus(t, "POST /report", r, http.StatusSeeOther)
	if !strings.HasPrefix(r.location, "/report/done?ref=R-") {
		t.Fatalf("redirect to %q", r.location)
	}
	doneP := b.get(r.location)
	ref := refRe.FindString(r.location)
	if !doneP.doc.hasText("strong", ref) {
		t.Errorf("confirmation page does not show %s", ref)
	}
	mine := b.get("/report/mine")
	if !mine.doc.hasText("code", ref) {
		t.Errorf("my reports does not list %s", ref)
	}
	if b.get("/incidents").status != http.StatusForbidden {
		t.Error("an agent opened the triage queue")
	}
	if b.get("/report/done?ref=<script>").status != http.StatusNotFound {
		t.Error("confirmation page accepted a crafted reference")
	}
}

// TestTriageConsole: the security officer triages a report into an
// incident, works it, and a client-A-only analyst never sees client B's.
func TestTriageConsole(t *testing.T) {
	e, deskSvc := newIncidentsEnv(t)
	ctx := context.Background()
	e.addUser("ciso", identity.RoleSecurity, true, nil)
	e.addUser("analyst", identity.RoleSecurity, true, func(u *identity.User) { u.AllClients, u.ClientIDs = false, []int64{e.clientA.ID} })
	agent := &identity.Principal{Username: "pbx", TokenID: 1, Role: identity.RoleSecurity, AllClients: true}
	rep, err := deskSvc.Submit(ctx, agent, triage.ReportInput{Channel: desk.ChannelAPI, Category: desk.ChoiceSuspiciousEmail, Text: "Fake invoice", ClientID: e.clientA.ID})
	if err != nil {
		t.Fatal(err)
	}
	inB, err := deskSvc.Create(ctx, agent, triage.NewIncident{Title: "Telco SIM swap", Severity: desk.SeverityHigh, ClientIDs: []int64{e.clientB.ID}})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn("ciso")
	q := b.get("/incidents")
	wantStatus(t, "GET /incidents", q, http.StatusOK)
	if !q.doc.hasText("a", rep.Ref) {
		t.Fatalf("queue lacks report %s", rep.Ref)
	}
	b.get("/triage/reports/" + incItoa(rep.ID))
	r := b.post("/triage/reports/"+incItoa(rep.ID)+"/incident", url.Values{"severity": {"high"}, "category": {"phishing"}, "own": {"1"}})
	wantStatus(t, "open incident", r, http.StatusSeeOther)
	page := b.get(strings.Split(r.location, "?")[0])
	wantStatus(t, "incident page", page, http.StatusOK)
	if len(page.doc.findAll(`#tasks ~ ul li`)) == 0 && !strings.Contains(page.body, "Search the mailboxes") {
		t.Error("the phishing playbook's tasks are not on the page")
	}
	id := strings.TrimPrefix(strings.Split(r.location, "?")[0], "/incidents/")
	wantStatus(t, "add observable", b.post("/incidents/"+id+"/observables", url.Values{"kind": {"url"}, "value": {"https://evil.example/login"}}), http.StatusSeeOther)
	bad := b.post("/incidents/"+id+"/observables", url.Values{"kind": {"ip"}, "value": {"not-an-ip"}})
	wantStatus(t, "bad observable", bad, http.StatusUnprocessableEntity)
	wantStatus(t, "bad transition", b.post("/incidents/"+id+"/status", url.Values{"status": {"new"}}), http.StatusUnprocessableEntity)
	wantStatus(t, "contain", b.post("/incidents/"+id+"/status", url.Values{"status": {"contained"}}), http.StatusSeeOther)
	page = b.get("/incidents/" + id)
	if !strings.Contains(page.body, "https://evil.example/login") || !strings.Contains(page.body, "triaged → contained") && !strings.Contains(page.body, "new → contained") {
		t.Errorf("incident page lacks the observable or the status timeline entry")
	}
	m := b.get("/triage/metrics")
	wantStatus(t, "metrics", m, http.StatusOK)
	m.doc.mustFind(t, "svg")
	pb := b.get("/triage/playbooks")
	wantStatus(t, "playbooks", pb, http.StatusOK)
	wantStatus(t, "bad playbook", b.post("/triage/playbooks", url.Values{"yaml": {"key: x\ntitle: X\ncategories: [nope]\ntasks: [a]\n"}}), http.StatusUnprocessableEntity)
	wantStatus(t, "new playbook version", b.post("/triage/playbooks", url.Values{"key": {"phishing"},
		"yaml": {"key: phishing\ntitle: Phishing\ncategories: [phishing]\ntasks: [Purge the message, Block the sender]\n"}}), http.StatusSeeOther)
	if books, _ := deskSvc.Playbooks(ctx); books[len(books)-1].Key == "" {
		t.Fatal("no playbooks")
	}

	a := e.browser()
	a.signIn("analyst")
	if got := a.get("/incidents/" + incItoa(inB.ID)).status; got != http.StatusNotFound {
		t.Errorf("client A analyst opens client B's incident: %d, want 404", got)
	}
	list := a.get("/incidents/all")
	if strings.Contains(list.body, inB.Ref) {
		t.Error("client A analyst lists client B's incident")
	}
	if got := a.post("/incidents/"+incItoa(inB.ID)+"/notes", url.Values{"text": {"x"}}).status; got != http.StatusNotFound {
		t.Errorf("client A analyst writes on client B's incident: %d", got)
	}
	if _, err := e.st.Incident(ctx, identity.Scope{All: true}, inB.ID); err != nil {
		t.Fatal(err)
	}
}

func incItoa(n int64) string { return strconv.FormatInt(n, 10) }
