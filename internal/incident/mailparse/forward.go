package mailparse

import (
	"regexp"
	"strings"
)

// Lines that introduce an inline forward in common clients (English and
// Spanish): Gmail, Outlook, Apple Mail, Thunderbird.
var forwardMarkerRE = regexp.MustCompile(`(?i)^\s*(?:-{2,}\s*(?:forwarded message|original message|mensaje reenviado|mensaje original|forwarded e-?mail)\s*-{2,}|begin forwarded message:?|inicio del mensaje reenviado:?|_{10,})\s*$`)

// forwardSubjectRE matches the subject prefixes of forwards (English,
// Spanish, French, German, Italian, Portuguese clients).
var forwardSubjectRE = regexp.MustCompile(`(?i)^\s*(?:(?:re|aw|sv|r)\s*:\s*)*(?:fwd?|fw|rv|tr|wg|enc|i)\s*:`)

// quotedHeaderNames maps the names clients print above a forwarded body to
// RFC 5322 field names.
var quotedHeaderNames = map[string]string{
	"from": "From", "de": "From",
	"sent": "Date", "date": "Date", "enviado": "Date", "enviado el": "Date", "fecha": "Date",
	"to": "To", "para": "To",
	"cc":      "Cc",
	"subject": "Subject", "asunto": "Subject",
	"reply-to": "Reply-To", "responder a": "Reply-To",
	"message-id":  "Message-ID",
	"return-path": "Return-Path",
}

// detectInline looks for a message forwarded inline in m's text (or, when
// there is none, its HTML turned into text) and parses it.
func (p *parser) detectInline(m *Message, depth int) {
	text := strings.Join(m.textParts, "\n")
	fromHTML := false
	if strings.TrimSpace(text) == "" && len(m.htmlParts) > 0 {
		c := &urlCollector{max: 0, seen: map[string]int{}}
		text = c.fromHTML(strings.Join(m.htmlParts, "\n"))
		fromHTML = true
	}
	if text == "" {
		return
	}
	lines := strings.Split(text, "\n")
	tries := 0
	for i := 0; i < len(lines) && tries < 20; i++ {
		line := unquote(lines[i])
		if len(line) > 200 || !forwardMarkerRE.MatchString(line) {
			continue
		}
		tries++
		hdr, next := quotedHeaders(lines, i+1)
		if hdr == nil || (hdr["From"] == "" && hdr["Subject"] == "") {
			continue
		}
		if depth >= p.lim.MaxDepth {
			p.flag(FlagDepthLimit)
			return
		}
		var b strings.Builder
		for _, k := range []string{"From", "Reply-To", "Return-Path", "To", "Cc", "Subject", "Date", "Message-ID"} {
			if v := hdr[k]; v != "" {
				b.WriteString(k + ": " + v + "\r\n")
			}
		}
		b.WriteString("\r\n")
		for _, l := range lines[next:] {
			b.WriteString(unquote(l))
			b.WriteString("\n")
		}
		inner := p.parseMessage([]byte(b.String()), depth+1, false)
		if fromHTML {
			// Keep the forwarded HTML so its links (hrefs) are not lost.
			if h := strings.Join(m.htmlParts, "\n"); h != "" {
				if j := forwardMarkerInHTML(h); j >= 0 {
					inner.htmlParts = append(inner.htmlParts, h[j:])
				}
			}
		}
		m.inlineForward = inner
		return
	}
}

// forwardMarkerInHTML returns where a forward marker starts in raw HTML,
// or -1.
func forwardMarkerInHTML(h string) int {
	low := strings.ToLower(h)
	for _, k := range []string{"forwarded message", "original message", "mensaje reenviado", "mensaje original", "begin forwarded message"} {
		if j := strings.Index(low, k); j >= 0 {
			return j
		}
	}
	return -1
}

// unquote strips leading "> " quoting and surrounding blanks.
func unquote(l string) string {
	l = strings.TrimRight(l, "\r")
	for {
		t := strings.TrimLeft(l, " \t")
		if !strings.HasPrefix(t, ">") {
			return l
		}
		l = strings.TrimPrefix(t[1:], " ")
	}
}

// quotedHeaders reads "Name: value" lines starting at lines[i], skipping
// leading blank lines, and returns them with the index after the block.
func quotedHeaders(lines []string, i int) (map[string]string, int) {
	for i < len(lines) && strings.TrimSpace(unquote(lines[i])) == "" {
		i++
	}
	hdr := map[string]string{}
	last := ""
	for ; i < len(lines) && i < 200; i++ {
		l := strings.TrimSpace(unquote(lines[i]))
		if l == "" {
			break
		}
		l = strings.TrimSpace(strings.ReplaceAll(l, "*", ""))
		k, v, ok := strings.Cut(l, ":")
		name, known := quotedHeaderNames[strings.ToLower(strings.TrimSpace(k))]
		if !ok || !known {
			if last != "" && len(hdr) > 0 && !strings.Contains(l, ":") {
				hdr[last] += " " + l // wrapped To:/Subject: line
				continue
			}
			break
		}
		if _, dup := hdr[name]; !dup {
			hdr[name] = strings.TrimSpace(v)
		}
		last = name
	}
	if len(hdr) == 0 {
		return nil, i
	}
	return hdr, i
}
