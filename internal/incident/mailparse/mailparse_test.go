package mailparse

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// phishEML is the suspicious message as the recipient's server stored it.
const phishEML = "Return-Path: <bounce@mailer.bulk-sender.example>\r\n" +
	"Received: from mail.bulk-sender.example (mail.bulk-sender.example [203.0.113.45])\r\n" +
	"\tby mx.custodia-client.example with ESMTPS id 4Xa1b2 for <ana@custodia-client.example>;\r\n" +
	"\tTue, 24 Nov 2026 09:15:02 +0000\r\n" +
	"Received: from [10.0.0.5] (unknown [10.0.0.5]) by mail.bulk-sender.example with ESMTPSA id zz; Tue, 24 Nov 2026 09:15:00 +0000\r\n" +
	"Authentication-Results: mx.custodia-client.example;\r\n" +
	"\tspf=softfail (domain of transitioning bounce@mailer.bulk-sender.example) smtp.mailfrom=mailer.bulk-sender.example;\r\n" +
	"\tdkim=none;\r\n" +
	"\tdmarc=fail reason=\"p=reject sp=reject\" header.from=banco-seguro.example\r\n" +
	"ARC-Seal: i=1; a=rsa-sha256; cv=none; d=relay.example; s=arc; b=abc\r\n" +
	"From: =?ISO-8859-1?Q?Banco_Seguro_Atenci=F3n?= <avisos@banco-seguro.example>\r\n" +
	"Reply-To: soporte@secure-helpdesk.example\r\n" +
	"To: ana@custodia-client.example\r\n" +
	"Subject: =?windows-1252?Q?Verificaci=F3n_urgente_=96_cuenta?=\r\n" +
	"Date: Tue, 24 Nov 2026 09:14:55 +0000\r\n" +
	"Message-ID: <abc123@bulk-sender.example>\r\n" +
	"X-Injected: ok=?UTF-8?Q?a=0D=0ABcc:_victim@example.com?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"outer\"\r\n" +
	"\r\n" +
	"--outer\r\n" +
	"Content-Type: multipart/alternative; boundary=\"alt\"\r\n" +
	"\r\n" +
	"--alt\r\n" +
	"Content-Type: text/plain; charset=windows-1252\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Estimado cliente, verifique su cuenta =96 gracias.\r\n" +
	"Visite www.banco-seguro-login.example/entrar hoy.\r\n" +
	"--alt\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"\r\n" +
	"<html><body><p>Pulse <a href=\"https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil.example%2Fpay%3Fid%3D7&data=05%7C01&reserved=0\">https://www.banco-seguro.example/login</a></p>" +
	"<a href=\"https://urldefense.proofpoint.com/v2/url?u=https-3A__phish.example_login-3Fid-3D1&d=DwMF&c=x&r=y&m=z&s=w&e=\">aqui</a>" +
	"<a href=\"https://urldefense.com/v3/__https://v3.example/a?b=c*d=1__;Jg!!ORG!sig$\">v3</a>" +
	"<a href=\"https://www.google.com/url?q=https://redirected.example/x&sa=D\">g</a>" +
	"<a href=\"https://protect-eu.mimecast.com/s/AbCdEfGhIj?domain=\">m</a>" +
	"<a href=\"https://evil.example/pay?id=7\">dup</a>" +
	"<a href=\"mailto:soporte@secure-helpdesk.example\">mail</a>" +
	"<script>var u='https://script.example/';</script></body></html>\r\n" +
	"--alt--\r\n" +
	"--outer\r\n" +
	"Content-Type: application/zip; name=\"factura.zip\"\r\n" +
	"Content-Disposition: attachment; filename=\"factura.zip\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"UEsDBBQAAAAIAA==\r\n" +
	"--outer--\r\n"

// report wraps the suspicious message as a "report phishing" button does.
func report(inner string) string {
	return reportB(inner, "rep")
}

