package mailparse

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestParsePathological feeds inputs built to make a naive parser slow or
// hungry and checks that each finishes quickly with its limit flagged.
func TestParsePathological(t *testing.T) {
	const n = 4 << 20
	tests := []struct {
		name, raw, flag string
	}{
		{"many urls", "Content-Type: text/plain\n\n" + strings.Repeat("http://a.example/x ", n/19), ""},
		{"distinct urls", "Content-Type: text/plain\n\n" + strings.Repeat("http://a.example/x1 http://b.example/y2 ", n/40), ""},
		{"many anchors", "Content-Type: text/html\n\n" + strings.Repeat("<a href='https://www.google.com/url?q=http://y.example/'>www.z.example</a>", n/75), ""},
		{"many boundaries", "Content-Type: multipart/mixed; boundary=b\n\n" + strings.Repeat("--b\n", n/4), FlagPartLimit},
		{"many forward markers", "Content-Type: text/plain\n\n" + strings.Repeat("-----Original Message-----\nFrom x\n", n/36), ""},
		{"many received", strings.Repeat("Received: from a ([192.0.2.1]) by b; x\n", n/40) + "\n", FlagHeaderLimit},
		{"endless folding", "Subject: x\n" + strings.Repeat(" y\n", n/3) + "\n", ""},
		{"nested rfc822", strings.Repeat("Content-Type: message/rfc822\n\n", n/30), FlagDepthLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := ParseBytes([]byte(tt.raw), Limits{})
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v", d)
			}
			if tt.flag != "" && !res.HasFlag(tt.flag) {
				t.Errorf("Flags = %v, want %s", res.Flags, tt.flag)
			}
			if len(res.Reported.URLs) > DefaultLimits().MaxURLs || len(res.Reported.Subject) > 64<<10+16 {
				t.Errorf("limits not applied: %d URLs, subject %d bytes", len(res.Reported.URLs), len(res.Reported.Subject))
			}
		})
	}
}

func TestParseHTMLOnlyInlineForward(t *testing.T) {
	raw := "From: ana@client.example\nSubject: Fwd: pay\nContent-Type: text/html\n\n" +
		"<div>look</div><div>---------- Forwarded message ---------<br>From: CFO &lt;cfo@ceo-office.example&gt;<br>Subject: Urgent wire<br><br></div>" +
		"<div>Pay <a href=\"https://invoice.ceo-office.example/pay\">here</a></div>"
	res := ParseBytes([]byte(raw), Limits{})
	m := res.Reported
	if res.Source != SourceInline || len(m.From) == 0 || m.From[0].Address != "cfo@ceo-office.example" || m.Subject != "Urgent wire" {
		t.Fatalf("Parse = %v %+v %q", res.Source, m.From, m.Subject)
	}
	if len(m.URLs) != 1 || m.URLs[0].URL != "https://invoice.ceo-office.example/pay" || m.URLs[0].Text != "here" {
		t.Errorf("URLs = %+v", m.URLs)
	}
}

func TestAuthResultsARC(t *testing.T) {
	raw := "ARC-Authentication-Results: i=1; relay.example; spf=pass smtp.mailfrom=a.example; dkim=pass header.d=a.example header.s=sel; dmarc=pass header.from=a.example\n" +
		"ARC-Seal: i=2; cv=pass; d=relay2.example\n" +
		"Authentication-Results: mx.example (version 1); arc=pass (i=2); spf=fail (sender IP is 192.0.2.1) smtp.mailfrom=a.example; dkim=pass header.i=@a.example header.b=\"abc def\"\n" +
		"From: x@a.example\n\nbody"
	m := ParseBytes([]byte(raw), Limits{}).Reported
	want := Verdicts{SPF: "fail", DKIM: "pass", DMARC: "pass", ARC: "pass"}
	if m.Verdicts != want {
		t.Errorf("Verdicts = %+v, want %+v", m.Verdicts, want)
	}
	if len(m.Auth) != 2 || !m.Auth[0].ARC || m.Auth[0].Instance != 1 || m.Auth[0].AuthServID != "relay.example" {
		t.Fatalf("Auth = %+v", m.Auth)
	}
	if got := m.Auth[1].Methods[2].Props["header.b"]; got != "abc def" {
		t.Errorf("quoted property = %q, want %q", got, "abc def")
	}
	if m.Auth[0].Methods[1].Props["header.s"] != "sel" {
		t.Errorf("ARC dkim props = %+v", m.Auth[0].Methods[1].Props)
	}
}

