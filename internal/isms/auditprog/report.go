package auditprog

import (
	"fmt"
	"time"

	"github.com/custodia/custodia/internal/isms/risk"
)

// ReportInput is what the audit report shows.
type ReportInput struct {
	T         risk.Translator
	Audit     Audit
	Checklist []ChecklistItem
	Findings  []Finding
	Now       time.Time
}

// ReportPDF renders the audit report: the audit's scope and criteria, the
// checklist results, the findings and their corrective actions.
func ReportPDF(in ReportInput) ([]byte, error) {
	t := in.T
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	a := in.Audit
	d := risk.NewPDFDoc(t("ismsrisk.audit_report.title", a.Title), t("ismsrisk.report.footer"))
	d.Meta(t("ismsrisk.audit_report.meta", risk.FormatDate(in.Now), t("ismsrisk.audit.kind."+a.Kind), a.Framework, t("ismsrisk.audit.status."+a.Status)))
	d.Heading(t("ismsrisk.audit.scope"))
	d.Para(nonEmpty(a.Scope))
	d.Para(t("ismsrisk.audit_report.auditors", nonEmpty(a.Auditors)))
	d.Para(t("ismsrisk.audit_report.dates", risk.FormatDate(a.PlannedStart), risk.FormatDate(a.PlannedEnd)))

	counts := map[string]int{}
	for _, it := range in.Checklist {
		counts[it.Result]++
	}
	d.Heading(t("ismsrisk.audit.checklist"))
	d.Para(t("ismsrisk.audit_report.checklist_summary", len(in.Checklist), counts["conforming"], counts["nonconforming"], counts["observation"],
		counts["not_applicable"], counts[""]))
	rows := [][]string{}
	for _, it := range in.Checklist {
		res := t("ismsrisk.result.none")
		if it.Result != "" {
			res = t("ismsrisk.result." + it.Result)
		}
		rows = append(rows, []string{it.Requirement, it.Title, res, it.Notes})
	}
	d.Table([]string{t("ismsrisk.requirement"), t("ismsrisk.title"), t("ismsrisk.result"), t("ismsrisk.notes")}, []float64{25, 75, 30, 60}, rows)

	d.Heading(t("ismsrisk.findings"))
	if len(in.Findings) == 0 {
		d.Para(t("ismsrisk.findings.none"))
	}
	for _, f := range in.Findings {
		d.Para(fmt.Sprintf("%s — %s [%s] %s", t("ismsrisk.finding.kind."+f.Kind), f.Title, nonEmpty(f.Requirement), t("ismsrisk.finding.status."+f.Status)))
		if f.Description != "" {
			d.Para(f.Description)
		}
		if len(f.CAPAs) > 0 {
			rows := [][]string{}
			for _, c := range f.CAPAs {
				overdue := ""
				if c.Overdue(in.Now) {
					overdue = " (" + t("ismsrisk.capa.overdue") + ")"
				}
				rows = append(rows, []string{c.Title, c.RootCause, risk.FormatDate(c.DueDate) + overdue, t("ismsrisk.capa.status." + c.Status), c.Verification})
			}
			d.Table([]string{t("ismsrisk.capa"), t("ismsrisk.capa.root_cause"), t("ismsrisk.capa.due_date"), t("ismsrisk.status"), t("ismsrisk.capa.verification")},
				[]float64{45, 45, 30, 25, 45}, rows)
		}
	}
	return d.Bytes()
}

func nonEmpty(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
