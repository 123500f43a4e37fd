package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/desk"
)

// ReportFilter selects reports for a list.
type ReportFilter struct {
	Status     string // new, linked, dismissed; "" = all
	IncidentID int64
	// Mine restricts to the reports made by this user or person (an agent's
	// "my reports"); zero values are ignored.
	ReporterUserID   int64
	ReporterPersonID int64
	Limit            int
	Offset           int
}

// deskReportScope restricts reports to the scope's clients; reports without
// a client are visible to callers who see every client only. An agent's
// scope (PersonID set) sees only their own reports.
func deskReportScope(scope identity.Scope, args []any) (string, []any) {
	if scope.PersonID != 0 {
		return "reports.reporter_person_id = ?", append(args, scope.PersonID)
	}
	if scope.All {
		return "1 = 1", args
	}
	if len(scope.ClientIDs) == 0 {
		return "1 = 0", args
	}
	in, args := orgInList(scope.ClientIDs, args)
	return "reports.client_id IN " + in, args
}

const deskReportColumns = `reports.id, reports.ref, reports.channel, reports.category, reports.text, reports.anonymous,
	reports.reporter_person_id, reports.reporter_user_id, reports.reporter_email, reports.reporter_name,
	reports.reporter_locale, reports.client_id, reports.team_id, reports.device_id, reports.context,
	reports.message_id, reports.sender_subject, reports.mail_file_id, reports.flags, reports.severity,
	reports.status, reports.incident_id, COALESCE(i.ref, ''), reports.outcome, reports.dismiss_reason,
	reports.ack_status, reports.thanks_status, reports.created_at, reports.acknowledged_at, reports.closed_at`

const deskReportFrom = " FROM reports LEFT JOIN incidents i ON i.id = reports.incident_id"

func deskScanReport(sc interface{ Scan(...any) error }, r *desk.Report) error {
	var anon int64
	var person, user, client, team, device, mailFile, incident sql.NullInt64
	var ctxJSON, flags string
	var ack, closed nullTime
	if err := sc.Scan(&r.ID, &r.Ref, &r.Channel, &r.Category, &r.Text, &anon, &person, &user, &r.ReporterEmail, &r.ReporterName,
		&r.ReporterLocale, &client, &team, &device, &ctxJSON, &r.MessageID, &r.SenderSubject, &mailFile, &flags, &r.Severity, &r.Status,
		&incident, &r.IncidentRef, &r.Outcome, &r.DismissReason, &r.AckStatus, &r.ThanksStatus, ScanTime(&r.CreatedAt), &ack, &closed); err != nil {
		return err
	}
	r.Anonymous = anon != 0
	r.ReporterPersonID, r.ReporterUserID, r.ClientID, r.TeamID = person.Int64, user.Int64, client.Int64, team.Int64
	r.DeviceID, r.MailFileID, r.IncidentID = device.Int64, mailFile.Int64, incident.Int64
	r.Flags = deskSplit(flags)
	r.AckAt, r.ClosedAt = deskOptTime(ack), deskOptTime(closed)
	r.Context = nil
	if ctxJSON != "" && ctxJSON != "{}" {
		if err := json.Unmarshal([]byte(ctxJSON), &r.Context); err != nil {
			return fmt.Errorf("report %d context: %w", r.ID, err)
		}
	}
	return nil
}

