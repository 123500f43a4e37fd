package web

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance"
	"github.com/custodia/custodia/internal/isms/compliance/office"
	"github.com/custodia/custodia/internal/isms/ens"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
)

// ISMSDeps are the services the isms pages need; with them unset the
// module registers no pages.
type ISMSDeps struct {
	// Office is the compliance service.
	Office *office.Office
}

// Role groups of the compliance pages.
var (
	ismscReaders = governance
	ismscWriters = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO}
)

// ismsRoutes lists the isms module's console routes.
func (s *Server) ismsRoutes() []route {
	if s.isms.Office == nil {
		return nil
	}
	read := authz.Roles(ismscReaders...).WithClientScoped()
	write := authz.Roles(ismscWriters...).WithClientScoped()
	return []route{
		{"GET /isms", read, s.ismsDashboard},
		{"GET /isms/report/ens-summary.pdf", read, s.ismsSummaryPDF},
		{"GET /isms/frameworks", read, s.ismsFrameworks},
		{"POST /isms/frameworks", write, s.ismsImport},
		{"GET /isms/soa/{key}", read, s.ismsSoA},
		{"GET /isms/soa/{key}/export.pdf", read, s.ismsSoAPDF},
		{"GET /isms/soa/{key}/export.xlsx", read, s.ismsSoAXLSX},
		{"GET /isms/soa/{key}/export.oscal-profile.json", read, s.ismsSoAOSCALProfile},
		{"GET /isms/soa/{key}/export.oscal-results.json", read, s.ismsSoAOSCALResults},
		{"POST /isms/soa/{key}/assessment-results", write, s.ismsImportAssessment},
		{"GET /isms/soa/{key}/{ref}", read, s.ismsRequirement},
		{"POST /isms/soa/{key}/{ref}", write, s.ismsRequirementSave},
		{"POST /isms/soa/{key}/{ref}/delete", write, s.ismsRequirementDelete},
		{"GET /isms/controls", read, s.ismsControls},
		{"POST /isms/controls", write, s.ismsControlCreate},
		{"GET /isms/controls/{id}", read, s.ismsControl},
		{"POST /isms/controls/{id}", write, s.ismsControlUpdate},
		{"POST /isms/controls/{id}/delete", write, s.ismsControlDelete},
		{"POST /isms/evidence", write, s.ismsEvidenceAdd},
		{"GET /isms/evidence/{id}/file", read, s.ismsEvidenceFile},
		{"POST /isms/evidence/{id}/delete", write, s.ismsEvidenceDelete},
		{"GET /isms/ens", read, s.ismsSystems},
		{"POST /isms/ens", write, s.ismsSystemCreate},
		{"GET /isms/ens/{id}", read, s.ismsSystem},
		{"POST /isms/ens/{id}", write, s.ismsSystemUpdate},
		{"GET /isms/ens/{id}/measures/{measure}", read, s.ismsMeasure},
		{"POST /isms/ens/{id}/measures/{measure}", write, s.ismsMeasureSave},
		{"POST /isms/ens/{id}/extras", write, s.ismsExtraAdd},
		{"POST /isms/ens/{id}/extras/{extra}/delete", write, s.ismsExtraDelete},
		{"POST /isms/ens/{id}/sign", write, s.ismsSign},
		{"GET /isms/ens/{id}/declaration.pdf", read, s.ismsDeclarationPDF},
	}
}

// ismsDone are the confirmations a page may show after a redirect.
var ismsDone = []string{"saved", "deleted", "imported", "signed", "evidence", "assessed"}

// ismsPage is what every compliance page carries besides its own data.
type ismsPage struct {
	CanEdit bool
	Notice  string // translated confirmation
	Problem string // translated refusal (references, import errors)
	Refs    []compliance.Reference
}

func (s *Server) ismsBase(v *view, r *http.Request) ismsPage {
	pg := ismsPage{CanEdit: v.Can("admin", "security", "dpo")}
	if d := r.URL.Query().Get("done"); slices.Contains(ismsDone, d) {
		pg.Notice = v.T("isms.done." + d)
	}
	return pg
}

// ismsFail shows a refusal on the page instead of an error page when it is
// one the user can act on; it reports whether it handled err.
func (pg *ismsPage) fail(v *view, err error) bool {
	var inUse *compliance.InUseError
	var ie *office.ImportError
	switch {
	case errors.As(err, &inUse):
		pg.Problem, pg.Refs = v.T("isms.in_use", inUse.Object), inUse.References
		return true
	case errors.As(err, &ie):
		pg.Problem = v.T("isms.import_failed", ie.Error())
		return true
	case v.setFieldErrors(err):
		return true
	}
	if errors.Is(err, store.ErrConflict) {
		if fe := ismsConflictFields(err); len(fe) > 0 {
			for _, e := range fe {
				v.Errs[e.Field] = v.fieldMessage(e.Message)
			}
			v.FormError = v.T("common.form_errors")
			return true
		}
	}
	return false
}

// ismsConflictFields extracts the field named by a store conflict.
func ismsConflictFields(err error) org.FieldErrors {
	var out org.FieldErrors
	for _, e := range ismsUnwrapAll(err) {
		msg := e.Error()
		if i := strings.Index(msg, ": "); i > 0 && !strings.Contains(msg[:i], " ") {
			if f := msg[:i]; f == "code" || f == "name" || f == "id" || f == "key" {
				out.Add(f, msg[i+2:])
			}
		}
	}
	return out
}

func ismsUnwrapAll(err error) []error {
	var out []error
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, ismsUnwrapAll(e)...)
		}
	case interface{ Unwrap() error }:
		out = append(out, ismsUnwrapAll(u.Unwrap())...)
	default:
		out = append(out, err)
	}
	return out
}

func ismsLang(v *view, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "es" || l == "en" {
		return l
	}
	if v.Lang == "es" {
		return "es"
	}
	return "en"
}

