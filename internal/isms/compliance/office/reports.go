package office

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance"
	"github.com/custodia/custodia/internal/isms/ens"
	"github.com/custodia/custodia/internal/report"
	"github.com/custodia/custodia/internal/store"
)

// SoARow is one line of a framework's Statement of Applicability.
type SoARow struct {
	Requirement   string         `json:"requirement"`
	Title         string         `json:"title"`
	TitleES       string         `json:"title_es,omitempty"`
	Group         string         `json:"group"`
	Applicable    bool           `json:"applicable"`
	Justification string         `json:"justification"`
	Status        catalog.Status `json:"status"`
	OwnerUserID   int64          `json:"owner_user_id,omitempty"`
	Owner         string         `json:"owner,omitempty"`
	Controls      []string       `json:"controls"`
	Evidence      int            `json:"fresh_evidence"`
	Risks         []string       `json:"risks"`
	// Draft is a status proposed from another framework's statuses through
	// the mappings, for the user to confirm; empty when none or when it
	// equals the recorded status.
	Draft     catalog.Status `json:"draft,omitempty"`
	DraftNote string         `json:"draft_note,omitempty"`
	Stated    bool           `json:"stated"` // a statement has been recorded
}

// SoA builds the Statement of Applicability of a framework (Annex A for
// ISO 27001: requirements under group A) in the caller's scope.
func (o *Office) SoA(ctx context.Context, p *identity.Principal, key string) ([]SoARow, error) {
	c, err := o.Catalog(key)
	if err != nil {
		return nil, err
	}
	now := o.Now()
	states, err := o.st.ISMSRequirementStates(ctx, key)
	if err != nil {
		return nil, err
	}
	controls, err := o.st.ISMSControls(ctx, store.ISMSControlFilter{Scope: p.Scope()}, now)
	if err != nil {
		return nil, err
	}
	risks, err := o.st.ISMSRisksByControl(ctx, p.Scope())
	if err != nil {
		return nil, err
	}
	users, err := o.st.ISMSUserNames(ctx)
	if err != nil {
		return nil, err
	}
	direct, err := o.st.ISMSDirectEvidenceCounts(ctx, now)
	if err != nil {
		return nil, err
	}
	fresh := map[string]int{}
	for _, d := range direct {
		if d.Catalog == key && inScope(p.Scope(), d.ClientID) {
			fresh[d.Requirement] += d.Fresh
		}
	}
	byReq := map[string][]compliance.Control{}
	for _, ctl := range controls {
		for _, r := range ctl.Requirements {
			if r.Catalog == key {
				byReq[r.Requirement] = append(byReq[r.Requirement], ctl)
			}
		}
	}
	drafts := o.drafts(ctx, key)
	var rows []SoARow
	for _, r := range c.Requirements {
		if key == catalog.ISO27001 && !strings.HasPrefix(r.ID, "A.") {
			continue
		}
		row := SoARow{Requirement: r.ID, Title: r.Title, TitleES: r.TitleES, Group: r.Group, Applicable: true, Status: catalog.NotImplemented, Controls: []string{}, Risks: []string{}}
		if st, ok := states[r.ID]; ok {
			row.Applicable, row.Justification, row.Status, row.OwnerUserID, row.Stated = st.Applicable, st.Justification, st.Status, st.OwnerUserID, true
			row.Owner = users[st.OwnerUserID]
		}
		seenRisk := map[string]bool{}
		for _, ctl := range byReq[r.ID] {
			row.Controls = append(row.Controls, ctl.Code)
			row.Evidence += ctl.Evidence - ctl.StaleEvidence
			for _, t := range risks[ctl.ID] {
				if !seenRisk[t] {
					seenRisk[t] = true
					row.Risks = append(row.Risks, t)
				}
			}
		}
		row.Evidence += fresh[r.ID]
		if d, ok := drafts[r.ID]; ok && d.Status != row.Status && row.Applicable {
			row.Draft, row.DraftNote = d.Status, d.Note
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func inScope(scope identity.Scope, client int64) bool {
	if scope.All || client == 0 {
		return true
	}
	for _, id := range scope.ClientIDs {
		if id == client {
			return true
		}
	}
	return false
}

// drafts proposes statuses for key's requirements from the recorded
// statuses of every other framework, keeping the strongest.
func (o *Office) drafts(ctx context.Context, key string) map[string]catalog.DraftStatus {
	lib := o.Library()
	out := map[string]catalog.DraftStatus{}
	rank := map[catalog.Status]int{catalog.NotImplemented: 1, catalog.Partial: 2, catalog.Implemented: 3}
	for _, c := range lib.Catalogs {
		if c.ID == key || c.ID == catalog.ENS {
			continue
		}
		states, err := o.st.ISMSRequirementStates(ctx, c.ID)
		if err != nil || len(states) == 0 {
			continue
		}
		src := map[string]catalog.Status{}
		for id, st := range states {
			if st.Applicable {
				src[id] = st.Status
			}
		}
		ds, err := lib.Draft(c.ID, src, key)
		if err != nil {
			continue
		}
		for _, d := range ds {
			if cur, ok := out[d.Requirement]; !ok || rank[d.Status] > rank[cur.Status] {
				out[d.Requirement] = d
			}
		}
	}
	return out
}

// labels are the reports' words in English and Spanish.
var labels = map[string][2]string{
	"soa.title":              {"Statement of Applicability", "Declaración de aplicabilidad (SoA)"},
	"soa.framework":          {"Framework", "Marco"},
	"generated":              {"Generated", "Generado"},
	"col.control":            {"Control", "Control"},
	"col.title":              {"Title", "Título"},
	"col.applicable":         {"Applicable", "Aplicable"},
	"col.justification":      {"Justification", "Justificación"},
	"col.status":             {"Status", "Estado"},
	"col.owner":              {"Owner", "Responsable"},
	"col.controls":           {"Our controls", "Controles propios"},
	"col.evidence":           {"Fresh evidence", "Evidencias vigentes"},
	"col.risks":              {"Risks treated", "Riesgos tratados"},
	"col.measure":            {"Measure", "Medida"},
	"col.reinf":              {"Reinforcements", "Refuerzos"},
	"yes":                    {"yes", "sí"},
	"no":                     {"no", "no"},
	"decl.title":             {"Statement of Applicability (ENS, RD 311/2022)", "Declaración de Aplicabilidad (ENS, RD 311/2022)"},
	"decl.system":            {"System", "Sistema"},
	"decl.valuation":         {"Valuation", "Valoración"},
	"decl.category":          {"Category", "Categoría"},
	"decl.path":              {"Conformity", "Conformidad"},
	"decl.nextdue":           {"Next ordinary audit", "Próxima auditoría ordinaria"},
	"decl.overdue":           {"OVERDUE", "VENCIDA"},
	"decl.never":             {"due now (never audited)", "pendiente (nunca auditado)"},
	"decl.draft":             {"Draft, not signed", "Borrador, sin firmar"},
	"decl.signed":            {"Signed", "Firmada"},
	"decl.extras":            {"Compensatory and complementary measures", "Medidas compensatorias y complementarias"},
	"decl.measures":          {"Measures of Anexo II", "Medidas del Anexo II"},
	"summary.title":          {"ENS state-of-security summary", "Informe del estado de la seguridad (ENS)"},
	"summary.scores":         {"Compliance by framework", "Cumplimiento por marco"},
	"summary.systems":        {"Systems", "Sistemas"},
	"summary.findings":       {"Open findings", "Hallazgos abiertos"},
	"summary.risks":          {"Risks above appetite", "Riesgos por encima del apetito"},
	"summary.controls":       {"Controls by state", "Controles por estado"},
	"col.client":             {"Client", "Cliente"},
	"col.applicableN":        {"Applicable", "Aplicables"},
	"col.compliant":          {"Implemented with fresh evidence", "Implantados con evidencia vigente"},
	"col.percent":            {"%", "%"},
	"operator":               {"Whole operator", "Todo el operador"},
	"col.pending":            {"Pending", "Pendientes"},
	"col.implemented":        {"Implemented", "Implantadas"},
	"status.implemented":     {"implemented", "implantado"},
	"status.partial":         {"partial", "parcial"},
	"status.not_implemented": {"not implemented", "no implantado"},
	"status.not_applicable":  {"not applicable", "no aplica"},
}

// L returns a report word in lang ("es" or anything else for English).
func L(lang, key string) string {
	v, ok := labels[key]
	if !ok {
		return key
	}
	if lang == "es" {
		return v[1]
	}
	return v[0]
}

func pathLabel(lang string, p ens.ConformityPath) string {
	if p == ens.SelfAssessment {
		return L(lang, "path.self")
	}
	return L(lang, "path.cert")
}

func yesNo(lang string, b bool) string {
	if b {
		return L(lang, "yes")
	}
	return L(lang, "no")
}

func title(lang, en, es string) string {
	if lang == "es" && es != "" {
		return es
	}
	return en
}

// SoAPDF renders a framework's Statement of Applicability.
func (o *Office) SoAPDF(c *catalog.Catalog, rows []SoARow, lang string) ([]byte, error) {
	now := o.Now()
	p := report.NewPDF(L(lang, "soa.title")+" — "+c.Name, L(lang, "soa.framework")+": "+c.Name+" ("+c.Version+") · "+L(lang, "generated")+": "+now.Format("2006-01-02 15:04 UTC"),
		"Custodia · "+c.ID, now, true)
	cols := []report.Column{report.Col(L(lang, "col.control"), 16), report.Col(L(lang, "col.title"), 50), report.Col(L(lang, "col.applicable"), 16), report.Col(L(lang, "col.justification"), 50),
		report.Col(L(lang, "col.status"), 22), report.Col(L(lang, "col.owner"), 25), report.Col(L(lang, "col.controls"), 30), report.Col(L(lang, "col.evidence"), 16), report.Col(L(lang, "col.risks"), 40)}
	table := make([][]string, 0, len(rows))
	for _, r := range rows {
		table = append(table, []string{r.Requirement, title(lang, r.Title, r.TitleES), yesNo(lang, r.Applicable), r.Justification,
			L(lang, "status."+string(r.Status)), r.Owner, strings.Join(r.Controls, ", "), fmt.Sprint(r.Evidence), strings.Join(r.Risks, "; ")})
	}
	p.Table(cols, table)
	return p.Bytes()
}

// SoAXLSX renders a framework's Statement of Applicability as a workbook.
func (o *Office) SoAXLSX(c *catalog.Catalog, rows []SoARow, lang string) ([]byte, error) {
	sh := report.Sheet{Name: "SoA", Header: []string{L(lang, "col.control"), L(lang, "col.title"), L(lang, "col.applicable"), L(lang, "col.justification"),
		L(lang, "col.status"), L(lang, "col.owner"), L(lang, "col.controls"), L(lang, "col.evidence"), L(lang, "col.risks")},
		Widths: []float64{10, 45, 11, 50, 16, 20, 25, 12, 45}}
	for _, r := range rows {
		sh.Rows = append(sh.Rows, []string{r.Requirement, title(lang, r.Title, r.TitleES), yesNo(lang, r.Applicable), r.Justification,
			L(lang, "status."+string(r.Status)), r.Owner, strings.Join(r.Controls, ", "), fmt.Sprint(r.Evidence), strings.Join(r.Risks, "; ")})
	}
	meta := report.Sheet{Name: "About", Header: []string{"", ""}, Widths: []float64{20, 60}, Rows: [][]string{
		{L(lang, "soa.framework"), c.Name + " (" + c.ID + " " + c.Version + ")"}, {L(lang, "generated"), o.Now().Format(time.RFC3339)}}}
	return report.XLSX([]report.Sheet{sh, meta})
}

// DeclarationPDF renders a Declaración de Aplicabilidad (draft or signed).
func (o *Office) DeclarationPDF(doc *DeclarationDoc, lang string) ([]byte, error) {
	sub := L(lang, "decl.draft")
	if doc.Signed != nil {
		sub = fmt.Sprintf("%s v%d · %s · %s · SHA-256 %s", L(lang, "decl.signed"), doc.Signed.Version, doc.Signed.SignedByName,
			doc.Signed.SignedAt.Format("2006-01-02 15:04 UTC"), doc.Signed.SHA256)
	}
	p := report.NewPDF(L(lang, "decl.title"), sub, "Custodia · "+doc.System.Name, doc.GeneratedAt, true)
	due := L(lang, "decl.never")
	if !doc.Conformity.NextDue.IsZero() {
		due = doc.Conformity.NextDue.Format(time.DateOnly)
	}
	if doc.Conformity.Overdue {
		due += " — " + L(lang, "decl.overdue")
	}
	p.Fields(
		[2]string{L(lang, "decl.system"), doc.System.Name},
		[2]string{L(lang, "decl.valuation"), doc.System.Valuation.String()},
		[2]string{L(lang, "decl.category"), doc.System.Category.String()},
		[2]string{L(lang, "decl.path"), pathLabel(lang, doc.Conformity.Path)},
		[2]string{L(lang, "decl.nextdue"), due},
		[2]string{L(lang, "generated"), doc.GeneratedAt.Format("2006-01-02 15:04 UTC")},
	)
	p.Heading(L(lang, "decl.measures"))
	cols := []report.Column{report.Col(L(lang, "col.measure"), 20), report.Col(L(lang, "col.title"), 55), report.Col(L(lang, "col.applicable"), 15), report.Col(L(lang, "col.reinf"), 28),
		report.Col(L(lang, "col.status"), 25), report.Col(L(lang, "col.evidence"), 50), report.Col(L(lang, "col.justification"), 70)}
	var rows [][]string
	for _, r := range doc.Rows {
		rows = append(rows, []string{r.Measure, title(lang, r.TitleEN, r.Title), yesNo(lang, r.Applies), r.ReinforcementCell(),
			L(lang, "status."+string(r.Status)), strings.Join(r.Evidence, "; "), r.Justification})
	}
	p.Table(cols, rows)
	if len(doc.Extras) > 0 {
		p.Heading(L(lang, "decl.extras"))
		var xs [][]string
		for _, x := range doc.Extras {
			xs = append(xs, []string{string(x.Kind), x.Title, strings.Join(x.Measures, ", "), x.Justification})
		}
		p.Table([]report.Column{report.Col("", 20), report.Col(L(lang, "col.title"), 50), report.Col(L(lang, "col.measure"), 30), report.Col(L(lang, "col.justification"), 80)}, xs)
	}
	return p.Bytes()
}

// SummaryPDF renders the ENS state-of-security summary for the caller.
func (o *Office) SummaryPDF(ctx context.Context, p *identity.Principal, lang string) ([]byte, error) {
	d, err := o.Dashboard(ctx, p, 0)
	if err != nil {
		return nil, err
	}
	systems, err := o.st.ISMSENSSystems(ctx, p.Scope())
	if err != nil {
		return nil, err
	}
	now := o.Now()
	pdf := report.NewPDF(L(lang, "summary.title"), L(lang, "generated")+": "+now.Format("2006-01-02 15:04 UTC"), "Custodia", now, false)
	pdf.Fields(
		[2]string{L(lang, "summary.findings"), fmt.Sprint(d.OpenFindings)},
		[2]string{L(lang, "summary.risks"), fmt.Sprint(d.RisksAboveAppetite)},
		[2]string{L(lang, "summary.controls"), fmt.Sprintf("green %d · amber %d · red %d · n/a %d", d.Health[compliance.Green], d.Health[compliance.Amber], d.Health[compliance.Red], d.Health[compliance.Grey])},
	)
	pdf.Heading(L(lang, "summary.systems"))
	var srows [][]string
	for _, s := range systems {
		doc, err := o.Declaration(ctx, p, s.ID)
		if err != nil {
			return nil, err
		}
		due := L(lang, "decl.never")
		if !doc.Conformity.NextDue.IsZero() {
			due = doc.Conformity.NextDue.Format(time.DateOnly)
		}
		if doc.Conformity.Overdue {
			due += " — " + L(lang, "decl.overdue")
		}
		srows = append(srows, []string{s.Name, s.Valuation.String(), s.Category.String(), fmt.Sprint(doc.Counts["applies"]), fmt.Sprint(doc.Counts["implemented"]), pathLabel(lang, doc.Conformity.Path), due})
	}
	pdf.Table([]report.Column{report.Col(L(lang, "decl.system"), 35), report.Col(L(lang, "decl.valuation"), 40), report.Col(L(lang, "decl.category"), 18), report.Col(L(lang, "col.applicableN"), 15),
		report.Col(L(lang, "col.implemented"), 15), report.Col(L(lang, "decl.path"), 30), report.Col(L(lang, "decl.nextdue"), 30)}, srows)
	pdf.Heading(L(lang, "summary.scores"))
	var rows [][]string
	for _, s := range d.Scores {
		client := s.ClientName
		if s.ClientID == 0 {
			client = L(lang, "operator")
		}
		rows = append(rows, []string{s.Name, client, fmt.Sprint(s.Applicable), fmt.Sprint(s.Compliant), fmt.Sprintf("%d%%", s.Percent)})
	}
	pdf.Table([]report.Column{report.Col(L(lang, "soa.framework"), 50), report.Col(L(lang, "col.client"), 40), report.Col(L(lang, "col.applicableN"), 20), report.Col(L(lang, "col.compliant"), 30), report.Col(L(lang, "col.percent"), 12)}, rows)
	return pdf.Bytes()
}

// SoAOSCAL exports a framework's Statement of Applicability as OSCAL: a
// profile selecting the applicable requirements, or (results true)
// assessment results with one finding per applicable requirement.
func (o *Office) SoAOSCAL(ctx context.Context, p *identity.Principal, key string, results bool) ([]byte, error) {
	c, err := o.Catalog(key)
	if err != nil {
		return nil, err
	}
	rows, err := o.SoA(ctx, p, key)
	if err != nil {
		return nil, err
	}
	title := "Statement of Applicability — " + c.Name
	if !results {
		var ids []string
		for _, r := range rows {
			if r.Applicable {
				ids = append(ids, r.Requirement)
			}
		}
		return catalog.ExportOSCALProfile(c, title, ids, o.Now())
	}
	var assessed []catalog.Assessed
	for _, r := range rows {
		if !r.Applicable {
			continue
		}
		remarks := r.Justification
		if len(r.Controls) > 0 {
			remarks = strings.TrimSpace(remarks + " Controls: " + strings.Join(r.Controls, ", ") + fmt.Sprintf("; fresh evidence: %d.", r.Evidence))
		}
		assessed = append(assessed, catalog.Assessed{Requirement: r.Requirement, Status: r.Status, Remarks: remarks})
	}
	return catalog.ExportOSCALAssessmentResults(c, title, assessed, o.Now())
}
