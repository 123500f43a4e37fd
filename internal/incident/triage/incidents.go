package triage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/desk"
	"github.com/custodia/custodia/internal/notify"
	"github.com/custodia/custodia/internal/store"
)

// Incident returns an incident in p's scope (store.ErrNotFound otherwise).
func (s *Service) Incident(ctx context.Context, p *identity.Principal, id int64) (*desk.Incident, error) {
	return s.st.Incident(ctx, p.Scope(), id)
}

// Incidents lists the incidents in p's scope.
func (s *Service) Incidents(ctx context.Context, p *identity.Principal, f store.IncidentFilter) ([]desk.Incident, error) {
	return s.st.Incidents(ctx, p.Scope(), f)
}

// Detail is everything the incident page shows.
type Detail struct {
	Incident    *desk.Incident       `json:"incident"`
	Reports     []desk.Report        `json:"reports"`
	Alerts      []alert.Alert        `json:"alerts"`
	Timeline    []desk.TimelineEntry `json:"timeline"`
	Tasks       []desk.Task          `json:"tasks"`
	Observables []desk.Observable    `json:"observables"`
	Affected    []desk.Affected      `json:"affected"`
	Links       []desk.Link          `json:"links"`
	Evidence    []desk.File          `json:"evidence"`
	SLA         []desk.Countdown     `json:"sla"`
}

// Detail loads an incident with everything attached; reporters' identities
// are removed unless p is in the security team.
func (s *Service) Detail(ctx context.Context, p *identity.Principal, id int64) (*Detail, error) {
	in, err := s.Incident(ctx, p, id)
	if err != nil {
		return nil, err
	}
	d := &Detail{Incident: in, SLA: s.slas.Countdowns(in, s.now())}
	// A shared incident shows each caller only the reports and alerts of
	// their own clients.
	if d.Reports, err = s.st.Reports(ctx, p.Scope(), store.ReportFilter{IncidentID: id, Limit: 1000}); err != nil {
		return nil, err
	}
	if !SecurityTeam(p) {
		for i := range d.Reports {
			d.Reports[i].HideReporter()
		}
	}
	all, err := s.st.IncidentAlerts(ctx, id)
	if err != nil {
		return nil, err
	}
	d.Alerts = []alert.Alert{}
	for _, a := range all {
		if p.AllClients || (a.ClientID != 0 && p.CanSeeClient(a.ClientID)) {
			d.Alerts = append(d.Alerts, a)
		}
	}
	if d.Timeline, err = s.st.IncidentTimeline(ctx, id); err != nil {
		return nil, err
	}
	if d.Tasks, err = s.st.IncidentTasks(ctx, id); err != nil {
		return nil, err
	}
	if d.Observables, err = s.st.IncidentObservables(ctx, id); err != nil {
		return nil, err
	}
	if d.Affected, err = s.st.IncidentAffected(ctx, id); err != nil {
		return nil, err
	}
	if d.Links, err = s.st.IncidentLinks(ctx, id); err != nil {
		return nil, err
	}
	if d.Evidence, err = s.st.IncidentFiles(ctx, "incident", id); err != nil {
		return nil, err
	}
	return d, nil
}

// NewIncident is what creating an incident takes.
type NewIncident struct {
	Title       string  `json:"title"`
	Description string  `json:"description,omitempty"`
	Category    string  `json:"category,omitempty"`
	Severity    string  `json:"severity"`
	ClientIDs   []int64 `json:"client_ids,omitempty"`
	OwnerUserID int64   `json:"owner_user_id,omitempty"`
}

