package web

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	respsvc "github.com/custodia/custodia/internal/incident/response"
	"github.com/custodia/custodia/internal/notify/outbox"
	"github.com/custodia/custodia/internal/store"
)

// IncidentResponseDeps are the services the regulatory-clock, breach-register
// and notification pages need; with them unset they register no pages.
type IncidentResponseDeps struct {
	Response *respsvc.Service
	// Notify manages the notification channels (nil: no channel pages).
	Notify *outbox.Service
}

// Role groups of the response pages (the same as the API's).
var (
	responseReaders = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}
	responseWriters = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO}
	notifyAdmins    = []identity.Role{identity.RoleAdmin, identity.RoleSecurity}
)

// ModuleResponse is the navigation key of the breach register and clocks.
const ModuleResponse = "response"

// incidentResponseRoutes lists the incident-response console routes.
func (s *Server) incidentResponseRoutes() []route {
	var rts []route
	if s.response.Response != nil {
		read := authz.Roles(responseReaders...).WithClientScoped()
		write := authz.Roles(responseWriters...).WithClientScoped()
		rts = append(rts,
			route{"GET /incidents/{id}/regulatory", read, s.responseIncidentPage},
			route{"POST /incidents/{id}/aware", write, s.responseAware},
			route{"POST /incidents/{id}/breach", write, s.responseFlagBreach},
			route{"POST /incidents/{id}/art34", write, s.responseArt34},
			route{"POST /incidents/{id}/regimes", write, s.responseRegimes},
			route{"POST /incidents/{id}/clocks/{cid}/sent", write, s.responseSent},
			route{"GET /incidents/{id}/clocks/{cid}/draft", read, s.responseDraftPage},
			route{"POST /incidents/{id}/clocks/{cid}/draft", write, s.responseDraftSave},
			route{"GET /incidents/{id}/clocks/{cid}/draft.pdf", read, s.responseDraftPDF},
			route{"GET /incidents/{id}/clocks/{cid}/draft.txt", read, s.responseDraftText},
			route{"GET /breaches", read, s.responseBreachList},
			route{"GET /breaches.csv", read, s.responseBreachCSV},
			route{"GET /clocks", read, s.responseClockList},
			route{"GET /response/clients", read, s.responseClientList},
			route{"GET /response/clients/{id}", read, s.responseClientEdit},
			route{"POST /response/clients/{id}", write, s.responseClientUpdate},
		)
	}
	return append(rts, s.notifyRoutes()...)
}

// clockRow is a clock as the pages show it.
type clockRow struct {
	store.ResponseClock
	Remaining string // "5h 20m", "-2h 10m"
	Color     string // fill of the state dot
	Warn      bool   // running and past 75 %
}

var clockStateColors = map[string]string{
	"running": "#1d6fb8", "met": "#2e7d32", "late": "#b26a00", "missed": "#c62828", respsvc.StateNotRequired: "#757575",
}

func clockRows(list []store.ResponseClock, now time.Time) []clockRow {
	out := make([]clockRow, len(list))
	for i, c := range list {
		r := clockRow{ResponseClock: c, Color: clockStateColors[c.State]}
		if c.State == "running" {
			left := c.Deadline.Sub(now)
			r.Remaining = respDuration(left)
			span := c.Deadline.Sub(c.Start)
			if span > 0 && now.Sub(c.Start) >= span*3/4 {
				r.Warn = true
				r.Color = "#b26a00"
			}
			if left < 0 {
				r.Color = clockStateColors["missed"]
			}
		}
		out[i] = r
	}
	return out
}

func respDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	d = d.Round(time.Minute)
	h := int(d.Hours())
	m := int(d.Minutes()) % 60
	if h >= 48 {
		return fmt.Sprintf("%s%dd %dh", sign, h/24, h%24)
	}
	return fmt.Sprintf("%s%dh %02dm", sign, h, m)
}

// responseSection is the data of the "incident_response_section" template.
type responseSection struct {
	V        *view
	R        *respsvc.View
	Clocks   []clockRow
	Back     string // where forms return
	CanWrite bool
	NIS2     bool
	// Open names the form that failed validation (its errors are in V).
	Open string
}

