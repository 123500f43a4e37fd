package triage

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/incident/desk"
	"github.com/custodia/custodia/internal/incident/mailparse"
	"github.com/custodia/custodia/internal/incident/smtpd"
	"github.com/custodia/custodia/internal/store"
)

// MailHandler is the SMTP listener's handler: it stores the raw message
// durably (encrypted) first, then parses it and turns it into a report.
// Only a failure to store the raw message is returned (the sender then
// retries); a message that cannot be parsed or reported stays stored and is
// retried by Run.
func (s *Service) MailHandler() smtpd.Handler {
	return func(ctx context.Context, env smtpd.Envelope, raw []byte) error {
		_, err := s.IntakeMail(ctx, env, raw)
		return err
	}
}

// IntakeMail stores and processes one reported e-mail; it returns the
// report (nil when only the raw message could be stored).
func (s *Service) IntakeMail(ctx context.Context, env smtpd.Envelope, raw []byte) (*desk.Report, error) {
	ctx = audit.WithActor(ctx, audit.Actor{Name: "smtp", IP: env.ClientIP})
	f, sealed, err := s.sealFile("mail", Upload{Name: "report-" + env.ID + ".eml", ContentType: "message/rfc822", Data: raw})
	if err != nil {
		return nil, err
	}
	f.CreatedBy = "smtp:" + env.From
	if env.ReceivedAt.IsZero() {
		env.ReceivedAt = s.now()
	}
	f.CreatedAt = env.ReceivedAt.UTC()
	if err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.IncidentPutFile(ctx, f, sealed, 0) }); err != nil {
		return nil, fmt.Errorf("store reported e-mail: %w", err)
	}
	r, err := s.reportFromMail(ctx, f.ID, env.From, raw, f.CreatedAt)
	if err != nil {
		s.log.Error("reported e-mail stored but not processed; will retry", "file", f.ID, "err", err)
		return nil, nil
	}
	return r, nil
}

// parseSafely parses raw, turning a parser panic into a flagged result.
func parseSafely(raw []byte) (res *mailparse.Result, panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			res, panicked = &mailparse.Result{Flags: []string{"parse_failed"}}, true
			_ = debug.Stack()
		}
	}()
	return mailparse.ParseBytes(raw, mailparse.Limits{}), false
}