// Create opens an incident by hand.
func (s *Service) Create(ctx context.Context, p *identity.Principal, n NewIncident) (*desk.Incident, error) {
	ctx = actorCtx(ctx, p)
	for _, c := range n.ClientIDs {
		if !p.CanSeeClient(c) {
			return nil, fmt.Errorf("%w: client %d is not in your scope", ErrInvalid, c)
		}
	}
	if len(n.ClientIDs) == 0 && !p.AllClients {
		if len(p.ClientIDs) != 1 {
			return nil, fmt.Errorf("%w: name the affected client", ErrInvalid)
		}
		n.ClientIDs = p.ClientIDs
	}
	if err := s.checkOwner(ctx, n.OwnerUserID); err != nil {
		return nil, err
	}
	in := &desk.Incident{Title: n.Title, Description: n.Description, Category: n.Category, Severity: n.Severity,
		ClientIDs: n.ClientIDs, OwnerUserID: n.OwnerUserID, Source: "manual"}
	if err := in.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if n.OwnerUserID != 0 {
			now := s.now().UTC()
			in.AcknowledgedAt = &now
		}
		if err := tx.IncidentCreate(ctx, in); err != nil {
			return err
		}
		return s.applyPlaybook(ctx, tx, in)
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "incident.created", in, "incident opened")
	return s.Incident(ctx, p, in.ID)
}

// applyPlaybook creates the checklist of the playbook for in's category,
// once per playbook.
func (s *Service) applyPlaybook(ctx context.Context, tx *store.Tx, in *desk.Incident) error {
	if in.Category == "" {
		return nil
	}
	books, err := s.Playbooks(ctx)
	if err != nil {
		return err
	}
	p := desk.PlaybookFor(books, in.Category)
	if p == nil || p.Key == in.Playbook {
		return nil
	}
	in.Playbook, in.PlaybookVersion = p.Key, p.Version
	return tx.IncidentApplyPlaybook(ctx, in.ID, p)
}

// Update is a change to an incident's fields; nil fields are unchanged.
type Update struct {
	Title         *string    `json:"title,omitempty"`
	Description   *string    `json:"description,omitempty"`
	Category      *string    `json:"category,omitempty"`
	Severity      *string    `json:"severity,omitempty"`
	OwnerUserID   *int64     `json:"owner_user_id,omitempty"`
	BecameAwareAt *time.Time `json:"became_aware_at,omitempty"`
	ClientIDs     *[]int64   `json:"client_ids,omitempty"`
}

// Edit applies u to an incident in p's scope; a new category applies its
// playbook.
func (s *Service) Edit(ctx context.Context, p *identity.Principal, id int64, u Update) (*desk.Incident, error) {
	ctx = actorCtx(ctx, p)
	in, err := s.Incident(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if u.Title != nil {
		in.Title = *u.Title
	}
	if u.Description != nil {
		in.Description = *u.Description
	}
	if u.Category != nil {
		in.Category = *u.Category
	}
	if u.Severity != nil {
		in.Severity = *u.Severity
	}
	if u.OwnerUserID != nil {
		if err := s.checkOwner(ctx, *u.OwnerUserID); err != nil {
			return nil, err
		}
		in.OwnerUserID = *u.OwnerUserID
	}
	if u.BecameAwareAt != nil {
		t := u.BecameAwareAt.UTC()
		in.BecameAwareAt = &t
	}
	if u.ClientIDs != nil {
		for _, c := range *u.ClientIDs {
			if !p.CanSeeClient(c) {
				return nil, fmt.Errorf("%w: client %d is not in your scope", ErrInvalid, c)
			}
		}
		if len(*u.ClientIDs) == 0 && !p.AllClients {
			return nil, fmt.Errorf("%w: an incident must keep at least one of your clients", ErrInvalid)
		}
		// Clients outside p's scope stay: p cannot see or remove them.
		for _, c := range in.ClientIDs {
			if !p.CanSeeClient(c) {
				*u.ClientIDs = append(*u.ClientIDs, c)
			}
		}
	}
	if err := in.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.IncidentUpdate(ctx, in); err != nil {
			return err
		}
		if u.ClientIDs != nil {
			if err := tx.IncidentSetClients(ctx, id, *u.ClientIDs); err != nil {
				return err
			}
		}
		return s.applyPlaybook(ctx, tx, in)
	})
	if err != nil {
		return nil, err
	}
	out, err := s.Incident(ctx, p, id)
	if err == nil {
		s.publish(ctx, "incident.updated", out, "incident updated")
	}
	return out, err
}

