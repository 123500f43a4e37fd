package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance"
	"github.com/custodia/custodia/internal/isms/compliance/office"
	"github.com/custodia/custodia/internal/isms/ens"
	"github.com/custodia/custodia/internal/problem"
	"github.com/custodia/custodia/internal/store"
)

// ISMSDeps are the services the isms operations need; with them unset the
// module declares no operations.
type ISMSDeps struct {
	// Office is the compliance service (frameworks, controls, evidence,
	// SoA, ENS, dashboard, reports).
	Office *office.Office
}

// Role groups of the compliance operations.
var (
	// ismscReaders read the compliance records (auditors included).
	ismscReaders = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}
	// ismscWriters change them.
	ismscWriters = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO}
)

// ISMSControlInput creates or changes a control; absent fields keep their value.
type ISMSControlInput struct {
	Code          *string                   `json:"code,omitempty"`
	Title         *string                   `json:"title,omitempty"`
	Description   *string                   `json:"description,omitempty"`
	Status        *compliance.ControlStatus `json:"status,omitempty" doc:"planned, partial, implemented or not_applicable"`
	OwnerUserID   *int64                    `json:"owner_user_id,omitempty"`
	ClientID      *int64                    `json:"client_id,omitempty" doc:"0 or absent: operator-wide"`
	ReviewAt      *string                   `json:"review_at,omitempty" doc:"next review date, YYYY-MM-DD; empty clears it"`
	Effectiveness *compliance.Effectiveness `json:"effectiveness,omitempty"`
	Requirements  *[]string                 `json:"requirements,omitempty" doc:"catalogue:requirement references"`
}

// ISMSEvidenceInput adds an evidence item: a file (content_base64), a link
// (url) or a record of another module (record_module, record_ref).
type ISMSEvidenceInput struct {
	Kind          compliance.EvidenceKind `json:"kind" doc:"file, link or record"`
	Title         string                  `json:"title"`
	ControlID     int64                   `json:"control_id,omitempty"`
	Catalog       string                  `json:"catalog,omitempty"`
	Requirement   string                  `json:"requirement,omitempty"`
	ENSSystemID   int64                   `json:"ens_system_id,omitempty"`
	ClientID      int64                   `json:"client_id,omitempty"`
	URL           string                  `json:"url,omitempty"`
	RecordModule  string                  `json:"record_module,omitempty"`
	RecordRef     string                  `json:"record_ref,omitempty"`
	FileName      string                  `json:"file_name,omitempty"`
	ContentType   string                  `json:"content_type,omitempty"`
	ContentBase64 string                  `json:"content_base64,omitempty"`
	CollectedAt   string                  `json:"collected_at" doc:"YYYY-MM-DD or RFC 3339"`
	FreshDays     int                     `json:"fresh_days,omitempty" doc:"freshness period in days (default 365)"`
}

// ISMSFrameworkImport imports a catalogue under key.
type ISMSFrameworkImport struct {
	Key      string `json:"key"`
	Format   string `json:"format" doc:"oscal (OSCAL JSON catalog), oscal-profile (OSCAL JSON profile selecting controls of loaded frameworks) or ciso-assistant (library YAML)"`
	Document string `json:"document"`
	Mappings string `json:"mappings,omitempty" doc:"optional mappings in Custodia's mappings.yaml format"`
}

// ISMSAssessmentImport carries an OSCAL assessment-results document.
type ISMSAssessmentImport struct {
	Document string `json:"document" doc:"OSCAL assessment-results JSON; every finding targets a control of the framework"`
}

// ISMSRequirementInput records the statement about one requirement.
type ISMSRequirementInput struct {
	Applicable    *bool           `json:"applicable,omitempty"`
	Justification *string         `json:"justification,omitempty"`
	Status        *catalog.Status `json:"status,omitempty" doc:"not_implemented, partial or implemented"`
	OwnerUserID   *int64          `json:"owner_user_id,omitempty"`
}

// ISMSENSSystemInput creates or changes an ENS system; absent fields keep
// their value. Levels are BAJO, MEDIO, ALTO or n.a.
type ISMSENSSystemInput struct {
	Name              *string           `json:"name,omitempty"`
	Description       *string           `json:"description,omitempty"`
	ClientID          *int64            `json:"client_id,omitempty"`
	Valuation         map[string]string `json:"valuation,omitempty" doc:"levels by dimension C, I, T, A, D: BAJO, MEDIO, ALTO or n.a. (absent: n.a.)"`
	ResponsibleUserID *int64            `json:"responsible_user_id,omitempty"`
	LastAuditAt       *string           `json:"last_audit_at,omitempty" doc:"last ordinary audit or self-assessment, YYYY-MM-DD"`
}

