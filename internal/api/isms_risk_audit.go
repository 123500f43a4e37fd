package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/auditprog"
	auditsvc "github.com/custodia/custodia/internal/isms/auditprog/service"
	"github.com/custodia/custodia/internal/store"
)

func (s *Server) declareISMSRiskAudits() {
	get, post, patch, del := http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
	read := authz.Roles(roles(ismsrReaders)...).WithClientScoped()
	write := authz.Roles(roles(ismsrWriters)...).WithClientScoped()
	id := pathParam("id", "the resource's id")
	item := pathParam("item", "the checklist line's id")
	grant := pathParam("grant", "the grant's id")

	s.add(&operation{Method: get, Path: "/isms/audits", Policy: read, ID: "listAudits", Tag: "isms-audits",
		Summary:  "The audit programme in scope: internal and external audits, ENS two-yearly, ISO surveillance and certification.",
		Response: List[auditprog.Audit]{}, Handler: s.listAudits})
	s.add(&operation{Method: post, Path: "/isms/audits", Policy: write, ID: "createAudit", Tag: "isms-audits",
		Summary: "Plan an audit; its checklist is generated from the scope (groups and requirements of the framework; none = all).",
		Request: AuditInput{}, Status: http.StatusCreated, Response: auditprog.Audit{}, Handler: s.createAudit})
	s.add(&operation{Method: get, Path: "/isms/audits/{id}", Policy: read, ID: "getAudit", Tag: "isms-audits",
		Summary: "Get an audit.", Params: []param{id}, Response: auditprog.Audit{}, Handler: s.getAudit})
	s.add(&operation{Method: patch, Path: "/isms/audits/{id}", Policy: write, ID: "updateAudit", Tag: "isms-audits",
		Summary: "Change an audit (absent fields are kept; the framework cannot change).", Params: []param{id}, Request: AuditInput{},
		Response: auditprog.Audit{}, Handler: s.updateAudit})
	s.add(&operation{Method: get, Path: "/isms/audits/{id}/checklist", Policy: read, ID: "getAuditChecklist", Tag: "isms-audits",
		Summary: "The audit's checklist: one line per requirement in scope.", Params: []param{id}, Response: List[auditprog.ChecklistItem]{}, Handler: s.getAuditChecklist})
	s.add(&operation{Method: patch, Path: "/isms/audits/{id}/checklist/{item}", Policy: write, ID: "setAuditChecklistResult", Tag: "isms-audits",
		Summary: "Record the result and notes of a checklist line.", Params: []param{id, item}, Request: ChecklistResultInput{}, Handler: s.setAuditChecklistResult})
	s.add(&operation{Method: get, Path: "/isms/audits/{id}/report.pdf", Policy: read, ID: "auditReport", Tag: "isms-audits",
		Summary: "The audit report as PDF (lang es or en).", Params: []param{id, queryParam("lang", "string", "en or es (default en)")},
		Response: "", ResponseType: "application/pdf", Handler: s.auditReport})
	s.add(&operation{Method: get, Path: "/isms/audits/{id}/grants", Policy: read, ID: "listAuditGrants", Tag: "isms-audits",
		Summary: "The external auditors' grants to this audit.", Params: []param{id}, Response: List[auditprog.Grant]{}, Handler: s.listAuditGrants})
	s.add(&operation{Method: post, Path: "/isms/audits/{id}/auditors", Policy: write, ID: "inviteAuditor", Tag: "isms-audits",
		Summary: "Create an external auditor's read-only account limited to this audit until expires_at; the one-time password is in this answer only.",
		Params:  []param{id}, Request: auditsvc.NewAuditor{}, Status: http.StatusCreated, Response: InvitedAuditor{}, Handler: s.inviteAuditor})
	s.add(&operation{Method: del, Path: "/isms/audits/{id}/grants/{grant}", Policy: write, ID: "revokeAuditGrant", Tag: "isms-audits",
		Summary: "End an external auditor's access at once.", Params: []param{id, grant}, Handler: s.revokeAuditGrant})

	s.add(&operation{Method: get, Path: "/isms/findings", Policy: read, ID: "listFindings", Tag: "isms-audits",
		Summary:  "Findings in scope with their corrective actions.",
		Params:   []param{queryParam("audit_id", "integer", "only this audit's"), queryParam("status", "string", "open or closed")},
		Response: List[auditprog.Finding]{}, Handler: s.listFindings})
	s.add(&operation{Method: post, Path: "/isms/audits/{id}/findings", Policy: write, ID: "createFinding", Tag: "isms-audits",
		Summary: "Record a finding (nc_major, nc_minor, observation, opportunity) against a requirement in the audit's scope or a control.",
		Params:  []param{id}, Request: FindingInput{}, Status: http.StatusCreated, Response: auditprog.Finding{}, Handler: s.createFinding})
	s.add(&operation{Method: get, Path: "/isms/findings/{id}", Policy: read, ID: "getFinding", Tag: "isms-audits",
		Summary: "Get a finding.", Params: []param{id}, Response: auditprog.Finding{}, Handler: s.getFinding})
	s.add(&operation{Method: patch, Path: "/isms/findings/{id}", Policy: write, ID: "updateFinding", Tag: "isms-audits",
		Summary: "Change or close a finding (a non-conformity closes once its corrective actions are closed).", Params: []param{id},
		Request: FindingInput{}, Response: auditprog.Finding{}, Handler: s.updateFinding})
	s.add(&operation{Method: post, Path: "/isms/findings/{id}/capas", Policy: write, ID: "createCAPA", Tag: "isms-audits",
		Summary: "Add a corrective action with owner, due date, root cause and action.", Params: []param{id}, Request: CAPAInput{},
		Status: http.StatusCreated, Response: auditprog.Finding{}, Handler: s.createCAPA})
	s.add(&operation{Method: patch, Path: "/isms/capas/{id}", Policy: write, ID: "updateCAPA", Tag: "isms-audits",
		Summary: "Change a corrective action or move it open → done → verified (with verification) → closed.", Params: []param{id},
		Request: CAPAInput{}, Response: auditprog.Finding{}, Handler: s.updateCAPA})

	// The portal is the one place external (invited) auditor accounts reach.
	portal := authz.Roles(identity.RoleAuditor).WithExternal()
	s.add(&operation{Method: get, Path: "/auditor/audits", Policy: portal, ID: "listMyAuditGrants", Tag: "auditor-portal",
		Summary:  "The audits an external auditor has been given access to, with the expiry of each grant.",
		Response: List[auditprog.Grant]{}, Handler: s.listMyAuditGrants})
	s.add(&operation{Method: get, Path: "/auditor/audits/{id}", Policy: portal, ID: "getAuditorAudit", Tag: "auditor-portal",
		Summary: "One granted audit while the grant is active: audit, checklist, findings and the statement of applicability.",
		Params:  []param{id}, Response: auditsvc.AuditorView{}, Handler: s.getAuditorAudit})
	s.add(&operation{Method: get, Path: "/auditor/audits/{id}/evidence/{evidence}/file", Policy: portal, ID: "downloadAuditorEvidence", Tag: "auditor-portal",
		Summary: "Download an evidence file listed in a granted audit (checked against its SHA-256; the download is audited).",
		Params:  []param{id, pathParam("evidence", "the evidence item's id")}, Response: "", ResponseType: "application/octet-stream", Handler: s.downloadAuditorEvidence})
}

