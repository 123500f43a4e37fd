package catalog

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Assessed is the assessed state of one requirement, for an OSCAL
// assessment-results document.
type Assessed struct {
	Requirement string
	Status      Status
	Remarks     string
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
	UUID             string         `json:"uuid"`
	Title            string         `json:"title"`
	Description      string         `json:"description"`
	Start            string         `json:"start"`
	ReviewedControls map[string]any `json:"reviewed-controls"`
	Findings         []oscalFinding `json:"findings,omitempty"`
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
