package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
)

// NotifyChannel is a notification channel. Target (an address list or a
// webhook URL) and Secret (the webhook signing key) are sealed with the
// master key by the caller; the store never sees them in clear.
type NotifyChannel struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	Target      []byte    `json:"-"`
	Secret      []byte    `json:"-"`
	Sensitivity string    `json:"sensitivity"`
	Kinds       []string  `json:"kinds"`
	MinSeverity string    `json:"min_severity"`
	Categories  []string  `json:"categories"`
	ClientIDs   []int64   `json:"client_ids"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// NotifyDelivery is one event to deliver to one channel (the outbox).
type NotifyDelivery struct {
	ID          int64     `json:"id"`
	ChannelID   int64     `json:"channel_id"`
	ChannelName string    `json:"channel_name"`
	EventKind   string    `json:"event_kind"`
	EventTitle  string    `json:"event_title"`
	Event       []byte    `json:"-"` // sealed JSON
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts"`
	NextAt      time.Time `json:"next_at"`
	LastError   string    `json:"last_error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
}

// Delivery states.
const (
	NotifyPending   = "pending"
	NotifyDelivered = "delivered"
	NotifyDead      = "dead"
)

const channelColumns = "id, name, kind, target, secret, sensitivity, kinds, min_severity, categories, client_ids, active, created_at, updated_at"

func scanChannel(sc interface{ Scan(...any) error }, c *NotifyChannel) error {
	var kinds, cats, clients string
	var active int64
	if err := sc.Scan(&c.ID, &c.Name, &c.Kind, &c.Target, &c.Secret, &c.Sensitivity, &kinds, &c.MinSeverity, &cats, &clients, &active,
		ScanTime(&c.CreatedAt), ScanTime(&c.UpdatedAt)); err != nil {
		return err
	}
	c.Kinds, c.Categories, c.Active = splitList(kinds), splitList(cats), active != 0
	c.ClientIDs = []int64{}
	for _, s := range splitList(clients) {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			c.ClientIDs = append(c.ClientIDs, n)
		}
	}
	return nil
}

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

// NotifyChannels lists every channel by name.
func (s *Store) NotifyChannels(ctx context.Context) ([]NotifyChannel, error) {
	rows, err := s.Query(ctx, "SELECT "+channelColumns+" FROM notify_channels ORDER BY name, id")
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	defer rows.Close()
	out := []NotifyChannel{}
	for rows.Next() {
		var c NotifyChannel
		if err := scanChannel(rows, &c); err != nil {
			return nil, fmt.Errorf("list channels: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// NotifyChannel returns one channel.
func (s *Store) NotifyChannel(ctx context.Context, id int64) (*NotifyChannel, error) {
	var c NotifyChannel
	if err := scanChannel(s.QueryRow(ctx, "SELECT "+channelColumns+" FROM notify_channels WHERE id = ?", id), &c); err != nil {
		return nil, fmt.Errorf("channel %d: %w", id, mapErr(err))
	}
	return &c, nil
}

// NotifySaveChannel inserts (c.ID == 0) or updates a channel and audits it.
func (tx *Tx) NotifySaveChannel(ctx context.Context, c *NotifyChannel, now time.Time) error {
	action := "notify.channel_update"
	if c.ID == 0 {
		c.CreatedAt = now
		id, err := tx.InsertID(ctx, `INSERT INTO notify_channels (name, kind, target, secret, sensitivity, kinds, min_severity, categories, client_ids, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.Name, c.Kind, c.Target, c.Secret, c.Sensitivity, strings.Join(c.Kinds, ","), c.MinSeverity, strings.Join(c.Categories, ","), joinIDs(c.ClientIDs),
			boolInt(c.Active), TimeArg(now), TimeArg(now))
		if err != nil {
			return fmt.Errorf("create channel: %w", err)
		}
		c.ID, action = id, "notify.channel_create"
	} else {
		res, err := tx.Exec(ctx, `UPDATE notify_channels SET name = ?, kind = ?, target = ?, secret = ?, sensitivity = ?, kinds = ?, min_severity = ?, categories = ?,
			client_ids = ?, active = ?, updated_at = ? WHERE id = ?`,
			c.Name, c.Kind, c.Target, c.Secret, c.Sensitivity, strings.Join(c.Kinds, ","), c.MinSeverity, strings.Join(c.Categories, ","), joinIDs(c.ClientIDs),
			boolInt(c.Active), TimeArg(now), c.ID)
		if err != nil {
			return fmt.Errorf("update channel %d: %w", c.ID, mapErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("channel %d: %w", c.ID, ErrNotFound)
		}
	}
	c.UpdatedAt = now
	return tx.Audit(ctx, audit.Record{Action: action, ObjectType: "notify_channel", ObjectID: strconv.FormatInt(c.ID, 10), After: c,
		Detail: c.Kind + " " + c.Name + " (" + c.Sensitivity + ")"})
}

// NotifyDeleteChannel deletes a channel and its deliveries, audited.
func (tx *Tx) NotifyDeleteChannel(ctx context.Context, id int64) error {
	res, err := tx.Exec(ctx, "DELETE FROM notify_deliveries WHERE channel_id = ?", id)
	if err != nil {
		return fmt.Errorf("delete channel %d: %w", id, err)
	}
	_ = res
	res, err = tx.Exec(ctx, "DELETE FROM notify_channels WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete channel %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("channel %d: %w", id, ErrNotFound)
	}
	return tx.Audit(ctx, audit.Record{Action: "notify.channel_delete", ObjectType: "notify_channel", ObjectID: strconv.FormatInt(id, 10)})
}