func ismsSend(w http.ResponseWriter, ctype, name string, b []byte) error {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+ismsSafeName(name)+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, err := w.Write(b)
	return err
}

func ismsSafeName(s string) string {
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			return c
		}
		return '_'
	}, s)
}

func ismsDate(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, v)
}

// ismsClientOptions lists the clients the caller may file a record under;
// operator-wide first for callers who see every client.
func (s *Server) ismsClientOptions(r *http.Request, v *view, selected int64) ([]Option, map[int64]string, error) {
	clients, err := s.store.ISMSClients(r.Context(), scope(r))
	if err != nil {
		return nil, nil, err
	}
	var opts []Option
	if scope(r).All {
		opts = append(opts, Option{Value: "0", Label: v.T("isms.operator_wide"), Selected: selected == 0})
	}
	ids := make([]int64, 0, len(clients))
	for id := range clients {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b int64) int { return strings.Compare(clients[a], clients[b]) })
	for _, id := range ids {
		opts = append(opts, Option{Value: strconv.FormatInt(id, 10), Label: clients[id], Selected: selected == id})
	}
	return opts, clients, nil
}

func (s *Server) ismsUserOptions(r *http.Request, v *view, selected int64) ([]Option, map[int64]string, error) {
	users, err := s.store.ISMSUserNames(r.Context())
	if err != nil {
		return nil, nil, err
	}
	opts := []Option{{Value: "0", Label: "—", Selected: selected == 0}}
	ids := make([]int64, 0, len(users))
	for id := range users {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b int64) int { return strings.Compare(users[a], users[b]) })
	for _, id := range ids {
		opts = append(opts, Option{Value: strconv.FormatInt(id, 10), Label: users[id], Selected: selected == id})
	}
	return opts, users, nil
}

func ismsFormID(r *http.Request, name string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get(name)), 10, 64)
	if n < 0 {
		return 0
	}
	return n
}

// ---- Dashboard ----

type ismsScoreRow struct {
	Client  string
	Scores  []office.Score
	Trend   template.HTML
	ClientK int64
}

type ismsDashData struct {
	ismsPage
	D       *office.Dashboard
	Rows    []ismsScoreRow
	Green   int
	Amber   int
	Red     int
	Grey    int
	Systems []compliance.ENSSystem
}

func (s *Server) ismsDashboard(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "isms.heading", nil)
	d, err := s.isms.Office.Dashboard(r.Context(), principal(r), 90)
	if err != nil {
		return err
	}
	data := &ismsDashData{ismsPage: s.ismsBase(v, r), D: d, Green: d.Health[compliance.Green], Amber: d.Health[compliance.Amber],
		Red: d.Health[compliance.Red], Grey: d.Health[compliance.Grey]}
	names := map[string]string{}
	for _, c := range s.isms.Office.Library().Catalogs {
		names[c.ID] = c.Name
	}
	label := func(k string) string {
		if n, ok := names[k]; ok {
			return n
		}
		return k
	}
	for _, sc := range d.Scores {
		if len(data.Rows) == 0 || data.Rows[len(data.Rows)-1].ClientK != sc.ClientID {
			name := sc.ClientName
			if sc.ClientID == 0 {
				name = v.T("isms.operator_wide")
			}
			data.Rows = append(data.Rows, ismsScoreRow{Client: name, ClientK: sc.ClientID, Trend: office.TrendSVG(d.Trend, sc.ClientID, label)})
		}
		data.Rows[len(data.Rows)-1].Scores = append(data.Rows[len(data.Rows)-1].Scores, sc)
	}
	if data.Systems, err = s.store.ISMSENSSystems(r.Context(), scope(r)); err != nil {
		return err
	}
	v.D = data
	return s.render(w, http.StatusOK, "isms_dashboard", v)
}

func (s *Server) ismsSummaryPDF(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "isms.heading", nil)
	lang := ismsLang(v, r)
	b, err := s.isms.Office.SummaryPDF(r.Context(), principal(r), lang)
	if err != nil {
		return err
	}
	return ismsSend(w, "application/pdf", "ens-summary-"+lang+".pdf", b)
}

// ---- Frameworks ----

type ismsFrameworksData struct {
	ismsPage
	Frameworks []compliance.Framework
	Key        string
	Format     string
}

func (s *Server) ismsFrameworksPage(w http.ResponseWriter, r *http.Request, v *view, data *ismsFrameworksData, status int) error {
	fws, err := s.store.ISMSFrameworks(r.Context())
	if err != nil {
		return err
	}
	data.Frameworks = fws
	v.D = data
	return s.render(w, status, "isms_frameworks", v)
}

func (s *Server) ismsFrameworks(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "isms.frameworks", nil)
	return s.ismsFrameworksPage(w, r, v, &ismsFrameworksData{ismsPage: s.ismsBase(v, r), Format: "oscal"}, http.StatusOK)
}

func (s *Server) ismsImport(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	v := s.newView(r, "isms.frameworks", nil)
	data := &ismsFrameworksData{ismsPage: s.ismsBase(v, r), Key: r.PostForm.Get("key"), Format: r.PostForm.Get("format")}
	doc := []byte(r.PostForm.Get("document"))
	if f, _, err := r.FormFile("file"); err == nil {
		b, err := io.ReadAll(io.LimitReader(f, 8<<20))
		f.Close()
		if err != nil {
			return err
		}
		if len(b) > 0 {
			doc = b
		}
	}
	_, err := s.isms.Office.Import(r.Context(), principal(r), data.Key, office.ImportFormat(data.Format), doc, []byte(r.PostForm.Get("mappings")))
	if err != nil {
		if data.fail(v, err) {
			v.Form = r.PostForm
			return s.ismsFrameworksPage(w, r, v, data, http.StatusUnprocessableEntity)
		}
		return err
	}
	return redirect(w, r, "/isms/frameworks?done=imported")
}