// AuditInput plans or changes an audit; on PATCH absent fields are kept.
type AuditInput struct {
	Title        *string `json:"title,omitempty"`
	Kind         *string `json:"kind,omitempty" doc:"internal, external, ens_biennial, iso_surveillance or iso_certification"`
	ClientID     *int64  `json:"client_id,omitempty"`
	Framework    *string `json:"framework,omitempty" doc:"catalogue id: iso27001-2022, ens-rd311-2022, pci-dss-4.0.1, gdpr, lopdgdd"`
	Scope        *string `json:"scope,omitempty"`
	Auditors     *string `json:"auditors,omitempty"`
	Status       *string `json:"status,omitempty" doc:"planned, in_progress, reported or closed"`
	PlannedStart *string `json:"planned_start,omitempty" doc:"YYYY-MM-DD"`
	PlannedEnd   *string `json:"planned_end,omitempty" doc:"YYYY-MM-DD"`
	// Groups and Requirements of the framework make the checklist (create only).
	Groups       []string `json:"groups,omitempty"`
	Requirements []string `json:"requirements,omitempty"`
}

func (in AuditInput) apply(a *auditprog.Audit) error {
	for _, f := range []struct {
		dst *string
		v   *string
	}{{&a.Title, in.Title}, {&a.Kind, in.Kind}, {&a.Framework, in.Framework}, {&a.Scope, in.Scope}, {&a.Auditors, in.Auditors}, {&a.Status, in.Status}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if in.ClientID != nil {
		a.ClientID = *in.ClientID
	}
	var fe []problemFieldError
	for _, d := range []struct {
		name string
		dst  *time.Time
		v    *string
	}{{"planned_start", &a.PlannedStart, in.PlannedStart}, {"planned_end", &a.PlannedEnd, in.PlannedEnd}} {
		if d.v == nil {
			continue
		}
		t, err := auditprog.ParseDate(*d.v)
		if err != nil {
			fe = append(fe, problemFieldError{Field: d.name, Message: err.Error()})
		}
		*d.dst = t
	}
	if len(fe) > 0 {
		return fieldErrs(fe...)
	}
	return nil
}

func (s *Server) listAudits(w http.ResponseWriter, r *http.Request) error {
	list, err := s.ismsRisk.Store.ISMSAudits(r.Context(), scope(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, len(list)+1, 0))
	return nil
}

func (s *Server) createAudit(w http.ResponseWriter, r *http.Request) error {
	var in AuditInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var a auditprog.Audit
	if err := in.apply(&a); err != nil {
		return err
	}
	if err := checkClients(r, "client_id", a.ClientID); err != nil {
		return err
	}
	if err := a.Validate(s.ismsRisk.Library); err != nil {
		return err
	}
	items, err := auditprog.Checklist(s.ismsRisk.Library, a.Framework, in.Groups, in.Requirements, "en")
	if err != nil {
		return err
	}
	if err := s.ismsRisk.Store.ISMSAuditCreate(r.Context(), scope(r), s.ismsRisk.Library, &a, items); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) getAudit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.ismsRisk.Store.ISMSAudit(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) updateAudit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.ismsRisk.Store.ISMSAudit(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	var in AuditInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Groups) > 0 || len(in.Requirements) > 0 {
		return fieldErr("groups", "the checklist is generated when the audit is created")
	}
	if err := in.apply(a); err != nil {
		return err
	}
	if err := checkClients(r, "client_id", a.ClientID); err != nil {
		return err
	}
	if err := s.ismsRisk.Store.ISMSAuditUpdate(r.Context(), scope(r), s.ismsRisk.Library, a); err != nil {
		return err
	}
	return s.getAudit(w, r)
}

