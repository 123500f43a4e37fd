package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/isms/auditprog"
	auditsvc "github.com/custodia/custodia/internal/isms/auditprog/service"
	"github.com/custodia/custodia/internal/store"
)

type ismsrAuditsData struct {
	Audits     []auditprog.Audit
	Kinds      []Option
	Frameworks []Option
	Clients    []Option
	CanWrite   bool
	OpenCAPAs  []auditprog.CAPA
	Today      time.Time
}

func (s *Server) ismsrAuditsPage(w http.ResponseWriter, r *http.Request, status int, err error) error {
	ctx := r.Context()
	list, lerr := s.ismsRisk.Store.ISMSAudits(ctx, scope(r))
	if lerr != nil {
		return lerr
	}
	v := s.newView(r, "ismsrisk.audits.title", nil)
	if err != nil {
		if !v.setFieldErrors(err) {
			return err
		}
		v.Form = r.PostForm
	}
	d := &ismsrAuditsData{Audits: list, CanWrite: v.Can("admin", "security"), Today: s.now()}
	for _, k := range auditprog.Kinds {
		d.Kinds = append(d.Kinds, ismsrOpt(k, v.T("ismsrisk.audit.kind."+k), v.Val("kind") == k))
	}
	if s.ismsRisk.Library != nil {
		for _, c := range s.ismsRisk.Library.Catalogs {
			d.Frameworks = append(d.Frameworks, ismsrOpt(c.ID, c.Name, v.Val("framework") == c.ID))
		}
	}
	sel, _ := strconv.ParseInt(v.Val("client_id"), 10, 64)
	if d.Clients, lerr = s.ismsrClientOptions(r, v, sel); lerr != nil {
		return lerr
	}
	if d.OpenCAPAs, lerr = s.ismsRisk.Store.ISMSCAPAsOpen(ctx, scope(r)); lerr != nil {
		return lerr
	}
	v.D = d
	return s.render(w, status, "ismsr_audits", v)
}

func (s *Server) ismsrAudits(w http.ResponseWriter, r *http.Request) error {
	return s.ismsrAuditsPage(w, r, http.StatusOK, nil)
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == ';' })
}

func auditFromForm(r *http.Request, a *auditprog.Audit) error {
	a.Title, a.Kind = r.PostForm.Get("title"), r.PostForm.Get("kind")
	a.Scope, a.Auditors = r.PostForm.Get("scope"), r.PostForm.Get("auditors")
	if st := r.PostForm.Get("status"); st != "" {
		a.Status = st
	}
	if fw := r.PostForm.Get("framework"); fw != "" {
		a.Framework = fw
	}
	var err error
	if a.ClientID, err = formInt(r, "client_id"); err != nil {
		return err
	}
	for _, x := range []struct {
		name string
		dst  *time.Time
	}{{"planned_start", &a.PlannedStart}, {"planned_end", &a.PlannedEnd}} {
		t, err := auditprog.ParseDate(r.PostForm.Get(x.name))
		if err != nil {
			return ismsrFieldErr(x.name, err.Error())
		}
		*x.dst = t
	}
	return nil
}

func (s *Server) ismsrAuditCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	var a auditprog.Audit
	err := auditFromForm(r, &a)
	if err == nil && a.ClientID != 0 && !principal(r).CanSeeClient(a.ClientID) {
		return errNotFound
	}
	var items []auditprog.ChecklistItem
	if err == nil {
		err = a.Validate(s.ismsRisk.Library)
	}
	if err == nil {
		items, err = auditprog.Checklist(s.ismsRisk.Library, a.Framework, splitList(r.PostForm.Get("groups")), splitList(r.PostForm.Get("requirements")), s.lang(r))
	}
	if err == nil {
		err = s.ismsRisk.Store.ISMSAuditCreate(r.Context(), scope(r), s.ismsRisk.Library, &a, items)
	}
	if err != nil {
		return s.ismsrAuditsPage(w, r, http.StatusUnprocessableEntity, err)
	}
	return redirect(w, r, withFlash("/isms/audits/"+strconv.FormatInt(a.ID, 10), "saved"))
}

type ismsrAuditData struct {
	Audit     *auditprog.Audit
	Checklist []auditprog.ChecklistItem
	Findings  []auditprog.Finding
	Grants    []auditprog.Grant
	Results   []string
	Kinds     []Option
	Statuses  []Option
	FKinds    []Option
	Owners    []Option
	Clients   []Option
	Controls  []Option
	CanWrite  bool
	Now       time.Time
	Invited   *ismsrInvited
}

