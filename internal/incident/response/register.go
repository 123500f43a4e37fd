package response

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/custodia/custodia/internal/store"
)

// WriteBreachesCSV writes the breach register as CSV (UTF-8, a header row).
// Cells that a spreadsheet would read as a formula are prefixed with a quote.
func WriteBreachesCSV(w io.Writer, list []store.ResponseBreach) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"incident_ref", "incident_title", "aware_at", "flagged_at", "flagged_by", "nature", "data_categories", "subjects", "records",
		"consequences", "measures", "authority_state", "authority_notified_at", "clients_notified", "clients_total", "art34_decision", "art34_reasons", "art34_decided_at"})
	for _, b := range list {
		_ = cw.Write([]string{cell(b.IncidentRef), cell(b.IncidentTitle), fmtTime(b.AwareAt), fmtTime(b.FlaggedAt), cell(b.FlaggedBy), cell(b.Nature), cell(b.DataCategories),
			strconv.FormatInt(b.SubjectsCount, 10), strconv.FormatInt(b.RecordsCount, 10), cell(b.Consequences), cell(b.Measures), b.AuthorityState,
			fmtTime(b.AuthorityNotifiedAt), strconv.Itoa(b.ClientsNotified), strconv.Itoa(b.ClientsTotal), b.Art34Decision, cell(b.Art34Reasons), fmtTime(b.Art34DecidedAt)})
	}
	cw.Flush()
	return cw.Error()
}

// cell neutralises spreadsheet formula injection.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ClocksMet is the share of decided clocks (met, late or missed) that were
// met on time, from state counts; ok is false when none is decided yet.
func ClocksMet(counts map[string]int) (share float64, decided int, ok bool) {
	met := counts["met"]
	decided = met + counts["late"] + counts["missed"]
	if decided == 0 {
		return 0, 0, false
	}
	return float64(met) / float64(decided), decided, true
}
