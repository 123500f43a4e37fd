package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/dataprotection"
	"github.com/custodia/custodia/internal/dataprotection/discovery"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
)

// DataProtectionDeps are the services the dataprotection pages need; with them unset the
// module registers no pages.
type DataProtectionDeps struct {
	Service *discovery.Service
}

var (
	// dpReaders see discovery locations, runs and alerts.
	dpReaders = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}
	// dpManagers add and change locations, scan now and use "try it".
	dpManagers = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO}
)

// dpTryMaxBytes caps the text pasted into "try it".
const dpTryMaxBytes = 64 << 10

// dataProtectionRoutes lists the dataprotection module's console routes.
func (s *Server) dataProtectionRoutes() []route {
	if s.dataprotection.Service == nil {
		return nil
	}
	read := authz.Roles(dpReaders...).WithClientScoped()
	manage := authz.Roles(dpManagers...).WithClientScoped()
	return []route{
		{"GET /dataprotection", read, s.dpLocations},
		{"GET /dataprotection/locations/new", manage, s.dpLocationNew},
		{"POST /dataprotection/locations", manage, s.dpLocationCreate},
		{"GET /dataprotection/locations/{id}", read, s.dpLocation},
		{"POST /dataprotection/locations/{id}", manage, s.dpLocationUpdate},
		{"POST /dataprotection/locations/{id}/scan", manage, s.dpLocationScan},
		{"POST /dataprotection/locations/{id}/delete", manage, s.dpLocationDelete},
		{"GET /dataprotection/runs/{id}", read, s.dpRun},
		{"GET /dataprotection/try", authz.Roles(dpManagers...), s.dpTry},
		{"POST /dataprotection/try", authz.Roles(dpManagers...), s.dpTryPost},
	}
}

// dpCount is one entity's count, for tables.
type dpCount struct {
	Entity string
	N      int64
}

// dpCounts sorts counts: card data first, then by count.
func dpCounts(c map[string]int64) []dpCount {
	out := make([]dpCount, 0, len(c))
	for e, n := range c {
		out = append(out, dpCount{e, n})
	}
	rank := func(e string) int {
		switch e {
		case string(dataprotection.CreditCard), string(dataprotection.CardCVV):
			return 0
		}
		return 1
	}
	slices.SortFunc(out, func(a, b dpCount) int {
		if ra, rb := rank(a.Entity), rank(b.Entity); ra != rb {
			return ra - rb
		}
		if a.N != b.N {
			return int(b.N - a.N)
		}
		return strings.Compare(a.Entity, b.Entity)
	})
	return out
}

// dpLocationRow is a location with its latest run for the list.
type dpLocationRow struct {
	store.DPLocation
	Run    *store.DPRun
	Counts []dpCount
	Card   bool // the latest run found card data
}

type dpLocationsData struct {
	Rows    []dpLocationRow
	Alerts  []alert.Alert
	Notice  string
	CanEdit bool
	// Triage links to the incident module's queue, where alerts are handled.
	Triage string
}

func (s *Server) dpNotice(v *view, r *http.Request) string {
	switch ok := r.URL.Query().Get("ok"); ok {
	case "created", "saved", "deleted", "scan":
		return v.T("dataprotection.ok." + ok)
	}
	return ""
}

func (s *Server) dpLocations(w http.ResponseWriter, r *http.Request) error {
	svc := s.dataprotection.Service
	p := principal(r)
	locs, err := svc.Locations(r.Context(), p)
	if err != nil {
		return err
	}
	latest, err := svc.LatestRuns(r.Context(), p)
	if err != nil {
		return err
	}
	d := &dpLocationsData{}
	for _, l := range locs {
		row := dpLocationRow{DPLocation: l}
		if run, ok := latest[l.ID]; ok {
			row.Run = &run
			row.Counts = dpCounts(run.Counts)
			row.Card = run.Counts[string(dataprotection.CreditCard)]+run.Counts[string(dataprotection.CardCVV)] > 0
		}
		d.Rows = append(d.Rows, row)
	}
	if d.Alerts, err = s.store.Alerts(r.Context(), scope(r), alert.Filter{Source: discovery.AlertSource, Status: alert.StatusOpen, Limit: 100}); err != nil {
		return err
	}
	v := s.newView(r, "dataprotection.title", d)
	d.Notice = s.dpNotice(v, r)
	d.CanEdit = slices.Contains(dpManagers, p.Role)
	for _, m := range s.modules {
		if m.Key == ModuleIncidents && slices.Contains(m.Roles, p.Role) {
			d.Triage = m.Path
		}
	}
	return s.render(w, http.StatusOK, "dataprotection_locations", v)
}