// ---- Statement of Applicability ----

type ismsSoAData struct {
	ismsPage
	Catalog  *catalog.Catalog
	Rows     []office.SoARow
	Catalogs []*catalog.Catalog
	Annex    bool
	// CanAssess: the caller may import assessment results (statements are
	// operator-wide).
	CanAssess bool
}

func (s *Server) ismsSoA(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "isms.soa", nil)
	return s.ismsSoAPage(w, r, v, s.ismsBase(v, r), http.StatusOK)
}

func (s *Server) ismsSoAPage(w http.ResponseWriter, r *http.Request, v *view, pg ismsPage, status int) error {
	c, err := s.isms.Office.Catalog(r.PathValue("key"))
	if err != nil {
		return err
	}
	rows, err := s.isms.Office.SoA(r.Context(), principal(r), c.ID)
	if err != nil {
		return err
	}
	v.D = &ismsSoAData{ismsPage: pg, Catalog: c, Rows: rows, Catalogs: s.isms.Office.Library().Catalogs, Annex: c.ID == catalog.ISO27001,
		CanAssess: pg.CanEdit && principal(r).Scope().All}
	return s.render(w, status, "isms_soa", v)
}

// ismsImportAssessment records the statuses of an uploaded (or pasted)
// OSCAL assessment-results document; a refusal re-renders the SoA with
// where and why.
func (s *Server) ismsImportAssessment(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	key := r.PathValue("key")
	if _, err := s.isms.Office.Catalog(key); err != nil {
		return err
	}
	doc := []byte(r.PostForm.Get("document"))
	if f, _, err := r.FormFile("file"); err == nil {
		b, err := io.ReadAll(io.LimitReader(f, 8<<20))
		f.Close()
		if err != nil {
			return err
		}
		if len(b) > 0 {
			doc = b
		}
	}
	_, err := s.isms.Office.ImportAssessment(r.Context(), principal(r), key, doc)
	if err != nil {
		v := s.newView(r, "isms.soa", nil)
		pg := s.ismsBase(v, r)
		if !principal(r).Scope().All {
			pg.Problem = v.T("isms.assess.operator_wide")
			return s.ismsSoAPage(w, r, v, pg, http.StatusUnprocessableEntity)
		}
		if pg.fail(v, err) {
			v.Form = r.PostForm
			return s.ismsSoAPage(w, r, v, pg, http.StatusUnprocessableEntity)
		}
		return err
	}
	return redirect(w, r, "/isms/soa/"+url.PathEscape(key)+"?done=assessed")
}

func (s *Server) ismsSoAExport(w http.ResponseWriter, r *http.Request, xlsx bool) error {
	c, err := s.isms.Office.Catalog(r.PathValue("key"))
	if err != nil {
		return err
	}
	rows, err := s.isms.Office.SoA(r.Context(), principal(r), c.ID)
	if err != nil {
		return err
	}
	lang := ismsLang(s.newView(r, "isms.soa", nil), r)
	if xlsx {
		b, err := s.isms.Office.SoAXLSX(c, rows, lang)
		if err != nil {
			return err
		}
		return ismsSend(w, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "soa-"+c.ID+"-"+lang+".xlsx", b)
	}
	b, err := s.isms.Office.SoAPDF(c, rows, lang)
	if err != nil {
		return err
	}
	return ismsSend(w, "application/pdf", "soa-"+c.ID+"-"+lang+".pdf", b)
}

func (s *Server) ismsSoAPDF(w http.ResponseWriter, r *http.Request) error {
	return s.ismsSoAExport(w, r, false)
}
func (s *Server) ismsSoAXLSX(w http.ResponseWriter, r *http.Request) error {
	return s.ismsSoAExport(w, r, true)
}

func (s *Server) ismsSoAOSCAL(w http.ResponseWriter, r *http.Request, results bool) error {
	key := r.PathValue("key")
	b, err := s.isms.Office.SoAOSCAL(r.Context(), principal(r), key, results)
	if err != nil {
		return err
	}
	name := "soa-" + key + "-oscal-profile.json"
	if results {
		name = "soa-" + key + "-oscal-results.json"
	}
	return ismsSend(w, "application/json", name, b)
}

func (s *Server) ismsSoAOSCALProfile(w http.ResponseWriter, r *http.Request) error {
	return s.ismsSoAOSCAL(w, r, false)
}

func (s *Server) ismsSoAOSCALResults(w http.ResponseWriter, r *http.Request) error {
	return s.ismsSoAOSCAL(w, r, true)
}

type ismsReqData struct {
	ismsPage
	Imported bool // the framework is imported: its requirements may be deleted
	Catalog  *catalog.Catalog
	Row      office.SoARow
	Statuses []Option
	Owners   []Option
	Controls []compliance.Control
	Evidence []compliance.Evidence
}

