package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ProfileImport is one "imports" entry of an OSCAL profile: the catalogue
// it points at and the controls it selects.
type ProfileImport struct {
	Href       string
	IncludeAll bool
	Include    []string // OSCAL control ids (or Custodia requirement ids)
	Exclude    []string
}

// Profile is an OSCAL profile reduced to what Custodia reads.
type Profile struct {
	UUID    string
	Title   string
	Version string
	Imports []ProfileImport
	// Resources are the back-matter resources an href "#uuid" may name.
	Resources []ProfileResource
}

// ProfileResource is a back-matter resource: its title and the hrefs of its
// rlinks.
type ProfileResource struct {
	UUID  string
	Title string
	Hrefs []string
}

type oscalProfileIn struct {
	Profile *struct {
		UUID     string        `json:"uuid"`
		Metadata oscalMetadata `json:"metadata"`
		Imports  []struct {
			Href            string          `json:"href"`
			IncludeAll      json.RawMessage `json:"include-all"`
			IncludeControls []oscalWithIDs  `json:"include-controls"`
			ExcludeControls []oscalWithIDs  `json:"exclude-controls"`
		} `json:"imports"`
		BackMatter struct {
			Resources []struct {
				UUID   string `json:"uuid"`
				Title  string `json:"title"`
				RLinks []struct {
					Href string `json:"href"`
				} `json:"rlinks"`
			} `json:"resources"`
		} `json:"back-matter"`
	} `json:"profile"`
}

func decodeOSCALJSON(b []byte, v any) error {
	if len(b) > MaxImportSize {
		return fmt.Errorf("file of %d bytes exceeds %d", len(b), MaxImportSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			line, col := lineCol(b, int64(len(b)))
			return fmt.Errorf("line %d, column %d: the document ends early", line, col)
		}
		return jsonError(b, err)
	}
	if dec.More() {
		line, col := lineCol(b, dec.InputOffset())
		return fmt.Errorf("line %d, column %d: data after the JSON document", line, col)
	}
	return nil
}

// ParseOSCALProfile reads an OSCAL profile in JSON. Each import must name
// its catalogue (href) and select controls with include-all or
// include-controls/with-ids; exclude-controls removes controls from the
// selection. Errors give the line and column of a syntax error or the JSON
// path of an invalid element.
func ParseOSCALProfile(b []byte) (*Profile, error) {
	var f oscalProfileIn
	if err := decodeOSCALJSON(b, &f); err != nil {
		return nil, fmt.Errorf("oscal profile: %w", err)
	}
	if f.Profile == nil {
		return nil, errors.New("oscal profile: $: no \"profile\" object (is this a catalog or assessment results?)")
	}
	op := f.Profile
	p := &Profile{UUID: op.UUID, Title: strings.TrimSpace(op.Metadata.Title), Version: op.Metadata.Version}
	if p.Title == "" {
		return nil, errors.New("oscal profile: $.profile.metadata.title: required")
	}
	if len(op.Imports) == 0 {
		return nil, errors.New("oscal profile: $.profile.imports: at least one import is required")
	}
	for _, res := range op.BackMatter.Resources {
		pr := ProfileResource{UUID: res.UUID, Title: strings.TrimSpace(res.Title)}
		for _, l := range res.RLinks {
			pr.Hrefs = append(pr.Hrefs, strings.TrimSpace(l.Href))
		}
		p.Resources = append(p.Resources, pr)
	}
	for i, im := range op.Imports {
		path := fmt.Sprintf("$.profile.imports[%d]", i)
		pi := ProfileImport{Href: strings.TrimSpace(im.Href)}
		if pi.Href == "" {
			return nil, fmt.Errorf("oscal profile: %s.href: required", path)
		}
		all := len(im.IncludeAll) > 0 && string(im.IncludeAll) != "null"
		if all && len(im.IncludeControls) > 0 {
			return nil, fmt.Errorf("oscal profile: %s: include-all and include-controls are exclusive", path)
		}
		pi.IncludeAll = all
		for j, sel := range im.IncludeControls {
			if len(sel.WithIDs) == 0 {
				return nil, fmt.Errorf("oscal profile: %s.include-controls[%d].with-ids: at least one id is required (matching selections are not supported)", path, j)
			}
			for k, id := range sel.WithIDs {
				if strings.TrimSpace(id) == "" {
					return nil, fmt.Errorf("oscal profile: %s.include-controls[%d].with-ids[%d]: empty id", path, j, k)
				}
				pi.Include = append(pi.Include, strings.TrimSpace(id))
			}
		}
		if !all && len(pi.Include) == 0 {
			return nil, fmt.Errorf("oscal profile: %s: selects no control (want include-all or include-controls)", path)
		}
		for j, sel := range im.ExcludeControls {
			for k, id := range sel.WithIDs {
				if strings.TrimSpace(id) == "" {
					return nil, fmt.Errorf("oscal profile: %s.exclude-controls[%d].with-ids[%d]: empty id", path, j, k)
				}
				pi.Exclude = append(pi.Exclude, strings.TrimSpace(id))
			}
		}
		p.Imports = append(p.Imports, pi)
	}
	return p, nil
}

