package parse

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/detect/event"
)

var facilityNames = [...]string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}

var severityNames = [...]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// parseSyslog parses an RFC 5424 or RFC 3164 message, tolerating the usual
// deviations (no PRI, no hostname, ISO timestamps, missing year). A CEF,
// LEEF or key=value payload is parsed into the same event.
func (p *Parser) parseSyslog(line string, e *event.Event) error {
	s := line
	if strings.HasPrefix(s, "<") {
		end := strings.IndexByte(s, '>')
		if end < 2 || end > 4 {
			return fmt.Errorf("syslog: bad PRI")
		}
		pri, err := strconv.Atoi(s[1:end])
		if err != nil || pri > 191 {
			return fmt.Errorf("syslog: bad PRI %q", s[1:end])
		}
		e.Add("syslog.priority", s[1:end], event.Number)
		e.Add("syslog.facility", facilityNames[pri/8], event.String)
		e.Add("syslog.severity", severityNames[pri%8], event.String)
		s = s[end+1:]
	}
	if len(s) >= 2 && s[0] >= '1' && s[0] <= '9' && s[1] == ' ' {
		return p.parse5424(s[2:], e)
	}
	return p.parse3164(s, e)
}

// nextToken splits s at the first space.
func nextToken(s string) (tok, rest string) {
	i := strings.IndexByte(s, ' ')
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i+1:]
}

func nilDash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

func (p *Parser) parse5424(s string, e *event.Event) error {
	ts, s := nextToken(s)
	host, s := nextToken(s)
	app, s := nextToken(s)
	procid, s := nextToken(s)
	msgid, s := nextToken(s)
	if ts == "" || msgid == "" && s == "" {
		return fmt.Errorf("syslog: truncated RFC 5424 header")
	}
	if ts != "-" {
		t, ok := parseTimestamp(ts)
		if !ok {
			return fmt.Errorf("syslog: bad RFC 5424 timestamp %q", ts)
		}
		e.Time = t
		e.Add("syslog.timestamp", ts, event.String)
	}
	addNonEmpty(e, "syslog.hostname", nilDash(host))
	addNonEmpty(e, "syslog.appname", nilDash(app))
	addNonEmpty(e, "syslog.procid", nilDash(procid))
	addNonEmpty(e, "syslog.msgid", nilDash(msgid))
	// Structured data.
	if strings.HasPrefix(s, "-") {
		s = strings.TrimPrefix(s[1:], " ")
	} else {
		for strings.HasPrefix(s, "[") {
			rest, err := parseSDElement(s, e)
			if err != nil {
				return err
			}
			s = rest
		}
		s = strings.TrimPrefix(s, " ")
	}
	s = strings.TrimPrefix(s, "\ufeff")
	return p.payload(s, e)
}

// parseSDElement parses one [id k="v" ...] element and returns the rest.
func parseSDElement(s string, e *event.Event) (string, error) {
	i := 1
	for i < len(s) && s[i] != ' ' && s[i] != ']' {
		i++
	}
	if i >= len(s) {
		return "", fmt.Errorf("syslog: unterminated structured data")
	}
	id := s[1:i]
	for i < len(s) {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i < len(s) && s[i] == ']' {
			return s[i+1:], nil
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 || i+eq+1 >= len(s) || s[i+eq+1] != '"' {
			return "", fmt.Errorf("syslog: bad structured data parameter in [%s]", id)
		}
		name := s[i : i+eq]
		j := i + eq + 2
		var b []byte
		start := j
		for ; j < len(s); j++ {
			c := s[j]
			if c == '\\' && j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\\' || s[j+1] == ']') {
				if b == nil {
					b = append([]byte{}, s[start:j]...)
				}
				b = append(b, s[j+1])
				j++
				continue
			}
			if c == '"' {
				break
			}
			if b != nil {
				b = append(b, c)
			}
		}
		if j >= len(s) {
			return "", fmt.Errorf("syslog: unterminated value in [%s]", id)
		}
		val := s[start:j]
		if b != nil {
			val = string(b)
		}
		if len(e.Fields) >= maxFields {
			return "", errTooManyFields
		}
		e.Add(id+"."+name, val, event.String)
		e.Set(name, val, event.String)
		i = j + 1
	}
	return "", fmt.Errorf("syslog: unterminated structured data")
}

