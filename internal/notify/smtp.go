package notify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
)

// SMTPMailer sends e-mail through an SMTP server (a relay such as the
// organization's mail server). It upgrades to TLS with STARTTLS when the
// server offers it, and requires it when RequireTLS is set.
type SMTPMailer struct {
	Addr       string // host:port
	From       string // envelope and header sender
	Username   string // optional AUTH PLAIN (only over TLS)
	Password   string
	RequireTLS bool
	// TLSConfig is used for STARTTLS (nil: verify against the system roots
	// with the host of Addr as server name).
	TLSConfig *tls.Config
	Timeout   time.Duration // per message (default 30 s)
	// Hello is the name given in EHLO (default "localhost").
	Hello string
}

// Send delivers m to every recipient in one SMTP transaction.
func (s *SMTPMailer) Send(ctx context.Context, m Message) error {
	if len(m.To) == 0 {
		return errors.New("smtp: no recipient")
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("smtp: sender %q: %w", s.From, err)
	}
	var rcpts []string
	for _, to := range m.To {
		a, err := mail.ParseAddress(to)
		if err != nil {
			return fmt.Errorf("smtp: recipient %q: %w", to, err)
		}
		rcpts = append(rcpts, a.Address)
	}
	body, err := compose(from.String(), rcpts, m)
	if err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp: connect %s: %w", s.Addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: %w", err)
	}
	defer c.Close()
	hello := s.Hello
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return fmt.Errorf("smtp: EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := s.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("smtp: STARTTLS: %w", err)
		}
	} else if s.RequireTLS {
		return errors.New("smtp: the server does not offer STARTTLS and TLS is required")
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("smtp: AUTH: %w", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return fmt.Errorf("smtp: RCPT TO %s: %w", r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	return c.Quit()
}

// compose renders the message: plain text (and an HTML alternative when
// given), UTF-8, quoted-printable-free 8bit with encoded-word headers.
func compose(from string, to []string, m Message) ([]byte, error) {
	for k, v := range m.Headers {
		if strings.ContainsAny(k+v, "\r\n") || strings.ContainsAny(k, ": ") {
			return nil, fmt.Errorf("smtp: header %q is not allowed", k)
		}
		switch strings.ToLower(k) {
		case "from", "to", "cc", "bcc", "subject", "content-type", "mime-version", "content-transfer-encoding":
			return nil, fmt.Errorf("smtp: header %q is set by the mailer", k)
		}
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, errors.New("smtp: the subject has a line break")
	}
	var b strings.Builder
	b.WriteString("From: " + from + "\r\n")
	b.WriteString("To: " + strings.Join(to, ", ") + "\r\n")
	b.WriteString("Subject: " + mime.QEncoding.Encode("utf-8", m.Subject) + "\r\n")
	b.WriteString("Date: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\n")
	b.WriteString("Message-ID: <" + randomID() + "@custodia>\r\n")
	for k, v := range m.Headers {
		b.WriteString(k + ": " + v + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\n")
	text := normalizeNewlines(m.Text)
	if m.HTML == "" {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
		b.WriteString(text)
		return []byte(b.String()), nil
	}
	boundary := "custodia-" + randomID()
	b.WriteString("Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n")
	b.WriteString("--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(text + "\r\n")
	b.WriteString("--" + boundary + "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(normalizeNewlines(m.HTML) + "\r\n")
	b.WriteString("--" + boundary + "--\r\n")
	return []byte(b.String()), nil
}

func normalizeNewlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
