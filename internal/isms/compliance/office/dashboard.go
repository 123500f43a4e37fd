package office

import (
	"context"
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance"
	"github.com/custodia/custodia/internal/isms/ens"
	"github.com/custodia/custodia/internal/store"
)

// Score is the compliance of one framework for one client (0: the whole
// operator): the share of applicable requirements implemented with fresh
// evidence.
type Score struct {
	Catalog    string `json:"catalog"`
	Name       string `json:"name"`
	ClientID   int64  `json:"client_id"`
	ClientName string `json:"client_name"`
	Applicable int    `json:"applicable"`
	Compliant  int    `json:"compliant"`
	Percent    int    `json:"percent"`
}

// Dashboard is the compliance overview for a caller.
type Dashboard struct {
	Scores             []Score                   `json:"scores"`
	Health             map[compliance.Health]int `json:"control_health"`
	StaleEvidence      int                       `json:"stale_evidence"`
	OpenFindings       int                       `json:"open_findings"`
	RisksAboveAppetite int                       `json:"risks_above_appetite"`
	Systems            int                       `json:"ens_systems"`
	AuditsOverdue      int                       `json:"ens_audits_overdue"`
	Trend              []store.ISMSSnapshot      `json:"trend"`
}

// scoreInput is everything the arithmetic needs, read once.
type scoreInput struct {
	lib      *catalog.Library
	controls []compliance.Control
	direct   []store.ISMSDirectEvidence
	states   map[string]map[string]compliance.RequirementState
	systems  []compliance.ENSSystem
	measures map[int64]map[string]compliance.MeasureState
}

func (o *Office) readScoreInput(ctx context.Context, scope identity.Scope, now time.Time) (*scoreInput, error) {
	in := &scoreInput{lib: o.Library(), states: map[string]map[string]compliance.RequirementState{}}
	var err error
	if in.controls, err = o.st.ISMSControls(ctx, store.ISMSControlFilter{Scope: scope}, now); err != nil {
		return nil, err
	}
	if in.direct, err = o.st.ISMSDirectEvidenceCounts(ctx, now); err != nil {
		return nil, err
	}
	for _, c := range in.lib.Catalogs {
		if in.states[c.ID], err = o.st.ISMSRequirementStates(ctx, c.ID); err != nil {
			return nil, err
		}
	}
	if in.systems, err = o.st.ISMSENSSystems(ctx, scope); err != nil {
		return nil, err
	}
	if in.measures, err = o.st.ISMSAllENSMeasures(ctx); err != nil {
		return nil, err
	}
	return in, nil
}

// inClient reports whether a record of client rc counts for client k (0 =
// every record).
func inClient(rc, k int64) bool { return k == 0 || rc == 0 || rc == k }

// scores computes the score of every framework for client k.
func (in *scoreInput) scores(k int64) []Score {
	green := map[catalog.Ref][]int64{} // requirement → clients of green controls
	for _, c := range in.controls {
		if c.Health != compliance.Green || !inClient(c.ClientID, k) {
			continue
		}
		for _, r := range c.Requirements {
			green[r] = append(green[r], c.ClientID)
		}
	}
	direct := map[catalog.Ref]bool{}
	ensDirect := map[int64]map[string]bool{}
	for _, d := range in.direct {
		if d.Fresh == 0 || !inClient(d.ClientID, k) {
			continue
		}
		if d.ENSSystemID != 0 {
			if ensDirect[d.ENSSystemID] == nil {
				ensDirect[d.ENSSystemID] = map[string]bool{}
			}
			ensDirect[d.ENSSystemID][d.Requirement] = true
			continue
		}
		direct[catalog.Ref{Catalog: d.Catalog, Requirement: d.Requirement}] = true
	}
	var out []Score
	for _, c := range in.lib.Catalogs {
		s := Score{Catalog: c.ID, Name: c.Name, ClientID: k}
		if c.ID == catalog.ENS {
			for _, sys := range in.systems {
				if !inClient(sys.ClientID, k) {
					continue
				}
				apps, err := ens.Applicable(c, sys.Valuation)
				if err != nil {
					continue
				}
				states := in.measures[sys.ID]
				for _, a := range apps {
					m := states[a.Measure]
					applies := a.Applies
					switch m.Override {
					case compliance.ForceApply:
						applies = true
					case compliance.Exclude:
						applies = false
					}
					if !applies {
						continue
					}
					s.Applicable++
					if m.Status != catalog.Implemented {
						continue
					}
					ref := catalog.Ref{Catalog: c.ID, Requirement: a.Measure}
					if ensDirect[sys.ID][a.Measure] || slices.ContainsFunc(green[ref], func(cl int64) bool { return cl == 0 || cl == sys.ClientID }) {
						s.Compliant++
					}
				}
			}
		} else {
			states := in.states[c.ID]
			for _, r := range c.Requirements {
				st, ok := states[r.ID]
				if ok && !st.Applicable {
					continue
				}
				s.Applicable++
				ref := catalog.Ref{Catalog: c.ID, Requirement: r.ID}
				if len(green[ref]) > 0 || (ok && st.Status == catalog.Implemented && direct[ref]) {
					s.Compliant++
				}
			}
		}
		if s.Applicable > 0 {
			s.Percent = s.Compliant * 100 / s.Applicable
		}
		out = append(out, s)
	}
	return out
}

