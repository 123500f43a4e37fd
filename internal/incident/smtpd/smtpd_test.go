package smtpd

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/smtp"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/incident/mailparse"
)

const reportAddr = "phishing@custodia.example"

// store is a fake message store beside its consumer.
type store struct {
	mu   sync.Mutex
	msgs []stored
	fail bool
}

type stored struct {
	env Envelope
	raw []byte
}

func (s *store) handle(_ context.Context, env Envelope, raw []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("disk full")
	}
	s.msgs = append(s.msgs, stored{env, append([]byte(nil), raw...)})
	return nil
}

func (s *store) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// startServer runs a server on 127.0.0.1:0 and stops it at cleanup.
func startServer(tb testing.TB, cfg Config) (*Server, string, *store) {
	tb.Helper()
	st := &store{}
	if cfg.Handler == nil {
		cfg.Handler = st.handle
	}
	if cfg.Recipients == nil {
		cfg.Recipients = []string{reportAddr}
	}
	if cfg.CommandTimeout == 0 {
		cfg.CommandTimeout = 5 * time.Second
	}
	srv, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("Shutdown = %v", err)
		}
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			tb.Errorf("Serve = %v, want ErrServerClosed", err)
		}
	})
	return srv, l.Addr().String(), st
}

const innerEML = "Return-Path: <bounce@bulk.example>\r\n" +
	"Received: from mail.bulk.example (mail.bulk.example [198.51.100.7]) by mx.client.example with ESMTPS; Tue, 24 Nov 2026 09:15:02 +0000\r\n" +
	"Authentication-Results: mx.client.example; spf=fail smtp.mailfrom=bulk.example; dkim=none; dmarc=fail header.from=bank.example\r\n" +
	"From: Bank <alerts@bank.example>\r\n" +
	"Reply-To: help@desk-bank.example\r\n" +
	"To: ana@client.example\r\n" +
	"Subject: Verify your account\r\n" +
	"Content-Type: text/html\r\n" +
	"\r\n" +
	"<p>.Leading dot line</p>\r\n" +
	"<a href=\"https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fbank-verify.example%2Flogin&data=1\">Log in</a>\r\n"

const forwarded = "From: ana@client.example\r\n" +
	"To: " + reportAddr + "\r\n" +
	"Subject: Phishing report\r\n" +
	"Content-Type: multipart/mixed; boundary=\"r1\"\r\n" +
	"\r\n" +
	"--r1\r\n" +
	"Content-Type: text/plain\r\n" +
	"\r\n" +
	"Reported by the add-in.\r\n" +
	"--r1\r\n" +
	"Content-Type: message/rfc822\r\n" +
	"Content-Disposition: attachment; filename=\"original.eml\"\r\n" +
	"\r\n" +
	innerEML +
	"--r1--\r\n"

func TestEndToEndReport(t *testing.T) {
	_, addr, st := startServer(t, Config{})
	if err := smtp.SendMail(addr, nil, "ana@client.example", []string{reportAddr}, []byte(forwarded)); err != nil {
		t.Fatalf("SendMail = %v", err)
	}
	if st.count() != 1 {
		t.Fatalf("stored %d messages, want 1", st.count())
	}
	msg := st.msgs[0]
	if msg.env.ID == "" || msg.env.From != "ana@client.example" || !slices.Equal(msg.env.To, []string{reportAddr}) || msg.env.ClientIP != "127.0.0.1" {
		t.Errorf("Envelope = %+v", msg.env)
	}
	res := mailparse.ParseBytes(msg.raw, mailparse.Limits{})
	if res.Source != mailparse.SourceAttachment {
		t.Fatalf("Source = %v, want attachment (flags %v)", res.Source, res.Flags)
	}
	m := res.Reported
	if m.Subject != "Verify your account" || m.Verdicts.DMARC != "fail" {
		t.Errorf("Reported = subject %q verdicts %+v", m.Subject, m.Verdicts)
	}
	if !strings.Contains(m.HTML, "<p>.Leading dot line</p>") {
		t.Errorf("dot-stuffing not undone: %q", m.HTML)
	}
	obs := m.Observables
	if !slices.Contains(obs.URLs, "https://bank-verify.example/login") || !slices.Contains(obs.IPs, "198.51.100.7") || !slices.Contains(obs.Emails, "help@desk-bank.example") {
		t.Errorf("Observables = %+v", obs)
	}
	if !m.HasFinding("reply_to_mismatch") {
		t.Errorf("Findings = %+v", m.Findings)
	}
	if !strings.HasPrefix(string(msg.raw), "Received: from ") {
		t.Errorf("no trace header: %q", string(msg.raw[:40]))
	}
}

// dial opens a raw textproto session and reads the greeting.
func dial(t *testing.T, addr string) *textproto.Conn {
	t.Helper()
	c, err := textproto.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, _, err := c.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	return c
}

