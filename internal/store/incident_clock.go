package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
)

// ResponseClientSettings are a client's contract terms for incident
// notification.
type ResponseClientSettings struct {
	ClientID   int64  `json:"client_id"`
	ClientName string `json:"client_name"`
	// NotifyHours is the contractual breach-notification deadline (GDPR Art.
	// 33(2)); 0 takes the configured default.
	NotifyHours  int       `json:"notify_hours"`
	Financial    bool      `json:"financial"`
	ContactName  string    `json:"contact_name"`
	ContactEmail string    `json:"contact_email"`
	UpdatedBy    string    `json:"updated_by,omitempty"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
}

// ResponseIncident is what the response module reads of an incident.
type ResponseIncident struct {
	ID        int64                    `json:"id"`
	Ref       string                   `json:"ref"`
	Title     string                   `json:"title"`
	Category  string                   `json:"category"`
	Severity  string                   `json:"severity"`
	Status    string                   `json:"status"`
	CreatedAt time.Time                `json:"created_at"`
	AwareAt   time.Time                `json:"aware_at,omitzero"`
	Clients   []ResponseClientSettings `json:"clients"`
}

// ResponseFacts are the regimes that apply to an incident besides the GDPR.
type ResponseFacts struct {
	NIS2     bool      `json:"nis2"`
	ENSLevel int       `json:"ens_level"`
	MajorAt  time.Time `json:"major_at,omitzero"`
}

// ResponseClock is one stored regulatory or contractual clock.
type ResponseClock struct {
	ID                int64     `json:"id"`
	IncidentID        int64     `json:"incident_id"`
	IncidentRef       string    `json:"incident_ref"`
	IncidentTitle     string    `json:"incident_title"`
	Key               string    `json:"key"`
	Kind              string    `json:"kind"`
	ClientID          int64     `json:"client_id,omitempty"`
	Rule              string    `json:"rule"`
	Recipient         string    `json:"recipient"`
	Start             time.Time `json:"start"`
	Deadline          time.Time `json:"deadline"`
	State             string    `json:"state"`
	Active            bool      `json:"active"`
	NotRequiredReason string    `json:"not_required_reason,omitempty"`
	SentAt            time.Time `json:"sent_at,omitzero"`
	SentHow           string    `json:"sent_how,omitempty"`
	SentBy            string    `json:"sent_by,omitempty"`
	SentRef           string    `json:"sent_ref,omitempty"`
	LateReason        string    `json:"late_reason,omitempty"`
	Phase             string    `json:"phase,omitempty"`
	Warned            []string  `json:"warned,omitempty"`
}

// ResponseAwareChange records a change of the "became aware" time.
type ResponseAwareChange struct {
	OldAt  time.Time `json:"old_at,omitzero"`
	NewAt  time.Time `json:"new_at"`
	Reason string    `json:"reason"`
	Actor  string    `json:"actor"`
	At     time.Time `json:"at"`
}

// incidentScopeSQL restricts incidents (alias i) to those touching one of
// the scope's clients; incidents without a client are the operator's and
// visible to callers who see every client only.
func incidentScopeSQL(scope identity.Scope, args []any) (string, []any) {
	if scope.All {
		return "1 = 1", args
	}
	if len(scope.ClientIDs) == 0 {
		return "1 = 0", args
	}
	in, args := orgInList(scope.ClientIDs, args)
	return "EXISTS (SELECT 1 FROM incident_clients ic WHERE ic.incident_id = i.id AND ic.client_id IN " + in + ")", args
}

// clockScopeSQL hides another client's per-client clocks (alias c).
func clockScopeSQL(scope identity.Scope, args []any) (string, []any) {
	if scope.All {
		return "1 = 1", args
	}
	if len(scope.ClientIDs) == 0 {
		return "1 = 0", args
	}
	in, args := orgInList(scope.ClientIDs, args)
	return "(c.client_id IS NULL OR c.client_id IN " + in + ")", args
}

// ResponseIncident returns the incident with id if it is in scope, with its
// clients' contract settings.
func (s *Store) ResponseIncident(ctx context.Context, scope identity.Scope, id int64) (*ResponseIncident, error) {
	return responseIncident(ctx, s, scope, id)
}

// ResponseIncident is Store.ResponseIncident inside the transaction.
func (tx *Tx) ResponseIncident(ctx context.Context, scope identity.Scope, id int64) (*ResponseIncident, error) {
	return responseIncident(ctx, tx, scope, id)
}

func responseIncident(ctx context.Context, q orgQuerier, scope identity.Scope, id int64) (*ResponseIncident, error) {
	where, args := incidentScopeSQL(scope, nil)
	args = append(args, id)
	var in ResponseIncident
	var aware nullTime
	err := q.QueryRow(ctx, "SELECT i.id, i.ref, i.title, i.category, i.severity, i.status, i.created_at, i.became_aware_at FROM incidents i WHERE "+where+" AND i.id = ?", args...).
		Scan(&in.ID, &in.Ref, &in.Title, &in.Category, &in.Severity, &in.Status, ScanTime(&in.CreatedAt), &aware)
	if err != nil {
		return nil, fmt.Errorf("incident %d: %w", id, mapErr(err))
	}
	in.AwareAt = aware.Time
	rows, err := q.Query(ctx, `SELECT c.id, c.name, COALESCE(r.notify_hours, 0), COALESCE(r.financial, 0), COALESCE(r.contact_name, ''), COALESCE(r.contact_email, '')
		FROM incident_clients ic JOIN clients c ON c.id = ic.client_id LEFT JOIN response_client_settings r ON r.client_id = c.id
		WHERE ic.incident_id = ? ORDER BY c.name, c.id`, id)
	if err != nil {
		return nil, fmt.Errorf("incident %d clients: %w", id, err)
	}
	defer rows.Close()
	in.Clients = []ResponseClientSettings{}
	for rows.Next() {
		var c ResponseClientSettings
		var fin int64
		if err := rows.Scan(&c.ClientID, &c.ClientName, &c.NotifyHours, &fin, &c.ContactName, &c.ContactEmail); err != nil {
			return nil, fmt.Errorf("incident %d clients: %w", id, err)
		}
		c.Financial = fin != 0
		in.Clients = append(in.Clients, c)
	}
	return &in, rows.Err()
}

// ResponseClientSettingsList lists the clients in scope with their contract
// settings (defaults where none are saved).
func (s *Store) ResponseClientSettingsList(ctx context.Context, scope identity.Scope) ([]ResponseClientSettings, error) {
	w, args := clientScopeSQL(scope, "c.id", nil)
	rows, err := s.Query(ctx, `SELECT c.id, c.name, COALESCE(r.notify_hours, 0), COALESCE(r.financial, 0), COALESCE(r.contact_name, ''), COALESCE(r.contact_email, ''),
		COALESCE(r.updated_by, ''), r.updated_at
		FROM clients c LEFT JOIN response_client_settings r ON r.client_id = c.id WHERE 1 = 1`+w+` ORDER BY c.name_lower, c.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list client settings: %w", err)
	}
	defer rows.Close()
	out := []ResponseClientSettings{}
	for rows.Next() {
		var c ResponseClientSettings
		var fin int64
		var upd nullTime
		if err := rows.Scan(&c.ClientID, &c.ClientName, &c.NotifyHours, &fin, &c.ContactName, &c.ContactEmail, &c.UpdatedBy, &upd); err != nil {
			return nil, fmt.Errorf("list client settings: %w", err)
		}
		c.Financial, c.UpdatedAt = fin != 0, upd.Time
		out = append(out, c)
	}
	return out, rows.Err()
}