// SetStatus moves an incident along its flow. Closing needs an outcome
// and thanks every reporter in plain words.
func (s *Service) SetStatus(ctx context.Context, p *identity.Principal, id int64, to, outcome, outcomeText string) (*desk.Incident, error) {
	ctx = actorCtx(ctx, p)
	if _, err := s.Incident(ctx, p, id); err != nil {
		return nil, err
	}
	if len([]rune(outcomeText)) > 2000 {
		return nil, fmt.Errorf("%w: the outcome text is longer than 2000 characters", ErrInvalid)
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.IncidentSetStatus(ctx, id, to, outcome, strings.TrimSpace(outcomeText))
		return err
	})
	if errors.Is(err, desk.ErrTransition) {
		return nil, err
	}
	if err != nil && strings.Contains(err.Error(), "closing needs an outcome") {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err != nil {
		return nil, err
	}
	in, err := s.Incident(ctx, p, id)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, "incident.status_changed", in, "status: "+to)
	if to == desk.StatusClosed {
		s.thankReporters(ctx, in)
	}
	return in, nil
}

func (s *Service) thankReporters(ctx context.Context, in *desk.Incident) {
	reports, err := s.st.ReportsForThanks(ctx, in.ID)
	if err != nil {
		s.log.Warn("thank reporters", "incident", in.Ref, "err", err)
		return
	}
	for _, r := range reports {
		job := mailJob{report: r, thanks: true, incRef: in.Ref, outcome: in.Outcome, outcomeText: in.OutcomeText}
		select {
		case s.mails <- job:
		default:
			s.deliver(ctx, job)
		}
	}
}

// withIncident runs fn in a transaction on an incident in p's scope.
func (s *Service) withIncident(ctx context.Context, p *identity.Principal, id int64, fn func(ctx context.Context, tx *store.Tx) error) error {
	ctx = actorCtx(ctx, p)
	if _, err := s.Incident(ctx, p, id); err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error { return fn(ctx, tx) })
}

func invalid(err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrInvalid, err)
}

// AddNote adds a manual timeline entry.
func (s *Service) AddNote(ctx context.Context, p *identity.Principal, id int64, text string) error {
	text = strings.TrimSpace(text)
	return s.withIncident(ctx, p, id, func(ctx context.Context, tx *store.Tx) error {
		if text == "" || len([]rune(text)) > 5000 {
			return fmt.Errorf("%w: a note needs 1 to 5000 characters", ErrInvalid)
		}
		return tx.IncidentNote(ctx, id, text)
	})
}

// AddObservable attaches an indicator (deduplicated).
func (s *Service) AddObservable(ctx context.Context, p *identity.Principal, id int64, o desk.Observable) error {
	o.Source = "analyst"
	return s.withIncident(ctx, p, id, func(ctx context.Context, tx *store.Tx) error {
		if _, err := desk.NormalizeObservable(o.Kind, o.Value); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		_, err := tx.IncidentAddObservable(ctx, id, o)
		return err
	})
}

// RemoveObservable deletes an indicator.
func (s *Service) RemoveObservable(ctx context.Context, p *identity.Principal, id, obsID int64) error {
	return s.withIncident(ctx, p, id, func(ctx context.Context, tx *store.Tx) error { return tx.IncidentRemoveObservable(ctx, id, obsID) })
}

// AddTask adds a manual task.
func (s *Service) AddTask(ctx context.Context, p *identity.Principal, id int64, title string) error {
	return s.withIncident(ctx, p, id, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.IncidentAddTask(ctx, id, title, "")
		return invalid(err)
	})
}

