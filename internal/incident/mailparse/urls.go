package mailparse

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// URL is one distinct link found in a message.
type URL struct {
	URL      string   `json:"url,omitempty"`      // final target after unwrapping rewriters
	Host     string   `json:"host,omitempty"`     // lower-cased host of URL
	Wrapped  []string `json:"wrapped,omitempty"`  // rewriter URLs peeled off, outermost first
	Rewriter string   `json:"rewriter,omitempty"` // "safelinks", "proofpoint-v2", "proofpoint-v3", "google", "mimecast", … ("" if none)
	Opaque   bool     `json:"opaque,omitempty"`
	// HintDomain is the target domain an opaque rewriter discloses (Mimecast's domain=), if any.
	HintDomain string `json:"hint_domain,omitempty"` // a rewriter whose target cannot be decoded (e.g. Mimecast tokens)
	Text       string `json:"text,omitempty"`        // anchor text in HTML, if any
	Source     string `json:"source,omitempty"`      // "text", "html" or "attachment" (an HTML or SVG attachment)
}

var (
	urlRE   = regexp.MustCompile(`(?i)\b(?:https?://|hxxps?://|www\.)[^\s<>"'` + "`" + `{}|\\^\[\]]+`)
	emailRE = regexp.MustCompile(`(?i)\b[a-z0-9._%+\-]{1,64}@(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}\b`)
)

// urlCollector deduplicates URLs by their final form.
type urlCollector struct {
	max     int
	seen    map[string]int
	rawSeen map[string]bool // raw strings already handled, to skip re-parsing
	out     []URL
	limit   bool
	matches int    // regexp matches examined
	source  string // overrides the Source of URLs found ("attachment")
}

// maxMatches bounds the URL candidates examined per message.
const maxMatches = 20000

func (c *urlCollector) add(raw, text, source string) {
	if c.rawSeen == nil {
		c.rawSeen = map[string]bool{}
	}
	if c.rawSeen[raw] && text == "" {
		return
	}
	if len(c.rawSeen) < 4*maxMatches {
		c.rawSeen[raw] = true
	}
	raw = strings.TrimSpace(raw)
	raw = strings.TrimRight(raw, ".,;:!?)]}'\"")
	if raw == "" || len(raw) > 8192 {
		return
	}
	low := strings.ToLower(raw)
	switch {
	case strings.HasPrefix(low, "www."):
		raw = "http://" + raw
	case strings.HasPrefix(low, "hxxp"):
		raw = "http" + raw[4:]
	case strings.HasPrefix(low, "http://"), strings.HasPrefix(low, "https://"):
	default:
		return // mailto:, cid:, javascript:, relative links
	}
	u := unwrap(raw)
	u.Text = text
	u.Source = source
	if c.source != "" {
		u.Source = c.source
	}
	if i, ok := c.seen[u.URL]; ok {
		if c.out[i].Text == "" {
			c.out[i].Text = text
		}
		return
	}
	if len(c.out) >= c.max {
		c.limit = true
		return
	}
	c.seen[u.URL] = len(c.out)
	c.out = append(c.out, u)
}

func (c *urlCollector) fromText(s string) {
	if c.limit || c.matches >= maxMatches {
		c.limit = true
		return
	}
	for _, m := range findURLs(s, maxMatches-c.matches) {
		c.matches++
		c.add(m, "", "text")
		if c.limit {
			return
		}
	}
	if c.matches >= maxMatches {
		c.limit = true
	}
}

// fromHTML collects href targets with their anchor text, then URLs in the
// visible text. It returns the visible text.
func (c *urlCollector) fromHTML(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	z.SetMaxBuf(1 << 20)
	var text strings.Builder
	var scan strings.Builder // visible text outside links, scanned for URLs
	var href string
	var anchor strings.Builder
	inA := false
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if inA {
				c.add(href, strings.TrimSpace(anchor.String()), "html")
			}
			c.fromText(scan.String())
			return text.String()
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			if tag == "script" || tag == "style" {
				if tt == html.StartTagToken {
					skip++
				}
				continue
			}
			text.WriteString(tagSpace(tag))
			var attrHref string
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch string(k) {
				case "href":
					if tag == "a" || tag == "area" {
						attrHref = string(v)
					}
				case "action":
					if tag == "form" {
						c.add(string(v), "", "html")
					}
				}
			}
			if tag == "a" || tag == "area" || tag == "form" {
				c.matches++
				if c.matches > maxMatches {
					c.limit = true
					continue
				}
			}
			if tag == "a" {
				if inA {
					c.add(href, strings.TrimSpace(anchor.String()), "html")
				}
				inA, href = true, attrHref
				anchor.Reset()
			} else if tag == "area" && attrHref != "" {
				c.add(attrHref, "", "html")
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			if (tag == "script" || tag == "style") && skip > 0 {
				skip--
			}
			text.WriteString(tagSpace(tag))
			if tag == "a" && inA {
				c.add(href, strings.TrimSpace(anchor.String()), "html")
				inA = false
			}
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := string(z.Text())
			if text.Len() < 4<<20 {
				text.WriteString(t)
			}
			if inA && anchor.Len() < 1024 {
				anchor.WriteString(t)
			} else if !inA && scan.Len() < 4<<20 {
				scan.WriteString(t)
				scan.WriteByte(' ')
			}
		}
	}
}

