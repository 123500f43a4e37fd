package triage

import (
	"context"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/desk"
	"github.com/custodia/custodia/internal/store"
)

// QueueItem is one entry of the triage queue: a new report, an open alert
// or an untriaged incident.
type QueueItem struct {
	Kind     string    `json:"kind"` // report, alert, incident
	ID       int64     `json:"id"`
	Ref      string    `json:"ref"`
	Title    string    `json:"title"`
	Severity string    `json:"severity"`
	Category string    `json:"category"`
	Channel  string    `json:"channel,omitempty"`
	ClientID int64     `json:"client_id,omitempty"`
	Reporter string    `json:"reporter,omitempty"` // security team only
	Reports  int       `json:"reports,omitempty"`
	Flags    []string  `json:"flags,omitempty"`
	Created  time.Time `json:"created_at"`
	Age      string    `json:"age"`
	// SLADue is when the next SLA stage is due; SLALeft is negative when
	// overdue.
	SLAStage string        `json:"sla_stage,omitempty"`
	SLADue   time.Time     `json:"sla_due,omitzero"`
	SLALeft  time.Duration `json:"sla_left"`
}

// Queue lists what waits for triage in p's scope, most urgent first (by
// SLA time left, then severity).
func (s *Service) Queue(ctx context.Context, p *identity.Principal, limit int) ([]QueueItem, error) {
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	now := s.now()
	var out []QueueItem
	reports, err := s.Reports(ctx, p, store.ReportFilter{Status: desk.ReportNew, Limit: limit})
	if err != nil {
		return nil, err
	}
	for _, r := range reports {
		cat, _ := desk.ChoiceCategory(r.Category)
		title := r.Context["subject"]
		if title == "" {
			title = firstLine(r.Text)
		}
		it := QueueItem{Kind: "report", ID: r.ID, Ref: r.Ref, Title: title, Severity: r.Severity, Category: cat, Channel: r.Channel,
			ClientID: r.ClientID, Flags: r.Flags, Created: r.CreatedAt}
		if SecurityTeam(p) {
			it.Reporter = r.ReporterName
			if it.Reporter == "" {
				it.Reporter = r.ReporterEmail
			}
		}
		if r.Anonymous {
			it.Reporter = "anonymous"
		}
		// A report waits for triage: its SLA is the triage target.
		it.SLAStage, it.SLADue = desk.StageTriage, r.CreatedAt.Add(s.sla(r.Severity).Triage)
		out = append(out, it)
	}
	alerts, err := s.st.Alerts(ctx, p.Scope(), alert.Filter{Status: alert.StatusOpen, Limit: limit})
	if err != nil {
		return nil, err
	}
	for _, a := range alerts {
		sev := severityOfAlert(a.Severity)
		it := QueueItem{Kind: "alert", ID: a.ID, Ref: a.Source + "/" + a.Kind, Title: a.Title, Severity: sev, Category: a.Kind,
			ClientID: a.ClientID, Created: a.CreatedAt, Reports: int(a.Occurrences)}
		it.SLAStage, it.SLADue = desk.StageTriage, a.CreatedAt.Add(s.sla(sev).Triage)
		out = append(out, it)
	}
	incs, err := s.st.Incidents(ctx, p.Scope(), store.IncidentFilter{Status: desk.StatusNew, Limit: limit})
	if err != nil {
		return nil, err
	}
	for i := range incs {
		in := &incs[i]
		it := QueueItem{Kind: "incident", ID: in.ID, Ref: in.Ref, Title: in.Title, Severity: in.Severity, Category: in.Category,
			Reports: in.Reporters, Created: in.CreatedAt}
		if len(in.ClientIDs) > 0 {
			it.ClientID = in.ClientIDs[0]
		}
		for _, c := range s.slas.Countdowns(in, now) {
			if !c.Done {
				it.SLAStage, it.SLADue = c.Stage, c.Due
				break
			}
		}
		out = append(out, it)
	}
	for i := range out {
		out[i].Age = humanAge(now.Sub(out[i].Created))
		if !out[i].SLADue.IsZero() {
			out[i].SLALeft = out[i].SLADue.Sub(now).Truncate(time.Second)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].SLADue.Equal(out[j].SLADue) {
			return out[i].SLADue.Before(out[j].SLADue)
		}
		return desk.SeverityRank(out[i].Severity) > desk.SeverityRank(out[j].Severity)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *Service) sla(sev string) desk.SLA {
	if v, ok := s.slas[sev]; ok {
		return v
	}
	return s.slas[desk.SeverityMedium]
}

func humanAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "<1m"
	case d < time.Hour:
		return time.Duration(d.Minutes() * float64(time.Minute)).Truncate(time.Minute).String()
	case d < 48*time.Hour:
		return (d.Truncate(time.Minute)).String()
	}
	return itoa(int(d.Hours()/24)) + "d"
}

