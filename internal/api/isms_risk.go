package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/identity"
	auditsvc "github.com/custodia/custodia/internal/isms/auditprog/service"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/magerit"
	"github.com/custodia/custodia/internal/isms/policy/reminder"
	"github.com/custodia/custodia/internal/isms/risk"
	"github.com/custodia/custodia/internal/store"
)

// ISMSRiskDeps are the services the isms risk operations need; with Store
// unset the module declares no operations.
type ISMSRiskDeps struct {
	Store *store.Store
	// Library holds the framework catalogues (audit criteria and checklists).
	Library *catalog.Library
	// Policies sends acknowledgement reminders (nil: the reminder operation answers 503).
	Policies *reminder.Service
	// Audits creates external auditors' accounts and the audit report.
	Audits *auditsvc.Service
	// Catalog translates the reports (PDF, SVG titles).
	Catalog *i18n.Catalog
}

// ismsrT is the translator of the reports in lang (en or es).
func (s *Server) ismsrT(lang string) risk.Translator {
	return func(key string, args ...any) string {
		if s.ismsRisk.Catalog == nil {
			return key
		}
		return s.ismsRisk.Catalog.T(lang, key, args...)
	}
}

// ismsrLang reads ?lang= (en or es, default en).
func ismsrLang(r *http.Request) (string, error) {
	lang := r.URL.Query().Get("lang")
	switch lang {
	case "":
		return "en", nil
	case "en", "es":
		return lang, nil
	}
	return "", fieldErr("lang", "must be en or es")
}

// Role groups of the risk, policy and audit operations.
var (
	// ismsrReaders read the risk register, policies and audits.
	ismsrReaders = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}
	// ismsrWriters change them.
	ismsrWriters = []identity.Role{identity.RoleAdmin, identity.RoleSecurity}
	// ismsrOwners may be risk owners and sign off a treatment, and approve policies.
	ismsrOwners = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO}
)