type ismsrInvited struct {
	Username, Password string
	ExpiresAt          time.Time
}

// Overdue reports whether a corrective action is overdue now.
func (d *ismsrAuditData) Overdue(c auditprog.CAPA) bool { return c.Overdue(d.Now) }

// CAPAStatuses lists the statuses a corrective action may take.
func (d *ismsrAuditData) CAPAStatuses() []string { return auditprog.CAPAStatuses }

func (s *Server) ismsrAuditPage(w http.ResponseWriter, r *http.Request, id int64, status int, err error, invited *ismsrInvited) error {
	ctx := r.Context()
	a, lerr := s.ismsRisk.Store.ISMSAudit(ctx, scope(r), id)
	if lerr != nil {
		return lerr
	}
	v := s.newView(r, "ismsrisk.audit.title", nil)
	if err != nil {
		if !v.setFieldErrors(err) {
			return err
		}
		v.Form = r.PostForm
	}
	d := &ismsrAuditData{Audit: a, Results: auditprog.Results, CanWrite: v.Can("admin", "security"), Now: s.now(), Invited: invited}
	if d.Checklist, lerr = s.ismsRisk.Store.ISMSAuditChecklist(ctx, scope(r), id); lerr != nil {
		return lerr
	}
	if d.Findings, lerr = s.ismsRisk.Store.ISMSFindings(ctx, scope(r), store.ISMSFindingFilter{AuditID: id}); lerr != nil {
		return lerr
	}
	if d.Grants, lerr = s.ismsRisk.Store.ISMSAuditGrants(ctx, scope(r), id); lerr != nil {
		return lerr
	}
	for _, k := range auditprog.Kinds {
		d.Kinds = append(d.Kinds, ismsrOpt(k, v.T("ismsrisk.audit.kind."+k), a.Kind == k))
	}
	for _, st := range auditprog.Statuses {
		d.Statuses = append(d.Statuses, ismsrOpt(st, v.T("ismsrisk.audit.status."+st), a.Status == st))
	}
	for _, k := range auditprog.FindingKinds {
		d.FKinds = append(d.FKinds, ismsrOpt(k, v.T("ismsrisk.finding.kind."+k), v.Val("kind") == k))
	}
	if d.Owners, lerr = s.ismsrUserOptions(r, v, 0); lerr != nil {
		return lerr
	}
	if d.Clients, lerr = s.ismsrClientOptions(r, v, a.ClientID); lerr != nil {
		return lerr
	}
	controls, lerr := s.ismsRisk.Store.RiskControlOptions(ctx, scope(r))
	if lerr != nil {
		return lerr
	}
	d.Controls = []Option{ismsrOpt("0", v.T("ismsrisk.none"), v.Val("control_id") == "" || v.Val("control_id") == "0")}
	for _, c := range controls {
		d.Controls = append(d.Controls, ismsrOpt(strconv.FormatInt(c.ID, 10), c.Code+" — "+c.Title, v.Val("control_id") == strconv.FormatInt(c.ID, 10)))
	}
	v.D = d
	return s.render(w, status, "ismsr_audit", v)
}

func (s *Server) ismsrAudit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.ismsrAuditPage(w, r, id, http.StatusOK, nil, nil)
}

func (s *Server) ismsrAuditForm(r *http.Request) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, err
	}
	if err := parseForm(r); err != nil {
		return 0, err
	}
	if _, err := s.ismsRisk.Store.ISMSAudit(r.Context(), scope(r), id); err != nil {
		return 0, err
	}
	return id, nil
}

func (s *Server) ismsrAuditUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := s.ismsrAuditForm(r)
	if err != nil {
		return err
	}
	a, err := s.ismsRisk.Store.ISMSAudit(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	err = auditFromForm(r, a)
	if err == nil && a.ClientID != 0 && !principal(r).CanSeeClient(a.ClientID) {
		return errNotFound
	}
	if err == nil {
		err = s.ismsRisk.Store.ISMSAuditUpdate(r.Context(), scope(r), s.ismsRisk.Library, a)
	}
	if err != nil {
		return s.ismsrAuditPage(w, r, id, http.StatusUnprocessableEntity, err, nil)
	}
	return redirect(w, r, withFlash("/isms/audits/"+strconv.FormatInt(id, 10), "saved"))
}

