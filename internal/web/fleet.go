package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/fleet"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
)

// FleetDeps are the services the fleet pages need; with them unset the
// module registers no pages.
type FleetDeps struct {
	Service *fleet.Service
}

var (
	fleetReaders  = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleAuditor, identity.RoleSupervisor}
	fleetManagers = []identity.Role{identity.RoleAdmin, identity.RoleSecurity}
	fleetAuditors = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleAuditor}
)

const fleetPageSize = 50

// fleetRoutes lists the fleet module's console routes.
func (s *Server) fleetRoutes() []route {
	if s.fleet.Service == nil {
		return nil
	}
	pol := fleetPol
	return append([]route{
		{"GET /fleet", pol(fleetReaders), s.fleetDevices},
		{"GET /fleet/devices.csv", pol(fleetReaders), s.fleetDevicesCSV},
		{"GET /fleet/devices/{id}", pol(fleetReaders), s.fleetDevice},
		{"POST /fleet/devices/{id}/revoke", pol(fleetManagers), s.fleetDeviceRevoke},
		{"POST /fleet/devices/{id}/owner", pol(fleetManagers), s.fleetDeviceOwner},
		{"GET /fleet/checks", pol(fleetReaders), s.fleetChecks},
		{"GET /fleet/check", pol(fleetReaders), s.fleetCheck},
		{"GET /fleet/check.csv", pol(fleetReaders), s.fleetCheckCSV},
		{"GET /fleet/exceptions", pol(fleetReaders), s.fleetExceptions},
		{"POST /fleet/exceptions", pol(fleetManagers), s.fleetExceptionCreate},
		{"POST /fleet/exceptions/{id}/revoke", pol(fleetManagers), s.fleetExceptionRevoke},
		{"GET /fleet/secrets", pol(fleetAuditors), s.fleetSecrets},
		{"POST /fleet/secrets", pol(fleetManagers), s.fleetSecretCreate},
		{"POST /fleet/secrets/{id}/revoke", pol(fleetManagers), s.fleetSecretRevoke},
	}, s.fleetPolicyRoutes()...)
}

// fleetNotice translates the ?ok= notice of a page after a POST.
func fleetNotice(v *view, r *http.Request) string {
	switch ok := r.URL.Query().Get("ok"); ok {
	case "revoked", "exception", "exception_revoked", "secret_revoked", "owner", "policy_created", "policy_deleted":
		return v.T("fleet.ok." + ok)
	}
	return ""
}

type fleetDevicesData struct {
	Rows    []fleet.DeviceRow
	Notice  string
	Query   string
	Check   string
	Clients []Option
	Sites   []Option
	Teams   []Option
	OSes    []Option
	States  []Option
	CSV     string
	Pager   pager
}

func fleetFilter(q url.Values) store.FleetDeviceFilter {
	f := store.FleetDeviceFilter{Query: strings.TrimSpace(q.Get("q")), ClientID: queryID(q, "client_id"), SiteID: queryID(q, "site_id"),
		TeamID: queryID(q, "team_id"), FailingCheck: strings.TrimSpace(q.Get("failing_check")), FailingPolicy: strings.TrimSpace(q.Get("failing_policy"))}
	switch q.Get("os") {
	case "linux", "windows", "darwin":
		f.OS = q.Get("os")
	}
	switch q.Get("state") {
	case "stale":
		f.Stale = true
	case "fresh":
		f.Fresh = true
	case "revoked":
		t := true
		f.Revoked = &t
	}
	if len(f.Query) > 200 {
		f.Query = f.Query[:200]
	}
	return f
}

