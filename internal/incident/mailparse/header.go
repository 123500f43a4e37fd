package mailparse

import (
	"bytes"
	"io"
	"mime"
	"net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// splitHeader splits raw into the header block and the body. Both LF and
// CRLF line endings are accepted. ok is false when no blank line ends the
// header block.
func splitHeader(raw []byte) (hdr, body []byte, ok bool) {
	// A message that starts with a blank line has no header.
	if bytes.HasPrefix(raw, []byte("\r\n")) {
		return nil, raw[2:], true
	}
	if bytes.HasPrefix(raw, []byte("\n")) {
		return nil, raw[1:], true
	}
	i := bytes.Index(raw, []byte("\n\r\n"))
	j := bytes.Index(raw, []byte("\n\n"))
	switch {
	case i >= 0 && (j < 0 || i < j):
		return raw[:i+1], raw[i+3:], true
	case j >= 0:
		return raw[:j+1], raw[j+2:], true
	}
	return raw, nil, false
}

// parseFields unfolds a header block into fields. Lines that are not
// "name: value" and not continuations are skipped and flagged.
func (p *parser) parseFields(hdr []byte) []Field {
	var out []Field
	var cont []byte // folded continuation of the last field
	flush := func() {
		if len(cont) > 0 && len(out) > 0 {
			out[len(out)-1].Value += string(cont)
		}
		cont = cont[:0]
	}
	defer flush()
	for len(hdr) > 0 {
		var line []byte
		if i := bytes.IndexByte(hdr, '\n'); i >= 0 {
			line, hdr = hdr[:i], hdr[i+1:]
		} else {
			line, hdr = hdr, nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(out) > 0 && len(out[len(out)-1].Value)+len(cont) < 64<<10 {
				cont = append(cont, ' ')
				cont = append(cont, bytes.TrimSpace(line)...)
			}
			continue
		}
		flush()
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || bytes.ContainsAny(line[:colon], " \t") {
			// mbox "From " lines and garbage.
			if !bytes.HasPrefix(line, []byte("From ")) {
				p.flag(FlagMalformedMIME)
			}
			continue
		}
		if len(out) >= p.lim.MaxHeaders {
			p.flag(FlagHeaderLimit)
			break
		}
		out = append(out, Field{
			Name:  string(line[:colon]),
			Value: string(bytes.TrimSpace(line[colon+1:])),
		})
	}
	return out
}

// charsetReader returns a UTF-8 reader for the named charset.
func charsetReader(name string, r io.Reader) (io.Reader, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return r, nil
	}
	enc, err := htmlindex.Get(n)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(r), nil
}

// decodeCharset converts b from charset to valid UTF-8. ok is false when
// the charset is unknown (the bytes are then kept with invalid UTF-8
// replaced).
func decodeCharset(b []byte, charset string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		if !utf8.Valid(b) {
			// Mislabelled 8-bit text is nearly always Windows-1252 (a
			// superset of ISO-8859-1 for printable characters).
			s, _ := decodeCharset(b, "windows-1252")
			return s, false
		}
		return string(b), true
	}
	r, err := charsetReader(charset, bytes.NewReader(b))
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD"), false
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD"), false
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), true
}

// decodeWords decodes RFC 2047 encoded words and neutralises the result.
func (p *parser) decodeWords(s string) string {
	if strings.Contains(s, "=?") {
		d := mime.WordDecoder{CharsetReader: charsetReader}
		if out, err := d.DecodeHeader(s); err == nil {
			s = out
		} else {
			p.flag(FlagBadCharset)
		}
	}
	return p.clean(s)
}

// clean makes a header value safe to display and store: valid UTF-8, no
// CR, LF or other control characters.
func (p *parser) clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.ContainsAny(s, "\r\n") {
		p.flag(FlagHeaderInject)
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// parseAddressList parses an address header tolerantly: when net/mail
// rejects it, addresses are picked out with a pattern.
func (p *parser) parseAddressList(v string) []Address {
	if v == "" {
		return nil
	}
	parser := mail.AddressParser{WordDecoder: &mime.WordDecoder{CharsetReader: charsetReader}}
	list, err := parser.ParseList(v)
	var out []Address
	if err == nil {
		for _, a := range list {
			out = append(out, newAddress(p.clean(a.Name), p.clean(a.Address)))
		}
		return out
	}
	for _, m := range findEmails(v, 20) {
		out = append(out, newAddress("", m))
	}
	if len(out) == 1 {
		// Keep the display name of "Name <addr>" forms.
		if i := strings.IndexByte(v, '<'); i > 0 {
			out[0].Name = p.clean(strings.Trim(strings.TrimSpace(p.decodeWords(v[:i])), `"`))
		}
	}
	return out
}

func newAddress(name, addr string) Address {
	addr = strings.ToLower(strings.TrimSpace(addr))
	a := Address{Name: name, Address: addr}
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		a.Domain = strings.TrimSuffix(addr[i+1:], ".")
	}
	return a
}

// parseMediaType parses a Content-Type or Content-Disposition value,
// tolerating broken parameters.
func parseMediaType(v string) (string, map[string]string) {
	if v == "" {
		return "", map[string]string{}
	}
	mt, params, err := mime.ParseMediaType(v)
	if err == nil {
		return strings.ToLower(mt), params
	}
	// Tolerant fallback: type before ';', then key=value pairs.
	params = map[string]string{}
	parts := strings.Split(v, ";")
	mt = strings.ToLower(strings.TrimSpace(parts[0]))
	for _, kv := range parts[1:] {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.Trim(strings.TrimSpace(val), `"'`)
		if _, dup := params[k]; !dup && k != "" {
			params[k] = val
		}
	}
	return mt, params
}
