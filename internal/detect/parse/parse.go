// Package parse turns log records into events: syslog (RFC 3164 and RFC
// 5424, newline or octet-count framed), CEF, LEEF 1.0/2.0, JSON lines
// (generic, Windows evtx-to-JSON, Suricata eve.json), key=value lines and
// plain text. Parsers work on one record at a time and never stop a
// stream: a record that does not parse yields an error saying why.
package parse

import (
	"fmt"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/detect/event"
)

// Format names an input format.
type Format string

// Input formats. Auto picks one per record.
const (
	Auto     Format = "auto"
	Syslog   Format = "syslog"
	CEF      Format = "cef"
	LEEF     Format = "leef"
	JSON     Format = "json"
	EvtxJSON Format = "evtx-json"
	KV       Format = "kv"
	Text     Format = "text"
)

// ParseFormat validates a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Auto, Syslog, CEF, LEEF, JSON, EvtxJSON, KV, Text:
		return f, nil
	case "":
		return Auto, nil
	}
	return "", fmt.Errorf("unknown input format %q (want auto, syslog, cef, leef, json, evtx-json, kv or text)", s)
}

// MaxFieldLen bounds one field value; longer values are cut to this length.
const MaxFieldLen = 64 << 10

// Parser parses records of one format (or auto-detects per record).
type Parser struct {
	Format Format
	// Now gives the reference time for year-less syslog timestamps; nil
	// means time.Now.
	Now func() time.Time

	names       interner
	jsonScratch jsonScratch
	evtxNames   map[string]string // dotted evtx path → Sigma name ("" for none)
	evtxLast    []rename          // renaming of field number i in the previous evtx event
	nowAt       time.Time         // cached reference time, refreshed every 4096 calls
	nowUses     int
}

// now returns the reference time, calling Now only now and then.
func (p *Parser) now() time.Time {
	if p.nowUses == 0 || p.nowAt.IsZero() {
		p.nowAt = p.Now()
	}
	p.nowUses = (p.nowUses + 1) % 4096
	return p.nowAt
}

// NewParser returns a parser for format.
func NewParser(format Format) *Parser {
	return &Parser{Format: format, Now: time.Now}
}

// Parse parses one record into e (which it resets first). On error, e
// still holds the raw record and whatever parsed before the problem.
func (p *Parser) Parse(record string, e *event.Event) error {
	e.Reset()
	if p.Now == nil {
		p.Now = time.Now
	}
	record = strings.TrimRight(record, "\r\n")
	e.Raw = record
	f := p.Format
	if f == Auto || f == "" {
		f = Detect(record)
	}
	e.Format = string(f)
	var err error
	switch f {
	case JSON, EvtxJSON:
		err = parseJSON(strings.TrimSpace(record), e, &p.names, &p.jsonScratch)
		if err == nil {
			p.classifyJSON(e, f == EvtxJSON)
		}
	case Syslog:
		err = p.parseSyslog(record, e)
		if e.Format == string(Syslog) || e.Format == "" {
			e.Format = string(Syslog)
		}
	case CEF:
		if strings.HasPrefix(record, "CEF:") {
			err = parseCEF(record, e)
		} else {
			err = p.parseSyslog(record, e)
		}
	case LEEF:
		if strings.HasPrefix(record, "LEEF:") {
			err = parseLEEF(record, e)
		} else {
			err = p.parseSyslog(record, e)
		}
	case KV:
		err = parseKV(record, e)
	default:
		e.Add("message", record, event.String)
	}
	boundFields(e)
	if err == nil && e.Time.IsZero() {
		setTimeFromFields(e)
	}
	return err
}

// boundFields cuts enormous values so one record cannot blow up matching.
func boundFields(e *event.Event) {
	for i := range e.Fields {
		if len(e.Fields[i].Value) > MaxFieldLen {
			e.Fields[i].Value = e.Fields[i].Value[:MaxFieldLen]
		}
	}
	if len(e.Raw) > 4*MaxFieldLen {
		e.Raw = e.Raw[:4*MaxFieldLen]
	}
}

// classifyJSON recognises Windows and Suricata events and adds their
// Sigma names.
func (p *Parser) classifyJSON(e *event.Event, forceEvtx bool) {
	if forceEvtx || e.Get("Event.System.Channel") != nil || e.Get("Event.System.EventID") != nil || e.Get("Event.System.EventID.#text") != nil {
		e.Format = string(EvtxJSON)
		p.addEvtxNames(e)
		return
	}
	if e.Get("event_type") != nil && (e.Get("src_ip") != nil || e.Get("flow_id") != nil) {
		e.Format = "eve"
	}
}

var timeFields = []string{"@timestamp", "timestamp", "time", "TimeCreated", "UtcTime", "EventTime", "rt", "devTime", "ts"}

func setTimeFromFields(e *event.Event) {
	for _, n := range timeFields {
		if v, ok := e.Value(n); ok {
			if t, ok := parseTimestamp(v); ok {
				e.Time = t
				return
			}
		}
	}
}

// Detect guesses the format of one record.
func Detect(s string) Format {
	t := strings.TrimLeft(s, " \t\ufeff")
	switch {
	case strings.HasPrefix(t, "{"):
		if strings.Contains(t, `"System"`) && strings.Contains(t, `"Event"`) {
			return EvtxJSON
		}
		return JSON
	case strings.HasPrefix(t, "CEF:"):
		return CEF
	case strings.HasPrefix(t, "LEEF:"):
		return LEEF
	case strings.HasPrefix(t, "<") && len(t) > 2 && t[1] >= '0' && t[1] <= '9':
		return Syslog
	case len(t) >= 16 && months[t[:3]] != 0 && t[3] == ' ':
		return Syslog
	case looksKV(t):
		return KV
	}
	return Text
}
