// Package outbox is the durable side of notifications: channels stored with
// their destinations sealed under the master key, notify.Publisher writing
// one outbox row per matching channel in the caller's transaction-free
// context, and a worker that delivers with exponential backoff until a
// delivery succeeds or goes to the dead letters.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/notify"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
)

// Service manages channels and delivers events. It implements notify.Publisher.
type Service struct {
	Store  *store.Store
	Keys   *secret.Keyring
	Sender *notify.Sender
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Backoff is the first retry delay, doubled on each attempt up to
	// MaxBackoff (defaults 30 s and 1 h).
	Backoff, MaxBackoff time.Duration
	// MaxAttempts before a delivery goes to the dead letters (default 8).
	MaxAttempts int
	// Interval between outbox scans of the worker (default 5 s).
	Interval time.Duration
	// Keep is how long delivered notifications stay listed (default 30 days).
	Keep time.Duration
	// wake nudges the worker after a Publish.
	wake chan struct{}
}

// New returns a service with its defaults set.
func New(st *store.Store, keys *secret.Keyring, sender *notify.Sender, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{Store: st, Keys: keys, Sender: sender, Logger: log, wake: make(chan struct{}, 1)}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// ChannelInput is a channel as an administrator edits it. Address and
// Secret are write-only: an empty value on update keeps the stored one.
type ChannelInput struct {
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Address     string   `json:"address,omitempty"`
	Secret      string   `json:"secret,omitempty"`
	Sensitivity string   `json:"sensitivity"`
	Kinds       []string `json:"kinds,omitempty"`
	MinSeverity string   `json:"min_severity,omitempty"`
	Categories  []string `json:"categories,omitempty"`
	ClientIDs   []int64  `json:"client_ids,omitempty"`
	Active      *bool    `json:"active,omitempty"`
}

// FieldError is a validation problem of one input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// FieldErrors is a list of validation problems.
type FieldErrors []FieldError

func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Field + ": " + e.Message
	}
	return "invalid channel: " + strings.Join(parts, "; ")
}

func adTarget(id string) []byte { return []byte("notify_channel.target:" + id) }
func adSecret(id string) []byte { return []byte("notify_channel.secret:" + id) }

// The associated data binds a sealed value to its column, not to the row
// id (unknown before the insert): a target cannot be swapped for a secret.
const adKey = "v1"

// SaveChannel validates in and creates (id 0) or updates a channel.
func (s *Service) SaveChannel(ctx context.Context, id int64, in ChannelInput) (*store.NotifyChannel, error) {
	var ch store.NotifyChannel
	var old notify.Target
	if id != 0 {
		cur, err := s.Store.NotifyChannel(ctx, id)
		if err != nil {
			return nil, err
		}
		ch = *cur
		// A destination that no longer opens (sealed under a lost key) must
		// be entered again; it is not an internal error.
		if t, err := s.target(cur); err == nil {
			old = t
		}
	}
	var fe FieldErrors
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 100 {
		fe = append(fe, FieldError{"name", "is required (at most 100 characters)"})
	}
	if !slices.Contains(notify.Kinds, in.Kind) {
		fe = append(fe, FieldError{"kind", "must be one of " + strings.Join(notify.Kinds, ", ")})
	}
	if in.Sensitivity == "" {
		in.Sensitivity = notify.SensitivitySummary
	}
	if in.Sensitivity != notify.SensitivitySummary && in.Sensitivity != notify.SensitivityDetails {
		fe = append(fe, FieldError{"sensitivity", "must be summary or details"})
	}
	for _, k := range in.Kinds {
		if !slices.Contains(notify.EventKinds, k) {
			fe = append(fe, FieldError{"kinds", "unknown event kind " + k})
		}
	}
	if in.MinSeverity != "" && !slices.Contains(notify.Severities, in.MinSeverity) {
		fe = append(fe, FieldError{"min_severity", "must be one of " + strings.Join(notify.Severities, ", ")})
	}
	t := notify.Target{Kind: in.Kind, Address: strings.TrimSpace(in.Address), Secret: in.Secret}
	if id != 0 && old.Kind == in.Kind {
		if t.Address == "" {
			t.Address = old.Address
		}
		if t.Secret == "" {
			t.Secret = old.Secret
		}
	}
	if len(fe) == 0 {
		if err := notify.ValidateTarget(t); err != nil {
			field := "address"
			if strings.Contains(err.Error(), "secret") {
				field = "secret"
			}
			fe = append(fe, FieldError{field, err.Error()})
		}
	}
	if len(fe) > 0 {
		return nil, fe
	}
	sealedT, err := s.Keys.Seal([]byte(t.Address), adTarget(adKey))
	if err != nil {
		return nil, err
	}
	var sealedS []byte
	if t.Secret != "" {
		if sealedS, err = s.Keys.Seal([]byte(t.Secret), adSecret(adKey)); err != nil {
			return nil, err
		}
	}
	ch.Name, ch.Kind, ch.Target, ch.Secret, ch.Sensitivity = in.Name, in.Kind, sealedT, sealedS, in.Sensitivity
	ch.Kinds, ch.MinSeverity, ch.Categories, ch.ClientIDs = nonNil(in.Kinds), in.MinSeverity, nonNil(in.Categories), in.ClientIDs
	if ch.ClientIDs == nil {
		ch.ClientIDs = []int64{}
	}
	if in.Active != nil {
		ch.Active = *in.Active
	} else if id == 0 {
		ch.Active = true
	}
	if err := s.Store.InTx(ctx, func(tx *store.Tx) error { return tx.NotifySaveChannel(ctx, &ch, s.now()) }); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, FieldErrors{{"name", "is already used by another channel"}}
		}
		return nil, err
	}
	return &ch, nil
}