func reportB(inner, b string) string {
	return "From: Ana <ana@custodia-client.example>\r\n" +
		"To: phishing@custodia.example\r\n" +
		"Subject: FW: suspicious\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"" + b + "\"\r\n" +
		"\r\n" +
		"--" + b + "\r\n" +
		"Content-Type: text/plain\r\n" +
		"\r\n" +
		"This looks fake. See https://intranet.custodia-client.example/help\r\n" +
		"--" + b + "\r\n" +
		"Content-Type: message/rfc822\r\n" +
		"Content-Disposition: attachment; filename=\"phish.eml\"\r\n" +
		"\r\n" +
		inner +
		"\r\n--" + b + "--\r\n"
}

func TestParseAttachedReport(t *testing.T) {
	res := ParseBytes([]byte(report(phishEML)), Limits{})
	if res.Source != SourceAttachment || res.Depth != 1 {
		t.Fatalf("Source, Depth = %v, %d, want attachment, 1", res.Source, res.Depth)
	}
	m := res.Reported
	if got := m.From[0]; got.Address != "avisos@banco-seguro.example" || got.Name != "Banco Seguro Atención" || got.Domain != "banco-seguro.example" {
		t.Errorf("From = %+v", got)
	}
	if m.Subject != "Verificación urgente – cuenta" {
		t.Errorf("Subject = %q", m.Subject)
	}
	if m.ReturnPath != "bounce@mailer.bulk-sender.example" {
		t.Errorf("ReturnPath = %q", m.ReturnPath)
	}
	if m.MessageID != "abc123@bulk-sender.example" {
		t.Errorf("MessageID = %q", m.MessageID)
	}
	if want := time.Date(2026, 11, 24, 9, 14, 55, 0, time.UTC); !m.Date.Equal(want) {
		t.Errorf("Date = %v, want %v", m.Date, want)
	}
	if v := m.Header("X-Injected"); strings.ContainsAny(v, "\r\n") {
		t.Errorf("X-Injected keeps CR/LF: %q", v)
	}
	if !res.HasFlag(FlagHeaderInject) {
		t.Errorf("Flags = %v, want %s", res.Flags, FlagHeaderInject)
	}
	wantV := Verdicts{SPF: "softfail", DKIM: "none", DMARC: "fail", ARC: "none"}
	if m.Verdicts != wantV {
		t.Errorf("Verdicts = %+v, want %+v", m.Verdicts, wantV)
	}
	if ar := m.Auth[0]; ar.AuthServID != "mx.custodia-client.example" || ar.Methods[0].Props["smtp.mailfrom"] != "mailer.bulk-sender.example" || ar.Methods[2].Reason != "p=reject sp=reject" {
		t.Errorf("Auth[0] = %+v", ar)
	}
	if len(m.Received) != 2 {
		t.Fatalf("len(Received) = %d, want 2", len(m.Received))
	}
	h := m.Received[0]
	if h.From != "mail.bulk-sender.example" || h.FromIP != "203.0.113.45" || h.By != "mx.custodia-client.example" || h.With != "ESMTPS" || h.For != "ana@custodia-client.example" || h.Time.IsZero() {
		t.Errorf("Received[0] = %+v", h)
	}
	for _, code := range []string{"reply_to_mismatch", "return_path_mismatch", "spf_softfail", "dmarc_fail", "link_text_mismatch", "opaque_rewritten_link"} {
		if !m.HasFinding(code) {
			t.Errorf("missing finding %s in %+v", code, m.Findings)
		}
	}
	byURL := map[string]URL{}
	for _, u := range m.URLs {
		byURL[u.URL] = u
	}
	for target, rewriter := range map[string]string{
		"https://evil.example/pay?id=7":                        "safelinks",
		"https://phish.example/login?id=1":                     "proofpoint-v2",
		"https://v3.example/a?b=c&d=1":                         "proofpoint-v3",
		"https://redirected.example/x":                         "google",
		"http://www.banco-seguro-login.example/entrar":         "",
		"https://protect-eu.mimecast.com/s/AbCdEfGhIj?domain=": "",
	} {
		u, ok := byURL[target]
		if !ok {
			t.Errorf("URL %s missing from %v", target, m.URLs)
			continue
		}
		if u.Rewriter != rewriter && !u.Opaque {
			t.Errorf("URL %s rewriter = %q, want %q", target, u.Rewriter, rewriter)
		}
	}
	if u := byURL["https://evil.example/pay?id=7"]; u.Text != "https://www.banco-seguro.example/login" || len(u.Wrapped) != 1 {
		t.Errorf("safelinks URL = %+v", u)
	}
	if _, ok := byURL["https://script.example/"]; ok {
		t.Errorf("URL inside <script> was extracted")
	}
	if _, ok := byURL["https://intranet.custodia-client.example/help"]; ok {
		t.Errorf("the reporter's own note leaked into the reported message")
	}
	if len(m.URLs) != 6 {
		t.Errorf("len(URLs) = %d, want 6 (deduplicated): %+v", len(m.URLs), m.URLs)
	}
	if !strings.Contains(m.Text, "verifique su cuenta – gracias") {
		t.Errorf("Text = %q", m.Text)
	}
	if len(m.Attachments) != 1 {
		t.Fatalf("Attachments = %+v", m.Attachments)
	}
	a := m.Attachments[0]
	if a.Name != "factura.zip" || !a.Archive || a.Size != 10 || len(a.SHA256) != 64 {
		t.Errorf("Attachment = %+v", a)
	}
	obs := m.Observables
	if m.OriginIP != "203.0.113.45" {
		t.Errorf("OriginIP = %q", m.OriginIP)
	}
	if u := byURL["https://protect-eu.mimecast.com/s/AbCdEfGhIj?domain="]; !u.Opaque || u.HintDomain != "" {
		t.Errorf("mimecast URL = %+v", u)
	}
	if !slices.Equal(obs.IPs, []string{"203.0.113.45"}) {
		t.Errorf("IPs = %v", obs.IPs)
	}
	for _, d := range []string{"banco-seguro.example", "secure-helpdesk.example", "evil.example", "phish.example"} {
		if !slices.Contains(obs.Domains, d) {
			t.Errorf("Domains %v lacks %s", obs.Domains, d)
		}
	}
	if !slices.Contains(obs.Emails, "soporte@secure-helpdesk.example") || !slices.Contains(obs.Hashes, a.SHA256) {
		t.Errorf("Observables = %+v", obs)
	}
	// The outer report keeps its own data apart.
	if res.Report.Subject != "FW: suspicious" || len(res.Report.Attachments) != 1 || res.Report.Attachments[0].Name != "phish.eml" {
		t.Errorf("Report = %+v", res.Report)
	}
}

