package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/desk"
	"github.com/custodia/custodia/internal/incident/taxonomy"
	"github.com/custodia/custodia/internal/incident/triage"
	"github.com/custodia/custodia/internal/store"
)

// IncidentsDeps are the services the incidents pages need; with them unset the
// module registers no pages.
type IncidentsDeps struct {
	// Desk is the incident desk service.
	Desk *triage.Service
}

var (
	incidentReaders = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}
	incidentWriters = []identity.Role{identity.RoleAdmin, identity.RoleSecurity}
)

// incidentsRoutes lists the incidents module's console routes.
func (s *Server) incidentsRoutes() []route {
	if s.incidents.Desk == nil {
		return nil
	}
	self := authz.Authenticated()
	read := authz.Roles(incidentReaders...).WithClientScoped()
	write := authz.Roles(incidentWriters...).WithClientScoped()
	return []route{
		// Every signed-in person: report and follow their reports.
		{"GET /report", self, s.reportForm},
		{"POST /report", self, s.reportSubmit},
		{"GET /report/done", self, s.reportDone},
		{"GET /report/mine", self, s.reportMine},

		// The security team.
		{"GET /incidents", read, s.incidentQueue},
		{"GET /incidents/all", read, s.incidentList},
		{"GET /incidents/new", write, s.incidentNew},
		{"POST /incidents/new", write, s.incidentCreate},
		{"GET /incidents/{id}", read, s.incidentPage},
		{"POST /incidents/{id}/edit", write, s.incidentEdit},
		{"POST /incidents/{id}/status", write, s.incidentStatus},
		{"POST /incidents/{id}/notes", write, s.incidentNote},
		{"POST /incidents/{id}/observables", write, s.incidentObservable},
		{"POST /incidents/{id}/observables/{sub}/delete", write, s.incidentObservableDelete},
		{"POST /incidents/{id}/tasks", write, s.incidentTask},
		{"POST /incidents/{id}/tasks/{sub}", write, s.incidentTaskToggle},
		{"POST /incidents/{id}/affected", write, s.incidentAffected},
		{"POST /incidents/{id}/affected/{sub}/delete", write, s.incidentAffectedDelete},
		{"POST /incidents/{id}/links", write, s.incidentLink},
		{"POST /incidents/{id}/links/remove", write, s.incidentLinkRemove},
		{"POST /incidents/{id}/evidence", write, s.incidentEvidence},
		{"GET /incidents/{id}/evidence/{sub}", read, s.incidentEvidenceDownload},
		{"POST /incidents/{id}/merge", write, s.incidentMerge},

		{"GET /triage/reports/{id}", read, s.triageReport},
		{"GET /triage/reports/{id}/files/{sub}", authz.Roles(incidentWriters...).WithClientScoped(), s.triageReportFile},
		{"POST /triage/reports/{id}/incident", write, s.triageReportIncident},
		{"POST /triage/reports/{id}/merge", write, s.triageReportMerge},
		{"POST /triage/reports/{id}/dismiss", write, s.triageReportDismiss},
		{"POST /triage/alerts/{id}/incident", write, s.triageAlertIncident},
		{"POST /triage/alerts/{id}/merge", write, s.triageAlertMerge},
		{"POST /triage/alerts/{id}/dismiss", write, s.triageAlertDismiss},
		{"GET /triage/metrics", read, s.incidentMetrics},
		{"GET /triage/playbooks", read, s.playbookList},
		{"POST /triage/playbooks", authz.Roles(incidentWriters...), s.playbookSave},
	}
}

// incidentsFlash shows a success message named by ?done= (only catalogue
// keys, so a crafted link cannot put text on the page).
func (s *Server) incidentsFlash(v *view, r *http.Request) {
	if d := r.URL.Query().Get("done"); d != "" && s.cat.Has("incidents.done."+d) {
		v.Flash = v.T("incidents.done." + d)
	}
}

func done(to, key string) string {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	return to + sep + "done=" + url.QueryEscape(key)
}

// deskMessage is the user-facing text of a desk error, or "" when err is
// not the user's doing.
func (v *view) deskMessage(err error) string {
	switch {
	case errors.Is(err, triage.ErrInvalid):
		return v.fieldMessage(strings.TrimPrefix(err.Error(), triage.ErrInvalid.Error()+": "))
	case errors.Is(err, desk.ErrTransition):
		return v.T("incidents.err.transition")
	}
	return ""
}