// ResponseClientSettingsOf returns one client's settings if the client is in scope.
func (s *Store) ResponseClientSettingsOf(ctx context.Context, scope identity.Scope, clientID int64) (*ResponseClientSettings, error) {
	c, err := s.Client(ctx, scope, clientID)
	if err != nil {
		return nil, err
	}
	out := ResponseClientSettings{ClientID: c.ID, ClientName: c.Name}
	var fin int64
	var upd nullTime
	err = s.QueryRow(ctx, "SELECT notify_hours, financial, contact_name, contact_email, updated_by, updated_at FROM response_client_settings WHERE client_id = ?", clientID).
		Scan(&out.NotifyHours, &fin, &out.ContactName, &out.ContactEmail, &out.UpdatedBy, &upd)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("client %d settings: %w", clientID, err)
	}
	out.Financial, out.UpdatedAt = fin != 0, upd.Time
	return &out, nil
}

// ResponseSaveClientSettings stores c (validated by the caller) and audits
// the change.
func (tx *Tx) ResponseSaveClientSettings(ctx context.Context, c *ResponseClientSettings, actor string, now time.Time) error {
	c.UpdatedBy, c.UpdatedAt = actor, now
	_, err := tx.Exec(ctx, `INSERT INTO response_client_settings (client_id, notify_hours, financial, contact_name, contact_email, updated_by, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET notify_hours = excluded.notify_hours, financial = excluded.financial,
		contact_name = excluded.contact_name, contact_email = excluded.contact_email, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		c.ClientID, c.NotifyHours, boolInt(c.Financial), c.ContactName, c.ContactEmail, actor, TimeArg(now))
	if err != nil {
		return fmt.Errorf("save client %d settings: %w", c.ClientID, err)
	}
	return tx.Audit(ctx, audit.Record{Action: "response.client_settings", ObjectType: "client", ObjectID: strconv.FormatInt(c.ClientID, 10),
		ClientID: c.ClientID, After: c, Detail: fmt.Sprintf("breach notice within %d h, financial=%t", c.NotifyHours, c.Financial)})
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// ResponseFacts returns an incident's regime facts (zero when none were saved).
func (tx *Tx) ResponseFacts(ctx context.Context, incidentID int64) (ResponseFacts, error) {
	return responseFacts(ctx, tx, incidentID)
}

// ResponseFacts returns an incident's regime facts (zero when none were saved).
func (s *Store) ResponseFacts(ctx context.Context, incidentID int64) (ResponseFacts, error) {
	return responseFacts(ctx, s, incidentID)
}

func responseFacts(ctx context.Context, q orgQuerier, incidentID int64) (ResponseFacts, error) {
	var f ResponseFacts
	var nis2 int64
	var major nullTime
	err := q.QueryRow(ctx, "SELECT nis2, ens_level, major_at FROM response_facts WHERE incident_id = ?", incidentID).Scan(&nis2, &f.ENSLevel, &major)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("incident %d facts: %w", incidentID, err)
	}
	f.NIS2, f.MajorAt = nis2 != 0, major.Time
	return f, nil
}

// ResponseSaveFacts stores an incident's regime facts.
func (tx *Tx) ResponseSaveFacts(ctx context.Context, incidentID int64, f ResponseFacts, actor string, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO response_facts (incident_id, nis2, ens_level, major_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (incident_id) DO UPDATE SET nis2 = excluded.nis2, ens_level = excluded.ens_level, major_at = excluded.major_at,
		updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		incidentID, boolInt(f.NIS2), f.ENSLevel, TimeArg(f.MajorAt), actor, TimeArg(now))
	if err != nil {
		return fmt.Errorf("save incident %d facts: %w", incidentID, err)
	}
	return nil
}

// ResponseSetAware records the incident's "became aware" time, the change
// history with its reason, and a timeline entry.
func (tx *Tx) ResponseSetAware(ctx context.Context, incidentID int64, old, at time.Time, reason, actor string, now time.Time) error {
	if _, err := tx.Exec(ctx, "UPDATE incidents SET became_aware_at = ?, updated_at = ? WHERE id = ?", TimeArg(at), TimeArg(now), incidentID); err != nil {
		return fmt.Errorf("set incident %d aware time: %w", incidentID, err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO response_aware_changes (incident_id, old_at, new_at, reason, actor, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		incidentID, TimeArg(old), TimeArg(at), reason, actor, TimeArg(now)); err != nil {
		return fmt.Errorf("set incident %d aware time: %w", incidentID, err)
	}
	return nil
}

// ResponseAwareChanges lists the changes of an incident's "became aware" time, oldest first.
func (s *Store) ResponseAwareChanges(ctx context.Context, incidentID int64) ([]ResponseAwareChange, error) {
	rows, err := s.Query(ctx, "SELECT old_at, new_at, reason, actor, created_at FROM response_aware_changes WHERE incident_id = ? ORDER BY id", incidentID)
	if err != nil {
		return nil, fmt.Errorf("aware changes: %w", err)
	}
	defer rows.Close()
	out := []ResponseAwareChange{}
	for rows.Next() {
		var c ResponseAwareChange
		var old nullTime
		if err := rows.Scan(&old, ScanTime(&c.NewAt), &c.Reason, &c.Actor, ScanTime(&c.At)); err != nil {
			return nil, fmt.Errorf("aware changes: %w", err)
		}
		c.OldAt = old.Time
		out = append(out, c)
	}
	return out, rows.Err()
}

// ResponseTimeline adds an entry to the incident's timeline.
func (tx *Tx) ResponseTimeline(ctx context.Context, incidentID int64, at time.Time, actor, kind, text string) error {
	if _, err := tx.Exec(ctx, "INSERT INTO incident_timeline (incident_id, at, actor, kind, text) VALUES (?, ?, ?, ?, ?)",
		incidentID, TimeArg(at), actor, kind, text); err != nil {
		return fmt.Errorf("incident %d timeline: %w", incidentID, err)
	}
	return nil
}

const clockColumns = `c.id, c.incident_id, i.ref, i.title, c.clock_key, c.kind, c.client_id, c.rule, c.recipient, c.start_at, c.deadline, c.state, c.active,
	c.not_required_reason, c.sent_at, c.sent_how, c.sent_by, c.sent_ref, c.late_reason, c.phase, c.warned`

func scanClock(sc interface{ Scan(...any) error }, c *ResponseClock) error {
	var client sql.NullInt64
	var active int64
	var sent nullTime
	var warned string
	if err := sc.Scan(&c.ID, &c.IncidentID, &c.IncidentRef, &c.IncidentTitle, &c.Key, &c.Kind, &client, &c.Rule, &c.Recipient,
		ScanTime(&c.Start), ScanTime(&c.Deadline), &c.State, &active, &c.NotRequiredReason, &sent, &c.SentHow, &c.SentBy, &c.SentRef,
		&c.LateReason, &c.Phase, &warned); err != nil {
		return err
	}
	c.ClientID, c.Active, c.SentAt = client.Int64, active != 0, sent.Time
	c.Warned = nil
	if warned != "" {
		c.Warned = strings.Split(warned, ",")
	}
	return nil
}

func queryClocks(ctx context.Context, q orgQuerier, query string, args ...any) ([]ResponseClock, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list clocks: %w", err)
	}
	defer rows.Close()
	out := []ResponseClock{}
	for rows.Next() {
		var c ResponseClock
		if err := scanClock(rows, &c); err != nil {
			return nil, fmt.Errorf("list clocks: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ResponseClocks lists an incident's active clocks visible in scope, by deadline.
func (s *Store) ResponseClocks(ctx context.Context, scope identity.Scope, incidentID int64) ([]ResponseClock, error) {
	w1, args := incidentScopeSQL(scope, nil)
	w2, args := clockScopeSQL(scope, args)
	args = append(args, incidentID)
	return queryClocks(ctx, s, "SELECT "+clockColumns+" FROM response_clocks c JOIN incidents i ON i.id = c.incident_id WHERE "+w1+" AND "+w2+
		" AND c.incident_id = ? AND c.active = 1 ORDER BY c.deadline, c.id", args...)
}

// ResponseAllClocks lists every clock of an incident, active or not, without
// a scope (the service's recomputation).
func (tx *Tx) ResponseAllClocks(ctx context.Context, incidentID int64) ([]ResponseClock, error) {
	return queryClocks(ctx, tx, "SELECT "+clockColumns+" FROM response_clocks c JOIN incidents i ON i.id = c.incident_id WHERE c.incident_id = ? ORDER BY c.deadline, c.id", incidentID)
}

// ResponseClock returns one clock of an incident if both are visible in scope.
func (s *Store) ResponseClock(ctx context.Context, scope identity.Scope, incidentID, clockID int64) (*ResponseClock, error) {
	w1, args := incidentScopeSQL(scope, nil)
	w2, args := clockScopeSQL(scope, args)
	args = append(args, incidentID, clockID)
	var c ResponseClock
	err := scanClock(s.QueryRow(ctx, "SELECT "+clockColumns+" FROM response_clocks c JOIN incidents i ON i.id = c.incident_id WHERE "+w1+" AND "+w2+
		" AND c.incident_id = ? AND c.id = ? AND c.active = 1", args...), &c)
	if err != nil {
		return nil, fmt.Errorf("clock %d: %w", clockID, mapErr(err))
	}
	return &c, nil
}

// ResponseClockFilter selects clocks for the overview.
type ResponseClockFilter struct {
	State string // "" every state
	Limit int
}

// ResponseClockOverview lists active clocks across incidents in scope,
// soonest deadline first.
func (s *Store) ResponseClockOverview(ctx context.Context, scope identity.Scope, f ResponseClockFilter) ([]ResponseClock, error) {
	w1, args := incidentScopeSQL(scope, nil)
	w2, args := clockScopeSQL(scope, args)
	q := "SELECT " + clockColumns + " FROM response_clocks c JOIN incidents i ON i.id = c.incident_id WHERE " + w1 + " AND " + w2 + " AND c.active = 1"
	if f.State != "" {
		q += " AND c.state = ?"
		args = append(args, f.State)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 500
	}
	q += " ORDER BY c.deadline, c.id LIMIT ?"
	args = append(args, limit)
	return queryClocks(ctx, s, q, args...)
}

// ResponseRunningClocks lists every running clock (the warning job), without scope.
func (s *Store) ResponseRunningClocks(ctx context.Context) ([]ResponseClock, error) {
	return queryClocks(ctx, s, "SELECT "+clockColumns+" FROM response_clocks c JOIN incidents i ON i.id = c.incident_id WHERE c.active = 1 AND c.state = 'running' ORDER BY c.deadline, c.id")
}

// ResponseClockStats counts active clocks by state in scope.
func (s *Store) ResponseClockStats(ctx context.Context, scope identity.Scope) (map[string]int, error) {
	w1, args := incidentScopeSQL(scope, nil)
	w2, args := clockScopeSQL(scope, args)
	rows, err := s.Query(ctx, "SELECT c.state, COUNT(*) FROM response_clocks c JOIN incidents i ON i.id = c.incident_id WHERE "+w1+" AND "+w2+
		" AND c.active = 1 GROUP BY c.state", args...)
	if err != nil {
		return nil, fmt.Errorf("clock stats: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("clock stats: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

// ResponseUpsertClock inserts the clock (by incident and key) or updates its
// computed fields; sending records are kept. c.ID is set.
func (tx *Tx) ResponseUpsertClock(ctx context.Context, c *ResponseClock, now time.Time) error {
	id, err := tx.InsertID(ctx, `INSERT INTO response_clocks (incident_id, clock_key, kind, client_id, rule, recipient, start_at, deadline, state, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (incident_id, clock_key) DO UPDATE SET kind = excluded.kind, client_id = excluded.client_id, rule = excluded.rule,
		recipient = excluded.recipient, start_at = excluded.start_at, deadline = excluded.deadline, state = excluded.state, active = excluded.active,
		updated_at = excluded.updated_at RETURNING id`,
		c.IncidentID, c.Key, c.Kind, nullID(c.ClientID), c.Rule, c.Recipient, TimeArg(c.Start), TimeArg(c.Deadline), c.State, boolInt(c.Active), TimeArg(now), TimeArg(now))
	if err != nil {
		return fmt.Errorf("save clock %s: %w", c.Key, err)
	}
	c.ID = id
	return nil
}

// ResponseDeactivateClock marks a clock the incident no longer starts.
func (tx *Tx) ResponseDeactivateClock(ctx context.Context, id int64, now time.Time) error {
	_, err := tx.Exec(ctx, "UPDATE response_clocks SET active = 0, updated_at = ? WHERE id = ?", TimeArg(now), id)
	return err
}

// ResponseRecordSending stores how a clock's notification was sent (or that
// it is not required when notRequired is set).
func (tx *Tx) ResponseRecordSending(ctx context.Context, c *ResponseClock, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE response_clocks SET sent_at = ?, sent_how = ?, sent_by = ?, sent_ref = ?, late_reason = ?, phase = ?,
		not_required_reason = ?, state = ?, updated_at = ? WHERE id = ?`,
		TimeArg(c.SentAt), c.SentHow, c.SentBy, c.SentRef, c.LateReason, c.Phase, c.NotRequiredReason, c.State, TimeArg(now), c.ID)
	if err != nil {
		return fmt.Errorf("record clock %d sending: %w", c.ID, err)
	}
	return nil
}

// ResponseMarkWarned adds label to the clock's fired warnings; it reports
// false when another worker fired it already.
func (tx *Tx) ResponseMarkWarned(ctx context.Context, id int64, label string) (bool, error) {
	var warned string
	if err := tx.QueryRow(ctx, "SELECT warned FROM response_clocks WHERE id = ?", id).Scan(&warned); err != nil {
		return false, fmt.Errorf("clock %d: %w", id, mapErr(err))
	}
	list := []string{}
	if warned != "" {
		list = strings.Split(warned, ",")
	}
	for _, w := range list {
		if w == label {
			return false, nil
		}
	}
	list = append(list, label)
	if _, err := tx.Exec(ctx, "UPDATE response_clocks SET warned = ? WHERE id = ?", strings.Join(list, ","), id); err != nil {
		return false, fmt.Errorf("clock %d: %w", id, err)
	}
	return true, nil
}

// ResponseSetClockState changes a clock's state (the warning job marks
// overdue clocks missed).
func (tx *Tx) ResponseSetClockState(ctx context.Context, id int64, state string, now time.Time) error {
	_, err := tx.Exec(ctx, "UPDATE response_clocks SET state = ?, updated_at = ? WHERE id = ?", state, TimeArg(now), id)
	return err
}
