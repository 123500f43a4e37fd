// Package response runs an incident's regulatory and contractual clocks
// (GDPR Art. 33 and 33(2) per client, the Art. 34 decision, NIS2, ENS,
// DORA), keeps the breach register (GDPR Art. 33(5)) and drafts each
// notification. The clock arithmetic is internal/incident/clock; this
// package stores its results, records who did what, and fires the
// warnings.
package response

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/clock"
	"github.com/custodia/custodia/internal/notify"
	"github.com/custodia/custodia/internal/store"
)

// Clock states stored besides those of the clock package.
const StateNotRequired = "not_required"

// Service is the response module's logic.
type Service struct {
	Store *store.Store
	// Publisher receives clock and breach events (nil: none are sent).
	Publisher notify.Publisher
	Logger    *slog.Logger
	// Now is the clock (tests inject it); default time.Now.
	Now func() time.Time
	// ClientDeadline is the default contractual deadline.
	ClientDeadline time.Duration
	// NIS2 says the operator is in NIS2's scope.
	NIS2 bool
	// BaseURL prefixes links in notifications ("https://custodia.example").
	BaseURL string
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// FieldError is a validation problem of one input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// FieldErrors is a list of validation problems (the API answers 422).
type FieldErrors []FieldError

func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Field + ": " + e.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

func actorName(p *identity.Principal) string { return p.Actor() }

// ---- Client contract settings ----

// ClientSettingsInput is what an officer edits.
type ClientSettingsInput struct {
	NotifyHours  int    `json:"notify_hours"`
	Financial    bool   `json:"financial"`
	ContactName  string `json:"contact_name"`
	ContactEmail string `json:"contact_email"`
}

// SaveClientSettings validates and stores a client's contract settings and
// recomputes the clocks of the client's open breaches.
func (s *Service) SaveClientSettings(ctx context.Context, p *identity.Principal, clientID int64, in ClientSettingsInput) (*store.ResponseClientSettings, error) {
	cur, err := s.Store.ResponseClientSettingsOf(ctx, p.Scope(), clientID)
	if err != nil {
		return nil, err
	}
	var fe FieldErrors
	if in.NotifyHours < 0 || in.NotifyHours > 720 {
		fe = append(fe, FieldError{"notify_hours", "must be between 1 and 720 hours (0 for the default)"})
	}
	in.ContactName, in.ContactEmail = strings.TrimSpace(in.ContactName), strings.TrimSpace(in.ContactEmail)
	if len(in.ContactName) > 200 {
		fe = append(fe, FieldError{"contact_name", "is too long"})
	}
	if in.ContactEmail != "" {
		if a, err := mail.ParseAddress(in.ContactEmail); err != nil || a.Address != in.ContactEmail {
			fe = append(fe, FieldError{"contact_email", "is not an e-mail address"})
		}
	}
	if len(fe) > 0 {
		return nil, fe
	}
	cur.NotifyHours, cur.Financial, cur.ContactName, cur.ContactEmail = in.NotifyHours, in.Financial, in.ContactName, in.ContactEmail
	now := s.now()
	var events []notify.Event
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.ResponseSaveClientSettings(ctx, cur, actorName(p), now); err != nil {
			return err
		}
		// The deadlines of this client's clocks follow the contract.
		rows, err := tx.Query(ctx, "SELECT DISTINCT c.incident_id FROM response_clocks c WHERE c.client_id = ? AND c.active = 1", clientID)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			ev, err := s.recompute(ctx, tx, id, actorName(p))
			if err != nil {
				return err
			}
			events = append(events, ev...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, events)
	return cur, nil
}

// ---- The incident's regulatory view ----

// View is everything the regulatory section of an incident shows.
type View struct {
	// Operator is the organisation's name (the notifier in drafts).
	Operator     string                      `json:"operator,omitempty"`
	Incident     *store.ResponseIncident     `json:"incident"`
	Facts        store.ResponseFacts         `json:"facts"`
	Breach       *store.ResponseBreach       `json:"breach,omitempty"`
	Clocks       []store.ResponseClock       `json:"clocks"`
	AwareChanges []store.ResponseAwareChange `json:"aware_changes"`
	NIS2InScope  bool                        `json:"nis2_in_scope"`
	Now          time.Time                   `json:"now"`
}

// View returns the incident's regulatory view if it is in scope.
func (s *Service) View(ctx context.Context, scope identity.Scope, incidentID int64) (*View, error) {
	in, err := s.Store.ResponseIncident(ctx, scope, incidentID)
	if err != nil {
		return nil, err
	}
	v := &View{Incident: in, NIS2InScope: s.NIS2, Now: s.now()}
	if v.Facts, err = s.Store.ResponseFacts(ctx, incidentID); err != nil {
		return nil, err
	}
	if b, err := s.Store.ResponseBreach(ctx, scope, incidentID); err == nil {
		v.Breach = b
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if v.Clocks, err = s.Store.ResponseClocks(ctx, scope, incidentID); err != nil {
		return nil, err
	}
	if v.AwareChanges, err = s.Store.ResponseAwareChanges(ctx, incidentID); err != nil {
		return nil, err
	}
	return v, nil
}

// ---- Became aware ----

// AwareInput sets or changes the "became aware" time.
type AwareInput struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

func (s *Service) validateAware(at time.Time, reason string, fe FieldErrors) FieldErrors {
	switch {
	case at.IsZero():
		fe = append(fe, FieldError{"aware_at", "is required"})
	case at.After(s.now().Add(5 * time.Minute)):
		fe = append(fe, FieldError{"aware_at", "cannot be in the future"})
	}
	if strings.TrimSpace(reason) == "" {
		fe = append(fe, FieldError{"reason", "is required: say why this is the time the organisation became aware"})
	} else if len(reason) > 2000 {
		fe = append(fe, FieldError{"reason", "is too long"})
	}
	return fe
}

// SetAware records the time the organisation became aware of the incident,
// with who and why, and restarts the clocks from it.
func (s *Service) SetAware(ctx context.Context, p *identity.Principal, incidentID int64, in AwareInput) error {
	if _, err := s.Store.ResponseIncident(ctx, p.Scope(), incidentID); err != nil {
		return err
	}
	if fe := s.validateAware(in.At, in.Reason, nil); len(fe) > 0 {
		return fe
	}
	var events []notify.Event
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		ev, err := s.setAware(ctx, tx, p, incidentID, in.At.UTC(), strings.TrimSpace(in.Reason))
		events = ev
		return err
	})
	if err != nil {
		return err
	}
	s.publish(ctx, events)
	return nil
}

