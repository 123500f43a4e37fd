package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/desk"
	"github.com/custodia/custodia/internal/incident/triage"
	"github.com/custodia/custodia/internal/store"
)

// IncidentsDeps are the services the incidents operations need; with them unset the
// module declares no operations.
type IncidentsDeps struct {
	// Desk is the incident desk (intake, triage, incidents).
	Desk *triage.Service
}

var (
	// incidentReaders read incidents, reports and the queue (reporters'
	// identities only for incidentWriters).
	incidentReaders = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}
	// incidentWriters triage and handle incidents.
	incidentWriters = []identity.Role{identity.RoleAdmin, identity.RoleSecurity}
)

// declareIncidents declares the incidents module's operations.
func (s *Server) declareIncidents() {
	if s.incidents.Desk == nil {
		return
	}
	get, post, patch, del, put := http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodPut
	read := authz.Roles(roles(incidentReaders)...).WithClientScoped()
	write := authz.Roles(roles(incidentWriters)...).WithClientScoped()
	id := pathParam("id", "the resource's id")
	sub := pathParam("sub", "the attached item's id")

	s.add(&operation{Method: post, Path: "/reports", Policy: authz.Authenticated(), ID: "createReport", Tag: "incidents",
		Summary: "Report something suspicious (CRM, telephony, scripts): answers the tracking reference at once. A suspicious call carries call_id, queue and calling_number.",
		Request: ReportRequest{}, Status: http.StatusCreated, Response: ReportReceipt{}, Handler: s.createReport})
	s.add(&operation{Method: get, Path: "/reports/mine", Policy: authz.Authenticated(), ID: "listMyReports", Tag: "incidents",
		Summary: "The caller's own reports with status and outcome.", Response: List[desk.Report]{}, Handler: s.listMyReports})
	s.add(&operation{Method: get, Path: "/reports", Policy: read, ID: "listReports", Tag: "incidents",
		Summary:  "List reports in the caller's scope (reporters' identities for the security team only).",
		Params:   append([]param{queryParam("status", "string", "new, linked or dismissed"), queryParam("incident_id", "integer", "only this incident's")}, pageParams...),
		Response: List[desk.Report]{}, Handler: s.listReports})
	s.add(&operation{Method: get, Path: "/reports/{id}", Policy: read, ID: "getReport", Tag: "incidents",
		Summary: "Get a report with its observables.", Params: []param{id}, Response: desk.Report{}, Handler: s.getReport})
	s.add(&operation{Method: post, Path: "/reports/{id}/incident", Policy: write, ID: "createIncidentFromReport", Tag: "incidents",
		Summary: "Triage: open an incident from a new report.", Params: []param{id}, Request: triage.NewIncident{}, Status: http.StatusCreated,
		Response: desk.Incident{}, Handler: s.incidentFromReport})
	s.add(&operation{Method: post, Path: "/reports/{id}/merge", Policy: write, ID: "mergeReport", Tag: "incidents",
		Summary: "Triage: attach a report to an existing incident.", Params: []param{id}, Request: MergeInput{}, Handler: s.mergeReport})
	s.add(&operation{Method: post, Path: "/reports/{id}/dismiss", Policy: write, ID: "dismissReport", Tag: "incidents",
		Summary: "Triage: dismiss a new report with a reason (the reporter is thanked).", Params: []param{id}, Request: DismissInput{}, Handler: s.dismissReport})

	s.add(&operation{Method: get, Path: "/triage/queue", Policy: read, ID: "getTriageQueue", Tag: "incidents",
		Summary:  "The triage queue: new reports, open alerts and untriaged incidents, most urgent first, with SLA countdowns.",
		Response: List[triage.QueueItem]{}, Handler: s.triageQueue})
	s.add(&operation{Method: post, Path: "/triage/alerts/{id}/incident", Policy: write, ID: "createIncidentFromAlert", Tag: "incidents",
		Summary: "Triage: open an incident from an open alert.", Params: []param{id}, Request: triage.NewIncident{}, Status: http.StatusCreated,
		Response: desk.Incident{}, Handler: s.incidentFromAlert})
	s.add(&operation{Method: post, Path: "/triage/alerts/{id}/merge", Policy: write, ID: "mergeAlert", Tag: "incidents",
		Summary: "Triage: link an open alert to an existing incident.", Params: []param{id}, Request: MergeInput{}, Handler: s.mergeAlert})
	s.add(&operation{Method: post, Path: "/triage/alerts/{id}/dismiss", Policy: write, ID: "dismissAlert", Tag: "incidents",
		Summary: "Triage: dismiss an open alert with a reason.", Params: []param{id}, Request: DismissInput{}, Handler: s.dismissAlert})
	s.add(&operation{Method: get, Path: "/triage/metrics", Policy: read, ID: "getIncidentMetrics", Tag: "incidents",
		Summary: "Reports per week by channel and team, time to acknowledge/triage/contain (median, p90), share of real reports.",
		Params:  []param{queryParam("weeks", "integer", "how many weeks back (1-52, default 12)")}, Response: triage.Metrics{}, Handler: s.incidentMetrics})

	s.add(&operation{Method: get, Path: "/incidents", Policy: read, ID: "listIncidents", Tag: "incidents",
		Summary: "List incidents affecting the caller's clients, newest first.",
		Params: append([]param{queryParam("status", "string", "a status, or open"), queryParam("severity", "string", "low, medium, high or critical"),
			queryParam("client_id", "integer", "only incidents affecting this client"), queryParam("q", "string", "search reference or title")}, pageParams...),
		Response: List[desk.Incident]{}, Handler: s.listIncidents})
	s.add(&operation{Method: post, Path: "/incidents", Policy: write, ID: "createIncident", Tag: "incidents",
		Summary: "Open an incident; its category's playbook creates the tasks.", Request: triage.NewIncident{}, Status: http.StatusCreated,
		Response: desk.Incident{}, Handler: s.createIncident})
	s.add(&operation{Method: get, Path: "/incidents/{id}", Policy: read, ID: "getIncident", Tag: "incidents",
		Summary: "An incident with its reports, alerts, timeline, tasks, observables, affected items, links, evidence and SLA countdowns.",
		Params:  []param{id}, Response: triage.Detail{}, Handler: s.getIncident})
	s.add(&operation{Method: patch, Path: "/incidents/{id}", Policy: write, ID: "updateIncident", Tag: "incidents",
		Summary: "Change an incident's title, description, category (applies its playbook), severity, owner, became-aware time or clients.",
		Params:  []param{id}, Request: triage.Update{}, Response: desk.Incident{}, Handler: s.updateIncident})
	s.add(&operation{Method: post, Path: "/incidents/{id}/status", Policy: write, ID: "setIncidentStatus", Tag: "incidents",
		Summary: "Move an incident along new → triaged → contained → eradicated → recovered → closed (closing needs an outcome; reporters are thanked).",
		Params:  []param{id}, Request: StatusInput{}, Response: desk.Incident{}, Handler: s.setIncidentStatus})
	s.add(&operation{Method: post, Path: "/incidents/{id}/merge", Policy: write, ID: "mergeIncident", Tag: "incidents",
		Summary: "Merge this incident into another (closed as a duplicate).", Params: []param{id}, Request: MergeInput{}, Handler: s.mergeIncident})
	s.add(&operation{Method: post, Path: "/incidents/{id}/notes", Policy: write, ID: "addIncidentNote", Tag: "incidents",
		Summary: "Add a manual timeline entry.", Params: []param{id}, Request: NoteInput{}, Handler: s.addIncidentNote})
	s.add(&operation{Method: post, Path: "/incidents/{id}/observables", Policy: write, ID: "addIncidentObservable", Tag: "incidents",
		Summary: "Add an observable (ip, domain, url, hash, email, phone; deduplicated).", Params: []param{id}, Request: ObservableInput{}, Handler: s.addIncidentObservable})
	s.add(&operation{Method: del, Path: "/incidents/{id}/observables/{sub}", Policy: write, ID: "removeIncidentObservable", Tag: "incidents",
		Summary: "Remove an observable.", Params: []param{id, sub}, Handler: s.removeIncidentObservable})
	s.add(&operation{Method: post, Path: "/incidents/{id}/tasks", Policy: write, ID: "addIncidentTask", Tag: "incidents",
		Summary: "Add a task.", Params: []param{id}, Request: TaskInput{}, Handler: s.addIncidentTask})
	s.add(&operation{Method: patch, Path: "/incidents/{id}/tasks/{sub}", Policy: write, ID: "updateIncidentTask", Tag: "incidents",
		Summary: "Tick or untick a task.", Params: []param{id, sub}, Request: TaskDoneInput{}, Handler: s.updateIncidentTask})
	s.add(&operation{Method: post, Path: "/incidents/{id}/affected", Policy: write, ID: "addIncidentAffected", Tag: "incidents",
		Summary: "Record an affected person, device or asset.", Params: []param{id}, Request: desk.Affected{}, Handler: s.addIncidentAffected})
	s.add(&operation{Method: del, Path: "/incidents/{id}/affected/{sub}", Policy: write, ID: "removeIncidentAffected", Tag: "incidents",
		Summary: "Remove an affected entry.", Params: []param{id, sub}, Handler: s.removeIncidentAffected})
	s.add(&operation{Method: post, Path: "/incidents/{id}/links", Policy: write, ID: "addIncidentLink", Tag: "incidents",
		Summary: "Link an ISMS risk or control.", Params: []param{id}, Request: LinkInput{}, Handler: s.addIncidentLink})
	s.add(&operation{Method: post, Path: "/incidents/{id}/links/remove", Policy: write, ID: "removeIncidentLink", Tag: "incidents",
		Summary: "Unlink an ISMS risk or control.", Params: []param{id}, Request: LinkInput{}, Handler: s.removeIncidentLink})
	s.add(&operation{Method: post, Path: "/incidents/{id}/evidence", Policy: write, ID: "addIncidentEvidence", Tag: "incidents",
		Summary: "Attach an evidence file (base64; stored encrypted, its SHA-256 recorded in the audit trail).", Params: []param{id},
		Request: FileInput{}, Status: http.StatusCreated, Response: desk.File{}, Handler: s.addIncidentEvidence})
	s.add(&operation{Method: get, Path: "/incidents/{id}/evidence/{sub}", Policy: read, ID: "getIncidentEvidence", Tag: "incidents",
		Summary: "Download an evidence file.", Params: []param{id, sub}, Response: "", ResponseType: "application/octet-stream", Handler: s.getIncidentEvidence})

	s.add(&operation{Method: get, Path: "/playbooks", Policy: read, ID: "listPlaybooks", Tag: "incidents",
		Summary: "The playbooks (newest versions) with their YAML.", Response: List[PlaybookOut]{}, Handler: s.listPlaybooks})
	s.add(&operation{Method: put, Path: "/playbooks", Policy: authz.Roles(roles(incidentWriters)...), ID: "savePlaybook", Tag: "incidents",
		Summary: "Save a playbook's YAML as its next version (validated).", Request: PlaybookIn{}, Response: PlaybookOut{}, Handler: s.savePlaybook})
}