func severityOptions(v *view, selected string, withAll bool) []Option {
	var out []Option
	if withAll {
		out = append(out, Option{Value: "", Label: v.T("common.all"), Selected: selected == ""})
	}
	for _, sv := range desk.Severities {
		out = append(out, Option{Value: sv, Label: v.T("incidents.sev." + sv), Selected: sv == selected})
	}
	return out
}

func categoryOptions(v *view, selected string) []Option {
	out := []Option{{Value: "", Label: "—", Selected: selected == ""}}
	for _, c := range taxonomy.Classes() {
		for _, t := range c.Types {
			out = append(out, Option{Value: t.ID, Label: c.Name + " / " + t.Name, Selected: t.ID == selected})
		}
	}
	return out
}

func statusOptions(v *view, current string) []Option {
	var out []Option
	for _, st := range desk.Statuses {
		if desk.CanTransition(current, st) {
			out = append(out, Option{Value: st, Label: v.T("incidents.status." + st)})
		}
	}
	return out
}

func outcomeOptions(v *view) []Option {
	out := []Option{{Value: "", Label: "—"}}
	for _, o := range desk.Outcomes {
		out = append(out, Option{Value: o, Label: v.T("incidents.outcome_label." + o)})
	}
	return out
}

// countdown renders an SLA time left ("2h 5m", or "-35m" when overdue).
func countdown(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	d = d.Truncate(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	var s string
	switch {
	case h >= 48:
		s = fmt.Sprintf("%dd %dh", h/24, h%24)
	case h > 0:
		s = fmt.Sprintf("%dh %dm", h, m)
	default:
		s = fmt.Sprintf("%dm", m)
	}
	if neg {
		return "−" + s
	}
	return s
}

// ---- Queue and lists ----

type queueRow struct {
	triage.QueueItem
	Link     string
	Client   string
	Left     string
	Overdue  bool
	Severity string // translated
}

type queueData struct {
	Rows      []queueRow
	Open      []incidentRow
	CanWrite  bool
	Incidents []Option // open incidents, for "merge into"
}

type incidentRow struct {
	desk.Incident
	Clients  string
	Sev      string
	Status   string
	SLA      string
	Overdue  bool
	Category string
}

func (s *Server) incidentRows(v *view, rf *refs, list []desk.Incident) []incidentRow {
	now := time.Now()
	out := make([]incidentRow, 0, len(list))
	for i := range list {
		in := &list[i]
		row := incidentRow{Incident: *in, Clients: rf.clientNames(in.ClientIDs), Sev: v.T("incidents.sev." + in.Severity),
			Status: v.T("incidents.status." + in.Status), Category: in.Category}
		if in.Open() {
			for _, c := range s.incidents.Desk.SLAs().Countdowns(in, now) {
				if !c.Done {
					row.SLA = v.T("incidents.stage."+c.Stage) + " " + countdown(c.Left)
					row.Overdue = c.Left < 0
					break
				}
			}
		}
		out = append(out, row)
	}
	return out
}

func (s *Server) incidentQueue(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	ctx := r.Context()
	v := s.newView(r, "incidents.queue_title", nil)
	s.incidentsFlash(v, r)
	items, err := s.incidents.Desk.Queue(ctx, p, 200)
	if err != nil {
		return err
	}
	rf, err := s.loadRefs(ctx, scope(r))
	if err != nil {
		return err
	}
	d := &queueData{CanWrite: slices.Contains(incidentWriters, p.Role)}
	for _, it := range items {
		row := queueRow{QueueItem: it, Left: countdown(it.SLALeft), Overdue: it.SLALeft < 0, Severity: v.T("incidents.sev." + it.Severity)}
		if it.ClientID != 0 {
			row.Client = rf.clientName(it.ClientID)
		}
		switch it.Kind {
		case "report":
			row.Link = "/triage/reports/" + strconv.FormatInt(it.ID, 10)
		case "incident":
			row.Link = "/incidents/" + strconv.FormatInt(it.ID, 10)
		}
		d.Rows = append(d.Rows, row)
	}
	open, err := s.incidents.Desk.Incidents(ctx, p, store.IncidentFilter{Status: "open", Limit: 50})
	if err != nil {
		return err
	}
	d.Open = s.incidentRows(v, rf, open)
	d.Incidents = incidentOptions(open)
	v.D = d
	return s.render(w, http.StatusOK, "incident_queue", v)
}

func incidentOptions(list []desk.Incident) []Option {
	var out []Option
	for _, in := range list {
		if in.Open() {
			out = append(out, Option{Value: strconv.FormatInt(in.ID, 10), Label: in.Ref + " · " + in.Title})
		}
	}
	return out
}

type incidentListData struct {
	Open     []incidentRow
	Status   []Option
	Severity []Option
	Query    string
	Pager    pager
}

const incidentPageSize = 50

func (s *Server) incidentList(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	q := r.URL.Query()
	v := s.newView(r, "incidents.list_title", nil)
	v.Form = q
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = max(offset, 0)
	f := store.IncidentFilter{Status: q.Get("status"), Severity: q.Get("severity"), Query: strings.TrimSpace(q.Get("q")),
		Limit: incidentPageSize + 1, Offset: offset}
	if f.Status != "" && f.Status != "open" && !slices.Contains(desk.Statuses, f.Status) {
		f.Status = ""
	}
	if f.Severity != "" && !desk.ValidSeverity(f.Severity) {
		f.Severity = ""
	}
	list, err := s.incidents.Desk.Incidents(r.Context(), p, f)
	if err != nil {
		return err
	}
	rf, err := s.loadRefs(r.Context(), scope(r))
	if err != nil {
		return err
	}
	more := len(list) > incidentPageSize
	if more {
		list = list[:incidentPageSize]
	}
	d := &incidentListData{Open: s.incidentRows(v, rf, list), Query: f.Query, Severity: severityOptions(v, f.Severity, true)}
	d.Status = []Option{{Value: "", Label: v.T("common.all"), Selected: f.Status == ""}, {Value: "open", Label: v.T("incidents.open"), Selected: f.Status == "open"}}
	for _, st := range desk.Statuses {
		d.Status = append(d.Status, Option{Value: st, Label: v.T("incidents.status." + st), Selected: st == f.Status})
	}
	base := url.Values{"status": {f.Status}, "severity": {f.Severity}, "q": {f.Query}}
	d.Pager = pager{V: v, From: offset + 1, To: offset + len(list), Total: 0}
	if offset > 0 {
		base.Set("offset", strconv.Itoa(max(offset-incidentPageSize, 0)))
		d.Pager.Prev = "/incidents/all?" + base.Encode()
	}
	if more {
		base.Set("offset", strconv.Itoa(offset+incidentPageSize))
		d.Pager.Next = "/incidents/all?" + base.Encode()
	}
	if len(list) == 0 {
		d.Pager.From = 0
	}
	v.D = d
	return s.render(w, http.StatusOK, "incident_list", v)
}

// ---- New incident ----

type incidentFormData struct {
	Severity []Option
	Category []Option
	Clients  []Option
}

func (s *Server) incidentFormView(r *http.Request, v *view) error {
	rf, err := s.loadRefs(r.Context(), scope(r))
	if err != nil {
		return err
	}
	d := &incidentFormData{Severity: severityOptions(v, v.Val("severity"), false), Category: categoryOptions(v, v.Val("category"))}
	for _, c := range rf.clients {
		d.Clients = append(d.Clients, Option{Value: strconv.FormatInt(c.ID, 10), Label: c.Name, Selected: v.Checked("client_id", strconv.FormatInt(c.ID, 10))})
	}
	v.D = d
	return nil
}

func (s *Server) incidentNew(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "incidents.new_title", nil)
	v.Form.Set("severity", desk.SeverityMedium)
	if err := s.incidentFormView(r, v); err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "incident_new", v)
}