// matchesHref reports whether an import href names c: the urn:uuid: (or
// #uuid) of the catalogue ExportOSCAL writes for c, Custodia's catalogue id
// or the file name ExportOSCAL's download uses.
func matchesHref(href string, c *Catalog) bool {
	u := nameUUID(c.ID)
	h := strings.TrimPrefix(strings.TrimPrefix(href, "urn:uuid:"), "#")
	if strings.EqualFold(h, u) || h == c.ID || h == "urn:custodia:catalog:"+c.ID {
		return true
	}
	base := href[strings.LastIndexAny(href, "/\\")+1:]
	return base == c.ID+"-oscal.json" || base == c.ID+".json"
}

// findImported finds the catalogue an import's href names, directly or
// through a back-matter resource ("#uuid") by one of its rlinks or its
// title (the framework's name).
func findImported(href string, resources []ProfileResource, cats []*Catalog) *Catalog {
	for _, c := range cats {
		if matchesHref(href, c) {
			return c
		}
	}
	if !strings.HasPrefix(href, "#") {
		return nil
	}
	for _, res := range resources {
		if res.UUID != href[1:] {
			continue
		}
		for _, c := range cats {
			for _, h := range res.Hrefs {
				if h != "" && !strings.HasPrefix(h, "#") && matchesHref(h, c) {
					return c
				}
			}
		}
		for _, c := range cats {
			if res.Title != "" && strings.EqualFold(res.Title, c.Name) {
				return c
			}
		}
	}
	return nil
}

// requirementByControl finds the requirement an OSCAL control id names: the
// id ExportOSCAL gives it, or the requirement id itself.
func requirementByControl(c *Catalog, id string) (string, bool) {
	for _, r := range c.Requirements {
		if r.ID == id || oscalID("c-", r.ID) == id {
			return r.ID, true
		}
	}
	return "", false
}