// ReportRequest is a report sent by another system.
type ReportRequest struct {
	// Category is a quick choice: suspicious_call, suspicious_email,
	// lost_device, data_request, malware, misdirected_data, other.
	Category  string `json:"category"`
	Text      string `json:"text"`
	Anonymous bool   `json:"anonymous,omitempty"`
	// ReporterEmail names the person who reported (looked up among people and users).
	ReporterEmail string `json:"reporter_email,omitempty"`
	// ClientID is the client concerned (must be in the token's scope).
	ClientID int64  `json:"client_id,omitempty"`
	Severity string `json:"severity,omitempty"`
	// Suspicious-call fields (telephony, CRM).
	CallID        string `json:"call_id,omitempty"`
	Queue         string `json:"queue,omitempty"`
	CallingNumber string `json:"calling_number,omitempty"`
	// Context holds other fields of the submitting system (at most 30).
	Context     map[string]string `json:"context,omitempty"`
	Observables []ObservableInput `json:"observables,omitempty"`
	Attachment  *FileInput        `json:"attachment,omitempty"`
}

// ReportReceipt answers a report at once.
type ReportReceipt struct {
	ID        int64     `json:"id"`
	Ref       string    `json:"ref"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// ObservableInput is one indicator.
type ObservableInput struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// FileInput is a file sent inline, base64-encoded.
type FileInput struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type,omitempty"`
	DataBase64  string `json:"data_base64"`
}

