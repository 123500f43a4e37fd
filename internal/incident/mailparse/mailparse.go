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
	MaxTotal    int `json:"max_total"`     // bytes of raw input read; the rest is dropped (flag truncated)
	MaxPart     int `json:"max_part"`      // decoded bytes kept per part; hashes cover only those
	MaxHeaders  int `json:"max_headers"`   // header fields per message or part
	MaxDepth    int `json:"max_depth"`     // nesting of multiparts and attached messages together
	MaxParts    int `json:"max_parts"`     // MIME parts in the whole report
	MaxURLs     int `json:"max_urls"`      // distinct URLs per message
	MaxBodyText int `json:"max_body_text"` // bytes of text/HTML body kept per message for display
}

// DefaultLimits returns the limits used for zero fields of Limits.
func DefaultLimits() Limits {
	return Limits{
		MaxTotal:    25 << 20,
		MaxPart:     10 << 20,
		MaxHeaders:  500,
		MaxDepth:    12,
		MaxParts:    500,
		MaxURLs:     1000,
		MaxBodyText: 1 << 20,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
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
	Report *Message `json:"report,omitempty"`
	// Reported is the innermost reported message; it is Report itself when
	// the report carries no forwarded message.
	Reported *Message `json:"reported,omitempty"`
	Source   Source   `json:"source"`
	// Depth is how many forwards were unwrapped to reach Reported.
	Depth int `json:"depth"`
	// Flags lists the problems met while parsing, sorted, without duplicates.
	Flags []string `json:"flags,omitempty"`
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
	From       []Address `json:"from,omitempty"`
	ReplyTo    []Address `json:"reply_to,omitempty"`
	ReturnPath string    `json:"return_path,omitempty"`
	Sender     []Address `json:"sender,omitempty"`
	To         []Address `json:"to,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	Date       time.Time `json:"date"` // zero when absent or unparsable
	DateRaw    string    `json:"date_raw,omitempty"`
	MessageID  string    `json:"message_id,omitempty"`

	// Headers holds every header field in order, values unfolded, decoded
	// and neutralised (no CR/LF).
	Headers []Field `json:"headers,omitempty"`

	Auth     []AuthResult `json:"auth,omitempty"`     // from Authentication-Results and ARC-Authentication-Results
	Verdicts Verdicts     `json:"verdicts"`           // summary of Auth for the receiving server
	Received []Hop        `json:"received,omitempty"` // top (most recent) first, as in the header
	// OriginIP is the earliest public address in the Received chain: the
	// likely sending host (the bottom hops can be forged by the sender).
	OriginIP string `json:"origin_ip,omitempty"`

	Findings    []Finding    `json:"findings,omitempty"`
	URLs        []URL        `json:"urls,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	Text        string       `json:"text,omitempty"` // plain text body (capped)
	HTML        string       `json:"html,omitempty"` // HTML body (capped)
	Observables Observables  `json:"observables"`

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
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
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
	Name    string `json:"name,omitempty"`
	Address string `json:"address,omitempty"` // lower-cased
	Domain  string `json:"domain,omitempty"`  // lower-cased
}

// Attachment describes one non-text part. Archives are never expanded.
type Attachment struct {
	Name        string `json:"name,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Size        int    `json:"size"`             // decoded bytes kept (see Truncated)
	SHA256      string `json:"sha256,omitempty"` // hex, over the kept bytes
	Truncated   bool   `json:"truncated,omitempty"`
	Archive     bool   `json:"archive,omitempty"` // zip, rar, 7z, gz, … : hashed only
	Inline      bool   `json:"inline,omitempty"`
}

// Observables are the indicators to look up or block.
type Observables struct {
	IPs     []string `json:"ips,omitempty"`
	Domains []string `json:"domains,omitempty"`
	URLs    []string `json:"urls,omitempty"`
	Emails  []string `json:"emails,omitempty"`
	Hashes  []string `json:"hashes,omitempty"`
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
	outer := p.parseMessage(raw, 0, false)
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
