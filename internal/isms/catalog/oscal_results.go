package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Assessed is the assessed state of one requirement, for an OSCAL
// assessment-results document. Findings are the imported findings about
// the requirement that carry observations or risks (nil on export).
type Assessed struct {
	Requirement string
	Status      Status
	Remarks     string
	Findings    []AssessmentFinding
}

type oscalProfileFile struct {
	Profile oscalProfile `json:"profile"`
}

type oscalProfile struct {
	UUID     string         `json:"uuid"`
	Metadata oscalMetadata  `json:"metadata"`
	Imports  []oscalImport  `json:"imports"`
	Merge    map[string]any `json:"merge"`
}

type oscalImport struct {
	Href            string         `json:"href"`
	IncludeControls []oscalWithIDs `json:"include-controls,omitempty"`
}

type oscalWithIDs struct {
	WithIDs []string `json:"with-ids"`
}

// ExportOSCALProfile writes an OSCAL 1.1.2 profile that selects the given
// requirements of c (for instance the applicable ones of a Statement of
// Applicability). The import points at the catalogue ExportOSCAL writes
// for c (by its uuid); control ids are the ones ExportOSCAL uses.
func ExportOSCALProfile(c *Catalog, title string, include []string, modified time.Time) ([]byte, error) {
	ids := make([]string, 0, len(include))
	for _, id := range include {
		if _, err := c.Requirement(id); err != nil {
			return nil, err
		}
		ids = append(ids, oscalID("c-", id))
	}
	p := oscalProfile{
		UUID: nameUUID("profile:" + c.ID + ":" + title),
		Metadata: oscalMetadata{Title: title, LastModified: modified.UTC().Format(time.RFC3339), Version: c.Version, OSCALVersion: "1.1.2",
			Remarks: "Selection of " + c.Name + " made in Custodia."},
		Imports: []oscalImport{{Href: "urn:uuid:" + nameUUID(c.ID), IncludeControls: []oscalWithIDs{{WithIDs: ids}}}},
		Merge:   map[string]any{"as-is": true},
	}
	if p.Metadata.Version == "" {
		p.Metadata.Version = "unversioned"
	}
	out, err := json.MarshalIndent(oscalProfileFile{Profile: p}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode oscal profile: %w", err)
	}
	return append(out, '\n'), nil
}

type oscalResultsFile struct {
	AssessmentResults oscalAssessmentResults `json:"assessment-results"`
}

type oscalAssessmentResults struct {
	UUID     string        `json:"uuid"`
	Metadata oscalMetadata `json:"metadata"`
	ImportAP struct {
		Href string `json:"href"`
	} `json:"import-ap"`
	Results []oscalResult `json:"results"`
}

type oscalResult struct {
	UUID             string             `json:"uuid"`
	Title            string             `json:"title"`
	Description      string             `json:"description"`
	Start            string             `json:"start"`
	ReviewedControls map[string]any     `json:"reviewed-controls"`
	Observations     []oscalObservation `json:"observations,omitempty"`
	Risks            []oscalRisk        `json:"risks,omitempty"`
	Findings         []oscalFinding     `json:"findings,omitempty"`
}