// AwareValue is the became-aware time for a datetime-local input.
func (d *responseSection) AwareValue() string {
	if v := d.V.Val("aware_at"); v != "" {
		return v
	}
	if d.R.Incident.AwareAt.IsZero() {
		return ""
	}
	return d.R.Incident.AwareAt.UTC().Format("2006-01-02T15:04")
}

// MajorValue is the DORA classification time for a datetime-local input.
func (d *responseSection) MajorValue() string {
	if v := d.V.Val("major_at"); v != "" {
		return v
	}
	if d.R.Facts.MajorAt.IsZero() {
		return ""
	}
	return d.R.Facts.MajorAt.UTC().Format("2006-01-02T15:04")
}

// BreachVal prefills a breach field from the submitted form or the register.
func (d *responseSection) BreachVal(field string) string {
	if d.V.Form.Has(field) {
		return d.V.Val(field)
	}
	b := d.R.Breach
	if b == nil {
		return ""
	}
	switch field {
	case "nature":
		return b.Nature
	case "data_categories":
		return b.DataCategories
	case "subjects_count":
		return strconv.FormatInt(b.SubjectsCount, 10)
	case "records_count":
		return strconv.FormatInt(b.RecordsCount, 10)
	case "consequences":
		return b.Consequences
	case "measures":
		return b.Measures
	}
	return ""
}

// ENSOptions are the danger levels for the select.
func (d *responseSection) ENSOptions() []Option {
	cur := strconv.Itoa(d.R.Facts.ENSLevel)
	if v := d.V.Val("ens_level"); v != "" {
		cur = v
	}
	var out []Option
	for i, k := range []string{"response.ens.none", "response.ens.1", "response.ens.2", "response.ens.3", "response.ens.4", "response.ens.5"} {
		out = append(out, Option{Value: strconv.Itoa(i), Label: d.V.T(k), Selected: strconv.Itoa(i) == cur})
	}
	return out
}

// Art34Options are the Art. 34 decisions for the select.
func (d *responseSection) Art34Options() []Option {
	cur := d.V.Val("decision")
	if cur == "" && d.R.Breach != nil {
		cur = d.R.Breach.Art34Decision
	}
	return []Option{
		{Value: "inform", Label: d.V.T("response.art34.inform"), Selected: cur == "inform"},
		{Value: "not_required", Label: d.V.T("response.art34.not_required"), Selected: cur == "not_required"},
	}
}

// incidentResponseSection is the data of the incident page's regulatory
// section (clocks, breach flag, notification drafts), rendered there with
// {{template "incident_response_section" .}}; nil renders nothing (callers
// without the roles, or the module off).
func (s *Server) incidentResponseSection(r *http.Request, incidentID int64) (any, error) {
	if s.response.Response == nil {
		return nil, nil
	}
	p := principal(r)
	if p == nil || !respHasRole(p, responseReaders) {
		return nil, nil
	}
	return s.responseSectionData(r, s.newView(r, "", nil), incidentID, "/incidents/"+strconv.FormatInt(incidentID, 10))
}

func respHasRole(p *identity.Principal, rs []identity.Role) bool {
	for _, r := range rs {
		if p.Role == r {
			return true
		}
	}
	return false
}

func (s *Server) responseSectionData(r *http.Request, v *view, incidentID int64, back string) (*responseSection, error) {
	rv, err := s.response.Response.View(r.Context(), scope(r), incidentID)
	if err != nil {
		return nil, err
	}
	return &responseSection{V: v, R: rv, Clocks: clockRows(rv.Clocks, rv.Now), Back: back, CanWrite: respHasRole(v.P, responseWriters), NIS2: rv.NIS2InScope}, nil
}

func (s *Server) responseIncidentPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.renderResponseIncident(w, r, id, http.StatusOK, "", nil)
}

func (s *Server) renderResponseIncident(w http.ResponseWriter, r *http.Request, id int64, status int, open string, verr error) error {
	v := s.newView(r, "response.incident.title", nil)
	if verr != nil {
		v.Form = r.PostForm
		setResponseErrors(v, verr)
	}
	d, err := s.responseSectionData(r, v, id, "/incidents/"+strconv.FormatInt(id, 10)+"/regulatory")
	if err != nil {
		return err
	}
	d.Open = open
	v.D = d
	return s.render(w, status, "response_incident", v)
}

