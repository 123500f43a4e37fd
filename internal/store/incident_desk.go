package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/desk"
)

// IncidentFilter selects incidents for a list.
type IncidentFilter struct {
	Status   string // one status; "open" = every status but closed
	Severity string
	ClientID int64
	Query    string // in ref or title
	Limit    int
	Offset   int
}

// deskNextRef returns the next tracking reference for prefix ("R",
// "INC") in now's year, e.g. INC-2026-000045.
func (tx *Tx) deskNextRef(ctx context.Context, prefix string, now time.Time) (string, error) {
	year := now.UTC().Year()
	var n int64
	err := tx.QueryRow(ctx, "UPDATE incident_ref_counters SET n = n + 1 WHERE prefix = ? AND year = ? RETURNING n", prefix, year).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		n = 1
		_, err = tx.Exec(ctx, "INSERT INTO incident_ref_counters (prefix, year, n) VALUES (?, ?, 1)", prefix, year)
	}
	if err != nil {
		return "", fmt.Errorf("next %s reference: %w", prefix, err)
	}
	return fmt.Sprintf("%s-%d-%06d", prefix, year, n), nil
}

// deskIncidentScope restricts incidents to those affecting at least one
// client in scope. An incident with no client (operator-wide) is visible
// only to callers who see every client.
func deskIncidentScope(scope identity.Scope, args []any) (string, []any) {
	if scope.All {
		return "1 = 1", args
	}
	if len(scope.ClientIDs) == 0 {
		return "1 = 0", args
	}
	in, args := orgInList(scope.ClientIDs, args)
	return "EXISTS (SELECT 1 FROM incident_clients ic WHERE ic.incident_id = incidents.id AND ic.client_id IN " + in + ")", args
}

const deskIncidentColumns = "id, ref, title, description, category, severity, status, owner_user_id, source, playbook, playbook_version, outcome, outcome_text, sla_escalated, created_at, updated_at, became_aware_at, acknowledged_at, triaged_at, contained_at, eradicated_at, recovered_at, closed_at"

func deskOptTime(n nullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time
	return &t
}

func deskScanIncident(sc interface{ Scan(...any) error }, in *desk.Incident) error {
	var owner sql.NullInt64
	var esc string
	var aware, ack, tri, con, era, rec, clo nullTime
	if err := sc.Scan(&in.ID, &in.Ref, &in.Title, &in.Description, &in.Category, &in.Severity, &in.Status, &owner, &in.Source,
		&in.Playbook, &in.PlaybookVersion, &in.Outcome, &in.OutcomeText, &esc, ScanTime(&in.CreatedAt), ScanTime(&in.UpdatedAt),
		&aware, &ack, &tri, &con, &era, &rec, &clo); err != nil {
		return err
	}
	in.OwnerUserID = owner.Int64
	in.SLAEscalated = deskSplit(esc)
	in.BecameAwareAt, in.AcknowledgedAt, in.TriagedAt = deskOptTime(aware), deskOptTime(ack), deskOptTime(tri)
	in.ContainedAt, in.EradicatedAt, in.RecoveredAt, in.ClosedAt = deskOptTime(con), deskOptTime(era), deskOptTime(rec), deskOptTime(clo)
	return nil
}

func deskSplit(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func deskTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return TimeArg(*t)
}

func deskFirstClient(ids []int64) int64 {
	if len(ids) == 0 {
		return 0
	}
	return ids[0]
}