type oscalFinding struct {
	UUID        string      `json:"uuid"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Props       []oscalProp `json:"props,omitempty"`
	Target      struct {
		Type     string `json:"type"`
		TargetID string `json:"target-id"`
		Status   struct {
			State   string `json:"state"`
			Remarks string `json:"remarks,omitempty"`
		} `json:"status"`
	} `json:"target"`
	RelatedObservations []struct {
		ObservationUUID string `json:"observation-uuid"`
	} `json:"related-observations,omitempty"`
	RelatedRisks []struct {
		RiskUUID string `json:"risk-uuid"`
	} `json:"related-risks,omitempty"`
	Remarks string `json:"remarks,omitempty"`
}

type oscalObservation struct {
	UUID             string      `json:"uuid"`
	Title            string      `json:"title,omitempty"`
	Description      string      `json:"description"`
	Props            []oscalProp `json:"props,omitempty"`
	Methods          []string    `json:"methods,omitempty"`
	Types            []string    `json:"types,omitempty"`
	RelevantEvidence []struct {
		Href        string `json:"href,omitempty"`
		Description string `json:"description"`
	} `json:"relevant-evidence,omitempty"`
	Collected string `json:"collected"`
	Expires   string `json:"expires,omitempty"`
	Remarks   string `json:"remarks,omitempty"`
}

type oscalRisk struct {
	UUID              string      `json:"uuid"`
	Title             string      `json:"title"`
	Description       string      `json:"description"`
	Statement         string      `json:"statement"`
	Props             []oscalProp `json:"props,omitempty"`
	Status            string      `json:"status"`
	Characterizations []struct {
		Facets []struct {
			Name   string `json:"name"`
			System string `json:"system"`
			Value  string `json:"value"`
		} `json:"facets"`
	} `json:"characterizations,omitempty"`
	MitigatingFactors []struct {
		Description string `json:"description"`
	} `json:"mitigating-factors,omitempty"`
	Deadline     string `json:"deadline,omitempty"`
	Remediations []struct {
		Lifecycle   string `json:"lifecycle"`
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"remediations,omitempty"`
	Remarks string `json:"remarks,omitempty"`
}

// ExportOSCALAssessmentResults writes an OSCAL 1.1.2 assessment-results
// document with one finding per assessed requirement of c: implemented is
// "satisfied", anything else "not-satisfied", with Custodia's status in an
// "implementation-status" prop. The assessment plan it names is not
// exported (its href is a placeholder URN).
func ExportOSCALAssessmentResults(c *Catalog, title string, assessed []Assessed, at time.Time) ([]byte, error) {
	r := oscalResult{
		UUID:             nameUUID("results:" + c.ID + ":" + at.UTC().Format(time.RFC3339)),
		Title:            title,
		Description:      "Statement of Applicability of " + c.Name + " as recorded in Custodia.",
		Start:            at.UTC().Format(time.RFC3339),
		ReviewedControls: map[string]any{"control-selections": []any{map[string]any{"include-all": map[string]any{}}}},
	}
	for _, a := range assessed {
		req, err := c.Requirement(a.Requirement)
		if err != nil {
			return nil, err
		}
		var f oscalFinding
		f.UUID = nameUUID("finding:" + c.ID + ":" + a.Requirement + ":" + r.Start)
		f.Title = strings.TrimSpace(a.Requirement + " " + req.Title)
		f.Description = "Implementation status: " + strings.ReplaceAll(string(a.Status), "_", " ") + "."
		f.Props = []oscalProp{{Name: "implementation-status", NS: custodiaNS, Value: string(a.Status)}}
		f.Target.Type = "objective-id"
		f.Target.TargetID = oscalID("c-", a.Requirement)
		f.Target.Status.State = "not-satisfied"
		if a.Status == Implemented {
			f.Target.Status.State = "satisfied"
		}
		f.Target.Status.Remarks = a.Remarks
		r.Findings = append(r.Findings, f)
	}
	doc := oscalAssessmentResults{
		UUID: nameUUID("assessment-results:" + c.ID + ":" + r.Start),
		Metadata: oscalMetadata{Title: title, LastModified: at.UTC().Format(time.RFC3339), Version: c.Version, OSCALVersion: "1.1.2",
			Remarks: "Exported by Custodia."},
		Results: []oscalResult{r},
	}
	if doc.Metadata.Version == "" {
		doc.Metadata.Version = "unversioned"
	}
	doc.ImportAP.Href = "urn:custodia:assessment-plan:" + c.ID
	out, err := json.MarshalIndent(oscalResultsFile{AssessmentResults: doc}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode oscal assessment results: %w", err)
	}
	return append(out, '\n'), nil
}