// ISMSMeasureInput records a measure's status in a system.
type ISMSMeasureInput struct {
	Status        catalog.Status             `json:"status" doc:"not_implemented, partial or implemented"`
	Note          string                     `json:"note,omitempty"`
	Override      compliance.MeasureOverride `json:"override,omitempty" doc:"empty, applies or excluded (justification required)"`
	Justification string                     `json:"justification,omitempty"`
}

// ISMSExtraInput adds a compensatory or complementary measure.
type ISMSExtraInput struct {
	Kind          ens.ExtraKind `json:"kind" doc:"compensatoria or complementaria"`
	Title         string        `json:"title"`
	Measures      []string      `json:"measures,omitempty"`
	Justification string        `json:"justification"`
}

// ISMSSignInput signs the current declaration: confirm is the system's name.
type ISMSSignInput struct {
	Confirm string `json:"confirm" doc:"the system's name, typed to confirm the signature"`
}

// ISMSENSSystemView is a system with its current declaration.
type ISMSENSSystemView struct {
	System       compliance.ENSSystem     `json:"system"`
	Declaration  *office.DeclarationDoc   `json:"declaration"`
	Declarations []compliance.Declaration `json:"signed_versions"`
}

// ISMSDashboard is the compliance overview.
type ISMSDashboard = office.Dashboard

