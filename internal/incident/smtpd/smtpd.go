// Package smtpd is a minimal SMTP listener (an RFC 5321 subset) that
// accepts reported e-mails for a fixed set of recipient addresses and
// hands each message to a callback before acknowledging it. It never
// relays.
package smtpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Envelope is the SMTP envelope of an accepted message.
type Envelope struct {
	ID         string   // queue ID, also given to the client in the 250 reply
	From       string   // MAIL FROM address, "" for the null sender
	To         []string // accepted RCPT TO addresses, lower-cased
	ClientIP   string   // "" when the connection is not TCP
	Helo       string
	TLS        bool
	ReceivedAt time.Time
}

// Handler stores an accepted message. It runs before the client gets 250;
// an error makes the server answer 451 so the client retries and nothing
// is lost.
type Handler func(ctx context.Context, env Envelope, raw []byte) error

// Config configures a Server. Zero fields take the defaults noted.
type Config struct {
	Hostname        string   // announced in the greeting; "localhost"
	Recipients      []string // addresses accepted in RCPT TO (case-insensitive); required
	MaxMessageBytes int      // advertised with SIZE and enforced; 25 MiB
	MaxRecipients   int      // per message; 50
	MaxLineLength   int      // command and data lines, without CRLF; 4096
	MaxConns        int      // concurrent sessions; 100
	CommandTimeout  time.Duration
	DataTimeout     time.Duration // for the whole DATA phase and the handler; 5 min
	TLSConfig       *tls.Config   // enables STARTTLS when set

	// Token buckets: messages per second and burst, per client IP and per
	// MAIL FROM sender. A zero rate disables that limit.
	IPRate, SenderRate   float64
	IPBurst, SenderBurst int

	Handler Handler
	Logger  *slog.Logger
}

// Server is an SMTP listener. Create it with New.
type Server struct {
	cfg        Config
	recipients map[string]bool
	ipLimit    *limiter
	fromLimit  *limiter
	log        *slog.Logger

	mu       sync.Mutex
	listener net.Listener
	sessions map[*session]struct{}
	closing  atomic.Bool
	wg       sync.WaitGroup
	seq      atomic.Uint64
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("smtpd: server closed")

// New validates cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Handler == nil {
		return nil, errors.New("smtpd: handler is required")
	}
	if len(cfg.Recipients) == 0 {
		return nil, errors.New("smtpd: at least one recipient address is required")
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 25 << 20
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = 50
	}
	if cfg.MaxLineLength <= 0 {
		cfg.MaxLineLength = 4096
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 100
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = 5 * time.Minute
	}
	if cfg.DataTimeout <= 0 {
		cfg.DataTimeout = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:        cfg,
		recipients: map[string]bool{},
		ipLimit:    newLimiter(cfg.IPRate, cfg.IPBurst),
		fromLimit:  newLimiter(cfg.SenderRate, cfg.SenderBurst),
		log:        cfg.Logger,
		sessions:   map[*session]struct{}{},
	}
	for _, r := range cfg.Recipients {
		a, ok := parsePath(r)
		if !ok || a == "" {
			return nil, fmt.Errorf("smtpd: invalid recipient address %q", r)
		}
		s.recipients[a] = true
	}
	return s, nil
}

// Serve accepts connections on l until Shutdown. It always returns a
// non-nil error: ErrServerClosed after Shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listener = l
	s.mu.Unlock()
	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("smtpd: accept: %w", err)
		}
		backoff = 0
		s.ServeConn(c)
	}
}

// ServeConn runs one SMTP session on c in a new goroutine. The session is
// stopped by Shutdown like any other.
func (s *Server) ServeConn(c net.Conn) {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		c.Close()
		return
	}
	if len(s.sessions) >= s.cfg.MaxConns {
		s.mu.Unlock()
		c.SetWriteDeadline(time.Now().Add(time.Second))
		fmt.Fprintf(c, "421 4.7.0 %s too many connections, try again later\r\n", s.cfg.Hostname)
		c.Close()
		return
	}
	ss := newSession(s, c)
	s.sessions[ss] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		ss.run()
		s.mu.Lock()
		delete(s.sessions, ss)
		s.mu.Unlock()
	}()
}

// Shutdown stops accepting connections, lets each session finish the
// command (or message) in progress, answers 421 to idle ones and waits for
// all of them. When ctx ends first, remaining connections are closed and
// ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing.Store(true)
	if s.listener != nil {
		s.listener.Close()
	}
	for ss := range s.sessions {
		ss.wake()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for ss := range s.sessions {
			ss.closeNow()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

// allowRecipient reports whether addr is one of the configured addresses.
func (s *Server) allowRecipient(addr string) bool { return s.recipients[addr] }

func (s *Server) nextID() string {
	return fmt.Sprintf("%x-%d", time.Now().UnixNano(), s.seq.Add(1))
}

// parsePath extracts the address from "<addr>" or "addr" (lower-cased).
// Source routes ("<@a,@b:user@c>") and addresses with '%' or '!' relaying
// hacks are refused.
func parsePath(p string) (string, bool) {
	p = strings.TrimSpace(p)
	if strings.HasPrefix(p, "<") {
		end := strings.IndexByte(p, '>')
		if end < 0 {
			return "", false
		}
		p = p[1:end]
	}
	if p == "" {
		return "", true // null reverse-path
	}
	if strings.HasPrefix(p, "@") || strings.ContainsAny(p, "%! \t<>\\\"(),;:") {
		return "", false
	}
	at := strings.LastIndexByte(p, '@')
	if at <= 0 || at == len(p)-1 || strings.Count(p, "@") != 1 || len(p) > 254 {
		return "", false
	}
	return strings.ToLower(p), true
}