// setResponseErrors shows the response and channel services' validation
// errors next to their fields. It reports whether err was one.
func setResponseErrors(v *view, err error) bool {
	var fe respsvc.FieldErrors
	var ce outbox.FieldErrors
	switch {
	case errors.As(err, &fe):
		for _, e := range fe {
			v.Errs[e.Field] = v.fieldMessage(e.Message)
		}
	case errors.As(err, &ce):
		for _, e := range ce {
			v.Errs[e.Field] = v.fieldMessage(e.Message)
		}
	default:
		return false
	}
	v.FormError = v.T("common.form_errors")
	return true
}

// respBackTo returns the form's "back" target when it is one of the incident's
// own pages, else the regulatory page.
func respBackTo(r *http.Request, id int64) string {
	base := "/incidents/" + strconv.FormatInt(id, 10)
	switch b := r.PostForm.Get("back"); b {
	case base, base + "/regulatory":
		return b
	}
	return base + "/regulatory"
}

// respParseUTC reads a datetime-local value (UTC) or RFC 3339.
func respParseUTC(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// responseAction runs a POST on an incident: scope first (404), then the
// form, then fn; validation errors re-render the regulatory page.
func (s *Server) responseAction(w http.ResponseWriter, r *http.Request, open string, fn func(id int64) error) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.ResponseIncident(r.Context(), scope(r), id); err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	if err := fn(id); err != nil {
		var fe respsvc.FieldErrors
		if errors.As(err, &fe) {
			return s.renderResponseIncident(w, r, id, http.StatusUnprocessableEntity, open, err)
		}
		return err
	}
	return redirect(w, r, withFlash(respBackTo(r, id), "saved"))
}

func respBadTime(field string) error {
	return respsvc.FieldErrors{{Field: field, Message: "is not a date and time (YYYY-MM-DD HH:MM, UTC)"}}
}

func (s *Server) responseAware(w http.ResponseWriter, r *http.Request) error {
	return s.responseAction(w, r, "aware", func(id int64) error {
		at, ok := respParseUTC(r.PostForm.Get("aware_at"))
		if !ok {
			return respBadTime("aware_at")
		}
		return s.response.Response.SetAware(r.Context(), principal(r), id, respsvc.AwareInput{At: at, Reason: r.PostForm.Get("reason")})
	})
}

func respFormInt(r *http.Request, field string) (int64, error) {
	v := strings.TrimSpace(r.PostForm.Get(field))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, respsvc.FieldErrors{{Field: field, Message: "must be a whole number"}}
	}
	return n, nil
}

func (s *Server) responseFlagBreach(w http.ResponseWriter, r *http.Request) error {
	return s.responseAction(w, r, "breach", func(id int64) error {
		at, ok := respParseUTC(r.PostForm.Get("aware_at"))
		if !ok {
			return respBadTime("aware_at")
		}
		subjects, err := respFormInt(r, "subjects_count")
		if err != nil {
			return err
		}
		records, err := respFormInt(r, "records_count")
		if err != nil {
			return err
		}
		f := r.PostForm
		_, err = s.response.Response.FlagBreach(r.Context(), principal(r), id, respsvc.BreachInput{Nature: f.Get("nature"), DataCategories: f.Get("data_categories"),
			SubjectsCount: subjects, RecordsCount: records, Consequences: f.Get("consequences"), Measures: f.Get("measures"), AwareAt: at, AwareReason: f.Get("aware_reason")})
		return err
	})
}

func (s *Server) responseArt34(w http.ResponseWriter, r *http.Request) error {
	return s.responseAction(w, r, "art34", func(id int64) error {
		return s.response.Response.DecideArt34(r.Context(), principal(r), id, respsvc.Art34Input{Decision: r.PostForm.Get("decision"), Reasons: r.PostForm.Get("reasons")})
	})
}