// ReportCreate stores a new report within tx: it assigns the tracking
// reference (R-2026-000123), records its observables and audits it (the
// reporter's identity is never written to the audit detail of an anonymous
// report).
func (tx *Tx) ReportCreate(ctx context.Context, r *desk.Report) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("create report: %w", err)
	}
	if r.Anonymous {
		r.HideReporter()
	}
	if r.Status == "" {
		r.Status = desk.ReportNew
	}
	if r.Severity == "" {
		_, r.Severity = desk.ChoiceCategory(r.Category)
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now().UTC()
	}
	ref, err := tx.deskNextRef(ctx, "R", r.CreatedAt)
	if err != nil {
		return err
	}
	r.Ref = ref
	ctxJSON := []byte("{}")
	if len(r.Context) > 0 {
		if ctxJSON, err = json.Marshal(r.Context); err != nil {
			return fmt.Errorf("create report: context: %w", err)
		}
	}
	anon := 0
	if r.Anonymous {
		anon = 1
	}
	r.ID, err = tx.InsertID(ctx, `INSERT INTO reports (ref, channel, category, text, anonymous, reporter_person_id, reporter_user_id,
		reporter_email, reporter_name, reporter_locale, client_id, team_id, device_id, context, message_id, sender_subject, mail_file_id,
		flags, severity, status, incident_id, ack_status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.Ref, r.Channel, r.Category, r.Text, anon, nullID(r.ReporterPersonID), nullID(r.ReporterUserID), r.ReporterEmail,
		r.ReporterName, r.ReporterLocale, nullID(r.ClientID), nullID(r.TeamID), nullID(r.DeviceID), string(ctxJSON), r.MessageID,
		r.SenderSubject, nullID(r.MailFileID), strings.Join(r.Flags, ","), r.Severity, r.Status, nullID(r.IncidentID), r.AckStatus,
		TimeArg(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("create report: %w", mapErr(err))
	}
	kept := r.Observables[:0]
	for _, o := range r.Observables {
		v, err := desk.NormalizeObservable(o.Kind, o.Value)
		if err != nil {
			continue // the parser's candidates that are not valid indicators are dropped
		}
		o.Value = v
		if _, err := tx.Exec(ctx, "INSERT INTO report_observables (report_id, kind, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", r.ID, o.Kind, v); err != nil {
			return fmt.Errorf("create report: observable: %w", err)
		}
		kept = append(kept, o)
	}
	r.Observables = kept
	if r.MailFileID != 0 {
		if _, err := tx.Exec(ctx, "UPDATE incident_files SET owner_id = ? WHERE id = ? AND owner_kind = 'mail'", r.ID, r.MailFileID); err != nil {
			return fmt.Errorf("create report: mail file: %w", err)
		}
	}
	return tx.Audit(ctx, audit.Record{Action: "report.create", ObjectType: "report", ObjectID: strconv.FormatInt(r.ID, 10),
		ClientID: r.ClientID, Detail: r.Ref + " " + r.Channel + " " + r.Category})
}

// Report returns the report with id if in scope.
func (s *Store) Report(ctx context.Context, scope identity.Scope, id int64) (*desk.Report, error) {
	where, args := deskReportScope(scope, nil)
	args = append(args, id)
	var r desk.Report
	if err := deskScanReport(s.QueryRow(ctx, "SELECT "+deskReportColumns+deskReportFrom+" WHERE "+where+" AND reports.id = ?", args...), &r); err != nil {
		return nil, fmt.Errorf("report %d: %w", id, mapErr(err))
	}
	obs, err := s.deskReportObservables(ctx, id)
	if err != nil {
		return nil, err
	}
	r.Observables = obs
	return &r, nil
}

// ReportByRef returns the report with a tracking reference if in scope.
func (s *Store) ReportByRef(ctx context.Context, scope identity.Scope, ref string) (*desk.Report, error) {
	var id int64
	if err := s.QueryRow(ctx, "SELECT id FROM reports WHERE ref = ?", ref).Scan(&id); err != nil {
		return nil, fmt.Errorf("report %q: %w", ref, mapErr(err))
	}
	return s.Report(ctx, scope, id)
}

func (s *Store) deskReportObservables(ctx context.Context, id int64) ([]desk.Observable, error) {
	rows, err := s.Query(ctx, "SELECT kind, value FROM report_observables WHERE report_id = ? ORDER BY kind, value", id)
	if err != nil {
		return nil, fmt.Errorf("report %d observables: %w", id, err)
	}
	defer rows.Close()
	var out []desk.Observable
	for rows.Next() {
		var o desk.Observable
		if err := rows.Scan(&o.Kind, &o.Value); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Reports lists the reports in scope matching f, newest first.
func (s *Store) Reports(ctx context.Context, scope identity.Scope, f ReportFilter) ([]desk.Report, error) {
	where, args := deskReportScope(scope, nil)
	var b strings.Builder
	b.WriteString("SELECT " + deskReportColumns + deskReportFrom + " WHERE " + where)
	if f.Status != "" {
		b.WriteString(" AND reports.status = ?")
		args = append(args, f.Status)
	}
	if f.IncidentID != 0 {
		b.WriteString(" AND reports.incident_id = ?")
		args = append(args, f.IncidentID)
	}
	switch {
	case f.ReporterUserID != 0 && f.ReporterPersonID != 0:
		b.WriteString(" AND (reports.reporter_user_id = ? OR reports.reporter_person_id = ?)")
		args = append(args, f.ReporterUserID, f.ReporterPersonID)
	case f.ReporterUserID != 0:
		b.WriteString(" AND reports.reporter_user_id = ?")
		args = append(args, f.ReporterUserID)
	case f.ReporterPersonID != 0:
		b.WriteString(" AND reports.reporter_person_id = ?")
		args = append(args, f.ReporterPersonID)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	b.WriteString(" ORDER BY reports.created_at DESC, reports.id DESC LIMIT ? OFFSET ?")
	args = append(args, limit, max(f.Offset, 0))
	rows, err := s.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list reports: %w", err)
	}
	defer rows.Close()
	out := []desk.Report{}
	for rows.Next() {
		var r desk.Report
		if err := deskScanReport(rows, &r); err != nil {
			return nil, fmt.Errorf("list reports: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReportLink attaches a report to an incident within tx (the incident's
// clients gain the report's client) and records it on the timeline.
func (tx *Tx) ReportLink(ctx context.Context, reportID, incidentID int64) error {
	var ref, status string
	var client sql.NullInt64
	var person sql.NullInt64
	if err := tx.QueryRow(ctx, "SELECT ref, status, client_id, reporter_person_id FROM reports WHERE id = ?", reportID).Scan(&ref, &status, &client, &person); err != nil {
		return fmt.Errorf("report %d: %w", reportID, mapErr(err))
	}
	if status == desk.ReportDismissed {
		return fmt.Errorf("report %s is dismissed: %w", ref, desk.ErrTransition)
	}
	if _, err := tx.Exec(ctx, "UPDATE reports SET status = 'linked', incident_id = ? WHERE id = ?", incidentID, reportID); err != nil {
		return fmt.Errorf("link report %s: %w", ref, mapErr(err))
	}
	if client.Valid {
		if err := tx.IncidentAddClients(ctx, incidentID, []int64{client.Int64}); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO incident_observables (incident_id, kind, value, source, created_at)
		SELECT ?, kind, value, ?, ? FROM report_observables WHERE report_id = ? ON CONFLICT DO NOTHING`, incidentID, ref, TimeArg(time.Now()), reportID); err != nil {
		return fmt.Errorf("link report %s: observables: %w", ref, err)
	}
	if err := tx.IncidentTimelineAdd(ctx, incidentID, "report", "report "+ref+" attached"); err != nil {
		return err
	}
	return tx.Audit(ctx, audit.Record{Action: "report.link", ObjectType: "report", ObjectID: strconv.FormatInt(reportID, 10),
		ClientID: client.Int64, Detail: fmt.Sprintf("%s → incident %d", ref, incidentID)})
}

