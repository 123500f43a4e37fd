// Package reminder e-mails the people a published policy targets until they
// acknowledge it, at most once every N days (the risk settings'
// reminder_days), and runs that as a background job.
package reminder

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/notify"
	"github.com/custodia/custodia/internal/store"
)

// Service sends policy reminders. A nil Mailer sends nothing.
type Service struct {
	Store   *store.Store
	Mailer  notify.Mailer
	Catalog *i18n.Catalog
	Logger  *slog.Logger
	// BaseURL is the console's public URL for the link in the mail ("" = a relative path).
	BaseURL string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Every is how often Run checks (default one hour).
	Every time.Duration
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// RemindOnce e-mails every targeted person who has not acknowledged a
// published version and was not reminded in the last reminder_days days,
// and records each reminder. It returns how many mails were sent; a failed
// send is logged and retried on the next run.
func (s *Service) RemindOnce(ctx context.Context) (int, error) {
	if s == nil || s.Mailer == nil {
		return 0, nil
	}
	st, err := s.Store.RiskGetSettings(ctx)
	if err != nil {
		return 0, err
	}
	every := time.Duration(st.ReminderDays) * 24 * time.Hour
	now := s.now().UTC()
	published, err := s.Store.ISMSPolicyPublished(ctx)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, p := range published {
		_, v, statuses, err := s.Store.ISMSPolicyStatus(ctx, identity.Scope{All: true}, p.Current.ID)
		if err != nil {
			return sent, err
		}
		for _, a := range statuses {
			if !a.AcknowledgedAt.IsZero() || a.Email == "" {
				continue
			}
			if !a.RemindedAt.IsZero() && now.Sub(a.RemindedAt) < every {
				continue
			}
			lang := i18n.Negotiate(a.Locale, "")
			t := func(key string, args ...any) string {
				if s.Catalog == nil {
					return key
				}
				return s.Catalog.T(lang, key, args...)
			}
			link := strings.TrimRight(s.BaseURL, "/") + fmt.Sprintf("/policies/mine/%d", v.ID)
			msg := notify.Message{
				To:      []string{a.Email},
				Subject: t("ismsrisk.mail.subject", p.Title),
				Text:    t("ismsrisk.mail.body", nameOf(a.DisplayName, a.Username), p.Title, v.Version, v.PublishedAt.Format("2006-01-02"), link),
				Headers: map[string]string{"X-Custodia-Policy": fmt.Sprintf("%s v%d", p.Code, v.Version)},
			}
			if err := s.Mailer.Send(ctx, msg); err != nil {
				if s.Logger != nil {
					s.Logger.WarnContext(ctx, "policy reminder not sent", "policy", p.Code, "user_id", a.UserID, "error", err.Error())
				}
				continue
			}
			if err := s.Store.ISMSPolicyRecordReminder(ctx, v.ID, a.UserID, now); err != nil {
				return sent, err
			}
			sent++
		}
	}
	return sent, nil
}

func nameOf(display, username string) string {
	if display != "" {
		return display
	}
	return username
}

// Run calls RemindOnce now and then every s.Every until ctx ends.
func (s *Service) Run(ctx context.Context) {
	every := s.Every
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.RemindOnce(ctx); err != nil && ctx.Err() == nil && s.Logger != nil {
			s.Logger.ErrorContext(ctx, "policy reminders", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