func (s *Server) getAuditChecklist(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	list, err := s.ismsRisk.Store.ISMSAuditChecklist(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, len(list)+1, 0))
	return nil
}

// ChecklistResultInput is the result of a checklist line.
type ChecklistResultInput struct {
	Result string `json:"result" doc:"conforming, nonconforming, observation, not_applicable or empty"`
	Notes  string `json:"notes,omitempty"`
}

func (s *Server) setAuditChecklistResult(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	item, err := pathID(r, "item")
	if err != nil {
		return err
	}
	if _, err := s.ismsRisk.Store.ISMSAudit(r.Context(), scope(r), id); err != nil {
		return err
	}
	var in ChecklistResultInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.ismsRisk.Store.ISMSAuditSetResult(r.Context(), scope(r), id, item, in.Result, in.Notes); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) auditReport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	lang, err := ismsrLang(r)
	if err != nil {
		return err
	}
	a, err := s.ismsRisk.Store.ISMSAudit(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	items, err := s.ismsRisk.Store.ISMSAuditChecklist(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	findings, err := s.ismsRisk.Store.ISMSFindings(r.Context(), scope(r), store.ISMSFindingFilter{AuditID: id})
	if err != nil {
		return err
	}
	pdf, err := auditprog.ReportPDF(auditprog.ReportInput{T: s.ismsrT(lang), Audit: *a, Checklist: items, Findings: findings})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit-%d-%s.pdf"`, id, lang))
	_, _ = w.Write(pdf)
	return nil
}

func (s *Server) listAuditGrants(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	list, err := s.ismsRisk.Store.ISMSAuditGrants(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, len(list)+1, 0))
	return nil
}