// AssessmentFinding is one finding of an OSCAL assessment-results document,
// with the observations and risks it links to.
type AssessmentFinding struct {
	Path         string // JSON path, for error messages
	UUID         string
	Title        string
	Description  string
	TargetID     string // OSCAL control (objective/statement) id
	State        string // satisfied or not-satisfied
	Status       Status // Custodia's implementation-status prop, "" when absent
	Remarks      string
	Observations []Observation // from related-observations
	Risks        []Risk        // from related-risks
}

// Observation is an OSCAL observation: what an assessor saw, how, and
// when.
type Observation struct {
	UUID        string
	Title       string
	Description string
	Methods     []string // EXAMINE, INTERVIEW, TEST, UNKNOWN
	Types       []string
	Evidence    []string // relevant-evidence: "description <href>"
	Collected   time.Time
	Expires     time.Time // zero when not given
	Remarks     string
}

// Risk is an OSCAL risk as an assessment reports it: a statement with a
// status, how it was characterized (facets such as likelihood and impact,
// as the assessor's system names them), mitigations and remediations.
type Risk struct {
	UUID              string
	Title             string
	Description       string
	Statement         string
	Status            string   // open, investigating, remediating, deviation-requested, deviation-approved, closed
	Facets            []string // "name=value (system)"
	MitigatingFactors []string
	Remediations      []string // "lifecycle: title — description"
	Deadline          string
	Remarks           string
}

// Assessment is an OSCAL assessment-results document reduced to its
// findings.
type Assessment struct {
	UUID     string
	Title    string
	PlanHref string
	Findings []AssessmentFinding
}

type oscalResultsIn struct {
	AssessmentResults *struct {
		UUID     string        `json:"uuid"`
		Metadata oscalMetadata `json:"metadata"`
		ImportAP struct {
			Href string `json:"href"`
		} `json:"import-ap"`
		Results []struct {
			Observations []oscalObservation `json:"observations"`
			Risks        []oscalRisk        `json:"risks"`
			Findings     []oscalFinding     `json:"findings"`
		} `json:"results"`
	} `json:"assessment-results"`
}

// riskStatuses are the values OSCAL allows for a risk's status.
var riskStatuses = []string{"open", "investigating", "remediating", "deviation-requested", "deviation-approved", "closed"}

func parseOSCALTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date-time with time zone (RFC 3339)", s)
	}
	return t.UTC(), nil
}

func observationFrom(o oscalObservation, path string) (Observation, error) {
	ob := Observation{UUID: strings.TrimSpace(o.UUID), Title: strings.TrimSpace(o.Title), Description: strings.TrimSpace(o.Description),
		Methods: o.Methods, Types: o.Types, Remarks: strings.TrimSpace(o.Remarks)}
	if ob.UUID == "" {
		return ob, fmt.Errorf("%s.uuid: required", path)
	}
	if ob.Description == "" {
		return ob, fmt.Errorf("%s.description: required", path)
	}
	var err error
	if ob.Collected, err = parseOSCALTime(o.Collected); err != nil {
		return ob, fmt.Errorf("%s.collected: %w", path, err)
	}
	if o.Expires != "" {
		if ob.Expires, err = parseOSCALTime(o.Expires); err != nil {
			return ob, fmt.Errorf("%s.expires: %w", path, err)
		}
	}
	for _, ev := range o.RelevantEvidence {
		ob.Evidence = append(ob.Evidence, strings.TrimSpace(strings.TrimSpace(ev.Description)+" <"+strings.TrimSpace(ev.Href)+">"))
		if ev.Href == "" {
			ob.Evidence[len(ob.Evidence)-1] = strings.TrimSpace(ev.Description)
		}
	}
	return ob, nil
}