func (s *Server) ismsrChecklistResult(w http.ResponseWriter, r *http.Request) error {
	id, err := s.ismsrAuditForm(r)
	if err != nil {
		return err
	}
	item, err := pathID(r, "item")
	if err != nil {
		return err
	}
	if err := s.ismsRisk.Store.ISMSAuditSetResult(r.Context(), scope(r), id, item, r.PostForm.Get("result"), r.PostForm.Get("notes")); err != nil {
		return s.ismsrAuditPage(w, r, id, http.StatusUnprocessableEntity, err, nil)
	}
	return redirect(w, r, withFlash("/isms/audits/"+strconv.FormatInt(id, 10), "saved")+"#checklist")
}

func (s *Server) ismsrFindingCreate(w http.ResponseWriter, r *http.Request) error {
	id, err := s.ismsrAuditForm(r)
	if err != nil {
		return err
	}
	f := auditprog.Finding{AuditID: id, Kind: r.PostForm.Get("kind"), Title: r.PostForm.Get("title"), Description: r.PostForm.Get("description"),
		Requirement: r.PostForm.Get("requirement")}
	var err2 error
	if f.ControlID, err2 = formInt(r, "control_id"); err2 != nil {
		return s.ismsrAuditPage(w, r, id, http.StatusUnprocessableEntity, err2, nil)
	}
	if err := s.ismsRisk.Store.ISMSFindingCreate(r.Context(), scope(r), &f); err != nil {
		return s.ismsrAuditPage(w, r, id, http.StatusUnprocessableEntity, err, nil)
	}
	return redirect(w, r, withFlash("/isms/audits/"+strconv.FormatInt(id, 10), "saved")+"#findings")
}

func (s *Server) ismsrFindingUpdate(w http.ResponseWriter, r *http.Request) error {
	fid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	f, err := s.ismsRisk.Store.ISMSFinding(r.Context(), scope(r), fid)
	if err != nil {
		return err
	}
	if st := r.PostForm.Get("status"); st != "" {
		f.Status = st
	}
	if err := s.ismsRisk.Store.ISMSFindingUpdate(r.Context(), scope(r), f); err != nil {
		return s.ismsrAuditPage(w, r, f.AuditID, http.StatusUnprocessableEntity, err, nil)
	}
	return redirect(w, r, withFlash("/isms/audits/"+strconv.FormatInt(f.AuditID, 10), "saved")+"#findings")
}

func (s *Server) ismsrCAPACreate(w http.ResponseWriter, r *http.Request) error {
	fid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	f, err := s.ismsRisk.Store.ISMSFinding(r.Context(), scope(r), fid)
	if err != nil {
		return err
	}
	c := auditprog.CAPA{FindingID: fid, Title: r.PostForm.Get("title"), RootCause: r.PostForm.Get("root_cause"), Action: r.PostForm.Get("action")}
	if c.OwnerUserID, err = formInt(r, "owner_user_id"); err == nil {
		c.DueDate, err = auditprog.ParseDate(r.PostForm.Get("due_date"))
		if err != nil {
			err = ismsrFieldErr("due_date", err.Error())
		}
	}
	if err == nil {
		err = s.ismsRisk.Store.ISMSCAPACreate(r.Context(), scope(r), &c)
	}
	if err != nil {
		return s.ismsrAuditPage(w, r, f.AuditID, http.StatusUnprocessableEntity, err, nil)
	}
	return redirect(w, r, withFlash("/isms/audits/"+strconv.FormatInt(f.AuditID, 10), "saved")+"#findings")
}

func (s *Server) ismsrCAPAUpdate(w http.ResponseWriter, r *http.Request) error {
	cid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	c, f, err := s.ismsRisk.Store.ISMSCAPA(r.Context(), scope(r), cid)
	if err != nil {
		return err
	}
	if st := r.PostForm.Get("status"); st != "" {
		c.Status = st
	}
	if _, ok := r.PostForm["verification"]; ok {
		c.Verification = r.PostForm.Get("verification")
	}
	if err := s.ismsRisk.Store.ISMSCAPAUpdate(r.Context(), scope(r), principal(r).Username, c); err != nil {
		return s.ismsrAuditPage(w, r, f.AuditID, http.StatusUnprocessableEntity, err, nil)
	}
	return redirect(w, r, withFlash("/isms/audits/"+strconv.FormatInt(f.AuditID, 10), "saved")+"#findings")
}