func formIDs(vals []string) []int64 {
	var out []int64
	for _, x := range vals {
		if id, err := strconv.ParseInt(x, 10, 64); err == nil && id > 0 {
			out = append(out, id)
		}
	}
	return out
}

func (s *Server) incidentCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	n := triage.NewIncident{Title: r.PostForm.Get("title"), Description: r.PostForm.Get("description"), Category: r.PostForm.Get("category"),
		Severity: r.PostForm.Get("severity"), ClientIDs: formIDs(r.PostForm["client_id"])}
	if r.PostForm.Get("own") == "1" {
		n.OwnerUserID = principal(r).UserID
	}
	in, err := s.incidents.Desk.Create(r.Context(), principal(r), n)
	if err != nil {
		v := s.newView(r, "incidents.new_title", nil)
		v.Form = r.PostForm
		if v.FormError = v.deskMessage(err); v.FormError == "" {
			return err
		}
		if err := s.incidentFormView(r, v); err != nil {
			return err
		}
		return s.render(w, http.StatusUnprocessableEntity, "incident_new", v)
	}
	return redirect(w, r, done("/incidents/"+strconv.FormatInt(in.ID, 10), "created"))
}

// ---- Incident page ----

type incidentPageData struct {
	*triage.Detail
	Row        incidentRow
	Clients    string
	CanWrite   bool
	SeeWho     bool
	Status     []Option
	Outcomes   []Option
	Severity   []Option
	Category   []Option
	ClientOpts []Option
	Owners     []Option
	MergeInto  []Option
	SLA        []slaRow
	Response   any
	ObsKinds   []string
}

