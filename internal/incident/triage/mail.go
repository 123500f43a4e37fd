package triage

import (
	"context"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/incident/desk"
	"github.com/custodia/custodia/internal/notify"
)

type mailJob struct {
	report desk.Report
	thanks bool
	// incident fields for the thank-you
	incRef, outcome, outcomeText string
}

// queueAck records the on-screen acknowledgement (portal, API, desktop)
// and queues the e-mail one; with no worker running or a full queue the
// e-mail is sent at once.
func (s *Service) queueAck(r *desk.Report) {
	job := mailJob{report: *r}
	select {
	case s.mails <- job:
	default:
		s.deliver(context.Background(), job)
	}
}

// Run acknowledges reporters, checks SLAs every interval (default one
// minute) and retries stored e-mails that were not processed, until ctx
// ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Minute
	}
	s.wg.Add(1)
	defer s.wg.Done()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			// Acknowledge what is queued before leaving.
			for {
				select {
				case job := <-s.mails:
					dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					s.deliver(dctx, job)
					cancel()
				default:
					return
				}
			}
		case job := <-s.mails:
			s.deliver(ctx, job)
		case <-tick.C:
			if _, err := s.CheckSLAs(ctx); err != nil {
				s.log.Warn("SLA check", "err", err)
			}
			s.retryPendingMail(ctx)
		}
	}
}

// Wait returns when Run has returned.
func (s *Service) Wait() { s.wg.Wait() }

func (s *Service) lang(r *desk.Report) string {
	l := strings.ToLower(r.ReporterLocale)
	if len(l) > 2 {
		l = l[:2]
	}
	if i18n.Supported(l) {
		return l
	}
	return i18n.Default
}

// deliver sends one acknowledgement or thank-you and records how it went.
func (s *Service) deliver(ctx context.Context, job mailJob) {
	r := &job.report
	status := desk.AckSent
	known := r.ReporterPersonID != 0 || r.ReporterUserID != 0
	switch {
	case r.Anonymous || r.ReporterEmail == "":
		status = desk.AckNoAddress
	case r.Channel == desk.ChannelEmail && !known:
		// Anybody can write to the report address with a forged sender:
		// only people of the organisation get e-mail back (no backscatter).
		status = desk.AckNoAddress
	case s.mailer == nil:
		status = desk.AckNotConfigured
	}
	if !job.thanks && r.Channel != desk.ChannelEmail && status != desk.AckSent {
		status = desk.AckPortal // shown on screen at once
	}
	if status == desk.AckSent {
		lang := s.lang(r)
		var m notify.Message
		if job.thanks {
			outcome := s.cat.T(lang, "incidents.outcome."+job.outcome)
			text := s.cat.T(lang, "incidents.mail.thanks_body", r.Ref, outcome)
			if job.outcomeText != "" {
				text += "\n\n" + job.outcomeText
			}
			m = notify.Message{To: []string{r.ReporterEmail}, Subject: s.cat.T(lang, "incidents.mail.thanks_subject", r.Ref), Text: text}
		} else {
			m = notify.Message{To: []string{r.ReporterEmail}, Subject: s.cat.T(lang, "incidents.mail.ack_subject", r.Ref),
				Text: s.cat.T(lang, "incidents.mail.ack_body", r.Ref)}
		}
		if err := s.mailer.Send(ctx, m); err != nil {
			s.log.Warn("reporter e-mail failed", "report", r.Ref, "thanks", job.thanks, "err", err)
			status = desk.AckFailed
		}
	}
	if err := s.st.ReportSetAck(context.WithoutCancel(ctx), r.ID, status, job.thanks); err != nil {
		s.log.Warn("record acknowledgement", "report", r.Ref, "err", err)
	}
}
