package web

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/custodia/custodia/internal/isms/magerit"
	"github.com/custodia/custodia/internal/isms/risk"
	"github.com/custodia/custodia/internal/store"
)

type ismsrRisksData struct {
	Risks         []risk.Risk
	Settings      store.RiskSettings
	HeatPotential template.HTML
	HeatResidual  template.HTML
	Appetites     []Option
	Clients       []Option
	Above         int
	Unsigned      int
}

func (s *Server) ismsrRisks(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	list, err := s.ismsRisk.Store.RiskList(ctx, scope(r), store.RiskFilter{AboveAppetite: r.URL.Query().Get("above") == "1"})
	if err != nil {
		return err
	}
	st, err := s.ismsRisk.Store.RiskGetSettings(ctx)
	if err != nil {
		return err
	}
	d := &ismsrRisksData{Risks: list, Settings: st}
	v := s.newView(r, "ismsrisk.risks.title", d)
	// The SVG is built by the magerit engine, which escapes every label.
	d.HeatPotential = template.HTML(risk.HeatMap(list, false, v.T("ismsrisk.heatmap.potential"))) //nolint:gosec
	d.HeatResidual = template.HTML(risk.HeatMap(list, true, v.T("ismsrisk.heatmap.residual")))    //nolint:gosec
	for l := magerit.MB; l <= magerit.MA; l++ {
		d.Appetites = append(d.Appetites, ismsrOpt(l.String(), v.T("ismsrisk.level."+l.String()), l == st.Appetite))
	}
	for _, x := range list {
		if x.AboveAppetite {
			d.Above++
		}
		if x.Treatment != "" && (x.SignOff == nil || !x.SignOff.Valid) {
			d.Unsigned++
		}
	}
	if d.Clients, err = s.ismsrClientOptions(r, v, 0); err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "ismsr_risks", v)
}

type ismsrRiskData struct {
	Risk       risk.Risk
	New        bool
	CanWrite   bool
	CanSign    bool
	Assets     []Option
	Threats    []Option
	Owners     []Option
	Treatments []Option
	Controls   []ismsrControlRow
	Dims       []risk.Dimension
}

type ismsrControlRow struct {
	ID                     int64
	Code, Title, Status    string
	Checked                bool
	Degradation, Frequency string
}

// Deg is the degradation of a dimension as a percentage for the form.
func (d *ismsrRiskData) Deg(dim risk.Dimension) string { return ismsrPercent(d.Risk.Degradation[dim]) }

// Freq is the frequency for the form.
func (d *ismsrRiskData) Freq() string {
	if d.Risk.Frequency == 0 {
		return ""
	}
	return ismsrNum(d.Risk.Frequency)
}

func (s *Server) ismsrRiskForm(r *http.Request, v *view, x *risk.Risk, isNew bool) (*ismsrRiskData, error) {
	ctx := r.Context()
	d := &ismsrRiskData{Risk: *x, New: isNew, CanWrite: v.Can("admin", "security"), Dims: risk.Dimensions}
	d.CanSign = !isNew && x.OwnerUserID != 0 && x.OwnerUserID == v.P.UserID && x.Treatment != ""
	assets, err := s.ismsRisk.Store.RiskAssets(ctx, scope(r))
	if err != nil {
		return nil, err
	}
	for _, a := range assets {
		d.Assets = append(d.Assets, ismsrOpt(strconv.FormatInt(a.ID, 10), a.Code+" — "+a.Name, a.ID == x.AssetID))
	}
	threats, err := s.ismsRisk.Store.RiskThreats(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range threats {
		d.Threats = append(d.Threats, ismsrOpt(strconv.FormatInt(t.ID, 10), "["+t.Code+"] "+t.Name, t.ID == x.ThreatID))
	}
	if d.Owners, err = s.ismsrUserOptions(r, v, x.OwnerUserID); err != nil {
		return nil, err
	}
	d.Treatments = []Option{ismsrOpt("", v.T("ismsrisk.treatment.none"), x.Treatment == "")}
	for _, t := range risk.Treatments {
		d.Treatments = append(d.Treatments, ismsrOpt(string(t), v.T("ismsrisk.treatment."+string(t)), x.Treatment == t))
	}
	controls, err := s.ismsRisk.Store.RiskControlOptions(ctx, scope(r))
	if err != nil {
		return nil, err
	}
	for _, c := range controls {
		row := ismsrControlRow{ID: c.ID, Code: c.Code, Title: c.Title, Status: c.Status}
		for _, sg := range x.Safeguards {
			if sg.ControlID == c.ID {
				row.Checked, row.Degradation, row.Frequency = true, ismsrPercent(sg.Degradation), ismsrPercent(sg.Frequency)
			}
		}
		d.Controls = append(d.Controls, row)
	}
	return d, nil
}

func (s *Server) ismsrRiskNew(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "ismsrisk.risk.new", nil)
	x := &risk.Risk{}
	if a, err := strconv.ParseInt(r.URL.Query().Get("asset"), 10, 64); err == nil {
		x.AssetID = a
	}
	d, err := s.ismsrRiskForm(r, v, x, true)
	if err != nil {
		return err
	}
	v.D = d
	return s.render(w, http.StatusOK, "ismsr_risk", v)
}