type slaRow struct {
	Stage, Due, Left string
	Met, Breached    bool
	Done             bool
}

func (s *Server) incidentPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v := s.newView(r, "incidents.incident_title", nil)
	s.incidentsFlash(v, r)
	return s.renderIncident(w, r, v, id, http.StatusOK)
}

func (s *Server) renderIncident(w http.ResponseWriter, r *http.Request, v *view, id int64, status int) error {
	p := principal(r)
	ctx := r.Context()
	det, err := s.incidents.Desk.Detail(ctx, p, id)
	if err != nil {
		return err
	}
	rf, err := s.loadRefs(ctx, scope(r))
	if err != nil {
		return err
	}
	in := det.Incident
	d := &incidentPageData{Detail: det, Row: s.incidentRows(v, rf, []desk.Incident{*in})[0], Clients: rf.clientNames(in.ClientIDs),
		CanWrite: slices.Contains(incidentWriters, p.Role), SeeWho: triage.SecurityTeam(p), Status: statusOptions(v, in.Status),
		Outcomes: outcomeOptions(v), Severity: severityOptions(v, in.Severity, false), Category: categoryOptions(v, in.Category),
		ObsKinds: desk.ObservableKinds}
	for _, c := range rf.clients {
		d.ClientOpts = append(d.ClientOpts, Option{Value: strconv.FormatInt(c.ID, 10), Label: c.Name, Selected: slices.Contains(in.ClientIDs, c.ID)})
	}
	d.Owners = []Option{{Value: "0", Label: "—", Selected: in.OwnerUserID == 0}}
	if d.CanWrite {
		// Owners: active security officers and administrators who can
		// see the incident (every client, or one of its clients).
		active := true
		seen := map[int64]bool{}
		for _, role := range incidentWriters {
			users, _, err := s.store.Users(ctx, identity.UserFilter{Role: role, Active: &active, Limit: 500})
			if err != nil {
				return err
			}
			for _, u := range users {
				sees := u.AllClients
				for _, c := range in.ClientIDs {
					sees = sees || slices.Contains(u.ClientIDs, c)
				}
				if !sees || seen[u.ID] {
					continue
				}
				seen[u.ID] = true
				label := u.DisplayName
				if label == "" {
					label = u.Username
				}
				d.Owners = append(d.Owners, Option{Value: strconv.FormatInt(u.ID, 10), Label: label, Selected: in.OwnerUserID == u.ID})
			}
		}
		if in.OwnerUserID != 0 && !seen[in.OwnerUserID] {
			d.Owners = append(d.Owners, Option{Value: strconv.FormatInt(in.OwnerUserID, 10), Label: in.OwnerName, Selected: true})
		}
	}
	now := time.Now()
	for _, c := range det.SLA {
		d.SLA = append(d.SLA, slaRow{Stage: v.T("incidents.stage." + c.Stage), Due: c.Due.UTC().Format("2006-01-02 15:04 UTC"),
			Left: countdown(c.Due.Sub(now)), Met: c.Met, Breached: c.Breached, Done: c.Done})
	}
	if d.CanWrite && in.Open() {
		open, err := s.incidents.Desk.Incidents(ctx, p, store.IncidentFilter{Status: "open", Limit: 100})
		if err != nil {
			return err
		}
		for _, o := range incidentOptions(open) {
			if o.Value != strconv.FormatInt(in.ID, 10) {
				d.MergeInto = append(d.MergeInto, o)
			}
		}
	}
	if d.Response, err = s.incidentResponseSection(r, id); err != nil {
		return err
	}
	v.D = d
	return s.render(w, status, "incident_detail", v)
}