func nonNil(s []string) []string {
	out := []string{}
	for _, x := range s {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// target opens a channel's sealed destination.
func (s *Service) target(ch *store.NotifyChannel) (notify.Target, error) {
	addr, err := s.Keys.Open(ch.Target, adTarget(adKey))
	if err != nil {
		return notify.Target{}, fmt.Errorf("channel %d target: %w", ch.ID, err)
	}
	t := notify.Target{Kind: ch.Kind, Address: string(addr)}
	if len(ch.Secret) > 0 {
		sec, err := s.Keys.Open(ch.Secret, adSecret(adKey))
		if err != nil {
			return notify.Target{}, fmt.Errorf("channel %d secret: %w", ch.ID, err)
		}
		t.Secret = string(sec)
	}
	return t, nil
}

// MaskedAddress shows where a channel delivers without revealing a
// credential: e-mail addresses in full, a URL's host only.
func (s *Service) MaskedAddress(ch *store.NotifyChannel) string {
	t, err := s.target(ch)
	if err != nil {
		return "(unreadable)"
	}
	if t.Kind == notify.KindEmail {
		return t.Address
	}
	if i := strings.Index(t.Address, "://"); i >= 0 {
		rest := t.Address[i+3:]
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			rest = rest[:j]
		}
		return t.Address[:i+3] + rest + "/…"
	}
	return "…"
}

// DeleteChannel removes a channel and its deliveries.
func (s *Service) DeleteChannel(ctx context.Context, id int64) error {
	return s.Store.InTx(ctx, func(tx *store.Tx) error { return tx.NotifyDeleteChannel(ctx, id) })
}

func rule(ch *store.NotifyChannel) notify.Rule {
	return notify.Rule{Kinds: ch.Kinds, MinSeverity: ch.MinSeverity, Categories: ch.Categories, ClientIDs: ch.ClientIDs}
}

// Publish records e in the outbox for every active channel whose rule
// matches, limited to each channel's sensitivity (a summary channel's row
// never holds the details), and returns without touching the network.
func (s *Service) Publish(ctx context.Context, e notify.Event) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	chans, err := s.Store.NotifyChannels(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	var rows []store.NotifyDelivery
	for i := range chans {
		ch := &chans[i]
		if !ch.Active || !rule(ch).Match(e) {
			continue
		}
		b, err := json.Marshal(notify.Limit(e, ch.Sensitivity))
		if err != nil {
			return err
		}
		sealed, err := s.Keys.Seal(b, []byte("notify_delivery.event"))
		if err != nil {
			return err
		}
		rows = append(rows, store.NotifyDelivery{ChannelID: ch.ID, EventKind: e.Kind, EventTitle: e.Title, Event: sealed, NextAt: now, CreatedAt: now})
	}
	if len(rows) == 0 {
		return nil
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		for i := range rows {
			if err := tx.NotifyEnqueue(ctx, &rows[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return err
}

var _ notify.Publisher = (*Service)(nil)

// TestSend delivers a test event to one channel at once and reports the
// outcome (nothing is queued).
func (s *Service) TestSend(ctx context.Context, id int64) error {
	ch, err := s.Store.NotifyChannel(ctx, id)
	if err != nil {
		return err
	}
	t, err := s.target(ch)
	if err != nil {
		return err
	}
	e := notify.Event{Kind: "notify.test", Severity: "low", Title: "Custodia test notification",
		Summary: "This is a test of the channel " + ch.Name + ".", Details: "Details are shown only on channels set to receive them.", At: s.now()}
	return s.Sender.Send(ctx, t, notify.Limit(e, ch.Sensitivity))
}

// Retry puts a dead delivery back in the queue.
func (s *Service) Retry(ctx context.Context, id int64) error {
	err := s.Store.InTx(ctx, func(tx *store.Tx) error { return tx.NotifyRetry(ctx, id, s.now()) })
	if err == nil {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return err
}

func (s *Service) backoff(attempt int) time.Duration {
	base, maxB := s.Backoff, s.MaxBackoff
	if base <= 0 {
		base = 30 * time.Second
	}
	if maxB <= 0 {
		maxB = time.Hour
	}
	d := base
	for i := 1; i < attempt && d < maxB; i++ {
		d *= 2
	}
	return min(d, maxB)
}

// RunOnce delivers every due delivery once and returns how many it tried.
func (s *Service) RunOnce(ctx context.Context) (int, error) {
	due, err := s.Store.NotifyDue(ctx, s.now(), 100)
	if err != nil {
		return 0, err
	}
	maxAttempts := s.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 8
	}
	for _, d := range due {
		err := s.deliver(ctx, d)
		attempts := d.Attempts + 1
		now := s.now()
		switch {
		case err == nil:
			err = s.Store.NotifyResult(ctx, d.ID, store.NotifyDelivered, attempts, now, "", now)
		case attempts >= maxAttempts:
			s.Logger.WarnContext(ctx, "notification dead-lettered", "delivery", d.ID, "channel", d.ChannelName, "attempts", attempts, "error", err.Error())
			err = s.Store.NotifyResult(ctx, d.ID, store.NotifyDead, attempts, now, truncate(err.Error()), now)
		default:
			err = s.Store.NotifyResult(ctx, d.ID, store.NotifyPending, attempts, now.Add(s.backoff(attempts)), truncate(err.Error()), now)
		}
		if err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

func truncate(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}

func (s *Service) deliver(ctx context.Context, d store.NotifyDelivery) error {
	ch, err := s.Store.NotifyChannel(ctx, d.ChannelID)
	if err != nil {
		return err
	}
	t, err := s.target(ch)
	if err != nil {
		return err
	}
	b, err := s.Keys.Open(d.Event, []byte("notify_delivery.event"))
	if err != nil {
		return fmt.Errorf("open event: %w", err)
	}
	var e notify.Event
	if err := json.Unmarshal(b, &e); err != nil {
		return fmt.Errorf("decode event: %w", err)
	}
	// The sensitivity may have been lowered since the event was queued.
	return s.Sender.Send(ctx, t, notify.Limit(e, ch.Sensitivity))
}

// Run is the background worker: it delivers due notifications until ctx ends.
func (s *Service) Run(ctx context.Context) {
	iv := s.Interval
	if iv <= 0 {
		iv = 5 * time.Second
	}
	tk := time.NewTicker(iv)
	defer tk.Stop()
	var purged time.Time
	for {
		if _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.Logger.ErrorContext(ctx, "notification worker", "error", err.Error())
		}
		if now := s.now(); now.Sub(purged) > time.Hour {
			keep := s.Keep
			if keep <= 0 {
				keep = 30 * 24 * time.Hour
			}
			if _, err := s.Store.NotifyPurgeDelivered(ctx, now.Add(-keep)); err != nil && ctx.Err() == nil {
				s.Logger.ErrorContext(ctx, "purge delivered notifications", "error", err.Error())
			}
			purged = now
		}
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		case <-s.wake:
		}
	}
}