// MergeInput names the incident to merge into.
type MergeInput struct {
	IncidentID int64 `json:"incident_id"`
}

// DismissInput gives the reason for a dismissal.
type DismissInput struct {
	Reason string `json:"reason"`
}

// StatusInput is a status change.
type StatusInput struct {
	Status      string `json:"status"`
	Outcome     string `json:"outcome,omitempty"`
	OutcomeText string `json:"outcome_text,omitempty"`
}

// NoteInput is a manual timeline entry.
type NoteInput struct {
	Text string `json:"text"`
}

// TaskInput is a new task.
type TaskInput struct {
	Title string `json:"title"`
}

// TaskDoneInput ticks or unticks a task.
type TaskDoneInput struct {
	Done bool `json:"done"`
}

// LinkInput names an ISMS risk or control.
type LinkInput struct {
	Kind  string `json:"kind"`
	RefID int64  `json:"ref_id"`
	Label string `json:"label,omitempty"`
}

// PlaybookIn is a playbook's YAML.
type PlaybookIn struct {
	YAML string `json:"yaml"`
}

// PlaybookOut is a playbook with its YAML.
type PlaybookOut struct {
	desk.Playbook
	YAML string `json:"yaml"`
}

// toInput validates a report request and turns it into the service's input.
func (in *ReportRequest) toInput() (triage.ReportInput, error) {
	out := triage.ReportInput{Channel: desk.ChannelAPI, Category: in.Category, Text: in.Text, Anonymous: in.Anonymous,
		ReporterEmail: in.ReporterEmail, ClientID: in.ClientID, Severity: in.Severity, Context: map[string]string{}}
	for k, v := range in.Context {
		out.Context[k] = v
	}
	for k, v := range map[string]string{"call_id": in.CallID, "queue": in.Queue, "calling_number": in.CallingNumber} {
		if v != "" {
			out.Context[k] = v
		}
	}
	if in.CallingNumber != "" {
		if _, err := desk.NormalizeObservable(desk.ObsPhone, in.CallingNumber); err != nil {
			return out, fieldErr("calling_number", "is not a phone number")
		}
	}
	if in.ReporterEmail != "" {
		if _, err := desk.NormalizeObservable(desk.ObsEmail, in.ReporterEmail); err != nil {
			return out, fieldErr("reporter_email", "is not an e-mail address")
		}
	}
	if len(in.Observables) > 500 {
		return out, fieldErr("observables", "at most 500")
	}
	for i, o := range in.Observables {
		if _, err := desk.NormalizeObservable(o.Kind, o.Value); err != nil {
			return out, fieldErr(fmt.Sprintf("observables[%d]", i), err.Error())
		}
		out.Observables = append(out.Observables, desk.Observable{Kind: o.Kind, Value: o.Value, Source: "api"})
	}
	if in.Attachment != nil {
		u, err := in.Attachment.upload("attachment")
		if err != nil {
			return out, err
		}
		out.Attachment = &u
	}
	r := desk.Report{Channel: out.Channel, Category: out.Category, Text: out.Text, Context: out.Context, Severity: out.Severity}
	if err := r.Validate(); err != nil {
		return out, httpErr(http.StatusUnprocessableEntity, err.Error())
	}
	return out, nil
}

