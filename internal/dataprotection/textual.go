package dataprotection

import (
	"bytes"
	"net/netip"
	"unsafe"

	"golang.org/x/net/publicsuffix"
)

func isLocalByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func isDomainByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-'
}

// knownSuffix reports whether the domain ends in an ICANN public suffix.
func knownSuffix(domain []byte) bool {
	if len(domain) < 4 || bytes.IndexByte(domain, '.') < 0 {
		return false
	}
	var buf [256]byte
	if len(domain) > len(buf) {
		return false
	}
	lower := buf[:len(domain)]
	for i, c := range domain {
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		lower[i] = c
	}
	// PublicSuffix returns a part of its argument and keeps nothing: the
	// string may share the stack buffer.
	suffix, icann := publicsuffix.PublicSuffix(unsafe.String(&lower[0], len(lower)))
	return icann && len(suffix) < len(lower)
}

// suffixMemo remembers knownSuffix's answers during one scan: a text
// names the same few mail and web domains again and again. Direct-mapped
// by a hash of the case-folded domain; an entry holds the domain itself
// (lower-cased, in arena), so a collision is a miss, never a wrong answer.
type suffixMemo struct {
	slot  [256]struct{ off, n int32 } // n 0: empty; the answer is arena[off+n]
	arena []byte
}

func (m *suffixMemo) reset() {
	m.slot = [256]struct{ off, n int32 }{}
	m.arena = m.arena[:0]
}

// knownSuffix is knownSuffix(domain) through the scan's memo.
func (st *scanState) knownSuffix(domain []byte) bool {
	if len(domain) < 4 || len(domain) > 256 {
		return knownSuffix(domain)
	}
	h := uint32(2166136261)
	for _, c := range domain {
		h = (h ^ uint32(c|0x20)) * 16777619
	}
	m := &st.sfx
	e := &m.slot[h>>24]
	if e.n == int32(len(domain)) && equalLowerASCII(m.arena[e.off:e.off+e.n], domain) { // the arena holds it lower-cased
		return m.arena[e.off+e.n] == 1
	}
	ok := knownSuffix(domain)
	if len(m.arena) < 1<<20 {
		e.off, e.n = int32(len(m.arena)), int32(len(domain))
		for _, c := range domain {
			m.arena = append(m.arena, lowerASCII[c])
		}
		if ok {
			m.arena = append(m.arena, 1)
		} else {
			m.arena = append(m.arena, 0)
		}
	}
	return ok
}

// scanEmails finds addresses around each '@'.
func (st *scanState) scanEmails() {
	text := st.text
	off := 0
	for {
		k := bytes.IndexByte(text[off:], '@')
		if k < 0 {
			return
		}
		at := off + k
		off = at + 1
		s := at
		for s > 0 && at-s < 64 && isLocalByte(text[s-1]) {
			s--
		}
		for s < at && (text[s] == '.' || text[s] == '-') {
			s++
		}
		e := at + 1
		for e < len(text) && e-at < 255 && isDomainByte(text[e]) {
			e++
		}
		for e > at+1 && (text[e-1] == '.' || text[e-1] == '-') {
			e--
		}
		if s == at || e <= at+3 {
			continue
		}
		if st.knownSuffix(text[at+1 : e]) {
			st.add(EmailAddress, s, e, 1.0, "public-suffix")
			off = e
		}
	}
}

func isURLByte(c byte) bool {
	return c > ' ' && c < 0x7f && c != '"' && c != '<' && c != '>' && c != '\'' && c != '`' && c != '{' && c != '}' && c != '|' && c != '\\' || c >= 0x80
}

// scanURLs finds http(s) and www. links and bare domains with a common
// top-level domain.
func (st *scanState) scanURLs() {
	text := st.text
	// Each "://" from off on: found by its "//", which is rarer in text
	// than ':' (speaker labels, times).
	for off := 0; off < len(text); {
		k := bytes.Index(text[off:], []byte("//"))
		if k < 0 {
			break
		}
		q := off + k
		if q-1 < off || text[q-1] != ':' {
			off = q + 1
			continue
		}
		p := q - 1
		off = p + 3
		if e := st.schemeURL(p); e > 0 {
			off = e
		}
	}
	st.scanDomains()
}

// schemeURL reports the link whose "://" is at p, and returns its end (0
// when there is none).
func (st *scanState) schemeURL(p int) int {
	text := st.text
	s := p
	for s > 0 && p-s < 10 && (text[s-1] >= 'a' && text[s-1] <= 'z' || text[s-1] >= 'A' && text[s-1] <= 'Z') {
		s--
	}
	if scheme := text[s:p]; !bytes.EqualFold(scheme, []byte("http")) && !bytes.EqualFold(scheme, []byte("https")) && !bytes.EqualFold(scheme, []byte("ftp")) {
		return 0
	}
	e := st.urlEnd(p + 3)
	if e <= p+4 {
		return 0
	}
	st.add(URL, s, e, 0.9, "url")
	return e
}