// riskFromForm reads the risk form into x (percentages become fractions).
func riskFromForm(r *http.Request, x *risk.Risk) error {
	var err error
	x.Title = r.PostForm.Get("title")
	if x.AssetID, err = formInt(r, "asset_id"); err != nil {
		return err
	}
	if x.ThreatID, err = formInt(r, "threat_id"); err != nil {
		return err
	}
	if x.OwnerUserID, err = formInt(r, "owner_user_id"); err != nil {
		return err
	}
	deg, err := formDims(r, "deg_")
	if err != nil {
		return err
	}
	for k := range deg {
		deg[k] /= 100
	}
	x.Degradation = deg
	if x.Frequency, err = formFloat(r, "frequency"); err != nil {
		return err
	}
	x.Treatment = magerit.Option(r.PostForm.Get("treatment"))
	x.Justification = r.PostForm.Get("justification")
	x.Safeguards = []risk.Safeguard{}
	for _, id := range ismsrIDs(r.PostForm["safeguard"]) {
		sid := strconv.FormatInt(id, 10)
		dg, err := formFloat(r, "sg_deg_"+sid)
		if err != nil {
			return err
		}
		fq, err := formFloat(r, "sg_freq_"+sid)
		if err != nil {
			return err
		}
		x.Safeguards = append(x.Safeguards, risk.Safeguard{ControlID: id, Degradation: dg / 100, Frequency: fq / 100})
	}
	return nil
}

func (s *Server) ismsrRiskFormError(w http.ResponseWriter, r *http.Request, x *risk.Risk, isNew bool, err error) error {
	title := "ismsrisk.risk.edit"
	if isNew {
		title = "ismsrisk.risk.new"
	}
	v := s.newView(r, title, nil)
	if !v.setFieldErrors(err) {
		return err
	}
	d, ferr := s.ismsrRiskForm(r, v, x, isNew)
	if ferr != nil {
		return ferr
	}
	v.D = d
	return s.render(w, http.StatusUnprocessableEntity, "ismsr_risk", v)
}

func (s *Server) ismsrRiskCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	var x risk.Risk
	if err := riskFromForm(r, &x); err != nil {
		return s.ismsrRiskFormError(w, r, &x, true, err)
	}
	if err := s.ismsRisk.Store.RiskCreate(r.Context(), scope(r), &x); err != nil {
		return s.ismsrRiskFormError(w, r, &x, true, err)
	}
	return redirect(w, r, withFlash("/isms/risks/"+strconv.FormatInt(x.ID, 10), "saved"))
}

func (s *Server) ismsrRisk(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	x, err := s.ismsRisk.Store.RiskByID(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	v := s.newView(r, "ismsrisk.risk.edit", nil)
	d, err := s.ismsrRiskForm(r, v, x, false)
	if err != nil {
		return err
	}
	v.D = d
	return s.render(w, http.StatusOK, "ismsr_risk", v)
}

func (s *Server) ismsrRiskUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	x, err := s.ismsRisk.Store.RiskByID(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	if err := riskFromForm(r, x); err != nil {
		return s.ismsrRiskFormError(w, r, x, false, err)
	}
	if err := s.ismsRisk.Store.RiskUpdate(r.Context(), scope(r), x); err != nil {
		return s.ismsrRiskFormError(w, r, x, false, err)
	}
	return redirect(w, r, withFlash("/isms/risks/"+strconv.FormatInt(id, 10), "saved"))
}

func (s *Server) ismsrRiskDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	if err := s.ismsRisk.Store.RiskDelete(r.Context(), scope(r), id); err != nil {
		return err
	}
	return redirect(w, r, withFlash("/isms/risks", "saved"))
}