func (f *FileInput) upload(field string) (triage.Upload, error) {
	name := "data_base64"
	if field != "" {
		name = field + "." + name
	}
	data, err := base64.StdEncoding.DecodeString(f.DataBase64)
	if err != nil {
		return triage.Upload{}, fieldErr(name, "is not valid base64")
	}
	if len(data) == 0 || len(data) > desk.MaxFileBytes {
		return triage.Upload{}, fieldErr(name, fmt.Sprintf("must hold 1 byte to %d MiB", desk.MaxFileBytes>>20))
	}
	return triage.Upload{Name: f.Name, ContentType: f.ContentType, Data: data}, nil
}

// deskErr maps the desk's errors onto API answers.
func deskErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, triage.ErrInvalid):
		msg := strings.TrimPrefix(err.Error(), triage.ErrInvalid.Error()+": ")
		return httpErr(http.StatusUnprocessableEntity, msg)
	case errors.Is(err, desk.ErrTransition):
		return httpErr(http.StatusConflict, err.Error())
	}
	return err
}

// maxReportBody bounds a report or evidence body (a 25 MiB file in base64).
const maxReportBody = 36 << 20

func (s *Server) createReport(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxReportBody)
	var in ReportRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	ri, err := in.toInput()
	if err != nil {
		return err
	}
	p := principal(r)
	if p.TokenID == 0 {
		ri.Channel = desk.ChannelPortal
	}
	rep, err := s.incidents.Desk.Submit(r.Context(), p, ri)
	if err != nil {
		return deskErr(err)
	}
	writeJSON(w, http.StatusCreated, ReportReceipt{ID: rep.ID, Ref: rep.Ref, Status: rep.Status, CreatedAt: rep.CreatedAt})
	return nil
}