// reportFromMail parses a stored raw e-mail into a report.
func (s *Service) reportFromMail(ctx context.Context, fileID int64, envFrom string, raw []byte, at time.Time) (*desk.Report, error) {
	res, _ := parseSafely(raw)
	r := &desk.Report{Channel: desk.ChannelEmail, Category: desk.ChoiceSuspiciousEmail, MailFileID: fileID, CreatedAt: at,
		Context: map[string]string{}}
	r.Flags = slices.Clone(res.Flags)
	if len(r.Flags) > 0 {
		r.Flags = append(r.Flags, "flagged")
	}
	// The reporter: the forwarding message's From, else the envelope sender.
	reporter := strings.ToLower(strings.TrimSpace(envFrom))
	if res.Report != nil && len(res.Report.From) > 0 && res.Report.From[0].Address != "" {
		reporter = res.Report.From[0].Address
	}
	if reporter != "" {
		if who, err := s.st.ReportReporterByEmail(ctx, reporter); err == nil {
			r.ReporterPersonID, r.ReporterUserID, r.ReporterName, r.ReporterLocale = who.PersonID, who.UserID, who.Name, who.Locale
			r.ClientID, r.TeamID = who.ClientID, who.TeamID
		}
		r.ReporterEmail = reporter
	}
	if res.Report != nil && res.Reported != nil && res.Report != res.Reported {
		r.Text = truncate(strings.TrimSpace(noteBeforeForward(res.Report.Text)), 4000)
	}
	if m := res.Reported; m != nil {
		r.MessageID = strings.ToLower(strings.Trim(strings.TrimSpace(m.MessageID), "<>"))
		from := ""
		if len(m.From) > 0 {
			from = m.From[0].Address
		}
		subj := strings.ToLower(strings.TrimSpace(stripForwardPrefix(m.Subject)))
		if from != "" && subj != "" && res.Source != mailparse.SourceDirect {
			r.SenderSubject = from + "\n" + subj
		}
		if res.Source == mailparse.SourceDirect && r.MessageID != "" {
			// Not a forward: the Message-ID is the reporter's own message,
			// not the suspicious one; it still identifies retransmissions.
			r.MessageID = "direct:" + r.MessageID
		}
		put := func(k, v string) {
			if v != "" {
				r.Context[k] = truncate(v, 1000)
			}
		}
		put("subject", m.Subject)
		put("from", from)
		if len(m.ReplyTo) > 0 {
			put("reply_to", m.ReplyTo[0].Address)
		}
		put("return_path", m.ReturnPath)
		put("origin_ip", m.OriginIP)
		put("spf", m.Verdicts.SPF)
		put("dkim", m.Verdicts.DKIM)
		put("dmarc", m.Verdicts.DMARC)
		put("source", string(res.Source))
		var codes []string
		for _, fd := range m.Findings {
			codes = append(codes, fd.Code)
		}
		put("findings", strings.Join(codes, ","))
		var atts []string
		for _, a := range m.Attachments {
			atts = append(atts, a.Name)
		}
		put("attachments", strings.Join(atts, ", "))
		add := func(kind string, vals []string) {
			for _, v := range vals {
				r.Observables = append(r.Observables, desk.Observable{Kind: kind, Value: v, Source: "mail"})
			}
		}
		add(desk.ObsIP, m.Observables.IPs)
		add(desk.ObsDomain, m.Observables.Domains)
		add(desk.ObsURL, m.Observables.URLs)
		add(desk.ObsEmail, m.Observables.Emails)
		add(desk.ObsHash, m.Observables.Hashes)
		if r.Text == "" {
			r.Text = truncate(strings.TrimSpace(m.Subject), 500)
		}
	}
	// Never let the reporter's address stand as an indicator of attack.
	kept := r.Observables[:0]
	for _, o := range r.Observables {
		if o.Kind == desk.ObsEmail && o.Value == reporter {
			continue
		}
		kept = append(kept, o)
	}
	r.Observables = kept
	if len(r.Observables) > 2000 {
		r.Observables = r.Observables[:2000]
		r.Flags = append(r.Flags, "observable_limit")
	}
	if len(r.Context) == 0 {
		r.Context = nil
	}
	if err := s.storeReport(ctx, r, nil, nil); err != nil {
		return nil, err
	}
	return r, nil
}

var forwardPrefixes = []string{"fwd:", "fw:", "rv:", "tr:", "wg:", "re:"}

func stripForwardPrefix(subj string) string {
	for {
		t := strings.TrimSpace(subj)
		l := strings.ToLower(t)
		cut := false
		for _, p := range forwardPrefixes {
			if strings.HasPrefix(l, p) {
				subj, cut = t[len(p):], true
				break
			}
		}
		if !cut {
			return t
		}
	}
}

// noteBeforeForward keeps the reporter's own words above a forward marker.
func noteBeforeForward(text string) string {
	for _, m := range []string{"---------- Forwarded message", "-----Original Message-----", "-----Mensaje original-----",
		"Begin forwarded message:", "---------- Mensaje reenviado"} {
		if i := strings.Index(text, m); i >= 0 {
			text = text[:i]
		}
	}
	return text
}

// retryPendingMail processes raw e-mails stored earlier but not reported
// (a crash or database error between the two steps).
func (s *Service) retryPendingMail(ctx context.Context) {
	files, err := s.st.ReportPendingMail(ctx, s.now().Add(-time.Minute), 50)
	if err != nil {
		s.log.Warn("pending reported e-mails", "err", err)
		return
	}
	for _, f := range files {
		_, raw, err := s.OpenFile(ctx, f.ID)
		if err != nil {
			s.log.Error("open stored e-mail", "file", f.ID, "err", err)
			continue
		}
		from := strings.TrimPrefix(f.CreatedBy, "smtp:")
		if _, err := s.reportFromMail(audit.WithActor(ctx, audit.Actor{Name: "smtp"}), f.ID, from, raw, f.CreatedAt); err != nil {
			s.log.Error("process stored e-mail", "file", f.ID, "err", err)
		}
	}
}