var months = map[string]time.Month{"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
	"Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}

func (p *Parser) parse3164(s string, e *event.Event) error {
	// Timestamp: "Mmm dd hh:mm:ss" (optionally with a year or
	// milliseconds) or an ISO 8601 timestamp.
	var ts string
	switch {
	case len(s) >= 15 && months[s[:3]] != 0 && s[3] == ' ':
		ts = s[:15]
		mon, day, hh, mm, ss, ok := fastStamp(ts)
		if !ok {
			return fmt.Errorf("syslog: bad RFC 3164 timestamp %q", ts)
		}
		t := time.Date(2000, mon, day, hh, mm, ss, 0, time.UTC) // year set below
		rest := s[15:]
		if strings.HasPrefix(rest, ".") { // fractional seconds
			j := 1
			for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
				j++
			}
			rest = rest[j:]
		}
		year := 0
		if len(rest) >= 5 && rest[0] == ' ' && isDigits(rest[1:5]) && (len(rest) == 5 || rest[5] == ' ') {
			year, _ = strconv.Atoi(rest[1:5])
			rest = rest[5:]
		}
		t = p.withYear(t, year)
		e.Time = t
		e.Add("syslog.timestamp", ts, event.String)
		s = strings.TrimPrefix(rest, " ")
	case len(s) >= 10 && isDigits(s[:4]) && s[4] == '-':
		tok, rest := nextToken(s)
		t, ok := parseTimestamp(tok)
		if !ok {
			return fmt.Errorf("syslog: bad timestamp %q", tok)
		}
		e.Time = t
		e.Add("syslog.timestamp", tok, event.String)
		s = rest
	default:
		// Devices such as FortiGate send key=value right after the PRI.
		return p.payload(s, e)
	}
	// Hostname, unless the next token is already the tag ("app:" or "app[pid]:").
	tok, rest := nextToken(s)
	if tok != "" && !strings.HasSuffix(tok, ":") && !strings.Contains(tok, "[") && !strings.HasPrefix(s, "CEF:") && !strings.HasPrefix(s, "LEEF:") && !strings.Contains(tok, "=") {
		e.Add("syslog.hostname", tok, event.String)
		s = rest
	}
	// Tag.
	if !strings.HasPrefix(s, "CEF:") && !strings.HasPrefix(s, "LEEF:") {
		tok, rest = nextToken(s)
		if strings.HasSuffix(tok, ":") && !strings.Contains(tok, "=") {
			tag := strings.TrimSuffix(tok, ":")
			if i := strings.IndexByte(tag, '['); i > 0 && strings.HasSuffix(tag, "]") {
				e.Add("syslog.procid", tag[i+1:len(tag)-1], event.String)
				tag = tag[:i]
			}
			e.Add("syslog.appname", tag, event.String)
			s = rest
		}
	}
	return p.payload(s, e)
}

// withYear completes a year-less timestamp: with the given year if any,
// else the reference year, stepping back a year if that lands more than a
// month in the future (December logs read in January).
func (p *Parser) withYear(t time.Time, year int) time.Time {
	if year == 0 {
		ref := p.now()
		year = ref.Year()
		c := time.Date(year, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		if c.After(ref.AddDate(0, 1, 0)) {
			return c.AddDate(-1, 0, 0)
		}
		return c
	}
	return time.Date(year, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func addNonEmpty(e *event.Event, name, v string) {
	if v != "" {
		e.Add(name, v, event.String)
	}
}

// payload stores the syslog message and parses CEF, LEEF or key=value
// content inside it.
func (p *Parser) payload(msg string, e *event.Event) error {
	e.Add("message", msg, event.String)
	switch {
	case strings.HasPrefix(msg, "CEF:"):
		e.Format = "cef"
		return parseCEF(msg, e)
	case strings.HasPrefix(msg, "LEEF:"):
		e.Format = "leef"
		return parseLEEF(msg, e)
	case looksKV(msg):
		e.Format = "kv"
		return parseKV(msg, e)
	}
	return nil
}

// parseTimestamp parses RFC 3339 and close variants.
func parseTimestamp(s string) (time.Time, bool) {
	if t, ok := fastRFC3339(s); ok {
		return t, true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