func (s *Server) ismsRequirementPage(w http.ResponseWriter, r *http.Request, v *view, pg ismsPage, status int) error {
	c, err := s.isms.Office.Catalog(r.PathValue("key"))
	if err != nil {
		return err
	}
	ref := r.PathValue("ref")
	if _, err := c.Requirement(ref); err != nil {
		return errNotFound
	}
	rows, err := s.isms.Office.SoA(r.Context(), principal(r), c.ID)
	if err != nil {
		return err
	}
	data := &ismsReqData{ismsPage: pg, Catalog: c}
	data.Imported = !slices.ContainsFunc(office.BuiltinKeys(), func(k string) bool { return k == c.ID })
	found := false
	for _, row := range rows {
		if row.Requirement == ref {
			data.Row, found = row, true
		}
	}
	if !found {
		// Outside the SoA's rows (ISO clauses): a plain statement.
		req, _ := c.Requirement(ref)
		data.Row = office.SoARow{Requirement: ref, Title: req.Title, TitleES: req.TitleES, Applicable: true, Status: catalog.NotImplemented}
		states, err := s.store.ISMSRequirementStates(r.Context(), c.ID)
		if err != nil {
			return err
		}
		if st, ok := states[ref]; ok {
			data.Row.Applicable, data.Row.Justification, data.Row.Status, data.Row.OwnerUserID = st.Applicable, st.Justification, st.Status, st.OwnerUserID
		}
	}
	for _, st := range []catalog.Status{catalog.NotImplemented, catalog.Partial, catalog.Implemented} {
		data.Statuses = append(data.Statuses, Option{Value: string(st), Label: v.T("isms.status." + string(st)), Selected: data.Row.Status == st})
	}
	if data.Owners, _, err = s.ismsUserOptions(r, v, data.Row.OwnerUserID); err != nil {
		return err
	}
	if data.Controls, err = s.store.ISMSControls(r.Context(), store.ISMSControlFilter{Scope: scope(r), Catalog: c.ID, Requirement: ref}, s.isms.Office.Now()); err != nil {
		return err
	}
	if data.Evidence, err = s.store.ISMSEvidenceList(r.Context(), store.ISMSEvidenceFilter{Scope: scope(r), Catalog: c.ID, Requirement: ref}); err != nil {
		return err
	}
	v.D = data
	return s.render(w, status, "isms_requirement", v)
}

func (s *Server) ismsRequirement(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "isms.requirement", nil)
	return s.ismsRequirementPage(w, r, v, s.ismsBase(v, r), http.StatusOK)
}

func (s *Server) ismsRequirementSave(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	key, ref := r.PathValue("key"), r.PathValue("ref")
	st := compliance.RequirementState{Catalog: key, Requirement: ref, Applicable: r.PostForm.Get("applicable") != "no",
		Justification: r.PostForm.Get("justification"), Status: catalog.Status(r.PostForm.Get("status")), OwnerUserID: ismsFormID(r, "owner_user_id")}
	if err := s.isms.Office.SetRequirementState(r.Context(), principal(r), &st); err != nil {
		v := s.newView(r, "isms.requirement", nil)
		pg := s.ismsBase(v, r)
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		if pg.fail(v, err) {
			v.Form = r.PostForm
			return s.ismsRequirementPage(w, r, v, pg, http.StatusUnprocessableEntity)
		}
		return err
	}
	return redirect(w, r, "/isms/soa/"+url.PathEscape(key)+"/"+url.PathEscape(ref)+"?done=saved")
}

func (s *Server) ismsRequirementDelete(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	key, ref := r.PathValue("key"), r.PathValue("ref")
	if err := s.isms.Office.DeleteRequirement(r.Context(), principal(r), key, ref); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		v := s.newView(r, "isms.requirement", nil)
		pg := s.ismsBase(v, r)
		if pg.fail(v, err) {
			if v.FormError != "" && pg.Problem == "" {
				pg.Problem = v.Errs["key"]
			}
			return s.ismsRequirementPage(w, r, v, pg, http.StatusConflict)
		}
		return err
	}
	return redirect(w, r, "/isms/soa/"+url.PathEscape(key)+"?done=deleted")
}

// ---- Controls ----

type ismsControlsData struct {
	ismsPage
	Controls []compliance.Control
	Clients  map[int64]string
	Query    string
	New      ismsControlForm
}

type ismsControlForm struct {
	C            compliance.Control
	Refs         string
	ClientOpts   []Option
	OwnerOpts    []Option
	StatusOpts   []Option
	EffectOpts   []Option
	Review       string
	Evidence     []compliance.Evidence
	Now          time.Time
	Requirements []string
}

func (s *Server) ismsControlFormData(r *http.Request, v *view, c compliance.Control) (ismsControlForm, map[int64]string, error) {
	f := ismsControlForm{C: c, Now: s.isms.Office.Now()}
	var refs []string
	for _, ref := range c.Requirements {
		refs = append(refs, ref.String())
	}
	f.Refs = strings.Join(refs, "\n")
	if !c.ReviewAt.IsZero() {
		f.Review = c.ReviewAt.Format(time.DateOnly)
	}
	var clients map[int64]string
	var err error
	if f.ClientOpts, clients, err = s.ismsClientOptions(r, v, c.ClientID); err != nil {
		return f, nil, err
	}
	if f.OwnerOpts, _, err = s.ismsUserOptions(r, v, c.OwnerUserID); err != nil {
		return f, nil, err
	}
	for _, st := range compliance.ControlStatuses {
		f.StatusOpts = append(f.StatusOpts, Option{Value: string(st), Label: v.T("isms.cstatus." + string(st)), Selected: c.Status == st})
	}
	for _, e := range compliance.Effectivenesses {
		f.EffectOpts = append(f.EffectOpts, Option{Value: string(e), Label: v.T("isms.effect." + string(e)), Selected: c.Effectiveness == e})
	}
	return f, clients, nil
}

func (s *Server) ismsControlsPage(w http.ResponseWriter, r *http.Request, v *view, pg ismsPage, c compliance.Control, status int) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	list, err := s.store.ISMSControls(r.Context(), store.ISMSControlFilter{Scope: scope(r), Query: q}, s.isms.Office.Now())
	if err != nil {
		return err
	}
	form, clients, err := s.ismsControlFormData(r, v, c)
	if err != nil {
		return err
	}
	v.D = &ismsControlsData{ismsPage: pg, Controls: list, Clients: clients, Query: q, New: form}
	return s.render(w, status, "isms_controls", v)
}

func (s *Server) ismsControls(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "isms.controls", nil)
	var c compliance.Control
	if !scope(r).All && len(scope(r).ClientIDs) > 0 {
		c.ClientID = scope(r).ClientIDs[0]
	}
	c.Normalize()
	return s.ismsControlsPage(w, r, v, s.ismsBase(v, r), c, http.StatusOK)
}