// ReportDismiss dismisses a new report with a reason within tx.
func (tx *Tx) ReportDismiss(ctx context.Context, reportID int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 1000 {
		return errors.New("dismiss: a reason is required (at most 1000 characters)")
	}
	var client sql.NullInt64
	var ref string
	if err := tx.QueryRow(ctx, "SELECT ref, client_id FROM reports WHERE id = ? AND status = 'new'", reportID).Scan(&ref, &client); err != nil {
		return fmt.Errorf("report %d: %w", reportID, mapErr(err))
	}
	if _, err := tx.Exec(ctx, "UPDATE reports SET status = 'dismissed', dismiss_reason = ?, outcome = ?, closed_at = ? WHERE id = ?",
		reason, desk.OutcomeFalsePositive, TimeArg(time.Now()), reportID); err != nil {
		return fmt.Errorf("dismiss report %s: %w", ref, err)
	}
	return tx.Audit(ctx, audit.Record{Action: "report.dismiss", ObjectType: "report", ObjectID: strconv.FormatInt(reportID, 10),
		ClientID: client.Int64, Detail: ref + ": " + reason})
}

// ReportSetAck records how a report's acknowledgement (or, with thanks,
// the closing thank-you) went.
func (s *Store) ReportSetAck(ctx context.Context, reportID int64, status string, thanks bool) error {
	var err error
	if thanks {
		_, err = s.Exec(ctx, "UPDATE reports SET thanks_status = ? WHERE id = ?", status, reportID)
	} else {
		_, err = s.Exec(ctx, "UPDATE reports SET ack_status = ?, acknowledged_at = COALESCE(acknowledged_at, ?) WHERE id = ?",
			status, TimeArg(time.Now()), reportID)
	}
	if err != nil {
		return fmt.Errorf("report %d acknowledgement: %w", reportID, err)
	}
	return nil
}