func (s *Service) setAware(ctx context.Context, tx *store.Tx, p *identity.Principal, incidentID int64, at time.Time, reason string) ([]notify.Event, error) {
	cur, err := tx.ResponseIncident(ctx, identity.Scope{All: true}, incidentID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := tx.ResponseSetAware(ctx, incidentID, cur.AwareAt, at, reason, actorName(p), now); err != nil {
		return nil, err
	}
	text := "Became aware: " + at.Format("2006-01-02 15:04 UTC") + " — " + reason
	if !cur.AwareAt.IsZero() {
		text = "Became-aware time changed from " + cur.AwareAt.Format("2006-01-02 15:04 UTC") + " to " + at.Format("2006-01-02 15:04 UTC") + " — " + reason
	}
	if err := tx.ResponseTimeline(ctx, incidentID, now, actorName(p), "aware_set", text); err != nil {
		return nil, err
	}
	if err := tx.Audit(ctx, audit.Record{Action: "incident.aware_set", ObjectType: "incident", ObjectID: strconv.FormatInt(incidentID, 10),
		ClientID: firstClient(cur), Before: map[string]any{"aware_at": cur.AwareAt}, After: map[string]any{"aware_at": at}, Detail: truncate(reason, 200)}); err != nil {
		return nil, err
	}
	return s.recompute(ctx, tx, incidentID, actorName(p))
}

func firstClient(in *store.ResponseIncident) int64 {
	if len(in.Clients) == 1 {
		return in.Clients[0].ClientID
	}
	return 0
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// ---- Breach ----

// BreachInput flags an incident as a personal-data breach or updates the
// register entry. AwareAt and AwareReason are needed when the incident has
// no "became aware" time yet.
type BreachInput struct {
	Nature         string    `json:"nature"`
	DataCategories string    `json:"data_categories"`
	SubjectsCount  int64     `json:"subjects_count"`
	RecordsCount   int64     `json:"records_count"`
	Consequences   string    `json:"consequences"`
	Measures       string    `json:"measures"`
	AwareAt        time.Time `json:"aware_at,omitzero"`
	AwareReason    string    `json:"aware_reason,omitempty"`
}

// FlagBreach records the incident in the breach register and starts the
// GDPR clocks: the AEPD (72 h), one per affected client (its contract
// deadline) and the Art. 34 decision.
func (s *Service) FlagBreach(ctx context.Context, p *identity.Principal, incidentID int64, in BreachInput) (*store.ResponseBreach, error) {
	inc, err := s.Store.ResponseIncident(ctx, p.Scope(), incidentID)
	if err != nil {
		return nil, err
	}
	var fe FieldErrors
	in.Nature = strings.TrimSpace(in.Nature)
	if in.Nature == "" {
		fe = append(fe, FieldError{"nature", "is required: describe what happened to the personal data"})
	}
	for _, f := range []struct {
		name string
		v    string
	}{{"nature", in.Nature}, {"data_categories", in.DataCategories}, {"consequences", in.Consequences}, {"measures", in.Measures}} {
		if len(f.v) > 10000 {
			fe = append(fe, FieldError{f.name, "is too long"})
		}
	}
	if in.SubjectsCount < 0 {
		fe = append(fe, FieldError{"subjects_count", "cannot be negative"})
	}
	if in.RecordsCount < 0 {
		fe = append(fe, FieldError{"records_count", "cannot be negative"})
	}
	setAware := inc.AwareAt.IsZero() || (!in.AwareAt.IsZero() && !in.AwareAt.Equal(inc.AwareAt))
	if setAware {
		fe = s.validateAware(in.AwareAt, in.AwareReason, fe)
		for i := range fe {
			if fe[i].Field == "reason" {
				fe[i].Field = "aware_reason"
			}
		}
	}
	if len(fe) > 0 {
		return nil, fe
	}
	now := s.now()
	var events []notify.Event
	var out *store.ResponseBreach
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if setAware {
			if _, err := s.setAware(ctx, tx, p, incidentID, in.AwareAt.UTC(), strings.TrimSpace(in.AwareReason)); err != nil {
				return err
			}
		}
		b, err := tx.ResponseBreach(ctx, identity.Scope{All: true}, incidentID)
		isNew := errors.Is(err, store.ErrNotFound)
		if err != nil && !isNew {
			return err
		}
		if isNew {
			b = &store.ResponseBreach{IncidentID: incidentID, FlaggedBy: actorName(p), FlaggedAt: now}
		}
		before := *b
		b.Nature, b.DataCategories, b.SubjectsCount, b.RecordsCount = in.Nature, strings.TrimSpace(in.DataCategories), in.SubjectsCount, in.RecordsCount
		b.Consequences, b.Measures, b.UpdatedAt = strings.TrimSpace(in.Consequences), strings.TrimSpace(in.Measures), now
		if err := tx.ResponseSaveBreach(ctx, b); err != nil {
			return err
		}
		action, text := "response.breach_update", "Breach register entry updated"
		if isNew {
			action, text = "response.breach_flag", "Flagged as a personal-data breach (GDPR); entered in the breach register"
		}
		if err := tx.ResponseTimeline(ctx, incidentID, now, actorName(p), "breach_flagged", text); err != nil {
			return err
		}
		if err := tx.Audit(ctx, audit.Record{Action: action, ObjectType: "incident", ObjectID: strconv.FormatInt(incidentID, 10),
			ClientID: firstClient(inc), Before: before, After: b}); err != nil {
			return err
		}
		ev, err := s.recompute(ctx, tx, incidentID, actorName(p))
		if err != nil {
			return err
		}
		events = ev
		if isNew {
			events = append(events, s.event(inc, "breach.flagged", "Personal-data breach flagged", "Entered in the breach register; GDPR clocks started.", b.Nature))
		}
		out = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, events)
	return s.Store.ResponseBreach(ctx, p.Scope(), out.IncidentID)
}

// Art34Input records the decision on informing data subjects.
type Art34Input struct {
	Decision string `json:"decision"` // inform, not_required
	Reasons  string `json:"reasons"`
}

// DecideArt34 records whether data subjects must be told (GDPR Art. 34),
// with the reasons; it completes the Art. 34 decision clock.
func (s *Service) DecideArt34(ctx context.Context, p *identity.Principal, incidentID int64, in Art34Input) error {
	inc, err := s.Store.ResponseIncident(ctx, p.Scope(), incidentID)
	if err != nil {
		return err
	}
	if _, err := s.Store.ResponseBreach(ctx, p.Scope(), incidentID); err != nil {
		return err
	}
	var fe FieldErrors
	if in.Decision != "inform" && in.Decision != "not_required" {
		fe = append(fe, FieldError{"decision", "must be inform or not_required"})
	}
	in.Reasons = strings.TrimSpace(in.Reasons)
	if in.Reasons == "" {
		fe = append(fe, FieldError{"reasons", "are required (GDPR Art. 34: why subjects are or are not told)"})
	} else if len(in.Reasons) > 10000 {
		fe = append(fe, FieldError{"reasons", "are too long"})
	}
	if len(fe) > 0 {
		return fe
	}
	now := s.now()
	var events []notify.Event
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		b, err := tx.ResponseBreach(ctx, identity.Scope{All: true}, incidentID)
		if err != nil {
			return err
		}
		before := *b
		b.Art34Decision, b.Art34Reasons, b.Art34DecidedBy, b.Art34DecidedAt, b.UpdatedAt = in.Decision, in.Reasons, actorName(p), now, now
		if err := tx.ResponseSaveBreach(ctx, b); err != nil {
			return err
		}
		clocks, err := tx.ResponseAllClocks(ctx, incidentID)
		if err != nil {
			return err
		}
		for i := range clocks {
			c := &clocks[i]
			if c.Kind != string(clock.GDPRArt34) || !c.Active {
				continue
			}
			c.SentAt, c.SentHow, c.SentBy = now, "decision: "+in.Decision, actorName(p)
			if now.After(c.Deadline) && c.LateReason == "" {
				c.LateReason = "decision recorded after the deadline"
			}
			if err := tx.ResponseRecordSending(ctx, c, now); err != nil {
				return err
			}
		}
		text := "Art. 34 decision: data subjects will be informed — " + in.Reasons
		if in.Decision == "not_required" {
			text = "Art. 34 decision: data subjects need not be informed — " + in.Reasons
		}
		if err := tx.ResponseTimeline(ctx, incidentID, now, actorName(p), "art34_decision", text); err != nil {
			return err
		}
		if err := tx.Audit(ctx, audit.Record{Action: "response.art34_decision", ObjectType: "incident", ObjectID: strconv.FormatInt(incidentID, 10),
			ClientID: firstClient(inc), Before: before, After: b, Detail: in.Decision}); err != nil {
			return err
		}
		events, err = s.recompute(ctx, tx, incidentID, actorName(p))
		return err
	})
	if err != nil {
		return err
	}
	s.publish(ctx, events)
	return nil
}