// InvitedAuditor is the new external auditor's account and grant.
type InvitedAuditor struct {
	UserID          int64           `json:"user_id"`
	Username        string          `json:"username"`
	OneTimePassword string          `json:"one_time_password" doc:"shown once; changed at first sign-in, then TOTP enrolment"`
	Grant           auditprog.Grant `json:"grant"`
}

func (s *Server) inviteAuditor(w http.ResponseWriter, r *http.Request) error {
	if s.ismsRisk.Audits == nil {
		return errUnavailable
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.ismsRisk.Store.ISMSAudit(r.Context(), scope(r), id); err != nil {
		return err
	}
	var in auditsvc.NewAuditor
	if err := decode(r, &in); err != nil {
		return err
	}
	u, pw, g, err := s.ismsRisk.Audits.CreateAuditor(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, InvitedAuditor{UserID: u.ID, Username: u.Username, OneTimePassword: pw, Grant: *g})
	return nil
}

func (s *Server) revokeAuditGrant(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
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
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listFindings(w http.ResponseWriter, r *http.Request) error {
	var f store.ISMSFindingFilter
	var err error
	if f.AuditID, err = queryInt(r, "audit_id"); err != nil {
		return err
	}
	f.Status = r.URL.Query().Get("status")
	if f.Status != "" && f.Status != "open" && f.Status != "closed" {
		return fieldErr("status", "must be open or closed")
	}
	list, err := s.ismsRisk.Store.ISMSFindings(r.Context(), scope(r), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, len(list)+1, 0))
	return nil
}

// FindingInput records or changes a finding; on PATCH absent fields are kept.
type FindingInput struct {
	Kind        *string `json:"kind,omitempty" doc:"nc_major, nc_minor, observation or opportunity"`
	Title       *string `json:"title,omitempty"`
	Description *string `json:"description,omitempty"`
	Requirement *string `json:"requirement,omitempty" doc:"a requirement on the audit's checklist"`
	ControlID   *int64  `json:"control_id,omitempty"`
	Status      *string `json:"status,omitempty" doc:"open or closed"`
}

func (in FindingInput) apply(f *auditprog.Finding) {
	for _, x := range []struct {
		dst *string
		v   *string
	}{{&f.Kind, in.Kind}, {&f.Title, in.Title}, {&f.Description, in.Description}, {&f.Requirement, in.Requirement}, {&f.Status, in.Status}} {
		if x.v != nil {
			*x.dst = *x.v
		}
	}
	if in.ControlID != nil {
		f.ControlID = *in.ControlID
	}
}

func (s *Server) createFinding(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.ismsRisk.Store.ISMSAudit(r.Context(), scope(r), id); err != nil {
		return err
	}
	var in FindingInput
	if err := decode(r, &in); err != nil {
		return err
	}
	f := auditprog.Finding{AuditID: id}
	in.apply(&f)
	if err := s.ismsRisk.Store.ISMSFindingCreate(r.Context(), scope(r), &f); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, f)
	return nil
}