func (s *Server) listMyReports(w http.ResponseWriter, r *http.Request) error {
	list, err := s.incidents.Desk.MyReports(r.Context(), principal(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, 1000, 0))
	return nil
}

func (s *Server) listReports(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	status, err := queryString(r, "status", 20)
	if err != nil {
		return err
	}
	inc, err := queryInt(r, "incident_id")
	if err != nil {
		return err
	}
	list, err := s.incidents.Desk.Reports(r.Context(), principal(r), store.ReportFilter{Status: status, IncidentID: inc, Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(list, limit, offset))
	return nil
}

func (s *Server) getReport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rep, err := s.incidents.Desk.Report(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) incidentFromReport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in triage.NewIncident
	if err := decode(r, &in); err != nil {
		return err
	}
	inc, err := s.incidents.Desk.IncidentFromReport(r.Context(), principal(r), id, in)
	if err != nil {
		return deskErr(err)
	}
	writeJSON(w, http.StatusCreated, inc)
	return nil
}

// idAndBody reads the path id and decodes the body into v.
func idAndBody(r *http.Request, v any) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, err
	}
	return id, decode(r, v)
}

func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return deskErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) mergeReport(w http.ResponseWriter, r *http.Request) error {
	var in MergeInput
	id, err := idAndBody(r, &in)
	if err != nil {
		return err
	}
	return noContent(w, s.incidents.Desk.MergeReport(r.Context(), principal(r), id, in.IncidentID))
}

func (s *Server) dismissReport(w http.ResponseWriter, r *http.Request) error {
	var in DismissInput
	id, err := idAndBody(r, &in)
	if err != nil {
		return err
	}
	return noContent(w, s.incidents.Desk.DismissReport(r.Context(), principal(r), id, in.Reason))
}

func (s *Server) triageQueue(w http.ResponseWriter, r *http.Request) error {
	q, err := s.incidents.Desk.Queue(r.Context(), principal(r), 500)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(q, 500, 0))
	return nil
}

func (s *Server) incidentFromAlert(w http.ResponseWriter, r *http.Request) error {
	var in triage.NewIncident
	id, err := idAndBody(r, &in)
	if err != nil {
		return err
	}
	inc, err := s.incidents.Desk.IncidentFromAlert(r.Context(), principal(r), id, in)
	if err != nil {
		return deskErr(err)
	}
	writeJSON(w, http.StatusCreated, inc)
	return nil
}