func (s *Server) declareISMS() {
	if s.isms.Office == nil {
		return
	}
	get, post, patch, del := http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
	read := authz.Roles(roles(ismscReaders)...).WithClientScoped()
	write := authz.Roles(roles(ismscWriters)...).WithClientScoped()
	id := pathParam("id", "the resource's id")
	key := param{Name: "key", In: "path", Type: "string", Required: true, Doc: "the catalogue id, e.g. iso27001-2022"}
	ref := param{Name: "ref", In: "path", Type: "string", Required: true, Doc: "the requirement id, e.g. A.8.13"}
	lang := queryParam("lang", "string", "en or es (default en)")
	tag := "isms"

	s.add(&operation{Method: get, Path: "/isms/dashboard", Policy: read, ID: "getISMSDashboard", Tag: tag,
		Summary: "Compliance per framework and client (share of applicable requirements implemented with fresh evidence), control health, findings, risks above appetite and the trend.",
		Params:  []param{queryParam("days", "integer", "trend window in days (default 90)")}, Response: ISMSDashboard{}, Handler: s.ismsDashboard})
	s.add(&operation{Method: get, Path: "/isms/reports/ens-summary.pdf", Policy: read, ID: "getISMSENSSummary", Tag: tag,
		Summary: "The ENS state-of-security summary as PDF.", Params: []param{lang}, Response: "", ResponseType: "application/pdf", Handler: s.ismsSummaryPDF})

	s.add(&operation{Method: get, Path: "/isms/frameworks", Policy: read, ID: "listISMSFrameworks", Tag: tag,
		Summary: "The loaded frameworks and every version of them.", Response: []compliance.Framework{}, Handler: s.ismsFrameworks})
	s.add(&operation{Method: post, Path: "/isms/frameworks", Policy: write, ID: "importISMSFramework", Tag: tag,
		Summary: "Import an OSCAL catalog, an OSCAL profile (stored as a framework holding the controls it selects from loaded frameworks) or a CISO Assistant library as a new version of a framework; a malformed document, an unknown catalogue or control id reports where and why and changes nothing.",
		Request: ISMSFrameworkImport{}, Status: http.StatusCreated, Response: compliance.Framework{}, Handler: s.ismsImport})
	s.add(&operation{Method: get, Path: "/isms/frameworks/{key}/oscal", Policy: read, ID: "exportISMSFrameworkOSCAL", Tag: tag,
		Summary: "Export a framework as an OSCAL catalog.", Params: []param{key}, Response: "", ResponseType: "application/json", Handler: s.ismsExportOSCAL})
	s.add(&operation{Method: del, Path: "/isms/frameworks/{key}", Policy: write, ID: "deleteISMSFramework", Tag: tag,
		Summary: "Delete an imported framework; refused (409, with the references) while controls or evidence refer to it.", Params: []param{key}, Handler: s.ismsDeleteFramework})
	s.add(&operation{Method: get, Path: "/isms/frameworks/{key}/soa", Policy: read, ID: "getISMSSoA", Tag: tag,
		Summary: "Statement of Applicability: every requirement (ISO 27001: the Annex A controls) with applicability, justification, status, owner, controls, evidence, risks and the status drafted through the mappings.",
		Params:  []param{key}, Response: []office.SoARow{}, Handler: s.ismsSoA})
	s.add(&operation{Method: get, Path: "/isms/frameworks/{key}/soa.pdf", Policy: read, ID: "getISMSSoAPDF", Tag: tag,
		Summary: "The Statement of Applicability as PDF.", Params: []param{key, lang}, Response: "", ResponseType: "application/pdf", Handler: s.ismsSoAPDF})
	s.add(&operation{Method: get, Path: "/isms/frameworks/{key}/soa.xlsx", Policy: read, ID: "getISMSSoAXLSX", Tag: tag,
		Summary:  "The Statement of Applicability as an XLSX workbook.",
		Params:   []param{key, lang},
		Response: "", ResponseType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Handler: s.ismsSoAXLSX})
	s.add(&operation{Method: get, Path: "/isms/frameworks/{key}/soa.oscal-profile.json", Policy: read, ID: "getISMSSoAOSCALProfile", Tag: tag,
		Summary: "The Statement of Applicability as an OSCAL profile selecting the applicable requirements.", Params: []param{key},
		Response: "", ResponseType: "application/json", Handler: s.ismsSoAOSCALProfile})
	s.add(&operation{Method: get, Path: "/isms/frameworks/{key}/soa.oscal-results.json", Policy: read, ID: "getISMSSoAOSCALResults", Tag: tag,
		Summary: "The Statement of Applicability as OSCAL assessment results (one finding per applicable requirement).", Params: []param{key},
		Response: "", ResponseType: "application/json", Handler: s.ismsSoAOSCALResults})
	s.add(&operation{Method: post, Path: "/isms/frameworks/{key}/assessment-results", Policy: write, ID: "importISMSAssessmentResults", Tag: tag,
		Summary: "Import OSCAL assessment results: each finding's state (satisfied, not-satisfied) becomes the implementation status of the targeted requirement, in one audited transaction (callers who see every client); unknown control ids are refused with their list and nothing changes.",
		Params:  []param{key}, Request: ISMSAssessmentImport{}, Response: office.AssessmentImport{}, Handler: s.ismsImportAssessment})
	s.add(&operation{Method: patch, Path: "/isms/frameworks/{key}/requirements/{ref}", Policy: write, ID: "updateISMSRequirement", Tag: tag,
		Summary: "Record whether a requirement applies (justification required when not), its status and owner (callers who see every client).",
		Params:  []param{key, ref}, Request: ISMSRequirementInput{}, Response: compliance.RequirementState{}, Handler: s.ismsSetRequirement})
	s.add(&operation{Method: del, Path: "/isms/frameworks/{key}/requirements/{ref}", Policy: write, ID: "deleteISMSRequirement", Tag: tag,
		Summary: "Remove a requirement from an imported framework (a new version); refused (409, with the references) while controls or evidence refer to it.",
		Params:  []param{key, ref}, Handler: s.ismsDeleteRequirement})

	s.add(&operation{Method: get, Path: "/isms/controls", Policy: read, ID: "listISMSControls", Tag: tag,
		Summary: "List the controls in scope with their links, evidence counts and health.",
		Params: []param{queryParam("q", "string", "code or title contains"), queryParam("client_id", "integer", "only this client's and operator-wide controls"),
			queryParam("requirement", "string", "only controls linked to catalogue:requirement")},
		Response: []compliance.Control{}, Handler: s.ismsControls})
	s.add(&operation{Method: post, Path: "/isms/controls", Policy: write, ID: "createISMSControl", Tag: tag,
		Summary: "Create a control linked to requirements of any framework.", Request: ISMSControlInput{}, Status: http.StatusCreated, Response: compliance.Control{}, Handler: s.ismsCreateControl})
	s.add(&operation{Method: get, Path: "/isms/controls/{id}", Policy: read, ID: "getISMSControl", Tag: tag,
		Summary: "Get a control.", Params: []param{id}, Response: compliance.Control{}, Handler: s.ismsGetControl})
	s.add(&operation{Method: patch, Path: "/isms/controls/{id}", Policy: write, ID: "updateISMSControl", Tag: tag,
		Summary: "Change a control.", Params: []param{id}, Request: ISMSControlInput{}, Response: compliance.Control{}, Handler: s.ismsUpdateControl})
	s.add(&operation{Method: del, Path: "/isms/controls/{id}", Policy: write, ID: "deleteISMSControl", Tag: tag,
		Summary: "Delete a control; refused (409, with the references) while evidence, risks or findings refer to it.", Params: []param{id}, Handler: s.ismsDeleteControl})

	s.add(&operation{Method: get, Path: "/isms/evidence", Policy: read, ID: "listISMSEvidence", Tag: tag,
		Summary: "List evidence in scope.",
		Params: []param{queryParam("control_id", "integer", "of this control"), queryParam("requirement", "string", "given directly for catalogue:requirement"),
			queryParam("ens_system_id", "integer", "of this ENS system")},
		Response: []compliance.Evidence{}, Handler: s.ismsEvidenceList})
	s.add(&operation{Method: post, Path: "/isms/evidence", Policy: write, ID: "addISMSEvidence", Tag: tag,
		Summary: "Add evidence for a control or a requirement; a file is encrypted at rest and its SHA-256 recorded in the audit trail.",
		Request: ISMSEvidenceInput{}, Status: http.StatusCreated, Response: compliance.Evidence{}, Handler: s.ismsAddEvidence})
	s.add(&operation{Method: get, Path: "/isms/evidence/{id}", Policy: read, ID: "getISMSEvidence", Tag: tag,
		Summary: "Get an evidence item.", Params: []param{id}, Response: compliance.Evidence{}, Handler: s.ismsGetEvidence})
	s.add(&operation{Method: get, Path: "/isms/evidence/{id}/file", Policy: read, ID: "downloadISMSEvidence", Tag: tag,
		Summary: "Download an evidence file (checked against its SHA-256; the download is audited).", Params: []param{id},
		Response: "", ResponseType: "application/octet-stream", Handler: s.ismsEvidenceFile})
	s.add(&operation{Method: del, Path: "/isms/evidence/{id}", Policy: write, ID: "deleteISMSEvidence", Tag: tag,
		Summary: "Delete an evidence item.", Params: []param{id}, Handler: s.ismsDeleteEvidence})

	s.add(&operation{Method: get, Path: "/isms/ens/systems", Policy: read, ID: "listISMSENSSystems", Tag: tag,
		Summary: "List the ENS information systems and services in scope with their category.", Response: []compliance.ENSSystem{}, Handler: s.ismsSystems})
	s.add(&operation{Method: post, Path: "/isms/ens/systems", Policy: write, ID: "createISMSENSSystem", Tag: tag,
		Summary: "Value a system in C, I, T, A, D; its category and measures follow.", Request: ISMSENSSystemInput{}, Status: http.StatusCreated, Response: compliance.ENSSystem{}, Handler: s.ismsCreateSystem})
	s.add(&operation{Method: get, Path: "/isms/ens/systems/{id}", Policy: read, ID: "getISMSENSSystem", Tag: tag,
		Summary: "A system with its current Declaración de Aplicabilidad, conformity path and signed versions.", Params: []param{id}, Response: ISMSENSSystemView{}, Handler: s.ismsGetSystem})
	s.add(&operation{Method: patch, Path: "/isms/ens/systems/{id}", Policy: write, ID: "updateISMSENSSystem", Tag: tag,
		Summary: "Change a system (valuation, responsible person, last audit).", Params: []param{id}, Request: ISMSENSSystemInput{}, Response: compliance.ENSSystem{}, Handler: s.ismsUpdateSystem})
	s.add(&operation{Method: del, Path: "/isms/ens/systems/{id}", Policy: write, ID: "deleteISMSENSSystem", Tag: tag,
		Summary: "Delete a system; refused while evidence or signed declarations refer to it.", Params: []param{id}, Handler: s.ismsDeleteSystem})
	measure := param{Name: "measure", In: "path", Type: "string", Required: true, Doc: "the Anexo II measure, e.g. op.acc.6"}
	s.add(&operation{Method: patch, Path: "/isms/ens/systems/{id}/measures/{measure}", Policy: write, ID: "updateISMSENSMeasure", Tag: tag,
		Summary: "Record a measure's status in a system, or override Anexo II with a justification.", Params: []param{id, measure}, Request: ISMSMeasureInput{}, Response: compliance.MeasureState{}, Handler: s.ismsSetMeasure})
	s.add(&operation{Method: post, Path: "/isms/ens/systems/{id}/extras", Policy: write, ID: "addISMSENSExtra", Tag: tag,
		Summary: "Add a justified compensatory or complementary measure.", Params: []param{id}, Request: ISMSExtraInput{}, Status: http.StatusCreated, Response: compliance.ENSExtra{}, Handler: s.ismsAddExtra})
	extra := pathParam("extra", "the extra measure's id")
	s.add(&operation{Method: del, Path: "/isms/ens/systems/{id}/extras/{extra}", Policy: write, ID: "deleteISMSENSExtra", Tag: tag,
		Summary: "Remove a compensatory or complementary measure.", Params: []param{id, extra}, Handler: s.ismsDeleteExtra})
	s.add(&operation{Method: post, Path: "/isms/ens/systems/{id}/sign", Policy: write, ID: "signISMSENSDeclaration", Tag: tag,
		Summary: "Sign the current declaration as a new immutable version (the responsible person, confirming with the system's name).",
		Params:  []param{id}, Request: ISMSSignInput{}, Status: http.StatusCreated, Response: compliance.Declaration{}, Handler: s.ismsSign})
	s.add(&operation{Method: get, Path: "/isms/ens/systems/{id}/declaration.pdf", Policy: read, ID: "getISMSENSDeclarationPDF", Tag: tag,
		Summary:  "The Declaración de Aplicabilidad as PDF: a signed version, or the current draft.",
		Params:   []param{id, queryParam("version", "integer", "signed version (default: the current draft)"), lang},
		Response: "", ResponseType: "application/pdf", Handler: s.ismsDeclarationPDF})
}