func riskFrom(r oscalRisk, path string) (Risk, error) {
	rk := Risk{UUID: strings.TrimSpace(r.UUID), Title: strings.TrimSpace(r.Title), Description: strings.TrimSpace(r.Description),
		Statement: strings.TrimSpace(r.Statement), Status: strings.TrimSpace(r.Status), Deadline: strings.TrimSpace(r.Deadline), Remarks: strings.TrimSpace(r.Remarks)}
	switch {
	case rk.UUID == "":
		return rk, fmt.Errorf("%s.uuid: required", path)
	case rk.Title == "":
		return rk, fmt.Errorf("%s.title: required", path)
	case !slices.Contains(riskStatuses, rk.Status):
		return rk, fmt.Errorf("%s.status: %q, want %s", path, rk.Status, strings.Join(riskStatuses, ", "))
	}
	if rk.Deadline != "" {
		if _, err := parseOSCALTime(rk.Deadline); err != nil {
			return rk, fmt.Errorf("%s.deadline: %w", path, err)
		}
	}
	for _, c := range r.Characterizations {
		for _, f := range c.Facets {
			s := f.Name + "=" + f.Value
			if f.System != "" {
				s += " (" + f.System + ")"
			}
			rk.Facets = append(rk.Facets, s)
		}
	}
	for _, m := range r.MitigatingFactors {
		rk.MitigatingFactors = append(rk.MitigatingFactors, strings.TrimSpace(m.Description))
	}
	for _, m := range r.Remediations {
		s := strings.TrimSpace(m.Title)
		if m.Lifecycle != "" {
			s = m.Lifecycle + ": " + s
		}
		if d := strings.TrimSpace(m.Description); d != "" {
			s += " — " + d
		}
		rk.Remediations = append(rk.Remediations, s)
	}
	return rk, nil
}