func (s *Server) responseRegimes(w http.ResponseWriter, r *http.Request) error {
	return s.responseAction(w, r, "regimes", func(id int64) error {
		major, ok := respParseUTC(r.PostForm.Get("major_at"))
		if !ok {
			return respBadTime("major_at")
		}
		lvl, err := respFormInt(r, "ens_level")
		if err != nil {
			return err
		}
		return s.response.Response.SetFacts(r.Context(), principal(r), id, respsvc.FactsInput{NIS2: r.PostForm.Get("nis2") == "on", ENSLevel: int(lvl), MajorAt: major})
	})
}

func (s *Server) responseSent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	cid, err := pathID(r, "cid")
	if err != nil {
		return err
	}
	if _, err := s.store.ResponseClock(r.Context(), scope(r), id, cid); err != nil {
		return err
	}
	return s.responseAction(w, r, "sent-"+strconv.FormatInt(cid, 10), func(id int64) error {
		f := r.PostForm
		at, ok := respParseUTC(f.Get("sent_at"))
		if !ok {
			return respBadTime("sent_at")
		}
		_, err := s.response.Response.RecordSending(r.Context(), principal(r), id, cid, respsvc.SendingInput{At: at, How: f.Get("how"), Reference: f.Get("reference"),
			LateReason: f.Get("late_reason"), Phase: f.Get("phase"), NotRequired: f.Get("not_required") == "on", Reason: f.Get("reason")})
		return err
	})
}

// ---- Drafts ----

type respDraftPage struct {
	V        *view
	Draft    *respsvc.Draft
	Incident int64
	Versions []store.ResponseDraft
	CanWrite bool
}

func (s *Server) draftFromRequest(r *http.Request) (int64, int64, *respsvc.Draft, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, 0, nil, err
	}
	cid, err := pathID(r, "cid")
	if err != nil {
		return 0, 0, nil, err
	}
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = s.lang(r)
	}
	version, _ := strconv.ParseInt(r.URL.Query().Get("version"), 10, 64)
	d, err := s.response.Response.Draft(r.Context(), scope(r), id, cid, lang, max(version, 0))
	return id, cid, d, err
}

func (s *Server) responseDraftPage(w http.ResponseWriter, r *http.Request) error {
	id, cid, d, err := s.draftFromRequest(r)
	if err != nil {
		return err
	}
	vers, err := s.response.Response.DraftVersions(r.Context(), scope(r), id, cid)
	if err != nil {
		return err
	}
	v := s.newView(r, "response.draft.title", nil)
	v.D = &respDraftPage{V: v, Draft: d, Incident: id, Versions: vers, CanWrite: respHasRole(v.P, responseWriters)}
	return s.render(w, http.StatusOK, "response_draft", v)
}

func (s *Server) responseDraftSave(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	cid, err := pathID(r, "cid")
	if err != nil {
		return err
	}
	if _, err := s.store.ResponseClock(r.Context(), scope(r), id, cid); err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	lang := respsvc.NormalizeLang(r.PostForm.Get("lang"))
	values := map[string]string{}
	for k, vs := range r.PostForm {
		if strings.HasPrefix(k, "f_") && len(vs) > 0 {
			values[strings.TrimPrefix(k, "f_")] = vs[0]
		}
	}
	d, err := s.response.Response.SaveDraft(r.Context(), principal(r), id, cid, lang, values)
	if err != nil {
		var fe respsvc.FieldErrors
		if errors.As(err, &fe) {
			return errStatus(http.StatusUnprocessableEntity, "error.validation")
		}
		return err
	}
	return redirect(w, r, withFlash(fmt.Sprintf("/incidents/%d/clocks/%d/draft?lang=%s&version=%d", id, cid, lang, d.Version), "saved"))
}

func respDraftName(d *respsvc.Draft, ext string) string {
	return url.PathEscape(fmt.Sprintf("%s-%s-v%d.%s", d.Ref, d.Kind, d.Version, ext))
}

func (s *Server) responseDraftPDF(w http.ResponseWriter, r *http.Request) error {
	_, _, d, err := s.draftFromRequest(r)
	if err != nil {
		return err
	}
	b, err := d.PDF()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+respDraftName(d, "pdf")+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
	return nil
}

func (s *Server) responseDraftText(w http.ResponseWriter, r *http.Request) error {
	_, _, d, err := s.draftFromRequest(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(d.Text()))
	return nil
}

// ---- Breach register and clocks overview ----