func (s *Server) ismsrInviteAuditor(w http.ResponseWriter, r *http.Request) error {
	id, err := s.ismsrAuditForm(r)
	if err != nil {
		return err
	}
	if s.ismsRisk.Audits == nil {
		return errNotFound
	}
	exp, err := auditprog.ParseDate(r.PostForm.Get("expires_at"))
	if err != nil || exp.IsZero() {
		return s.ismsrAuditPage(w, r, id, http.StatusUnprocessableEntity, ismsrFieldErr("expires_at", "want a date as YYYY-MM-DD"), nil)
	}
	in := auditsvc.NewAuditor{Username: r.PostForm.Get("username"), Email: r.PostForm.Get("email"), DisplayName: r.PostForm.Get("display_name"),
		ExpiresAt: exp.Add(24*time.Hour - time.Second)}
	u, pw, g, err := s.ismsRisk.Audits.CreateAuditor(r.Context(), principal(r), id, in)
	if err != nil {
		return s.ismsrAuditPage(w, r, id, http.StatusUnprocessableEntity, err, nil)
	}
	return s.ismsrAuditPage(w, r, id, http.StatusOK, nil, &ismsrInvited{Username: u.Username, Password: pw, ExpiresAt: g.ExpiresAt})
}

func (s *Server) ismsrRevokeGrant(w http.ResponseWriter, r *http.Request) error {
	id, err := s.ismsrAuditForm(r)
	if err != nil {
		return err
	}
	gid, err := pathID(r, "grant")
	if err != nil {
		return err
	}
	if err := s.ismsRisk.Store.ISMSAuditGrantRevoke(r.Context(), scope(r), id, gid); err != nil {
		return err
	}
	return redirect(w, r, withFlash("/isms/audits/"+strconv.FormatInt(id, 10), "saved"))
}

func (s *Server) ismsrAuditReport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	a, err := s.ismsRisk.Store.ISMSAudit(ctx, scope(r), id)
	if err != nil {
		return err
	}
	items, err := s.ismsRisk.Store.ISMSAuditChecklist(ctx, scope(r), id)
	if err != nil {
		return err
	}
	findings, err := s.ismsRisk.Store.ISMSFindings(ctx, scope(r), store.ISMSFindingFilter{AuditID: id})
	if err != nil {
		return err
	}
	lang := r.URL.Query().Get("lang")
	if lang != "es" {
		lang = "en"
	}
	t := func(key string, args ...any) string { return s.cat.T(lang, key, args...) }
	pdf, err := auditprog.ReportPDF(auditprog.ReportInput{T: t, Audit: *a, Checklist: items, Findings: findings, Now: s.now()})
	if err != nil {
		return err
	}
	return ismsrPDF(w, "audit-"+strconv.FormatInt(id, 10)+"-"+lang+".pdf", pdf)
}

type ismsrPortalData struct {
	Grants []auditprog.Grant
	Now    time.Time
}

// Active reports whether a grant is active now.
func (d *ismsrPortalData) Active(g auditprog.Grant) bool { return g.Active(d.Now) }

func (s *Server) ismsrPortal(w http.ResponseWriter, r *http.Request) error {
	list, err := s.ismsRisk.Store.ISMSAuditGrantsOf(r.Context(), principal(r).UserID)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "ismsr_portal", s.newView(r, "ismsrisk.portal.title", &ismsrPortalData{Grants: list, Now: time.Now()}))
}

func (s *Server) ismsrPortalEvidence(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	eid, err := pathID(r, "evidence")
	if err != nil {
		return err
	}
	if s.ismsRisk.Audits == nil || s.isms.Office == nil {
		return errNotFound
	}
	p := principal(r)
	if err := s.ismsRisk.Audits.AuditorEvidence(r.Context(), p, id, eid); err != nil {
		return err
	}
	e, b, err := s.isms.Office.EvidenceFile(r.Context(), p, eid)
	if err != nil {
		return err
	}
	w.Header().Set("X-Content-SHA256", e.SHA256)
	return ismsSend(w, "application/octet-stream", e.FileName, b)
}

func (s *Server) ismsrPortalAudit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if s.ismsRisk.Audits == nil {
		return errNotFound
	}
	view, err := s.ismsRisk.Audits.AuditorView(r.Context(), principal(r), id, s.lang(r))
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "ismsr_portal_audit", s.newView(r, "ismsrisk.portal.audit", view))
}