func TestParseBase64AttachedEML(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString([]byte(phishEML))
	var wrapped strings.Builder
	for len(enc) > 76 {
		wrapped.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	wrapped.WriteString(enc)
	raw := "From: a@b.example\nSubject: report\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/octet-stream; name=\"mail.eml\"\nContent-Transfer-Encoding: base64\n\n" +
		wrapped.String() + "\n--b--\n"
	res := ParseBytes([]byte(raw), Limits{})
	if res.Source != SourceAttachment || res.Reported.From[0].Address != "avisos@banco-seguro.example" {
		t.Fatalf("Source = %v, From = %+v", res.Source, res.Reported.From)
	}
}

func TestParseInlineForward(t *testing.T) {
	tests := []struct {
		name, body, from, subject string
	}{
		{"gmail", "FYI\n\n---------- Forwarded message ---------\nFrom: Payroll <payroll@hr-portal.example>\nDate: Mon, 23 Nov 2026 at 10:00\nSubject: Your payslip\nTo: <ana@custodia-client.example>\n\n\nOpen https://hr-portal.example/slip now\n",
			"payroll@hr-portal.example", "Your payslip"},
		{"outlook-es", "Mirad esto\r\n\r\n-----Mensaje original-----\r\nDe: Soporte <it@help-desk.example>\r\nEnviado el: lunes, 23 de noviembre de 2026 10:00\r\nPara: Ana\r\nAsunto: Caducidad de contraseña\r\n\r\nEntre en http://help-desk.example/reset\r\n",
			"it@help-desk.example", "Caducidad de contraseña"},
		{"apple-quoted", "> Begin forwarded message:\n>\n> From: Boss <ceo@lookalike.example>\n> Subject: Wire transfer\n>\n> Please pay https://pay.lookalike.example/inv\n",
			"ceo@lookalike.example", "Wire transfer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := "From: ana@custodia-client.example\nSubject: Fwd\nContent-Type: text/plain; charset=utf-8\n\n" + tt.body
			res := ParseBytes([]byte(raw), Limits{})
			m := res.Reported
			if res.Source != SourceInline || len(m.From) == 0 || m.From[0].Address != tt.from || m.Subject != tt.subject {
				t.Fatalf("Parse = source %v from %+v subject %q, want inline %s %q", res.Source, m.From, m.Subject, tt.from, tt.subject)
			}
			if len(m.URLs) != 1 || !strings.Contains(m.URLs[0].Host, strings.Split(tt.from, "@")[1]) {
				t.Errorf("URLs = %+v", m.URLs)
			}
		})
	}
}

