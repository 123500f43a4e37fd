// Package mailparse parses e-mails reported as suspicious (phishing reports)
// and extracts what an analyst needs: the innermost reported message, its
// headers, authentication verdicts, Received chain, alignment findings,
// URLs (with safe-link rewriters unwrapped), attachments and observables.
//
// Input is treated as hostile: every size, count and depth is capped, zip
// files are only hashed, header values are stripped of CR/LF, and broken MIME
// yields a best-effort result with flags instead of an error or a panic.
package mailparse

import (
	"bytes"
	"io"
	"sort"
	"time"
)

// Flags set on a Result when the input was not clean.
const (
	FlagMalformedMIME = "malformed_mime"
	FlagTruncated     = "truncated"
	FlagDepthLimit    = "depth_limit"
	FlagBadCharset    = "bad_charset"
	FlagHeaderLimit   = "header_limit"
	FlagPartLimit     = "part_limit"
	FlagURLLimit      = "url_limit"
	FlagHeaderInject  = "header_injection"
	FlagNoHeaders     = "no_headers"
)

// Limits bounds the work done on one report. Zero fields take the defaults
// of DefaultLimits.
type Limits struct {
	MaxTotal    int // bytes of raw input read; the rest is dropped (flag truncated)
	MaxPart     int // decoded bytes kept per part; hashes cover only those
	MaxHeaders  int // header fields per message or part
	MaxDepth    int // nesting of multiparts and attached messages together
	MaxParts    int // MIME parts in the whole report
	MaxURLs     int // distinct URLs per message
	MaxBodyText int // bytes of text/HTML body kept per message for display
}

// DefaultLimits are the limits used for zero fields of Limits.
var DefaultLimits = Limits{
	MaxTotal:    25 << 20,
	MaxPart:     10 << 20,
	MaxHeaders:  500,
	MaxDepth:    12,
	MaxParts:    500,
	MaxURLs:     1000,
	MaxBodyText: 1 << 20,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxTotal > 0 {
		d.MaxTotal = l.MaxTotal
	}
	if l.MaxPart > 0 {
		d.MaxPart = l.MaxPart
	}
	if l.MaxHeaders > 0 {
		d.MaxHeaders = l.MaxHeaders
	}
	if l.MaxDepth > 0 {
		d.MaxDepth = l.MaxDepth
	}
	if l.MaxParts > 0 {
		d.MaxParts = l.MaxParts
	}
	if l.MaxURLs > 0 {
		d.MaxURLs = l.MaxURLs
	}
	if l.MaxBodyText > 0 {
		d.MaxBodyText = l.MaxBodyText
	}
	return d
}

// Source tells how the reported message was found inside the report.
type Source string

// Sources of the reported message.
const (
	SourceDirect     Source = "direct"     // the report is the suspicious message itself
	SourceAttachment Source = "attachment" // attached as message/rfc822 or .eml
	SourceInline     Source = "inline"     // forwarded inline with quoted headers
)

// Result is the outcome of parsing one report.
type Result struct {
	// Report is the outer message as received (the user's forward).
	Report *Message
	// Reported is the innermost reported message; it is Report itself when
	// the report carries no forwarded message.
	Reported *Message
	Source   Source
	// Depth is how many forwards were unwrapped to reach Reported.
	Depth int
	// Flags lists the problems met while parsing, sorted, without duplicates.
	Flags []string
}

// HasFlag reports whether the result carries flag f.
func (r *Result) HasFlag(f string) bool {
	for _, g := range r.Flags {
		if g == f {
			return true
		}
	}
	return false
}

// Message is one parsed e-mail message.
type Message struct {
	From       []Address
	ReplyTo    []Address
	ReturnPath string
	Sender     []Address
	To         []Address
	Subject    string
	Date       time.Time // zero when absent or unparsable
	DateRaw    string
	MessageID  string

	// Headers holds every header field in order, values unfolded, decoded
	// and neutralised (no CR/LF).
	Headers []Field

	Auth     []AuthResult // from Authentication-Results and ARC-Authentication-Results
	Verdicts Verdicts     // summary of Auth for the receiving server
	Received []Hop        // top (most recent) first, as in the header

	Findings    []Finding
	URLs        []URL
	Attachments []Attachment
	Text        string // plain text body (capped)
	HTML        string // HTML body (capped)
	Observables Observables

	forwarded     *Message // first attached message/rfc822 or .eml
	inlineForward *Message // message quoted inline in the body
	textParts     []string
	htmlParts     []string
	attachHTML    []string // HTML and SVG attachments, scanned for links
	textSize      int
	htmlSize      int
	urlLimit      bool
}

// Field is one header field.
type Field struct {
	Name  string
	Value string
}

// Header returns the first value of the named field (case-insensitive).
func (m *Message) Header(name string) string {
	for _, f := range m.Headers {
		if equalFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Address is a parsed mailbox.
type Address struct {
	Name    string
	Address string // lower-cased
	Domain  string // lower-cased
}

// Attachment describes one non-text part. Archives are never expanded.
type Attachment struct {
	Name        string
	ContentType string
	Size        int    // decoded bytes kept (see Truncated)
	SHA256      string // hex, over the kept bytes
	Truncated   bool
	Archive     bool // zip, rar, 7z, gz, … : hashed only
	Inline      bool
}

// Observables are the indicators to look up or block.
type Observables struct {
	IPs     []string
	Domains []string
	URLs    []string
	Emails  []string
	Hashes  []string
}

// Parse reads at most lim.MaxTotal bytes of r and parses them. It returns
// an error only when r fails; malformed input gives a best-effort Result.
func Parse(r io.Reader, lim Limits) (*Result, error) {
	lim = lim.withDefaults()
	buf, err := io.ReadAll(io.LimitReader(r, int64(lim.MaxTotal)+1))
	if err != nil {
		return nil, err
	}
	return ParseBytes(buf, lim), nil
}

// ParseBytes parses a report held in memory. It never fails and never
// panics; problems are reported in Result.Flags.
func ParseBytes(raw []byte, lim Limits) *Result {
	lim = lim.withDefaults()
	p := &parser{lim: lim, flags: map[string]bool{}}
	p.budget = 4 * lim.MaxTotal
	if len(raw) > lim.MaxTotal {
		raw = raw[:lim.MaxTotal]
		p.flag(FlagTruncated)
	}
	res := &Result{Source: SourceDirect}
	outer := p.parseMessage(raw, 0)
	res.Report = outer
	res.Reported = outer

	// Follow attached (or inline) forwards down to the innermost message.
	cur := outer
	for cur != nil {
		next, src := cur.forwarded, SourceAttachment
		if next == nil && cur.inlineForward != nil {
			next, src = cur.inlineForward, SourceInline
		}
		if next == nil {
			break
		}
		res.Reported = next
		res.Source = src
		res.Depth++
		cur = next
	}
	for _, m := range p.all {
		finish(m, lim)
		if m.urlLimit {
			p.flag(FlagURLLimit)
		}
	}
	res.Flags = make([]string, 0, len(p.flags))
	for f := range p.flags {
		res.Flags = append(res.Flags, f)
	}
	sort.Strings(res.Flags)
	return res
}

type parser struct {
	lim    Limits
	flags  map[string]bool
	parts  int
	budget int // decoded bytes still allowed in the whole parse
	all    []*Message
}

func (p *parser) flag(f string) { p.flags[f] = true }

func equalFold(a, b string) bool { return len(a) == len(b) && bytes.EqualFold([]byte(a), []byte(b)) }
