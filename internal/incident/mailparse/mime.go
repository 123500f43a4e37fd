package mailparse

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"path"
	"strings"
)

// parseMessage parses one RFC 5322 message at the given nesting depth.
// attached is true for a message found as an attachment: quoted history in
// it (a hijacked thread) is part of that message, so it is searched for an
// inline forward only when its subject says it is a forward.
func (p *parser) parseMessage(raw []byte, depth int, attached bool) *Message {
	m := &Message{}
	p.all = append(p.all, m)
	hdr, body, ok := splitHeader(raw)
	if !ok {
		p.flag(FlagMalformedMIME)
	}
	fields := p.parseFields(hdr)
	if len(fields) == 0 {
		p.flag(FlagNoHeaders)
	}
	for i := range fields {
		fields[i].Name = p.clean(fields[i].Name)
		fields[i].Value = p.decodeWords(fields[i].Value)
	}
	m.Headers = fields
	p.fillHeaders(m, hdr)
	p.walk(m, fields, body, depth)
	if m.forwarded == nil && (!attached || forwardSubjectRE.MatchString(m.Subject)) {
		p.detectInline(m, depth)
	}
	return m
}

// fillHeaders sets the well-known header fields of m. Address fields are
// parsed from the raw (undecoded) values so encoded words in display names
// are handled by the address parser.
func (p *parser) fillHeaders(m *Message, hdr []byte) {
	raw := map[string]string{}
	for _, f := range p.rawFields(hdr) {
		k := strings.ToLower(f.Name)
		if _, dup := raw[k]; !dup {
			raw[k] = f.Value
		}
	}
	m.From = p.parseAddressList(raw["from"])
	m.ReplyTo = p.parseAddressList(raw["reply-to"])
	m.Sender = p.parseAddressList(raw["sender"])
	m.To = p.parseAddressList(raw["to"])
	if rp := p.parseAddressList(raw["return-path"]); len(rp) > 0 {
		m.ReturnPath = rp[0].Address
	}
	m.Subject = m.Header("Subject")
	m.MessageID = strings.Trim(m.Header("Message-ID"), "<> ")
	m.DateRaw = m.Header("Date")
	if m.DateRaw != "" {
		if t, err := mail.ParseDate(m.DateRaw); err == nil {
			m.Date = t
		}
	}
	for _, f := range m.Headers {
		switch strings.ToLower(f.Name) {
		case "authentication-results":
			m.Auth = append(m.Auth, parseAuthResults(f.Value, false))
		case "arc-authentication-results":
			m.Auth = append(m.Auth, parseAuthResults(f.Value, true))
		case "received":
			m.Received = append(m.Received, parseReceived(f.Value))
		}
	}
	m.Verdicts = summarize(m)
}

// rawFields parses the header block without counting problems twice.
func (p *parser) rawFields(hdr []byte) []Field {
	q := &parser{lim: p.lim, flags: map[string]bool{}}
	return q.parseFields(hdr)
}

