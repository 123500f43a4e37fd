package web

import (
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/fleet"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/posture"
	"github.com/custodia/custodia/internal/store"
)

// The custom policies pages: the same roles and client scope as the API's
// /api/v1/fleet/policies (readers: admin, security, auditor; changes:
// admin and security).

// fleetPolicyRoutes lists the custom-policy pages (part of fleetRoutes).
func (s *Server) fleetPolicyRoutes() []route {
	return []route{
		{"GET /fleet/policies", fleetPol(fleetAuditors), s.fleetPolicies},
		{"GET /fleet/policies/new", fleetPol(fleetManagers), s.fleetPolicyNew},
		{"POST /fleet/policies", fleetPol(fleetManagers), s.fleetPolicyCreate},
		{"GET /fleet/policies/{id}", fleetPol(fleetAuditors), s.fleetPolicy},
		{"POST /fleet/policies/{id}/delete", fleetPol(fleetManagers), s.fleetPolicyDelete},
	}
}

func fleetPol(rs []identity.Role) authz.Policy { return authz.Roles(rs...).WithClientScoped() }

// fleetAssignment names where a policy is assigned.
type fleetAssignment struct {
	Client, Site, Team string
}

// Describe says where the policy applies, translated: "Client: Bank ·
// Team: Bank 1", or every device.
func (a fleetAssignment) Describe(v *view) string {
	var parts []string
	for _, p := range []struct{ key, name string }{{"fleet.client", a.Client}, {"fleet.site", a.Site}, {"fleet.team", a.Team}} {
		if p.name != "" {
			parts = append(parts, v.T(p.key)+": "+p.name)
		}
	}
	if len(parts) == 0 {
		return v.T("fleet.policies.every_device")
	}
	return strings.Join(parts, " · ")
}

func (rf *refs) assignment(p *store.FleetPolicy) fleetAssignment {
	var a fleetAssignment
	if p.ClientID != 0 {
		a.Client = rf.clientName(p.ClientID)
	}
	if p.SiteID != 0 {
		a.Site = rf.siteName(p.SiteID)
		if a.Site == "" {
			a.Site = "#" + itoa64(p.SiteID)
		}
	}
	if p.TeamID != 0 {
		a.Team = "#" + itoa64(p.TeamID)
		for _, t := range rf.teams {
			if t.ID == p.TeamID {
				a.Team = t.Name
			}
		}
	}
	return a
}

type fleetPolicyRow struct {
	store.FleetPolicy
	fleetAssignment
	// Checks is the number of checks; -1 when the source does not parse.
	Checks int
}

type fleetPoliciesData struct {
	Rows   []fleetPolicyRow
	Notice string
}

func (s *Server) fleetPolicies(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.store.FleetPolicies(r.Context(), scope(r))
	if err != nil {
		return err
	}
	rf, err := s.loadRefs(r.Context(), scope(r))
	if err != nil {
		return err
	}
	d := &fleetPoliciesData{}
	for i := range ps {
		row := fleetPolicyRow{FleetPolicy: ps[i], fleetAssignment: rf.assignment(&ps[i]), Checks: -1}
		if p, err := posture.Parse([]byte(ps[i].Source)); err == nil {
			row.Checks = len(p.Checks)
		}
		d.Rows = append(d.Rows, row)
	}
	v := s.newView(r, "fleet.policies.title", d)
	d.Notice = fleetNotice(v, r)
	return s.render(w, http.StatusOK, "fleet_policies", v)
}

type fleetPolicyNewData struct {
	OSes    []Option
	Clients []Option
	Sites   []Option
	Teams   []Option
	// Problems are the linter's findings in the source, by line.
	Problems []posture.Problem
}

// fleetPolicyForm prepares the new-policy form, refilled from form.
func (s *Server) fleetPolicyForm(r *http.Request, form map[string][]string) (*view, *fleetPolicyNewData, error) {
	rf, err := s.loadRefs(r.Context(), scope(r))
	if err != nil {
		return nil, nil, err
	}
	d := &fleetPolicyNewData{}
	v := s.newView(r, "fleet.policies.new", d)
	if form != nil {
		v.Form = form
	}
	id := func(name string) int64 { n, _ := strconv.ParseInt(v.Form.Get(name), 10, 64); return n }
	d.OSes = []Option{{Value: "", Label: v.T("fleet.policies.any_os")}}
	for _, o := range []string{"windows", "darwin", "linux"} {
		d.OSes = append(d.OSes, Option{Value: o, Label: v.T("fleet.os." + o), Selected: v.Form.Get("os") == o})
	}
	// Only those who see every client may assign a policy to every client.
	d.Clients = rf.clientOptions(v.T("fleet.policies.every_client"), id("client_id"))
	if !scope(r).All {
		d.Clients = d.Clients[1:]
	}
	d.Sites = rf.siteOptions(v.T("fleet.policies.every_site"), id("site_id"))
	d.Teams = rf.teamOptions(v.T("fleet.policies.every_team"), id("team_id"))
	return v, d, nil
}

func (s *Server) fleetPolicyNew(w http.ResponseWriter, r *http.Request) error {
	v, _, err := s.fleetPolicyForm(r, nil)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "fleet_policy_new", v)
}

