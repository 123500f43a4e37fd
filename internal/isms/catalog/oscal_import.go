package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Profile is an OSCAL profile reduced to what Custodia reads: its imports
// with their selections, how the result is structured (merge) and how
// controls are tailored (modify).
type Profile struct {
	UUID    string
	Title   string
	Version string
	Imports []ProfileImport
	// Resources are the back-matter resources an href "#uuid" may name.
	Resources []ProfileResource
	// Structure is how the resolved catalogue is arranged: "flat" (the
	// OSCAL default when the profile gives none), "as-is" or "custom".
	Structure string
	// Combine is how copies of one control reaching the profile by several
	// imports are combined: "keep" (the default), "use-first" or "merge".
	Combine string

	path      string       // JSON path of the profile object, for errors
	custom    *customGroup // merge.custom: its groups and insert-controls
	setParams []setParameter
	alters    []alter
}

// ProfileImport is one "imports" entry of an OSCAL profile: the catalogue
// or profile it points at and the controls it selects.
type ProfileImport struct {
	Href       string
	IncludeAll bool
	Include    []Selector
	Exclude    []Selector
}

// Selector is one OSCAL select-control-by-id: control ids (with-ids), glob
// patterns over control ids (matching: * and ?), and whether the child
// controls of the selected ones come along (with-child-controls).
type Selector struct {
	WithChildControls bool
	IDs               []string
	Patterns          []string
}

// ProfileResource is a back-matter resource: its title and the hrefs of its
// rlinks.
type ProfileResource struct {
	UUID  string
	Title string
	Hrefs []string
}

type customGroup struct {
	id, title, titleES, path string
	groups                   []customGroup
	inserts                  []insertion
}

type insertion struct {
	path             string
	order            string // keep, ascending, descending
	includeAll       bool
	include, exclude []Selector
}

type setParameter struct {
	path, id, label string
	values          []string
	sel             *oscalSelect
}

type alter struct {
	path, controlID string
	removes         []removal
	adds            []addition
}

type removal struct {
	byName, byClass, byID, byItemName, byNS string
}

type addition struct {
	path, position, byID, title string
	props                       []oscalProp
	parts                       []oscalPart
	params                      []oscalParam
}

// The OSCAL profile model as read (JSON), with "href", Custodia's own
// member of a document in a bundle (see ImportOSCALProfile).
type oscalProfileDoc struct {
	Href    string          `json:"href"`
	Profile *oscalProfileIn `json:"profile"`
	Catalog *oscalCatalog   `json:"catalog"`
}

type oscalProfileIn struct {
	UUID       string          `json:"uuid"`
	Metadata   oscalMetadata   `json:"metadata"`
	Imports    []oscalImportIn `json:"imports"`
	Merge      *oscalMergeIn   `json:"merge"`
	Modify     *oscalModifyIn  `json:"modify"`
	BackMatter struct {
		Resources []struct {
			UUID   string `json:"uuid"`
			Title  string `json:"title"`
			RLinks []struct {
				Href string `json:"href"`
			} `json:"rlinks"`
		} `json:"resources"`
	} `json:"back-matter"`
}

type oscalImportIn struct {
	Href            string          `json:"href"`
	IncludeAll      json.RawMessage `json:"include-all"`
	IncludeControls []oscalSelectIn `json:"include-controls"`
	ExcludeControls []oscalSelectIn `json:"exclude-controls"`
}

type oscalSelectIn struct {
	WithChildControls string   `json:"with-child-controls"`
	WithIDs           []string `json:"with-ids"`
	Matching          []struct {
		Pattern string `json:"pattern"`
	} `json:"matching"`
}

type oscalMergeIn struct {
	Combine *struct {
		Method string `json:"method"`
	} `json:"combine"`
	Flat   json.RawMessage `json:"flat"`
	AsIs   json.RawMessage `json:"as-is"`
	Custom *oscalCustomIn  `json:"custom"`
}