// incidentAction runs a POST action on incident {id}: success redirects to
// the incident page, a refused input re-renders it with the message.
func (s *Server) incidentAction(w http.ResponseWriter, r *http.Request, anchor string, fn func(p *identity.Principal, id int64) error) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	if err := fn(principal(r), id); err != nil {
		v := s.newView(r, "incidents.incident_title", nil)
		if v.FormError = v.deskMessage(err); v.FormError == "" {
			return err
		}
		return s.renderIncident(w, r, v, id, http.StatusUnprocessableEntity)
	}
	return redirect(w, r, done("/incidents/"+strconv.FormatInt(id, 10), "saved")+"#"+anchor)
}

func (s *Server) incidentEdit(w http.ResponseWriter, r *http.Request) error {
	return s.incidentAction(w, r, "edit", func(p *identity.Principal, id int64) error {
		f := r.PostForm
		title, desc, cat, sev := f.Get("title"), f.Get("description"), f.Get("category"), f.Get("severity")
		u := triage.Update{Title: &title, Description: &desc, Category: &cat, Severity: &sev}
		if o, err := strconv.ParseInt(f.Get("owner_user_id"), 10, 64); err == nil {
			u.OwnerUserID = &o
		}
		if a := strings.TrimSpace(f.Get("became_aware_at")); a != "" {
			t, err := time.Parse("2006-01-02T15:04", a)
			if err != nil {
				return fmt.Errorf("%w: became aware: use the date and time picker (UTC)", triage.ErrInvalid)
			}
			u.BecameAwareAt = &t
		}
		ids := formIDs(f["client_id"])
		u.ClientIDs = &ids
		_, err := s.incidents.Desk.Edit(r.Context(), p, id, u)
		return err
	})
}

func (s *Server) incidentStatus(w http.ResponseWriter, r *http.Request) error {
	return s.incidentAction(w, r, "status", func(p *identity.Principal, id int64) error {
		_, err := s.incidents.Desk.SetStatus(r.Context(), p, id, r.PostForm.Get("status"), r.PostForm.Get("outcome"), r.PostForm.Get("outcome_text"))
		return err
	})
}

func (s *Server) incidentNote(w http.ResponseWriter, r *http.Request) error {
	return s.incidentAction(w, r, "timeline", func(p *identity.Principal, id int64) error {
		return s.incidents.Desk.AddNote(r.Context(), p, id, r.PostForm.Get("text"))
	})
}

func (s *Server) incidentObservable(w http.ResponseWriter, r *http.Request) error {
	return s.incidentAction(w, r, "observables", func(p *identity.Principal, id int64) error {
		return s.incidents.Desk.AddObservable(r.Context(), p, id, desk.Observable{Kind: r.PostForm.Get("kind"), Value: r.PostForm.Get("value")})
	})
}

func subPathID(r *http.Request) (int64, error) { return pathID(r, "sub") }

func (s *Server) incidentObservableDelete(w http.ResponseWriter, r *http.Request) error {
	return s.incidentAction(w, r, "observables", func(p *identity.Principal, id int64) error {
		sub, err := subPathID(r)
		if err != nil {
			return err
		}
		return s.incidents.Desk.RemoveObservable(r.Context(), p, id, sub)
	})
}

func (s *Server) incidentTask(w http.ResponseWriter, r *http.Request) error {
	return s.incidentAction(w, r, "tasks", func(p *identity.Principal, id int64) error {
		return s.incidents.Desk.AddTask(r.Context(), p, id, r.PostForm.Get("title"))
	})
}