// cmd sends a command and returns the reply code and message.
func cmd(t *testing.T, c *textproto.Conn, format string, args ...any) (int, string) {
	t.Helper()
	id, err := c.Cmd(format, args...)
	if err != nil {
		t.Fatal(err)
	}
	c.StartResponse(id)
	defer c.EndResponse(id)
	code, msg, _ := c.ReadResponse(0)
	return code, msg
}

func TestRecipientsAndRelay(t *testing.T) {
	_, addr, st := startServer(t, Config{})
	c := dial(t, addr)
	steps := []struct {
		cmd  string
		code int
	}{
		{"RCPT TO:<" + reportAddr + ">", 503},
		{"MAIL FROM:<x@y.example>", 503},
		{"EHLO client.example", 250},
		{"DATA", 503},
		{"MAIL FROM:<attacker@evil.example>", 250},
		{"MAIL FROM:<again@evil.example>", 503},
		{"RCPT TO:<someone@gmail.example>", 550},
		{"RCPT TO:<@relay.example:" + reportAddr + ">", 550},
		{"RCPT TO:<phishing%victim.example@custodia.example>", 550},
		{"RCPT TO:<other@custodia.example>", 550},
		{"DATA", 554},
		{"RCPT TO:<PHISHING@Custodia.Example>", 250},
		{"NOOP", 250},
		{"VRFY root", 252},
		{"HELP", 502},
		{"RSET", 250},
		{"DATA", 503},
		{"QUIT", 221},
	}
	for _, s := range steps {
		if code, msg := cmd(t, c, "%s", s.cmd); code != s.code {
			t.Errorf("%s = %d %s, want %d", s.cmd, code, msg, s.code)
		}
	}
	if st.count() != 0 {
		t.Errorf("stored %d messages, want 0", st.count())
	}
	// net/smtp sees the refusal as an error too.
	err := smtp.SendMail(addr, nil, "a@b.example", []string{"victim@elsewhere.example"}, []byte("Subject: x\r\n\r\nx\r\n"))
	var perr *textproto.Error
	if !errors.As(err, &perr) || perr.Code != 550 {
		t.Errorf("relay SendMail = %v, want 550", err)
	}
}

func TestSizeLimits(t *testing.T) {
	_, addr, st := startServer(t, Config{MaxMessageBytes: 2000, MaxLineLength: 200})
	c := dial(t, addr)
	_, ehlo := cmd(t, c, "EHLO c.example")
	if !strings.Contains(ehlo, "SIZE 2000") {
		t.Errorf("EHLO = %q, want SIZE 2000 advertised", ehlo)
	}
	if code, _ := cmd(t, c, "MAIL FROM:<a@b.example> SIZE=5000"); code != 552 {
		t.Errorf("MAIL SIZE=5000 = %d, want 552", code)
	}
	if code, _ := cmd(t, c, "NOOP %s", strings.Repeat("x", 500)); code != 500 {
		t.Errorf("long command = %d, want 500", code)
	}
	// Declared small, sent big.
	err := smtp.SendMail(addr, nil, "a@b.example", []string{reportAddr}, []byte("Subject: big\r\n\r\n"+strings.Repeat("0123456789\r\n", 300)))
	var perr *textproto.Error
	if !errors.As(err, &perr) || perr.Code != 552 {
		t.Errorf("oversized SendMail = %v, want 552", err)
	}
	err = smtp.SendMail(addr, nil, "a@b.example", []string{reportAddr}, []byte("Subject: long\r\n\r\n"+strings.Repeat("y", 300)+"\r\n"))
	if !errors.As(err, &perr) || perr.Code != 500 {
		t.Errorf("long data line SendMail = %v, want 500", err)
	}
	if st.count() != 0 {
		t.Errorf("stored %d messages, want 0", st.count())
	}
}

func TestRateLimit(t *testing.T) {
	t.Run("per sender", func(t *testing.T) {
		_, addr, st := startServer(t, Config{SenderRate: 0.001, SenderBurst: 3})
		var codes []int
		for i := range 5 {
			err := smtp.SendMail(addr, nil, "flood@spam.example", []string{reportAddr}, []byte(fmt.Sprintf("Subject: %d\r\n\r\nx\r\n", i)))
			var perr *textproto.Error
			switch {
			case err == nil:
				codes = append(codes, 250)
			case errors.As(err, &perr):
				codes = append(codes, perr.Code)
				if !strings.Contains(perr.Msg, "rate limit") {
					t.Errorf("reply %q does not say why", perr.Msg)
				}
			default:
				t.Fatal(err)
			}
		}
		if !slices.Equal(codes, []int{250, 250, 250, 451, 451}) || st.count() != 3 {
			t.Errorf("codes = %v, stored %d; want 3 accepted then 451", codes, st.count())
		}
		// Another sender from the same IP still gets through.
		if err := smtp.SendMail(addr, nil, "other@ok.example", []string{reportAddr}, []byte("Subject: ok\r\n\r\nx\r\n")); err != nil {
			t.Errorf("other sender = %v", err)
		}
	})
	t.Run("per ip", func(t *testing.T) {
		_, addr, _ := startServer(t, Config{IPRate: 0.001, IPBurst: 2})
		var failed int
		for i := range 4 {
			if err := smtp.SendMail(addr, nil, fmt.Sprintf("u%d@x.example", i), []string{reportAddr}, []byte("Subject: x\r\n\r\nx\r\n")); err != nil {
				failed++
			}
		}
		if failed != 2 {
			t.Errorf("%d of 4 refused, want 2", failed)
		}
	})
}

