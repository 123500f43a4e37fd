package smtpd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

var errLineTooLong = errors.New("line too long")

type session struct {
	srv  *Server
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	ip   string

	helo string
	tls  bool
	from *string // nil until MAIL
	to   []string

	mu   sync.Mutex // guards idle and the read deadline against Shutdown
	idle bool
}

func newSession(s *Server, c net.Conn) *session {
	ss := &session{srv: s, conn: c}
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ss.ip = ta.IP.String()
	}
	ss.setConn(c)
	return ss
}

func (ss *session) setConn(c net.Conn) {
	ss.conn = c
	ss.br = bufio.NewReaderSize(c, ss.srv.cfg.MaxLineLength+2)
	ss.bw = bufio.NewWriter(c)
}

// wake interrupts a session waiting for a command so it sees Shutdown.
func (ss *session) wake() {
	ss.mu.Lock()
	if ss.idle {
		ss.conn.SetReadDeadline(time.Now())
	}
	ss.mu.Unlock()
}

// closeNow closes the connection from another goroutine.
func (ss *session) closeNow() {
	ss.mu.Lock()
	ss.conn.Close()
	ss.mu.Unlock()
}

func (ss *session) reply(code int, msg string) {
	ss.conn.SetWriteDeadline(time.Now().Add(ss.srv.cfg.CommandTimeout))
	fmt.Fprintf(ss.bw, "%d %s\r\n", code, msg)
	ss.bw.Flush()
}

func (ss *session) replyMulti(code int, lines []string) {
	ss.conn.SetWriteDeadline(time.Now().Add(ss.srv.cfg.CommandTimeout))
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		fmt.Fprintf(ss.bw, "%d%s%s\r\n", code, sep, l)
	}
	ss.bw.Flush()
}

// readLine reads one line without its line ending. A line longer than the
// limit is consumed whole and reported as errLineTooLong.
func (ss *session) readLine() ([]byte, error) {
	line, err := ss.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = ss.br.ReadSlice('\n')
		}
		if err != nil {
			return nil, err
		}
		return nil, errLineTooLong
	}
	if err != nil {
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, nil
}

// run is the session's command loop.
func (ss *session) run() {
	defer func() { ss.closeNow() }() // the TLS conn after STARTTLS
	cfg := ss.srv.cfg
	ss.reply(220, cfg.Hostname+" ESMTP Custodia incident intake")
	for {
		ss.mu.Lock()
		if ss.srv.closing.Load() {
			ss.mu.Unlock()
			ss.reply(421, "4.3.2 "+cfg.Hostname+" shutting down, try again later")
			return
		}
		ss.idle = true
		ss.conn.SetReadDeadline(time.Now().Add(cfg.CommandTimeout))
		ss.mu.Unlock()
		line, err := ss.readLine()
		ss.mu.Lock()
		ss.idle = false
		ss.mu.Unlock()
		if errors.Is(err, errLineTooLong) {
			ss.reply(500, "5.5.2 line too long")
			continue
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if ss.srv.closing.Load() {
					ss.reply(421, "4.3.2 "+cfg.Hostname+" shutting down, try again later")
				} else {
					ss.reply(421, "4.4.2 "+cfg.Hostname+" timeout, closing connection")
				}
			}
			return
		}
		if !ss.command(string(line)) {
			return
		}
	}
}