func itoa(n int) string { return idStr(int64(n)) }

// Metrics are the desk's figures over a period.
type Metrics struct {
	Since   time.Time `json:"since"`
	Weeks   []string  `json:"weeks"` // ISO week labels, oldest first
	Reports int       `json:"reports"`
	// ByChannel and ByTeam: per week counts (same order as Weeks).
	ByChannel map[string][]int `json:"by_channel"`
	ByTeam    map[int64][]int  `json:"by_team"`
	// Median and P90 times per stage, in seconds (-1 when no data).
	Ack     Stat `json:"ack"`
	Triage  Stat `json:"triage"`
	Contain Stat `json:"contain"`
	// Real is the share of decided reports that were real (0..1; -1 when none decided).
	Real    float64 `json:"real_share"`
	Decided int     `json:"decided"`
}

// Stat is a duration distribution summary.
type Stat struct {
	N      int           `json:"n"`
	Median time.Duration `json:"median"`
	P90    time.Duration `json:"p90"`
}

// Metrics computes the figures for the last weeks (1..52) in p's scope.
func (s *Service) Metrics(ctx context.Context, p *identity.Principal, weeks int) (*Metrics, error) {
	weeks = min(max(weeks, 1), 52)
	now := s.now().UTC()
	start := weekStart(now).AddDate(0, 0, -7*(weeks-1))
	m := &Metrics{Since: start, ByChannel: map[string][]int{}, ByTeam: map[int64][]int{}}
	for i := 0; i < weeks; i++ {
		y, w := start.AddDate(0, 0, 7*i).ISOWeek()
		m.Weeks = append(m.Weeks, isoLabel(y, w))
	}
	rows, err := s.st.IncidentMetricReports(ctx, p.Scope(), start)
	if err != nil {
		return nil, err
	}
	real := 0
	for _, r := range rows {
		i := int(r.CreatedAt.Sub(start) / (7 * 24 * time.Hour))
		if i < 0 || i >= weeks {
			continue
		}
		m.Reports++
		if m.ByChannel[r.Channel] == nil {
			m.ByChannel[r.Channel] = make([]int, weeks)
		}
		m.ByChannel[r.Channel][i]++
		if m.ByTeam[r.TeamID] == nil {
			m.ByTeam[r.TeamID] = make([]int, weeks)
		}
		m.ByTeam[r.TeamID][i]++
		if r.Outcome != "" && r.Outcome != desk.OutcomeDuplicate {
			m.Decided++
			if desk.Real(r.Outcome) {
				real++
			}
		}
	}
	m.Real = -1
	if m.Decided > 0 {
		m.Real = float64(real) / float64(m.Decided)
	}
	incs, err := s.st.IncidentMetricIncidents(ctx, p.Scope(), start)
	if err != nil {
		return nil, err
	}
	var ack, tri, con []time.Duration
	for _, in := range incs {
		if in.AcknowledgedAt != nil {
			ack = append(ack, in.AcknowledgedAt.Sub(in.CreatedAt))
		}
		if in.TriagedAt != nil {
			tri = append(tri, in.TriagedAt.Sub(in.CreatedAt))
		}
		if in.ContainedAt != nil {
			con = append(con, in.ContainedAt.Sub(in.CreatedAt))
		}
	}
	m.Ack, m.Triage, m.Contain = stat(ack), stat(tri), stat(con)
	return m, nil
}

func stat(ds []time.Duration) Stat {
	if len(ds) == 0 {
		return Stat{Median: -1, P90: -1}
	}
	slices.Sort(ds)
	return Stat{N: len(ds), Median: Percentile(ds, 0.5), P90: Percentile(ds, 0.9)}
}

// Percentile returns the nearest-rank percentile of sorted durations.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func weekStart(t time.Time) time.Time {
	d := (int(t.Weekday()) + 6) % 7 // Monday = 0
	y, mo, da := t.Date()
	return time.Date(y, mo, da, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -d)
}

func isoLabel(y, w int) string {
	s := idStr(int64(w))
	if w < 10 {
		s = "0" + s
	}
	return idStr(int64(y)) + "-W" + s
}