// ismscErr maps the compliance service's errors: references that block a
// deletion are a 409 listing them; a malformed import a 422 saying where.
func ismscErr(err error) error {
	var ie *office.ImportError
	if errors.As(err, &ie) {
		return problemError{&problem.Details{Status: http.StatusUnprocessableEntity, Detail: "The document was not imported and nothing changed.",
			Errors: []problem.FieldError{{Field: "document", Message: ie.Error()}}}}
	}
	var inUse *compliance.InUseError
	if errors.As(err, &inUse) {
		fe := make([]problem.FieldError, 0, len(inUse.References))
		for _, r := range inUse.References {
			fe = append(fe, problem.FieldError{Field: r.Kind, Message: fmt.Sprintf("%s (id %d) refers to it", r.Label, r.ID)})
		}
		return problemError{&problem.Details{Status: http.StatusConflict, Detail: "It is still referred to: " + inUse.Error() + ".", Errors: fe}}
	}
	return err
}

func ismscLang(r *http.Request) (string, error) {
	switch l := r.URL.Query().Get("lang"); l {
	case "":
		return "en", nil
	case "en", "es":
		return l, nil
	}
	return "", fieldErr("lang", "must be en or es")
}

func ismscDate(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fieldErr(field, "must be a date (YYYY-MM-DD)")
}