func (s *Server) mergeAlert(w http.ResponseWriter, r *http.Request) error {
	var in MergeInput
	id, err := idAndBody(r, &in)
	if err != nil {
		return err
	}
	return noContent(w, s.incidents.Desk.MergeAlert(r.Context(), principal(r), id, in.IncidentID))
}

func (s *Server) dismissAlert(w http.ResponseWriter, r *http.Request) error {
	var in DismissInput
	id, err := idAndBody(r, &in)
	if err != nil {
		return err
	}
	return noContent(w, s.incidents.Desk.DismissAlert(r.Context(), principal(r), id, in.Reason))
}

func (s *Server) incidentMetrics(w http.ResponseWriter, r *http.Request) error {
	weeks, err := queryInt(r, "weeks")
	if err != nil {
		return err
	}
	if weeks == 0 {
		weeks = 12
	}
	if weeks < 1 || weeks > 52 {
		return fieldErr("weeks", "must be 1 to 52")
	}
	m, err := s.incidents.Desk.Metrics(r.Context(), principal(r), int(weeks))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	var f store.IncidentFilter
	if f.Status, err = queryString(r, "status", 20); err != nil {
		return err
	}
	if f.Severity, err = queryString(r, "severity", 20); err != nil {
		return err
	}
	if f.Query, err = queryString(r, "q", 200); err != nil {
		return err
	}
	if f.ClientID, err = queryInt(r, "client_id"); err != nil {
		return err
	}
	f.Limit, f.Offset = limit, offset
	list, err := s.incidents.Desk.Incidents(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(list, limit, offset))
	return nil
}