func (s *Server) fleetDevices(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := fleetFilter(q)
	offset := queryOffset(q)
	f.Limit, f.Offset = fleetPageSize+1, offset
	rows, err := s.fleet.Service.Devices(r.Context(), scope(r), f)
	if err != nil {
		return err
	}
	rf, err := s.loadRefs(r.Context(), scope(r))
	if err != nil {
		return err
	}
	d := &fleetDevicesData{Query: f.Query, Check: f.FailingCheck}
	v := s.newView(r, "fleet.title", d)
	d.Notice = fleetNotice(v, r)
	d.Clients = rf.clientOptions(v.T("fleet.any"), f.ClientID)
	d.Sites = rf.siteOptions(v.T("fleet.any"), f.SiteID)
	d.Teams = rf.teamOptions(v.T("fleet.any"), f.TeamID)
	d.OSes = []Option{{Value: "", Label: v.T("fleet.any")}}
	for _, o := range []string{"windows", "darwin", "linux"} {
		d.OSes = append(d.OSes, Option{Value: o, Label: v.T("fleet.os." + o), Selected: f.OS == o})
	}
	d.States = []Option{{Value: "", Label: v.T("fleet.any")}}
	for _, st := range []string{"fresh", "stale", "revoked"} {
		d.States = append(d.States, Option{Value: st, Label: v.T("fleet.state." + st), Selected: q.Get("state") == st})
	}
	more := len(rows) > fleetPageSize
	if more {
		rows = rows[:fleetPageSize]
	}
	d.Rows = rows
	d.Pager = pageLinks(v, "/fleet", q, offset, fleetPageSize, len(rows), 0)
	if !more {
		d.Pager.Next = ""
	}
	qq := url.Values{}
	for k, vs := range q {
		if k != "offset" && k != "ok" {
			qq[k] = vs
		}
	}
	d.CSV = "/fleet/devices.csv"
	if len(qq) > 0 {
		d.CSV += "?" + qq.Encode()
	}
	return s.render(w, http.StatusOK, "fleet_devices", v)
}

func (s *Server) fleetDevicesCSV(w http.ResponseWriter, r *http.Request) error {
	f := fleetFilter(r.URL.Query())
	f.Limit = 100000
	rows, err := s.fleet.Service.Devices(r.Context(), scope(r), f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="devices.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := fleet.WriteDevicesCSV(w, rows); err != nil {
		return errAlreadyWritten{err}
	}
	return nil
}

type fleetResultRow struct {
	store.FleetResult
	Evidence []fleetEvidence
}

type fleetEvidence struct {
	Rule, Target, Observed, Expected, Result string
}

func fleetEvidenceOf(raw string) []fleetEvidence {
	var out []fleetEvidence
	var items []map[string]any
	if err := json.Unmarshal([]byte(raw), &items); err != nil {
		return nil
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	for _, m := range items {
		out = append(out, fleetEvidence{Rule: str(m, "rule"), Target: str(m, "target"), Observed: str(m, "observed"), Expected: str(m, "expected"), Result: str(m, "result")})
	}
	return out
}

type fleetDeviceData struct {
	*fleet.DeviceDetail
	Rows    []fleetResultRow
	Notice  string
	Now     time.Time
	Expires string // default expiry for a new exception (date)
	// People are the owner choices: the active people of the device's team.
	People []Option
}

func (s *Server) fleetDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	det, err := s.fleet.Service.Device(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	d := &fleetDeviceData{DeviceDetail: det, Now: s.now(), Expires: s.now().Add(30 * 24 * time.Hour).Format("2006-01-02")}
	for _, res := range det.Results {
		d.Rows = append(d.Rows, fleetResultRow{FleetResult: res, Evidence: fleetEvidenceOf(res.Evidence)})
	}
	v := s.newView(r, "fleet.device.title", d)
	d.Notice = fleetNotice(v, r)
	if det.Device.TeamID != 0 && v.Can("admin", "security") {
		active := true
		people, _, err := s.store.People(r.Context(), org.PersonFilter{Scope: scope(r), TeamID: det.Device.TeamID, Active: &active, Page: org.Page{Limit: 500}})
		if err != nil {
			return err
		}
		d.People = []Option{{Value: "0", Label: v.T("fleet.none")}}
		for _, p := range people {
			d.People = append(d.People, Option{Value: itoa64(p.ID), Label: p.FullName + " (" + p.EmployeeID + ")", Selected: p.ID == det.Device.PersonID})
		}
	}
	return s.render(w, http.StatusOK, "fleet_device", v)
}

func (s *Server) fleetDeviceRevoke(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.fleet.Service.Revoke(r.Context(), scope(r), id); err != nil {
		return err
	}
	return redirect(w, r, "/fleet/devices/"+itoa64(id)+"?ok=revoked")
}

// fleetDeviceOwner sets the device's owner (a person in scope).
func (s *Server) fleetDeviceOwner(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	var person int64
	var perr error
	if v := strings.TrimSpace(r.PostForm.Get("person_id")); v != "" {
		person, perr = strconv.ParseInt(v, 10, 64)
	}
	if perr != nil || person < 0 {
		return &httpError{status: http.StatusUnprocessableEntity, key: "error.validation"}
	}
	if err := s.fleet.Service.SetOwner(r.Context(), scope(r), id, person); err != nil {
		if errors.Is(err, fleet.ErrUnknownPerson) {
			return &httpError{status: http.StatusUnprocessableEntity, key: "error.validation"}
		}
		return err
	}
	return redirect(w, r, "/fleet/devices/"+itoa64(id)+"?ok=owner")
}

type fleetChecksData struct {
	Checks []store.FleetCheckSummary
}

func (s *Server) fleetChecks(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.store.FleetChecks(r.Context(), scope(r))
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "fleet_checks", s.newView(r, "fleet.checks.title", &fleetChecksData{Checks: cs}))
}