// command handles one command line and reports whether to go on.
func (ss *session) command(line string) bool {
	verb, arg, _ := strings.Cut(line, " ")
	verb = strings.ToUpper(verb)
	arg = strings.TrimSpace(arg)
	cfg := ss.srv.cfg
	switch verb {
	case "EHLO", "HELO":
		if arg == "" {
			ss.reply(501, "5.5.4 "+verb+" requires a domain")
			return true
		}
		ss.helo = sanitize(arg)
		ss.reset()
		if verb == "HELO" {
			ss.reply(250, cfg.Hostname)
			return true
		}
		ext := []string{cfg.Hostname, "SIZE " + strconv.Itoa(cfg.MaxMessageBytes), "8BITMIME", "ENHANCEDSTATUSCODES"}
		if cfg.TLSConfig != nil && !ss.tls {
			ext = append(ext, "STARTTLS")
		}
		ss.replyMulti(250, ext)
	case "STARTTLS":
		if cfg.TLSConfig == nil || ss.tls {
			ss.reply(502, "5.5.1 STARTTLS not available")
			return true
		}
		if arg != "" {
			ss.reply(501, "5.5.4 STARTTLS takes no argument")
			return true
		}
		if ss.br.Buffered() > 0 {
			// Commands pipelined after STARTTLS would be injected into the
			// TLS session (CVE-2011-0411 class): refuse.
			ss.reply(554, "5.5.1 no commands may follow STARTTLS before the handshake")
			return false
		}
		ss.reply(220, "2.0.0 ready to start TLS")
		tc := tls.Server(ss.conn, cfg.TLSConfig)
		tc.SetDeadline(time.Now().Add(cfg.CommandTimeout))
		if err := tc.Handshake(); err != nil {
			ss.srv.log.Debug("smtpd: tls handshake", "ip", ss.ip, "err", err)
			return false
		}
		tc.SetDeadline(time.Time{})
		ss.mu.Lock()
		ss.setConn(tc)
		ss.mu.Unlock()
		ss.tls = true
		ss.helo = ""
		ss.reset()
	case "MAIL":
		ss.mail(arg)
	case "RCPT":
		ss.rcpt(arg)
	case "DATA":
		if arg != "" {
			ss.reply(501, "5.5.4 DATA takes no argument")
			return true
		}
		return ss.data()
	case "RSET":
		ss.reset()
		ss.reply(250, "2.0.0 OK")
	case "NOOP":
		ss.reply(250, "2.0.0 OK")
	case "VRFY":
		ss.reply(252, "2.5.2 cannot verify, send mail to try")
	case "QUIT":
		ss.reply(221, "2.0.0 bye")
		return false
	default:
		ss.reply(502, "5.5.1 command not implemented")
	}
	return true
}

func (ss *session) reset() {
	ss.from = nil
	ss.to = nil
}

func (ss *session) mail(arg string) {
	cfg := ss.srv.cfg
	if ss.helo == "" {
		ss.reply(503, "5.5.1 send EHLO or HELO first")
		return
	}
	if ss.from != nil {
		ss.reply(503, "5.5.1 nested MAIL command")
		return
	}
	if len(arg) < 5 || !strings.EqualFold(arg[:5], "FROM:") {
		ss.reply(501, "5.5.4 syntax: MAIL FROM:<address>")
		return
	}
	path, params := splitParams(arg[5:])
	addr, ok := parsePath(path)
	if !ok {
		ss.reply(553, "5.1.7 bad sender address syntax")
		return
	}
	for _, p := range params {
		k, v, _ := strings.Cut(p, "=")
		switch strings.ToUpper(k) {
		case "SIZE":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				ss.reply(501, "5.5.4 bad SIZE parameter")
				return
			}
			if n > int64(cfg.MaxMessageBytes) {
				ss.reply(552, fmt.Sprintf("5.3.4 message size exceeds the limit of %d bytes", cfg.MaxMessageBytes))
				return
			}
		case "BODY":
		default:
			ss.reply(555, "5.5.4 unsupported MAIL parameter "+sanitize(k))
			return
		}
	}
	now := time.Now()
	if !ss.srv.ipLimit.allow(ss.ipKey(), now) {
		ss.reply(451, "4.7.1 rate limit exceeded for your address, try again later")
		return
	}
	senderKey := addr
	if senderKey == "" {
		senderKey = "<>"
	}
	if !ss.srv.fromLimit.allow(senderKey, now) {
		ss.reply(451, "4.7.1 rate limit exceeded for this sender, try again later")
		return
	}
	ss.from = &addr
	ss.reply(250, "2.1.0 OK")
}

func (ss *session) ipKey() string {
	if ss.ip == "" {
		return "local"
	}
	return ss.ip
}