// scanDomains finds www. hosts and bare domains with a common top-level
// domain: tokens followed by a dot.
func (st *scanState) scanDomains() {
	text := st.text
	toks := st.toks
	// A host starts at a letter token followed by a dot and another token
	// right after it: look at the dots between two word bytes, and move a
	// cursor through the tokens to the one that ends at each.
	i, skip := 0, 0 // skip: tokens starting before it belong to a found URL
	for off := 0; off < len(text); {
		k := bytes.IndexByte(text[off:], '.')
		if k < 0 {
			return
		}
		p := off + k
		off = p + 1
		if p == 0 || p+1 >= len(text) || tokFlag[text[p+1]] == 0 {
			continue
		}
		for i+8 < len(toks) && int(toks[i+8].end) < p {
			i += 8
		}
		for i < len(toks) && int(toks[i].end) < p {
			i++
		}
		if i+1 >= len(toks) || int(toks[i].end) != p || toks[i+1].start != int32(p)+1 {
			continue
		}
		t := toks[i]
		if t.kind&tkAlpha == 0 || int(t.start) < skip {
			continue
		}
		if t.start > 0 {
			if c := text[t.start-1]; c == '@' || c == '.' || c == '/' || c == ':' || isDomainByte(c) {
				continue
			}
		}
		// Collect label.label… up to a non-domain byte.
		e := int(t.end)
		for e < len(text) && isDomainByte(text[e]) {
			e++
		}
		for e > int(t.end) && (text[e-1] == '.' || text[e-1] == '-') {
			e--
		}
		if e < len(text) && text[e] == '@' {
			continue
		}
		host := text[t.start:e]
		www := len(host) > 4 && (host[0]|0x20) == 'w' && (host[1]|0x20) == 'w' && (host[2]|0x20) == 'w' && host[3] == '.'
		if !www && !commonTLD(host) {
			continue
		}
		if !st.knownSuffix(host) {
			continue
		}
		end := e
		if e < len(text) && (text[e] == '/' || text[e] == '?') {
			end = st.urlEnd(e)
		}
		score := 0.6
		if www {
			score = 0.85
		}
		st.add(URL, int(t.start), end, score, "domain")
		skip = end
	}
}

// commonTLD reports whether host ends in a top-level domain common enough
// that a bare "name.tld" is taken as a web address.
func commonTLD(host []byte) bool {
	d := bytes.LastIndexByte(host, '.')
	if d < 1 {
		return false
	}
	switch string(bytes.ToLower(host[d+1:])) {
	case "com", "org", "net", "es", "eu", "uk", "de", "fr", "it", "pt", "io", "info", "biz", "gov", "edu", "cat", "us", "nl", "be", "ch", "at", "ie", "mx", "ar", "co":
		return true
	}
	return false
}

func (st *scanState) urlEnd(p int) int {
	text := st.text
	e := p
	for e < len(text) && e-p < 2048 && isURLByte(text[e]) {
		e++
	}
	for e > p {
		switch text[e-1] {
		case '.', ',', ';', ':', '!', '?', ')', ']':
			e--
			continue
		}
		break
	}
	return e
}

func isHexByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanIPv6 finds IPv6 addresses: runs of hex digits and colons with at
// least two colons that net/netip accepts.
func (st *scanState) scanIPv6() {
	text := st.text
	for off := 0; off < len(text); {
		k := bytes.IndexByte(text[off:], ':')
		if k < 0 {
			return
		}
		p := off + k
		off = p + 1
		if p+1 >= len(text) || !(isHexByte(text[p+1]) || text[p+1] == ':') {
			continue
		}
		s := p
		for s > 0 && p-s < 40 && (isHexByte(text[s-1]) || text[s-1] == ':') {
			s--
		}
		e := p
		for e < len(text) && e-s < 45 && (isHexByte(text[e]) || text[e] == ':' || text[e] == '.') {
			e++
		}
		for e > p && text[e-1] == '.' {
			e--
		}
		if s > 0 && isWordByte(text[s-1]) || e < len(text) && isWordByte(text[e]) {
			off = e
			continue
		}
		cand := text[s:e]
		// Eight groups, or fewer with "::": times like 10:30:00 are neither.
		if colons := bytes.Count(cand, []byte(":")); colons < 2 || colons < 7 && !bytes.Contains(cand, []byte("::")) && !(colons == 6 && bytes.IndexByte(cand, '.') > 0) {
			off = e
			continue
		}
		if a, err := netip.ParseAddr(string(cand)); err == nil && a.Is6() {
			st.add(IPAddress, s, e, 0.95, "ipv6")
		}
		off = e
	}
}