// ismsControlFromForm reads a control's fields; a malformed reference or date
// is reported on its field.
func ismsControlFromForm(r *http.Request, c *compliance.Control) error {
	c.Code, c.Title, c.Description = r.PostForm.Get("code"), r.PostForm.Get("title"), r.PostForm.Get("description")
	c.Status, c.Effectiveness = compliance.ControlStatus(r.PostForm.Get("status")), compliance.Effectiveness(r.PostForm.Get("effectiveness"))
	c.OwnerUserID, c.ClientID = ismsFormID(r, "owner_user_id"), ismsFormID(r, "client_id")
	var fe org.FieldErrors
	t, err := ismsDate(r.PostForm.Get("review_at"))
	if err != nil {
		fe.Add("review_at", "must be a date (YYYY-MM-DD)")
	}
	c.ReviewAt = t
	refs, err := compliance.ParseRefs(r.PostForm.Get("requirements"))
	if err != nil {
		fe.Add("requirements", "must be catalogue:requirement references, one per line")
	}
	c.Requirements = refs
	return fe.Err()
}

func (s *Server) ismsControlCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	var c compliance.Control
	err := ismsControlFromForm(r, &c)
	if err == nil {
		err = s.isms.Office.SaveControl(r.Context(), principal(r), &c)
	}
	if err != nil {
		v := s.newView(r, "isms.controls", nil)
		pg := s.ismsBase(v, r)
		if pg.fail(v, err) {
			v.Form = r.PostForm
			return s.ismsControlsPage(w, r, v, pg, c, http.StatusUnprocessableEntity)
		}
		return err
	}
	return redirect(w, r, fmt.Sprintf("/isms/controls/%d?done=saved", c.ID))
}

type ismsControlData struct {
	ismsPage
	F       ismsControlForm
	Clients map[int64]string
	Risks   []string
}

func (s *Server) ismsControlPage(w http.ResponseWriter, r *http.Request, v *view, pg ismsPage, c *compliance.Control, status int) error {
	form, clients, err := s.ismsControlFormData(r, v, *c)
	if err != nil {
		return err
	}
	if form.Evidence, err = s.store.ISMSEvidenceList(r.Context(), store.ISMSEvidenceFilter{Scope: scope(r), ControlID: c.ID}); err != nil {
		return err
	}
	risks, err := s.store.ISMSRisksByControl(r.Context(), scope(r))
	if err != nil {
		return err
	}
	v.D = &ismsControlData{ismsPage: pg, F: form, Clients: clients, Risks: risks[c.ID]}
	return s.render(w, status, "isms_control", v)
}

func (s *Server) ismsControl(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.ISMSControl(r.Context(), scope(r), id, s.isms.Office.Now())
	if err != nil {
		return err
	}
	v := s.newView(r, "isms.control", nil)
	return s.ismsControlPage(w, r, v, s.ismsBase(v, r), c, http.StatusOK)
}

func (s *Server) ismsControlUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	c, err := s.store.ISMSControl(r.Context(), scope(r), id, s.isms.Office.Now())
	if err != nil {
		return err
	}
	err = ismsControlFromForm(r, c)
	if err == nil {
		err = s.isms.Office.SaveControl(r.Context(), principal(r), c)
	}
	if err != nil {
		v := s.newView(r, "isms.control", nil)
		pg := s.ismsBase(v, r)
		if pg.fail(v, err) {
			v.Form = r.PostForm
			return s.ismsControlPage(w, r, v, pg, c, http.StatusUnprocessableEntity)
		}
		return err
	}
	return redirect(w, r, fmt.Sprintf("/isms/controls/%d?done=saved", id))
}

func (s *Server) ismsControlDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	c, err := s.store.ISMSControl(r.Context(), scope(r), id, s.isms.Office.Now())
	if err != nil {
		return err
	}
	if err := s.isms.Office.DeleteControl(r.Context(), principal(r), id); err != nil {
		v := s.newView(r, "isms.control", nil)
		pg := s.ismsBase(v, r)
		if pg.fail(v, err) {
			return s.ismsControlPage(w, r, v, pg, c, http.StatusConflict)
		}
		return err
	}
	return redirect(w, r, "/isms/controls?done=deleted")
}

// ---- Evidence ----

// ismsBack is where an evidence form returns: a console page of this
// module, never another site.
func ismsBack(r *http.Request) string {
	b := r.PostForm.Get("back")
	if !strings.HasPrefix(b, "/isms/") || strings.HasPrefix(b, "//") || strings.ContainsAny(b, "\\\r\n") {
		return "/isms"
	}
	if i := strings.IndexByte(b, '?'); i >= 0 {
		b = b[:i]
	}
	return b
}