func TestHandlerFailureGives451(t *testing.T) {
	st := &store{fail: true}
	_, addr, _ := startServer(t, Config{Handler: st.handle})
	err := smtp.SendMail(addr, nil, "a@b.example", []string{reportAddr}, []byte("Subject: x\r\n\r\nx\r\n"))
	var perr *textproto.Error
	if !errors.As(err, &perr) || perr.Code != 451 {
		t.Errorf("SendMail = %v, want 451", err)
	}
}

func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func TestStartTLS(t *testing.T) {
	cfg := selfSigned(t)
	_, addr, st := startServer(t, Config{TLSConfig: cfg})
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not advertised")
	}
	pool := x509.NewCertPool()
	cert, _ := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	pool.AddCert(cert)
	if err := c.StartTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}); err != nil {
		t.Fatalf("StartTLS = %v", err)
	}
	if err := c.Mail("a@b.example"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(reportAddr); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, "Subject: tls\r\n\r\nhello\r\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	if st.count() != 1 || !st.msgs[0].env.TLS {
		t.Errorf("stored %d, TLS = %v; want 1 over TLS", st.count(), st.count() == 1 && st.msgs[0].env.TLS)
	}
}

func TestShutdownIdleSession(t *testing.T) {
	st := &store{}
	srv, err := New(Config{Recipients: []string{reportAddr}, Handler: st.handle})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	c := dial(t, l.Addr().String())
	cmd(t, c, "EHLO x.example")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if code, _, _ := c.ReadResponse(0); code != 421 {
		t.Errorf("idle session got %d on shutdown, want 421", code)
	}
}

func TestNew(t *testing.T) {
	h := func(context.Context, Envelope, []byte) error { return nil }
	for _, cfg := range []Config{{Handler: h}, {Recipients: []string{"a@b.example"}}, {Recipients: []string{"not an address"}, Handler: h}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) = nil error", cfg)
		}
	}
}

func FuzzSession(f *testing.F) {
	f.Add([]byte("EHLO a\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<" + reportAddr + ">\r\nDATA\r\nSubject: x\r\n\r\n..hi\r\n.\r\nQUIT\r\n"))
	f.Add([]byte("HELO a\nMAIL FROM:<> SIZE=10\nRCPT TO:<x@y>\nRCPT TO:<@a:b@c>\nRSET\nNOOP\nSTARTTLS\nDATA\n"))
	f.Add([]byte("EHLO a\r\nMAIL FROM:<a@b> BODY=8BITMIME\r\nRCPT TO:<PHISHING@custodia.example>\r\nDATA\r\n" + strings.Repeat("z", 300) + "\r\n.\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var mu sync.Mutex
		var got []Envelope
		srv, err := New(Config{
			Recipients: []string{reportAddr}, MaxMessageBytes: 1024, MaxLineLength: 128,
			CommandTimeout: 2 * time.Second, DataTimeout: 2 * time.Second,
			Handler: func(_ context.Context, env Envelope, raw []byte) error {
				mu.Lock()
				got = append(got, env)
				mu.Unlock()
				if len(raw) > 1024 {
					return fmt.Errorf("message of %d bytes passed the limit", len(raw))
				}
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		client, server := net.Pipe()
		srv.ServeConn(server)
		readDone := make(chan struct{})
		go func() {
			defer close(readDone)
			r := bufio.NewReader(client)
			for {
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
			}
		}()
		client.SetWriteDeadline(time.Now().Add(2 * time.Second))
		client.Write(in)
		client.Close()
		<-readDone
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Fatalf("session did not end: %v", err)
		}
		for _, env := range got {
			for _, to := range env.To {
				if to != reportAddr {
					t.Fatalf("accepted mail for %q", to)
				}
			}
		}
	})
}

func TestCommandTimeout(t *testing.T) {
	_, addr, _ := startServer(t, Config{CommandTimeout: 200 * time.Millisecond})
	c := dial(t, addr)
	start := time.Now()
	code, msg, _ := c.ReadResponse(0)
	if code != 421 || !strings.Contains(msg, "timeout") {
		t.Errorf("idle client got %d %q, want 421 timeout", code, msg)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

func TestMaxConns(t *testing.T) {
	_, addr, _ := startServer(t, Config{MaxConns: 1})
	dial(t, addr) // holds the only slot
	c, err := textproto.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if code, _, _ := c.ReadResponse(0); code != 421 {
		t.Errorf("second connection got %d, want 421", code)
	}
}