// fleetPolicyField is the form field a policy validation error belongs to.
func fleetPolicyField(key string) string {
	switch key {
	case "fleet.err.unknown_client", "fleet.err.choose_one_of_your_clients":
		return "client_id"
	case "fleet.err.unknown_site":
		return "site_id"
	case "fleet.err.unknown_team", "fleet.err.the_team_works_for_another", "fleet.err.the_team_is_at_another":
		return "team_id"
	case "fleet.err.policy_name":
		return "name"
	case "fleet.err.the_operating_system_must_be":
		return "os"
	}
	return "source"
}

// fleetPolicyCreate assigns a custom policy from the form: the source is
// the uploaded file if one was sent, else the text area. It must pass the
// linter (custodia-agent lint) and the API's validation; otherwise the
// form comes back with the problems, by line, and what was typed.
func (s *Server) fleetPolicyCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	f := r.PostForm
	src := f.Get("source")
	if file, _, err := r.FormFile("file"); err == nil {
		b, err := io.ReadAll(io.LimitReader(file, fleet.MaxPolicySource+1))
		file.Close()
		if err != nil {
			return err
		}
		if len(b) > 0 {
			src = string(b)
		}
	}
	src = strings.ReplaceAll(src, "\r\n", "\n") // text areas send CRLF
	form := map[string][]string{}
	for k, vs := range f {
		if k != "csrf_token" {
			form[k] = vs
		}
	}
	form["source"] = []string{src}
	fail := func(field string, msg func(v *view) string, problems []posture.Problem) error {
		v, d, err := s.fleetPolicyForm(r, form)
		if err != nil {
			return err
		}
		d.Problems = problems
		v.Errs[field] = msg(v)
		v.FormError = v.T("common.form_errors")
		return s.render(w, http.StatusUnprocessableEntity, "fleet_policy_new", v)
	}
	in := fleet.PolicyInput{Name: f.Get("name"), OS: f.Get("os"), Source: src}
	var bad []string
	for name, dst := range map[string]*int64{"client_id": &in.ClientID, "site_id": &in.SiteID, "team_id": &in.TeamID} {
		if raw := strings.TrimSpace(f.Get(name)); raw != "" {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n < 0 {
				bad = append(bad, name)
			}
			*dst = n
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fail(bad[0], func(v *view) string { return v.T("error.validation") }, nil)
	}
	if strings.TrimSpace(src) == "" {
		return fail("source", func(v *view) string { return v.T("fleet.policies.source_required") }, nil)
	}
	if _, problems := fleet.LintPolicy([]byte(src)); len(problems) > 0 {
		return fail("source", func(v *view) string { return v.T("fleet.policies.lint_failed", len(problems)) }, problems)
	}
	p, err := s.fleet.Service.AddPolicy(r.Context(), scope(r), in)
	if err != nil {
		var ie *fleet.InputError
		if !errors.As(err, &ie) {
			return err
		}
		return fail(fleetPolicyField(ie.Key), func(v *view) string { return fleetErrText(v, ie) }, nil)
	}
	return redirect(w, r, "/fleet/policies/"+itoa64(p.ID)+"?ok=policy_created")
}

// fleetPolicyCheck is a check of a policy with its results in the fleet.
type fleetPolicyCheck struct {
	ID, Title, Condition string
	Compliance           []string // "framework: control, control"
	Problem              string
	Line                 int
	Passed, Failed       int64
	Other                int64
	Reported             bool // some device in scope reported it
}

type fleetPolicyData struct {
	Policy store.FleetPolicy
	fleetAssignment
	PolicyID   string // the id in the file, which devices report
	Dialect    string
	ParseError string
	Checks     []fleetPolicyCheck
	Notice     string
}

func (s *Server) fleetPolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.store.FleetPolicy(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	rf, err := s.loadRefs(r.Context(), scope(r))
	if err != nil {
		return err
	}
	d := &fleetPolicyData{Policy: *p, fleetAssignment: rf.assignment(p)}
	parsed, err := posture.Parse([]byte(p.Source))
	if err != nil {
		d.ParseError = err.Error()
	} else {
		d.PolicyID, d.Dialect = parsed.ID, parsed.Dialect.String()
		counts, err := s.store.FleetPolicyChecks(r.Context(), scope(r), parsed.ID)
		if err != nil {
			return err
		}
		byCheck := make(map[string]store.FleetCheckSummary, len(counts))
		for _, c := range counts {
			byCheck[c.CheckID] = c
		}
		for _, c := range parsed.Checks {
			pc := fleetPolicyCheck{ID: c.ID, Title: c.Title, Condition: string(c.Condition), Line: c.Line}
			if c.Err != nil {
				pc.Problem = c.Err.Error()
			}
			for _, fw := range c.Frameworks() {
				pc.Compliance = append(pc.Compliance, fw+": "+strings.Join(c.Compliance[fw], ", "))
			}
			if n, ok := byCheck[c.ID]; ok {
				pc.Passed, pc.Failed, pc.Other, pc.Reported = n.Passed, n.Failed, n.Other, true
			}
			d.Checks = append(d.Checks, pc)
		}
	}
	v := s.newView(r, "fleet.policy.title", d)
	d.Notice = fleetNotice(v, r)
	return s.render(w, http.StatusOK, "fleet_policy", v)
}

func (s *Server) fleetPolicyDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.fleet.Service.DeletePolicy(r.Context(), scope(r), id); err != nil {
		return err
	}
	return redirect(w, r, "/fleet/policies?ok=policy_deleted")
}
