package risk

import (
	"fmt"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/isms/magerit"
)

// Translator looks a message key up in the report's language.
type Translator func(key string, args ...any) string

// HeatMap draws the risks on MAGERIT's 5×5 grid as SVG, with their
// residual assessment (residual) or their potential one.
func HeatMap(risks []Risk, residual bool, title string) string {
	pts := make([]magerit.Risk, 0, len(risks))
	for _, r := range risks {
		a := r.Potential
		if residual {
			a = r.Residual
		}
		pts = append(pts, magerit.Risk{Threat: r.Title, Asset: r.AssetCode, Dimension: a.Dimension, Value: a.Value,
			Impact: a.Impact, Frequency: a.Frequency, ImpactL: a.ImpactLevel, FreqL: a.FrequencyLevel, Level: a.Level})
	}
	return magerit.HeatMap(title, pts)
}

// Matrix counts the risks per cell: [impact-1][frequency-1].
func Matrix(risks []Risk, residual bool) [5][5]int {
	var m [5][5]int
	for _, r := range risks {
		a := r.Potential
		if residual {
			a = r.Residual
		}
		if a.ImpactLevel >= magerit.MB && a.ImpactLevel <= magerit.MA && a.FrequencyLevel >= magerit.MB && a.FrequencyLevel <= magerit.MA {
			m[a.ImpactLevel-1][a.FrequencyLevel-1]++
		}
	}
	return m
}

// ReportInput is what the risk report shows.
type ReportInput struct {
	T        Translator
	Scope    string // e.g. the client's name, or "all clients"
	Assets   []Asset
	Risks    []Risk
	Appetite magerit.Level
	Now      time.Time
}

// ReportPDF renders the risk report: summary against the appetite, the
// inherent and residual matrices, the asset inventory with accumulated
// values and the register with treatments and sign-offs.
func ReportPDF(in ReportInput) ([]byte, error) {
	t := in.T
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	d := NewPDFDoc(t("ismsrisk.report.title"), t("ismsrisk.report.footer"))
	d.Meta(t("ismsrisk.report.meta", FormatDate(in.Now), in.Scope, in.Appetite.String()))

	above, unsigned := 0, 0
	byLevel := map[magerit.Level]int{}
	for _, r := range in.Risks {
		byLevel[r.Residual.Level]++
		if r.Residual.Level > in.Appetite {
			above++
		}
		if r.Treatment != "" && (r.SignOff == nil || !r.SignOff.Valid) {
			unsigned++
		}
	}
	d.Heading(t("ismsrisk.report.summary"))
	d.Para(t("ismsrisk.report.summary_text", len(in.Assets), len(in.Risks), above, unsigned))
	var lv []string
	for l := magerit.MA; l >= magerit.MB; l-- {
		lv = append(lv, fmt.Sprintf("%s: %d", l, byLevel[l]))
	}
	d.Para(t("ismsrisk.report.by_level", strings.Join(lv, "   ")))

	for _, residual := range []bool{false, true} {
		key := "ismsrisk.report.matrix_potential"
		if residual {
			key = "ismsrisk.report.matrix_residual"
		}
		d.Heading(t(key))
		m := Matrix(in.Risks, residual)
		rows := [][]string{}
		for i := magerit.MA; i >= magerit.MB; i-- {
			row := []string{i.String()}
			for f := magerit.MB; f <= magerit.MA; f++ {
				row = append(row, fmt.Sprintf("%d (%s)", m[i-1][f-1], magerit.RiskLevel(i, f)))
			}
			rows = append(rows, row)
		}
		d.Table([]string{t("ismsrisk.impact_frequency"), "MB", "B", "M", "A", "MA"}, []float64{40, 30, 30, 30, 30, 30}, rows)
	}

	d.Heading(t("ismsrisk.report.assets"))
	rows := [][]string{}
	for _, a := range in.Assets {
		rows = append(rows, []string{a.Code, a.Name, "[" + string(a.Type) + "]", valuesText(a.Value), valuesText(a.Accumulated)})
	}
	d.Table([]string{t("ismsrisk.code"), t("ismsrisk.name"), t("ismsrisk.type"), t("ismsrisk.own_value"), t("ismsrisk.accumulated")},
		[]float64{30, 60, 20, 40, 40}, rows)

	d.Heading(t("ismsrisk.report.register"))
	rows = rows[:0]
	for _, r := range in.Risks {
		so := t("ismsrisk.signoff.none")
		if r.SignOff != nil {
			if r.SignOff.Valid {
				so = t("ismsrisk.signoff.valid_short", r.SignOff.Username, FormatDate(r.SignOff.SignedAt), r.SignOff.ResidualLevel.String())
			} else {
				so = t("ismsrisk.signoff.invalid_short")
			}
		}
		treat := t("ismsrisk.treatment.none")
		if r.Treatment != "" {
			treat = t("ismsrisk.treatment." + string(r.Treatment))
		}
		var sg []string
		for _, s := range r.Safeguards {
			sg = append(sg, s.Code)
		}
		rows = append(rows, []string{r.Title, r.AssetCode + " / " + r.ThreatCode, r.Potential.Level.String(), r.Residual.Level.String(),
			treat + "\n" + strings.Join(sg, ", "), so})
	}
	d.Table([]string{t("ismsrisk.risk"), t("ismsrisk.asset_threat"), t("ismsrisk.potential"), t("ismsrisk.residual"), t("ismsrisk.treatment"), t("ismsrisk.signoff")},
		[]float64{55, 35, 18, 18, 32, 32}, rows)
	return d.Bytes()
}

func valuesText(v magerit.Values) string {
	var parts []string
	for _, d := range Dimensions {
		if x, ok := v[d]; ok && x != 0 {
			parts = append(parts, fmt.Sprintf("%s%d", d, x))
		}
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, " ")
}

// ValuesText prints values as "C8 I3" ("—" when empty).
func ValuesText(v magerit.Values) string { return valuesText(v) }