// ReportCluster finds, among reports created since, one that reports the
// same thing as r: the same Message-ID, the same sender and subject, or a
// shared URL. It returns its id and incident id (0 when not linked), or
// ErrNotFound. Dismissed reports are ignored.
func (tx *Tx) ReportCluster(ctx context.Context, r *desk.Report, since time.Time) (reportID, incidentID int64, err error) {
	try := func(q string, args ...any) bool {
		var inc sql.NullInt64
		e := tx.QueryRow(ctx, q, args...).Scan(&reportID, &inc)
		if e == nil {
			incidentID = inc.Int64
			return true
		}
		if !errors.Is(e, sql.ErrNoRows) {
			err = e
		}
		return false
	}
	const base = "SELECT id, incident_id FROM reports WHERE status <> 'dismissed' AND id <> ? AND created_at >= ? AND "
	const order = " ORDER BY incident_id IS NULL, id LIMIT 1"
	if r.MessageID != "" && try(base+"message_id = ?"+order, r.ID, TimeArg(since), r.MessageID) {
		return reportID, incidentID, nil
	}
	if r.SenderSubject != "" && err == nil && try(base+"sender_subject = ?"+order, r.ID, TimeArg(since), r.SenderSubject) {
		return reportID, incidentID, nil
	}
	for _, o := range r.Observables {
		if o.Kind != desk.ObsURL || err != nil {
			continue
		}
		if try(base+"id IN (SELECT report_id FROM report_observables WHERE kind = 'url' AND value = ?)"+order,
			r.ID, TimeArg(since), o.Value) {
			return reportID, incidentID, nil
		}
	}
	if err != nil {
		return 0, 0, fmt.Errorf("cluster report %s: %w", r.Ref, err)
	}
	return 0, 0, ErrNotFound
}

// ReportsForThanks lists the reports of an incident with their reporter
// contact (for the closing thank-you; no scope).
func (s *Store) ReportsForThanks(ctx context.Context, incidentID int64) ([]desk.Report, error) {
	return s.Reports(ctx, identity.Scope{All: true}, ReportFilter{IncidentID: incidentID, Limit: 1000})
}

