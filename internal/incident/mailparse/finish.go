package mailparse

import (
	"net/netip"
	"net/url"
	"sort"
	"strings"
)

// Finding is a suspicious property of a message.
type Finding struct {
	Code   string `json:"code,omitempty"`   // stable identifier, e.g. "reply_to_mismatch"
	Detail string `json:"detail,omitempty"` // human-readable explanation
}

// finish computes the derived parts of m once its MIME tree is walked.
func finish(m *Message, lim Limits) {
	m.Text = capString(strings.Join(m.textParts, "\n"), lim.MaxBodyText)
	m.HTML = capString(strings.Join(m.htmlParts, "\n"), lim.MaxBodyText)
	c := &urlCollector{max: lim.MaxURLs, seen: map[string]int{}}
	visible := ""
	scanCap := 4 * lim.MaxBodyText
	for _, h := range m.htmlParts {
		visible += c.fromHTML(capString(h, scanCap))
	}
	for _, t := range m.textParts {
		c.fromText(capString(t, scanCap))
	}
	c.source = "attachment"
	for _, h := range m.attachHTML {
		c.fromHTML(capString(h, scanCap))
	}
	m.URLs = c.out
	m.urlLimit = c.limit
	m.findings(visible)
	m.observe(visible)
}

func capString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	return strings.ToValidUTF8(s, "")
}

// OrgDomain returns the organisational domain of a host name: the last two
// labels, or three when the second-level label is a common public suffix
// under a country code (co.uk, com.es, gob.es, …). It is a heuristic, not
// the Public Suffix List.
func OrgDomain(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	labels := strings.Split(host, ".")
	if len(labels) <= 2 {
		return host
	}
	n := 2
	sld := labels[len(labels)-2]
	if len(labels[len(labels)-1]) == 2 {
		switch sld {
		case "co", "com", "org", "net", "gov", "gob", "edu", "ac", "nom", "ltd", "plc", "me", "or", "ne", "go":
			n = 3
		}
	}
	return strings.Join(labels[len(labels)-n:], ".")
}

func (m *Message) addFinding(code, detail string) {
	m.Findings = append(m.Findings, Finding{Code: code, Detail: detail})
}

// findings checks From/Reply-To/Return-Path/Sender alignment, the
// authentication verdicts and deceptive link texts.
func (m *Message) findings(visible string) {
	var from Address
	if len(m.From) > 0 {
		from = m.From[0]
	}
	if len(m.From) > 1 {
		m.addFinding("multiple_from", "the From header lists more than one address")
	}
	fromOrg := OrgDomain(from.Domain)
	if from.Domain != "" {
		for _, r := range m.ReplyTo {
			if r.Domain != "" && OrgDomain(r.Domain) != fromOrg {
				m.addFinding("reply_to_mismatch", "Reply-To "+r.Address+" is not in the From domain "+from.Domain)
				break
			}
		}
		if i := strings.LastIndexByte(m.ReturnPath, '@'); i >= 0 {
			if d := m.ReturnPath[i+1:]; OrgDomain(d) != fromOrg {
				m.addFinding("return_path_mismatch", "Return-Path domain "+d+" is not aligned with the From domain "+from.Domain)
			}
		}
		for _, s := range m.Sender {
			if s.Domain != "" && OrgDomain(s.Domain) != fromOrg {
				m.addFinding("sender_mismatch", "Sender "+s.Address+" is not in the From domain "+from.Domain)
				break
			}
		}
		for _, e := range findEmails(from.Name, 3) {
			a := newAddress("", e)
			if OrgDomain(a.Domain) != fromOrg {
				m.addFinding("display_name_spoof", "the From display name shows "+a.Address+" but the address is "+from.Address)
				break
			}
		}
	}
	bad := func(v string) bool {
		switch v {
		case "fail", "softfail", "permerror", "temperror":
			return true
		}
		return false
	}
	if bad(m.Verdicts.SPF) {
		m.addFinding("spf_"+m.Verdicts.SPF, "SPF result: "+m.Verdicts.SPF)
	}
	if bad(m.Verdicts.DKIM) {
		m.addFinding("dkim_"+m.Verdicts.DKIM, "DKIM result: "+m.Verdicts.DKIM)
	}
	if bad(m.Verdicts.DMARC) {
		m.addFinding("dmarc_"+m.Verdicts.DMARC, "DMARC result: "+m.Verdicts.DMARC)
	}
	for _, u := range m.URLs {
		if u.Text == "" || u.Host == "" {
			continue
		}
		t := strings.ToLower(strings.TrimSpace(u.Text))
		if !strings.Contains(t, ".") || strings.ContainsAny(t, " \t\n") {
			continue
		}
		if !strings.Contains(t, "://") {
			t = "http://" + t
		}
		tu, err := url.Parse(t)
		if err != nil || tu.Hostname() == "" || !strings.Contains(tu.Hostname(), ".") {
			continue
		}
		if OrgDomain(tu.Hostname()) != OrgDomain(u.Host) {
			m.addFinding("link_text_mismatch", "link text shows "+tu.Hostname()+" but points to "+u.Host)
		}
	}
	if m.Opaque() {
		m.addFinding("opaque_rewritten_link", "a rewritten link could not be decoded")
	}
}

// Opaque reports whether any URL is hidden behind a rewriter that cannot
// be decoded offline.
func (m *Message) Opaque() bool {
	for _, u := range m.URLs {
		if u.Opaque {
			return true
		}
	}
	return false
}

// HasFinding reports whether m carries a finding with the given code.
func (m *Message) HasFinding(code string) bool {
	for _, f := range m.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}

type set map[string]struct{}

func (s set) add(v string) {
	if v != "" && len(s) < 5000 {
		s[v] = struct{}{}
	}
}

func (s set) sorted() []string {
	out := make([]string, 0, len(s))
	for v := range s {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// observe fills m.Observables.
func (m *Message) observe(visible string) {
	ips, domains, urls, emails, hashes := set{}, set{}, set{}, set{}, set{}
	for _, h := range m.Received {
		if a, err := netip.ParseAddr(h.FromIP); err == nil && a.IsGlobalUnicast() && !a.IsPrivate() {
			ips.add(a.String())
		}
	}
	addAddr := func(a Address) {
		emails.add(a.Address)
		domains.add(a.Domain)
	}
	for _, l := range [][]Address{m.From, m.ReplyTo, m.Sender} {
		for _, a := range l {
			addAddr(a)
		}
	}
	if m.ReturnPath != "" {
		addAddr(newAddress("", m.ReturnPath))
	}
	for _, u := range m.URLs {
		urls.add(u.URL)
		domains.add(u.HintDomain)
		if u.Host == "" {
			continue
		}
		if a, err := netip.ParseAddr(strings.Trim(u.Host, "[]")); err == nil {
			ips.add(a.String())
		} else {
			domains.add(u.Host)
		}
	}
	for _, t := range append(append([]string{}, m.textParts...), visible) {
		for _, e := range findEmails(t, 200) {
			addAddr(newAddress("", e))
		}
	}
	for _, a := range m.Attachments {
		hashes.add(a.SHA256)
	}
	// The origin is the earliest (bottom-most) hop coming from a public address.
	for i := len(m.Received) - 1; i >= 0; i-- {
		if a, err := netip.ParseAddr(m.Received[i].FromIP); err == nil && a.IsGlobalUnicast() && !a.IsPrivate() {
			m.OriginIP = a.String()
			break
		}
	}
	m.Observables = Observables{
		IPs: ips.sorted(), Domains: domains.sorted(), URLs: urls.sorted(),
		Emails: emails.sorted(), Hashes: hashes.sorted(),
	}
}