func (s *Server) ismsrRiskSignOff(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	x, err := s.ismsRisk.Store.RiskByID(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	if _, err := s.ismsRisk.Store.RiskSignOff(r.Context(), principal(r), id, r.PostForm.Get("note")); err != nil {
		return s.ismsrRiskFormError(w, r, x, false, err)
	}
	return redirect(w, r, withFlash("/isms/risks/"+strconv.FormatInt(id, 10), "ismsrisk_signed"))
}

func (s *Server) ismsrStarter(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	client, err := formInt(r, "client_id")
	if err != nil {
		return err
	}
	if !principal(r).CanSeeClient(client) && client != 0 {
		return errNotFound
	}
	m, err := magerit.ContactCenter()
	if err != nil {
		return err
	}
	if _, err := s.ismsRisk.Store.RiskLoadStarter(r.Context(), scope(r), client, m); err != nil {
		v := s.newView(r, "ismsrisk.risks.title", nil)
		if v.setFieldErrors(err) {
			return errStatus(http.StatusUnprocessableEntity, "ismsrisk.error.operator_wide")
		}
		return err
	}
	return redirect(w, r, withFlash("/isms/risks", "ismsrisk_starter"))
}

func (s *Server) ismsrSettings(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	st, err := s.ismsRisk.Store.RiskGetSettings(r.Context())
	if err != nil {
		return err
	}
	if l, err := risk.ParseLevel(r.PostForm.Get("appetite")); err == nil {
		st.Appetite = l
	}
	if n, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("reminder_days"))); err == nil {
		st.ReminderDays = n
	}
	if err := s.ismsRisk.Store.RiskSetSettings(r.Context(), scope(r), &st); err != nil {
		v := s.newView(r, "ismsrisk.risks.title", nil)
		if v.setFieldErrors(err) {
			return errStatus(http.StatusUnprocessableEntity, "ismsrisk.error.settings")
		}
		return err
	}
	return redirect(w, r, withFlash("/isms/risks", "saved"))
}

func (s *Server) ismsrRiskReport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	lang := r.URL.Query().Get("lang")
	if lang != "es" {
		lang = "en"
	}
	list, err := s.ismsRisk.Store.RiskList(ctx, scope(r), store.RiskFilter{})
	if err != nil {
		return err
	}
	assets, err := s.ismsRisk.Store.RiskAssets(ctx, scope(r))
	if err != nil {
		return err
	}
	st, err := s.ismsRisk.Store.RiskGetSettings(ctx)
	if err != nil {
		return err
	}
	t := func(key string, args ...any) string { return s.cat.T(lang, key, args...) }
	scopeName := t("ismsrisk.report.scope_all")
	if p := principal(r); !p.AllClients {
		scopeName = t("ismsrisk.report.scope_some", len(p.ClientIDs))
	}
	pdf, err := risk.ReportPDF(risk.ReportInput{T: t, Scope: scopeName, Assets: assets, Risks: list, Appetite: st.Appetite, Now: s.now()})
	if err != nil {
		return err
	}
	return ismsrPDF(w, "risk-report-"+lang+".pdf", pdf)
}

// Assets.

type ismsrAssetsData struct {
	Assets []risk.Asset
	Names  map[int64]string
}

// DepNames lists the codes of an asset's dependencies.
func (d *ismsrAssetsData) DepNames(a risk.Asset) string {
	var out []string
	for _, id := range a.DependsOn {
		out = append(out, d.Names[id])
	}
	return strings.Join(out, ", ")
}

// Values prints values as "C8 I3".
func (d *ismsrAssetsData) Values(v magerit.Values) string { return risk.ValuesText(v) }

func (s *Server) ismsrAssets(w http.ResponseWriter, r *http.Request) error {
	list, err := s.ismsRisk.Store.RiskAssets(r.Context(), scope(r))
	if err != nil {
		return err
	}
	d := &ismsrAssetsData{Assets: list, Names: map[int64]string{}}
	for _, a := range list {
		d.Names[a.ID] = a.Code
	}
	return s.render(w, http.StatusOK, "ismsr_assets", s.newView(r, "ismsrisk.assets.title", d))
}