func (s *Server) ismsEvidenceAdd(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	collected, err := ismsDate(r.PostForm.Get("collected_at"))
	if err != nil {
		collected = time.Time{}
	}
	if r.PostForm.Get("collected_at") == "" {
		collected = s.isms.Office.Now()
	}
	days, _ := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("fresh_days")))
	e := compliance.Evidence{Kind: compliance.EvidenceKind(r.PostForm.Get("kind")), Title: r.PostForm.Get("title"),
		ControlID: ismsFormID(r, "control_id"), Catalog: r.PostForm.Get("catalog"), Requirement: r.PostForm.Get("requirement"),
		ENSSystemID: ismsFormID(r, "ens_system_id"), ClientID: ismsFormID(r, "client_id"), URL: r.PostForm.Get("url"),
		RecordModule: r.PostForm.Get("record_module"), RecordRef: r.PostForm.Get("record_ref"), CollectedAt: collected, FreshDays: days}
	var file []byte
	if f, h, err := r.FormFile("file"); err == nil {
		file, err = io.ReadAll(io.LimitReader(f, office.MaxEvidenceFile+1))
		f.Close()
		if err != nil {
			return err
		}
		e.FileName, e.ContentType = h.Filename, h.Header.Get("Content-Type")
		if e.Kind == "" {
			e.Kind = compliance.EvidenceFile
		}
	}
	back := ismsBack(r)
	if err := s.isms.Office.AddEvidence(r.Context(), principal(r), &e, file); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		if fe, ok := org.AsFieldErrors(err); ok {
			v := s.newView(r, "isms.evidence_add", nil)
			var msgs []string
			for _, x := range fe {
				msgs = append(msgs, v.T("isms.field."+x.Field)+": "+v.fieldMessage(x.Message))
			}
			v.D = &ismsEvidenceErr{Back: back, Messages: msgs}
			return s.render(w, http.StatusUnprocessableEntity, "isms_evidence_error", v)
		}
		return err
	}
	return redirect(w, r, back+"?done=evidence")
}

type ismsEvidenceErr struct {
	Back     string
	Messages []string
}

func (s *Server) ismsEvidenceFile(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	e, b, err := s.isms.Office.EvidenceFile(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	w.Header().Set("X-Content-SHA256", e.SHA256)
	return ismsSend(w, "application/octet-stream", e.FileName, b)
}

func (s *Server) ismsEvidenceDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	if err := s.isms.Office.DeleteEvidence(r.Context(), principal(r), id); err != nil {
		if _, ok := org.AsFieldErrors(err); ok {
			return errStatus(http.StatusForbidden, "error.forbidden")
		}
		return err
	}
	return redirect(w, r, ismsBack(r)+"?done=deleted")
}

// ---- ENS ----

type ismsLevelField struct {
	Dim   string
	Label string
	Opts  []Option
}

func (s *Server) ismsLevelFields(v *view, val ens.Valuation) []ismsLevelField {
	var out []ismsLevelField
	for _, d := range catalog.Dimensions {
		f := ismsLevelField{Dim: string(d), Label: v.T("isms.dim." + string(d))}
		for _, l := range []ens.Level{ens.NotApplicable, ens.Bajo, ens.Medio, ens.Alto} {
			f.Opts = append(f.Opts, Option{Value: l.String(), Label: l.String(), Selected: val.Level(d) == l})
		}
		out = append(out, f)
	}
	return out
}

func ismsValuationFromForm(r *http.Request) (ens.Valuation, error) {
	var v ens.Valuation
	var fe org.FieldErrors
	for _, d := range catalog.Dimensions {
		l, err := ens.ParseLevel(r.PostForm.Get("level_" + string(d)))
		if err != nil {
			fe.Add("level_"+string(d), "must be BAJO, MEDIO, ALTO or n.a.")
		}
		switch d {
		case catalog.Confidentiality:
			v.C = l
		case catalog.Integrity:
			v.I = l
		case catalog.Traceability:
			v.T = l
		case catalog.Authenticity:
			v.A = l
		case catalog.Availability:
			v.D = l
		}
	}
	return v, fe.Err()
}

type ismsSystemsData struct {
	ismsPage
	Systems    []compliance.ENSSystem
	Clients    map[int64]string
	Levels     []ismsLevelField
	ClientOpts []Option
	OwnerOpts  []Option
}

func (s *Server) ismsSystemsPage(w http.ResponseWriter, r *http.Request, v *view, pg ismsPage, sys compliance.ENSSystem, status int) error {
	list, err := s.store.ISMSENSSystems(r.Context(), scope(r))
	if err != nil {
		return err
	}
	data := &ismsSystemsData{ismsPage: pg, Systems: list, Levels: s.ismsLevelFields(v, sys.Valuation)}
	if data.ClientOpts, data.Clients, err = s.ismsClientOptions(r, v, sys.ClientID); err != nil {
		return err
	}
	if data.OwnerOpts, _, err = s.ismsUserOptions(r, v, sys.ResponsibleUserID); err != nil {
		return err
	}
	v.D = data
	return s.render(w, status, "isms_ens", v)
}

func (s *Server) ismsSystems(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "isms.ens", nil)
	var sys compliance.ENSSystem
	if !scope(r).All && len(scope(r).ClientIDs) > 0 {
		sys.ClientID = scope(r).ClientIDs[0]
	}
	return s.ismsSystemsPage(w, r, v, s.ismsBase(v, r), sys, http.StatusOK)
}

func ismsSystemFromForm(r *http.Request, sys *compliance.ENSSystem) error {
	sys.Name, sys.Description = r.PostForm.Get("name"), r.PostForm.Get("description")
	sys.ClientID, sys.ResponsibleUserID = ismsFormID(r, "client_id"), ismsFormID(r, "responsible_user_id")
	var fe org.FieldErrors
	val, err := ismsValuationFromForm(r)
	if err != nil {
		fe, _ = org.AsFieldErrors(err)
	}
	sys.Valuation = val
	t, err := ismsDate(r.PostForm.Get("last_audit_at"))
	if err != nil {
		fe.Add("last_audit_at", "must be a date (YYYY-MM-DD)")
	}
	sys.LastAuditAt = t
	return fe.Err()
}

func (s *Server) ismsSystemCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	var sys compliance.ENSSystem
	err := ismsSystemFromForm(r, &sys)
	if err == nil {
		err = s.isms.Office.SaveSystem(r.Context(), principal(r), &sys)
	}
	if err != nil {
		v := s.newView(r, "isms.ens", nil)
		pg := s.ismsBase(v, r)
		if pg.fail(v, err) {
			v.Form = r.PostForm
			return s.ismsSystemsPage(w, r, v, pg, sys, http.StatusUnprocessableEntity)
		}
		return err
	}
	return redirect(w, r, fmt.Sprintf("/isms/ens/%d?done=saved", sys.ID))
}