func ismscSend(w http.ResponseWriter, ctype, name string, b []byte) error {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeFilename(name)+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err := w.Write(b)
	return err
}

func (s *Server) ismsDashboard(w http.ResponseWriter, r *http.Request) error {
	days, err := queryInt(r, "days")
	if err != nil {
		return err
	}
	if days == 0 {
		days = 90
	}
	if days > 3660 {
		return fieldErr("days", "must be at most 3660")
	}
	d, err := s.isms.Office.Dashboard(r.Context(), principal(r), int(days))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) ismsSummaryPDF(w http.ResponseWriter, r *http.Request) error {
	lang, err := ismscLang(r)
	if err != nil {
		return err
	}
	b, err := s.isms.Office.SummaryPDF(r.Context(), principal(r), lang)
	if err != nil {
		return err
	}
	return ismscSend(w, "application/pdf", "ens-summary-"+lang+".pdf", b)
}

func (s *Server) ismsFrameworks(w http.ResponseWriter, r *http.Request) error {
	fws, err := s.store.ISMSFrameworks(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, fws)
	return nil
}

func (s *Server) ismsImport(w http.ResponseWriter, r *http.Request) error {
	var in ISMSFrameworkImport
	if err := decode(r, &in); err != nil {
		return err
	}
	f, err := s.isms.Office.Import(r.Context(), principal(r), in.Key, office.ImportFormat(in.Format), []byte(in.Document), []byte(in.Mappings))
	if err != nil {
		return ismscErr(err)
	}
	writeJSON(w, http.StatusCreated, f)
	return nil
}

func (s *Server) ismsExportOSCAL(w http.ResponseWriter, r *http.Request) error {
	c, err := s.isms.Office.Catalog(r.PathValue("key"))
	if err != nil {
		return err
	}
	b, err := catalog.ExportOSCAL(c, s.isms.Office.Now())
	if err != nil {
		return err
	}
	return ismscSend(w, "application/json", c.ID+"-oscal.json", b)
}