// dpLocationForm is the add/edit form.
type dpLocationForm struct {
	Location store.DPLocation
	New      bool
	ReadOnly bool
	Clients  []Option
	Roots    string
	Interval string // minutes
}

func (s *Server) dpClientOptions(r *http.Request, selected int64) ([]Option, error) {
	cs, err := s.store.Clients(r.Context(), org.ClientFilter{Scope: scope(r), Page: org.Page{Limit: org.MaxLimit}})
	if err != nil {
		return nil, err
	}
	var opts []Option
	if principal(r).AllClients {
		opts = append(opts, Option{Value: "", Label: "—", Selected: selected == 0})
	}
	for _, c := range cs {
		opts = append(opts, Option{Value: strconv.FormatInt(c.ID, 10), Label: c.Name, Selected: c.ID == selected})
	}
	return opts, nil
}

func (s *Server) dpForm(r *http.Request, l store.DPLocation, isNew bool) (*dpLocationForm, error) {
	opts, err := s.dpClientOptions(r, l.ClientID)
	if err != nil {
		return nil, err
	}
	cfg := s.dataprotection.Service.Config()
	f := &dpLocationForm{Location: l, New: isNew, ReadOnly: l.ManagedBy != "" && l.ManagedBy != store.DPManagedConsole, Clients: opts,
		Roots: strings.Join(cfg.Roots(), ", ")}
	if l.IntervalSeconds > 0 {
		f.Interval = strconv.FormatInt(l.IntervalSeconds/60, 10)
	}
	return f, nil
}

func (s *Server) dpLocationNew(w http.ResponseWriter, r *http.Request) error {
	f, err := s.dpForm(r, store.DPLocation{Enabled: true, IntervalSeconds: int64(s.dataprotection.Service.Config().Interval.Seconds())}, true)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "dataprotection_location_form", s.newView(r, "dataprotection.new", &dpLocationData{Form: f, CanEdit: true}))
}

// dpInput reads the location form.
func dpInput(r *http.Request) (discovery.LocationInput, store.DPLocation) {
	in := discovery.LocationInput{Name: r.PostForm.Get("name"), Path: r.PostForm.Get("path"), CDE: r.PostForm.Get("cde") == "on"}
	in.ClientID, _ = strconv.ParseInt(r.PostForm.Get("client_id"), 10, 64)
	in.IntervalMinutes, _ = strconv.ParseInt(strings.TrimSpace(r.PostForm.Get("interval_minutes")), 10, 64)
	if r.PostForm.Get("interval_minutes") != "" && in.IntervalMinutes == 0 {
		in.IntervalMinutes = -1 // not a number: refused by validation
	}
	enabled := r.PostForm.Get("enabled") == "on"
	in.Enabled = &enabled
	l := store.DPLocation{Name: in.Name, Path: in.Path, ClientID: in.ClientID, CDE: in.CDE, Enabled: enabled, IntervalSeconds: in.IntervalMinutes * 60}
	return in, l
}

// dpFieldErrors shows the service's validation errors next to their fields.
func (v *view) dpFieldErrors(err error) bool {
	var fe discovery.FieldErrors
	if !errors.As(err, &fe) {
		return false
	}
	for _, e := range fe {
		if _, dup := v.Errs[e.Field]; !dup {
			v.Errs[e.Field] = v.T("dataprotection.err." + e.Field)
		}
	}
	v.FormError = v.T("common.form_errors")
	return true
}

func (s *Server) dpLocationCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	in, l := dpInput(r)
	created, err := s.dataprotection.Service.CreateLocation(r.Context(), principal(r), in)
	if err != nil {
		f, ferr := s.dpForm(r, l, true)
		if ferr != nil {
			return ferr
		}
		f.Interval = r.PostForm.Get("interval_minutes")
		v := s.newView(r, "dataprotection.new", &dpLocationData{Form: f, CanEdit: true})
		if v.dpFieldErrors(err) {
			return s.render(w, http.StatusUnprocessableEntity, "dataprotection_location_form", v)
		}
		return err
	}
	return redirect(w, r, "/dataprotection/locations/"+strconv.FormatInt(created.ID, 10)+"?ok=created")
}