// NotifyEnqueue adds a delivery to the outbox.
func (tx *Tx) NotifyEnqueue(ctx context.Context, d *NotifyDelivery) error {
	id, err := tx.InsertID(ctx, `INSERT INTO notify_deliveries (channel_id, event_kind, event_title, event, status, attempts, next_at, created_at)
		VALUES (?, ?, ?, ?, 'pending', 0, ?, ?) RETURNING id`, d.ChannelID, d.EventKind, d.EventTitle, d.Event, TimeArg(d.NextAt), TimeArg(d.CreatedAt))
	if err != nil {
		return fmt.Errorf("enqueue notification: %w", err)
	}
	d.ID, d.Status = id, NotifyPending
	return nil
}

const deliveryColumns = "d.id, d.channel_id, c.name, d.event_kind, d.event_title, d.event, d.status, d.attempts, d.next_at, d.last_error, d.created_at, d.delivered_at"

func scanDelivery(sc interface{ Scan(...any) error }, d *NotifyDelivery) error {
	var delivered nullTime
	if err := sc.Scan(&d.ID, &d.ChannelID, &d.ChannelName, &d.EventKind, &d.EventTitle, &d.Event, &d.Status, &d.Attempts, ScanTime(&d.NextAt),
		&d.LastError, ScanTime(&d.CreatedAt), &delivered); err != nil {
		return err
	}
	d.DeliveredAt = delivered.Time
	return nil
}

func (s *Store) queryDeliveries(ctx context.Context, q string, args ...any) ([]NotifyDelivery, error) {
	rows, err := s.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	out := []NotifyDelivery{}
	for rows.Next() {
		var d NotifyDelivery
		if err := scanDelivery(rows, &d); err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// NotifyDue lists pending deliveries whose time has come, oldest first.
func (s *Store) NotifyDue(ctx context.Context, now time.Time, limit int) ([]NotifyDelivery, error) {
	return s.queryDeliveries(ctx, "SELECT "+deliveryColumns+" FROM notify_deliveries d JOIN notify_channels c ON c.id = d.channel_id WHERE d.status = 'pending' AND d.next_at <= ? ORDER BY d.next_at, d.id LIMIT ?",
		TimeArg(now), limit)
}

// NotifyDeliveries lists deliveries (status "" = all), newest first.
func (s *Store) NotifyDeliveries(ctx context.Context, status string, limit int) ([]NotifyDelivery, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	if status == "" {
		return s.queryDeliveries(ctx, "SELECT "+deliveryColumns+" FROM notify_deliveries d JOIN notify_channels c ON c.id = d.channel_id ORDER BY d.id DESC LIMIT ?", limit)
	}
	return s.queryDeliveries(ctx, "SELECT "+deliveryColumns+" FROM notify_deliveries d JOIN notify_channels c ON c.id = d.channel_id WHERE d.status = ? ORDER BY d.id DESC LIMIT ?", status, limit)
}

// NotifyDelivery returns one delivery.
func (s *Store) NotifyDelivery(ctx context.Context, id int64) (*NotifyDelivery, error) {
	var d NotifyDelivery
	if err := scanDelivery(s.QueryRow(ctx, "SELECT "+deliveryColumns+" FROM notify_deliveries d JOIN notify_channels c ON c.id = d.channel_id WHERE d.id = ?", id), &d); err != nil {
		return nil, fmt.Errorf("delivery %d: %w", id, mapErr(err))
	}
	return &d, nil
}

// NotifyResult records a delivery attempt: delivered, retried at next, or dead.
func (s *Store) NotifyResult(ctx context.Context, id int64, status string, attempts int, next time.Time, lastErr string, now time.Time) error {
	var delivered any
	if status == NotifyDelivered {
		delivered = TimeArg(now)
	}
	_, err := s.Exec(ctx, "UPDATE notify_deliveries SET status = ?, attempts = ?, next_at = ?, last_error = ?, delivered_at = ? WHERE id = ?",
		status, attempts, TimeArg(next), lastErr, delivered, id)
	if err != nil {
		return fmt.Errorf("delivery %d: %w", id, err)
	}
	return nil
}

// NotifyRetry puts a dead delivery back in the queue, audited.
func (tx *Tx) NotifyRetry(ctx context.Context, id int64, now time.Time) error {
	res, err := tx.Exec(ctx, "UPDATE notify_deliveries SET status = 'pending', next_at = ?, last_error = '' WHERE id = ? AND status = 'dead'", TimeArg(now), id)
	if err != nil {
		return fmt.Errorf("retry delivery %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("dead delivery %d: %w", id, ErrNotFound)
	}
	return tx.Audit(ctx, audit.Record{Action: "notify.retry", ObjectType: "notify_delivery", ObjectID: strconv.FormatInt(id, 10)})
}

// NotifyPurgeDelivered deletes delivered notifications older than before
// (the outbox is a queue, not an archive; the audit trail keeps changes).
func (s *Store) NotifyPurgeDelivered(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.Exec(ctx, "DELETE FROM notify_deliveries WHERE status = 'delivered' AND delivered_at < ?", TimeArg(before))
	if err != nil {
		return 0, fmt.Errorf("purge deliveries: %w", err)
	}
	return res.RowsAffected()
}
