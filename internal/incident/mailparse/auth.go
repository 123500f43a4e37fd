package mailparse

import (
	"net/mail"
	"net/netip"
	"regexp"
	"strings"
	"time"
)

// AuthResult is one Authentication-Results (RFC 8601) or
// ARC-Authentication-Results header.
type AuthResult struct {
	AuthServID string         `json:"authserv_id,omitempty"`
	ARC        bool           `json:"arc,omitempty"` // from ARC-Authentication-Results
	Instance   int            `json:"instance"`      // ARC instance (i=), 0 otherwise
	Methods    []MethodResult `json:"methods,omitempty"`
}

// MethodResult is one "method=result" statement with its properties.
type MethodResult struct {
	Method string            `json:"method,omitempty"` // spf, dkim, dmarc, arc, …
	Result string            `json:"result,omitempty"` // pass, fail, softfail, neutral, none, temperror, permerror, policy
	Reason string            `json:"reason,omitempty"` // reason= text, if any
	Props  map[string]string `json:"props,omitempty"`  // "smtp.mailfrom" → "example.com", "header.d" → …
}

// Verdicts summarises the first (topmost, i.e. nearest receiver)
// verdict per method. An empty string means no verdict was recorded.
type Verdicts struct {
	SPF   string `json:"spf,omitempty"`
	DKIM  string `json:"dkim,omitempty"`
	DMARC string `json:"dmarc,omitempty"`
	ARC   string `json:"arc,omitempty"`
}

// quotedSpace stands for a blank inside a quoted string until the
// statement is split into words.
const quotedSpace = 0x1f

// tokenizeAR splits an Authentication-Results value into ';'-separated
// statements, dropping (comments) and honouring "quoted strings".
func tokenizeAR(v string) []string {
	var out []string
	var b strings.Builder
	depth := 0
	quoted := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quoted:
			if c == '\\' && i+1 < len(v) {
				i++
				b.WriteByte(v[i])
				continue
			}
			if c == '"' {
				quoted = false
				continue
			}
			if c == ' ' || c == '\t' {
				c = quotedSpace
			}
			b.WriteByte(c)
		case c == '(':
			depth++
		case c == ')':
			if depth > 0 {
				depth--
			}
		case depth > 0:
		case c == '"':
			quoted = true
		case c == ';':
			out = append(out, strings.TrimSpace(b.String()))
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	out = append(out, strings.TrimSpace(b.String()))
	return out
}

// parseAuthResults parses one header value. Unknown syntax is skipped.
func parseAuthResults(v string, arc bool) AuthResult {
	ar := AuthResult{ARC: arc}
	stmts := tokenizeAR(v)
	if arc && len(stmts) > 0 {
		if k, val, ok := strings.Cut(stmts[0], "="); ok && strings.TrimSpace(strings.ToLower(k)) == "i" {
			n := 0
			for _, c := range strings.TrimSpace(val) {
				if c < '0' || c > '9' || n > 1000 {
					break
				}
				n = n*10 + int(c-'0')
			}
			ar.Instance = n
			stmts = stmts[1:]
		}
	}
	if len(stmts) == 0 {
		return ar
	}
	// authserv-id [version]; the first statement may already be a result
	// when the id is missing.
	first := strings.Fields(stmts[0])
	if len(first) > 0 && !strings.Contains(first[0], "=") {
		ar.AuthServID = strings.ToLower(first[0])
		stmts = stmts[1:]
	}
	for _, st := range stmts {
		toks := strings.Fields(st)
		if len(toks) == 0 || strings.EqualFold(toks[0], "none") {
			continue
		}
		k, val, ok := strings.Cut(toks[0], "=")
		if !ok {
			continue
		}
		method, _, _ := strings.Cut(strings.ToLower(k), "/")
		mr := MethodResult{Method: method, Result: strings.ToLower(strings.ReplaceAll(val, string(rune(quotedSpace)), " ")), Props: map[string]string{}}
		for _, t := range toks[1:] {
			pk, pv, ok := strings.Cut(t, "=")
			if !ok {
				// Continuation of a multi-word reason.
				if mr.Reason != "" {
					mr.Reason += " " + t
				}
				continue
			}
			pk = strings.ToLower(pk)
			pv = strings.ReplaceAll(pv, string(rune(quotedSpace)), " ")
			if pk == "reason" {
				mr.Reason = pv
				continue
			}
			if len(mr.Props) < 32 {
				mr.Props[pk] = pv
			}
		}
		if len(ar.Methods) < 64 {
			ar.Methods = append(ar.Methods, mr)
		}
	}
	return ar
}