type dpLocationData struct {
	Form    *dpLocationForm
	Run     *store.DPRun
	Counts  []dpCount
	Files   []dpFileRow
	Runs    []store.DPRun
	Notice  string
	CanEdit bool
}

type dpFileRow struct {
	store.DPRunFile
	Counts []dpCount
}

func dpFileRows(files []store.DPRunFile) []dpFileRow {
	out := make([]dpFileRow, len(files))
	for i, f := range files {
		out[i] = dpFileRow{DPRunFile: f, Counts: dpCounts(f.Counts)}
	}
	return out
}

func (s *Server) dpLocation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.dpLocationPage(w, r, id, http.StatusOK, nil)
}

// dpLocationPage renders a location: facts, latest run, files with
// findings, history, and the edit form (with errs when a change failed).
func (s *Server) dpLocationPage(w http.ResponseWriter, r *http.Request, id int64, status int, formErr error) error {
	svc := s.dataprotection.Service
	p := principal(r)
	l, err := svc.Location(r.Context(), p, id)
	if err != nil {
		return err
	}
	shown := *l
	if formErr != nil {
		_, sub := dpInput(r)
		sub.ID, sub.ManagedBy, sub.LastRunAt = l.ID, l.ManagedBy, l.LastRunAt
		shown = sub
	}
	f, err := s.dpForm(r, shown, false)
	if err != nil {
		return err
	}
	d := &dpLocationData{Form: f, CanEdit: slices.Contains(dpManagers, p.Role)}
	if d.Runs, err = svc.Runs(r.Context(), p, id, 20, 0); err != nil {
		return err
	}
	if len(d.Runs) > 0 {
		d.Run = &d.Runs[0]
		d.Counts = dpCounts(d.Run.Counts)
		files, err := svc.RunFiles(r.Context(), p, d.Run.ID, 200, 0)
		if err != nil {
			return err
		}
		d.Files = dpFileRows(files)
	}
	v := s.newView(r, "dataprotection.location", d)
	d.Notice = s.dpNotice(v, r)
	if formErr != nil {
		if formErr == discovery.ErrReadOnly {
			v.FormError = v.T("dataprotection.read_only")
		} else if !v.dpFieldErrors(formErr) {
			return formErr
		}
		if f.Interval == "" {
			f.Interval = r.PostForm.Get("interval_minutes")
		}
	}
	return s.render(w, status, "dataprotection_location", v)
}

func (s *Server) dpLocationUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	in, _ := dpInput(r)
	if _, err := s.dataprotection.Service.UpdateLocation(r.Context(), principal(r), id, in); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		return s.dpLocationPage(w, r, id, http.StatusUnprocessableEntity, err)
	}
	return redirect(w, r, "/dataprotection/locations/"+strconv.FormatInt(id, 10)+"?ok=saved")
}

func (s *Server) dpLocationScan(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.dataprotection.Service.ScanNow(r.Context(), principal(r), id); err != nil {
		return err
	}
	return redirect(w, r, "/dataprotection/locations/"+strconv.FormatInt(id, 10)+"?ok=scan")
}

func (s *Server) dpLocationDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.dataprotection.Service.DeleteLocation(r.Context(), principal(r), id); err != nil {
		if errors.Is(err, discovery.ErrReadOnly) {
			return &httpError{status: http.StatusConflict, key: "dataprotection.read_only"}
		}
		return err
	}
	return redirect(w, r, "/dataprotection?ok=deleted")
}

type dpRunData struct {
	Run      *store.DPRun
	Location *store.DPLocation
	Counts   []dpCount
	Files    []dpFileRow
}

func (s *Server) dpRun(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	svc := s.dataprotection.Service
	p := principal(r)
	run, err := svc.RunByID(r.Context(), p, id)
	if err != nil {
		return err
	}
	loc, err := svc.Location(r.Context(), p, run.LocationID)
	if err != nil {
		return err
	}
	files, err := svc.RunFiles(r.Context(), p, id, 1000, 0)
	if err != nil {
		return err
	}
	d := &dpRunData{Run: run, Location: loc, Counts: dpCounts(run.Counts), Files: dpFileRows(files)}
	return s.render(w, http.StatusOK, "dataprotection_run", s.newView(r, "dataprotection.run", d))
}