type fleetCheckData struct {
	Policy, CheckID, Result string
	Rows                    []store.FleetResult
	Results                 []Option
	CSV                     string
	Pager                   pager
}

func fleetCheckFilter(q url.Values) store.FleetCheckFilter {
	f := store.FleetCheckFilter{Policy: strings.TrimSpace(q.Get("policy")), CheckID: strings.TrimSpace(q.Get("check_id"))}
	switch q.Get("result") {
	case "passed", "failed", "not_applicable", "error":
		f.Result = q.Get("result")
	}
	return f
}

func (s *Server) fleetCheck(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := fleetCheckFilter(q)
	if f.CheckID == "" || len(f.CheckID) > 256 || len(f.Policy) > 256 {
		return &httpError{status: http.StatusNotFound, key: "error.not_found"}
	}
	offset := queryOffset(q)
	f.Limit, f.Offset = fleetPageSize+1, offset
	rows, err := s.fleet.Service.CheckView(r.Context(), scope(r), f)
	if err != nil {
		return err
	}
	d := &fleetCheckData{Policy: f.Policy, CheckID: f.CheckID, Result: f.Result}
	v := s.newView(r, "fleet.check.title", d)
	d.Results = []Option{{Value: "", Label: v.T("fleet.any")}}
	for _, res := range []string{"failed", "passed", "not_applicable", "error"} {
		d.Results = append(d.Results, Option{Value: res, Label: v.T("fleet.result." + res), Selected: f.Result == res})
	}
	more := len(rows) > fleetPageSize
	if more {
		rows = rows[:fleetPageSize]
	}
	d.Rows = rows
	d.Pager = pageLinks(v, "/fleet/check", q, offset, fleetPageSize, len(rows), 0)
	if !more {
		d.Pager.Next = ""
	}
	d.CSV = "/fleet/check.csv?" + url.Values{"policy": {f.Policy}, "check_id": {f.CheckID}, "result": {f.Result}}.Encode()
	return s.render(w, http.StatusOK, "fleet_check", v)
}

func (s *Server) fleetCheckCSV(w http.ResponseWriter, r *http.Request) error {
	f := fleetCheckFilter(r.URL.Query())
	if f.CheckID == "" || len(f.CheckID) > 256 {
		return &httpError{status: http.StatusNotFound, key: "error.not_found"}
	}
	f.Limit = 100000
	rows, err := s.fleet.Service.CheckView(r.Context(), scope(r), f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="check.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := fleet.WriteCheckCSV(w, rows); err != nil {
		return errAlreadyWritten{err}
	}
	return nil
}

type fleetExceptionsData struct {
	Active, Expired []store.FleetException
	Notice          string
	Scopes          []Option
	Clients         []Option
	Teams           []Option
	Expires         string
}

