package fleet

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/custodia/custodia/internal/store"
)

// csvSafe neutralises a cell a spreadsheet would run as a formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

func csvTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// WriteDevicesCSV writes devices as CSV (one header line, RFC 4180).
func WriteDevicesCSV(w io.Writer, rows []DeviceRow) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "hostname", "owner", "client", "site", "team", "os", "os_build", "agent_version", "session_user", "last_seen_at",
		"stale", "revoked", "score_percent", "passed", "failed", "accepted"})
	for _, d := range rows {
		score := ""
		if d.Score.Known {
			score = strconv.FormatFloat(d.Score.Percent, 'f', 1, 64)
		}
		seen := d.LastSeenAt
		_ = cw.Write([]string{strconv.FormatInt(d.ID, 10), csvSafe(d.Hostname), csvSafe(d.OwnerName), csvSafe(d.ClientName), csvSafe(d.SiteName),
			csvSafe(d.TeamName), d.OS, csvSafe(d.OSBuild), csvSafe(d.AgentVersion), csvSafe(d.SessionUser), csvTime(&seen),
			strconv.FormatBool(d.Stale), strconv.FormatBool(d.Revoked), score, strconv.Itoa(d.Score.Passed), strconv.Itoa(d.Score.Failed), strconv.Itoa(d.Score.Accepted)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write devices CSV: %w", err)
	}
	return nil
}

// WriteCheckCSV writes the fleet view of a check as CSV.
func WriteCheckCSV(w io.Writer, rs []store.FleetResult) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"device_id", "hostname", "policy", "check_id", "session_user", "result", "accepted", "failing_since", "changed_at", "reason"})
	for _, r := range rs {
		changed := r.ChangedAt
		_ = cw.Write([]string{strconv.FormatInt(r.DeviceID, 10), csvSafe(r.Hostname), csvSafe(r.Policy), csvSafe(r.CheckID), csvSafe(r.SessionUser),
			r.Result, strconv.FormatBool(r.Accepted), csvTime(r.FailingSince), csvTime(&changed), csvSafe(r.Reason)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write check CSV: %w", err)
	}
	return nil
}