// declareISMSRisk declares the isms risk operations.
func (s *Server) declareISMSRisk() {
	if s.ismsRisk.Store == nil {
		return
	}
	get, post, patch, del := http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
	read := authz.Roles(roles(ismsrReaders)...).WithClientScoped()
	write := authz.Roles(roles(ismsrWriters)...).WithClientScoped()
	owners := authz.Roles(roles(ismsrOwners)...).WithClientScoped()
	id := pathParam("id", "the resource's id")

	s.add(&operation{Method: get, Path: "/isms/assets", Policy: read, ID: "listRiskAssets", Tag: "isms-risk",
		Summary:  "List the MAGERIT asset inventory in the caller's scope, with own and accumulated values per dimension.",
		Response: List[risk.Asset]{}, Handler: s.listRiskAssets})
	s.add(&operation{Method: get, Path: "/isms/assets/{id}", Policy: read, ID: "getRiskAsset", Tag: "isms-risk",
		Summary: "Get an asset.", Params: []param{id}, Response: risk.Asset{}, Handler: s.getRiskAsset})
	s.add(&operation{Method: post, Path: "/isms/assets", Policy: write, ID: "createRiskAsset", Tag: "isms-risk",
		Summary: "Create an asset; its dependencies may not form a cycle (the cycle is named).", Request: RiskAssetInput{}, Status: http.StatusCreated,
		Response: risk.Asset{}, Handler: s.createRiskAsset})
	s.add(&operation{Method: patch, Path: "/isms/assets/{id}", Policy: write, ID: "updateRiskAsset", Tag: "isms-risk",
		Summary: "Change an asset (absent fields are kept); values propagate to the assets it depends on.", Params: []param{id},
		Request: RiskAssetInput{}, Response: risk.Asset{}, Handler: s.updateRiskAsset})
	s.add(&operation{Method: del, Path: "/isms/assets/{id}", Policy: write, ID: "deleteRiskAsset", Tag: "isms-risk",
		Summary: "Delete an asset no risk refers to (otherwise 422 with the list).", Params: []param{id}, Handler: s.deleteRiskAsset})

	s.add(&operation{Method: get, Path: "/isms/threats", Policy: read, ID: "listRiskThreats", Tag: "isms-risk",
		Summary:  "List the threat catalogue (MAGERIT families N, I, E, A) with default degradation and frequency.",
		Response: List[risk.Threat]{}, Handler: s.listRiskThreats})
	s.add(&operation{Method: post, Path: "/isms/threats", Policy: write, ID: "createRiskThreat", Tag: "isms-risk",
		Summary: "Add a threat to the catalogue (callers who see every client).", Request: RiskThreatInput{}, Status: http.StatusCreated,
		Response: risk.Threat{}, Handler: s.createRiskThreat})
	s.add(&operation{Method: patch, Path: "/isms/threats/{id}", Policy: write, ID: "updateRiskThreat", Tag: "isms-risk",
		Summary: "Change a threat of the catalogue (callers who see every client).", Params: []param{id}, Request: RiskThreatInput{},
		Response: risk.Threat{}, Handler: s.updateRiskThreat})
	s.add(&operation{Method: del, Path: "/isms/threats/{id}", Policy: write, ID: "deleteRiskThreat", Tag: "isms-risk",
		Summary: "Delete a threat no risk uses (otherwise 422 with the list).", Params: []param{id}, Handler: s.deleteRiskThreat})

	s.add(&operation{Method: get, Path: "/isms/risks", Policy: read, ID: "listRisks", Tag: "isms-risk",
		Summary: "List the risks in scope with potential and residual levels computed now, highest residual first.",
		Params: append([]param{queryParam("asset_id", "integer", "only risks on this asset"), queryParam("threat_id", "integer", "only this threat"),
			queryParam("above_appetite", "boolean", "only risks whose residual level exceeds the appetite")}, pageParams...),
		Response: List[risk.Risk]{}, Handler: s.listRisks})
	s.add(&operation{Method: get, Path: "/isms/risks/{id}", Policy: read, ID: "getRisk", Tag: "isms-risk",
		Summary: "Get a risk with its safeguards and its owner's latest sign-off (valid while the risk is unchanged).", Params: []param{id},
		Response: risk.Risk{}, Handler: s.getRisk})
	s.add(&operation{Method: post, Path: "/isms/risks", Policy: write, ID: "createRisk", Tag: "isms-risk",
		Summary: "Create a risk: a threat on an asset; degradation and frequency default to the threat's.", Request: RiskInput{},
		Status: http.StatusCreated, Response: risk.Risk{}, Handler: s.createRisk})
	s.add(&operation{Method: patch, Path: "/isms/risks/{id}", Policy: write, ID: "updateRisk", Tag: "isms-risk",
		Summary: "Change a risk, its treatment or safeguards (absent fields are kept); any change invalidates the owner's sign-off.",
		Params:  []param{id}, Request: RiskInput{}, Response: risk.Risk{}, Handler: s.updateRisk})
	s.add(&operation{Method: del, Path: "/isms/risks/{id}", Policy: write, ID: "deleteRisk", Tag: "isms-risk",
		Summary: "Delete a risk.", Params: []param{id}, Handler: s.deleteRisk})
	s.add(&operation{Method: post, Path: "/isms/risks/{id}/sign-off", Policy: owners, ID: "signOffRisk", Tag: "isms-risk",
		Summary: "The risk owner accepts the current treatment and residual level (recorded with who, when, level and revision).",
		Params:  []param{id}, Request: RiskSignOffInput{}, Status: http.StatusCreated, Response: risk.SignOff{}, Handler: s.signOffRisk})
	s.add(&operation{Method: post, Path: "/isms/risks/starter", Policy: write, ID: "loadRiskStarter", Tag: "isms-risk",
		Summary: "Load the contact-center starter assets, threats and risks for a client (or operator-wide); idempotent.",
		Request: RiskStarterInput{}, Response: store.RiskStarterResult{}, Handler: s.loadRiskStarter})
	s.add(&operation{Method: get, Path: "/isms/risks/heatmap.svg", Policy: read, ID: "riskHeatMap", Tag: "isms-risk",
		Summary:  "The heat map of the risks in scope as SVG: potential (inherent) or residual.",
		Params:   []param{queryParam("kind", "string", "potential or residual (default residual)"), queryParam("lang", "string", "en or es (default en)")},
		Response: "", ResponseType: "image/svg+xml", Handler: s.riskHeatMap})
	s.add(&operation{Method: get, Path: "/isms/risks/report.pdf", Policy: read, ID: "riskReport", Tag: "isms-risk",
		Summary:  "The risk report as PDF (lang es or en).",
		Params:   []param{queryParam("lang", "string", "en or es (default en)")},
		Response: "", ResponseType: "application/pdf", Handler: s.riskReport})
	s.add(&operation{Method: get, Path: "/isms/risk-settings", Policy: read, ID: "getRiskSettings", Tag: "isms-risk",
		Summary: "The risk appetite and the policy reminder interval.", Response: store.RiskSettings{}, Handler: s.getRiskSettings})
	s.add(&operation{Method: patch, Path: "/isms/risk-settings", Policy: write, ID: "updateRiskSettings", Tag: "isms-risk",
		Summary: "Change the risk appetite (MB, B, M, A, MA) or the reminder interval (callers who see every client).",
		Request: RiskSettingsInput{}, Response: store.RiskSettings{}, Handler: s.updateRiskSettings})

	s.declareISMSRiskPolicies()
	s.declareISMSRiskAudits()
}