// ParseOSCALAssessmentResults reads an OSCAL assessment-results document in
// JSON: every finding of every result must target a control (target-id)
// with the state satisfied or not-satisfied. Custodia's own
// "implementation-status" prop, when present, gives the precise status.
// The observations (related-observations) and risks (related-risks) a
// finding links to come with it; a link to an observation or risk that is
// not in the document is refused, and so is an observation without a
// description or collection date-time, or a risk without a title or with a
// status OSCAL does not define.
func ParseOSCALAssessmentResults(b []byte) (*Assessment, error) {
	var f oscalResultsIn
	if err := decodeOSCALJSON(b, &f); err != nil {
		return nil, fmt.Errorf("oscal assessment results: %w", err)
	}
	if f.AssessmentResults == nil {
		return nil, errors.New("oscal assessment results: $: no \"assessment-results\" object (is this a catalog or a profile?)")
	}
	ar := f.AssessmentResults
	a := &Assessment{UUID: ar.UUID, Title: ar.Metadata.Title, PlanHref: ar.ImportAP.Href}
	if len(ar.Results) == 0 {
		return nil, errors.New("oscal assessment results: $.assessment-results.results: at least one result is required")
	}
	// Observations and risks of every result, by uuid: a finding may point
	// at those of another result of the same document.
	observations := map[string]Observation{}
	risks := map[string]Risk{}
	for i, res := range ar.Results {
		for j, o := range res.Observations {
			path := fmt.Sprintf("$.assessment-results.results[%d].observations[%d]", i, j)
			ob, err := observationFrom(o, path)
			if err != nil {
				return nil, fmt.Errorf("oscal assessment results: %w", err)
			}
			if _, dup := observations[ob.UUID]; dup {
				return nil, fmt.Errorf("oscal assessment results: %s.uuid: %s is used twice", path, ob.UUID)
			}
			observations[ob.UUID] = ob
		}
		for j, r := range res.Risks {
			path := fmt.Sprintf("$.assessment-results.results[%d].risks[%d]", i, j)
			rk, err := riskFrom(r, path)
			if err != nil {
				return nil, fmt.Errorf("oscal assessment results: %w", err)
			}
			if _, dup := risks[rk.UUID]; dup {
				return nil, fmt.Errorf("oscal assessment results: %s.uuid: %s is used twice", path, rk.UUID)
			}
			risks[rk.UUID] = rk
		}
	}
	for i, res := range ar.Results {
		for j, fd := range res.Findings {
			path := fmt.Sprintf("$.assessment-results.results[%d].findings[%d]", i, j)
			af := AssessmentFinding{Path: path, UUID: fd.UUID, Title: strings.TrimSpace(fd.Title), Description: strings.TrimSpace(fd.Description),
				TargetID: strings.TrimSpace(fd.Target.TargetID), State: fd.Target.Status.State, Remarks: fd.Target.Status.Remarks}
			if af.TargetID == "" {
				return nil, fmt.Errorf("oscal assessment results: %s.target.target-id: required", path)
			}
			if af.State != "satisfied" && af.State != "not-satisfied" {
				return nil, fmt.Errorf("oscal assessment results: %s.target.status.state: %q, want satisfied or not-satisfied", path, af.State)
			}
			if v := propValue(fd.Props, "implementation-status", ""); v != "" {
				af.Status = Status(v)
				switch af.Status {
				case Implemented:
					if af.State != "satisfied" {
						return nil, fmt.Errorf("oscal assessment results: %s.props: implementation-status implemented contradicts state %s", path, af.State)
					}
				case NotImplemented, Partial:
					if af.State != "not-satisfied" {
						return nil, fmt.Errorf("oscal assessment results: %s.props: implementation-status %s contradicts state %s", path, v, af.State)
					}
				default:
					return nil, fmt.Errorf("oscal assessment results: %s.props: implementation-status %q, want not_implemented, partial or implemented", path, v)
				}
			}
			var missing []string
			for _, ro := range fd.RelatedObservations {
				if ob, ok := observations[ro.ObservationUUID]; ok {
					af.Observations = append(af.Observations, ob)
				} else if !slices.Contains(missing, ro.ObservationUUID) {
					missing = append(missing, ro.ObservationUUID)
				}
			}
			if len(missing) > 0 {
				return nil, fmt.Errorf("oscal assessment results: %s.related-observations: observations not in the document: %s", path, strings.Join(missing, ", "))
			}
			for _, rr := range fd.RelatedRisks {
				if rk, ok := risks[rr.RiskUUID]; ok {
					af.Risks = append(af.Risks, rk)
				} else if !slices.Contains(missing, rr.RiskUUID) {
					missing = append(missing, rr.RiskUUID)
				}
			}
			if len(missing) > 0 {
				return nil, fmt.Errorf("oscal assessment results: %s.related-risks: risks not in the document: %s", path, strings.Join(missing, ", "))
			}
			a.Findings = append(a.Findings, af)
		}
	}
	if len(a.Findings) == 0 {
		return nil, errors.New("oscal assessment results: $.assessment-results.results: no findings")
	}
	return a, nil
}

// ResolveAssessment maps the findings of a to requirements of c: a
// satisfied target is implemented; a not-satisfied one takes Custodia's
// implementation-status prop, else not implemented. A plan href of
// Custodia's form naming another catalogue is refused, and so is every
// unknown target id (listed together) or a requirement assessed twice
// with different results. The findings with observations or risks are
// kept on the requirement they assess (all of them when several findings
// assess it alike).
func ResolveAssessment(c *Catalog, a *Assessment) ([]Assessed, error) {
	const plan = "urn:custodia:assessment-plan:"
	if strings.HasPrefix(a.PlanHref, plan) && strings.TrimPrefix(a.PlanHref, plan) != c.ID {
		return nil, fmt.Errorf("oscal assessment results: $.assessment-results.import-ap.href: %q assesses %s, not %s", a.PlanHref, strings.TrimPrefix(a.PlanHref, plan), c.ID)
	}
	var unknown []string
	var out []Assessed
	at := map[string]int{}
	for _, f := range a.Findings {
		rid, ok := requirementByControl(c, f.TargetID)
		if i := strings.Index(f.TargetID, "_smt"); !ok && i > 0 {
			// A statement id (ac-1_smt, ac-1_smt.a) assesses its control.
			rid, ok = requirementByControl(c, f.TargetID[:i])
		}
		if !ok {
			if !slices.Contains(unknown, f.TargetID) {
				unknown = append(unknown, f.TargetID)
			}
			continue
		}
		st := f.Status
		if st == "" {
			st = NotImplemented
			if f.State == "satisfied" {
				st = Implemented
			}
		}
		noted := len(f.Observations) > 0 || len(f.Risks) > 0
		if i, dup := at[rid]; dup {
			if out[i].Status != st {
				return nil, fmt.Errorf("oscal assessment results: %s: requirement %s assessed twice with different results (%s, %s)", f.Path, rid, out[i].Status, st)
			}
			if noted {
				out[i].Findings = append(out[i].Findings, f)
			}
			continue
		}
		at[rid] = len(out)
		as := Assessed{Requirement: rid, Status: st, Remarks: f.Remarks}
		if noted {
			as.Findings = []AssessmentFinding{f}
		}
		out = append(out, as)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("oscal assessment results: target ids unknown in %s: %s", c.ID, strings.Join(unknown, ", "))
	}
	return out, nil
}