// IncidentPutFile stores an encrypted file (sealed holds the ciphertext;
// f.SHA256 and f.Size describe the plaintext) within tx and writes its hash
// to the audit trail. Files of owner kind "mail" are raw reported e-mails.
func (tx *Tx) IncidentPutFile(ctx context.Context, f *desk.File, sealed []byte, clientID int64) error {
	if f.CreatedAt.IsZero() {
		f.CreatedAt = time.Now().UTC()
	}
	if f.CreatedBy == "" {
		f.CreatedBy = audit.ActorFrom(ctx).Name
	}
	var err error
	f.ID, err = tx.InsertID(ctx, `INSERT INTO incident_files (owner_kind, owner_id, name, content_type, size, sha256, data, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, f.OwnerKind, f.OwnerID, f.Name, f.ContentType, f.Size, f.SHA256, sealed,
		f.CreatedBy, TimeArg(f.CreatedAt))
	if err != nil {
		return fmt.Errorf("store file: %w", mapErr(err))
	}
	if f.OwnerKind == "incident" {
		if err := tx.IncidentTimelineAdd(ctx, f.OwnerID, "evidence", fmt.Sprintf("evidence %s (%d bytes, sha256 %s)", f.Name, f.Size, f.SHA256)); err != nil {
			return err
		}
	}
	return tx.Audit(ctx, audit.Record{Action: f.OwnerKind + ".file_add", ObjectType: f.OwnerKind, ObjectID: strconv.FormatInt(f.OwnerID, 10),
		ClientID: clientID, Detail: fmt.Sprintf("file %d %s sha256=%s size=%d", f.ID, f.Name, f.SHA256, f.Size)})
}

// IncidentFiles lists the files of an owner (report, incident, mail).
func (s *Store) IncidentFiles(ctx context.Context, ownerKind string, ownerID int64) ([]desk.File, error) {
	rows, err := s.Query(ctx, `SELECT id, owner_kind, owner_id, name, content_type, size, sha256, created_by, created_at
		FROM incident_files WHERE owner_kind = ? AND owner_id = ? ORDER BY id`, ownerKind, ownerID)
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	defer rows.Close()
	out := []desk.File{}
	for rows.Next() {
		var f desk.File
		if err := rows.Scan(&f.ID, &f.OwnerKind, &f.OwnerID, &f.Name, &f.ContentType, &f.Size, &f.SHA256, &f.CreatedBy, ScanTime(&f.CreatedAt)); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// IncidentFile returns a file's description and its sealed bytes.
func (s *Store) IncidentFile(ctx context.Context, id int64) (*desk.File, []byte, error) {
	var f desk.File
	var data []byte
	if err := s.QueryRow(ctx, `SELECT id, owner_kind, owner_id, name, content_type, size, sha256, created_by, created_at, data
		FROM incident_files WHERE id = ?`, id).Scan(&f.ID, &f.OwnerKind, &f.OwnerID, &f.Name, &f.ContentType, &f.Size, &f.SHA256,
		&f.CreatedBy, ScanTime(&f.CreatedAt), &data); err != nil {
		return nil, nil, fmt.Errorf("file %d: %w", id, mapErr(err))
	}
	return &f, data, nil
}

// IncidentPlaybooks returns the newest version of every playbook.
func (s *Store) IncidentPlaybooks(ctx context.Context) (map[string]PlaybookVersion, error) {
	rows, err := s.Query(ctx, `SELECT p.key, p.version, p.body, p.created_by, p.created_at FROM incident_playbooks p
		WHERE p.version = (SELECT MAX(version) FROM incident_playbooks q WHERE q.key = p.key) ORDER BY p.key`)
	if err != nil {
		return nil, fmt.Errorf("playbooks: %w", err)
	}
	defer rows.Close()
	out := map[string]PlaybookVersion{}
	for rows.Next() {
		var v PlaybookVersion
		if err := rows.Scan(&v.Key, &v.Version, &v.Body, &v.CreatedBy, ScanTime(&v.CreatedAt)); err != nil {
			return nil, err
		}
		out[v.Key] = v
	}
	return out, rows.Err()
}

// IncidentPlaybookHistory lists every version of a playbook, newest first.
func (s *Store) IncidentPlaybookHistory(ctx context.Context, key string) ([]PlaybookVersion, error) {
	rows, err := s.Query(ctx, "SELECT key, version, body, created_by, created_at FROM incident_playbooks WHERE key = ? ORDER BY version DESC", key)
	if err != nil {
		return nil, fmt.Errorf("playbook %s: %w", key, err)
	}
	defer rows.Close()
	var out []PlaybookVersion
	for rows.Next() {
		var v PlaybookVersion
		if err := rows.Scan(&v.Key, &v.Version, &v.Body, &v.CreatedBy, ScanTime(&v.CreatedAt)); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// PlaybookVersion is one saved version of a playbook's YAML.
type PlaybookVersion struct {
	Key       string    `json:"key"`
	Version   int64     `json:"version"`
	Body      string    `json:"body"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// IncidentPlaybookSave stores body as the next version of playbook key
// within tx (the caller has validated it) and audits it. It returns the
// new version number.
func (tx *Tx) IncidentPlaybookSave(ctx context.Context, key, body string) (int64, error) {
	var v int64
	if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM incident_playbooks WHERE key = ?", key).Scan(&v); err != nil {
		return 0, fmt.Errorf("playbook %s: %w", key, err)
	}
	v++
	if _, err := tx.Exec(ctx, "INSERT INTO incident_playbooks (key, version, body, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
		key, v, body, audit.ActorFrom(ctx).Name, TimeArg(time.Now())); err != nil {
		return 0, fmt.Errorf("playbook %s: %w", key, mapErr(err))
	}
	return v, tx.Audit(ctx, audit.Record{Action: "incident.playbook_save", ObjectType: "playbook", ObjectID: key,
		After: body, Detail: fmt.Sprintf("%s v%d", key, v)})
}

// IncidentMetricRow is one report with the times of its incident, for the
// metrics page.
type IncidentMetricRow struct {
	Channel    string
	TeamID     int64
	CreatedAt  time.Time
	Status     string
	Outcome    string
	IncidentID int64
}

// IncidentMetricReports returns the reports in scope created since.
func (s *Store) IncidentMetricReports(ctx context.Context, scope identity.Scope, since time.Time) ([]IncidentMetricRow, error) {
	where, args := deskReportScope(scope, nil)
	args = append(args, TimeArg(since))
	rows, err := s.Query(ctx, `SELECT reports.channel, reports.team_id, reports.created_at, reports.status, COALESCE(i.outcome, reports.outcome), reports.incident_id`+
		deskReportFrom+" WHERE "+where+" AND reports.created_at >= ? ORDER BY reports.created_at", args...)
	if err != nil {
		return nil, fmt.Errorf("report metrics: %w", err)
	}
	defer rows.Close()
	var out []IncidentMetricRow
	for rows.Next() {
		var m IncidentMetricRow
		var team, inc sql.NullInt64
		if err := rows.Scan(&m.Channel, &team, ScanTime(&m.CreatedAt), &m.Status, &m.Outcome, &inc); err != nil {
			return nil, err
		}
		m.TeamID, m.IncidentID = team.Int64, inc.Int64
		out = append(out, m)
	}
	return out, rows.Err()
}

// IncidentMetricIncidents returns the incidents in scope created since
// (only the fields the metrics need).
func (s *Store) IncidentMetricIncidents(ctx context.Context, scope identity.Scope, since time.Time) ([]desk.Incident, error) {
	where, args := deskIncidentScope(scope, nil)
	args = append(args, TimeArg(since))
	rows, err := s.Query(ctx, "SELECT "+deskIncidentColumns+" FROM incidents WHERE "+where+" AND created_at >= ? AND outcome <> 'duplicate' ORDER BY created_at", args...)
	if err != nil {
		return nil, fmt.Errorf("incident metrics: %w", err)
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

// Reporter is who a report came from, as the organisation knows them.
type Reporter struct {
	PersonID int64
	UserID   int64
	Email    string
	Name     string
	Locale   string
	ClientID int64 // the person's first client (0 = none)
	TeamID   int64
}

// ReportReporterByEmail finds the person (and user) with an e-mail
// address; ErrNotFound when nobody has it.
func (s *Store) ReportReporterByEmail(ctx context.Context, email string) (*Reporter, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return nil, fmt.Errorf("reporter: %w", ErrNotFound)
	}
	var r Reporter
	var team sql.NullInt64
	err := s.QueryRow(ctx, "SELECT id, full_name, email, team_id FROM people WHERE email = ? AND active ORDER BY id LIMIT 1", email).
		Scan(&r.PersonID, &r.Name, &r.Email, &team)
	if err == nil {
		r.TeamID = team.Int64
		_ = s.QueryRow(ctx, "SELECT id, locale FROM users WHERE person_id = ? ORDER BY id LIMIT 1", r.PersonID).Scan(&r.UserID, &r.Locale)
	} else if errors.Is(err, sql.ErrNoRows) {
		var person sql.NullInt64
		var display string
		if err := s.QueryRow(ctx, "SELECT id, email, display_name, locale, person_id FROM users WHERE email = ? ORDER BY id LIMIT 1", email).
			Scan(&r.UserID, &r.Email, &display, &r.Locale, &person); err != nil {
			return nil, fmt.Errorf("reporter %s: %w", email, mapErr(err))
		}
		r.Name, r.PersonID = display, person.Int64
	} else {
		return nil, fmt.Errorf("reporter: %w", err)
	}
	return s.deskReporterFill(ctx, &r)
}

// ReportReporterByUser describes the reporter behind a signed-in user.
func (s *Store) ReportReporterByUser(ctx context.Context, userID int64) (*Reporter, error) {
	var r Reporter
	var person sql.NullInt64
	var username, display string
	if err := s.QueryRow(ctx, "SELECT id, username, email, display_name, locale, person_id FROM users WHERE id = ?", userID).
		Scan(&r.UserID, &username, &r.Email, &display, &r.Locale, &person); err != nil {
		return nil, fmt.Errorf("reporter user %d: %w", userID, mapErr(err))
	}
	r.Name, r.PersonID = display, person.Int64
	if r.Name == "" {
		r.Name = username
	}
	if r.PersonID != 0 {
		var name, email string
		var team sql.NullInt64
		if err := s.QueryRow(ctx, "SELECT full_name, email, team_id FROM people WHERE id = ?", r.PersonID).Scan(&name, &email, &team); err == nil {
			r.Name, r.TeamID = name, team.Int64
			if r.Email == "" {
				r.Email = email
			}
		}
	}
	return s.deskReporterFill(ctx, &r)
}

// ReportReporterByPerson describes the reporter behind a person record.
func (s *Store) ReportReporterByPerson(ctx context.Context, personID int64) (*Reporter, error) {
	r := Reporter{PersonID: personID}
	var team sql.NullInt64
	if err := s.QueryRow(ctx, "SELECT full_name, email, team_id FROM people WHERE id = ?", personID).Scan(&r.Name, &r.Email, &team); err != nil {
		return nil, fmt.Errorf("reporter person %d: %w", personID, mapErr(err))
	}
	r.TeamID = team.Int64
	_ = s.QueryRow(ctx, "SELECT id, locale FROM users WHERE person_id = ? ORDER BY id LIMIT 1", personID).Scan(&r.UserID, &r.Locale)
	return s.deskReporterFill(ctx, &r)
}

func (s *Store) deskReporterFill(ctx context.Context, r *Reporter) (*Reporter, error) {
	if r.PersonID != 0 && r.ClientID == 0 {
		var c sql.NullInt64
		if err := s.QueryRow(ctx, "SELECT MIN(client_id) FROM person_clients WHERE person_id = ?", r.PersonID).Scan(&c); err == nil {
			r.ClientID = c.Int64
		}
	}
	return r, nil
}

// ReportPendingMail lists raw reported e-mails stored but not yet turned
// into a report (owner 0), received before, oldest first.
func (s *Store) ReportPendingMail(ctx context.Context, before time.Time, limit int) ([]desk.File, error) {
	rows, err := s.Query(ctx, `SELECT id, owner_kind, owner_id, name, content_type, size, sha256, created_by, created_at
		FROM incident_files WHERE owner_kind = 'mail' AND owner_id = 0 AND created_at < ? ORDER BY id LIMIT ?`, TimeArg(before), limit)
	if err != nil {
		return nil, fmt.Errorf("pending mail: %w", err)
	}
	defer rows.Close()
	var out []desk.File
	for rows.Next() {
		var f desk.File
		if err := rows.Scan(&f.ID, &f.OwnerKind, &f.OwnerID, &f.Name, &f.ContentType, &f.Size, &f.SHA256, &f.CreatedBy, ScanTime(&f.CreatedAt)); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