// IncidentCreate stores a new incident within tx: it assigns the tracking
// reference, records the affected clients and a "created" timeline entry,
// and audits it. in.Status defaults to new and in.CreatedAt to now.
func (tx *Tx) IncidentCreate(ctx context.Context, in *desk.Incident) error {
	if in.Status == "" {
		in.Status = desk.StatusNew
	}
	if err := in.Validate(); err != nil {
		return fmt.Errorf("create incident: %w", err)
	}
	if !slices.Contains(desk.Statuses, in.Status) {
		return fmt.Errorf("create incident: status %q is not one of %v", in.Status, desk.Statuses)
	}
	now := time.Now().UTC()
	if in.CreatedAt.IsZero() {
		in.CreatedAt = now
	}
	in.UpdatedAt = in.CreatedAt
	if in.BecameAwareAt == nil {
		t := in.CreatedAt
		in.BecameAwareAt = &t
	}
	ref, err := tx.deskNextRef(ctx, "INC", in.CreatedAt)
	if err != nil {
		return err
	}
	in.Ref = ref
	in.ID, err = tx.InsertID(ctx, `INSERT INTO incidents (ref, title, description, category, severity, status, owner_user_id, source,
		playbook, playbook_version, outcome, outcome_text, created_at, updated_at, became_aware_at, acknowledged_at, triaged_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		in.Ref, strings.TrimSpace(in.Title), in.Description, in.Category, in.Severity, in.Status, nullID(in.OwnerUserID), in.Source,
		in.Playbook, in.PlaybookVersion, in.Outcome, in.OutcomeText, TimeArg(in.CreatedAt), TimeArg(in.UpdatedAt),
		deskTimeArg(in.BecameAwareAt), deskTimeArg(in.AcknowledgedAt), deskTimeArg(in.TriagedAt))
	if err != nil {
		return fmt.Errorf("create incident: %w", mapErr(err))
	}
	ids := in.ClientIDs
	in.ClientIDs = nil
	for _, c := range ids {
		if err := tx.deskAddClient(ctx, in, c); err != nil {
			return err
		}
	}
	if err := tx.IncidentTimelineAdd(ctx, in.ID, "created", in.Ref+": "+in.Title); err != nil {
		return err
	}
	return tx.Audit(ctx, audit.Record{Action: "incident.create", ObjectType: "incident", ObjectID: strconv.FormatInt(in.ID, 10),
		ClientID: deskFirstClient(in.ClientIDs), After: in, Detail: in.Ref})
}

func (tx *Tx) deskAddClient(ctx context.Context, in *desk.Incident, clientID int64) error {
	if slices.Contains(in.ClientIDs, clientID) {
		return nil
	}
	if _, err := tx.Exec(ctx, "INSERT INTO incident_clients (incident_id, client_id) VALUES (?, ?) ON CONFLICT DO NOTHING", in.ID, clientID); err != nil {
		return fmt.Errorf("incident %d: add client %d: %w", in.ID, clientID, mapErr(err))
	}
	in.ClientIDs = append(in.ClientIDs, clientID)
	return nil
}

// IncidentSetClients replaces an incident's affected clients within tx.
func (tx *Tx) IncidentSetClients(ctx context.Context, id int64, clientIDs []int64) error {
	in, err := tx.deskIncidentTx(ctx, id)
	if err != nil {
		return err
	}
	before := slices.Clone(in.ClientIDs)
	if _, err := tx.Exec(ctx, "DELETE FROM incident_clients WHERE incident_id = ?", id); err != nil {
		return fmt.Errorf("incident %d: clients: %w", id, err)
	}
	in.ClientIDs = nil
	for _, c := range clientIDs {
		if err := tx.deskAddClient(ctx, in, c); err != nil {
			return err
		}
	}
	if slices.Equal(before, in.ClientIDs) {
		return nil
	}
	if err := tx.IncidentTimelineAdd(ctx, id, "clients", fmt.Sprintf("affected clients: %v", in.ClientIDs)); err != nil {
		return err
	}
	return tx.Audit(ctx, audit.Record{Action: "incident.clients", ObjectType: "incident", ObjectID: strconv.FormatInt(id, 10),
		ClientID: deskFirstClient(in.ClientIDs), Before: before, After: in.ClientIDs})
}

// IncidentAddClients adds affected clients (keeping the existing ones).
func (tx *Tx) IncidentAddClients(ctx context.Context, id int64, clientIDs []int64) error {
	in, err := tx.deskIncidentTx(ctx, id)
	if err != nil {
		return err
	}
	all := slices.Clone(in.ClientIDs)
	for _, c := range clientIDs {
		if c != 0 && !slices.Contains(all, c) {
			all = append(all, c)
		}
	}
	if len(all) == len(in.ClientIDs) {
		return nil
	}
	return tx.IncidentSetClients(ctx, id, all)
}

func (tx *Tx) deskIncidentClients(ctx context.Context, id int64) ([]int64, error) {
	rows, err := tx.Query(ctx, "SELECT client_id FROM incident_clients WHERE incident_id = ? ORDER BY client_id", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var c int64
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// deskIncidentTx reads an incident inside tx (no scope: the caller has
// checked it).
func (tx *Tx) deskIncidentTx(ctx context.Context, id int64) (*desk.Incident, error) {
	var in desk.Incident
	if err := deskScanIncident(tx.QueryRow(ctx, "SELECT "+deskIncidentColumns+" FROM incidents WHERE id = ?", id), &in); err != nil {
		return nil, fmt.Errorf("incident %d: %w", id, mapErr(err))
	}
	var err error
	if in.ClientIDs, err = tx.deskIncidentClients(ctx, id); err != nil {
		return nil, fmt.Errorf("incident %d: %w", id, err)
	}
	return &in, nil
}

// IncidentGet is the incident with id inside tx, without scope (the
// caller has checked it).
func (tx *Tx) IncidentGet(ctx context.Context, id int64) (*desk.Incident, error) {
	return tx.deskIncidentTx(ctx, id)
}

// Incident returns the incident with id if it is in scope.
func (s *Store) Incident(ctx context.Context, scope identity.Scope, id int64) (*desk.Incident, error) {
	where, args := deskIncidentScope(scope, nil)
	args = append(args, id)
	var in desk.Incident
	if err := deskScanIncident(s.QueryRow(ctx, "SELECT "+deskIncidentColumns+" FROM incidents WHERE "+where+" AND id = ?", args...), &in); err != nil {
		return nil, fmt.Errorf("incident %d: %w", id, mapErr(err))
	}
	if err := s.deskDecorate(ctx, []*desk.Incident{&in}); err != nil {
		return nil, err
	}
	return &in, nil
}

// IncidentByRef returns the incident with a tracking reference if in scope.
func (s *Store) IncidentByRef(ctx context.Context, scope identity.Scope, ref string) (*desk.Incident, error) {
	var id int64
	if err := s.QueryRow(ctx, "SELECT id FROM incidents WHERE ref = ?", ref).Scan(&id); err != nil {
		return nil, fmt.Errorf("incident %q: %w", ref, mapErr(err))
	}
	return s.Incident(ctx, scope, id)
}

// deskDecorate fills client ids, reporter counts and owner names.
func (s *Store) deskDecorate(ctx context.Context, list []*desk.Incident) error {
	if len(list) == 0 {
		return nil
	}
	byID := map[int64]*desk.Incident{}
	ids := make([]int64, 0, len(list))
	for _, in := range list {
		byID[in.ID] = in
		in.ClientIDs = []int64{}
		ids = append(ids, in.ID)
	}
	in, args := orgInList(ids, nil)
	rows, err := s.Query(ctx, "SELECT incident_id, client_id FROM incident_clients WHERE incident_id IN "+in+" ORDER BY client_id", args...)
	if err != nil {
		return fmt.Errorf("incident clients: %w", err)
	}
	for rows.Next() {
		var i, c int64
		if err := rows.Scan(&i, &c); err != nil {
			rows.Close()
			return err
		}
		byID[i].ClientIDs = append(byID[i].ClientIDs, c)
	}
	rows.Close()
	rows, err = s.Query(ctx, "SELECT incident_id, COUNT(*) FROM reports WHERE incident_id IN "+in+" GROUP BY incident_id", args...)
	if err != nil {
		return fmt.Errorf("incident reporters: %w", err)
	}
	for rows.Next() {
		var i int64
		var n int
		if err := rows.Scan(&i, &n); err != nil {
			rows.Close()
			return err
		}
		byID[i].Reporters = n
	}
	rows.Close()
	owners := map[int64]bool{}
	for _, x := range list {
		if x.OwnerUserID != 0 {
			owners[x.OwnerUserID] = true
		}
	}
	for uid := range owners {
		var name, display string
		if err := s.QueryRow(ctx, "SELECT username, display_name FROM users WHERE id = ?", uid).Scan(&name, &display); err == nil {
			if display != "" {
				name = display
			}
			for _, x := range list {
				if x.OwnerUserID == uid {
					x.OwnerName = name
				}
			}
		}
	}
	return nil
}

// Incidents lists the incidents in scope matching f, newest first.
func (s *Store) Incidents(ctx context.Context, scope identity.Scope, f IncidentFilter) ([]desk.Incident, error) {
	where, args := deskIncidentScope(scope, nil)
	var b strings.Builder
	b.WriteString("SELECT " + deskIncidentColumns + " FROM incidents WHERE " + where)
	switch f.Status {
	case "":
	case "open":
		// An IN list (not "<> 'closed'") lets the (status, created_at) index
		// find the few open incidents among many closed ones.
		b.WriteString(" AND status IN ('new', 'triaged', 'contained', 'eradicated', 'recovered')")
	default:
		b.WriteString(" AND status = ?")
		args = append(args, f.Status)
	}
	if f.Severity != "" {
		b.WriteString(" AND severity = ?")
		args = append(args, f.Severity)
	}
	if f.ClientID != 0 {
		b.WriteString(" AND EXISTS (SELECT 1 FROM incident_clients fc WHERE fc.incident_id = incidents.id AND fc.client_id = ?)")
		args = append(args, f.ClientID)
	}
	if q := strings.ToLower(strings.TrimSpace(f.Query)); q != "" {
		b.WriteString(" AND (LOWER(ref) LIKE ? OR LOWER(title) LIKE ?)")
		p := "%" + strings.NewReplacer("%", "", "_", "").Replace(q) + "%"
		args = append(args, p, p)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	b.WriteString(" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?")
	args = append(args, limit, max(f.Offset, 0))
	rows, err := s.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	out := []desk.Incident{}
	for rows.Next() {
		var in desk.Incident
		if err := deskScanIncident(rows, &in); err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	ptrs := make([]*desk.Incident, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	return out, s.deskDecorate(ctx, ptrs)
}

// IncidentUpdate saves the editable fields of in (title, description,
// category, severity, owner, became-aware time) within tx, with a timeline
// entry per changed field and an audit entry.
func (tx *Tx) IncidentUpdate(ctx context.Context, in *desk.Incident) error {
	if err := in.Validate(); err != nil {
		return fmt.Errorf("update incident: %w", err)
	}
	old, err := tx.deskIncidentTx(ctx, in.ID)
	if err != nil {
		return err
	}
	var changes []string
	if old.Title != in.Title {
		changes = append(changes, "title: "+in.Title)
	}
	if old.Category != in.Category {
		changes = append(changes, "category: "+old.Category+" → "+in.Category)
	}
	if old.Severity != in.Severity {
		changes = append(changes, "severity: "+old.Severity+" → "+in.Severity)
	}
	if old.OwnerUserID != in.OwnerUserID {
		changes = append(changes, fmt.Sprintf("owner: user %d", in.OwnerUserID))
	}
	if old.Description != in.Description {
		changes = append(changes, "description edited")
	}
	if !deskTimeEq(old.BecameAwareAt, in.BecameAwareAt) && in.BecameAwareAt != nil {
		changes = append(changes, "became aware at "+in.BecameAwareAt.UTC().Format(time.RFC3339))
	}
	if len(changes) == 0 {
		return nil
	}
	now := time.Now().UTC()
	ack := old.AcknowledgedAt
	if ack == nil && in.OwnerUserID != 0 {
		ack = &now
	}
	if _, err := tx.Exec(ctx, `UPDATE incidents SET title = ?, description = ?, category = ?, severity = ?, owner_user_id = ?,
		became_aware_at = ?, acknowledged_at = ?, updated_at = ? WHERE id = ?`,
		strings.TrimSpace(in.Title), in.Description, in.Category, in.Severity, nullID(in.OwnerUserID), deskTimeArg(in.BecameAwareAt),
		deskTimeArg(ack), TimeArg(now), in.ID); err != nil {
		return fmt.Errorf("update incident %d: %w", in.ID, mapErr(err))
	}
	for _, c := range changes {
		if err := tx.IncidentTimelineAdd(ctx, in.ID, "update", c); err != nil {
			return err
		}
	}
	return tx.Audit(ctx, audit.Record{Action: "incident.update", ObjectType: "incident", ObjectID: strconv.FormatInt(in.ID, 10),
		ClientID: deskFirstClient(old.ClientIDs), Before: old, After: in, Detail: strings.Join(changes, "; ")})
}

func deskTimeEq(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// IncidentSetStatus moves an incident along its flow within tx; a change
// the flow does not allow is desk.ErrTransition. Closing records the
// outcome (required) and its plain-words text; reaching a stage records
// its time (and acknowledges). It returns the incident before the change.
func (tx *Tx) IncidentSetStatus(ctx context.Context, id int64, to, outcome, outcomeText string) (*desk.Incident, error) {
	old, err := tx.deskIncidentTx(ctx, id)
	if err != nil {
		return nil, err
	}
	if !desk.CanTransition(old.Status, to) {
		return nil, fmt.Errorf("incident %s: %s → %s: %w", old.Ref, old.Status, to, desk.ErrTransition)
	}
	if to == desk.StatusClosed && !slices.Contains(desk.Outcomes, outcome) {
		return nil, fmt.Errorf("incident %s: closing needs an outcome (one of %v)", old.Ref, desk.Outcomes)
	}
	now := time.Now().UTC()
	sets := []string{"status = ?", "updated_at = ?"}
	args := []any{to, TimeArg(now)}
	stamp := map[string]string{desk.StatusTriaged: "triaged_at", desk.StatusContained: "contained_at",
		desk.StatusEradicated: "eradicated_at", desk.StatusRecovered: "recovered_at", desk.StatusClosed: "closed_at"}
	if col := stamp[to]; col == "closed_at" {
		sets = append(sets, "closed_at = ?")
		args = append(args, TimeArg(now))
	} else if col != "" {
		sets = append(sets, col+" = COALESCE("+col+", ?)")
		args = append(args, TimeArg(now))
	}
	if old.AcknowledgedAt == nil {
		sets = append(sets, "acknowledged_at = ?")
		args = append(args, TimeArg(now))
	}
	switch to {
	case desk.StatusClosed:
		sets = append(sets, "outcome = ?", "outcome_text = ?")
		args = append(args, outcome, outcomeText)
	case desk.StatusTriaged:
		if old.Status == desk.StatusClosed {
			sets = append(sets, "closed_at = NULL", "outcome = ''")
		}
	}
	args = append(args, id)
	if _, err := tx.Exec(ctx, "UPDATE incidents SET "+strings.Join(sets, ", ")+" WHERE id = ?", args...); err != nil {
		return nil, fmt.Errorf("incident %s status: %w", old.Ref, mapErr(err))
	}
	text := old.Status + " → " + to
	if to == desk.StatusClosed {
		text += " (" + outcome + ")"
		if _, err := tx.Exec(ctx, "UPDATE reports SET outcome = ?, closed_at = ? WHERE incident_id = ?", outcome, TimeArg(now), id); err != nil {
			return nil, fmt.Errorf("incident %s: close reports: %w", old.Ref, err)
		}
	}
	if err := tx.IncidentTimelineAdd(ctx, id, "status", text); err != nil {
		return nil, err
	}
	return old, tx.Audit(ctx, audit.Record{Action: "incident.status", ObjectType: "incident", ObjectID: strconv.FormatInt(id, 10),
		ClientID: deskFirstClient(old.ClientIDs), Before: old.Status, After: to, Detail: old.Ref + " " + text})
}

// IncidentMarkEscalated records that an SLA stage was breached (once per
// stage) and, when raise is set, raises the severity one step, within tx.
// It reports whether the stage was newly marked.
func (tx *Tx) IncidentMarkEscalated(ctx context.Context, id int64, stage string, raise bool) (bool, error) {
	in, err := tx.deskIncidentTx(ctx, id)
	if err != nil {
		return false, err
	}
	if slices.Contains(in.SLAEscalated, stage) {
		return false, nil
	}
	esc := strings.Join(append(in.SLAEscalated, stage), ",")
	sev := in.Severity
	if raise {
		sev = desk.RaiseSeverity(sev)
	}
	if _, err := tx.Exec(ctx, "UPDATE incidents SET sla_escalated = ?, severity = ?, updated_at = ? WHERE id = ?",
		esc, sev, TimeArg(time.Now()), id); err != nil {
		return false, fmt.Errorf("incident %s escalate: %w", in.Ref, err)
	}
	text := "SLA breached: " + stage
	if sev != in.Severity {
		text += "; severity " + in.Severity + " → " + sev
	}
	if err := tx.IncidentTimelineAdd(ctx, id, "sla", text); err != nil {
		return false, err
	}
	return true, tx.Audit(ctx, audit.Record{Action: "incident.sla_breach", ObjectType: "incident", ObjectID: strconv.FormatInt(id, 10),
		ClientID: deskFirstClient(in.ClientIDs), Detail: in.Ref + " " + text})
}

// IncidentTimelineAdd appends a timeline entry within tx; the actor is
// the one in ctx.
func (tx *Tx) IncidentTimelineAdd(ctx context.Context, id int64, kind, text string) error {
	if _, err := tx.Exec(ctx, "INSERT INTO incident_timeline (incident_id, at, actor, kind, text) VALUES (?, ?, ?, ?, ?)",
		id, TimeArg(time.Now()), audit.ActorFrom(ctx).Name, kind, text); err != nil {
		return fmt.Errorf("incident %d timeline: %w", id, mapErr(err))
	}
	return nil
}

// IncidentNote adds a manual timeline entry, audited.
func (tx *Tx) IncidentNote(ctx context.Context, id int64, text string) error {
	if err := tx.IncidentTimelineAdd(ctx, id, "note", text); err != nil {
		return err
	}
	cl, _ := tx.deskIncidentClients(ctx, id)
	return tx.Audit(ctx, audit.Record{Action: "incident.note", ObjectType: "incident", ObjectID: strconv.FormatInt(id, 10),
		ClientID: deskFirstClient(cl), After: text})
}

// IncidentTimeline lists an incident's timeline, oldest first (the caller
// has checked scope).
func (s *Store) IncidentTimeline(ctx context.Context, id int64) ([]desk.TimelineEntry, error) {
	rows, err := s.Query(ctx, "SELECT id, at, actor, kind, text FROM incident_timeline WHERE incident_id = ? ORDER BY at, id", id)
	if err != nil {
		return nil, fmt.Errorf("incident %d timeline: %w", id, err)
	}
	defer rows.Close()
	out := []desk.TimelineEntry{}
	for rows.Next() {
		var e desk.TimelineEntry
		if err := rows.Scan(&e.ID, ScanTime(&e.At), &e.Actor, &e.Kind, &e.Text); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// IncidentAddObservable attaches an observable (normalised, deduplicated
// per incident) within tx; it reports whether it was new.
func (tx *Tx) IncidentAddObservable(ctx context.Context, id int64, o desk.Observable) (bool, error) {
	v, err := desk.NormalizeObservable(o.Kind, o.Value)
	if err != nil {
		return false, err
	}
	res, err := tx.Exec(ctx, `INSERT INTO incident_observables (incident_id, kind, value, source, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (incident_id, kind, value) DO NOTHING`, id, o.Kind, v, o.Source, TimeArg(time.Now()))
	if err != nil {
		return false, fmt.Errorf("incident %d observable: %w", id, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if err := tx.IncidentTimelineAdd(ctx, id, "observable", o.Kind+" "+v); err != nil {
		return false, err
	}
	cl, _ := tx.deskIncidentClients(ctx, id)
	return true, tx.Audit(ctx, audit.Record{Action: "incident.observable_add", ObjectType: "incident", ObjectID: strconv.FormatInt(id, 10),
		ClientID: deskFirstClient(cl), Detail: o.Kind + " " + v})
}

// IncidentRemoveObservable deletes an observable of an incident (nothing
// when it is already gone: deleting is idempotent).
func (tx *Tx) IncidentRemoveObservable(ctx context.Context, id, obsID int64) error {
	var kind, value string
	err := tx.QueryRow(ctx, "SELECT kind, value FROM incident_observables WHERE id = ? AND incident_id = ?", obsID, id).Scan(&kind, &value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("observable %d: %w", obsID, err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM incident_observables WHERE id = ?", obsID); err != nil {
		return err
	}
	if err := tx.IncidentTimelineAdd(ctx, id, "observable", "removed "+kind+" "+value); err != nil {
		return err
	}
	cl, _ := tx.deskIncidentClients(ctx, id)
	return tx.Audit(ctx, audit.Record{Action: "incident.observable_remove", ObjectType: "incident", ObjectID: strconv.FormatInt(id, 10),
		ClientID: deskFirstClient(cl), Detail: kind + " " + value})
}

// IncidentObservables lists an incident's observables by kind and value.
func (s *Store) IncidentObservables(ctx context.Context, id int64) ([]desk.Observable, error) {
	rows, err := s.Query(ctx, "SELECT id, kind, value, source, created_at FROM incident_observables WHERE incident_id = ? ORDER BY kind, value", id)
	if err != nil {
		return nil, fmt.Errorf("incident %d observables: %w", id, err)
	}
	defer rows.Close()
	out := []desk.Observable{}
	for rows.Next() {
		var o desk.Observable
		if err := rows.Scan(&o.ID, &o.Kind, &o.Value, &o.Source, ScanTime(&o.At)); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// IncidentAddTask appends a task within tx.
func (tx *Tx) IncidentAddTask(ctx context.Context, id int64, title, playbook string) (int64, error) {
	title = strings.TrimSpace(title)
	if title == "" || len([]rune(title)) > 500 {
		return 0, errors.New("task title is required (at most 500 characters)")
	}
	var pos int64
	_ = tx.QueryRow(ctx, "SELECT COALESCE(MAX(position), 0) FROM incident_tasks WHERE incident_id = ?", id).Scan(&pos)
	tid, err := tx.InsertID(ctx, "INSERT INTO incident_tasks (incident_id, position, title, playbook, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
		id, pos+1, title, playbook, TimeArg(time.Now()))
	if err != nil {
		return 0, fmt.Errorf("incident %d task: %w", id, mapErr(err))
	}
	if playbook == "" {
		if err := tx.IncidentTimelineAdd(ctx, id, "task", "task added: "+title); err != nil {
			return 0, err
		}
	}
	cl, _ := tx.deskIncidentClients(ctx, id)
	return tid, tx.Audit(ctx, audit.Record{Action: "incident.task_add", ObjectType: "incident", ObjectID: strconv.FormatInt(id, 10),
		ClientID: deskFirstClient(cl), Detail: title})
}

// IncidentSetTaskDone ticks or unticks a task of an incident within tx.
func (tx *Tx) IncidentSetTaskDone(ctx context.Context, id, taskID int64, done bool) error {
	var title string
	var was int64
	if err := tx.QueryRow(ctx, "SELECT title, done FROM incident_tasks WHERE id = ? AND incident_id = ?", taskID, id).Scan(&title, &was); err != nil {
		return fmt.Errorf("task %d: %w", taskID, mapErr(err))
	}
	if (was != 0) == done {
		return nil
	}
	actor := audit.ActorFrom(ctx).Name
	var err error
	if done {
		_, err = tx.Exec(ctx, "UPDATE incident_tasks SET done = 1, done_by = ?, done_at = ? WHERE id = ?", actor, TimeArg(time.Now()), taskID)
	} else {
		_, err = tx.Exec(ctx, "UPDATE incident_tasks SET done = 0, done_by = '', done_at = NULL WHERE id = ?", taskID)
	}
	if err != nil {
		return fmt.Errorf("task %d: %w", taskID, err)
	}
	verb := "task done: "
	if !done {
		verb = "task reopened: "
	}
	if err := tx.IncidentTimelineAdd(ctx, id, "task", verb+title); err != nil {
		return err
	}
	cl, _ := tx.deskIncidentClients(ctx, id)
	return tx.Audit(ctx, audit.Record{Action: "incident.task_done", ObjectType: "incident", ObjectID: strconv.FormatInt(id, 10),
		ClientID: deskFirstClient(cl), Before: was != 0, After: done, Detail: title})
}

// IncidentTasks lists an incident's tasks in order.
func (s *Store) IncidentTasks(ctx context.Context, id int64) ([]desk.Task, error) {
	rows, err := s.Query(ctx, "SELECT id, position, title, playbook, done, done_by, done_at FROM incident_tasks WHERE incident_id = ? ORDER BY position, id", id)
	if err != nil {
		return nil, fmt.Errorf("incident %d tasks: %w", id, err)
	}
	defer rows.Close()
	out := []desk.Task{}
	for rows.Next() {
		var t desk.Task
		var done int64
		var at nullTime
		if err := rows.Scan(&t.ID, &t.Position, &t.Title, &t.Playbook, &done, &t.DoneBy, &at); err != nil {
			return nil, err
		}
		t.Done, t.DoneAt = done != 0, deskOptTime(at)
		out = append(out, t)
	}
	return out, rows.Err()
}

// IncidentAddAffected records an affected person, device or asset.
func (tx *Tx) IncidentAddAffected(ctx context.Context, id int64, a desk.Affected) error {
	if !slices.Contains([]string{desk.AffectedPerson, desk.AffectedDevice, desk.AffectedAsset}, a.Kind) {
		return fmt.Errorf("affected kind %q is not person, device or asset", a.Kind)
	}
	a.Label = strings.TrimSpace(a.Label)
	if (a.RefID == 0 && a.Label == "") || len([]rune(a.Label)) > 300 {
		return errors.New("affected: give an id or a name (at most 300 characters)")
	}
	res, err := tx.Exec(ctx, "INSERT INTO incident_affected (incident_id, kind, ref_id, label) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
		id, a.Kind, a.RefID, a.Label)
	if err != nil {
		return fmt.Errorf("incident %d affected: %w", id, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	text := fmt.Sprintf("affected %s %s", a.Kind, a.Label)
	if a.RefID != 0 {
		text += fmt.Sprintf(" (#%d)", a.RefID)
	}
	if err := tx.IncidentTimelineAdd(ctx, id, "affected", text); err != nil {
		return err
	}
	cl, _ := tx.deskIncidentClients(ctx, id)
	return tx.Audit(ctx, audit.Record{Action: "incident.affected_add", ObjectType: "incident", ObjectID: strconv.FormatInt(id, 10),
		ClientID: deskFirstClient(cl), Detail: text})
}

// IncidentRemoveAffected deletes an affected entry of an incident (idempotent).
func (tx *Tx) IncidentRemoveAffected(ctx context.Context, id, affectedID int64) error {
	res, err := tx.Exec(ctx, "DELETE FROM incident_affected WHERE id = ? AND incident_id = ?", affectedID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // already gone: deleting is idempotent
	}
	if err := tx.IncidentTimelineAdd(ctx, id, "affected", fmt.Sprintf("affected entry %d removed", affectedID)); err != nil {
		return err
	}
	cl, _ := tx.deskIncidentClients(ctx, id)
	return tx.Audit(ctx, audit.Record{Action: "incident.affected_remove", ObjectType: "incident", ObjectID: strconv.FormatInt(id, 10),
		ClientID: deskFirstClient(cl), Detail: strconv.FormatInt(affectedID, 10)})
}

// IncidentAffected lists an incident's affected people, devices and assets.
func (s *Store) IncidentAffected(ctx context.Context, id int64) ([]desk.Affected, error) {
	rows, err := s.Query(ctx, "SELECT id, kind, ref_id, label FROM incident_affected WHERE incident_id = ? ORDER BY kind, id", id)
	if err != nil {
		return nil, fmt.Errorf("incident %d affected: %w", id, err)
	}
	defer rows.Close()
	out := []desk.Affected{}
	for rows.Next() {
		var a desk.Affected
		if err := rows.Scan(&a.ID, &a.Kind, &a.RefID, &a.Label); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// IncidentAddLink links an ISMS risk or control (no foreign key: the ISMS
// module owns those tables).
func (tx *Tx) IncidentAddLink(ctx context.Context, id int64, l desk.Link) error {
	if l.Kind != desk.LinkRisk && l.Kind != desk.LinkControl {
		return fmt.Errorf("link kind %q is not risk or control", l.Kind)
	}
	if l.RefID <= 0 || len([]rune(l.Label)) > 300 {
		return errors.New("link: a positive id is required (label at most 300 characters)")
	}
	res, err := tx.Exec(ctx, "INSERT INTO incident_links (incident_id, kind, ref_id, label, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		id, l.Kind, l.RefID, strings.TrimSpace(l.Label), TimeArg(time.Now()))
	if err != nil {
		return fmt.Errorf("incident %d link: %w", id, mapErr(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	text := fmt.Sprintf("linked %s #%d %s", l.Kind, l.RefID, l.Label)
	if err := tx.IncidentTimelineAdd(ctx, id, "link", text); err != nil {
		return err
	}
	cl, _ := tx.deskIncidentClients(ctx, id)
	return tx.Audit(ctx, audit.Record{Action: "incident.link_add", ObjectType: "incident", ObjectID: strconv.FormatInt(id, 10),
		ClientID: deskFirstClient(cl), Detail: text})
}

// IncidentRemoveLink unlinks an ISMS risk or control (idempotent).
func (tx *Tx) IncidentRemoveLink(ctx context.Context, id int64, kind string, refID int64) error {
	res, err := tx.Exec(ctx, "DELETE FROM incident_links WHERE incident_id = ? AND kind = ? AND ref_id = ?", id, kind, refID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // already gone: deleting is idempotent
	}
	text := fmt.Sprintf("unlinked %s #%d", kind, refID)
	if err := tx.IncidentTimelineAdd(ctx, id, "link", text); err != nil {
		return err
	}
	cl, _ := tx.deskIncidentClients(ctx, id)
	return tx.Audit(ctx, audit.Record{Action: "incident.link_remove", ObjectType: "incident", ObjectID: strconv.FormatInt(id, 10),
		ClientID: deskFirstClient(cl), Detail: text})
}

// IncidentLinks lists an incident's ISMS links.
func (s *Store) IncidentLinks(ctx context.Context, id int64) ([]desk.Link, error) {
	rows, err := s.Query(ctx, "SELECT kind, ref_id, label, created_at FROM incident_links WHERE incident_id = ? ORDER BY kind, ref_id", id)
	if err != nil {
		return nil, fmt.Errorf("incident %d links: %w", id, err)
	}
	defer rows.Close()
	out := []desk.Link{}
	for rows.Next() {
		var l desk.Link
		if err := rows.Scan(&l.Kind, &l.RefID, &l.Label, ScanTime(&l.At)); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// IncidentMerge moves everything of incident from into incident into
// (reports, clients, observables, alerts) and closes from as a duplicate,
// within tx.
func (tx *Tx) IncidentMerge(ctx context.Context, from, into int64) error {
	if from == into {
		return errors.New("merge: an incident cannot be merged into itself")
	}
	src, err := tx.deskIncidentTx(ctx, from)
	if err != nil {
		return err
	}
	dst, err := tx.deskIncidentTx(ctx, into)
	if err != nil {
		return err
	}
	if !dst.Open() {
		return fmt.Errorf("merge: %s is closed: %w", dst.Ref, desk.ErrTransition)
	}
	for _, q := range []string{
		"UPDATE reports SET incident_id = ? WHERE incident_id = ?",
		"UPDATE alerts SET incident_id = ? WHERE incident_id = ?",
		`INSERT INTO incident_observables (incident_id, kind, value, source, created_at)
			SELECT ?, kind, value, source, created_at FROM incident_observables WHERE incident_id = ? ON CONFLICT DO NOTHING`,
		`INSERT INTO incident_affected (incident_id, kind, ref_id, label)
			SELECT ?, kind, ref_id, label FROM incident_affected WHERE incident_id = ? ON CONFLICT DO NOTHING`,
	} {
		if _, err := tx.Exec(ctx, q, into, from); err != nil {
			return fmt.Errorf("merge %s into %s: %w", src.Ref, dst.Ref, err)
		}
	}
	if err := tx.IncidentAddClients(ctx, into, src.ClientIDs); err != nil {
		return err
	}
	if err := tx.IncidentTimelineAdd(ctx, into, "merge", "merged "+src.Ref+": "+src.Title); err != nil {
		return err
	}
	if src.Open() {
		if _, err := tx.IncidentSetStatus(ctx, from, desk.StatusClosed, desk.OutcomeDuplicate, "Merged into "+dst.Ref+"."); err != nil {
			return err
		}
	}
	if err := tx.IncidentTimelineAdd(ctx, from, "merge", "merged into "+dst.Ref); err != nil {
		return err
	}
	return tx.Audit(ctx, audit.Record{Action: "incident.merge", ObjectType: "incident", ObjectID: strconv.FormatInt(into, 10),
		ClientID: deskFirstClient(dst.ClientIDs), Detail: src.Ref + " → " + dst.Ref})
}

// IncidentApplyPlaybook records the playbook applied and creates its tasks
// within tx.
func (tx *Tx) IncidentApplyPlaybook(ctx context.Context, id int64, p *desk.Playbook) error {
	if _, err := tx.Exec(ctx, "UPDATE incidents SET playbook = ?, playbook_version = ?, updated_at = ? WHERE id = ?",
		p.Key, p.Version, TimeArg(time.Now()), id); err != nil {
		return fmt.Errorf("incident %d playbook: %w", id, err)
	}
	for _, t := range p.Tasks {
		if _, err := tx.IncidentAddTask(ctx, id, t, p.Key); err != nil {
			return err
		}
	}
	return tx.IncidentTimelineAdd(ctx, id, "playbook", fmt.Sprintf("playbook %s v%d: %d tasks", p.Key, p.Version, len(p.Tasks)))
}

// IncidentsOpen lists every open incident (for the SLA job; no scope).
func (s *Store) IncidentsOpen(ctx context.Context) ([]desk.Incident, error) {
	rows, err := s.Query(ctx, "SELECT "+deskIncidentColumns+" FROM incidents WHERE status IN ('new', 'triaged', 'contained', 'eradicated', 'recovered') ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("open incidents: %w", err)
	}
	defer rows.Close()
	var out []desk.Incident
	for rows.Next() {
		var in desk.Incident
		if err := deskScanIncident(rows, &in); err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// IncidentAlerts lists the alerts linked to an incident (the caller has
// checked the incident's scope).
func (s *Store) IncidentAlerts(ctx context.Context, id int64) ([]alert.Alert, error) {
	rows, err := s.Query(ctx, "SELECT "+alertColumns+" FROM alerts WHERE incident_id = ? ORDER BY created_at, id", id)
	if err != nil {
		return nil, fmt.Errorf("incident %d alerts: %w", id, err)
	}
	defer rows.Close()
	out := []alert.Alert{}
	for rows.Next() {
		var a alert.Alert
		if err := scanAlert(rows, &a); err != nil {
			return nil, fmt.Errorf("incident %d alerts: %w", id, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