type oscalCustomIn struct {
	Groups         []oscalCustomGroupIn `json:"groups"`
	InsertControls []oscalInsertIn      `json:"insert-controls"`
}

type oscalCustomGroupIn struct {
	ID             string               `json:"id"`
	Title          string               `json:"title"`
	Props          []oscalProp          `json:"props"`
	Groups         []oscalCustomGroupIn `json:"groups"`
	InsertControls []oscalInsertIn      `json:"insert-controls"`
}

type oscalInsertIn struct {
	Order           string          `json:"order"`
	IncludeAll      json.RawMessage `json:"include-all"`
	IncludeControls []oscalSelectIn `json:"include-controls"`
	ExcludeControls []oscalSelectIn `json:"exclude-controls"`
}

type oscalModifyIn struct {
	SetParameters []struct {
		ParamID string       `json:"param-id"`
		Label   string       `json:"label"`
		Values  []string     `json:"values"`
		Select  *oscalSelect `json:"select"`
	} `json:"set-parameters"`
	Alters []struct {
		ControlID string `json:"control-id"`
		Removes   []struct {
			ByName     string `json:"by-name"`
			ByClass    string `json:"by-class"`
			ByID       string `json:"by-id"`
			ByItemName string `json:"by-item-name"`
			ByNS       string `json:"by-ns"`
		} `json:"removes"`
		Adds []struct {
			Position string       `json:"position"`
			ByID     string       `json:"by-id"`
			Title    string       `json:"title"`
			Params   []oscalParam `json:"params"`
			Props    []oscalProp  `json:"props"`
			Parts    []oscalPart  `json:"parts"`
		} `json:"adds"`
	} `json:"alters"`
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

// bundleDoc is one document of an uploaded profile: the profile itself
// (index 0) or a catalog or profile it may import.
type bundleDoc struct {
	root    string // "$" or "$[i]"
	href    string
	uuid    string
	title   string
	profile *Profile
	catalog *oscalCatalog
}

// parseProfileBundle reads a profile document, or a bundle: a JSON array
// whose first element is the profile to import and whose others are the
// OSCAL catalogs and profiles it imports, each optionally with an "href"
// member naming it the way imports do.
func parseProfileBundle(b []byte) ([]bundleDoc, error) {
	var docs []oscalProfileDoc
	roots := []string{"$"}
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		if err := decodeOSCALJSON(b, &docs); err != nil {
			return nil, err
		}
		if len(docs) == 0 {
			return nil, errors.New("$: the bundle is empty (want the profile first, then the documents it imports)")
		}
		roots = roots[:0]
		for i := range docs {
			roots = append(roots, fmt.Sprintf("$[%d]", i))
		}
	} else {
		var d oscalProfileDoc
		if err := decodeOSCALJSON(b, &d); err != nil {
			return nil, err
		}
		docs = []oscalProfileDoc{d}
	}
	out := make([]bundleDoc, 0, len(docs))
	for i, d := range docs {
		bd := bundleDoc{root: roots[i], href: strings.TrimSpace(d.Href)}
		switch {
		case d.Profile != nil && d.Catalog != nil:
			return nil, fmt.Errorf("%s: both a \"profile\" and a \"catalog\" object", bd.root)
		case d.Profile != nil:
			p, err := parseProfile(d.Profile, bd.root+".profile")
			if err != nil {
				return nil, err
			}
			bd.profile, bd.uuid, bd.title = p, p.UUID, p.Title
		case d.Catalog != nil && i > 0:
			bd.catalog, bd.uuid, bd.title = d.Catalog, strings.TrimSpace(d.Catalog.UUID), strings.TrimSpace(d.Catalog.Metadata.Title)
		case i == 0:
			return nil, fmt.Errorf("%s: no \"profile\" object (is this a catalog or assessment results?)", bd.root)
		default:
			return nil, fmt.Errorf("%s: neither a \"profile\" nor a \"catalog\" object", bd.root)
		}
		out = append(out, bd)
	}
	return out, nil
}