func fieldValue(fields []Field, name string) string {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// walk processes the entity with the given header fields and body,
// collecting text, HTML, attachments and forwarded messages into m.
func (p *parser) walk(m *Message, fields []Field, body []byte, depth int) {
	p.parts++
	if p.parts > p.lim.MaxParts {
		p.flag(FlagPartLimit)
		return
	}
	ctype, cparams := parseMediaType(fieldValue(fields, "Content-Type"))
	if ctype == "" {
		ctype = "text/plain"
	}
	disp, dparams := parseMediaType(fieldValue(fields, "Content-Disposition"))
	cte := strings.ToLower(strings.TrimSpace(fieldValue(fields, "Content-Transfer-Encoding")))
	name := dparams["filename"]
	if name == "" {
		name = cparams["name"]
	}
	name = p.decodeWords(name)

	if strings.HasPrefix(ctype, "multipart/") {
		if depth >= p.lim.MaxDepth {
			p.flag(FlagDepthLimit)
			return
		}
		boundary := cparams["boundary"]
		if boundary == "" {
			p.flag(FlagMalformedMIME)
			p.leaf(m, "text/plain", cparams, "", "", cte, body)
			return
		}
		for _, part := range p.splitMultipart(body, boundary) {
			hdr, pbody, ok := splitHeader(part)
			if !ok {
				// A part with no blank line: headers only, or body only.
				if bytes.IndexByte(part, ':') < 0 {
					hdr, pbody = nil, part
				}
			}
			pf := p.parseFields(hdr)
			p.walk(m, pf, pbody, depth+1)
		}
		return
	}

	isEML := strings.HasSuffix(strings.ToLower(name), ".eml")
	if ctype == "message/rfc822" || ctype == "message/global" || isEML {
		if depth >= p.lim.MaxDepth {
			p.flag(FlagDepthLimit)
			return
		}
		data := p.decodeBody(body, cte)
		sum := sha256.Sum256(data)
		if name == "" {
			name = "message.eml"
		}
		m.Attachments = append(m.Attachments, Attachment{
			Name: name, ContentType: ctype, Size: len(data), SHA256: hex.EncodeToString(sum[:]),
			Truncated: len(data) >= p.lim.MaxPart,
		})
		inner := p.parseMessage(data, depth+1, true)
		if m.forwarded == nil {
			m.forwarded = inner
		}
		return
	}
	p.leaf(m, ctype, cparams, disp, name, cte, body)
}

// leaf handles a single non-multipart entity.
func (p *parser) leaf(m *Message, ctype string, cparams map[string]string, disp, name, cte string, body []byte) {
	data := p.decodeBody(body, cte)
	isText := ctype == "text/plain" || ctype == "text/html"
	if isText && disp != "attachment" && name == "" {
		s, ok := decodeCharset(data, cparams["charset"])
		if !ok {
			p.flag(FlagBadCharset)
		}
		if ctype == "text/html" {
			if m.htmlSize < p.lim.MaxBodyText {
				m.htmlParts = append(m.htmlParts, s)
				m.htmlSize += len(s)
			}
		} else if m.textSize < p.lim.MaxBodyText {
			m.textParts = append(m.textParts, s)
			m.textSize += len(s)
		}
		return
	}
	if isHTMLFile(ctype, name) && len(m.attachHTML) < 16 {
		// Credential-harvesting pages travel as HTML/SVG attachments: their
		// links are extracted like the body's (they are never rendered).
		s, _ := decodeCharset(data, cparams["charset"])
		m.attachHTML = append(m.attachHTML, s)
	}
	sum := sha256.Sum256(data)
	m.Attachments = append(m.Attachments, Attachment{
		Name:        p.clean(name),
		ContentType: ctype,
		Size:        len(data),
		SHA256:      hex.EncodeToString(sum[:]),
		Truncated:   len(data) >= p.lim.MaxPart,
		Archive:     isArchive(ctype, name),
		Inline:      disp == "inline",
	})
}

func isHTMLFile(ctype, name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".htm", ".html", ".shtml", ".xhtml", ".svg":
		return true
	}
	return ctype == "text/html" || ctype == "image/svg+xml" || ctype == "application/xhtml+xml"
}

var archiveExt = map[string]bool{
	".zip": true, ".rar": true, ".7z": true, ".gz": true, ".tgz": true, ".tar": true,
	".bz2": true, ".xz": true, ".cab": true, ".iso": true, ".img": true, ".jar": true,
	".ace": true, ".arj": true, ".lzh": true, ".zipx": true,
}

func isArchive(ctype, name string) bool {
	if archiveExt[strings.ToLower(path.Ext(name))] {
		return true
	}
	switch ctype {
	case "application/zip", "application/x-zip-compressed", "application/x-rar-compressed",
		"application/vnd.rar", "application/x-7z-compressed", "application/gzip",
		"application/x-gzip", "application/x-tar", "application/java-archive":
		return true
	}
	return false
}