// ResolveProfile builds a catalogue (under id, named after the profile)
// holding the requirements p selects from the catalogues in cats. An href
// that names none of them, or a control id the catalogue lacks, is refused
// with its JSON path; every unknown id is listed.
func ResolveProfile(id string, p *Profile, cats []*Catalog) (*Catalog, error) {
	out := &Catalog{ID: id, Name: p.Title, Version: p.Version, Source: "OSCAL profile " + p.UUID}
	seen := map[string]string{} // requirement id → source catalogue
	var sources []string
	for i, im := range p.Imports {
		path := fmt.Sprintf("$.profile.imports[%d]", i)
		src := findImported(im.Href, p.Resources, cats)
		if src == nil {
			return nil, fmt.Errorf("oscal profile: %s.href: %q names no loaded framework (want urn:uuid:<uuid of the catalog Custodia exports>, a framework id, or a back-matter resource linking to one or titled like one)", path, im.Href)
		}
		sources = append(sources, src.ID)
		resolve := func(ids []string, field string) (map[string]bool, error) {
			set := map[string]bool{}
			var unknown []string
			for _, cid := range ids {
				if rid, ok := requirementByControl(src, cid); ok {
					set[rid] = true
				} else if !slices.Contains(unknown, cid) {
					unknown = append(unknown, cid)
				}
			}
			if len(unknown) > 0 {
				return nil, fmt.Errorf("oscal profile: %s.%s: unknown control ids in %s: %s", path, field, src.ID, strings.Join(unknown, ", "))
			}
			return set, nil
		}
		inc, err := resolve(im.Include, "include-controls")
		if err != nil {
			return nil, err
		}
		exc, err := resolve(im.Exclude, "exclude-controls")
		if err != nil {
			return nil, err
		}
		selected := map[string]bool{}
		for _, r := range src.Requirements {
			if (im.IncludeAll || inc[r.ID]) && !exc[r.ID] {
				if prev, dup := seen[r.ID]; dup && prev != src.ID {
					return nil, fmt.Errorf("oscal profile: %s: requirement %q is selected from both %s and %s", path, r.ID, prev, src.ID)
				}
				if _, dup := seen[r.ID]; dup {
					continue
				}
				seen[r.ID] = src.ID
				selected[r.ID] = true
				out.Requirements = append(out.Requirements, r)
			}
		}
		// Keep the groups the selection uses, with their ancestors.
		need := map[string]bool{}
		for _, r := range src.Requirements {
			if selected[r.ID] && r.Group != "" {
				for g := r.Group; g != "" && !need[g]; {
					need[g] = true
					parent := ""
					for _, gg := range src.Groups {
						if gg.ID == g {
							parent = gg.Parent
						}
					}
					g = parent
				}
			}
		}
		for _, g := range src.Groups {
			if need[g.ID] && !slices.ContainsFunc(out.Groups, func(x Group) bool { return x.ID == g.ID }) {
				out.Groups = append(out.Groups, g)
			}
		}
	}
	if len(out.Requirements) == 0 {
		return nil, errors.New("oscal profile: $.profile.imports: the selection is empty (every control excluded)")
	}
	// A selected enhancement whose parent is not selected becomes top level.
	for i := range out.Requirements {
		if par := out.Requirements[i].Parent; par != "" {
			if _, ok := seen[par]; !ok {
				out.Requirements[i].Parent = ""
			}
		}
	}
	out.Source += " of " + strings.Join(sources, ", ")
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("oscal profile: %w", err)
	}
	return out, nil
}

// ImportOSCALProfile parses an OSCAL profile and resolves it against the
// loaded catalogues (see ParseOSCALProfile and ResolveProfile).
func ImportOSCALProfile(id string, b []byte, cats []*Catalog) (*Catalog, error) {
	p, err := ParseOSCALProfile(b)
	if err != nil {
		return nil, err
	}
	if id == "" {
		id = p.UUID
	}
	if id == "" {
		return nil, errors.New("oscal profile: $.profile.uuid: required when no framework id is given")
	}
	return ResolveProfile(id, p, cats)
}

// AssessmentFinding is one finding of an OSCAL assessment-results document.
type AssessmentFinding struct {
	Path     string // JSON path, for error messages
	TargetID string // OSCAL control (objective/statement) id
	State    string // satisfied or not-satisfied
	Status   Status // Custodia's implementation-status prop, "" when absent
	Remarks  string
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
			Findings []oscalFinding `json:"findings"`
		} `json:"results"`
	} `json:"assessment-results"`
}

// ParseOSCALAssessmentResults reads an OSCAL assessment-results document in
// JSON: every finding of every result must target a control (target-id)
// with the state satisfied or not-satisfied. Custodia's own
// "implementation-status" prop, when present, gives the precise status.
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
	for i, res := range ar.Results {
		for j, fd := range res.Findings {
			path := fmt.Sprintf("$.assessment-results.results[%d].findings[%d]", i, j)
			af := AssessmentFinding{Path: path, TargetID: strings.TrimSpace(fd.Target.TargetID), State: fd.Target.Status.State, Remarks: fd.Target.Status.Remarks}
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
// with different results.
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
		if i, dup := at[rid]; dup {
			if out[i].Status != st {
				return nil, fmt.Errorf("oscal assessment results: %s: requirement %s assessed twice with different results (%s, %s)", f.Path, rid, out[i].Status, st)
			}
			continue
		}
		at[rid] = len(out)
		out = append(out, Assessed{Requirement: rid, Status: st, Remarks: f.Remarks})
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("oscal assessment results: target ids unknown in %s: %s", c.ID, strings.Join(unknown, ", "))
	}
	return out, nil
}