func TestReceivedTolerant(t *testing.T) {
	tests := []struct {
		in   string
		want Hop
	}{
		{"from [IPv6:2001:db8::1] (helo=x) by mx.example with esmtp id 1; Mon, 2 Nov 2026 10:00:00 -0500",
			Hop{From: "[ipv6:2001:db8::1]", FromIP: "2001:db8::1", By: "mx.example", With: "esmtp", ID: "1"}},
		{"by localhost with local; garbage date", Hop{By: "localhost", With: "local"}},
		{"from unknown (HELO x) (192.0.2.9)", Hop{From: "unknown", FromIP: "192.0.2.9"}},
		{"", Hop{}},
	}
	for _, tt := range tests {
		got := parseReceived(tt.in)
		got.Raw, got.Time = "", time.Time{}
		if got != tt.want {
			t.Errorf("parseReceived(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestHTMLAttachmentLinks(t *testing.T) {
	raw := "From: a@b.example\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n\nsee attached\n--x\n" +
		"Content-Type: application/octet-stream; name=\"Remittance.htm\"\nContent-Disposition: attachment; filename=\"Remittance.htm\"\nContent-Transfer-Encoding: base64\n\n" +
		base64.StdEncoding.EncodeToString([]byte(`<form action="https://harvest.example/post.php"><input name=p></form><script>location='https://js.example/'</script>`)) + "\n--x--\n"
	m := ParseBytes([]byte(raw), Limits{}).Reported
	if len(m.Attachments) != 1 || m.Attachments[0].Name != "Remittance.htm" {
		t.Fatalf("Attachments = %+v", m.Attachments)
	}
	if len(m.URLs) != 1 || m.URLs[0].URL != "https://harvest.example/post.php" || m.URLs[0].Source != "attachment" {
		t.Errorf("URLs = %+v", m.URLs)
	}
	if m.Text != "see attached" {
		t.Errorf("Text = %q", m.Text)
	}
}

func TestResultJSON(t *testing.T) {
	res := ParseBytes([]byte(report(phishEML)), Limits{})
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatalf("Marshal = %v", err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Unmarshal = %v", err)
	}
	if back.Reported.MessageID != "abc123@bulk-sender.example" || back.Reported.Verdicts.DMARC != "fail" || len(back.Reported.Observables.Hashes) != 1 {
		t.Errorf("round trip lost data: %+v", back.Reported)
	}
}

func TestCharsets(t *testing.T) {
	tests := []struct {
		name, raw, want string
		bad             bool
	}{
		{"latin1", "Content-Type: text/plain; charset=ISO-8859-1\n\nCaf\xe9 se\xf1or", "Café señor", false},
		{"windows-1252", "Content-Type: text/plain; charset=windows-1252\n\n\x93quoted\x94 \x80", "“quoted” €", false},
		{"mislabelled utf-8", "Content-Type: text/plain; charset=utf-8\n\n\x93hi\x94", "“hi”", true},
		{"base64 utf-8", "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString([]byte("año ✓")), "año ✓", false},
		{"unknown", "Content-Type: text/plain; charset=x-unknown\n\nplain", "plain", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ParseBytes([]byte(tt.raw), Limits{})
			if res.Reported.Text != tt.want || res.HasFlag(FlagBadCharset) != tt.bad {
				t.Errorf("Text = %q (flags %v), want %q (bad_charset %v)", res.Reported.Text, res.Flags, tt.want, tt.bad)
			}
		})
	}
}

func TestMimecastHint(t *testing.T) {
	u := unwrap("https://protect-us.mimecast.com/s/Zx9QCJ6rBqSm?domain=login-portal.example")
	if !u.Opaque || u.Rewriter != "mimecast" || u.HintDomain != "login-portal.example" {
		t.Errorf("unwrap = %+v", u)
	}
	u = unwrap("https://eu-api.mimecast.com/redirect?url=https://target.example/")
	if u.URL != "https://target.example/" || u.Opaque {
		t.Errorf("unwrap = %+v", u)
	}
}

func TestHijackedThreadStaysReported(t *testing.T) {
	// An attached phishing message quoting an earlier (real) conversation:
	// the attachment is what was reported, not the quoted history.
	inner := "From: attacker@lookalike.example\r\nSubject: RE: invoice 4411\r\nContent-Type: text/plain\r\n\r\nPlease use the new account https://pay.lookalike.example/\r\n\r\n-----Original Message-----\r\nFrom: buyer@client.example\r\nSubject: invoice 4411\r\n\r\nWhen will you ship?\r\n"
	res := ParseBytes([]byte(report(inner)), Limits{})
	if res.Source != SourceAttachment || res.Reported.From[0].Address != "attacker@lookalike.example" {
		t.Errorf("Reported = %v %+v, want the attached message", res.Source, res.Reported.From)
	}
	// The same attachment with a forward subject is followed inline.
	fwd := strings.Replace(inner, "Subject: RE: invoice", "Subject: Fwd: invoice", 1)
	res = ParseBytes([]byte(report(fwd)), Limits{})
	if res.Source != SourceInline || res.Reported.From[0].Address != "buyer@client.example" {
		t.Errorf("Reported = %v %+v, want the inline forward", res.Source, res.Reported.From)
	}
}

func TestBoundaryPrefix(t *testing.T) {
	raw := "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/alternative; boundary=b2\n\n--b2\nContent-Type: text/plain\n\ninner text\n--b2--\n--b\nContent-Type: application/pdf; name=x.pdf\n\n%PDF\n--b--\n"
	res := ParseBytes([]byte(raw), Limits{})
	m := res.Reported
	if m.Text != "inner text" || len(m.Attachments) != 1 || m.Attachments[0].Name != "x.pdf" || res.HasFlag(FlagMalformedMIME) {
		t.Errorf("Text = %q, Attachments = %+v, Flags = %v", m.Text, m.Attachments, res.Flags)
	}
}

func TestFinders(t *testing.T) {
	s := "mail a.b@x.example, <c@y.example>; no@ or @z; www.site.example/p?q=1. Also HTTPS://UP.example/X and xhttp://no.example and hxxp://defanged.example/"
	if got, want := findEmails(s, 10), []string{"a.b@x.example", "c@y.example"}; !slices.Equal(got, want) {
		t.Errorf("findEmails = %q, want %q", got, want)
	}
	if got, want := findURLs(s, 10), []string{"www.site.example/p?q=1.", "HTTPS://UP.example/X", "hxxp://defanged.example/"}; !slices.Equal(got, want) {
		t.Errorf("findURLs = %q, want %q", got, want)
	}
}
