package triage

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/desk"
	"github.com/custodia/custodia/internal/incident/smtpd"
	"github.com/custodia/custodia/internal/notify"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

const reportAddr = "phishing@custodia.example"

// sink is a real SMTP server standing for the organisation's mail relay:
// the service's acknowledgements go through it.
type sink struct {
	mu   sync.Mutex
	msgs []sunk
	got  chan struct{}
}

type sunk struct {
	to  []string
	raw string
	at  time.Time
}

func startSMTP(tb testing.TB, recipients []string, h smtpd.Handler) string {
	tb.Helper()
	srv, err := smtpd.New(smtpd.Config{Hostname: "test.example", Recipients: recipients, Handler: h,
		CommandTimeout: 10 * time.Second, IPRate: 1000, IPBurst: 1000, SenderRate: 1000, SenderBurst: 1000, MaxConns: 200})
	if err != nil {
		tb.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(l)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return l.Addr().String()
}

func newSink(tb testing.TB, recipients ...string) (*sink, notify.Mailer) {
	s := &sink{got: make(chan struct{}, 1000)}
	addr := startSMTP(tb, recipients, func(_ context.Context, env smtpd.Envelope, raw []byte) error {
		s.mu.Lock()
		s.msgs = append(s.msgs, sunk{to: env.To, raw: string(raw), at: time.Now()})
		s.mu.Unlock()
		select {
		case s.got <- struct{}{}:
		default: // wait() re-checks the count; nobody may be waiting
		}
		return nil
	})
	return s, &notify.SMTPMailer{Addr: addr, From: "Custodia <custodia@custodia.example>", Timeout: 5 * time.Second}
}

// wait returns the messages once n have arrived (or fails after 10 s).
func (s *sink) wait(tb testing.TB, n int) []sunk {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			out := slices.Clone(s.msgs)
			s.mu.Unlock()
			return out
		}
		s.mu.Unlock()
		select {
		case <-s.got:
		case <-deadline:
			tb.Fatalf("the sink received %d messages, want %d", len(s.msgs), n)
		}
	}
}

type recorder struct {
	mu     sync.Mutex
	events []notify.Event
}

func (r *recorder) Publish(_ context.Context, e notify.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Kind)
	}
	return out
}

type fixture struct {
	st         *store.Store
	svc        *Service
	clientA    int64
	clientB    int64
	ana, luis  *org.Person
	security   *identity.Principal // all clients
	analystA   *identity.Principal // security role limited to client A
	auditorB   *identity.Principal // auditor limited to client B
	agentAna   *identity.Principal
	events     *recorder
	sink       *sink
	now        time.Time
	nowMu      sync.Mutex
	reporters  []string
	runCancel  context.CancelFunc
	runStopped chan struct{}
}

func (f *fixture) clock() time.Time {
	f.nowMu.Lock()
	defer f.nowMu.Unlock()
	if f.now.IsZero() {
		return time.Now()
	}
	return f.now
}