// SetTaskDone ticks or unticks a task.
func (s *Service) SetTaskDone(ctx context.Context, p *identity.Principal, id, taskID int64, done bool) error {
	return s.withIncident(ctx, p, id, func(ctx context.Context, tx *store.Tx) error { return tx.IncidentSetTaskDone(ctx, id, taskID, done) })
}

// AddAffected records an affected person, device or asset.
func (s *Service) AddAffected(ctx context.Context, p *identity.Principal, id int64, a desk.Affected) error {
	return s.withIncident(ctx, p, id, func(ctx context.Context, tx *store.Tx) error { return invalid(tx.IncidentAddAffected(ctx, id, a)) })
}

// RemoveAffected deletes an affected entry.
func (s *Service) RemoveAffected(ctx context.Context, p *identity.Principal, id, affectedID int64) error {
	return s.withIncident(ctx, p, id, func(ctx context.Context, tx *store.Tx) error { return tx.IncidentRemoveAffected(ctx, id, affectedID) })
}

// AddLink links an ISMS risk or control.
func (s *Service) AddLink(ctx context.Context, p *identity.Principal, id int64, l desk.Link) error {
	return s.withIncident(ctx, p, id, func(ctx context.Context, tx *store.Tx) error { return invalid(tx.IncidentAddLink(ctx, id, l)) })
}

// RemoveLink unlinks an ISMS risk or control.
func (s *Service) RemoveLink(ctx context.Context, p *identity.Principal, id int64, kind string, refID int64) error {
	return s.withIncident(ctx, p, id, func(ctx context.Context, tx *store.Tx) error { return tx.IncidentRemoveLink(ctx, id, kind, refID) })
}

// AddEvidence stores an encrypted evidence file; its hash goes to the
// audit trail and the timeline.
func (s *Service) AddEvidence(ctx context.Context, p *identity.Principal, id int64, u Upload) (*desk.File, error) {
	if _, err := s.Incident(ctx, p, id); err != nil {
		return nil, err
	}
	if len(u.Data) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrInvalid)
	}
	f, sealed, err := s.sealFile("incident", u)
	if err != nil {
		return nil, err
	}
	f.OwnerID = id
	err = s.withIncident(ctx, p, id, func(ctx context.Context, tx *store.Tx) error {
		in, err := tx.IncidentGet(ctx, id)
		if err != nil {
			return err
		}
		var client int64
		if len(in.ClientIDs) > 0 {
			client = in.ClientIDs[0]
		}
		return tx.IncidentPutFile(ctx, f, sealed, client)
	})
	return f, err
}

// File returns a file (evidence, report attachment or raw mail) if p may
// see its owner.
func (s *Service) File(ctx context.Context, p *identity.Principal, fileID int64) (*desk.File, []byte, error) {
	f, data, err := s.OpenFile(ctx, fileID)
	if err != nil {
		return nil, nil, err
	}
	switch f.OwnerKind {
	case "incident":
		_, err = s.Incident(ctx, p, f.OwnerID)
	case "report", "mail":
		_, err = s.Report(ctx, p, f.OwnerID)
	default:
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("file %d: %w", fileID, store.ErrNotFound)
	}
	return f, data, nil
}

// Report returns a report in p's scope; reporters' identities only for the
// security team.
func (s *Service) Report(ctx context.Context, p *identity.Principal, id int64) (*desk.Report, error) {
	r, err := s.st.Report(ctx, p.Scope(), id)
	if err != nil {
		return nil, err
	}
	if !SecurityTeam(p) {
		r.HideReporter()
	}
	return r, nil
}