func (s *Server) getFinding(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := s.ismsRisk.Store.ISMSFinding(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

func (s *Server) updateFinding(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := s.ismsRisk.Store.ISMSFinding(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	var in FindingInput
	if err := decode(r, &in); err != nil {
		return err
	}
	in.apply(f)
	if err := s.ismsRisk.Store.ISMSFindingUpdate(r.Context(), scope(r), f); err != nil {
		return err
	}
	return s.getFinding(w, r)
}

// CAPAInput creates or changes a corrective action; on PATCH absent fields are kept.
type CAPAInput struct {
	Title        *string `json:"title,omitempty"`
	OwnerUserID  *int64  `json:"owner_user_id,omitempty"`
	DueDate      *string `json:"due_date,omitempty" doc:"YYYY-MM-DD"`
	RootCause    *string `json:"root_cause,omitempty"`
	Action       *string `json:"action,omitempty"`
	Status       *string `json:"status,omitempty" doc:"open, done, verified or closed"`
	Verification *string `json:"verification,omitempty"`
}

func (in CAPAInput) apply(c *auditprog.CAPA) error {
	for _, x := range []struct {
		dst *string
		v   *string
	}{{&c.Title, in.Title}, {&c.RootCause, in.RootCause}, {&c.Action, in.Action}, {&c.Status, in.Status}, {&c.Verification, in.Verification}} {
		if x.v != nil {
			*x.dst = *x.v
		}
	}
	if in.OwnerUserID != nil {
		c.OwnerUserID = *in.OwnerUserID
	}
	if in.DueDate != nil {
		t, err := auditprog.ParseDate(*in.DueDate)
		if err != nil {
			return fieldErr("due_date", err.Error())
		}
		c.DueDate = t
	}
	return nil
}

func (s *Server) createCAPA(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.ismsRisk.Store.ISMSFinding(r.Context(), scope(r), id); err != nil {
		return err
	}
	var in CAPAInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c := auditprog.CAPA{FindingID: id}
	if err := in.apply(&c); err != nil {
		return err
	}
	if err := s.ismsRisk.Store.ISMSCAPACreate(r.Context(), scope(r), &c); err != nil {
		return err
	}
	f, err := s.ismsRisk.Store.ISMSFinding(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, f)
	return nil
}

func (s *Server) updateCAPA(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, _, err := s.ismsRisk.Store.ISMSCAPA(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	var in CAPAInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := in.apply(c); err != nil {
		return err
	}
	if err := s.ismsRisk.Store.ISMSCAPAUpdate(r.Context(), scope(r), principal(r).Username, c); err != nil {
		return err
	}
	f, err := s.ismsRisk.Store.ISMSFinding(r.Context(), scope(r), c.FindingID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

func (s *Server) listMyAuditGrants(w http.ResponseWriter, r *http.Request) error {
	list, err := s.ismsRisk.Store.ISMSAuditGrantsOf(r.Context(), principal(r).UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, len(list)+1, 0))
	return nil
}

func (s *Server) downloadAuditorEvidence(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	eid, err := pathID(r, "evidence")
	if err != nil {
		return err
	}
	if s.ismsRisk.Audits == nil || s.isms.Office == nil {
		return errUnavailable
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
	w.Header().Set("X-Content-Type-Options", "nosniff")
	return ismscSend(w, "application/octet-stream", e.FileName, b)
}

func (s *Server) getAuditorAudit(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if s.ismsRisk.Audits == nil {
		return errUnavailable
	}
	v, err := s.ismsRisk.Audits.AuditorView(r.Context(), principal(r), id, "en")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}