// unwrap peels safe-link rewriters off raw, up to a few layers.
func unwrap(raw string) URL {
	u := URL{URL: raw}
	for range 5 {
		next, name, opaque := unwrapOnce(u.URL)
		if name == "" {
			break
		}
		if u.Rewriter == "" {
			u.Rewriter = name
		}
		u.Wrapped = append(u.Wrapped, u.URL)
		if opaque {
			u.Opaque = true
			if h := strings.ToLower(strings.TrimSpace(next)); h != "" && !strings.ContainsAny(h, "/ :@") && len(h) < 254 {
				u.HintDomain = h
			}
			break
		}
		u.URL = next
	}
	if p, err := url.Parse(u.URL); err == nil {
		u.Host = strings.ToLower(strings.TrimSuffix(p.Hostname(), "."))
	}
	return u
}

// unwrapOnce recognises one rewriter. name is "" when raw is not wrapped.
func unwrapOnce(raw string) (target, name string, opaque bool) {
	p, err := url.Parse(raw)
	if err != nil || p.Host == "" {
		return "", "", false
	}
	host := strings.ToLower(p.Hostname())
	q := p.Query()
	valid := func(s string) bool {
		l := strings.ToLower(s)
		return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
	}
	switch {
	case strings.HasSuffix(host, "safelinks.protection.outlook.com"):
		if t := q.Get("url"); valid(t) {
			return t, "safelinks", false
		}
	case isURLDefense(host) && strings.HasPrefix(p.Path, "/v2/url"):
		if t := decodeProofpointV2(q.Get("u")); valid(t) {
			return t, "proofpoint-v2", false
		}
	case isURLDefense(host) && strings.HasPrefix(p.Path, "/v1/url"):
		if t := q.Get("u"); valid(t) {
			return t, "proofpoint-v1", false
		}
	case isURLDefense(host) && strings.HasPrefix(p.EscapedPath(), "/v3/__"):
		if t, ok := decodeProofpointV3(raw); ok && valid(t) {
			return t, "proofpoint-v3", false
		}
	case host == "google.com" || host == "www.google.com" || strings.HasPrefix(host, "www.google."):
		if p.Path == "/url" {
			t := q.Get("q")
			if t == "" {
				t = q.Get("url")
			}
			if valid(t) {
				return t, "google", false
			}
		}
	case strings.HasSuffix(host, ".mimecast.com") || strings.HasSuffix(host, ".mimecastprotect.com"):
		for _, k := range []string{"url", "u", "domain"} {
			if t := q.Get(k); valid(t) {
				return t, "mimecast", false
			}
		}
		if strings.HasPrefix(p.Path, "/s/") {
			return q.Get("domain"), "mimecast", true
		}
	}
	return "", "", false
}

func isURLDefense(host string) bool {
	return host == "urldefense.com" || host == "urldefense.proofpoint.com"
}

// decodeProofpointV2 reverses the v2 "u=" encoding: '-' stands for '%',
// '_' for '/', then percent-decoding.
func decodeProofpointV2(u string) string {
	if u == "" {
		return ""
	}
	s := strings.NewReplacer("-", "%", "_", "/").Replace(u)
	out, err := url.PathUnescape(s)
	if err != nil {
		return ""
	}
	return out
}

// decodeProofpointV3 decodes "https://urldefense.com/v3/__URL__;B64!!…".
// In URL, '*' takes the next character of the base64url-decoded string
// and "**X" takes a run of characters whose length X encodes (A=2, B=3, …).
func decodeProofpointV3(raw string) (string, bool) {
	i := strings.Index(raw, "/v3/__")
	if i < 0 {
		return "", false
	}
	rest := raw[i+len("/v3/__"):]
	end := strings.Index(rest, "__;")
	if end < 0 {
		// No replacement bytes: the URL ends at the last "__".
		end = strings.LastIndex(rest, "__")
		if end < 0 {
			return "", false
		}
		return rest[:end], !strings.Contains(rest[:end], "*")
	}
	enc := rest[:end]
	tail := rest[end+3:]
	if j := strings.Index(tail, "!!"); j >= 0 {
		tail = tail[:j]
	}
	tail = strings.TrimRight(tail, "=")
	bytes, err := base64.RawURLEncoding.DecodeString(tail)
	if err != nil || !utf8.Valid(bytes) {
		return "", false
	}
	repl := []rune(string(bytes))
	const runChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var b strings.Builder
	for k := 0; k < len(enc); k++ {
		if enc[k] != '*' {
			b.WriteByte(enc[k])
			continue
		}
		n := 1
		if k+2 < len(enc) && enc[k+1] == '*' {
			idx := strings.IndexByte(runChars, enc[k+2])
			if idx < 0 {
				return "", false
			}
			n = idx + 2
			k += 2
		}
		if n > len(repl) {
			return "", false
		}
		b.WriteString(string(repl[:n]))
		repl = repl[n:]
	}
	return b.String(), true
}

// tagSpace returns the blank a tag stands for in the visible text.
func tagSpace(tag string) string {
	switch tag {
	case "b", "i", "u", "em", "strong", "span", "font", "small", "big", "sub", "sup":
		return ""
	case "br", "p", "div", "tr", "li", "table", "h1", "h2", "h3", "h4", "h5", "h6":
		return "\n"
	}
	return " "
}
