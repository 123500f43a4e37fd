package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/custodia/custodia/internal/incident/triage"
)

// Charts are drawn on the server as SVG (no script): a stacked bar per
// week, one colour per series.

type svgBar struct {
	X, Y, W, H float64
	Fill       string
	Title      string
}

type svgLabel struct {
	X, Y float64
	Text string
}

type svgChart struct {
	Title         string
	Width, Height float64
	Bars          []svgBar
	Labels        []svgLabel
	Legend        []svgLegend
	Max           int
}

type svgLegend struct {
	Fill, Name string
	Y          float64
}

var chartColours = []string{"#1f6feb", "#d97706", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#4b5563", "#ca8a04"}

// stackedChart lays out series (name → per-week counts) as stacked bars.
func stackedChart(title string, weeks []string, names []string, series map[string][]int) svgChart {
	const left, top, barW, gap, plotH = 40.0, 10.0, 26.0, 10.0, 160.0
	c := svgChart{Title: title, Height: plotH + 60}
	c.Width = left + float64(len(weeks))*(barW+gap) + 160
	totals := make([]int, len(weeks))
	for _, n := range names {
		for i, x := range series[n] {
			totals[i] += x
		}
	}
	c.Max = max(slices.Max(append(totals, 1)), 1)
	scale := plotH / float64(c.Max)
	for i, wk := range weeks {
		x := left + float64(i)*(barW+gap)
		y := top + plotH
		for j, n := range names {
			cnt := series[n][i]
			if cnt == 0 {
				continue
			}
			h := float64(cnt) * scale
			y -= h
			c.Bars = append(c.Bars, svgBar{X: x, Y: y, W: barW, H: h, Fill: chartColours[j%len(chartColours)], Title: fmt.Sprintf("%s · %s: %d", wk, n, cnt)})
		}
		if i%2 == 0 || len(weeks) <= 8 {
			c.Labels = append(c.Labels, svgLabel{X: x, Y: top + plotH + 14, Text: wk[len(wk)-3:]})
		}
	}
	c.Labels = append(c.Labels, svgLabel{X: 0, Y: top + 10, Text: strconv.Itoa(c.Max)}, svgLabel{X: 0, Y: top + plotH, Text: "0"})
	for j, n := range names {
		c.Legend = append(c.Legend, svgLegend{Fill: chartColours[j%len(chartColours)], Name: n, Y: top + float64(j)*18})
	}
	return c
}

// LegendX is where the legend starts.
func (c svgChart) LegendX() float64 { return c.Width - 150 }

type metricsData struct {
	M         *triage.Metrics
	Weeks     []int
	Selected  int
	Channel   svgChart
	Team      svgChart
	Stats     []metricStat
	RealShare string
}

type metricStat struct {
	Name, Median, P90 string
	N                 int
}

func fmtDur(d time.Duration) string {
	if d < 0 {
		return "—"
	}
	return countdown(d)
}

func (s *Server) incidentMetrics(w http.ResponseWriter, r *http.Request) error {
	weeks, _ := strconv.Atoi(r.URL.Query().Get("weeks"))
	if weeks < 1 || weeks > 52 {
		weeks = 12
	}
	v := s.newView(r, "incidents.metrics_title", nil)
	m, err := s.incidents.Desk.Metrics(r.Context(), principal(r), weeks)
	if err != nil {
		return err
	}
	d := &metricsData{M: m, Weeks: []int{4, 12, 26, 52}, Selected: weeks}
	var chNames []string
	chSeries := map[string][]int{}
	for ch, counts := range m.ByChannel {
		name := v.T("incidents.channel." + ch)
		chNames = append(chNames, name)
		chSeries[name] = counts
	}
	slices.Sort(chNames)
	d.Channel = stackedChart(v.T("incidents.metrics_by_channel"), m.Weeks, chNames, chSeries)
	rf, err := s.loadRefs(r.Context(), scope(r))
	if err != nil {
		return err
	}
	var teamNames []string
	teamSeries := map[string][]int{}
	for team, counts := range m.ByTeam {
		name := v.T("incidents.no_team")
		if team != 0 {
			name = "#" + strconv.FormatInt(team, 10)
			for _, t := range rf.teams {
				if t.ID == team {
					name = t.Name
				}
			}
		}
		teamNames = append(teamNames, name)
		teamSeries[name] = counts
	}
	slices.Sort(teamNames)
	d.Team = stackedChart(v.T("incidents.metrics_by_team"), m.Weeks, teamNames, teamSeries)
	for _, st := range []struct {
		key string
		s   triage.Stat
	}{{"ack", m.Ack}, {"triage", m.Triage}, {"contain", m.Contain}} {
		d.Stats = append(d.Stats, metricStat{Name: v.T("incidents.stage." + st.key), Median: fmtDur(st.s.Median), P90: fmtDur(st.s.P90), N: st.s.N})
	}
	d.RealShare = "—"
	if m.Real >= 0 {
		d.RealShare = fmt.Sprintf("%.0f %%", m.Real*100)
	}
	v.D = d
	return s.render(w, http.StatusOK, "incident_metrics", v)
}
