package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/incident/smtpd"
)

func TestRuleMatch(t *testing.T) {
	e := Event{Kind: "clock.warning", Severity: "high", Category: "phishing", ClientIDs: []int64{7}}
	tests := []struct {
		name string
		r    Rule
		want bool
	}{
		{"empty rule", Rule{}, true},
		{"kind", Rule{Kinds: []string{"clock.warning"}}, true},
		{"other kind", Rule{Kinds: []string{"incident.created"}}, false},
		{"severity at minimum", Rule{MinSeverity: "high"}, true},
		{"severity below minimum", Rule{MinSeverity: "critical"}, false},
		{"category", Rule{Categories: []string{"malware", "phishing"}}, true},
		{"other category", Rule{Categories: []string{"malware"}}, false},
		{"client", Rule{ClientIDs: []int64{3, 7}}, true},
		{"other client", Rule{ClientIDs: []int64{3}}, false},
	}
	for _, tt := range tests {
		if got := tt.r.Match(e); got != tt.want {
			t.Errorf("%s: Match = %v, want %v", tt.name, got, tt.want)
		}
	}
	if (Rule{ClientIDs: []int64{3}}).Match(Event{Kind: "x"}) {
		t.Error("a client-limited rule matched an operator-wide event")
	}
}

func TestSignVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"kind":"x"}`)
	h := Sign("s3cret-s3cret-s3cret", now, body)
	if err := Verify("s3cret-s3cret-s3cret", h, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	for name, err := range map[string]error{
		"other secret":  Verify("another-secret-value", h, body, now, 5*time.Minute),
		"changed body":  Verify("s3cret-s3cret-s3cret", h, []byte(`{"kind":"y"}`), now, 5*time.Minute),
		"replayed late": Verify("s3cret-s3cret-s3cret", h, body, now.Add(time.Hour), 5*time.Minute),
		"garbage":       Verify("s3cret-s3cret-s3cret", "t=x,v1=", body, now, 5*time.Minute),
	} {
		if !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: Verify = %v, want ErrBadSignature", name, err)
		}
	}
}

func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add(Sign("k", now, []byte("b")), []byte("b"))
	f.Add("t=1,v1=00", []byte{})
	f.Add(",,=,t==,v1", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		_ = Verify("k", header, body, now, time.Minute) // must not panic
	})
}

func TestValidateTarget(t *testing.T) {
	ok := []Target{
		{Kind: KindEmail, Address: "soc@example.com, Ana <ana@example.com>"},
		{Kind: KindWebhook, Address: "https://siem.example/hook", Secret: "0123456789abcdef"},
		{Kind: KindSlack, Address: "https://hooks.slack.com/services/T/B/X"},
		{Kind: KindTeams, Address: "https://prod.westeurope.logic.azure.com/workflows/abc"},
	}
	for _, tg := range ok {
		if err := ValidateTarget(tg); err != nil {
			t.Errorf("ValidateTarget(%+v) = %v", tg, err)
		}
	}
	bad := []Target{
		{Kind: KindEmail, Address: ""},
		{Kind: KindEmail, Address: "not an address"},
		{Kind: KindWebhook, Address: "https://siem.example/hook", Secret: "short"},
		{Kind: KindSlack, Address: "http://hooks.slack.com/services/x"},
		{Kind: KindWebhook, Address: "http://127.0.0.1:9000/hook", Secret: "0123456789abcdef"},
		{Kind: KindSlack, Address: "ftp://x"},
		{Kind: KindTeams, Address: "https://user:pw@example.com/x"},
		{Kind: "pager", Address: "x"},
	}
	for _, tg := range bad {
		if err := ValidateTarget(tg); err == nil {
			t.Errorf("ValidateTarget(%+v) accepted", tg)
		}
	}
}

// receiver is a real HTTP server that records the requests it gets.
type receiver struct {
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
	status int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.bodies = append(rc.bodies, b)
	rc.heads = append(rc.heads, r.Header.Clone())
	st := rc.status
	rc.mu.Unlock()
	if st == 0 {
		st = http.StatusOK
	}
	w.WriteHeader(st)
}

func TestSenderWebhookSlackTeams(t *testing.T) {
	rc := &receiver{}
	srv := httptest.NewTLSServer(rc)
	defer srv.Close()
	s := &Sender{HTTP: srv.Client()}
	e := Event{Kind: "breach.flagged", Severity: "high", Ref: "INC-2026-000001", Title: "Personal-data breach flagged", Summary: "GDPR clocks started",
		Details: "Customer list e-mailed to a wrong address", URL: "https://custodia.example/incidents/1", At: time.Now()}
	secret := "a-long-signing-secret"
	if err := s.Send(context.Background(), Target{Kind: KindWebhook, Address: srv.URL + "/hook", Secret: secret}, e); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Target{Kind: KindSlack, Address: srv.URL + "/slack"}, Limit(e, SensitivitySummary)); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Target{Kind: KindTeams, Address: srv.URL + "/teams"}, e); err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bodies) != 3 {
		t.Fatalf("%d requests", len(rc.bodies))
	}
	// The webhook receiver verifies the signature.
	if err := Verify(secret, rc.heads[0].Get(SignatureHeader), rc.bodies[0], time.Now(), time.Minute); err != nil {
		t.Errorf("webhook signature: %v", err)
	}
	var wb WebhookBody
	if err := json.Unmarshal(rc.bodies[0], &wb); err != nil || wb.Ref != "INC-2026-000001" || wb.Details == "" {
		t.Errorf("webhook body = %s (%v)", rc.bodies[0], err)
	}
	var slack struct {
		Text   string           `json:"text"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(rc.bodies[1], &slack); err != nil || len(slack.Blocks) < 2 || !strings.Contains(slack.Text, "INC-2026-000001") {
		t.Errorf("slack body = %s (%v)", rc.bodies[1], err)
	}
	if strings.Contains(string(rc.bodies[1]), "wrong address") {
		t.Error("a summary-only Slack message carried the details")
	}
	if !strings.Contains(string(rc.bodies[2]), "application/vnd.microsoft.card.adaptive") || !strings.Contains(string(rc.bodies[2]), "AdaptiveCard") {
		t.Errorf("teams body = %s", rc.bodies[2])
	}
	// A failing receiver is an error naming the host, never the path (a
	// Slack URL path is a credential).
	rc.status = http.StatusInternalServerError
	rc.mu.Unlock()
	err := s.Send(context.Background(), Target{Kind: KindSlack, Address: srv.URL + "/services/SECRET"}, e)
	rc.mu.Lock()
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("failing send = %v", err)
	}
}

func TestSenderEmail(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv, err := smtpd.New(smtpd.Config{Recipients: []string{"soc@example.com"}, CommandTimeout: 5 * time.Second,
		Handler: func(ctx context.Context, e smtpd.Envelope, raw []byte) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, string(raw))
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}()
	s := &Sender{Mailer: &SMTPMailer{Addr: l.Addr().String(), From: "custodia@example.com"}}
	e := Event{Kind: "clock.warning", Ref: "INC-7", Title: "Clock 75%: GDPR Art. 33(1) → AEPD", Summary: "18h left", Details: "secret details"}
	if err := s.Send(context.Background(), Target{Kind: KindEmail, Address: "soc@example.com"}, Limit(e, SensitivitySummary)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || !strings.Contains(got[0], "18h left") || strings.Contains(got[0], "secret details") || !strings.Contains(got[0], "INC-7") {
		t.Errorf("mail = %q", got)
	}
}