// ReportFiles lists a report's attachment and raw e-mail.
func (s *Service) ReportFiles(ctx context.Context, p *identity.Principal, id int64) ([]desk.File, error) {
	r, err := s.Report(ctx, p, id)
	if err != nil {
		return nil, err
	}
	files, err := s.st.IncidentFiles(ctx, "report", id)
	if err != nil {
		return nil, err
	}
	if r.MailFileID != 0 {
		mails, err := s.st.IncidentFiles(ctx, "mail", id)
		if err != nil {
			return nil, err
		}
		files = append(files, mails...)
	}
	return files, nil
}

// Reports lists reports in p's scope.
func (s *Service) Reports(ctx context.Context, p *identity.Principal, f store.ReportFilter) ([]desk.Report, error) {
	list, err := s.st.Reports(ctx, p.Scope(), f)
	if err != nil {
		return nil, err
	}
	if !SecurityTeam(p) {
		for i := range list {
			list[i].HideReporter()
		}
	}
	return list, nil
}

// IncidentFromReport opens an incident from a new report (triage action).
func (s *Service) IncidentFromReport(ctx context.Context, p *identity.Principal, reportID int64, n NewIncident) (*desk.Incident, error) {
	ctx = actorCtx(ctx, p)
	r, err := s.Report(ctx, p, reportID)
	if err != nil {
		return nil, err
	}
	if r.Status != desk.ReportNew {
		return nil, fmt.Errorf("report %s is %s: %w", r.Ref, r.Status, desk.ErrTransition)
	}
	if err := s.checkOwner(ctx, n.OwnerUserID); err != nil {
		return nil, err
	}
	cat, sev := desk.ChoiceCategory(r.Category)
	if n.Category == "" {
		n.Category = cat
	}
	if n.Severity == "" {
		n.Severity = sev
	}
	if n.Title == "" {
		n.Title = firstLine(r.Text)
		if s := r.Context["subject"]; s != "" {
			n.Title = "Reported: " + s
		}
		if n.Title == "" {
			n.Title = r.Ref
		}
	}
	in := &desk.Incident{Title: truncate(n.Title, 300), Description: n.Description, Category: n.Category, Severity: n.Severity,
		OwnerUserID: n.OwnerUserID, Source: "report", BecameAwareAt: &r.CreatedAt}
	if err := in.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	now := s.now().UTC()
	in.AcknowledgedAt = &now
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.IncidentCreate(ctx, in); err != nil {
			return err
		}
		if err := tx.IncidentAddClients(ctx, in.ID, n.ClientIDs); err != nil {
			return err
		}
		if err := tx.ReportLink(ctx, reportID, in.ID); err != nil {
			return err
		}
		if r.DeviceID != 0 {
			if err := tx.IncidentAddAffected(ctx, in.ID, desk.Affected{Kind: desk.AffectedDevice, RefID: r.DeviceID, Label: r.Context["hostname"]}); err != nil {
				return err
			}
		}
		return s.applyPlaybook(ctx, tx, in)
	})
	if err != nil {
		return nil, err
	}
	out, err := s.st.Incident(ctx, identity.Scope{All: true}, in.ID)
	if err == nil {
		s.publish(ctx, "incident.created", out, "opened from report "+r.Ref)
	}
	return out, err
}

// MergeReport attaches a report to an existing incident.
func (s *Service) MergeReport(ctx context.Context, p *identity.Principal, reportID, incidentID int64) error {
	ctx = actorCtx(ctx, p)
	if _, err := s.Report(ctx, p, reportID); err != nil {
		return err
	}
	if incidentID <= 0 {
		return fmt.Errorf("%w: choose the incident to merge into", ErrInvalid)
	}
	in, err := s.Incident(ctx, p, incidentID)
	if err != nil {
		return err
	}
	if !in.Open() {
		return fmt.Errorf("incident %s is closed: %w", in.Ref, desk.ErrTransition)
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error { return tx.ReportLink(ctx, reportID, incidentID) })
}