type ismsSystemData struct {
	ismsPage
	Doc        *office.DeclarationDoc
	Signed     []compliance.Declaration
	Levels     []ismsLevelField
	ClientOpts []Option
	OwnerOpts  []Option
	Clients    map[int64]string
	Owners     map[int64]string
	Audit      string
	CanSign    bool
	Measures   []string
}

func (s *Server) ismsSystemPage(w http.ResponseWriter, r *http.Request, v *view, pg ismsPage, id int64, edit *compliance.ENSSystem, status int) error {
	doc, err := s.isms.Office.Declaration(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	sys := doc.System
	if edit != nil {
		sys = *edit
	}
	data := &ismsSystemData{ismsPage: pg, Doc: doc, Levels: s.ismsLevelFields(v, sys.Valuation)}
	if data.Signed, err = s.store.ISMSDeclarations(r.Context(), id); err != nil {
		return err
	}
	if data.ClientOpts, data.Clients, err = s.ismsClientOptions(r, v, sys.ClientID); err != nil {
		return err
	}
	if data.OwnerOpts, data.Owners, err = s.ismsUserOptions(r, v, sys.ResponsibleUserID); err != nil {
		return err
	}
	if !sys.LastAuditAt.IsZero() {
		data.Audit = sys.LastAuditAt.Format(time.DateOnly)
	}
	data.CanSign = pg.CanEdit && (doc.System.ResponsibleUserID == 0 || doc.System.ResponsibleUserID == principal(r).UserID)
	for _, row := range doc.Rows {
		if row.Applies {
			data.Measures = append(data.Measures, row.Measure)
		}
	}
	v.D = data
	return s.render(w, status, "isms_ens_system", v)
}

func (s *Server) ismsSystem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v := s.newView(r, "isms.ens_system", nil)
	return s.ismsSystemPage(w, r, v, s.ismsBase(v, r), id, nil, http.StatusOK)
}

func (s *Server) ismsSystemUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	sys, err := s.store.ISMSENSSystem(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	err = ismsSystemFromForm(r, sys)
	if err == nil {
		err = s.isms.Office.SaveSystem(r.Context(), principal(r), sys)
	}
	if err != nil {
		v := s.newView(r, "isms.ens_system", nil)
		pg := s.ismsBase(v, r)
		if pg.fail(v, err) {
			v.Form = r.PostForm
			return s.ismsSystemPage(w, r, v, pg, id, sys, http.StatusUnprocessableEntity)
		}
		return err
	}
	return redirect(w, r, fmt.Sprintf("/isms/ens/%d?done=saved", id))
}

type ismsMeasureData struct {
	ismsPage
	System     compliance.ENSSystem
	Row        office.DeclRow
	State      compliance.MeasureState
	Statuses   []Option
	Overrides  []Option
	Evidence   []compliance.Evidence
	Now        time.Time
	Reinforced []catalog.Reinforcement
}

func (s *Server) ismsMeasurePage(w http.ResponseWriter, r *http.Request, v *view, pg ismsPage, status int) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	doc, err := s.isms.Office.Declaration(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	measure := r.PathValue("measure")
	data := &ismsMeasureData{ismsPage: pg, System: doc.System, Now: s.isms.Office.Now()}
	found := false
	for _, row := range doc.Rows {
		if row.Measure == measure {
			data.Row, found = row, true
		}
	}
	if !found {
		return errNotFound
	}
	states, err := s.store.ISMSENSMeasures(r.Context(), id)
	if err != nil {
		return err
	}
	data.State = states[measure]
	if data.State.Status == "" {
		data.State.Status = catalog.NotImplemented
	}
	for _, st := range []catalog.Status{catalog.NotImplemented, catalog.Partial, catalog.Implemented} {
		data.Statuses = append(data.Statuses, Option{Value: string(st), Label: v.T("isms.status." + string(st)), Selected: data.State.Status == st})
	}
	for _, o := range []compliance.MeasureOverride{compliance.NoOverride, compliance.ForceApply, compliance.Exclude} {
		data.Overrides = append(data.Overrides, Option{Value: string(o), Label: v.T("isms.override." + string(o) + "x"), Selected: data.State.Override == o})
	}
	if c, err := s.isms.Office.Catalog(catalog.ENS); err == nil {
		if req, err := c.Requirement(measure); err == nil {
			for _, id := range data.Row.Reinforcements {
				if rf, ok := req.Reinforcement(id); ok {
					data.Reinforced = append(data.Reinforced, rf)
				}
			}
		}
	}
	if data.Evidence, err = s.store.ISMSEvidenceList(r.Context(), store.ISMSEvidenceFilter{Scope: scope(r), ENSSystemID: id, Catalog: catalog.ENS, Requirement: measure}); err != nil {
		return err
	}
	v.D = data
	return s.render(w, status, "isms_measure", v)
}

func (s *Server) ismsMeasure(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "isms.measure", nil)
	return s.ismsMeasurePage(w, r, v, s.ismsBase(v, r), http.StatusOK)
}

func (s *Server) ismsMeasureSave(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	if _, err := s.store.ISMSENSSystem(r.Context(), scope(r), id); err != nil {
		return err
	}
	measure := r.PathValue("measure")
	m := compliance.MeasureState{Measure: measure, Status: catalog.Status(r.PostForm.Get("status")), Note: r.PostForm.Get("note"),
		Override: compliance.MeasureOverride(r.PostForm.Get("override")), Justification: r.PostForm.Get("justification")}
	if err := s.isms.Office.SetMeasure(r.Context(), principal(r), id, &m); err != nil {
		v := s.newView(r, "isms.measure", nil)
		pg := s.ismsBase(v, r)
		if pg.fail(v, err) {
			v.Form = r.PostForm
			return s.ismsMeasurePage(w, r, v, pg, http.StatusUnprocessableEntity)
		}
		return err
	}
	if r.PostForm.Get("back") == "system" {
		return redirect(w, r, fmt.Sprintf("/isms/ens/%d?done=saved", id))
	}
	return redirect(w, r, fmt.Sprintf("/isms/ens/%d/measures/%s?done=saved", id, url.PathEscape(measure)))
}