func (s *Server) incidentTaskToggle(w http.ResponseWriter, r *http.Request) error {
	return s.incidentAction(w, r, "tasks", func(p *identity.Principal, id int64) error {
		sub, err := subPathID(r)
		if err != nil {
			return err
		}
		return s.incidents.Desk.SetTaskDone(r.Context(), p, id, sub, r.PostForm.Get("done") == "1")
	})
}

func (s *Server) incidentAffected(w http.ResponseWriter, r *http.Request) error {
	return s.incidentAction(w, r, "affected", func(p *identity.Principal, id int64) error {
		ref, _ := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get("ref_id")), 10, 64)
		return s.incidents.Desk.AddAffected(r.Context(), p, id, desk.Affected{Kind: r.PostForm.Get("kind"), RefID: max(ref, 0), Label: r.PostForm.Get("label")})
	})
}

func (s *Server) incidentAffectedDelete(w http.ResponseWriter, r *http.Request) error {
	return s.incidentAction(w, r, "affected", func(p *identity.Principal, id int64) error {
		sub, err := subPathID(r)
		if err != nil {
			return err
		}
		return s.incidents.Desk.RemoveAffected(r.Context(), p, id, sub)
	})
}

func (s *Server) incidentLink(w http.ResponseWriter, r *http.Request) error {
	return s.incidentAction(w, r, "links", func(p *identity.Principal, id int64) error {
		ref, _ := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get("ref_id")), 10, 64)
		return s.incidents.Desk.AddLink(r.Context(), p, id, desk.Link{Kind: r.PostForm.Get("kind"), RefID: ref, Label: r.PostForm.Get("label")})
	})
}

func (s *Server) incidentLinkRemove(w http.ResponseWriter, r *http.Request) error {
	return s.incidentAction(w, r, "links", func(p *identity.Principal, id int64) error {
		ref, _ := strconv.ParseInt(r.PostForm.Get("ref_id"), 10, 64)
		return s.incidents.Desk.RemoveLink(r.Context(), p, id, r.PostForm.Get("kind"), ref)
	})
}

func (s *Server) incidentMerge(w http.ResponseWriter, r *http.Request) error {
	return s.incidentAction(w, r, "merge", func(p *identity.Principal, id int64) error {
		into, _ := strconv.ParseInt(r.PostForm.Get("incident_id"), 10, 64)
		return s.incidents.Desk.MergeIncident(r.Context(), p, id, into)
	})
}

// formFile reads an optional uploaded file (nil when none was sent).
func formFile(r *http.Request, field string) (*triage.Upload, error) {
	f, h, err := r.FormFile(field)
	if errors.Is(err, http.ErrMissingFile) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the file could not be read", triage.ErrInvalid)
	}
	defer f.Close()
	buf := make([]byte, 0, h.Size)
	tmp := make([]byte, 32<<10)
	for {
		n, err := f.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if len(buf) > desk.MaxFileBytes {
			return nil, fmt.Errorf("%w: the file is larger than %d MiB", triage.ErrInvalid, desk.MaxFileBytes>>20)
		}
		if err != nil {
			break
		}
	}
	if len(buf) == 0 {
		return nil, nil
	}
	return &triage.Upload{Name: h.Filename, ContentType: h.Header.Get("Content-Type"), Data: buf}, nil
}

func (s *Server) incidentEvidence(w http.ResponseWriter, r *http.Request) error {
	return s.incidentAction(w, r, "evidence", func(p *identity.Principal, id int64) error {
		u, err := formFile(r, "file")
		if err != nil {
			return err
		}
		if u == nil {
			return fmt.Errorf("%w: choose a file", triage.ErrInvalid)
		}
		_, err = s.incidents.Desk.AddEvidence(r.Context(), p, id, *u)
		return err
	})
}

func (s *Server) sendFile(w http.ResponseWriter, f *desk.File, data []byte) error {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", "attachment; filename=\""+strings.ReplaceAll(f.Name, `"`, "")+"\"")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, err := w.Write(data)
	if err != nil {
		return errAlreadyWritten{err}
	}
	return nil
}

func (s *Server) incidentEvidenceDownload(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sub, err := subPathID(r)
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
	return s.sendFile(w, f, data)
}

