package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/notify"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// hook is a webhook receiver that verifies every signature, like a real
// consumer, and fails the first `fail` requests.
type hook struct {
	secret string
	mu     sync.Mutex
	fail   int
	got    []notify.WebhookBody
	bad    int
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.secret != "" {
		if err := notify.Verify(h.secret, r.Header.Get(notify.SignatureHeader), b, time.Now(), 5*time.Minute); err != nil {
			h.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	if h.fail > 0 {
		h.fail--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var wb notify.WebhookBody
	_ = json.Unmarshal(b, &wb)
	h.got = append(h.got, wb)
}

type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

func newService(t *testing.T, st *store.Store) (*Service, *testClock) {
	t.Helper()
	keys, err := secret.New(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	s := New(st, keys, &notify.Sender{Now: time.Now}, nil)
	s.Now, s.Backoff, s.MaxBackoff, s.MaxAttempts = clk.now, time.Minute, 10*time.Minute, 3
	return s, clk
}

func TestPublishDeliverRetryDeadLetter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s, clk := newService(t, st)
		details := &hook{secret: "details-secret-0123456789"}
		summary := &hook{secret: "summary-secret-0123456789"}
		broken := &hook{fail: 1000}
		// TLS receivers (channels accept https only); httptest's servers
		// share one certificate, so one client trusts all three.
		srvD, srvS, srvB := httptest.NewTLSServer(details), httptest.NewTLSServer(summary), httptest.NewTLSServer(broken)
		s.Sender.HTTP = srvD.Client()
		defer srvD.Close()
		defer srvS.Close()
		defer srvB.Close()
		mk := func(name, url, sec, sens string, r notify.Rule) int64 {
			ch, err := s.SaveChannel(ctx, 0, ChannelInput{Name: name, Kind: notify.KindWebhook, Address: url, Secret: sec, Sensitivity: sens,
				Kinds: r.Kinds, MinSeverity: r.MinSeverity, ClientIDs: r.ClientIDs})
			if err != nil {
				t.Fatal(err)
			}
			return ch.ID
		}
		mk("siem", srvD.URL, details.secret, notify.SensitivityDetails, notify.Rule{})
		mk("chat", srvS.URL, summary.secret, notify.SensitivitySummary, notify.Rule{MinSeverity: "high"})
		mk("broken", srvB.URL, "broken-secret-0123456789", notify.SensitivitySummary, notify.Rule{Kinds: []string{"breach.flagged"}})
		mk("client 9 only", srvS.URL, summary.secret, notify.SensitivityDetails, notify.Rule{ClientIDs: []int64{9}})

		// The secret and the URL are never stored in clear.
		var raw []byte
		if err := st.QueryRow(ctx, "SELECT target FROM notify_channels WHERE name = 'siem'").Scan(&raw); err != nil || strings.Contains(string(raw), "127.0.0.1") {
			t.Errorf("the target is stored in clear: %q %v", raw, err)
		}

		// Validation.
		if _, err := s.SaveChannel(ctx, 0, ChannelInput{Name: "x", Kind: notify.KindWebhook, Address: "https://a.example/h", Secret: "short"}); err == nil {
			t.Error("a webhook with a short secret was accepted")
		}
		if _, err := s.SaveChannel(ctx, 0, ChannelInput{Name: "siem", Kind: notify.KindSlack, Address: "https://hooks.slack.com/x"}); err == nil {
			t.Error("a duplicate name was accepted")
		}

		e := notify.Event{Kind: "breach.flagged", Severity: "high", Ref: "INC-1", Title: "Personal-data breach flagged", Summary: "clocks started",
			Details: "names and phone numbers of 120 customers", ClientIDs: []int64{1}}
		if err := s.Publish(ctx, e); err != nil {
			t.Fatal(err)
		}
		if err := s.Publish(ctx, notify.Event{Kind: "incident.created", Severity: "low", Title: "low"}); err != nil {
			t.Fatal(err)
		}
		// The summary channel's row holds no details, even sealed.
		all, _ := st.NotifyDeliveries(ctx, "", 100)
		if len(all) != 4 { // breach: siem, chat, broken; low incident: siem
			t.Fatalf("%d deliveries queued, want 4", len(all))
		}
		for _, d := range all {
			b, err := s.Keys.Open(d.Event, []byte("notify_delivery.event"))
			if err != nil {
				t.Fatal(err)
			}
			if d.ChannelName != "siem" && strings.Contains(string(b), "phone numbers") {
				t.Errorf("channel %s's queued event holds the details", d.ChannelName)
			}
		}
		if n, err := s.RunOnce(ctx); err != nil || n != 4 {
			t.Fatalf("RunOnce = %d, %v", n, err)
		}
		if len(details.got) != 2 || details.got[0].Details == "" || details.bad != 0 {
			t.Errorf("details channel got %+v (bad signatures %d)", details.got, details.bad)
		}
		if len(summary.got) != 1 || summary.got[0].Details != "" || summary.got[0].Summary != "clocks started" || summary.bad != 0 {
			t.Errorf("summary channel got %+v", summary.got)
		}
		// The broken channel is retried with backoff, then dead-lettered.
		if n, _ := s.RunOnce(ctx); n != 0 {
			t.Errorf("a retry ran before its backoff (%d)", n)
		}
		clk.t = clk.t.Add(time.Minute)
		if n, _ := s.RunOnce(ctx); n != 1 {
			t.Errorf("retry 1 ran %d", n)
		}
		clk.t = clk.t.Add(2 * time.Minute)
		if n, _ := s.RunOnce(ctx); n != 1 {
			t.Errorf("retry 2 ran %d", n)
		}
		dead, _ := st.NotifyDeliveries(ctx, store.NotifyDead, 10)
		if len(dead) != 1 || dead[0].Attempts != 3 || !strings.Contains(dead[0].LastError, "503") {
			t.Fatalf("dead letters = %+v", dead)
		}
		// Manual retry after the receiver recovers.
		broken.mu.Lock()
		broken.fail = 0
		broken.mu.Unlock()
		if err := s.Retry(ctx, dead[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Retry(ctx, dead[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("retrying a pending delivery = %v", err)
		}
		if n, _ := s.RunOnce(ctx); n != 1 || len(broken.got) != 1 {
			t.Errorf("manual retry: ran %d, received %d", n, len(broken.got))
		}
		// Delivered rows are purged after the retention; others stay.
		n, err := st.NotifyPurgeDelivered(ctx, time.Now().Add(time.Hour))
		if err != nil || n != 4 {
			t.Errorf("purge = %d, %v; want 4 delivered rows", n, err)
		}
		// Test send reports the outcome at once.
		ch, _ := st.NotifyChannels(ctx)
		for _, c := range ch {
			if c.Name == "siem" {
				if err := s.TestSend(ctx, c.ID); err != nil {
					t.Errorf("TestSend = %v", err)
				}
				if !strings.HasSuffix(s.MaskedAddress(&c), "/…") || strings.Contains(s.MaskedAddress(&c), "hook") {
					t.Errorf("MaskedAddress = %q", s.MaskedAddress(&c))
				}
				// Update keeps the secret when none is given.
				active := true
				if _, err := s.SaveChannel(ctx, c.ID, ChannelInput{Name: "siem", Kind: notify.KindWebhook, Sensitivity: notify.SensitivityDetails, Active: &active}); err != nil {
					t.Errorf("update without secret = %v", err)
				}
				if err := s.TestSend(ctx, c.ID); err != nil {
					t.Errorf("TestSend after update = %v", err)
				}
			}
		}
	})
}