// dpTryData is the "try it" page: nothing is stored.
type dpTryData struct {
	Text       string
	Redact     bool
	FailClosed bool
	Operators  []Option
	Langs      []Option
	Findings   []discovery.Finding
	Counts     []dpCount
	Redacted   string
	Done       bool
}

func dpTryOptions(v *view, d *dpTryData, op, lang string) {
	for _, k := range dataprotection.OperatorKinds() {
		d.Operators = append(d.Operators, Option{Value: k, Label: v.T("dataprotection.op." + k), Selected: k == op})
	}
	for _, l := range []string{"auto", "es", "en"} {
		d.Langs = append(d.Langs, Option{Value: l, Label: v.T("dataprotection.lang." + l), Selected: l == lang})
	}
}

func (s *Server) dpTry(w http.ResponseWriter, r *http.Request) error {
	d := &dpTryData{}
	v := s.newView(r, "dataprotection.try", d)
	dpTryOptions(v, d, dataprotection.OpMask, "auto")
	return s.render(w, http.StatusOK, "dataprotection_try", v)
}

func (s *Server) dpTryPost(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, dpTryMaxBytes+8<<10)
	if err := parseForm(r); err != nil {
		return err
	}
	text, op, lang := r.PostForm.Get("text"), r.PostForm.Get("operator"), r.PostForm.Get("lang")
	d := &dpTryData{Text: text, Redact: r.PostForm.Get("action") == "redact", FailClosed: r.PostForm.Get("fail_closed") == "on"}
	v := s.newView(r, "dataprotection.try", d)
	dpTryOptions(v, d, op, lang)
	status := http.StatusOK
	switch {
	case strings.TrimSpace(text) == "":
		v.Errs["text"] = v.T("dataprotection.err.text")
		status = http.StatusUnprocessableEntity
	case len(text) > dpTryMaxBytes:
		v.Errs["text"] = v.T("dataprotection.err.text_size", dpTryMaxBytes>>10)
		status = http.StatusUnprocessableEntity
	default:
		req := discovery.Request{Texts: []string{text}, ScanOptions: discovery.ScanOptions{Lang: lang, FailClosed: d.FailClosed}}
		if d.Redact {
			req.Operator = op
		}
		res, err := s.dataprotection.Service.Process(r.Context(), req, d.Redact)
		if err != nil {
			var ie *discovery.InputError
			if !errors.As(err, &ie) {
				return err
			}
			v.Errs[ie.Field] = v.T("dataprotection.err." + ie.Field)
			v.FormError = v.T("common.form_errors")
			status = http.StatusUnprocessableEntity
			break
		}
		op := ""
		action := "dataprotection.scan_text"
		if d.Redact {
			op, action = req.Operator, "dataprotection.redact_text"
			if op == "" {
				op = dataprotection.OpRedact
			}
		}
		if err := s.store.Audit(r.Context(), audit.Record{Action: action, ObjectType: "dataprotection", ObjectID: "console",
			Detail: res.AuditDetail(op)}); err != nil {
			return err
		}
		d.Done, d.Findings = true, res.Findings
		c := map[string]int64{}
		for e, n := range res.Counts {
			c[e] = int64(n)
		}
		d.Counts = dpCounts(c)
		if d.Redact {
			d.Redacted = res.Redacted[0]
		}
	}
	return s.render(w, status, "dataprotection_try", v)
}

// dpRunView feeds the "dp_run_facts" partial.
type dpRunView struct {
	V   *view
	Run *store.DPRun
}

// DPRun feeds the "dp_run_facts" partial.
func (v *view) DPRun(run *store.DPRun) dpRunView { return dpRunView{V: v, Run: run} }

// dpFilesView feeds the "dp_files" partial.
type dpFilesView struct {
	V     *view
	Files []dpFileRow
}

// DPFiles feeds the "dp_files" partial.
func (v *view) DPFiles(files []dpFileRow) dpFilesView { return dpFilesView{V: v, Files: files} }
