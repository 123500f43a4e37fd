package triage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/fleet"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/desk"
	"github.com/custodia/custodia/internal/store"
)

// ReportInput is a report as submitted through the portal, the API or a
// desktop.
type ReportInput struct {
	Channel   string
	Category  string // quick choice
	Text      string
	Anonymous bool
	// Attachment is optional.
	Attachment *Upload
	// Context holds channel specifics (API: call_id, queue, calling_number).
	Context map[string]string
	// Observables are indicators the submitting system already knows.
	Observables []desk.Observable
	// ReporterEmail names the reporter when a system reports on someone's
	// behalf (API); a known person or user is looked up by it.
	ReporterEmail string
	// ClientID is the client concerned when the reporter has none (API).
	ClientID int64
	Severity string
}

// Submit stores a report from a signed-in user (portal) or an API token,
// clusters it and queues the acknowledgement. The reference is in the
// returned report at once.
func (s *Service) Submit(ctx context.Context, p *identity.Principal, in ReportInput) (*desk.Report, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: no principal", ErrInvalid)
	}
	ctx = actorCtx(ctx, p)
	r := &desk.Report{Channel: in.Channel, Category: in.Category, Text: strings.TrimSpace(in.Text), Anonymous: in.Anonymous,
		Context: in.Context, Observables: in.Observables, Severity: in.Severity}
	if r.Channel == "" {
		r.Channel = desk.ChannelPortal
	}
	var who *store.Reporter
	var err error
	switch {
	case in.ReporterEmail != "":
		who, err = s.st.ReportReporterByEmail(ctx, in.ReporterEmail)
		if errors.Is(err, store.ErrNotFound) {
			who, err = &store.Reporter{Email: strings.ToLower(strings.TrimSpace(in.ReporterEmail))}, nil
		}
	case p.TokenID == 0 && p.UserID != 0:
		who, err = s.st.ReportReporterByUser(ctx, p.UserID)
	}
	if err != nil {
		return nil, err
	}
	if who != nil {
		r.ReporterPersonID, r.ReporterUserID, r.ReporterEmail, r.ReporterName, r.ReporterLocale = who.PersonID, who.UserID, who.Email, who.Name, who.Locale
		r.ClientID, r.TeamID = who.ClientID, who.TeamID
	}
	if r.ReporterLocale == "" {
		r.ReporterLocale = p.Locale
	}
	if in.ClientID != 0 {
		if !p.CanSeeClient(in.ClientID) {
			return nil, fmt.Errorf("%w: client %d is not in your scope", ErrInvalid, in.ClientID)
		}
		r.ClientID = in.ClientID
	}
	if r.ClientID == 0 && !p.AllClients && len(p.ClientIDs) == 1 {
		r.ClientID = p.ClientIDs[0]
	}
	if cn := r.Context["calling_number"]; cn != "" {
		r.Observables = append(r.Observables, desk.Observable{Kind: desk.ObsPhone, Value: cn})
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var upload *desk.File
	var sealed []byte
	if in.Attachment != nil && len(in.Attachment.Data) > 0 {
		if upload, sealed, err = s.sealFile("report", *in.Attachment); err != nil {
			return nil, err
		}
	}
	if err := s.storeReport(ctx, r, upload, sealed); err != nil {
		return nil, err
	}
	return r, nil
}

// storeReport creates the report (and its attachment), clusters it and
// queues the acknowledgement.
func (s *Service) storeReport(ctx context.Context, r *desk.Report, upload *desk.File, sealed []byte) error {
	var inc *desk.Incident
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.ReportCreate(ctx, r); err != nil {
			return err
		}
		if upload != nil {
			upload.OwnerID = r.ID
			if err := tx.IncidentPutFile(ctx, upload, sealed, r.ClientID); err != nil {
				return err
			}
		}
		var err error
		inc, err = s.cluster(ctx, tx, r)
		return err
	})
	if err != nil {
		if strings.Contains(err.Error(), "create report: ") && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		return err
	}
	if inc != nil {
		s.publish(ctx, "incident.created", inc, "reports of the same event were clustered")
	}
	s.queueAck(r)
	return nil
}