// summarize returns the topmost verdict for each method. Plain
// Authentication-Results win over ARC ones; ARC falls back to ARC-Seal cv=.
func summarize(m *Message) Verdicts {
	var v Verdicts
	set := func(dst *string, val string) {
		if *dst == "" {
			*dst = val
		}
	}
	for _, pass := range []bool{false, true} {
		for _, ar := range m.Auth {
			if ar.ARC != pass {
				continue
			}
			for _, mr := range ar.Methods {
				switch mr.Method {
				case "spf":
					set(&v.SPF, mr.Result)
				case "dkim":
					set(&v.DKIM, mr.Result)
				case "dmarc":
					set(&v.DMARC, mr.Result)
				case "arc":
					set(&v.ARC, mr.Result)
				}
			}
		}
	}
	if v.ARC == "" {
		for _, f := range m.Headers {
			if !strings.EqualFold(f.Name, "ARC-Seal") {
				continue
			}
			for _, t := range strings.Split(f.Value, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(t), "=")
				if ok && strings.EqualFold(k, "cv") {
					set(&v.ARC, strings.ToLower(strings.TrimSpace(val)))
				}
			}
			break
		}
	}
	return v
}

// Hop is one Received header, parsed tolerantly.
type Hop struct {
	From   string    `json:"from,omitempty"`    // host name given after "from" (HELO or reverse DNS)
	FromIP string    `json:"from_ip,omitempty"` // first IP address found in the "from" clause
	By     string    `json:"by,omitempty"`
	With   string    `json:"with,omitempty"`
	ID     string    `json:"id,omitempty"`
	For    string    `json:"for,omitempty"`
	Time   time.Time `json:"time"` // zero when unparsable
	Raw    string    `json:"raw,omitempty"`
}

var (
	ipv4RE = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	ipv6RE = regexp.MustCompile(`(?i)\[(?:ipv6:)?([0-9a-f:.]*:[0-9a-f:.]+)\]`)
)

// parseReceived parses a Received value such as
// "from mx.example (mx.example [192.0.2.1]) by mx.local with ESMTPS id X for <a@b>; Tue, 1 Jan 2026 10:00:00 +0000".
func parseReceived(v string) Hop {
	h := Hop{Raw: v}
	clause := v
	if i := strings.LastIndexByte(v, ';'); i >= 0 {
		clause = v[:i]
		if t, err := mail.ParseDate(strings.TrimSpace(v[i+1:])); err == nil {
			h.Time = t
		}
	}
	// Walk the tokens; a keyword's value is the next token. Text in
	// parentheses belongs to the clause before it.
	toks := strings.Fields(clause)
	fromClause := ""
	cur := ""
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		lt := strings.ToLower(t)
		switch lt {
		case "from", "by", "with", "id", "for", "via":
			cur = lt
			if i+1 < len(toks) {
				val := strings.Trim(toks[i+1], "<>;")
				switch lt {
				case "from":
					h.From = strings.ToLower(val)
				case "by":
					h.By = strings.ToLower(val)
				case "with":
					h.With = val
				case "id":
					h.ID = val
				case "for":
					h.For = strings.ToLower(val)
				}
				if lt == "from" {
					fromClause += " " + toks[i+1]
				}
				i++
			}
			continue
		}
		if cur == "from" {
			fromClause += " " + t
		}
	}
	h.FromIP = firstIP(fromClause)
	if h.FromIP == "" && h.From != "" {
		if a, err := netip.ParseAddr(strings.Trim(h.From, "[]")); err == nil {
			h.FromIP = a.String()
		}
	}
	return h
}

// firstIP returns the first valid IP address in s, preferring bracketed
// literals.
func firstIP(s string) string {
	for _, m := range ipv6RE.FindAllStringSubmatch(s, 8) {
		if a, err := netip.ParseAddr(m[1]); err == nil {
			return a.Unmap().String()
		}
	}
	for _, m := range ipv4RE.FindAllString(s, 8) {
		if a, err := netip.ParseAddr(m); err == nil {
			return a.String()
		}
	}
	return ""
}