func setup(t testing.TB, st *store.Store, extraReporters ...string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: st, events: &recorder{}}
	a, b := org.Client{Code: "bank-a", Name: "Bank A"}, org.Client{Code: "telco-b", Name: "Telco B"}
	for _, c := range []*org.Client{&a, &b} {
		if err := st.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	f.clientA, f.clientB = a.ID, b.ID
	f.ana = &org.Person{EmployeeID: "E1", FullName: "Ana García", Email: "ana@client.example", JobRole: "agent", Active: true, ClientIDs: []int64{a.ID}}
	f.luis = &org.Person{EmployeeID: "E2", FullName: "Luis Pérez", Email: "luis@client.example", JobRole: "agent", Active: true, ClientIDs: []int64{b.ID}}
	for _, p := range []*org.Person{f.ana, f.luis} {
		if err := st.CreatePerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	anaUser := &identity.User{Username: "ana", Email: "ana@client.example", Role: identity.RoleAgent, PersonID: f.ana.ID, ClientIDs: []int64{a.ID}, Locale: "es", Active: true}
	if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, anaUser, "", time.Now()) }); err != nil {
		t.Fatal(err)
	}
	f.security = &identity.Principal{UserID: 0, Username: "ciso", Role: identity.RoleSecurity, AllClients: true}
	f.analystA = &identity.Principal{Username: "analyst-a", Role: identity.RoleSecurity, ClientIDs: []int64{a.ID}}
	f.auditorB = &identity.Principal{Username: "auditor-b", Role: identity.RoleAuditor, ClientIDs: []int64{b.ID}}
	f.agentAna = &identity.Principal{UserID: anaUser.ID, Username: "ana", Role: identity.RoleAgent, PersonID: f.ana.ID, ClientIDs: []int64{a.ID}, Locale: "es"}
	keys, err := secret.New(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	recips := append([]string{"ana@client.example", "luis@client.example", "soc@custodia.example"}, extraReporters...)
	var mailer notify.Mailer
	f.sink, mailer = newSink(t, recips...)
	f.svc, err = New(ctx, Options{Store: st, Keys: keys, Mailer: mailer, Publisher: f.events, Now: f.clock,
		BaseURL: "https://custodia.example", EscalateTo: []string{"soc@custodia.example"}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	f.runCancel, f.runStopped = cancel, make(chan struct{})
	go func() { f.svc.Run(runCtx, time.Hour); close(f.runStopped) }()
	t.Cleanup(func() { cancel(); <-f.runStopped })
	return f
}

const innerEML = "Return-Path: <bounce@bulk.example>\r\n" +
	"Received: from mail.bulk.example (mail.bulk.example [198.51.100.7]) by mx.client.example with ESMTPS; Tue, 24 Nov 2026 09:15:02 +0000\r\n" +
	"Authentication-Results: mx.client.example; spf=fail smtp.mailfrom=bulk.example; dkim=none; dmarc=fail header.from=bank.example\r\n" +
	"From: Bank <alerts@bank.example>\r\n" +
	"Reply-To: help@desk-bank.example\r\n" +
	"To: %s\r\n" +
	"Subject: Verify your account\r\n" +
	"Message-ID: <campaign-42@bulk.example>\r\n" +
	"Content-Type: text/html\r\n" +
	"\r\n" +
	"<p>Your account is locked.</p>\r\n" +
	"<a href=\"https://nam02.safelinks.protection.outlook.com/?url=https%%3A%%2F%%2Fbank-verify.example%%2Flogin&data=1\">Log in</a>\r\n"

// forwardedEML is what a "report phishing" button sends: the reporter's
// note plus the original attached as message/rfc822.
func forwardedEML(reporter string) string {
	return "From: " + reporter + "\r\n" +
		"To: " + reportAddr + "\r\n" +
		"Subject: FW: Verify your account\r\n" +
		"Message-ID: <fw-" + reporter + "@client.example>\r\n" +
		"Content-Type: multipart/mixed; boundary=\"r1\"\r\n" +
		"\r\n" +
		"--r1\r\n" +
		"Content-Type: text/plain\r\n" +
		"\r\n" +
		"This looks fake.\r\n" +
		"--r1\r\n" +
		"Content-Type: message/rfc822\r\n" +
		"Content-Disposition: attachment; filename=\"original.eml\"\r\n" +
		"\r\n" +
		fmt.Sprintf(innerEML, reporter) +
		"--r1--\r\n"
}

func hasObs(obs []desk.Observable, kind, value string) bool {
	for _, o := range obs {
		if o.Kind == kind && o.Value == value {
			return true
		}
	}
	return false
}

// TestEmailEndToEnd: a real SMTP client sends a forwarded phishing e-mail
// with the original attached; the report appears with parsed observables,
// the raw message is stored encrypted, and the reporter is acknowledged
// through a real SMTP hop.
func TestEmailEndToEnd(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		ctx := context.Background()
		intake := startSMTP(t, []string{reportAddr}, f.svc.MailHandler())
		if err := smtp.SendMail(intake, nil, "ana@client.example", []string{reportAddr}, []byte(forwardedEML("ana@client.example"))); err != nil {
			t.Fatalf("SendMail = %v", err)
		}
		list, err := f.svc.Reports(ctx, f.security, store.ReportFilter{})
		if err != nil || len(list) != 1 {
			t.Fatalf("reports = %v, %v; want one", list, err)
		}
		r, err := f.svc.Report(ctx, f.security, list[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Channel != desk.ChannelEmail || r.ReporterPersonID != f.ana.ID || r.ClientID != f.clientA || !strings.HasPrefix(r.Ref, "R-") {
			t.Errorf("report = %+v", r)
		}
		for _, want := range []struct{ kind, value string }{
			{desk.ObsURL, "https://bank-verify.example/login"}, {desk.ObsIP, "198.51.100.7"}, {desk.ObsEmail, "help@desk-bank.example"},
			{desk.ObsDomain, "bank-verify.example"},
		} {
			if !hasObs(r.Observables, want.kind, want.value) {
				t.Errorf("observable %s %s missing from %+v", want.kind, want.value, r.Observables)
			}
		}
		if hasObs(r.Observables, desk.ObsEmail, "ana@client.example") {
			t.Error("the reporter's own address became an observable")
		}
		if r.Context["subject"] != "Verify your account" || r.Context["dmarc"] != "fail" || !strings.Contains(r.Context["findings"], "reply_to_mismatch") {
			t.Errorf("context = %v", r.Context)
		}
		if r.MessageID != "campaign-42@bulk.example" {
			t.Errorf("message id = %q", r.MessageID)
		}
		files, err := f.svc.ReportFiles(ctx, f.security, r.ID)
		if err != nil || len(files) != 1 {
			t.Fatalf("files = %v, %v", files, err)
		}
		_, raw, err := f.svc.File(ctx, f.security, files[0].ID)
		if err != nil || !strings.Contains(string(raw), "campaign-42@bulk.example") {
			t.Fatalf("raw mail = %.80q, %v", raw, err)
		}
		var sealed []byte
		if err := st.QueryRow(ctx, "SELECT data FROM incident_files WHERE id = ?", files[0].ID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(sealed), "campaign-42") {
			t.Error("the raw e-mail is stored in clear")
		}
		// The acknowledgement went through the sink, in Ana's language.
		got := f.sink.wait(t, 1)
		if !slices.Contains(got[0].to, "ana@client.example") || !strings.Contains(got[0].raw, r.Ref) || !strings.Contains(got[0].raw, "Gracias") {
			t.Errorf("acknowledgement = %+v", got[0])
		}
		waitFor(t, func() bool {
			r, _ := f.svc.Report(ctx, f.security, r.ID)
			return r.AckStatus == desk.AckSent && r.AckAt != nil
		})
		// Client B's auditor cannot see Ana's report or its file.
		if _, err := f.svc.Report(ctx, f.auditorB, r.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("client B auditor reads client A's report: %v", err)
		}
		if _, _, err := f.svc.File(ctx, f.auditorB, files[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("client B auditor reads client A's mail: %v", err)
		}
	})
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if ok() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("condition not reached in 5 s")
}

// TestTenReportersOneIncident: ten people report the same e-mail; the
// reports cluster into one incident with ten reporters.
func TestTenReportersOneIncident(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		var reps []string
		for i := 0; i < 10; i++ {
			reps = append(reps, fmt.Sprintf("agent%d@client.example", i))
		}
		f := setup(t, st, reps...)
		ctx := context.Background()
		addPeople(t, st, reps, f.clientA)
		intake := startSMTP(t, []string{reportAddr}, f.svc.MailHandler())
		for _, rep := range reps {
			if err := smtp.SendMail(intake, nil, rep, []string{reportAddr}, []byte(forwardedEML(rep))); err != nil {
				t.Fatalf("SendMail = %v", err)
			}
		}
		incs, err := f.svc.Incidents(ctx, f.security, store.IncidentFilter{})
		if err != nil || len(incs) != 1 {
			t.Fatalf("incidents = %+v, %v; want one", incs, err)
		}
		in := incs[0]
		if in.Reporters != 10 || in.Category != "phishing" || in.Playbook != "phishing" || !strings.HasPrefix(in.Ref, "INC-") {
			t.Fatalf("incident = %+v, want 10 reporters, phishing playbook", in)
		}
		d, err := f.svc.Detail(ctx, f.security, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		var who []string
		for _, r := range d.Reports {
			who = append(who, r.ReporterEmail)
		}
		slices.Sort(who)
		if !slices.Equal(who, reps) {
			t.Errorf("reporters = %v", who)
		}
		if !hasObs(d.Observables, desk.ObsURL, "https://bank-verify.example/login") || len(d.Tasks) == 0 {
			t.Errorf("observables %v tasks %d", d.Observables, len(d.Tasks))
		}
		queue, err := f.svc.Queue(ctx, f.security, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(queue) != 1 || queue[0].Kind != "incident" || queue[0].Reports != 10 {
			t.Errorf("queue = %+v, want the one incident", queue)
		}
		f.sink.wait(t, 10) // everybody acknowledged
	})
}

// TestHostileMail: broken, hostile or nonsense messages are stored raw and
// flagged, never lost and never crash intake.
func TestHostileMail(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := setup(t, st)
	ctx := context.Background()
	for i, raw := range []string{
		"",
		"garbage without headers\x00\xff\xfe",
		"From: x@evil.example\r\nSubject: =?utf-8?q?a=0D=0ABcc:_victim@example.com?=\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n--b\r\n",
		"Content-Type: multipart/mixed\r\n\r\nno boundary",
		strings.Repeat("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n", 200),
	} {
		r, err := f.svc.IntakeMail(ctx, smtpd.Envelope{ID: fmt.Sprint(i), From: "x@evil.example"}, []byte(raw))
		if err != nil {
			t.Fatalf("IntakeMail(%d) = %v", i, err)
		}
		if r == nil {
			t.Fatalf("IntakeMail(%d) made no report", i)
		}
		if i > 0 && len(r.Flags) == 0 {
			t.Errorf("IntakeMail(%d): no flag on a hostile message (%+v)", i, r)
		}
		if r.MailFileID == 0 {
			t.Errorf("IntakeMail(%d): raw message not stored", i)
		}
	}
	// Nobody we know: no e-mail goes back to a possibly forged sender.
	waitFor(t, func() bool {
		list, _ := f.svc.Reports(ctx, f.security, store.ReportFilter{Limit: 1})
		return len(list) == 1 && list[0].AckStatus == desk.AckNoAddress
	})
	// An external sender (nobody we know) is not scoped to a client:
	// only callers who see every client see it.
	if list, _ := f.svc.Reports(ctx, f.analystA, store.ReportFilter{}); len(list) != 0 {
		t.Errorf("client A analyst sees %d unattributed reports", len(list))
	}
}

// TestPortalReportAndScope covers the portal form's service side, anonymity,
// "my reports", reporter privacy and client segregation.
func TestPortalReportAndScope(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		ctx := context.Background()
		if _, err := f.svc.Submit(ctx, f.agentAna, ReportInput{Category: "nonsense", Text: "x"}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("unknown category: err = %v", err)
		}
		if _, err := f.svc.Submit(ctx, f.agentAna, ReportInput{}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("empty report: err = %v", err)
		}
		r, err := f.svc.Submit(ctx, f.agentAna, ReportInput{Category: desk.ChoiceSuspiciousCall, Text: "Caller asked for a customer's IBAN",
			Attachment: &Upload{Name: "../../etc/screenshot.png", ContentType: "image/png", Data: []byte("\x89PNG fake")}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Ref == "" || r.ClientID != f.clientA || r.ReporterPersonID != f.ana.ID {
			t.Fatalf("report = %+v", r)
		}
		anon, err := f.svc.Submit(ctx, f.agentAna, ReportInput{Category: desk.ChoiceOther, Text: "My supervisor shares his password", Anonymous: true})
		if err != nil {
			t.Fatal(err)
		}
		full, err := f.svc.Report(ctx, f.security, anon.ID)
		if err != nil {
			t.Fatal(err)
		}
		if full.ReporterPersonID != 0 || full.ReporterUserID != 0 || full.ReporterEmail != "" || full.ReporterName != "" {
			t.Errorf("anonymous report keeps the reporter: %+v", full)
		}
		mine, err := f.svc.MyReports(ctx, f.agentAna)
		if err != nil || len(mine) != 1 || mine[0].Ref != r.Ref || mine[0].AckAt == nil && mine[0].Status != desk.ReportNew {
			t.Fatalf("my reports = %+v, %v", mine, err)
		}
		files, err := f.svc.ReportFiles(ctx, f.security, r.ID)
		if err != nil || len(files) != 1 || files[0].Name != "screenshot.png" || files[0].Size != 9 {
			t.Fatalf("attachment = %+v, %v", files, err)
		}
		// The reporter is hidden from an auditor; the security team sees it.
		aud := &identity.Principal{Username: "aud", Role: identity.RoleAuditor, AllClients: true}
		if got, _ := f.svc.Report(ctx, aud, r.ID); got.ReporterName != "" || got.ReporterPersonID != 0 {
			t.Errorf("auditor sees the reporter: %+v", got)
		}
		if got, _ := f.svc.Report(ctx, f.security, r.ID); got.ReporterName != "Ana García" {
			t.Errorf("security sees reporter %q", got.ReporterName)
		}
		// Client segregation: client B's incident is invisible to client A.
		inB, err := f.svc.Create(ctx, f.security, NewIncident{Title: "Telco B SIM swap", Severity: desk.SeverityHigh, Category: "masquerade", ClientIDs: []int64{f.clientB}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Incident(ctx, f.analystA, inB.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("client A analyst reads client B's incident: %v", err)
		}
		if err := f.svc.AddNote(ctx, f.analystA, inB.ID, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("client A analyst writes on client B's incident: %v", err)
		}
		if list, _ := f.svc.Incidents(ctx, f.analystA, store.IncidentFilter{}); len(list) != 0 {
			t.Errorf("client A analyst lists %d incidents", len(list))
		}
		if _, err := f.svc.Create(ctx, f.analystA, NewIncident{Title: "x", Severity: desk.SeverityLow, ClientIDs: []int64{f.clientB}}); !errors.Is(err, ErrInvalid) {
			t.Errorf("client A analyst opens an incident for client B: %v", err)
		}
		// A two-client incident is visible to both sides.
		both, err := f.svc.Create(ctx, f.security, NewIncident{Title: "Shared platform outage", Severity: desk.SeverityMedium, Category: "outage", ClientIDs: []int64{f.clientA, f.clientB}})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []*identity.Principal{f.analystA, f.auditorB} {
			if _, err := f.svc.Incident(ctx, p, both.ID); err != nil {
				t.Errorf("%s cannot see the shared incident: %v", p.Username, err)
			}
		}
		// On a shared incident each side sees only its own clients' reports.
		rB, err := f.svc.Submit(ctx, f.security, ReportInput{Channel: desk.ChannelAPI, Category: desk.ChoiceOther, Text: "B's report", ClientID: f.clientB})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.MergeReport(ctx, f.security, rB.ID, both.ID); err != nil {
			t.Fatal(err)
		}
		if d, _ := f.svc.Detail(ctx, f.analystA, both.ID); len(d.Reports) != 0 {
			t.Errorf("client A analyst sees client B's report on a shared incident: %+v", d.Reports)
		}
		if d, _ := f.svc.Detail(ctx, f.auditorB, both.ID); len(d.Reports) != 1 {
			t.Errorf("client B auditor sees %d reports on the shared incident, want 1", len(d.Reports))
		}
		// An operator-wide incident (no client) is for all-client callers only.
		op, err := f.svc.Create(ctx, f.security, NewIncident{Title: "Office burglary", Severity: desk.SeverityHigh, Category: "burglary"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Incident(ctx, f.analystA, op.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("client A analyst reads an operator-wide incident: %v", err)
		}
	})
}

// TestIncidentFlow: playbook on classification, status flow, tasks,
// observables, evidence, links, closing with thanks.
func TestIncidentFlow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		ctx := context.Background()
		r, err := f.svc.Submit(ctx, f.agentAna, ReportInput{Category: desk.ChoiceLostDevice, Text: "Laptop stolen from my car"})
		if err != nil {
			t.Fatal(err)
		}
		in, err := f.svc.IncidentFromReport(ctx, f.analystA, r.ID, NewIncident{})
		if err != nil {
			t.Fatal(err)
		}
		if in.Category != "data-loss" || in.Playbook != "lost_device" || in.Reporters != 1 || !slices.Equal(in.ClientIDs, []int64{f.clientA}) {
			t.Fatalf("incident = %+v", in)
		}
		if _, err := f.svc.IncidentFromReport(ctx, f.analystA, r.ID, NewIncident{}); !errors.Is(err, desk.ErrTransition) {
			t.Errorf("second incident from the same report: %v", err)
		}
		if _, err := f.svc.SetStatus(ctx, f.analystA, in.ID, desk.StatusRecovered, "", ""); err != nil {
			t.Fatalf("skip ahead to recovered: %v", err)
		}
		if _, err := f.svc.SetStatus(ctx, f.analystA, in.ID, desk.StatusContained, "", ""); !errors.Is(err, desk.ErrTransition) {
			t.Errorf("recovered → contained: err = %v, want refused", err)
		}
		if _, err := f.svc.SetStatus(ctx, f.analystA, in.ID, desk.StatusClosed, "", ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("close without outcome: err = %v", err)
		}
		for _, o := range []desk.Observable{{Kind: desk.ObsIP, Value: "203.0.113.9"}, {Kind: desk.ObsIP, Value: "::ffff:203.0.113.9"}, {Kind: desk.ObsPhone, Value: "+34 600 11 22 33"}} {
			if err := f.svc.AddObservable(ctx, f.analystA, in.ID, o); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.svc.AddObservable(ctx, f.analystA, in.ID, desk.Observable{Kind: desk.ObsIP, Value: "nope"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("bad observable: %v", err)
		}
		if err := f.svc.AddAffected(ctx, f.analystA, in.ID, desk.Affected{Kind: desk.AffectedPerson, RefID: f.ana.ID, Label: "Ana García"}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddLink(ctx, f.analystA, in.ID, desk.Link{Kind: desk.LinkRisk, RefID: 7, Label: "R-7 device theft"}); err != nil {
			t.Fatal(err)
		}
		ev, err := f.svc.AddEvidence(ctx, f.analystA, in.ID, Upload{Name: "police-report.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 report")})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddTask(ctx, f.analystA, in.ID, "Call the insurer"); err != nil {
			t.Fatal(err)
		}
		d, err := f.svc.Detail(ctx, f.analystA, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Observables) != 2 || len(d.Affected) != 1 || len(d.Links) != 1 || len(d.Evidence) != 1 || d.Evidence[0].SHA256 != ev.SHA256 {
			t.Fatalf("detail: obs %v affected %v links %v evidence %v", d.Observables, d.Affected, d.Links, d.Evidence)
		}
		if err := f.svc.SetTaskDone(ctx, f.analystA, in.ID, d.Tasks[0].ID, true); err != nil {
			t.Fatal(err)
		}
		var auditHash int
		if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE detail LIKE ?", "%sha256="+ev.SHA256+"%").Scan(&auditHash); err != nil || auditHash != 1 {
			t.Errorf("evidence hash in the audit trail: %d, %v", auditHash, err)
		}
		closed, err := f.svc.SetStatus(ctx, f.analystA, in.ID, desk.StatusClosed, desk.OutcomeReal, "The laptop was encrypted and has been wiped remotely.")
		if err != nil {
			t.Fatal(err)
		}
		if closed.ClosedAt == nil || closed.Outcome != desk.OutcomeReal {
			t.Fatalf("closed = %+v", closed)
		}
		msgs := f.sink.wait(t, 2) // acknowledgement + thank-you
		last := msgs[len(msgs)-1].raw
		if !strings.Contains(last, "cerrado") || !strings.Contains(last, "wiped remotely") {
			t.Errorf("thank-you = %q", last)
		}
		mine, _ := f.svc.MyReports(ctx, f.agentAna)
		if mine[0].Outcome != desk.OutcomeReal || mine[0].IncidentRef != in.Ref {
			t.Errorf("my report after closing = %+v", mine[0])
		}
		d, _ = f.svc.Detail(ctx, f.security, in.ID)
		var kinds []string
		for _, e := range d.Timeline {
			kinds = append(kinds, e.Kind)
		}
		for _, k := range []string{"created", "report", "playbook", "status", "observable", "affected", "link", "evidence", "task"} {
			if !slices.Contains(kinds, k) {
				t.Errorf("timeline lacks %q: %v", k, kinds)
			}
		}
		if !slices.Contains(f.events.kinds(), "incident.status_changed") || !slices.Contains(f.events.kinds(), "incident.created") {
			t.Errorf("events = %v", f.events.kinds())
		}
		// Reopening is allowed, to triaged only.
		if _, err := f.svc.SetStatus(ctx, f.analystA, in.ID, desk.StatusTriaged, "", ""); err != nil {
			t.Errorf("reopen: %v", err)
		}
	})
}

// TestTriageActions: alerts and reports become incidents, are merged or
// dismissed.
func TestTriageActions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := setup(t, st)
		ctx := context.Background()
		al := alert.Alert{Source: "fleet", Kind: "check_failed", Severity: alert.SeverityHigh, ClientID: f.clientA, Title: "USB storage unblocked on PC-1"}
		if err := st.RaiseAlert(ctx, &al); err != nil {
			t.Fatal(err)
		}
		other := alert.Alert{Source: "detect", Kind: "rule", Severity: alert.SeverityLow, ClientID: f.clientA, Title: "odd login"}
		if err := st.RaiseAlert(ctx, &other); err != nil {
			t.Fatal(err)
		}
		q, err := f.svc.Queue(ctx, f.analystA, 0)
		if err != nil || len(q) != 2 {
			t.Fatalf("queue = %+v, %v", q, err)
		}
		if q, _ := f.svc.Queue(ctx, f.auditorB, 0); len(q) != 0 {
			t.Errorf("client B sees client A's alerts: %+v", q)
		}
		in, err := f.svc.IncidentFromAlert(ctx, f.analystA, al.ID, NewIncident{Category: "infected-system"})
		if err != nil {
			t.Fatal(err)
		}
		if in.Severity != desk.SeverityHigh || in.Playbook != "malware" || !slices.Equal(in.ClientIDs, []int64{f.clientA}) {
			t.Errorf("incident from alert = %+v", in)
		}
		if err := f.svc.MergeAlert(ctx, f.analystA, other.ID, in.ID); err != nil {
			t.Fatal(err)
		}
		r1, _ := f.svc.Submit(ctx, f.agentAna, ReportInput{Category: desk.ChoiceMalware, Text: "USB stick found in the toilets"})
		r2, _ := f.svc.Submit(ctx, f.agentAna, ReportInput{Category: desk.ChoiceOther, Text: "Printer is slow"})
		if err := f.svc.MergeReport(ctx, f.analystA, r1.ID, in.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DismissReport(ctx, f.analystA, r2.ID, ""); !errors.Is(err, ErrInvalid) {
			t.Errorf("dismiss without a reason: %v", err)
		}
		if err := f.svc.DismissReport(ctx, f.analystA, r2.ID, "Not a security matter; IT ticket opened"); err != nil {
			t.Fatal(err)
		}
		if q, _ := f.svc.Queue(ctx, f.analystA, 0); len(q) != 1 || q[0].Kind != "incident" {
			t.Errorf("queue after triage = %+v", q)
		}
		d, _ := f.svc.Detail(ctx, f.analystA, in.ID)
		if len(d.Alerts) != 2 || len(d.Reports) != 1 {
			t.Errorf("incident has %d alerts and %d reports", len(d.Alerts), len(d.Reports))
		}
		dup, err := f.svc.Create(ctx, f.analystA, NewIncident{Title: "USB again", Severity: desk.SeverityLow})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.MergeIncident(ctx, f.analystA, dup.ID, in.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Incident(ctx, f.analystA, dup.ID); got.Status != desk.StatusClosed || got.Outcome != desk.OutcomeDuplicate {
			t.Errorf("merged incident = %+v", got)
		}
	})
}

// TestSLAEscalation: a breached stage is escalated once: timeline, event,
// severity raised, e-mail to the escalation address.
func TestSLAEscalation(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := setup(t, st)
	ctx := context.Background()
	t0 := time.Now().UTC()
	f.nowMu.Lock()
	f.now = t0
	f.nowMu.Unlock()
	in, err := f.svc.Create(ctx, f.security, NewIncident{Title: "Ransom note on PC-7", Severity: desk.SeverityHigh, Category: "infected-system", ClientIDs: []int64{f.clientA}})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := f.svc.CheckSLAs(ctx); n != 0 {
		t.Fatalf("escalated %d at creation", n)
	}
	f.nowMu.Lock()
	f.now = t0.Add(31 * time.Minute)
	f.nowMu.Unlock()
	if n, err := f.svc.CheckSLAs(ctx); n != 1 || err != nil {
		t.Fatalf("CheckSLAs = %d, %v; want the ack stage", n, err)
	}
	if n, _ := f.svc.CheckSLAs(ctx); n != 0 {
		t.Fatalf("escalated twice")
	}
	got, _ := f.svc.Incident(ctx, f.security, in.ID)
	if got.Severity != desk.SeverityCritical || !slices.Equal(got.SLAEscalated, []string{desk.StageAck}) {
		t.Errorf("after escalation = %+v", got)
	}
	if !slices.Contains(f.events.kinds(), "incident.sla_breached") {
		t.Errorf("events = %v", f.events.kinds())
	}
	msgs := f.sink.wait(t, 1)
	if !strings.Contains(msgs[0].raw, in.Ref) || !slices.Contains(msgs[0].to, "soc@custodia.example") {
		t.Errorf("escalation mail = %+v", msgs[0])
	}
}

// TestDeviceReport: a desk report from the workstation agent becomes a
// report with the device's context.
func TestDeviceReport(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := setup(t, st)
	ctx := context.Background()
	ref, err := f.svc.DeviceReport(ctx, fleetReport(f))
	if err != nil || !strings.HasPrefix(ref, "R-") {
		t.Fatalf("DeviceReport = %q, %v", ref, err)
	}
	r, err := st.ReportByRef(ctx, identity.Scope{All: true}, ref)
	if err != nil {
		t.Fatal(err)
	}
	if r.Channel != desk.ChannelDesktop || r.Context["hostname"] != "PC-ANA-01" || r.ReporterPersonID != f.ana.ID || r.ClientID != f.clientA || r.DeviceID != 42 {
		t.Errorf("device report = %+v", r)
	}
	in, err := f.svc.IncidentFromReport(ctx, f.security, r.ID, NewIncident{})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := f.svc.Detail(ctx, f.security, in.ID)
	if len(d.Affected) != 1 || d.Affected[0].Kind != desk.AffectedDevice || d.Affected[0].RefID != 42 {
		t.Errorf("affected = %+v", d.Affected)
	}
}

// TestAPIReportWithCall: a telephony system reports a suspicious call with
// call id, queue and calling number.
func TestAPIReportWithCall(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := setup(t, st)
	ctx := context.Background()
	tok := &identity.Principal{Username: "pbx", TokenID: 3, Role: identity.RoleSecurity, ClientIDs: []int64{f.clientA}}
	r, err := f.svc.Submit(ctx, tok, ReportInput{Channel: desk.ChannelAPI, Category: desk.ChoiceSuspiciousCall, Text: "Caller posed as the bank's IT",
		ReporterEmail: "ana@client.example", Context: map[string]string{"call_id": "C-991", "queue": "cards", "calling_number": "+34 911 22 33 44"}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := f.svc.Report(ctx, f.security, r.ID)
	if got.ReporterPersonID != f.ana.ID || got.ClientID != f.clientA || !hasObs(got.Observables, desk.ObsPhone, "+34911223344") || got.Context["call_id"] != "C-991" {
		t.Errorf("API report = %+v", got)
	}
	if _, err := f.svc.Submit(ctx, tok, ReportInput{Channel: desk.ChannelAPI, Category: desk.ChoiceOther, Text: "x", ClientID: f.clientB}); !errors.Is(err, ErrInvalid) {
		t.Errorf("token scoped to A reports for B: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := setup(t, st)
	ctx := context.Background()
	r1, _ := f.svc.Submit(ctx, f.agentAna, ReportInput{Category: desk.ChoiceMalware, Text: "popup"})
	r2, _ := f.svc.Submit(ctx, f.agentAna, ReportInput{Category: desk.ChoiceOther, Text: "nothing"})
	in, err := f.svc.IncidentFromReport(ctx, f.security, r1.ID, NewIncident{})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.SetStatus(ctx, f.security, in.ID, desk.StatusContained, "", "")
	f.svc.SetStatus(ctx, f.security, in.ID, desk.StatusClosed, desk.OutcomeReal, "")
	f.svc.DismissReport(ctx, f.security, r2.ID, "harmless")
	m, err := f.svc.Metrics(ctx, f.security, 4)
	if err != nil {
		t.Fatal(err)
	}
	if m.Reports != 2 || m.Decided != 2 || m.Real != 0.5 || m.ByChannel[desk.ChannelPortal][3] != 2 || m.Ack.N != 1 || m.Contain.N != 1 || len(m.Weeks) != 4 {
		t.Errorf("metrics = %+v", m)
	}
}

// addPeople registers the addresses as people of the organisation (known
// reporters get e-mail back; strangers do not).
func addPeople(tb testing.TB, st *store.Store, emails []string, client int64) {
	tb.Helper()
	for i, e := range emails {
		p := &org.Person{EmployeeID: fmt.Sprintf("R%03d", i), FullName: "Reporter " + e, Email: e, JobRole: "agent", Active: true, ClientIDs: []int64{client}}
		if err := st.CreatePerson(context.Background(), p); err != nil {
			tb.Fatal(err)
		}
	}
}