// Note renders the finding with its observations and risks as Markdown,
// the note Custodia keeps with the requirement it assesses; a names the
// document it comes from.
func (f *AssessmentFinding) Note(a *Assessment) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	title := f.Title
	if title == "" {
		title = f.TargetID
	}
	line("# OSCAL finding: %s", title)
	line("")
	line("- Assessment results: %s (%s)", a.Title, a.UUID)
	if f.UUID != "" {
		line("- Finding: %s", f.UUID)
	}
	state := f.State
	if f.Status != "" {
		state += ", " + strings.ReplaceAll(string(f.Status), "_", " ")
	}
	line("- Target: %s (%s)", f.TargetID, state)
	if f.Remarks != "" {
		line("- Remarks: %s", f.Remarks)
	}
	if f.Description != "" {
		line("")
		line("%s", f.Description)
	}
	if len(f.Observations) > 0 {
		line("")
		line("## Observations")
	}
	for _, o := range f.Observations {
		line("")
		t := o.Title
		if t == "" {
			t = "Observation"
		}
		line("### %s (%s)", t, o.UUID)
		line("")
		meta := "Collected " + o.Collected.Format(time.RFC3339)
		if !o.Expires.IsZero() {
			meta += "; expires " + o.Expires.Format(time.RFC3339)
		}
		if len(o.Methods) > 0 {
			meta += "; methods: " + strings.Join(o.Methods, ", ")
		}
		if len(o.Types) > 0 {
			meta += "; types: " + strings.Join(o.Types, ", ")
		}
		line("%s.", meta)
		line("")
		line("%s", o.Description)
		if len(o.Evidence) > 0 {
			line("")
			line("Relevant evidence:")
			for _, e := range o.Evidence {
				line("- %s", e)
			}
		}
		if o.Remarks != "" {
			line("")
			line("Remarks: %s", o.Remarks)
		}
	}
	if len(f.Risks) > 0 {
		line("")
		line("## Risks")
	}
	for _, r := range f.Risks {
		line("")
		line("### %s (%s): %s", r.Title, r.UUID, r.Status)
		if r.Statement != "" {
			line("")
			line("Statement: %s", r.Statement)
		}
		if r.Description != "" {
			line("")
			line("%s", r.Description)
		}
		if len(r.Facets) > 0 {
			line("")
			line("Characterization: %s", strings.Join(r.Facets, "; "))
		}
		for _, l := range []struct {
			head  string
			items []string
		}{{"Mitigating factors", r.MitigatingFactors}, {"Remediations", r.Remediations}} {
			if len(l.items) > 0 {
				line("")
				line("%s:", l.head)
				for _, it := range l.items {
					line("- %s", it)
				}
			}
		}
		if r.Deadline != "" {
			line("")
			line("Deadline: %s", r.Deadline)
		}
		if r.Remarks != "" {
			line("")
			line("Remarks: %s", r.Remarks)
		}
	}
	return b.String()
}