func (ss *session) rcpt(arg string) {
	if ss.from == nil {
		ss.reply(503, "5.5.1 send MAIL first")
		return
	}
	if len(arg) < 3 || !strings.EqualFold(arg[:3], "TO:") {
		ss.reply(501, "5.5.4 syntax: RCPT TO:<address>")
		return
	}
	path, params := splitParams(arg[3:])
	if len(params) > 0 {
		ss.reply(555, "5.5.4 RCPT parameters not supported")
		return
	}
	addr, ok := parsePath(path)
	if !ok || addr == "" || !ss.srv.allowRecipient(addr) {
		ss.reply(550, "5.7.1 relaying denied: this server only accepts mail for its report addresses")
		return
	}
	if len(ss.to) >= ss.srv.cfg.MaxRecipients {
		ss.reply(452, "4.5.3 too many recipients")
		return
	}
	for _, t := range ss.to {
		if t == addr {
			ss.reply(250, "2.1.5 OK")
			return
		}
	}
	ss.to = append(ss.to, addr)
	ss.reply(250, "2.1.5 OK")
}

// data reads the message, then hands it to the handler. It reports
// whether the session goes on.
func (ss *session) data() bool {
	cfg := ss.srv.cfg
	if ss.from == nil {
		ss.reply(503, "5.5.1 send MAIL and RCPT first")
		return true
	}
	if len(ss.to) == 0 {
		ss.reply(554, "5.5.1 no valid recipients")
		return true
	}
	ss.reply(354, "end data with <CR><LF>.<CR><LF>")
	deadline := time.Now().Add(cfg.DataTimeout)
	ss.conn.SetReadDeadline(deadline)
	now := time.Now().UTC()
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "Received: from %s (%s) by %s with %s; %s\r\n",
		ss.helo, bracket(ss.ip), cfg.Hostname, ss.protocol(), now.Format(time.RFC1123Z))
	tooBig, longLine := false, false
	for {
		line, err := ss.readLine()
		if errors.Is(err, errLineTooLong) {
			longLine = true
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				ss.reply(421, "4.4.2 timeout or error reading data, closing connection")
			}
			return false
		}
		if len(line) == 1 && line[0] == '.' {
			break
		}
		if len(line) > 0 && line[0] == '.' {
			line = line[1:]
		}
		if buf.Len()+len(line)+2 > cfg.MaxMessageBytes {
			tooBig = true
			continue
		}
		buf.Write(line)
		buf.WriteString("\r\n")
	}
	env := Envelope{ID: ss.srv.nextID(), From: *ss.from, To: append([]string(nil), ss.to...), ClientIP: ss.ip, Helo: ss.helo, TLS: ss.tls, ReceivedAt: now}
	ss.reset()
	switch {
	case tooBig:
		ss.reply(552, fmt.Sprintf("5.3.4 message exceeds the limit of %d bytes", cfg.MaxMessageBytes))
		return true
	case longLine:
		ss.reply(500, fmt.Sprintf("5.5.2 line longer than %d bytes", cfg.MaxLineLength))
		return true
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := ss.srv.cfg.Handler(ctx, env, buf.Bytes()); err != nil {
		ss.srv.log.Warn("smtpd: handler failed", "ip", ss.ip, "from", env.From, "err", err)
		ss.reply(451, "4.3.0 message not stored, try again later")
		return true
	}
	ss.reply(250, "2.0.0 OK queued as "+env.ID)
	return true
}

func (ss *session) protocol() string {
	if ss.tls {
		return "ESMTPS"
	}
	return "ESMTP"
}

func bracket(ip string) string {
	if ip == "" {
		return "unknown"
	}
	return "[" + ip + "]"
}

// splitParams splits "<path> KEY=V KEY2=V2" into the path and parameters.
func splitParams(s string) (string, []string) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<") {
		if end := strings.IndexByte(s, '>'); end >= 0 {
			return s[:end+1], strings.Fields(s[end+1:])
		}
	}
	f := strings.Fields(s)
	if len(f) == 0 {
		return "", nil
	}
	return f[0], f[1:]
}

// sanitize keeps client-supplied text printable for replies and headers.
func sanitize(s string) string {
	if len(s) > 255 {
		s = s[:255]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return '_'
		}
		return r
	}, s)
}