func (s *Server) fleetExceptionsView(r *http.Request) (*view, *fleetExceptionsData, error) {
	now := s.now()
	act, err := s.store.FleetExceptions(r.Context(), scope(r), store.FleetExceptionFilter{Active: true, Now: now, Limit: 1000})
	if err != nil {
		return nil, nil, err
	}
	exp, err := s.store.FleetExceptions(r.Context(), scope(r), store.FleetExceptionFilter{Expired: true, Now: now, Limit: 200})
	if err != nil {
		return nil, nil, err
	}
	rf, err := s.loadRefs(r.Context(), scope(r))
	if err != nil {
		return nil, nil, err
	}
	d := &fleetExceptionsData{Active: act, Expired: exp, Expires: now.Add(30 * 24 * time.Hour).Format("2006-01-02")}
	v := s.newView(r, "fleet.exceptions.title", d)
	d.Notice = fleetNotice(v, r)
	for _, sc := range []string{"device", "team", "client"} {
		d.Scopes = append(d.Scopes, Option{Value: sc, Label: v.T("fleet.scope." + sc)})
	}
	d.Clients = rf.clientOptions("", 0)
	d.Teams = rf.teamOptions("", 0)
	return v, d, nil
}

func (s *Server) fleetExceptions(w http.ResponseWriter, r *http.Request) error {
	v, _, err := s.fleetExceptionsView(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "fleet_exceptions", v)
}

// fleetExceptionCreate accepts a failing check (from the device page or the
// exceptions page); errors re-render the exceptions page with the form.
func (s *Server) fleetExceptionCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	in := fleet.ExceptionInput{Policy: f.Get("policy"), CheckID: f.Get("check_id"), Scope: f.Get("scope"), Owner: f.Get("owner"),
		Reason: f.Get("reason"), CreatedBy: principal(r).Actor()}
	in.DeviceID, _ = strconv.ParseInt(f.Get("device_id"), 10, 64)
	in.TeamID, _ = strconv.ParseInt(f.Get("team_id"), 10, 64)
	in.ClientID, _ = strconv.ParseInt(f.Get("client_id"), 10, 64)
	exp, perr := time.Parse("2006-01-02", strings.TrimSpace(f.Get("expires")))
	var err error
	if perr != nil {
		err = &fleet.InputError{Key: "fleet.err.expiry_date", Msg: "The expiry must be a date (YYYY-MM-DD)."}
	} else {
		in.ExpiresAt = exp.Add(24*time.Hour - time.Second)
		_, err = s.fleet.Service.CreateException(r.Context(), scope(r), in)
	}
	if err != nil {
		var ie *fleet.InputError
		switch {
		case errors.As(err, &ie):
		case errors.Is(err, store.ErrNotFound):
			ie = &fleet.InputError{Key: "fleet.err.unknown_target", Msg: "The device, team or client is not known."}
		default:
			return err
		}
		v, _, verr := s.fleetExceptionsView(r)
		if verr != nil {
			return verr
		}
		v.Form = f
		v.FormError = fleetErrText(v, ie)
		return s.render(w, http.StatusUnprocessableEntity, "fleet_exceptions", v)
	}
	if in.Scope == "device" && in.DeviceID != 0 {
		return redirect(w, r, "/fleet/devices/"+itoa64(in.DeviceID)+"?ok=exception")
	}
	return redirect(w, r, "/fleet/exceptions?ok=exception")
}

func (s *Server) fleetExceptionRevoke(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.InTx(r.Context(), func(tx *store.Tx) error { return tx.FleetExceptionRevoke(r.Context(), scope(r), id) }); err != nil {
		return err
	}
	return redirect(w, r, "/fleet/exceptions?ok=exception_revoked")
}

type fleetSecretsData struct {
	Secrets   []store.FleetEnrollSecret
	Plaintext string
	Notice    string
	Clients   []Option
	Sites     []Option
	Teams     []Option
	Now       time.Time
	rf        *refs
}

// ClientName and the others show ids as names in the secrets table.
func (d *fleetSecretsData) ClientName(id int64) string {
	if id == 0 {
		return ""
	}
	return d.rf.clientName(id)
}

// SiteName is the name of site id.
func (d *fleetSecretsData) SiteName(id int64) string {
	for _, st := range d.rf.sites {
		if st.ID == id {
			return st.Name
		}
	}
	return ""
}