// ParseOSCALProfile reads an OSCAL profile in JSON (or the first document
// of a bundle, see ImportOSCALProfile). Each import must name its source
// (href) and select controls with include-all or include-controls (with-ids
// and/or matching patterns); exclude-controls removes controls from the
// selection. merge and modify are read and checked. Errors give the line
// and column of a syntax error or the JSON path of an invalid element.
func ParseOSCALProfile(b []byte) (*Profile, error) {
	docs, err := parseProfileBundle(b)
	if err != nil {
		return nil, fmt.Errorf("oscal profile: %w", err)
	}
	return docs[0].profile, nil
}

func present(raw json.RawMessage) bool {
	s := string(bytes.TrimSpace(raw))
	return s != "" && s != "null" && s != "false"
}

func parseSelectors(in []oscalSelectIn, path string) ([]Selector, error) {
	var out []Selector
	for j, sel := range in {
		p := fmt.Sprintf("%s[%d]", path, j)
		s := Selector{}
		switch sel.WithChildControls {
		case "", "no":
		case "yes":
			s.WithChildControls = true
		default:
			return nil, fmt.Errorf("%s.with-child-controls: %q, want yes or no", p, sel.WithChildControls)
		}
		for k, id := range sel.WithIDs {
			if strings.TrimSpace(id) == "" {
				return nil, fmt.Errorf("%s.with-ids[%d]: empty id", p, k)
			}
			s.IDs = append(s.IDs, strings.TrimSpace(id))
		}
		for k, m := range sel.Matching {
			if strings.TrimSpace(m.Pattern) == "" {
				return nil, fmt.Errorf("%s.matching[%d].pattern: required", p, k)
			}
			s.Patterns = append(s.Patterns, strings.TrimSpace(m.Pattern))
		}
		if len(s.IDs) == 0 && len(s.Patterns) == 0 {
			return nil, fmt.Errorf("%s: want with-ids or matching", p)
		}
		out = append(out, s)
	}
	return out, nil
}

func parseProfile(op *oscalProfileIn, path string) (*Profile, error) {
	p := &Profile{UUID: strings.TrimSpace(op.UUID), Title: strings.TrimSpace(op.Metadata.Title), Version: op.Metadata.Version, path: path}
	if p.Title == "" {
		return nil, fmt.Errorf("%s.metadata.title: required", path)
	}
	if len(op.Imports) == 0 {
		return nil, fmt.Errorf("%s.imports: at least one import is required", path)
	}
	for _, res := range op.BackMatter.Resources {
		pr := ProfileResource{UUID: strings.TrimSpace(res.UUID), Title: strings.TrimSpace(res.Title)}
		for _, l := range res.RLinks {
			pr.Hrefs = append(pr.Hrefs, strings.TrimSpace(l.Href))
		}
		p.Resources = append(p.Resources, pr)
	}
	for i, im := range op.Imports {
		ipath := fmt.Sprintf("%s.imports[%d]", path, i)
		pi := ProfileImport{Href: strings.TrimSpace(im.Href), IncludeAll: present(im.IncludeAll)}
		if pi.Href == "" {
			return nil, fmt.Errorf("%s.href: required", ipath)
		}
		if pi.IncludeAll && len(im.IncludeControls) > 0 {
			return nil, fmt.Errorf("%s: include-all and include-controls are exclusive", ipath)
		}
		var err error
		if pi.Include, err = parseSelectors(im.IncludeControls, ipath+".include-controls"); err != nil {
			return nil, err
		}
		if !pi.IncludeAll && len(pi.Include) == 0 {
			return nil, fmt.Errorf("%s: selects no control (want include-all or include-controls)", ipath)
		}
		if pi.Exclude, err = parseSelectors(im.ExcludeControls, ipath+".exclude-controls"); err != nil {
			return nil, err
		}
		p.Imports = append(p.Imports, pi)
	}
	if err := p.parseMerge(op.Merge); err != nil {
		return nil, err
	}
	if err := p.parseModify(op.Modify); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Profile) parseMerge(m *oscalMergeIn) error {
	p.Structure, p.Combine = "flat", "keep"
	if m == nil {
		return nil
	}
	path := p.path + ".merge"
	if m.Combine != nil {
		switch m.Combine.Method {
		case "use-first", "merge", "keep":
			p.Combine = m.Combine.Method
		default:
			return fmt.Errorf("%s.combine.method: %q, want use-first, merge or keep", path, m.Combine.Method)
		}
	}
	var n int
	if present(m.Flat) {
		n++
	}
	if present(m.AsIs) {
		p.Structure = "as-is"
		n++
	}
	if m.Custom != nil {
		p.Structure = "custom"
		n++
		root := &customGroup{path: path + ".custom"}
		ids := map[string]string{}
		if err := parseCustom(root, m.Custom.Groups, m.Custom.InsertControls, ids); err != nil {
			return err
		}
		p.custom = root
	}
	if n > 1 {
		return fmt.Errorf("%s: give one structuring directive at most (flat, as-is or custom)", path)
	}
	return nil
}