// DismissReport closes a new report without an incident.
func (s *Service) DismissReport(ctx context.Context, p *identity.Principal, reportID int64, reason string) error {
	ctx = actorCtx(ctx, p)
	r, err := s.Report(ctx, p, reportID)
	if err != nil {
		return err
	}
	if r.Status != desk.ReportNew {
		return fmt.Errorf("report %s is %s: %w", r.Ref, r.Status, desk.ErrTransition)
	}
	if err := s.st.InTx(ctx, func(tx *store.Tx) error { return invalid(tx.ReportDismiss(ctx, reportID, reason)) }); err != nil {
		return err
	}
	full, err := s.st.Report(ctx, identity.Scope{All: true}, reportID)
	if err == nil {
		s.queueThanks(full, desk.OutcomeFalsePositive, reason)
	}
	return nil
}

func (s *Service) queueThanks(r *desk.Report, outcome, text string) {
	job := mailJob{report: *r, thanks: true, outcome: outcome, outcomeText: text}
	select {
	case s.mails <- job:
	default:
		s.deliver(context.Background(), job)
	}
}

// IncidentFromAlert opens an incident from an open alert.
func (s *Service) IncidentFromAlert(ctx context.Context, p *identity.Principal, alertID int64, n NewIncident) (*desk.Incident, error) {
	ctx = actorCtx(ctx, p)
	a, err := s.st.Alert(ctx, p.Scope(), alertID)
	if err != nil {
		return nil, err
	}
	if a.Status != alert.StatusOpen {
		return nil, fmt.Errorf("alert %d is %s: %w", a.ID, a.Status, desk.ErrTransition)
	}
	if err := s.checkOwner(ctx, n.OwnerUserID); err != nil {
		return nil, err
	}
	if n.Title == "" {
		n.Title = a.Title
	}
	if n.Severity == "" {
		n.Severity = severityOfAlert(a.Severity)
	}
	if n.Category == "" {
		n.Category = "undetermined"
	}
	in := &desk.Incident{Title: truncate(n.Title, 300), Description: n.Description, Category: n.Category, Severity: n.Severity,
		OwnerUserID: n.OwnerUserID, Source: "alert", BecameAwareAt: &a.CreatedAt}
	if a.ClientID != 0 {
		in.ClientIDs = []int64{a.ClientID}
	}
	if err := in.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	now := s.now().UTC()
	in.AcknowledgedAt = &now
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.IncidentCreate(ctx, in); err != nil {
			return err
		}
		if err := tx.CloseAlert(ctx, alertID, in.ID, "incident "+in.Ref); err != nil {
			return err
		}
		if err := tx.IncidentTimelineAdd(ctx, in.ID, "alert", fmt.Sprintf("alert %d (%s/%s) linked", a.ID, a.Source, a.Kind)); err != nil {
			return err
		}
		return s.applyPlaybook(ctx, tx, in)
	})
	if err != nil {
		return nil, err
	}
	out, err := s.st.Incident(ctx, identity.Scope{All: true}, in.ID)
	if err == nil {
		s.publish(ctx, "incident.created", out, "opened from an alert")
	}
	return out, err
}

// MergeAlert links an open alert to an existing incident.
func (s *Service) MergeAlert(ctx context.Context, p *identity.Principal, alertID, incidentID int64) error {
	ctx = actorCtx(ctx, p)
	a, err := s.st.Alert(ctx, p.Scope(), alertID)
	if err != nil {
		return err
	}
	if incidentID <= 0 {
		return fmt.Errorf("%w: choose the incident to merge into", ErrInvalid)
	}
	in, err := s.Incident(ctx, p, incidentID)
	if err != nil {
		return err
	}
	if !in.Open() {
		return fmt.Errorf("incident %s is closed: %w", in.Ref, desk.ErrTransition)
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CloseAlert(ctx, alertID, incidentID, "incident "+in.Ref); err != nil {
			return err
		}
		if a.ClientID != 0 {
			if err := tx.IncidentAddClients(ctx, incidentID, []int64{a.ClientID}); err != nil {
				return err
			}
		}
		return tx.IncidentTimelineAdd(ctx, incidentID, "alert", fmt.Sprintf("alert %d (%s/%s) linked", a.ID, a.Source, a.Kind))
	})
}