func TestParseNestedForwards(t *testing.T) {
	msg := phishEML
	for i := range 3 {
		msg = reportB(msg, fmt.Sprintf("level%d", i))
	}
	res := ParseBytes([]byte(msg), Limits{})
	if res.Depth != 3 || res.Reported.MessageID != "abc123@bulk-sender.example" {
		t.Fatalf("Depth = %d, MessageID = %q, want 3, abc123@bulk-sender.example", res.Depth, res.Reported.MessageID)
	}
}

func TestParseDepthLimit(t *testing.T) {
	msg := "Subject: bottom\n\nx\n"
	for range 200 {
		msg = "Content-Type: message/rfc822\n\n" + msg
	}
	res := ParseBytes([]byte(msg), Limits{MaxDepth: 10})
	if !res.HasFlag(FlagDepthLimit) || res.Depth > 10 {
		t.Fatalf("Flags = %v, Depth = %d, want depth_limit and at most 10", res.Flags, res.Depth)
	}
	// Deeply nested multiparts too.
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i)
	}
	res = ParseBytes([]byte(b.String()), Limits{})
	if !res.HasFlag(FlagDepthLimit) {
		t.Fatalf("Flags = %v, want depth_limit", res.Flags)
	}
}

func TestParseHostile(t *testing.T) {
	manyHeaders := strings.Repeat("X-A: b\n", 10000) + "\nbody"
	manyParts := "Content-Type: multipart/mixed; boundary=z\n\n" + strings.Repeat("--z\n\nx\n", 5000) + "--z--\n"
	tests := []struct {
		name string
		raw  string
		lim  Limits
		flag string
	}{
		{"truncated", phishEML, Limits{MaxTotal: 600}, FlagTruncated},
		{"header limit", manyHeaders, Limits{}, FlagHeaderLimit},
		{"part limit", manyParts, Limits{MaxParts: 100}, FlagPartLimit},
		{"no closing boundary", "Content-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: text/plain\n\nhello http://x.example/", Limits{}, FlagMalformedMIME},
		{"no boundary param", "Content-Type: multipart/mixed\n\nhello", Limits{}, FlagMalformedMIME},
		{"bad charset", "Content-Type: text/plain; charset=x-klingon\n\nqapla", Limits{}, FlagBadCharset},
		{"bad base64", "Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n!!!!QUJD\nRA", Limits{}, ""},
		{"part too big", "Content-Type: application/octet-stream\n\n" + strings.Repeat("A", 5000), Limits{MaxPart: 1000}, FlagTruncated},
		{"no header end", "From: a@b.example\nSubject: x", Limits{}, FlagMalformedMIME},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ParseBytes([]byte(tt.raw), tt.lim)
			if res.Reported == nil {
				t.Fatal("Reported = nil")
			}
			if tt.flag != "" && !res.HasFlag(tt.flag) {
				t.Errorf("Flags = %v, want %s", res.Flags, tt.flag)
			}
		})
	}
	res := ParseBytes([]byte("Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n!!!!QUJD\nRA"), Limits{})
	if a := res.Reported.Attachments; len(a) != 1 || a[0].Size != 4 {
		t.Errorf("sloppy base64 attachment = %+v, want 4 bytes (ABCD)", a)
	}
	res = ParseBytes([]byte("Content-Type: application/octet-stream\n\n"+strings.Repeat("A", 5000)), Limits{MaxPart: 1000})
	if a := res.Reported.Attachments[0]; a.Size != 1000 || !a.Truncated {
		t.Errorf("capped attachment = %+v", a)
	}
}