// RiskAssetInput creates or changes an asset; on PATCH absent fields are kept.
type RiskAssetInput struct {
	Code        *string `json:"code,omitempty"`
	Name        *string `json:"name,omitempty"`
	Type        *string `json:"type,omitempty" doc:"D, K, S, SW, HW, COM, Media, AUX, L or P"`
	ClientID    *int64  `json:"client_id,omitempty" doc:"the client; 0 or absent = operator-wide"`
	OwnerUserID *int64  `json:"owner_user_id,omitempty"`
	Location    *string `json:"location,omitempty"`
	Description *string `json:"description,omitempty"`
	// Value is the own value per dimension (C, I, T, A, D), 0–10.
	Value     map[string]int `json:"value,omitempty"`
	DependsOn *[]int64       `json:"depends_on,omitempty" doc:"ids of the assets this one depends on"`
}

func (in RiskAssetInput) apply(a *risk.Asset) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&a.Code, in.Code)
	set(&a.Name, in.Name)
	set(&a.Location, in.Location)
	set(&a.Description, in.Description)
	if in.Type != nil {
		a.Type = magerit.AssetType(*in.Type)
	}
	if in.ClientID != nil {
		a.ClientID = *in.ClientID
	}
	if in.OwnerUserID != nil {
		a.OwnerUserID = *in.OwnerUserID
	}
	if in.Value != nil {
		a.Value = magerit.Values{}
		for d, v := range in.Value {
			a.Value[magerit.Dimension(strings.ToUpper(d))] = v
		}
	}
	if in.DependsOn != nil {
		a.DependsOn = append([]int64{}, *in.DependsOn...)
	}
}

func (s *Server) listRiskAssets(w http.ResponseWriter, r *http.Request) error {
	list, err := s.ismsRisk.Store.RiskAssets(r.Context(), scope(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, len(list)+1, 0))
	return nil
}