// clientKeys are the client keys a caller sees scores for: 0 (the whole
// operator) for callers who see every client, then each client in scope.
func (o *Office) clientKeys(ctx context.Context, scope identity.Scope) ([]int64, map[int64]string, error) {
	clients, err := o.st.ISMSClients(ctx, scope)
	if err != nil {
		return nil, nil, err
	}
	var keys []int64
	for id := range clients {
		keys = append(keys, id)
	}
	slices.Sort(keys)
	if scope.All {
		keys = append([]int64{0}, keys...)
	}
	return keys, clients, nil
}

// Dashboard computes the compliance overview in the caller's scope, with
// the trend of the last days (from the daily snapshots).
func (o *Office) Dashboard(ctx context.Context, p *identity.Principal, days int) (*Dashboard, error) {
	scope := p.Scope()
	now := o.Now()
	in, err := o.readScoreInput(ctx, scope, now)
	if err != nil {
		return nil, err
	}
	keys, names, err := o.clientKeys(ctx, scope)
	if err != nil {
		return nil, err
	}
	d := &Dashboard{Health: map[compliance.Health]int{}}
	for _, k := range keys {
		for _, s := range in.scores(k) {
			s.ClientName = names[k]
			d.Scores = append(d.Scores, s)
		}
	}
	for _, c := range in.controls {
		d.Health[c.Health]++
		d.StaleEvidence += c.StaleEvidence
	}
	for _, sys := range in.systems {
		d.Systems++
		k, err := ens.NewConformity(sys.Category, sys.LastAuditAt)
		if err == nil && k.Overdue(now) {
			d.AuditsOverdue++
		}
	}
	if d.OpenFindings, d.RisksAboveAppetite, err = o.st.ISMSRiskCounts(ctx, scope); err != nil {
		return nil, err
	}
	if days > 0 {
		from := now.AddDate(0, 0, -days).Format(time.DateOnly)
		if d.Trend, err = o.st.ISMSSnapshots(ctx, from, keys); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Snapshot writes today's scores for the operator and every client.
func (o *Office) Snapshot(ctx context.Context) error {
	now := o.Now()
	all := identity.Scope{All: true}
	in, err := o.readScoreInput(ctx, all, now)
	if err != nil {
		return err
	}
	keys, _, err := o.clientKeys(ctx, all)
	if err != nil {
		return err
	}
	day := now.Format(time.DateOnly)
	var snaps []store.ISMSSnapshot
	for _, k := range keys {
		for _, s := range in.scores(k) {
			snaps = append(snaps, store.ISMSSnapshot{Day: day, Catalog: s.Catalog, ClientKey: k, Applicable: s.Applicable, Compliant: s.Compliant})
		}
	}
	return o.st.ISMSPutSnapshots(ctx, snaps)
}

// RunSnapshots writes a snapshot at once and then every interval until ctx
// ends.
func (o *Office) RunSnapshots(ctx context.Context, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := o.Snapshot(ctx); err != nil && ctx.Err() == nil && onErr != nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// TrendSVG draws the percent of one client key's frameworks over time as
// an SVG line chart (no script; colours by position).
func TrendSVG(trend []store.ISMSSnapshot, clientKey int64, label func(catalogKey string) string) template.HTML {
	const w, h, pad = 640.0, 200.0, 30.0
	series := map[string][]store.ISMSSnapshot{}
	var dayList []string
	seen := map[string]bool{}
	for _, s := range trend {
		if s.ClientKey != clientKey {
			continue
		}
		series[s.Catalog] = append(series[s.Catalog], s)
		if !seen[s.Day] {
			seen[s.Day] = true
			dayList = append(dayList, s.Day)
		}
	}
	sort.Strings(dayList)
	if len(dayList) == 0 {
		return ""
	}
	pos := map[string]int{}
	for i, d := range dayList {
		pos[d] = i
	}
	x := func(i int) float64 {
		if len(dayList) == 1 {
			return pad + (w-2*pad)/2
		}
		return pad + float64(i)*(w-2*pad)/float64(len(dayList)-1)
	}
	y := func(pct float64) float64 { return h - pad - pct*(h-2*pad)/100 }
	colours := []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" class="isms-trend">`, w, h+20*float64(len(series)/3+1))
	for _, pct := range []float64{0, 50, 100} {
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#ccc" stroke-width="1"/><text x="2" y="%.1f" font-size="10" fill="#555">%.0f%%</text>`,
			pad, y(pct), w-pad, y(pct), y(pct)+3, pct)
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="10" fill="#555">%s</text>`, pad, h-pad+14, template.HTMLEscapeString(dayList[0]))
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="10" fill="#555" text-anchor="end">%s</text>`, w-pad, h-pad+14, template.HTMLEscapeString(dayList[len(dayList)-1]))
	keys := make([]string, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		col := colours[i%len(colours)]
		var pts []string
		for _, s := range series[k] {
			pct := 0.0
			if s.Applicable > 0 {
				pct = float64(s.Compliant) * 100 / float64(s.Applicable)
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(pos[s.Day]), y(pct)))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, col, strings.Join(pts, " "))
		lx, ly := pad+float64(i%3)*200, h+float64(i/3)*20
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="10" height="10" fill="%s"/><text x="%.0f" y="%.0f" font-size="11" fill="#222">%s</text>`,
			lx, ly-9, col, lx+14, ly, template.HTMLEscapeString(label(k)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built from numbers and escaped labels only
}
