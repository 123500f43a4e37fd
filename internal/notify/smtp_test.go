package notify

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/incident/smtpd"
)

// TestSMTPMailerDelivers sends through Custodia's own SMTP listener (a real
// SMTP server on loopback) and checks what arrived.
func TestSMTPMailerDelivers(t *testing.T) {
	var mu sync.Mutex
	var got []string
	var env smtpd.Envelope
	srv, err := smtpd.New(smtpd.Config{Recipients: []string{"ana@example.com"}, CommandTimeout: 5 * time.Second,
		Handler: func(ctx context.Context, e smtpd.Envelope, raw []byte) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, string(raw))
			env = e
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
		if err := <-done; !errors.Is(err, smtpd.ErrServerClosed) {
			t.Errorf("Serve = %v", err)
		}
	}()
	m := &SMTPMailer{Addr: l.Addr().String(), From: "Custodia <custodia@example.com>"}
	err = m.Send(context.Background(), Message{To: []string{"Ana <ana@example.com>"}, Subject: "Gracias por avisar — ref INC-1",
		Text: "Hola Ana,\nsu aviso fue útil.\n", Headers: map[string]string{"X-Custodia-Ref": "INC-1"}})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("%d messages arrived, want 1", len(got))
	}
	raw := got[0]
	for _, want := range []string{"X-Custodia-Ref: INC-1\r\n", "Subject: =?utf-8?q?", "su aviso fue útil.\r\n", "Content-Type: text/plain; charset=utf-8"} {
		if !strings.Contains(raw, want) {
			t.Errorf("message lacks %q:\n%s", want, raw)
		}
	}
	if env.From != "custodia@example.com" || len(env.To) != 1 || env.To[0] != "ana@example.com" {
		t.Errorf("envelope = %+v", env)
	}
	// A recipient the server refuses is an error, not a silent loss.
	if err := m.Send(context.Background(), Message{To: []string{"bob@example.com"}, Subject: "x", Text: "y"}); err == nil {
		t.Error("a refused recipient was not reported")
	}
	// Header injection is refused before anything is sent.
	if err := m.Send(context.Background(), Message{To: []string{"ana@example.com"}, Subject: "a\r\nBcc: x@example.com", Text: "y"}); err == nil {
		t.Error("a subject with a line break was accepted")
	}
	if err := m.Send(context.Background(), Message{To: []string{"ana@example.com"}, Subject: "s", Text: "y", Headers: map[string]string{"Bcc": "x@example.com"}}); err == nil {
		t.Error("a Bcc header was accepted")
	}
}