func (s *Server) ismsExtraAdd(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	if _, err := s.store.ISMSENSSystem(r.Context(), scope(r), id); err != nil {
		return err
	}
	var measures []string
	for _, f := range strings.FieldsFunc(r.PostForm.Get("measures"), func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' }) {
		measures = append(measures, f)
	}
	x := compliance.ENSExtra{ExtraMeasure: ens.ExtraMeasure{Kind: ens.ExtraKind(r.PostForm.Get("kind")), Title: r.PostForm.Get("title"),
		Measures: measures, Justification: r.PostForm.Get("justification")}}
	if err := s.isms.Office.AddExtra(r.Context(), principal(r), id, &x); err != nil {
		v := s.newView(r, "isms.ens_system", nil)
		pg := s.ismsBase(v, r)
		if pg.fail(v, err) {
			v.Form = r.PostForm
			return s.ismsSystemPage(w, r, v, pg, id, nil, http.StatusUnprocessableEntity)
		}
		return err
	}
	return redirect(w, r, fmt.Sprintf("/isms/ens/%d?done=saved", id))
}

func (s *Server) ismsExtraDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	extra, err := pathID(r, "extra")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	if err := s.isms.Office.DeleteExtra(r.Context(), principal(r), id, extra); err != nil {
		if _, ok := org.AsFieldErrors(err); ok {
			return errStatus(http.StatusForbidden, "error.forbidden")
		}
		return err
	}
	return redirect(w, r, fmt.Sprintf("/isms/ens/%d?done=deleted", id))
}

func (s *Server) ismsSign(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	if _, err := s.store.ISMSENSSystem(r.Context(), scope(r), id); err != nil {
		return err
	}
	confirm := r.PostForm.Get("confirm")
	if r.PostForm.Get("attest") != "yes" {
		confirm = "\x00" // the explicit attestation box was not ticked
	}
	if _, err := s.isms.Office.Sign(r.Context(), principal(r), id, confirm); err != nil {
		v := s.newView(r, "isms.ens_system", nil)
		pg := s.ismsBase(v, r)
		if pg.fail(v, err) {
			v.Form = r.PostForm
			return s.ismsSystemPage(w, r, v, pg, id, nil, http.StatusUnprocessableEntity)
		}
		return err
	}
	return redirect(w, r, fmt.Sprintf("/isms/ens/%d?done=signed", id))
}

func (s *Server) ismsDeclarationPDF(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v := s.newView(r, "isms.ens_system", nil)
	lang := ismsLang(v, r)
	var doc *office.DeclarationDoc
	version, _ := strconv.Atoi(r.URL.Query().Get("version"))
	if version > 0 {
		doc, err = s.isms.Office.SignedDeclaration(r.Context(), principal(r), id, version)
	} else {
		doc, err = s.isms.Office.Declaration(r.Context(), principal(r), id)
	}
	if err != nil {
		return err
	}
	b, err := s.isms.Office.DeclarationPDF(doc, lang)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("declaracion-aplicabilidad-%d", id)
	if version > 0 {
		name += fmt.Sprintf("-v%d", version)
	}
	return ismsSend(w, "application/pdf", name+"-"+lang+".pdf", b)
}

// ismsEvidenceTable is the data of the "isms_evidence_table" partial.
type ismsEvidenceTable struct {
	V       *view
	List    []compliance.Evidence
	Back    string
	CanEdit bool
	Now     time.Time
}

// ISMSEvidence prepares the evidence table partial.
func (v *view) ISMSEvidence(list []compliance.Evidence, back string, canEdit bool) ismsEvidenceTable {
	return ismsEvidenceTable{V: v, List: list, Back: back, CanEdit: canEdit, Now: v.s.now().UTC()}
}

// ismsEvidenceForm is the data of the "isms_evidence_form" partial.
type ismsEvidenceForm struct {
	V                    *view
	Back                 string
	ControlID, SystemID  int64
	Catalog, Requirement string
}

// ISMSEvidenceForm prepares the add-evidence form for a control (controlID)
// or a requirement (catalog, requirement, optionally an ENS system).
func (v *view) ISMSEvidenceForm(back string, controlID int64, cat, requirement string, systemID int64) ismsEvidenceForm {
	return ismsEvidenceForm{V: v, Back: back, ControlID: controlID, Catalog: cat, Requirement: requirement, SystemID: systemID}
}

// ismsControlFormData is the data of the "isms_control_form" partial.
type ismsControlFormData struct {
	V       *view
	F       ismsControlForm
	Action  string
	CanEdit bool
}

// ISMSControlForm prepares the control form posting to action.
func (v *view) ISMSControlForm(f ismsControlForm, action string) ismsControlFormData {
	return ismsControlFormData{V: v, F: f, Action: action, CanEdit: v.Can("admin", "security", "dpo")}
}

// ismsHealthLabel is the data of the "isms_health" partial.
type ismsHealthLabel struct {
	H     compliance.Health
	Label string
}

// ISMSHealth prepares a control's traffic light with its translated name.
func (v *view) ISMSHealth(h compliance.Health) ismsHealthLabel {
	return ismsHealthLabel{H: h, Label: v.T("isms.light." + string(h))}
}

// ISMSPath names an ENS conformity path in the page's language.
func (v *view) ISMSPath(p ens.ConformityPath) string {
	if p == ens.SelfAssessment {
		return v.T("isms.path.self")
	}
	return v.T("isms.path.certification")
}