// ---- Triage: reports and alerts ----

type triageReportData struct {
	Report    *desk.Report
	Client    string
	Files     []desk.File
	SeeWho    bool
	CanWrite  bool
	Severity  []Option
	Category  []Option
	Incidents []Option
	Context   [][2]string
}

func (s *Server) triageReport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v := s.newView(r, "incidents.report_title", nil)
	return s.renderTriageReport(w, r, v, id, http.StatusOK)
}

func (s *Server) renderTriageReport(w http.ResponseWriter, r *http.Request, v *view, id int64, status int) error {
	p := principal(r)
	ctx := r.Context()
	rep, err := s.incidents.Desk.Report(ctx, p, id)
	if err != nil {
		return err
	}
	d := &triageReportData{Report: rep, SeeWho: triage.SecurityTeam(p), CanWrite: slices.Contains(incidentWriters, p.Role)}
	cat, sev := desk.ChoiceCategory(rep.Category)
	if rep.Channel == desk.ChannelEmail {
		cat = "phishing"
	}
	d.Severity, d.Category = severityOptions(v, sev, false), categoryOptions(v, cat)
	if rep.ClientID != 0 {
		rf, err := s.loadRefs(ctx, scope(r))
		if err != nil {
			return err
		}
		d.Client = rf.clientName(rep.ClientID)
	}
	if d.SeeWho {
		if d.Files, err = s.incidents.Desk.ReportFiles(ctx, p, id); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(rep.Context))
	for k := range rep.Context {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		d.Context = append(d.Context, [2]string{k, rep.Context[k]})
	}
	open, err := s.incidents.Desk.Incidents(ctx, p, store.IncidentFilter{Status: "open", Limit: 100})
	if err != nil {
		return err
	}
	d.Incidents = incidentOptions(open)
	v.D = d
	return s.render(w, status, "incident_report", v)
}

func (s *Server) triageReportFile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sub, err := subPathID(r)
	if err != nil {
		return err
	}
	f, data, err := s.incidents.Desk.File(r.Context(), principal(r), sub)
	if err != nil {
		return err
	}
	if (f.OwnerKind != "report" && f.OwnerKind != "mail") || f.OwnerID != id {
		return errNotFound
	}
	return s.sendFile(w, f, data)
}

func (s *Server) triageReportAction(w http.ResponseWriter, r *http.Request, fn func(p *identity.Principal, id int64) (string, error)) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	to, err := fn(principal(r), id)
	if err != nil {
		v := s.newView(r, "incidents.report_title", nil)
		if v.FormError = v.deskMessage(err); v.FormError == "" {
			return err
		}
		return s.renderTriageReport(w, r, v, id, http.StatusUnprocessableEntity)
	}
	return redirect(w, r, to)
}

func newIncidentFromForm(r *http.Request) triage.NewIncident {
	n := triage.NewIncident{Title: r.PostForm.Get("title"), Category: r.PostForm.Get("category"), Severity: r.PostForm.Get("severity")}
	if r.PostForm.Get("own") == "1" {
		n.OwnerUserID = principal(r).UserID
	}
	return n
}

func (s *Server) triageReportIncident(w http.ResponseWriter, r *http.Request) error {
	return s.triageReportAction(w, r, func(p *identity.Principal, id int64) (string, error) {
		in, err := s.incidents.Desk.IncidentFromReport(r.Context(), p, id, newIncidentFromForm(r))
		if err != nil {
			return "", err
		}
		return done("/incidents/"+strconv.FormatInt(in.ID, 10), "created"), nil
	})
}

func (s *Server) triageReportMerge(w http.ResponseWriter, r *http.Request) error {
	return s.triageReportAction(w, r, func(p *identity.Principal, id int64) (string, error) {
		into, _ := strconv.ParseInt(r.PostForm.Get("incident_id"), 10, 64)
		if err := s.incidents.Desk.MergeReport(r.Context(), p, id, into); err != nil {
			return "", err
		}
		return done("/incidents/"+strconv.FormatInt(into, 10), "merged"), nil
	})
}

