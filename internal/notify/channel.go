package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Channel kinds.
const (
	KindEmail   = "email"
	KindWebhook = "webhook"
	KindSlack   = "slack"
	KindTeams   = "teams"
)

// Kinds are the channel kinds, in display order.
var Kinds = []string{KindEmail, KindWebhook, KindSlack, KindTeams}

// Sensitivity settings: a channel never receives more than its setting
// allows. Summary channels get the kind, severity, reference, title,
// summary and link; details channels also get Details.
const (
	SensitivitySummary = "summary"
	SensitivityDetails = "details"
)

// Severities in increasing order (a rule's minimum severity compares on it).
var Severities = []string{"low", "medium", "high", "critical"}

// EventKinds are the event kinds a rule can select.
var EventKinds = []string{"incident.created", "incident.updated", "incident.sla_breached", "report.received", "alert.raised",
	"clock.started", "clock.warning", "clock.overdue", "breach.flagged", "notify.test"}

// Rule selects the events a channel receives. Empty fields match everything.
type Rule struct {
	Kinds       []string `json:"kinds"`
	MinSeverity string   `json:"min_severity"`
	Categories  []string `json:"categories"`
	ClientIDs   []int64  `json:"client_ids"`
}

// Match reports whether e passes the rule. A rule limited to clients only
// matches events that concern one of them (operator-wide events do not).
func (r Rule) Match(e Event) bool {
	if len(r.Kinds) > 0 && !slices.Contains(r.Kinds, e.Kind) {
		return false
	}
	if r.MinSeverity != "" && slices.Index(Severities, e.Severity) < slices.Index(Severities, r.MinSeverity) {
		return false
	}
	if len(r.Categories) > 0 && !slices.Contains(r.Categories, e.Category) {
		return false
	}
	if len(r.ClientIDs) > 0 {
		ok := false
		for _, id := range e.ClientIDs {
			if slices.Contains(r.ClientIDs, id) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// Limit returns e as a channel of the given sensitivity may receive it:
// without Details unless the sensitivity is "details".
func Limit(e Event, sensitivity string) Event {
	if sensitivity != SensitivityDetails {
		e.Details = ""
	}
	return e
}

// Target is a channel's destination in clear: what the sender needs.
type Target struct {
	Kind string
	// Address is the webhook URL, or a comma-separated list of e-mail addresses.
	Address string
	// Secret signs webhook bodies (HMAC-SHA256); empty for other kinds.
	Secret string
}

// ValidateTarget checks a channel's destination. Webhook URLs must be
// https (the body carries incident data and the URL may be a credential).
func ValidateTarget(t Target) error {
	switch t.Kind {
	case KindEmail:
		addrs := splitAddresses(t.Address)
		if len(addrs) == 0 {
			return errors.New("at least one e-mail address is required")
		}
		for _, a := range addrs {
			if _, err := mail.ParseAddress(a); err != nil {
				return fmt.Errorf("%q is not an e-mail address", a)
			}
		}
	case KindWebhook, KindSlack, KindTeams:
		u, err := url.Parse(strings.TrimSpace(t.Address))
		if err != nil || u.Host == "" || u.Scheme != "https" {
			return errors.New("the URL must be an absolute https URL")
		}
		if u.User != nil {
			return errors.New("the URL must not carry a user name or password")
		}
		if t.Kind == KindWebhook && len(t.Secret) < 16 {
			return errors.New("a webhook needs a signing secret of at least 16 characters")
		}
	default:
		return fmt.Errorf("unknown channel kind %q", t.Kind)
	}
	return nil
}

func splitAddresses(s string) []string {
	var out []string
	for _, a := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// SignatureHeader carries a webhook's signature: "t=<unix seconds>,v1=<hex
// HMAC-SHA256 of "<t>.<body>">".
const SignatureHeader = "X-Custodia-Signature"

// Sign returns the SignatureHeader value for body sent at ts.
func Sign(secret string, ts time.Time, body []byte) string {
	t := strconv.FormatInt(ts.Unix(), 10)
	return "t=" + t + ",v1=" + mac(secret, t, body)
}

func mac(secret, t string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(t))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature reports a webhook signature that does not verify.
var ErrBadSignature = errors.New("webhook signature does not verify")

// Verify checks a SignatureHeader value against body, accepting timestamps
// within tolerance of now (replay protection). Receivers use it.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var t, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			t = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(t, 10, 64)
	if err != nil || sig == "" {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp outside the tolerance", ErrBadSignature)
	}
	if !hmac.Equal([]byte(sig), []byte(mac(secret, t, body))) {
		return ErrBadSignature
	}
	return nil
}

// WebhookBody is the JSON a generic webhook receives.
type WebhookBody struct {
	Kind       string    `json:"kind"`
	Severity   string    `json:"severity,omitempty"`
	Category   string    `json:"category,omitempty"`
	ClientIDs  []int64   `json:"client_ids,omitempty"`
	IncidentID int64     `json:"incident_id,omitempty"`
	Ref        string    `json:"ref,omitempty"`
	Title      string    `json:"title"`
	Summary    string    `json:"summary,omitempty"`
	Details    string    `json:"details,omitempty"`
	URL        string    `json:"url,omitempty"`
	At         time.Time `json:"at"`
}

// Sender delivers events to channels.
type Sender struct {
	// HTTP posts to webhooks (default: a client with a 15 s timeout that
	// does not follow redirects).
	HTTP *http.Client
	// Mailer sends e-mail channels; nil makes them fail ("not configured").
	Mailer Mailer
	// Now is the clock for signatures (default time.Now).
	Now func() time.Time
}

func (s *Sender) client() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Send delivers e (already limited to the channel's sensitivity) to t.
func (s *Sender) Send(ctx context.Context, t Target, e Event) error {
	switch t.Kind {
	case KindEmail:
		if s.Mailer == nil {
			return errors.New("e-mail is not configured (notify-smtp-addr)")
		}
		return s.Mailer.Send(ctx, EmailMessage(splitAddresses(t.Address), e))
	case KindWebhook:
		body, err := json.Marshal(WebhookBody{Kind: e.Kind, Severity: e.Severity, Category: e.Category, ClientIDs: e.ClientIDs, IncidentID: e.IncidentID,
			Ref: e.Ref, Title: e.Title, Summary: e.Summary, Details: e.Details, URL: e.URL, At: e.At.UTC()})
		if err != nil {
			return err
		}
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		return s.post(ctx, t.Address, body, map[string]string{SignatureHeader: Sign(t.Secret, now(), body), "X-Custodia-Event": e.Kind})
	case KindSlack:
		body, err := json.Marshal(SlackPayload(e))
		if err != nil {
			return err
		}
		return s.post(ctx, t.Address, body, nil)
	case KindTeams:
		body, err := json.Marshal(TeamsPayload(e))
		if err != nil {
			return err
		}
		return s.post(ctx, t.Address, body, nil)
	}
	return fmt.Errorf("unknown channel kind %q", t.Kind)
}

func (s *Sender) post(ctx context.Context, u string, body []byte, headers map[string]string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Custodia-Notify/1")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := s.client().Do(req)
	if err != nil {
		// The URL may be a credential (Slack, Teams): report only its host.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post to %s: %w", hostOf(u), err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("post to %s: HTTP %d", hostOf(u), res.StatusCode)
	}
	return nil
}

func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Host
	}
	return "(webhook)"
}

// EmailMessage renders an event as an e-mail.
func EmailMessage(to []string, e Event) Message {
	var b strings.Builder
	b.WriteString(e.Title + "\n\n")
	line := func(k, v string) {
		if v != "" {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	line("Event", e.Kind)
	line("Severity", e.Severity)
	line("Category", e.Category)
	line("Reference", e.Ref)
	if !e.At.IsZero() {
		line("Time", e.At.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if e.Summary != "" {
		b.WriteString("\n" + e.Summary + "\n")
	}
	if e.Details != "" {
		b.WriteString("\n" + e.Details + "\n")
	}
	if e.URL != "" {
		b.WriteString("\n" + e.URL + "\n")
	}
	subj := "[Custodia] " + e.Title
	if e.Ref != "" {
		subj = "[Custodia " + e.Ref + "] " + e.Title
	}
	return Message{To: to, Subject: strings.NewReplacer("\r", " ", "\n", " ").Replace(subj), Text: b.String()}
}

// SlackPayload renders an event as a Slack incoming-webhook message with
// Block Kit blocks (and a plain-text fallback).
func SlackPayload(e Event) map[string]any {
	title := e.Title
	if e.Ref != "" {
		title = e.Ref + " · " + e.Title
	}
	var fields []map[string]any
	for _, f := range [][2]string{{"Event", e.Kind}, {"Severity", e.Severity}, {"Category", e.Category}} {
		if f[1] != "" {
			fields = append(fields, map[string]any{"type": "mrkdwn", "text": "*" + f[0] + "*\n" + slackEscape(f[1])})
		}
	}
	blocks := []map[string]any{{"type": "header", "text": map[string]any{"type": "plain_text", "text": truncate(title, 150)}}}
	if len(fields) > 0 {
		blocks = append(blocks, map[string]any{"type": "section", "fields": fields})
	}
	for _, t := range []string{e.Summary, e.Details} {
		if t != "" {
			blocks = append(blocks, map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": truncate(slackEscape(t), 3000)}})
		}
	}
	if e.URL != "" {
		blocks = append(blocks, map[string]any{"type": "actions", "elements": []map[string]any{{"type": "button",
			"text": map[string]any{"type": "plain_text", "text": "Open in Custodia"}, "url": e.URL}}})
	}
	return map[string]any{"text": title, "blocks": blocks}
}

func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// TeamsPayload renders an event as a Microsoft Teams message with an
// Adaptive Card, the format Teams workflow (Power Automate) webhooks accept.
func TeamsPayload(e Event) map[string]any {
	title := e.Title
	if e.Ref != "" {
		title = e.Ref + " · " + e.Title
	}
	var facts []map[string]any
	for _, f := range [][2]string{{"Event", e.Kind}, {"Severity", e.Severity}, {"Category", e.Category}} {
		if f[1] != "" {
			facts = append(facts, map[string]any{"title": f[0], "value": f[1]})
		}
	}
	body := []map[string]any{{"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": title, "wrap": true}}
	if len(facts) > 0 {
		body = append(body, map[string]any{"type": "FactSet", "facts": facts})
	}
	for _, t := range []string{e.Summary, e.Details} {
		if t != "" {
			body = append(body, map[string]any{"type": "TextBlock", "text": t, "wrap": true})
		}
	}
	card := map[string]any{"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4", "body": body}
	if e.URL != "" {
		card["actions"] = []map[string]any{{"type": "Action.OpenUrl", "title": "Open in Custodia", "url": e.URL}}
	}
	return map[string]any{"type": "message", "attachments": []map[string]any{{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}}}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