// decodeBody undoes the transfer encoding, keeping at most MaxPart bytes
// and charging the parse-wide budget.
func (p *parser) decodeBody(body []byte, cte string) []byte {
	limit := p.lim.MaxPart
	if p.budget < limit {
		limit = p.budget
	}
	if limit <= 0 {
		p.flag(FlagTruncated)
		return nil
	}
	var r io.Reader
	switch cte {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &b64Filter{src: body})
	case "quoted-printable":
		r = quotedprintable.NewReader(bytes.NewReader(body))
	default:
		r = bytes.NewReader(body)
	}
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil && err != io.ErrUnexpectedEOF {
		p.flag(FlagMalformedMIME)
	} else if err == io.ErrUnexpectedEOF {
		p.flag(FlagMalformedMIME)
	}
	if len(out) > limit {
		out = out[:limit]
		p.flag(FlagTruncated)
	}
	p.budget -= len(out)
	return out
}

// b64Filter drops characters outside the base64 alphabet and pads the end
// so sloppy encoders still decode.
type b64Filter struct {
	src  []byte
	n    int // alphabet characters emitted
	done bool
}

func (f *b64Filter) Read(b []byte) (int, error) {
	i := 0
	for i < len(b) && len(f.src) > 0 {
		c := f.src[0]
		f.src = f.src[1:]
		if c == '=' {
			f.src = nil // padding ends the data
			break
		}
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
			b[i] = c
			i++
			f.n++
		}
	}
	if len(f.src) == 0 && !f.done && i < len(b) {
		switch f.n % 4 {
		case 1:
			// A lone trailing character cannot be decoded: drop it.
			if i > 0 {
				i--
			}
			f.n--
			f.done = true
		case 2, 3:
			for f.n%4 != 0 && i < len(b) {
				b[i] = '='
				i++
				f.n++
			}
			if f.n%4 == 0 {
				f.done = true
			}
		default:
			f.done = true
		}
	}
	if i == 0 && len(f.src) == 0 && f.done {
		return 0, io.EOF
	}
	return i, nil
}

// splitMultipart returns the parts of a multipart body. Missing closing
// delimiters and preamble-only bodies are flagged.
func (p *parser) splitMultipart(body []byte, boundary string) [][]byte {
	delim := []byte("--" + boundary)
	var start int
	switch {
	case bytes.HasPrefix(body, delim) && (len(body) == len(delim) || bytes.IndexByte([]byte("\r\n \t-"), body[len(delim)]) >= 0):
		start = 0
	default:
		i := indexDelimiter(body, delim)
		if i < 0 {
			p.flag(FlagMalformedMIME)
			return nil
		}
		start = i + 1
	}
	var parts [][]byte
	pos := start
	for {
		after := body[pos+len(delim):]
		if bytes.HasPrefix(after, []byte("--")) {
			return parts // closing delimiter
		}
		nl := bytes.IndexByte(after, '\n')
		if nl < 0 {
			p.flag(FlagMalformedMIME)
			return parts
		}
		partStart := pos + len(delim) + nl + 1
		next := indexDelimiter(body[partStart:], delim)
		if next < 0 {
			p.flag(FlagMalformedMIME)
			parts = append(parts, body[partStart:])
			return parts
		}
		end := partStart + next
		part := body[partStart:end]
		part = bytes.TrimSuffix(part, []byte("\r"))
		parts = append(parts, part)
		if len(parts)+p.parts > p.lim.MaxParts {
			p.flag(FlagPartLimit)
			return parts
		}
		pos = end + 1
	}
}

// indexDelimiter returns the index of the "\n" that starts the next
// delimiter line "--boundary", "--boundary--" or "--boundary" followed by
// blanks, or -1. A longer boundary sharing the prefix does not match.
func indexDelimiter(b, delim []byte) int {
	nd := append([]byte("\n"), delim...)
	off := 0
	for {
		i := bytes.Index(b[off:], nd)
		if i < 0 {
			return -1
		}
		end := off + i + len(nd)
		if end == len(b) {
			return off + i
		}
		switch b[end] {
		case '\r', '\n', ' ', '\t', '-':
			return off + i
		}
		off = end
	}
}