// DismissAlert closes an open alert with a reason.
func (s *Service) DismissAlert(ctx context.Context, p *identity.Principal, alertID int64, reason string) error {
	ctx = actorCtx(ctx, p)
	if _, err := s.st.Alert(ctx, p.Scope(), alertID); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 1000 {
		return fmt.Errorf("%w: a reason is required (at most 1000 characters)", ErrInvalid)
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error { return tx.CloseAlert(ctx, alertID, 0, reason) })
}

// MergeIncident merges incident from into incident into (both in scope).
func (s *Service) MergeIncident(ctx context.Context, p *identity.Principal, from, into int64) error {
	ctx = actorCtx(ctx, p)
	if _, err := s.Incident(ctx, p, from); err != nil {
		return err
	}
	if into <= 0 || into == from {
		return fmt.Errorf("%w: choose another incident to merge into", ErrInvalid)
	}
	if _, err := s.Incident(ctx, p, into); err != nil {
		return err
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.IncidentMerge(ctx, from, into) })
	if err != nil && !errors.Is(err, desk.ErrTransition) && !errors.Is(err, store.ErrNotFound) {
		return invalid(err)
	}
	return err
}

// CheckSLAs escalates open incidents whose SLA stage has just been
// breached: a timeline entry, an event, an e-mail to the escalation
// addresses and, on the first breach, one step up in severity. It returns
// how many stages were escalated.
func (s *Service) CheckSLAs(ctx context.Context) (int, error) {
	open, err := s.st.IncidentsOpen(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	n := 0
	for i := range open {
		in := &open[i]
		for _, c := range s.slas.Countdowns(in, now) {
			if !c.Breached || c.Done {
				continue
			}
			var marked bool
			raise := len(in.SLAEscalated) == 0
			err := s.st.InTx(ctx, func(tx *store.Tx) error {
				var err error
				marked, err = tx.IncidentMarkEscalated(ctx, in.ID, c.Stage, raise)
				return err
			})
			if err != nil {
				return n, err
			}
			if !marked {
				continue
			}
			n++
			in.SLAEscalated = append(in.SLAEscalated, c.Stage)
			cur, err := s.st.Incident(ctx, identity.Scope{All: true}, in.ID)
			if err != nil {
				return n, err
			}
			s.publish(ctx, "incident.sla_breached", cur, "SLA breached: "+c.Stage)
			if s.mailer != nil && len(s.escalateTo) > 0 {
				m := notify.Message{To: s.escalateTo, Subject: fmt.Sprintf("[Custodia] SLA breached (%s): %s", c.Stage, cur.Ref),
					Text: fmt.Sprintf("%s %s\nseverity: %s\nstatus: %s\nstage: %s, due %s\n", cur.Ref, cur.Category, cur.Severity, cur.Status,
						c.Stage, c.Due.UTC().Format(time.RFC3339))}
				if s.baseURL != "" {
					m.Text += fmt.Sprintf("%s/incidents/%d\n", s.baseURL, cur.ID)
				}
				if err := s.mailer.Send(ctx, m); err != nil {
					s.log.Warn("SLA escalation e-mail", "incident", cur.Ref, "err", err)
				}
			}
		}
	}
	return n, nil
}

// checkOwner refuses an owner who is not an active administrator or
// security officer (0 = no owner).
func (s *Service) checkOwner(ctx context.Context, userID int64) error {
	if userID == 0 {
		return nil
	}
	u, err := s.st.User(ctx, userID)
	if err != nil || !u.Active || (u.Role != identity.RoleAdmin && u.Role != identity.RoleSecurity) {
		return fmt.Errorf("%w: the owner must be an active administrator or security officer", ErrInvalid)
	}
	return nil
}