func (s *Server) createIncident(w http.ResponseWriter, r *http.Request) error {
	var in triage.NewIncident
	if err := decode(r, &in); err != nil {
		return err
	}
	inc, err := s.incidents.Desk.Create(r.Context(), principal(r), in)
	if err != nil {
		return deskErr(err)
	}
	writeJSON(w, http.StatusCreated, inc)
	return nil
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.incidents.Desk.Detail(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) updateIncident(w http.ResponseWriter, r *http.Request) error {
	var in triage.Update
	id, err := idAndBody(r, &in)
	if err != nil {
		return err
	}
	inc, err := s.incidents.Desk.Edit(r.Context(), principal(r), id, in)
	if err != nil {
		return deskErr(err)
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

func (s *Server) setIncidentStatus(w http.ResponseWriter, r *http.Request) error {
	var in StatusInput
	id, err := idAndBody(r, &in)
	if err != nil {
		return err
	}
	inc, err := s.incidents.Desk.SetStatus(r.Context(), principal(r), id, in.Status, in.Outcome, in.OutcomeText)
	if err != nil {
		return deskErr(err)
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

func (s *Server) mergeIncident(w http.ResponseWriter, r *http.Request) error {
	var in MergeInput
	id, err := idAndBody(r, &in)
	if err != nil {
		return err
	}
	return noContent(w, s.incidents.Desk.MergeIncident(r.Context(), principal(r), id, in.IncidentID))
}

func (s *Server) addIncidentNote(w http.ResponseWriter, r *http.Request) error {
	var in NoteInput
	id, err := idAndBody(r, &in)
	if err != nil {
		return err
	}
	return noContent(w, s.incidents.Desk.AddNote(r.Context(), principal(r), id, in.Text))
}

func (s *Server) addIncidentObservable(w http.ResponseWriter, r *http.Request) error {
	var in ObservableInput
	id, err := idAndBody(r, &in)
	if err != nil {
		return err
	}
	return noContent(w, s.incidents.Desk.AddObservable(r.Context(), principal(r), id, desk.Observable{Kind: in.Kind, Value: in.Value}))
}

func subID(r *http.Request) (int64, int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, 0, err
	}
	sub, err := pathID(r, "sub")
	return id, sub, err
}

func (s *Server) removeIncidentObservable(w http.ResponseWriter, r *http.Request) error {
	id, sub, err := subID(r)
	if err != nil {
		return err
	}
	return noContent(w, s.incidents.Desk.RemoveObservable(r.Context(), principal(r), id, sub))
}

func (s *Server) addIncidentTask(w http.ResponseWriter, r *http.Request) error {
	var in TaskInput
	id, err := idAndBody(r, &in)
	if err != nil {
		return err
	}
	return noContent(w, s.incidents.Desk.AddTask(r.Context(), principal(r), id, in.Title))
}

func (s *Server) updateIncidentTask(w http.ResponseWriter, r *http.Request) error {
	id, sub, err := subID(r)
	if err != nil {
		return err
	}
	var in TaskDoneInput
	if err := decode(r, &in); err != nil {
		return err
	}
	return noContent(w, s.incidents.Desk.SetTaskDone(r.Context(), principal(r), id, sub, in.Done))
}

func (s *Server) addIncidentAffected(w http.ResponseWriter, r *http.Request) error {
	var in desk.Affected
	id, err := idAndBody(r, &in)
	if err != nil {
		return err
	}
	in.ID = 0
	return noContent(w, s.incidents.Desk.AddAffected(r.Context(), principal(r), id, in))
}

func (s *Server) removeIncidentAffected(w http.ResponseWriter, r *http.Request) error {
	id, sub, err := subID(r)
	if err != nil {
		return err
	}
	return noContent(w, s.incidents.Desk.RemoveAffected(r.Context(), principal(r), id, sub))
}

func (s *Server) addIncidentLink(w http.ResponseWriter, r *http.Request) error {
	var in LinkInput
	id, err := idAndBody(r, &in)
	if err != nil {
		return err
	}
	return noContent(w, s.incidents.Desk.AddLink(r.Context(), principal(r), id, desk.Link{Kind: in.Kind, RefID: in.RefID, Label: in.Label}))
}

func (s *Server) removeIncidentLink(w http.ResponseWriter, r *http.Request) error {
	var in LinkInput
	id, err := idAndBody(r, &in)
	if err != nil {
		return err
	}
	return noContent(w, s.incidents.Desk.RemoveLink(r.Context(), principal(r), id, in.Kind, in.RefID))
}

func (s *Server) addIncidentEvidence(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxReportBody)
	var in FileInput
	id, err := idAndBody(r, &in)
	if err != nil {
		return err
	}
	if _, err := s.incidents.Desk.Incident(r.Context(), principal(r), id); err != nil {
		return err
	}
	u, err := in.upload("")
	if err != nil {
		return err
	}
	f, err := s.incidents.Desk.AddEvidence(r.Context(), principal(r), id, u)
	if err != nil {
		return deskErr(err)
	}
	writeJSON(w, http.StatusCreated, f)
	return nil
}

func (s *Server) getIncidentEvidence(w http.ResponseWriter, r *http.Request) error {
	id, sub, err := subID(r)
	if err != nil {
		return err
	}
	f, data, err := s.incidents.Desk.File(r.Context(), principal(r), sub)
	if err != nil {
		return err
	}
	if f.OwnerKind != "incident" || f.OwnerID != id {
		return errNotFound
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", "attachment; filename=\""+f.Name+"\"")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
	return nil
}

func (s *Server) listPlaybooks(w http.ResponseWriter, r *http.Request) error {
	books, err := s.incidents.Desk.Playbooks(r.Context())
	if err != nil {
		return err
	}
	out := make([]PlaybookOut, 0, len(books))
	for _, b := range books {
		y, err := s.incidents.Desk.PlaybookYAML(r.Context(), b.Key)
		if err != nil {
			return err
		}
		out = append(out, PlaybookOut{Playbook: b, YAML: y})
	}
	writeJSON(w, http.StatusOK, pageOf(out, 1000, 0))
	return nil
}

func (s *Server) savePlaybook(w http.ResponseWriter, r *http.Request) error {
	var in PlaybookIn
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := s.incidents.Desk.SavePlaybook(r.Context(), principal(r), in.YAML)
	if err != nil {
		return deskErr(err)
	}
	writeJSON(w, http.StatusOK, PlaybookOut{Playbook: *p, YAML: in.YAML})
	return nil
}