func (s *Server) getRiskAsset(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.ismsRisk.Store.RiskAsset(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) createRiskAsset(w http.ResponseWriter, r *http.Request) error {
	var in RiskAssetInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var a risk.Asset
	in.apply(&a)
	if err := checkClients(r, "client_id", a.ClientID); err != nil {
		return err
	}
	if err := s.ismsRisk.Store.RiskCreateAsset(r.Context(), scope(r), &a); err != nil {
		return err
	}
	got, err := s.ismsRisk.Store.RiskAsset(r.Context(), scope(r), a.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, got)
	return nil
}

func (s *Server) updateRiskAsset(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.ismsRisk.Store.RiskAsset(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	var in RiskAssetInput
	if err := decode(r, &in); err != nil {
		return err
	}
	in.apply(a)
	if err := checkClients(r, "client_id", a.ClientID); err != nil {
		return err
	}
	if err := s.ismsRisk.Store.RiskUpdateAsset(r.Context(), scope(r), a); err != nil {
		return err
	}
	a, err = s.ismsRisk.Store.RiskAsset(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) deleteRiskAsset(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.ismsRisk.Store.RiskDeleteAsset(r.Context(), scope(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// RiskThreatInput creates or changes a threat; on PATCH absent fields are kept.
type RiskThreatInput struct {
	Code        *string `json:"code,omitempty" doc:"MAGERIT code: N.x, I.x, E.x or A.x"`
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
	// Degradation per dimension (C, I, T, A, D), 0–1.
	Degradation map[string]float64 `json:"degradation,omitempty"`
	Frequency   *float64           `json:"frequency,omitempty" doc:"times a year"`
}

func degradation(in map[string]float64) map[risk.Dimension]float64 {
	out := map[risk.Dimension]float64{}
	for d, v := range in {
		out[risk.Dimension(strings.ToUpper(d))] = v
	}
	return out
}

func (in RiskThreatInput) apply(t *risk.Threat) {
	if in.Code != nil {
		t.Code = *in.Code
	}
	if in.Name != nil {
		t.Name = *in.Name
	}
	if in.Description != nil {
		t.Description = *in.Description
	}
	if in.Degradation != nil {
		t.Degradation = degradation(in.Degradation)
	}
	if in.Frequency != nil {
		t.Frequency = *in.Frequency
	}
}

func (s *Server) listRiskThreats(w http.ResponseWriter, r *http.Request) error {
	list, err := s.ismsRisk.Store.RiskThreats(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, len(list)+1, 0))
	return nil
}

func (s *Server) createRiskThreat(w http.ResponseWriter, r *http.Request) error {
	var in RiskThreatInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var t risk.Threat
	in.apply(&t)
	if err := s.ismsRisk.Store.RiskCreateThreat(r.Context(), scope(r), &t); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) updateRiskThreat(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.ismsRisk.Store.RiskThreat(r.Context(), id)
	if err != nil {
		return err
	}
	var in RiskThreatInput
	if err := decode(r, &in); err != nil {
		return err
	}
	in.apply(t)
	if err := s.ismsRisk.Store.RiskUpdateThreat(r.Context(), scope(r), t); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) deleteRiskThreat(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.ismsRisk.Store.RiskDeleteThreat(r.Context(), scope(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// RiskInput creates or changes a risk; on PATCH absent fields are kept.
type RiskInput struct {
	Title       *string `json:"title,omitempty"`
	AssetID     *int64  `json:"asset_id,omitempty"`
	ThreatID    *int64  `json:"threat_id,omitempty"`
	OwnerUserID *int64  `json:"owner_user_id,omitempty" doc:"the risk owner (signs off the treatment)"`
	// Degradation per dimension (C, I, T, A, D), 0–1; default the threat's.
	Degradation   map[string]float64 `json:"degradation,omitempty"`
	Frequency     *float64           `json:"frequency,omitempty" doc:"times a year; default the threat's"`
	Treatment     *string            `json:"treatment,omitempty" doc:"mitigate, accept, transfer, avoid, or empty"`
	Justification *string            `json:"justification,omitempty"`
	// Safeguards are the controls that treat the risk with their
	// effectiveness (0–1) against degradation and frequency.
	Safeguards *[]RiskSafeguardInput `json:"safeguards,omitempty"`
}

// RiskSafeguardInput links a control to a risk.
type RiskSafeguardInput struct {
	ControlID   int64   `json:"control_id"`
	Degradation float64 `json:"degradation" doc:"effectiveness against degradation, 0–1"`
	Frequency   float64 `json:"frequency" doc:"effectiveness against frequency, 0–1"`
}

func (in RiskInput) apply(x *risk.Risk) {
	if in.Title != nil {
		x.Title = *in.Title
	}
	if in.AssetID != nil {
		x.AssetID = *in.AssetID
	}
	if in.ThreatID != nil {
		x.ThreatID = *in.ThreatID
	}
	if in.OwnerUserID != nil {
		x.OwnerUserID = *in.OwnerUserID
	}
	if in.Degradation != nil {
		x.Degradation = degradation(in.Degradation)
	}
	if in.Frequency != nil {
		x.Frequency = *in.Frequency
	}
	if in.Treatment != nil {
		x.Treatment = magerit.Option(*in.Treatment)
	}
	if in.Justification != nil {
		x.Justification = *in.Justification
	}
	if in.Safeguards != nil {
		x.Safeguards = []risk.Safeguard{}
		for _, sg := range *in.Safeguards {
			x.Safeguards = append(x.Safeguards, risk.Safeguard{ControlID: sg.ControlID, Degradation: sg.Degradation, Frequency: sg.Frequency})
		}
	}
}

func (s *Server) listRisks(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	var f store.RiskFilter
	if f.AssetID, err = queryInt(r, "asset_id"); err != nil {
		return err
	}
	if f.ThreatID, err = queryInt(r, "threat_id"); err != nil {
		return err
	}
	above, err := queryBool(r, "above_appetite")
	if err != nil {
		return err
	}
	f.AboveAppetite = above != nil && *above
	list, err := s.ismsRisk.Store.RiskList(r.Context(), scope(r), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, limit, offset))
	return nil
}

func (s *Server) getRisk(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	x, err := s.ismsRisk.Store.RiskByID(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, x)
	return nil
}

func (s *Server) createRisk(w http.ResponseWriter, r *http.Request) error {
	var in RiskInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var x risk.Risk
	in.apply(&x)
	if err := s.ismsRisk.Store.RiskCreate(r.Context(), scope(r), &x); err != nil {
		return err
	}
	got, err := s.ismsRisk.Store.RiskByID(r.Context(), scope(r), x.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, got)
	return nil
}

func (s *Server) updateRisk(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	x, err := s.ismsRisk.Store.RiskByID(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	var in RiskInput
	if err := decode(r, &in); err != nil {
		return err
	}
	in.apply(x)
	if err := s.ismsRisk.Store.RiskUpdate(r.Context(), scope(r), x); err != nil {
		return err
	}
	got, err := s.ismsRisk.Store.RiskByID(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, got)
	return nil
}

func (s *Server) deleteRisk(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.ismsRisk.Store.RiskDelete(r.Context(), scope(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// RiskSignOffInput is the owner's note when signing off.
type RiskSignOffInput struct {
	Note string `json:"note,omitempty"`
}

func (s *Server) signOffRisk(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in RiskSignOffInput
	if err := decode(r, &in); err != nil {
		return err
	}
	so, err := s.ismsRisk.Store.RiskSignOff(r.Context(), principal(r), id, in.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, so)
	return nil
}

// RiskStarterInput says for which client the starter content is loaded.
type RiskStarterInput struct {
	ClientID int64 `json:"client_id,omitempty" doc:"0 or absent = operator-wide"`
}

func (s *Server) loadRiskStarter(w http.ResponseWriter, r *http.Request) error {
	var in RiskStarterInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := checkClients(r, "client_id", in.ClientID); err != nil {
		return err
	}
	m, err := magerit.ContactCenter()
	if err != nil {
		return err
	}
	res, err := s.ismsRisk.Store.RiskLoadStarter(r.Context(), scope(r), in.ClientID, m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) riskHeatMap(w http.ResponseWriter, r *http.Request) error {
	kind := r.URL.Query().Get("kind")
	if kind == "" {
		kind = "residual"
	}
	if kind != "residual" && kind != "potential" {
		return fieldErr("kind", "must be potential or residual")
	}
	list, err := s.ismsRisk.Store.RiskList(r.Context(), scope(r), store.RiskFilter{})
	if err != nil {
		return err
	}
	lang, err := ismsrLang(r)
	if err != nil {
		return err
	}
	svg := risk.HeatMap(list, kind == "residual", s.ismsrT(lang)("ismsrisk.heatmap."+kind))
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, _ = w.Write([]byte(svg))
	return nil
}

func (s *Server) riskReport(w http.ResponseWriter, r *http.Request) error {
	lang, err := ismsrLang(r)
	if err != nil {
		return err
	}
	list, err := s.ismsRisk.Store.RiskList(r.Context(), scope(r), store.RiskFilter{})
	if err != nil {
		return err
	}
	assets, err := s.ismsRisk.Store.RiskAssets(r.Context(), scope(r))
	if err != nil {
		return err
	}
	st, err := s.ismsRisk.Store.RiskGetSettings(r.Context())
	if err != nil {
		return err
	}
	scopeName := s.ismsrT(lang)("ismsrisk.report.scope_all")
	if p := principal(r); !p.AllClients {
		scopeName = s.ismsrT(lang)("ismsrisk.report.scope_some", len(p.ClientIDs))
	}
	pdf, err := risk.ReportPDF(risk.ReportInput{T: s.ismsrT(lang), Scope: scopeName, Assets: assets, Risks: list, Appetite: st.Appetite})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="risk-report-%s.pdf"`, lang))
	_, _ = w.Write(pdf)
	return nil
}

func (s *Server) getRiskSettings(w http.ResponseWriter, r *http.Request) error {
	st, err := s.ismsRisk.Store.RiskGetSettings(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// RiskSettingsInput changes the settings; absent fields are kept.
type RiskSettingsInput struct {
	Appetite     *string `json:"appetite,omitempty" doc:"MB, B, M, A or MA"`
	ReminderDays *int    `json:"reminder_days,omitempty"`
}

func (s *Server) updateRiskSettings(w http.ResponseWriter, r *http.Request) error {
	var in RiskSettingsInput
	if err := decode(r, &in); err != nil {
		return err
	}
	st, err := s.ismsRisk.Store.RiskGetSettings(r.Context())
	if err != nil {
		return err
	}
	if in.Appetite != nil {
		l, err := risk.ParseLevel(*in.Appetite)
		if err != nil {
			return fieldErr("appetite", "must be MB, B, M, A or MA")
		}
		st.Appetite = l
	}
	if in.ReminderDays != nil {
		st.ReminderDays = *in.ReminderDays
	}
	if err := s.ismsRisk.Store.RiskSetSettings(r.Context(), scope(r), &st); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