// ---- Other regimes ----

// FactsInput says which regimes apply besides the GDPR.
type FactsInput struct {
	NIS2     bool      `json:"nis2"`      // a significant incident under NIS2
	ENSLevel int       `json:"ens_level"` // 0 none, 1 BAJO .. 5 CRÍTICO
	MajorAt  time.Time `json:"major_at,omitzero"`
}

// SetFacts records the NIS2, ENS and DORA classification of an incident
// and recomputes its clocks. The clocks need a "became aware" time.
func (s *Service) SetFacts(ctx context.Context, p *identity.Principal, incidentID int64, in FactsInput) error {
	inc, err := s.Store.ResponseIncident(ctx, p.Scope(), incidentID)
	if err != nil {
		return err
	}
	var fe FieldErrors
	if in.NIS2 && !s.NIS2 {
		fe = append(fe, FieldError{"nis2", "the operator is not configured as a NIS2 entity (notify-nis2)"})
	}
	if in.ENSLevel < 0 || in.ENSLevel > int(clock.LevelCritico) {
		fe = append(fe, FieldError{"ens_level", "must be between 0 (none) and 5 (CRÍTICO)"})
	}
	if !in.MajorAt.IsZero() && in.MajorAt.After(s.now().Add(5*time.Minute)) {
		fe = append(fe, FieldError{"major_at", "cannot be in the future"})
	}
	if (in.NIS2 || in.ENSLevel >= int(clock.LevelAlto) || !in.MajorAt.IsZero()) && inc.AwareAt.IsZero() {
		fe = append(fe, FieldError{"aware_at", "record when the organisation became aware first: the clocks start there"})
	}
	if len(fe) > 0 {
		return fe
	}
	now := s.now()
	var events []notify.Event
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		before, err := tx.ResponseFacts(ctx, incidentID)
		if err != nil {
			return err
		}
		f := store.ResponseFacts{NIS2: in.NIS2, ENSLevel: in.ENSLevel, MajorAt: in.MajorAt.UTC()}
		if in.MajorAt.IsZero() {
			f.MajorAt = time.Time{}
		}
		if err := tx.ResponseSaveFacts(ctx, incidentID, f, actorName(p), now); err != nil {
			return err
		}
		text := fmt.Sprintf("Regulatory classification: NIS2 significant=%t, ENS danger level %s", f.NIS2, levelName(f.ENSLevel))
		if !f.MajorAt.IsZero() {
			text += ", DORA major since " + f.MajorAt.Format("2006-01-02 15:04 UTC")
		}
		if err := tx.ResponseTimeline(ctx, incidentID, now, actorName(p), "regimes", text); err != nil {
			return err
		}
		if err := tx.Audit(ctx, audit.Record{Action: "response.regimes", ObjectType: "incident", ObjectID: strconv.FormatInt(incidentID, 10),
			ClientID: firstClient(inc), Before: before, After: f, Detail: text}); err != nil {
			return err
		}
		events, err = s.recompute(ctx, tx, incidentID, actorName(p))
		return err
	})
	if err != nil {
		return err
	}
	s.publish(ctx, events)
	return nil
}