func (s *Server) ismsDeleteFramework(w http.ResponseWriter, r *http.Request) error {
	if err := s.isms.Office.DeleteFramework(r.Context(), r.PathValue("key")); err != nil {
		return ismscErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) ismsSoARows(r *http.Request) (*catalog.Catalog, []office.SoARow, error) {
	c, err := s.isms.Office.Catalog(r.PathValue("key"))
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.isms.Office.SoA(r.Context(), principal(r), c.ID)
	return c, rows, err
}

func (s *Server) ismsSoA(w http.ResponseWriter, r *http.Request) error {
	_, rows, err := s.ismsSoARows(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rows)
	return nil
}

func (s *Server) ismsSoAPDF(w http.ResponseWriter, r *http.Request) error {
	lang, err := ismscLang(r)
	if err != nil {
		return err
	}
	c, rows, err := s.ismsSoARows(r)
	if err != nil {
		return err
	}
	b, err := s.isms.Office.SoAPDF(c, rows, lang)
	if err != nil {
		return err
	}
	return ismscSend(w, "application/pdf", "soa-"+c.ID+"-"+lang+".pdf", b)
}

func (s *Server) ismsSoAXLSX(w http.ResponseWriter, r *http.Request) error {
	lang, err := ismscLang(r)
	if err != nil {
		return err
	}
	c, rows, err := s.ismsSoARows(r)
	if err != nil {
		return err
	}
	b, err := s.isms.Office.SoAXLSX(c, rows, lang)
	if err != nil {
		return err
	}
	return ismscSend(w, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "soa-"+c.ID+"-"+lang+".xlsx", b)
}

func (s *Server) ismsSoAOSCALProfile(w http.ResponseWriter, r *http.Request) error {
	b, err := s.isms.Office.SoAOSCAL(r.Context(), principal(r), r.PathValue("key"), false)
	if err != nil {
		return err
	}
	return ismscSend(w, "application/json", "soa-"+r.PathValue("key")+"-oscal-profile.json", b)
}

func (s *Server) ismsSoAOSCALResults(w http.ResponseWriter, r *http.Request) error {
	b, err := s.isms.Office.SoAOSCAL(r.Context(), principal(r), r.PathValue("key"), true)
	if err != nil {
		return err
	}
	return ismscSend(w, "application/json", "soa-"+r.PathValue("key")+"-oscal-results.json", b)
}

func (s *Server) ismsImportAssessment(w http.ResponseWriter, r *http.Request) error {
	var in ISMSAssessmentImport
	if err := decode(r, &in); err != nil {
		return err
	}
	res, err := s.isms.Office.ImportAssessment(r.Context(), principal(r), r.PathValue("key"), []byte(in.Document))
	if err != nil {
		return ismscErr(err)
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) ismsSetRequirement(w http.ResponseWriter, r *http.Request) error {
	var in ISMSRequirementInput
	if err := decode(r, &in); err != nil {
		return err
	}
	key, ref := r.PathValue("key"), r.PathValue("ref")
	c, err := s.isms.Office.Catalog(key)
	if err != nil {
		return err
	}
	if _, err := c.Requirement(ref); err != nil {
		return errNotFound
	}
	states, err := s.store.ISMSRequirementStates(r.Context(), key)
	if err != nil {
		return err
	}
	st, ok := states[ref]
	if !ok {
		st = compliance.RequirementState{Catalog: key, Requirement: ref, Applicable: true, Status: catalog.NotImplemented}
	}
	if in.Applicable != nil {
		st.Applicable = *in.Applicable
		if st.Applicable && st.Status == catalog.NotApplicable {
			st.Status = catalog.NotImplemented
		}
	}
	if in.Justification != nil {
		st.Justification = *in.Justification
	}
	if in.Status != nil {
		st.Status = *in.Status
	}
	if in.OwnerUserID != nil {
		st.OwnerUserID = *in.OwnerUserID
	}
	if err := s.isms.Office.SetRequirementState(r.Context(), principal(r), &st); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) ismsDeleteRequirement(w http.ResponseWriter, r *http.Request) error {
	if err := s.isms.Office.DeleteRequirement(r.Context(), principal(r), r.PathValue("key"), r.PathValue("ref")); err != nil {
		return ismscErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) ismsControls(w http.ResponseWriter, r *http.Request) error {
	f := store.ISMSControlFilter{Scope: scope(r)}
	var err error
	if f.ClientID, err = queryInt(r, "client_id"); err != nil {
		return err
	}
	if f.Query, err = queryString(r, "q", 200); err != nil {
		return err
	}
	if req := r.URL.Query().Get("requirement"); req != "" {
		ref, err := catalog.ParseRef(req)
		if err != nil {
			return fieldErr("requirement", "must be catalogue:requirement")
		}
		f.Catalog, f.Requirement = ref.Catalog, ref.Requirement
	}
	list, err := s.store.ISMSControls(r.Context(), f, s.isms.Office.Now())
	if err != nil {
		return err
	}
	if list == nil {
		list = []compliance.Control{}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func ismsApplyControl(c *compliance.Control, in *ISMSControlInput) error {
	if in.Code != nil {
		c.Code = *in.Code
	}
	if in.Title != nil {
		c.Title = *in.Title
	}
	if in.Description != nil {
		c.Description = *in.Description
	}
	if in.Status != nil {
		c.Status = *in.Status
	}
	if in.OwnerUserID != nil {
		c.OwnerUserID = *in.OwnerUserID
	}
	if in.ClientID != nil {
		c.ClientID = *in.ClientID
	}
	if in.Effectiveness != nil {
		c.Effectiveness = *in.Effectiveness
	}
	if in.ReviewAt != nil {
		t, err := ismscDate("review_at", *in.ReviewAt)
		if err != nil {
			return err
		}
		c.ReviewAt = t
	}
	if in.Requirements != nil {
		c.Requirements = nil
		for _, s := range *in.Requirements {
			ref, err := catalog.ParseRef(s)
			if err != nil {
				return fieldErr("requirements", "must be catalogue:requirement references")
			}
			c.Requirements = append(c.Requirements, ref)
		}
	}
	return nil
}

func (s *Server) ismsCreateControl(w http.ResponseWriter, r *http.Request) error {
	var in ISMSControlInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var c compliance.Control
	if err := ismsApplyControl(&c, &in); err != nil {
		return err
	}
	if err := checkClients(r, "client_id", c.ClientID); err != nil {
		return err
	}
	if err := s.isms.Office.SaveControl(r.Context(), principal(r), &c); err != nil {
		return err
	}
	got, err := s.store.ISMSControl(r.Context(), scope(r), c.ID, s.isms.Office.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, got)
	return nil
}

func (s *Server) ismsGetControl(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.ISMSControl(r.Context(), scope(r), id, s.isms.Office.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) ismsUpdateControl(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.ISMSControl(r.Context(), scope(r), id, s.isms.Office.Now())
	if err != nil {
		return err
	}
	var in ISMSControlInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := ismsApplyControl(c, &in); err != nil {
		return err
	}
	if err := checkClients(r, "client_id", c.ClientID); err != nil {
		return err
	}
	if err := s.isms.Office.SaveControl(r.Context(), principal(r), c); err != nil {
		return err
	}
	got, err := s.store.ISMSControl(r.Context(), scope(r), id, s.isms.Office.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, got)
	return nil
}

func (s *Server) ismsDeleteControl(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.isms.Office.DeleteControl(r.Context(), principal(r), id); err != nil {
		return ismscErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) ismsEvidenceList(w http.ResponseWriter, r *http.Request) error {
	f := store.ISMSEvidenceFilter{Scope: scope(r)}
	var err error
	if f.ControlID, err = queryInt(r, "control_id"); err != nil {
		return err
	}
	if f.ENSSystemID, err = queryInt(r, "ens_system_id"); err != nil {
		return err
	}
	if req := r.URL.Query().Get("requirement"); req != "" {
		ref, err := catalog.ParseRef(req)
		if err != nil {
			return fieldErr("requirement", "must be catalogue:requirement")
		}
		f.Catalog, f.Requirement = ref.Catalog, ref.Requirement
	}
	list, err := s.store.ISMSEvidenceList(r.Context(), f)
	if err != nil {
		return err
	}
	if list == nil {
		list = []compliance.Evidence{}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) ismsAddEvidence(w http.ResponseWriter, r *http.Request) error {
	var in ISMSEvidenceInput
	if err := decode(r, &in); err != nil {
		return err
	}
	collected, err := ismscDate("collected_at", in.CollectedAt)
	if err != nil {
		return err
	}
	var file []byte
	if in.ContentBase64 != "" {
		if file, err = base64.StdEncoding.DecodeString(in.ContentBase64); err != nil {
			return fieldErr("content_base64", "is not valid base64")
		}
	}
	if err := checkClients(r, "client_id", in.ClientID); err != nil {
		return err
	}
	e := compliance.Evidence{Kind: in.Kind, Title: in.Title, ControlID: in.ControlID, Catalog: in.Catalog, Requirement: in.Requirement,
		ENSSystemID: in.ENSSystemID, ClientID: in.ClientID, URL: in.URL, RecordModule: in.RecordModule, RecordRef: in.RecordRef,
		FileName: in.FileName, ContentType: in.ContentType, CollectedAt: collected, FreshDays: in.FreshDays}
	if err := s.isms.Office.AddEvidence(r.Context(), principal(r), &e, file); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func (s *Server) ismsGetEvidence(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	e, err := s.store.ISMSEvidence(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
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
	w.Header().Set("X-Content-Type-Options", "nosniff")
	return ismscSend(w, "application/octet-stream", e.FileName, b)
}

func (s *Server) ismsDeleteEvidence(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.isms.Office.DeleteEvidence(r.Context(), principal(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) ismsSystems(w http.ResponseWriter, r *http.Request) error {
	list, err := s.store.ISMSENSSystems(r.Context(), scope(r))
	if err != nil {
		return err
	}
	if list == nil {
		list = []compliance.ENSSystem{}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func ismsApplySystem(sys *compliance.ENSSystem, in *ISMSENSSystemInput) error {
	if in.Name != nil {
		sys.Name = *in.Name
	}
	if in.Description != nil {
		sys.Description = *in.Description
	}
	if in.ClientID != nil {
		sys.ClientID = *in.ClientID
	}
	if in.Valuation != nil {
		var v ens.Valuation
		for k, s := range in.Valuation {
			l, err := ens.ParseLevel(s)
			if err != nil {
				return fieldErr("valuation."+k, "must be BAJO, MEDIO, ALTO or n.a.")
			}
			switch k {
			case "C":
				v.C = l
			case "I":
				v.I = l
			case "T":
				v.T = l
			case "A":
				v.A = l
			case "D":
				v.D = l
			default:
				return fieldErr("valuation."+k, "is not a dimension (C, I, T, A, D)")
			}
		}
		sys.Valuation = v
	}
	if in.ResponsibleUserID != nil {
		sys.ResponsibleUserID = *in.ResponsibleUserID
	}
	if in.LastAuditAt != nil {
		t, err := ismscDate("last_audit_at", *in.LastAuditAt)
		if err != nil {
			return err
		}
		sys.LastAuditAt = t
	}
	return nil
}

func (s *Server) ismsCreateSystem(w http.ResponseWriter, r *http.Request) error {
	var in ISMSENSSystemInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var sys compliance.ENSSystem
	if err := ismsApplySystem(&sys, &in); err != nil {
		return err
	}
	if err := checkClients(r, "client_id", sys.ClientID); err != nil {
		return err
	}
	if err := s.isms.Office.SaveSystem(r.Context(), principal(r), &sys); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, sys)
	return nil
}

func (s *Server) ismsGetSystem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	doc, err := s.isms.Office.Declaration(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	signed, err := s.store.ISMSDeclarations(r.Context(), id)
	if err != nil {
		return err
	}
	if signed == nil {
		signed = []compliance.Declaration{}
	}
	writeJSON(w, http.StatusOK, ISMSENSSystemView{System: doc.System, Declaration: doc, Declarations: signed})
	return nil
}

func (s *Server) ismsUpdateSystem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sys, err := s.store.ISMSENSSystem(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	var in ISMSENSSystemInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := ismsApplySystem(sys, &in); err != nil {
		return err
	}
	if err := checkClients(r, "client_id", sys.ClientID); err != nil {
		return err
	}
	if err := s.isms.Office.SaveSystem(r.Context(), principal(r), sys); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sys)
	return nil
}

func (s *Server) ismsDeleteSystem(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	sys, err := s.store.ISMSENSSystem(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	if sys.ClientID == 0 && !scope(r).All {
		return office.ErrOperatorWide
	}
	if err := s.store.ISMSDeleteENSSystem(r.Context(), scope(r), id); err != nil {
		return ismscErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) ismsSetMeasure(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.ISMSENSSystem(r.Context(), scope(r), id); err != nil {
		return err
	}
	var in ISMSMeasureInput
	if err := decode(r, &in); err != nil {
		return err
	}
	m := compliance.MeasureState{Measure: r.PathValue("measure"), Status: in.Status, Note: in.Note, Override: in.Override, Justification: in.Justification}
	if err := s.isms.Office.SetMeasure(r.Context(), principal(r), id, &m); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) ismsAddExtra(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.ISMSENSSystem(r.Context(), scope(r), id); err != nil {
		return err
	}
	var in ISMSExtraInput
	if err := decode(r, &in); err != nil {
		return err
	}
	x := compliance.ENSExtra{ExtraMeasure: ens.ExtraMeasure{Kind: in.Kind, Title: in.Title, Measures: in.Measures, Justification: in.Justification}}
	if err := s.isms.Office.AddExtra(r.Context(), principal(r), id, &x); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, x)
	return nil
}

func (s *Server) ismsDeleteExtra(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	extra, err := pathID(r, "extra")
	if err != nil {
		return err
	}
	if err := s.isms.Office.DeleteExtra(r.Context(), principal(r), id, extra); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) ismsSign(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.ISMSENSSystem(r.Context(), scope(r), id); err != nil {
		return err
	}
	var in ISMSSignInput
	if err := decode(r, &in); err != nil {
		return err
	}
	d, err := s.isms.Office.Sign(r.Context(), principal(r), id, in.Confirm)
	if err != nil {
		return err
	}
	d.Content = nil
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) ismsDeclarationPDF(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	lang, err := ismscLang(r)
	if err != nil {
		return err
	}
	version, err := queryInt(r, "version")
	if err != nil {
		return err
	}
	var doc *office.DeclarationDoc
	if version > 0 {
		doc, err = s.isms.Office.SignedDeclaration(r.Context(), principal(r), id, int(version))
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
	name := "declaracion-aplicabilidad-" + strconv.FormatInt(id, 10)
	if version > 0 {
		name += "-v" + strconv.FormatInt(version, 10)
	}
	return ismscSend(w, "application/pdf", name+"-"+lang+".pdf", b)
}

// ISMSOffice returns the compliance service the API was built with (nil
// without the module); tests and tools reach the module through it.
func (s *Server) ISMSOffice() *office.Office { return s.isms.Office }