func (s *Server) triageReportDismiss(w http.ResponseWriter, r *http.Request) error {
	return s.triageReportAction(w, r, func(p *identity.Principal, id int64) (string, error) {
		if err := s.incidents.Desk.DismissReport(r.Context(), p, id, r.PostForm.Get("reason")); err != nil {
			return "", err
		}
		return done("/incidents", "dismissed"), nil
	})
}

// triageAlertAction runs an action on an alert; refused input goes back to
// the queue with the message.
func (s *Server) triageAlertAction(w http.ResponseWriter, r *http.Request, fn func(p *identity.Principal, id int64) (string, error)) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	to, err := fn(principal(r), id)
	if err != nil {
		v := s.newView(r, "incidents.queue_title", nil)
		msg := v.deskMessage(err)
		if msg == "" {
			return err
		}
		return &httpError{status: http.StatusUnprocessableEntity, key: "incidents.err.refused", args: []any{msg}}
	}
	return redirect(w, r, to)
}

func (s *Server) triageAlertIncident(w http.ResponseWriter, r *http.Request) error {
	return s.triageAlertAction(w, r, func(p *identity.Principal, id int64) (string, error) {
		in, err := s.incidents.Desk.IncidentFromAlert(r.Context(), p, id, newIncidentFromForm(r))
		if err != nil {
			return "", err
		}
		return done("/incidents/"+strconv.FormatInt(in.ID, 10), "created"), nil
	})
}

func (s *Server) triageAlertMerge(w http.ResponseWriter, r *http.Request) error {
	return s.triageAlertAction(w, r, func(p *identity.Principal, id int64) (string, error) {
		into, _ := strconv.ParseInt(r.PostForm.Get("incident_id"), 10, 64)
		if err := s.incidents.Desk.MergeAlert(r.Context(), p, id, into); err != nil {
			return "", err
		}
		return done("/incidents/"+strconv.FormatInt(into, 10), "merged"), nil
	})
}

func (s *Server) triageAlertDismiss(w http.ResponseWriter, r *http.Request) error {
	return s.triageAlertAction(w, r, func(p *identity.Principal, id int64) (string, error) {
		if err := s.incidents.Desk.DismissAlert(r.Context(), p, id, r.PostForm.Get("reason")); err != nil {
			return "", err
		}
		return done("/incidents", "dismissed"), nil
	})
}

// ---- Playbooks ----

type playbookRow struct {
	desk.Playbook
	YAML    string
	History []store.PlaybookVersion
}

type playbookData struct {
	Books    []playbookRow
	CanWrite bool
}

func (s *Server) playbookList(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "incidents.playbooks_title", nil)
	s.incidentsFlash(v, r)
	return s.renderPlaybooks(w, r, v, http.StatusOK)
}

func (s *Server) renderPlaybooks(w http.ResponseWriter, r *http.Request, v *view, status int) error {
	ctx := r.Context()
	books, err := s.incidents.Desk.Playbooks(ctx)
	if err != nil {
		return err
	}
	d := &playbookData{CanWrite: slices.Contains(incidentWriters, principal(r).Role)}
	for _, b := range books {
		y, err := s.incidents.Desk.PlaybookYAML(ctx, b.Key)
		if err != nil {
			return err
		}
		h, err := s.incidents.Desk.PlaybookHistory(ctx, b.Key)
		if err != nil {
			return err
		}
		if v.Val("key") == b.Key && v.Val("yaml") != "" {
			y = v.Val("yaml")
		}
		d.Books = append(d.Books, playbookRow{Playbook: b, YAML: y, History: h})
	}
	v.D = d
	return s.render(w, status, "incident_playbooks", v)
}

func (s *Server) playbookSave(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	body := strings.ReplaceAll(r.PostForm.Get("yaml"), "\r\n", "\n")
	p, err := s.incidents.Desk.SavePlaybook(r.Context(), principal(r), body)
	if err != nil {
		v := s.newView(r, "incidents.playbooks_title", nil)
		v.Form = r.PostForm
		if v.FormError = v.deskMessage(err); v.FormError == "" {
			return err
		}
		return s.renderPlaybooks(w, r, v, http.StatusUnprocessableEntity)
	}
	return redirect(w, r, done("/triage/playbooks", "saved")+"#pb-"+p.Key)
}

var reportRefRe = regexp.MustCompile(`^R-[0-9]{4}-[0-9]{6}$`)