func levelName(l int) string {
	if l == 0 {
		return "none"
	}
	return clock.DangerLevel(l).String()
}

// ---- Sending ----

// SendingInput records that a clock's notification was sent, or that it is
// not required.
type SendingInput struct {
	At         time.Time `json:"at,omitzero"` // default now
	How        string    `json:"how"`         // e-mail, sede electrónica, portal, phone…
	Reference  string    `json:"reference"`   // the recipient's registry number
	LateReason string    `json:"late_reason"` // required when sent after the deadline
	Phase      string    `json:"phase"`       // "", initial, complete (phased notification)
	// NotRequired marks the clock as not required, with Reason.
	NotRequired bool   `json:"not_required"`
	Reason      string `json:"reason"`
}

// RecordSending records when, how, by whom and with which reference a
// clock's notification was sent.
func (s *Service) RecordSending(ctx context.Context, p *identity.Principal, incidentID, clockID int64, in SendingInput) (*store.ResponseClock, error) {
	c, err := s.Store.ResponseClock(ctx, p.Scope(), incidentID, clockID)
	if err != nil {
		return nil, err
	}
	inc, err := s.Store.ResponseIncident(ctx, p.Scope(), incidentID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if in.At.IsZero() {
		in.At = now
	}
	in.How, in.Reference, in.LateReason, in.Reason = strings.TrimSpace(in.How), strings.TrimSpace(in.Reference), strings.TrimSpace(in.LateReason), strings.TrimSpace(in.Reason)
	var fe FieldErrors
	if in.NotRequired {
		if in.Reason == "" {
			fe = append(fe, FieldError{"reason", "is required: why this notification is not required"})
		}
	} else {
		if in.How == "" {
			fe = append(fe, FieldError{"how", "is required: how it was sent"})
		}
		if in.At.After(now.Add(5 * time.Minute)) {
			fe = append(fe, FieldError{"at", "cannot be in the future"})
		}
		if in.At.Before(c.Start.Add(-time.Minute)) {
			fe = append(fe, FieldError{"at", "is before the clock started"})
		}
		if in.At.After(c.Deadline) && in.LateReason == "" {
			fe = append(fe, FieldError{"late_reason", "is required: the notification was sent after the deadline"})
		}
		if in.Phase != "" && in.Phase != "initial" && in.Phase != "complete" {
			fe = append(fe, FieldError{"phase", "must be initial or complete"})
		}
	}
	for _, f := range []struct{ n, v string }{{"how", in.How}, {"reference", in.Reference}, {"late_reason", in.LateReason}, {"reason", in.Reason}} {
		if len(f.v) > 2000 {
			fe = append(fe, FieldError{f.n, "is too long"})
		}
	}
	if len(fe) > 0 {
		return nil, fe
	}
	var events []notify.Event
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		before := *c
		if in.NotRequired {
			c.State, c.NotRequiredReason = StateNotRequired, in.Reason
			c.SentAt, c.SentHow, c.SentRef, c.LateReason, c.Phase = time.Time{}, "", "", "", ""
			c.SentBy = actorName(p)
		} else {
			c.NotRequiredReason = ""
			c.SentAt, c.SentHow, c.SentBy, c.SentRef, c.LateReason, c.Phase = in.At.UTC(), in.How, actorName(p), in.Reference, in.LateReason, in.Phase
		}
		if err := tx.ResponseRecordSending(ctx, c, now); err != nil {
			return err
		}
		text := fmt.Sprintf("%s → %s: sent %s via %s", c.Rule, c.Recipient, c.SentAt.Format("2006-01-02 15:04 UTC"), c.SentHow)
		if c.SentRef != "" {
			text += " (ref. " + c.SentRef + ")"
		}
		if in.NotRequired {
			text = fmt.Sprintf("%s → %s: not required — %s", c.Rule, c.Recipient, c.NotRequiredReason)
		}
		if err := tx.ResponseTimeline(ctx, incidentID, now, actorName(p), "notification_sent", text); err != nil {
			return err
		}
		if err := tx.Audit(ctx, audit.Record{Action: "response.clock_sent", ObjectType: "response_clock", ObjectID: strconv.FormatInt(c.ID, 10),
			ClientID: clockClient(c, inc), Before: before, After: c, Detail: truncate(text, 200)}); err != nil {
			return err
		}
		var err error
		events, err = s.recompute(ctx, tx, incidentID, actorName(p))
		return err
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, events)
	return s.Store.ResponseClock(ctx, p.Scope(), incidentID, clockID)
}