// TeamName is the name of team id.
func (d *fleetSecretsData) TeamName(id int64) string {
	for _, t := range d.rf.teams {
		if t.ID == id {
			return t.Name
		}
	}
	return ""
}

func (s *Server) fleetSecretsView(r *http.Request) (*view, *fleetSecretsData, error) {
	list, err := s.store.FleetSecrets(r.Context(), scope(r))
	if err != nil {
		return nil, nil, err
	}
	rf, err := s.loadRefs(r.Context(), scope(r))
	if err != nil {
		return nil, nil, err
	}
	d := &fleetSecretsData{Secrets: list, Now: s.now(), rf: rf}
	v := s.newView(r, "fleet.secrets.title", d)
	d.Notice = fleetNotice(v, r)
	d.Clients = rf.clientOptions(v.T("fleet.none"), 0)
	d.Sites = rf.siteOptions(v.T("fleet.none"), 0)
	d.Teams = rf.teamOptions(v.T("fleet.none"), 0)
	return v, d, nil
}

func (s *Server) fleetSecrets(w http.ResponseWriter, r *http.Request) error {
	v, _, err := s.fleetSecretsView(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "fleet_secrets", v)
}

func (s *Server) fleetSecretCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	in := fleet.SecretInput{Name: f.Get("name"), CreatedBy: principal(r).Actor()}
	in.ClientID, _ = strconv.ParseInt(f.Get("client_id"), 10, 64)
	in.SiteID, _ = strconv.ParseInt(f.Get("site_id"), 10, 64)
	in.TeamID, _ = strconv.ParseInt(f.Get("team_id"), 10, 64)
	var err error
	if mu := strings.TrimSpace(f.Get("max_uses")); mu != "" {
		if in.MaxUses, err = strconv.ParseInt(mu, 10, 64); err != nil || in.MaxUses < 0 {
			err = &fleet.InputError{Key: "fleet.err.max_uses", Msg: "The maximum number of uses must be a whole number."}
		}
	}
	if days := strings.TrimSpace(f.Get("expires_days")); err == nil && days != "" {
		n, perr := strconv.Atoi(days)
		if perr != nil || n < 1 || n > 3650 {
			err = &fleet.InputError{Key: "fleet.err.expires_days", Msg: "The expiry must be a number of days between 1 and 3650."}
		} else {
			t := s.now().Add(time.Duration(n) * 24 * time.Hour)
			in.ExpiresAt = &t
		}
	}
	if in.ClientID != 0 && !principal(r).CanSeeClient(in.ClientID) {
		err = &fleet.InputError{Key: "fleet.err.unknown_client", Msg: "Unknown client."}
	}
	var plain string
	if err == nil {
		plain, _, err = s.fleet.Service.CreateSecret(r.Context(), scope(r), in)
	}
	v, d, verr := s.fleetSecretsView(r)
	if verr != nil {
		return verr
	}
	if err != nil {
		var ie *fleet.InputError
		if !errors.As(err, &ie) {
			return err
		}
		v.Form = f
		v.FormError = fleetErrText(v, ie)
		return s.render(w, http.StatusUnprocessableEntity, "fleet_secrets", v)
	}
	d.Plaintext = plain
	return s.render(w, http.StatusOK, "fleet_secrets", v)
}

func (s *Server) fleetSecretRevoke(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.InTx(r.Context(), func(tx *store.Tx) error { return tx.FleetSecretRevoke(r.Context(), scope(r), id) }); err != nil {
		return err
	}
	return redirect(w, r, "/fleet/secrets?ok=secret_revoked")
}

// fleetExcTable is the data of the fleet_exc_table partial.
type fleetExcTable struct {
	V      *view
	List   []store.FleetException
	Active bool
}

// Table builds the data of an exceptions table.
func (d *fleetExceptionsData) Table(v *view, list []store.FleetException, active bool) fleetExcTable {
	return fleetExcTable{V: v, List: list, Active: active}
}

// fleetErrText translates a fleet validation error.
func fleetErrText(v *view, ie *fleet.InputError) string {
	if ie.Key != "" && v.s.cat.Has(ie.Key) {
		return v.T(ie.Key, ie.Args...)
	}
	return ie.Msg
}