// cluster joins r with an earlier report of the same thing: when the
// earlier one is already part of an incident r joins it; otherwise a new
// incident is opened with both. It returns the incident it created, if any.
func (s *Service) cluster(ctx context.Context, tx *store.Tx, r *desk.Report) (*desk.Incident, error) {
	if r.MessageID == "" && r.SenderSubject == "" && !hasURL(r.Observables) {
		return nil, nil
	}
	otherID, incID, err := tx.ReportCluster(ctx, r, r.CreatedAt.Add(-s.clusterWindow))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if incID != 0 {
		cur, err := tx.IncidentGet(ctx, incID)
		if err != nil {
			return nil, err
		}
		if cur.Open() {
			return nil, tx.ReportLink(ctx, r.ID, incID)
		}
		// The earlier incident is closed: open a new one for this wave.
	}
	category, severity := desk.ChoiceCategory(r.Category)
	if r.Channel == desk.ChannelEmail {
		category = "phishing"
	}
	title := r.Context["subject"]
	if title == "" {
		title = firstLine(r.Text)
	}
	if title == "" {
		title = category
	}
	in := &desk.Incident{Title: truncate("Reported: "+title, 300), Category: category, Severity: severity, Source: "report",
		Description: "Opened automatically: several people reported the same thing."}
	if err := tx.IncidentCreate(ctx, in); err != nil {
		return nil, err
	}
	if err := s.applyPlaybook(ctx, tx, in); err != nil {
		return nil, err
	}
	if incID == 0 {
		if err := tx.ReportLink(ctx, otherID, in.ID); err != nil {
			return nil, err
		}
	}
	if err := tx.ReportLink(ctx, r.ID, in.ID); err != nil {
		return nil, err
	}
	return tx.IncidentGet(ctx, in.ID)
}

func hasURL(obs []desk.Observable) bool {
	for _, o := range obs {
		if o.Kind == desk.ObsURL {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return truncate(s, 120)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// DeviceReport turns a desk report received by the fleet into a report
// with the device's context (fleet.ReportIntake).
func (s *Service) DeviceReport(ctx context.Context, d fleet.DeviceReport) (string, error) {
	ctx = audit.WithActor(ctx, audit.Actor{Name: fmt.Sprintf("device:%d(%s)", d.DeviceID, d.Hostname)})
	category := d.Category
	if category != "" && !validChoice(category) {
		category = desk.ChoiceOther
	}
	r := &desk.Report{Channel: desk.ChannelDesktop, Category: category, Text: strings.TrimSpace(d.Text),
		ReporterPersonID: d.PersonID, ClientID: d.ClientID, TeamID: d.TeamID, DeviceID: d.DeviceID,
		Context: map[string]string{"hostname": d.Hostname, "os": d.OS, "session_user": d.SessionUser, "agent_version": d.AgentVersion,
			"device_id": idStr(d.DeviceID), "fleet_report_id": idStr(d.ID)}}
	if !d.ReportedAt.IsZero() {
		r.Context["reported_at"] = d.ReportedAt.UTC().Format(time.RFC3339)
	}
	if d.PersonID != 0 {
		if who, err := s.st.ReportReporterByPerson(ctx, d.PersonID); err == nil {
			r.ReporterUserID, r.ReporterEmail, r.ReporterName, r.ReporterLocale = who.UserID, who.Email, who.Name, who.Locale
			if r.TeamID == 0 {
				r.TeamID = who.TeamID
			}
		}
	}
	if err := r.Validate(); err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := s.storeReport(ctx, r, nil, nil); err != nil {
		return "", err
	}
	return r.Ref, nil
}

func validChoice(c string) bool {
	for _, x := range desk.Choices {
		if x == c {
			return true
		}
	}
	return false
}

// MyReports lists the reports the principal made (not anonymous ones:
// those are not linked to anybody), with status and outcome.
func (s *Service) MyReports(ctx context.Context, p *identity.Principal) ([]desk.Report, error) {
	if p == nil || (p.UserID == 0 && p.PersonID == 0) {
		return []desk.Report{}, nil
	}
	list, err := s.st.Reports(ctx, identity.Scope{All: true}, store.ReportFilter{ReporterUserID: p.UserID, ReporterPersonID: p.PersonID, Limit: 200})
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].HideReporter()
		list[i].Context, list[i].Observables, list[i].Flags = nil, nil, nil
	}
	return list, nil
}

// MyReport returns one of the principal's own reports by reference.
func (s *Service) MyReport(ctx context.Context, p *identity.Principal, ref string) (*desk.Report, error) {
	list, err := s.MyReports(ctx, p)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Ref == ref {
			return &list[i], nil
		}
	}
	return nil, fmt.Errorf("report %q: %w", ref, store.ErrNotFound)
}