func clockClient(c *store.ResponseClock, inc *store.ResponseIncident) int64 {
	if c.ClientID != 0 {
		return c.ClientID
	}
	return firstClient(inc)
}

// ---- Recomputation ----

// recompute derives the incident's clocks from its facts with the clock
// package and stores them: new clocks are inserted (and announced), changed
// deadlines updated, clocks no longer started deactivated. Sending records
// are kept.
func (s *Service) recompute(ctx context.Context, tx *store.Tx, incidentID int64, actor string) ([]notify.Event, error) {
	inc, err := tx.ResponseIncident(ctx, identity.Scope{All: true}, incidentID)
	if err != nil {
		return nil, err
	}
	existing, err := tx.ResponseAllClocks(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	if inc.AwareAt.IsZero() {
		return nil, nil // no clock runs before the organisation is aware
	}
	facts, err := tx.ResponseFacts(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	_, berr := tx.ResponseBreach(ctx, identity.Scope{All: true}, incidentID)
	if berr != nil && !errors.Is(berr, store.ErrNotFound) {
		return nil, berr
	}
	ci := clock.Incident{AwareAt: inc.AwareAt, PersonalDataBreach: berr == nil, NIS2: facts.NIS2 && s.NIS2,
		ENSLevel: clock.DangerLevel(facts.ENSLevel), MajorAt: facts.MajorAt, Submitted: map[string]clock.Submission{}}
	for _, c := range inc.Clients {
		ci.Clients = append(ci.Clients, clock.Client{ID: strconv.FormatInt(c.ClientID, 10), Name: c.ClientName,
			NotifyWithin: time.Duration(c.NotifyHours) * time.Hour, Financial: c.Financial})
	}
	byKey := map[string]*store.ResponseClock{}
	for i := range existing {
		c := &existing[i]
		byKey[c.Key] = c
		if !c.SentAt.IsZero() {
			ci.Submitted[c.Key] = clock.Submission{At: c.SentAt, LateReason: c.LateReason}
		}
	}
	pol := clock.DefaultPolicy()
	if s.ClientDeadline > 0 {
		pol.DefaultClientHours = s.ClientDeadline
	}
	now := s.now()
	computed := clock.Compute(ci, pol, now)
	seen := map[string]bool{}
	var events []notify.Event
	for _, cc := range computed {
		seen[cc.ID] = true
		row := store.ResponseClock{IncidentID: incidentID, Key: cc.ID, Kind: string(cc.Kind), Rule: cc.Rule, Recipient: cc.Recipient,
			Start: cc.Start, Deadline: cc.Deadline, State: string(cc.State), Active: true}
		if _, id, ok := strings.Cut(cc.ID, ":"); ok {
			row.ClientID, _ = strconv.ParseInt(id, 10, 64)
		}
		old := byKey[cc.ID]
		if old != nil && old.NotRequiredReason != "" {
			row.State = StateNotRequired
		}
		if err := tx.ResponseUpsertClock(ctx, &row, now); err != nil {
			return nil, err
		}
		if old == nil || !old.Active {
			text := fmt.Sprintf("Clock started: %s → %s, deadline %s", cc.Rule, cc.Recipient, cc.Deadline.Format("2006-01-02 15:04 UTC"))
			if err := tx.ResponseTimeline(ctx, incidentID, now, actor, "clock_started", text); err != nil {
				return nil, err
			}
			ev := s.event(inc, "clock.started", "Regulatory clock started: "+cc.Rule, text, "")
			ev.ClientIDs = clockEventClients(row.ClientID, inc)
			events = append(events, ev)
		} else if !old.Deadline.Equal(cc.Deadline) {
			text := fmt.Sprintf("Deadline of %s → %s moved from %s to %s", cc.Rule, cc.Recipient,
				old.Deadline.Format("2006-01-02 15:04 UTC"), cc.Deadline.Format("2006-01-02 15:04 UTC"))
			if err := tx.ResponseTimeline(ctx, incidentID, now, actor, "clock_changed", text); err != nil {
				return nil, err
			}
		}
	}
	for _, c := range existing {
		if c.Active && !seen[c.Key] {
			if err := tx.ResponseDeactivateClock(ctx, c.ID, now); err != nil {
				return nil, err
			}
			if err := tx.ResponseTimeline(ctx, incidentID, now, actor, "clock_stopped",
				fmt.Sprintf("Clock no longer applies: %s → %s", c.Rule, c.Recipient)); err != nil {
				return nil, err
			}
		}
	}
	return events, nil
}

func clockEventClients(clientID int64, inc *store.ResponseIncident) []int64 {
	if clientID != 0 {
		return []int64{clientID}
	}
	out := []int64{}
	for _, c := range inc.Clients {
		out = append(out, c.ClientID)
	}
	return out
}

// event builds a notification about the incident. Title and summary carry
// no personal data; details (the incident's title and the breach's nature)
// go only to channels allowed to receive them.
func (s *Service) event(inc *store.ResponseIncident, kind, title, summary, details string) notify.Event {
	d := "Incident: " + inc.Title
	if details != "" {
		d += "\n" + details
	}
	e := notify.Event{Kind: kind, Severity: inc.Severity, Category: inc.Category, IncidentID: inc.ID, Ref: inc.Ref,
		Title: title, Summary: summary, Details: d, At: s.now(), ClientIDs: clockEventClients(0, inc)}
	if s.BaseURL != "" {
		e.URL = strings.TrimRight(s.BaseURL, "/") + "/incidents/" + strconv.FormatInt(inc.ID, 10)
	}
	return e
}

func (s *Service) publish(ctx context.Context, events []notify.Event) {
	if s.Publisher == nil {
		return
	}
	for _, e := range events {
		if err := s.Publisher.Publish(ctx, e); err != nil {
			s.log().ErrorContext(ctx, "publish notification", "kind", e.Kind, "incident", e.IncidentID, "error", err.Error())
		}
	}
}

// ---- Warnings ----

// CheckClocks fires the warnings that are due on running clocks (50 %, 75 %
// and 2 h before the deadline) and marks clocks whose deadline passed as
// missed: a timeline entry and a notification each, once. It returns the
// number of warnings fired.
func (s *Service) CheckClocks(ctx context.Context) (int, error) {
	clocks, err := s.Store.ResponseRunningClocks(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	fired := 0
	for _, c := range clocks {
		var label string
		var all []string
		overdue := now.After(c.Deadline)
		if overdue {
			label = "overdue"
			for _, w := range clock.Warnings(c.Start, c.Deadline) {
				all = append(all, w.Label)
			}
			all = append(all, label)
		} else {
			for _, w := range clock.Warnings(c.Start, c.Deadline) {
				if !now.Before(w.At) {
					label = w.Label
					all = append(all, w.Label)
				}
			}
		}
		if label == "" || slices.Contains(c.Warned, label) {
			continue
		}
		var ev *notify.Event
		err := s.Store.InTx(ctx, func(tx *store.Tx) error {
			fresh := false
			for _, l := range all {
				ok, err := tx.ResponseMarkWarned(ctx, c.ID, l)
				if err != nil {
					return err
				}
				if l == label {
					fresh = ok
				}
			}
			if !fresh {
				return nil
			}
			inc, err := tx.ResponseIncident(ctx, identity.Scope{All: true}, c.IncidentID)
			if err != nil {
				return err
			}
			left := c.Deadline.Sub(now).Round(time.Minute)
			kind, text := "clock.warning", fmt.Sprintf("%s → %s: %s of the time used, %s left (deadline %s)", c.Rule, c.Recipient, label, left, c.Deadline.Format("2006-01-02 15:04 UTC"))
			if label == "2h" {
				text = fmt.Sprintf("%s → %s: 2 hours to the deadline (%s)", c.Rule, c.Recipient, c.Deadline.Format("2006-01-02 15:04 UTC"))
			}
			if overdue {
				kind, text = "clock.overdue", fmt.Sprintf("%s → %s: the deadline %s passed without a recorded notification", c.Rule, c.Recipient, c.Deadline.Format("2006-01-02 15:04 UTC"))
				if err := tx.ResponseSetClockState(ctx, c.ID, string(clock.Missed), now); err != nil {
					return err
				}
			}
			if err := tx.ResponseTimeline(ctx, c.IncidentID, now, "system", strings.Replace(kind, ".", "_", 1), text); err != nil {
				return err
			}
			if err := tx.Audit(ctx, audit.Record{Actor: "system", Action: "response." + strings.Replace(kind, ".", "_", 1), ObjectType: "response_clock",
				ObjectID: strconv.FormatInt(c.ID, 10), ClientID: clockClient(&c, inc), Detail: label}); err != nil {
				return err
			}
			e := s.event(inc, kind, "Clock "+label+": "+c.Rule+" → "+c.Recipient, inc.Ref+": "+text, "")
			e.ClientIDs = clockEventClients(c.ClientID, inc)
			ev = &e
			return nil
		})
		if err != nil {
			return fired, err
		}
		if ev != nil {
			fired++
			s.publish(ctx, []notify.Event{*ev})
		}
	}
	return fired, nil
}

// Run is the background clock job: it checks the clocks every interval
// until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Minute
	}
	tk := time.NewTicker(interval)
	defer tk.Stop()
	for {
		if _, err := s.CheckClocks(ctx); err != nil && ctx.Err() == nil {
			s.log().ErrorContext(ctx, "regulatory clock check", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
	}
}