func (s *Server) responseBreachList(w http.ResponseWriter, r *http.Request) error {
	list, err := s.store.ResponseBreaches(r.Context(), scope(r))
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "response_breaches", s.newView(r, "response.breaches.title", list))
}

func (s *Server) responseBreachCSV(w http.ResponseWriter, r *http.Request) error {
	list, err := s.store.ResponseBreaches(r.Context(), scope(r))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := respsvc.WriteBreachesCSV(&buf, list); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="breach-register.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
	return nil
}

type respClocksPage struct {
	Clocks  []clockRow
	State   string
	Met     respMetRing
	Counts  map[string]int
	States  []string
	Decided int
	// StateColors colour the state markers.
	StateColors map[string]string
}

// respMetRing is the "clocks met" share drawn as an SVG ring.
type respMetRing struct {
	OK      bool
	Percent int
	Dash    string // stroke-dasharray of the ring
}

func metRing(share float64, ok bool) respMetRing {
	if !ok {
		return respMetRing{}
	}
	const circ = 2 * math.Pi * 40
	return respMetRing{OK: true, Percent: int(math.Round(share * 100)), Dash: fmt.Sprintf("%.1f %.1f", share*circ, circ)}
}

func (s *Server) responseClockList(w http.ResponseWriter, r *http.Request) error {
	state := r.URL.Query().Get("state")
	switch state {
	case "", "running", "met", "late", "missed", respsvc.StateNotRequired:
	default:
		state = ""
	}
	list, err := s.store.ResponseClockOverview(r.Context(), scope(r), store.ResponseClockFilter{State: state})
	if err != nil {
		return err
	}
	counts, err := s.store.ResponseClockStats(r.Context(), scope(r))
	if err != nil {
		return err
	}
	share, decided, ok := respsvc.ClocksMet(counts)
	d := &respClocksPage{Clocks: clockRows(list, s.now().UTC()), State: state, Met: metRing(share, ok), Counts: counts, Decided: decided,
		States: []string{"running", "met", "late", "missed", respsvc.StateNotRequired}, StateColors: clockStateColors}
	return s.render(w, http.StatusOK, "response_clocks", s.newView(r, "response.clocks.title", d))
}

// ---- Client contract settings ----

func (s *Server) responseClientList(w http.ResponseWriter, r *http.Request) error {
	list, err := s.store.ResponseClientSettingsList(r.Context(), scope(r))
	if err != nil {
		return err
	}
	v := s.newView(r, "response.clients.title", list)
	return s.render(w, http.StatusOK, "response_clients", v)
}

type clientContractForm struct {
	C        *store.ResponseClientSettings
	CanWrite bool
	Default  int
}

func (s *Server) responseClientEdit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.ResponseClientSettingsOf(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	v := s.newView(r, "response.clients.edit", nil)
	v.D = &clientContractForm{C: c, CanWrite: respHasRole(v.P, responseWriters), Default: int(s.response.Response.ClientDeadline.Hours())}
	return s.render(w, http.StatusOK, "response_client_form", v)
}

func (s *Server) responseClientUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.ResponseClientSettingsOf(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	in := respsvc.ClientSettingsInput{Financial: f.Get("financial") == "on", ContactName: f.Get("contact_name"), ContactEmail: f.Get("contact_email")}
	hours, herr := strconv.Atoi(strings.TrimSpace(f.Get("notify_hours")))
	if strings.TrimSpace(f.Get("notify_hours")) == "" {
		hours, herr = 0, nil
	}
	in.NotifyHours = hours
	if herr == nil {
		_, err = s.response.Response.SaveClientSettings(r.Context(), principal(r), id, in)
	} else {
		err = respsvc.FieldErrors{{Field: "notify_hours", Message: "must be a whole number of hours"}}
	}
	if err != nil {
		v := s.newView(r, "response.clients.edit", nil)
		v.Form = f
		if !setResponseErrors(v, err) {
			return err
		}
		v.D = &clientContractForm{C: c, CanWrite: true, Default: int(s.response.Response.ClientDeadline.Hours())}
		return s.render(w, http.StatusUnprocessableEntity, "response_client_form", v)
	}
	return redirect(w, r, withFlash("/response/clients", "saved"))
}