func TestUnwrap(t *testing.T) {
	tests := []struct{ in, want, rewriter string }{
		{"https://nam02.safelinks.protection.outlook.com/?url=http%3A%2F%2Fa.example%2F&data=x", "http://a.example/", "safelinks"},
		{"https://urldefense.proofpoint.com/v2/url?u=http-3A__b.example_p-5Fq&d=x", "http://b.example/p_q", "proofpoint-v2"},
		{"https://urldefense.com/v3/__https://c.example/x**Ay__;JiYm!!X!Y$", "https://c.example/x&&y", "proofpoint-v3"},
		{"https://urldefense.com/v3/__https://d.example/__;!!X!Y$", "https://d.example/", "proofpoint-v3"},
		{"https://www.google.com/url?q=https://e.example/&sa=D", "https://e.example/", "google"},
		// Nested: Safe Links around a Google redirect.
		{"https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.google.com%2Furl%3Fq%3Dhttps%3A%2F%2Ff.example%2F", "https://f.example/", "safelinks"},
		{"https://plain.example/?url=https://x.example/", "https://plain.example/?url=https://x.example/", ""},
	}
	for _, tt := range tests {
		got := unwrap(tt.in)
		if got.URL != tt.want || got.Rewriter != tt.rewriter {
			t.Errorf("unwrap(%q) = %q (%q), want %q (%q)", tt.in, got.URL, got.Rewriter, tt.want, tt.rewriter)
		}
	}
}

func TestOrgDomain(t *testing.T) {
	for in, want := range map[string]string{
		"mail.example.com": "example.com", "a.b.example.co.uk": "example.co.uk",
		"sede.agencia.gob.es": "agencia.gob.es", "example.es": "example.es", "x.": "x",
	} {
		if got := OrgDomain(in); got != want {
			t.Errorf("OrgDomain(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseReaderCap(t *testing.T) {
	res, err := Parse(bytes.NewReader([]byte(strings.Repeat("x", 3000))), Limits{MaxTotal: 1000})
	if err != nil || !res.HasFlag(FlagTruncated) {
		t.Fatalf("Parse = %v, %v, want truncated", res.Flags, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(report(phishEML)))
	f.Add([]byte(phishEML))
	f.Add([]byte("From: a@b\n\n---------- Forwarded message ---------\nFrom: x@y.example\nSubject: s\n\nhttp://z.example/"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: message/rfc822\n\nContent-Type: multipart/mixed; boundary=a\n\n--a\n"))
	f.Add([]byte("Subject: =?x-bad?B?////?=\nContent-Transfer-Encoding: base64\n\n===="))
	f.Fuzz(func(t *testing.T, raw []byte) {
		lim := Limits{MaxTotal: 1 << 16, MaxPart: 1 << 14, MaxDepth: 6, MaxParts: 64, MaxURLs: 64}
		res := ParseBytes(raw, lim)
		if res.Reported == nil || res.Report == nil {
			t.Fatal("nil message")
		}
		for _, f := range res.Reported.Headers {
			if strings.ContainsAny(f.Value, "\r\n") || strings.ContainsAny(f.Name, "\r\n") {
				t.Fatalf("header %q keeps CR/LF", f.Name)
			}
		}
		if len(res.Reported.URLs) > lim.MaxURLs || res.Depth > lim.MaxDepth {
			t.Fatalf("limits exceeded: %d URLs, depth %d", len(res.Reported.URLs), res.Depth)
		}
		for _, a := range res.Reported.Attachments {
			if a.Size > lim.MaxPart {
				t.Fatalf("attachment of %d bytes kept", a.Size)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	raw := []byte(report(phishEML))
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		ParseBytes(raw, Limits{})
	}
}

// BenchmarkParseLarge parses a 5 MiB report with a big base64 attachment.
func BenchmarkParseLarge(b *testing.B) {
	enc := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("PK\x03\x04zipdata"), 300_000))
	raw := []byte(strings.Replace(phishEML, "UEsDBBQAAAAIAA==", enc, 1))
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		ParseBytes(raw, Limits{})
	}
}