func parseCustom(g *customGroup, groups []oscalCustomGroupIn, inserts []oscalInsertIn, ids map[string]string) error {
	for i, in := range inserts {
		path := fmt.Sprintf("%s.insert-controls[%d]", g.path, i)
		ins := insertion{path: path, order: in.Order, includeAll: present(in.IncludeAll)}
		switch in.Order {
		case "", "keep":
			ins.order = "keep"
		case "ascending", "descending":
		default:
			return fmt.Errorf("%s.order: %q, want keep, ascending or descending", path, in.Order)
		}
		if ins.includeAll && len(in.IncludeControls) > 0 {
			return fmt.Errorf("%s: include-all and include-controls are exclusive", path)
		}
		var err error
		if ins.include, err = parseSelectors(in.IncludeControls, path+".include-controls"); err != nil {
			return err
		}
		if !ins.includeAll && len(ins.include) == 0 {
			return fmt.Errorf("%s: inserts no control (want include-all or include-controls)", path)
		}
		if ins.exclude, err = parseSelectors(in.ExcludeControls, path+".exclude-controls"); err != nil {
			return err
		}
		g.inserts = append(g.inserts, ins)
	}
	for i, in := range groups {
		path := fmt.Sprintf("%s.groups[%d]", g.path, i)
		sub := customGroup{path: path, title: strings.TrimSpace(in.Title), titleES: propValue(in.Props, "title-es", "")}
		sub.id = strings.TrimSpace(propValue(in.Props, "label", in.ID))
		if sub.id == "" {
			sub.id = fmt.Sprintf("custom-%d", len(ids)+1)
		}
		if prev, dup := ids[sub.id]; dup {
			return fmt.Errorf("%s: group id %q already used at %s", path, sub.id, prev)
		}
		ids[sub.id] = path
		if sub.title == "" {
			return fmt.Errorf("%s.title: required", path)
		}
		if err := parseCustom(&sub, in.Groups, in.InsertControls, ids); err != nil {
			return err
		}
		g.groups = append(g.groups, sub)
	}
	return nil
}