type ismsrAssetData struct {
	Asset    risk.Asset
	New      bool
	CanWrite bool
	Types    []Option
	Clients  []Option
	Owners   []Option
	Lower    []Option
	Dims     []risk.Dimension
	Risks    []risk.Risk
}

// Val is the own value of a dimension for the form.
func (d *ismsrAssetData) Val(dim risk.Dimension) string {
	if x, ok := d.Asset.Value[dim]; ok && x != 0 {
		return strconv.Itoa(x)
	}
	return ""
}

// Acc is the accumulated value of a dimension.
func (d *ismsrAssetData) Acc(dim risk.Dimension) int { return d.Asset.Accumulated[dim] }

func (s *Server) ismsrAssetForm(r *http.Request, v *view, a *risk.Asset, isNew bool) (*ismsrAssetData, error) {
	d := &ismsrAssetData{Asset: *a, New: isNew, CanWrite: v.Can("admin", "security"), Dims: risk.Dimensions}
	for _, t := range magerit.AssetTypes {
		d.Types = append(d.Types, ismsrOpt(string(t), "["+string(t)+"] "+v.T("ismsrisk.asset_type."+string(t)), t == a.Type))
	}
	var err error
	if d.Clients, err = s.ismsrClientOptions(r, v, a.ClientID); err != nil {
		return nil, err
	}
	if d.Owners, err = s.ismsrUserOptions(r, v, a.OwnerUserID); err != nil {
		return nil, err
	}
	all, err := s.ismsRisk.Store.RiskAssets(r.Context(), scope(r))
	if err != nil {
		return nil, err
	}
	for _, o := range all {
		if o.ID == a.ID {
			continue
		}
		sel := false
		for _, l := range a.DependsOn {
			sel = sel || l == o.ID
		}
		d.Lower = append(d.Lower, ismsrOpt(strconv.FormatInt(o.ID, 10), o.Code+" — "+o.Name, sel))
	}
	if !isNew {
		if d.Risks, err = s.ismsRisk.Store.RiskList(r.Context(), scope(r), store.RiskFilter{AssetID: a.ID}); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (s *Server) ismsrAssetNew(w http.ResponseWriter, r *http.Request) error {
	v := s.newView(r, "ismsrisk.asset.new", nil)
	d, err := s.ismsrAssetForm(r, v, &risk.Asset{Type: magerit.Essential}, true)
	if err != nil {
		return err
	}
	v.D = d
	return s.render(w, http.StatusOK, "ismsr_asset", v)
}

func assetFromForm(r *http.Request, a *risk.Asset) error {
	a.Code, a.Name = r.PostForm.Get("code"), r.PostForm.Get("name")
	a.Type = magerit.AssetType(r.PostForm.Get("type"))
	a.Location, a.Description = r.PostForm.Get("location"), r.PostForm.Get("description")
	var err error
	if a.ClientID, err = formInt(r, "client_id"); err != nil {
		return err
	}
	if a.OwnerUserID, err = formInt(r, "owner_user_id"); err != nil {
		return err
	}
	a.Value = magerit.Values{}
	for _, d := range risk.Dimensions {
		n, err := formInt(r, "val_"+string(d))
		if err != nil {
			return err
		}
		if n != 0 {
			a.Value[d] = int(min(n, 1000))
		}
	}
	a.DependsOn = ismsrIDs(r.PostForm["depends_on"])
	return nil
}

func (s *Server) ismsrAssetFormError(w http.ResponseWriter, r *http.Request, a *risk.Asset, isNew bool, err error) error {
	v := s.newView(r, map[bool]string{true: "ismsrisk.asset.new", false: "ismsrisk.asset.edit"}[isNew], nil)
	if !v.setFieldErrors(err) {
		return err
	}
	d, ferr := s.ismsrAssetForm(r, v, a, isNew)
	if ferr != nil {
		return ferr
	}
	v.D = d
	return s.render(w, http.StatusUnprocessableEntity, "ismsr_asset", v)
}

func (s *Server) ismsrAssetCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	var a risk.Asset
	if err := assetFromForm(r, &a); err != nil {
		return s.ismsrAssetFormError(w, r, &a, true, err)
	}
	if !principal(r).CanSeeClient(a.ClientID) && a.ClientID != 0 {
		return errNotFound
	}
	if err := s.ismsRisk.Store.RiskCreateAsset(r.Context(), scope(r), &a); err != nil {
		return s.ismsrAssetFormError(w, r, &a, true, err)
	}
	return redirect(w, r, withFlash("/isms/assets/"+strconv.FormatInt(a.ID, 10), "saved"))
}

func (s *Server) ismsrAsset(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.ismsRisk.Store.RiskAsset(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	v := s.newView(r, "ismsrisk.asset.edit", nil)
	d, err := s.ismsrAssetForm(r, v, a, false)
	if err != nil {
		return err
	}
	v.D = d
	return s.render(w, http.StatusOK, "ismsr_asset", v)
}

func (s *Server) ismsrAssetUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	a, err := s.ismsRisk.Store.RiskAsset(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	if err := assetFromForm(r, a); err != nil {
		return s.ismsrAssetFormError(w, r, a, false, err)
	}
	if err := s.ismsRisk.Store.RiskUpdateAsset(r.Context(), scope(r), a); err != nil {
		return s.ismsrAssetFormError(w, r, a, false, err)
	}
	return redirect(w, r, withFlash("/isms/assets/"+strconv.FormatInt(id, 10), "saved"))
}

func (s *Server) ismsrAssetDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	a, err := s.ismsRisk.Store.RiskAsset(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	if err := s.ismsRisk.Store.RiskDeleteAsset(r.Context(), scope(r), id); err != nil {
		return s.ismsrAssetFormError(w, r, a, false, err)
	}
	return redirect(w, r, withFlash("/isms/assets", "saved"))
}

// Threats.

type ismsrThreatsData struct {
	Threats  []risk.Threat
	Dims     []risk.Dimension
	CanWrite bool
}

// Deg prints a threat's degradation in a dimension as a percentage.
func (d *ismsrThreatsData) Deg(t risk.Threat, dim risk.Dimension) string {
	if p := ismsrPercent(t.Degradation[dim]); p != "" {
		return p + " %"
	}
	return ""
}

// Num prints a number.
func (d *ismsrThreatsData) Num(f float64) string { return ismsrNum(f) }

func (s *Server) ismsrThreatsPage(w http.ResponseWriter, r *http.Request, status int, err error) error {
	list, lerr := s.ismsRisk.Store.RiskThreats(r.Context())
	if lerr != nil {
		return lerr
	}
	v := s.newView(r, "ismsrisk.threats.title", nil)
	if err != nil && !v.setFieldErrors(err) {
		return err
	}
	v.D = &ismsrThreatsData{Threats: list, Dims: risk.Dimensions, CanWrite: v.Can("admin", "security") && principal(r).AllClients}
	if err != nil {
		v.Form = r.PostForm
	}
	return s.render(w, status, "ismsr_threats", v)
}

func (s *Server) ismsrThreats(w http.ResponseWriter, r *http.Request) error {
	return s.ismsrThreatsPage(w, r, http.StatusOK, nil)
}

func (s *Server) ismsrThreatCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	t := risk.Threat{Code: r.PostForm.Get("code"), Name: r.PostForm.Get("name"), Description: r.PostForm.Get("description")}
	deg, err := formDims(r, "deg_")
	if err == nil {
		for k := range deg {
			deg[k] /= 100
		}
		t.Degradation = deg
		t.Frequency, err = formFloat(r, "frequency")
	}
	if err == nil {
		err = s.ismsRisk.Store.RiskCreateThreat(r.Context(), scope(r), &t)
	}
	if err != nil {
		return s.ismsrThreatsPage(w, r, http.StatusUnprocessableEntity, err)
	}
	return redirect(w, r, withFlash("/isms/threats", "saved"))
}

func (s *Server) ismsrThreatDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	if _, err := s.ismsRisk.Store.RiskThreat(r.Context(), id); err != nil {
		return err
	}
	if err := s.ismsRisk.Store.RiskDeleteThreat(r.Context(), scope(r), id); err != nil {
		return s.ismsrThreatsPage(w, r, http.StatusUnprocessableEntity, err)
	}
	return redirect(w, r, withFlash("/isms/threats", "saved"))
}