func (p *Profile) parseModify(m *oscalModifyIn) error {
	if m == nil {
		return nil
	}
	path := p.path + ".modify"
	for i, sp := range m.SetParameters {
		spath := fmt.Sprintf("%s.set-parameters[%d]", path, i)
		id := strings.TrimSpace(sp.ParamID)
		if id == "" {
			return fmt.Errorf("%s.param-id: required", spath)
		}
		if sp.Label == "" && len(sp.Values) == 0 && sp.Select == nil {
			return fmt.Errorf("%s: sets nothing Custodia uses (want values, select or label)", spath)
		}
		p.setParams = append(p.setParams, setParameter{path: spath, id: id, label: strings.TrimSpace(sp.Label), values: sp.Values, sel: sp.Select})
	}
	for i, al := range m.Alters {
		apath := fmt.Sprintf("%s.alters[%d]", path, i)
		a := alter{path: apath, controlID: strings.TrimSpace(al.ControlID)}
		if a.controlID == "" {
			return fmt.Errorf("%s.control-id: required", apath)
		}
		for j, r := range al.Removes {
			rm := removal{byName: r.ByName, byClass: r.ByClass, byID: r.ByID, byItemName: r.ByItemName, byNS: r.ByNS}
			if rm == (removal{}) {
				return fmt.Errorf("%s.removes[%d]: want by-name, by-class, by-id, by-item-name or by-ns", apath, j)
			}
			a.removes = append(a.removes, rm)
		}
		for j, ad := range al.Adds {
			dpath := fmt.Sprintf("%s.adds[%d]", apath, j)
			add := addition{path: dpath, position: ad.Position, byID: strings.TrimSpace(ad.ByID), title: strings.TrimSpace(ad.Title),
				props: ad.Props, parts: ad.Parts, params: ad.Params}
			switch ad.Position {
			case "", "ending":
				add.position = "ending"
			case "starting":
			case "before", "after":
				if add.byID == "" {
					return fmt.Errorf("%s.position: %s needs by-id (a part of the control)", dpath, ad.Position)
				}
			default:
				return fmt.Errorf("%s.position: %q, want before, after, starting or ending", dpath, ad.Position)
			}
			if add.title == "" && len(add.props) == 0 && len(add.parts) == 0 && len(add.params) == 0 {
				return fmt.Errorf("%s: adds nothing (want title, params, props or parts)", dpath)
			}
			for k, pr := range add.params {
				if strings.TrimSpace(pr.ID) == "" {
					return fmt.Errorf("%s.params[%d].id: required", dpath, k)
				}
			}
			for k, pt := range add.parts {
				if strings.TrimSpace(pt.Name) == "" {
					return fmt.Errorf("%s.parts[%d].name: required", dpath, k)
				}
			}
			for k, pr := range add.props {
				if strings.TrimSpace(pr.Name) == "" {
					return fmt.Errorf("%s.props[%d].name: required", dpath, k)
				}
			}
			a.adds = append(a.adds, add)
		}
		if len(a.removes) == 0 && len(a.adds) == 0 {
			return fmt.Errorf("%s: neither removes nor adds", apath)
		}
		p.alters = append(p.alters, a)
	}
	return nil
}

// ImportOSCALProfile parses an OSCAL profile and resolves it against the
// loaded catalogues (see ParseOSCALProfile and ResolveProfile). The
// document may also be a bundle: a JSON array whose first element is the
// profile and whose others are the OSCAL catalogs and profiles it imports
// (directly or through other profiles of the bundle). An import names a
// bundled document by urn:uuid:/#uuid of the document, by a back-matter
// resource whose rlink or title names it, or by the document's "href"
// member (Custodia's addition: {"href": "x-catalog.json", "catalog": …});
// bundled documents are found before loaded frameworks.
func ImportOSCALProfile(id string, b []byte, cats []*Catalog) (*Catalog, error) {
	docs, err := parseProfileBundle(b)
	if err != nil {
		return nil, fmt.Errorf("oscal profile: %w", err)
	}
	p := docs[0].profile
	if id == "" {
		id = p.UUID
	}
	if id == "" {
		return nil, errors.New("oscal profile: $.profile.uuid: required when no framework id is given")
	}
	return resolveTop(id, p, docs, cats)
}

// ResolveProfile builds a catalogue (under id, named after the profile)
// holding the requirements p selects from the catalogues in cats, arranged
// and tailored as its merge and modify say. An href that names none of
// them, a control id or pattern that names no control, an alteration of a
// control not selected, or a parameter nothing uses is refused with its
// JSON path; unknown ids are listed together.
func ResolveProfile(id string, p *Profile, cats []*Catalog) (*Catalog, error) {
	if p.path == "" { // built by hand, not parsed
		p.path = "$.profile"
	}
	return resolveTop(id, p, []bundleDoc{{root: "$", profile: p, uuid: p.UUID, title: p.Title}}, cats)
}
