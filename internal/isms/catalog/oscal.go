package catalog

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxImportSize bounds the size of an imported catalogue file.
const MaxImportSize = 32 << 20

// The OSCAL catalog model, reduced to what Custodia reads and writes
// (https://pages.nist.gov/OSCAL/reference/latest/catalog/json-reference/).
type oscalFile struct {
	Catalog *oscalCatalog `json:"catalog"`
}

type oscalCatalog struct {
	UUID     string         `json:"uuid"`
	Metadata oscalMetadata  `json:"metadata"`
	Params   []oscalParam   `json:"params,omitempty"`
	Groups   []oscalGroup   `json:"groups,omitempty"`
	Controls []oscalControl `json:"controls,omitempty"`
}

type oscalMetadata struct {
	Title        string      `json:"title"`
	LastModified string      `json:"last-modified"`
	Version      string      `json:"version"`
	OSCALVersion string      `json:"oscal-version"`
	Remarks      string      `json:"remarks,omitempty"`
	Props        []oscalProp `json:"props,omitempty"`
}

type oscalProp struct {
	Name  string `json:"name"`
	NS    string `json:"ns,omitempty"`
	Value string `json:"value"`
	Class string `json:"class,omitempty"`
}

// oscalParam is a parameter of a catalog or an added one; Custodia reads
// what it needs to render "{{ insert: param, id }}" in statements.
type oscalParam struct {
	ID     string       `json:"id"`
	Class  string       `json:"class,omitempty"`
	Props  []oscalProp  `json:"props,omitempty"`
	Label  string       `json:"label,omitempty"`
	Values []string     `json:"values,omitempty"`
	Select *oscalSelect `json:"select,omitempty"`
}

type oscalSelect struct {
	HowMany string   `json:"how-many,omitempty"`
	Choice  []string `json:"choice,omitempty"`
}

type oscalGroup struct {
	ID       string         `json:"id,omitempty"`
	Class    string         `json:"class,omitempty"`
	Title    string         `json:"title"`
	Params   []oscalParam   `json:"params,omitempty"`
	Props    []oscalProp    `json:"props,omitempty"`
	Parts    []oscalPart    `json:"parts,omitempty"`
	Groups   []oscalGroup   `json:"groups,omitempty"`
	Controls []oscalControl `json:"controls,omitempty"`
}

type oscalControl struct {
	ID       string         `json:"id"`
	Class    string         `json:"class,omitempty"`
	Title    string         `json:"title"`
	Params   []oscalParam   `json:"params,omitempty"`
	Props    []oscalProp    `json:"props,omitempty"`
	Parts    []oscalPart    `json:"parts,omitempty"`
	Controls []oscalControl `json:"controls,omitempty"`
}

type oscalPart struct {
	ID    string      `json:"id,omitempty"`
	Name  string      `json:"name"`
	NS    string      `json:"ns,omitempty"`
	Class string      `json:"class,omitempty"`
	Title string      `json:"title,omitempty"`
	Props []oscalProp `json:"props,omitempty"`
	Prose string      `json:"prose,omitempty"`
	Parts []oscalPart `json:"parts,omitempty"`
}

// custodiaNS is the namespace of the props Custodia adds to OSCAL.
const custodiaNS = "https://custodia.dev/ns/oscal"

// ImportOSCAL reads an OSCAL catalog in JSON. Groups (nested at any depth)
// become groups; controls become requirements, nested controls (control
// enhancements) children of their control. A control's id is its "label"
// prop when it has one, else its OSCAL id; its text is the prose of its
// "statement" part. The catalogue takes the given id, or the OSCAL uuid.
// Errors give the line and column of a syntax error, or the JSON path of
// an invalid element.
func ImportOSCAL(id string, b []byte) (*Catalog, error) {
	if len(b) > MaxImportSize {
		return nil, fmt.Errorf("oscal: file of %d bytes exceeds %d", len(b), MaxImportSize)
	}
	var f oscalFile
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("oscal: %w", jsonError(b, err))
	}
	if dec.More() {
		line, col := lineCol(b, dec.InputOffset())
		return nil, fmt.Errorf("oscal: line %d, column %d: data after the JSON document", line, col)
	}
	if f.Catalog == nil {
		return nil, errors.New("oscal: $: no \"catalog\" object (is this a profile or a component definition?)")
	}
	c, err := catalogFromOSCAL(id, f.Catalog, "$.catalog", nil)
	if err != nil {
		return nil, fmt.Errorf("oscal: %w", err)
	}
	return c, nil
}

// catalogFromOSCAL builds the catalogue of a decoded OSCAL catalog whose
// JSON path is root. When src is not nil it also records, for profile
// resolution, each control's OSCAL id, parts, props and the parameters.
func catalogFromOSCAL(id string, oc *oscalCatalog, root string, src *source) (*Catalog, error) {
	if strings.TrimSpace(oc.Metadata.Title) == "" {
		return nil, fmt.Errorf("%s.metadata.title: required", root)
	}
	if id == "" {
		id = oc.UUID
	}
	if id == "" {
		return nil, fmt.Errorf("%s.uuid: required when no catalogue id is given", root)
	}
	c := &Catalog{ID: id, Name: oc.Metadata.Title, Version: oc.Metadata.Version, Source: "OSCAL catalog " + oc.UUID}
	im := oscalImporter{c: c, groups: map[string]string{}, reqs: map[string]string{}, src: src}
	im.params(oc.Params)
	for i := range oc.Groups {
		if err := im.group(&oc.Groups[i], "", fmt.Sprintf("%s.groups[%d]", root, i)); err != nil {
			return nil, err
		}
	}
	for i := range oc.Controls {
		if err := im.control(&oc.Controls[i], "", "", fmt.Sprintf("%s.controls[%d]", root, i)); err != nil {
			return nil, err
		}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

type oscalImporter struct {
	c      *Catalog
	groups map[string]string // id → JSON path, to report duplicates
	reqs   map[string]string
	src    *source // records OSCAL detail for profile resolution, or nil
}

func (im *oscalImporter) params(ps []oscalParam) {
	if im.src == nil {
		return
	}
	for _, p := range ps {
		if p.ID != "" {
			im.src.params[p.ID] = p
		}
	}
}

func (im *oscalImporter) group(g *oscalGroup, parent, path string) error {
	id := propValue(g.Props, "label", g.ID)
	if id == "" {
		id = fmt.Sprintf("group-%d", len(im.c.Groups)+1)
	}
	if prev, dup := im.groups[id]; dup {
		return fmt.Errorf("%s: group id %q already used at %s", path, id, prev)
	}
	if strings.TrimSpace(g.Title) == "" {
		return fmt.Errorf("%s: group %q: title is required", path, id)
	}
	im.groups[id] = path
	im.params(g.Params)
	im.c.Groups = append(im.c.Groups, Group{ID: id, Parent: parent, Title: g.Title, TitleES: propValue(g.Props, "title-es", "")})
	for i := range g.Controls {
		if err := im.control(&g.Controls[i], id, "", fmt.Sprintf("%s.controls[%d]", path, i)); err != nil {
			return err
		}
	}
	for i := range g.Groups {
		if err := im.group(&g.Groups[i], id, fmt.Sprintf("%s.groups[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

func (im *oscalImporter) control(ctl *oscalControl, group, parent, path string) error {
	if strings.TrimSpace(ctl.ID) == "" {
		return fmt.Errorf("%s: control id is required", path)
	}
	id := propValue(ctl.Props, "label", ctl.ID)
	if prev, dup := im.reqs[id]; dup {
		return fmt.Errorf("%s: control id %q already used at %s", path, id, prev)
	}
	if strings.TrimSpace(ctl.Title) == "" {
		return fmt.Errorf("%s: control %q: title is required", path, id)
	}
	im.reqs[id] = path
	r := Requirement{ID: id, Group: group, Parent: parent, Title: ctl.Title, TitleES: propValue(ctl.Props, "title-es", "")}
	for _, p := range ctl.Parts {
		if p.Name == "statement" {
			r.Text = strings.TrimSpace(prose(p))
		}
	}
	if err := importENS(&r, ctl); err != nil {
		return fmt.Errorf("%s: control %q: %w", path, id, err)
	}
	im.c.Requirements = append(im.c.Requirements, r)
	if im.src != nil {
		im.params(ctl.Params)
		im.src.ctls = append(im.src.ctls, &rctl{req: r, oscalID: ctl.ID, parts: cloneParts(ctl.Parts), props: slices.Clone(ctl.Props)})
	}
	for i := range ctl.Controls {
		if err := im.control(&ctl.Controls[i], group, id, fmt.Sprintf("%s.controls[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

func prose(p oscalPart) string {
	var b strings.Builder
	b.WriteString(p.Prose)
	for _, sub := range p.Parts {
		if s := prose(sub); s != "" {
			b.WriteString("\n")
			b.WriteString(s)
		}
	}
	return b.String()
}

func propValue(props []oscalProp, name, def string) string {
	for _, p := range props {
		if p.Name == name && (p.NS == "" || p.NS == custodiaNS || name == "label") {
			return p.Value
		}
	}
	return def
}

// oscalToken is the OSCAL "token" datatype that ids must match.
var oscalToken = regexp.MustCompile(`^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$`)

func oscalID(prefix, id string) string {
	if oscalToken.MatchString(id) {
		return id
	}
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range id {
		switch {
		case r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	return b.String()
}

// ExportOSCAL writes c as an OSCAL 1.1.2 catalog in JSON. Ids that are not
// OSCAL tokens (such as "4.1") are prefixed and the original id kept in a
// "label" prop, which ImportOSCAL reads back; Spanish titles go in a
// "title-es" prop in Custodia's namespace. The uuid is derived from the
// catalogue id, so exporting twice gives the same document.
func ExportOSCAL(c *Catalog, modified time.Time) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	oc := oscalCatalog{
		UUID: nameUUID(c.ID),
		Metadata: oscalMetadata{
			Title:        c.Name,
			LastModified: modified.UTC().Format(time.RFC3339),
			Version:      c.Version,
			OSCALVersion: "1.1.2",
			Remarks:      strings.TrimSpace("Source: " + c.Source + ". " + c.Licence),
		},
	}
	if oc.Metadata.Version == "" {
		oc.Metadata.Version = "unversioned"
	}
	children := map[string][]Requirement{} // parent id → child requirements
	byGroup := map[string][]Requirement{}
	for _, r := range c.Requirements {
		if r.Parent != "" {
			children[r.Parent] = append(children[r.Parent], r)
		} else {
			byGroup[r.Group] = append(byGroup[r.Group], r)
		}
	}
	var control func(r Requirement) oscalControl
	control = func(r Requirement) oscalControl {
		ctl := oscalControl{ID: oscalID("c-", r.ID), Title: r.Title}
		if ctl.Title == "" {
			ctl.Title = r.TitleES
		}
		ctl.Props = labelProps(ctl.ID, r.ID, r.TitleES)
		if r.Text != "" {
			ctl.Parts = []oscalPart{{ID: ctl.ID + "_smt", Name: "statement", Prose: r.Text}}
		}
		exportENS(&ctl, r)
		for _, ch := range children[r.ID] {
			ctl.Controls = append(ctl.Controls, control(ch))
		}
		return ctl
	}
	var group func(g Group) oscalGroup
	group = func(g Group) oscalGroup {
		og := oscalGroup{ID: oscalID("g-", g.ID), Title: g.Title}
		og.Props = labelProps(og.ID, g.ID, g.TitleES)
		for _, sub := range c.Groups {
			if sub.Parent == g.ID {
				og.Groups = append(og.Groups, group(sub))
			}
		}
		for _, r := range byGroup[g.ID] {
			og.Controls = append(og.Controls, control(r))
		}
		return og
	}
	for _, g := range c.Groups {
		if g.Parent == "" {
			oc.Groups = append(oc.Groups, group(g))
		}
	}
	for _, r := range byGroup[""] {
		oc.Controls = append(oc.Controls, control(r))
	}
	out, err := json.MarshalIndent(oscalFile{Catalog: &oc}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode oscal: %w", err)
	}
	return append(out, '\n'), nil
}

func labelProps(oscalID, id, titleES string) []oscalProp {
	var props []oscalProp
	if oscalID != id {
		props = append(props, oscalProp{Name: "label", Value: id})
	}
	if titleES != "" {
		props = append(props, oscalProp{Name: "title-es", NS: custodiaNS, Value: titleES})
	}
	return props
}

// nameUUID returns a version-5 (SHA-1, name-based) UUID for name in the URL
// namespace.
func nameUUID(name string) string {
	ns := []byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	h := sha1.New()
	h.Write(ns)
	h.Write([]byte("urn:custodia:catalog:" + name))
	s := h.Sum(nil)[:16]
	s[6] = s[6]&0x0f | 0x50
	s[8] = s[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

// jsonError turns a decoding error into one with a line and column.
func jsonError(b []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := lineCol(b, syn.Offset-1) // Offset is just past the bad byte
		return fmt.Errorf("line %d, column %d: %w", line, col, err)
	case errors.As(err, &typ):
		line, col := lineCol(b, typ.Offset-1) // Offset is just past the value
		return fmt.Errorf("line %d, column %d: %s: want %s, got JSON %s", line, col, typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return errors.New("empty document")
	}
	return err
}

func lineCol(b []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(b)))
	before := b[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return line, col
}

// ENS applicability rules travel in OSCAL as props in Custodia's namespace
// ("ens-dimensions" = "C I" or "categoria", "ens-level-1…3" = the Anexo II
// cells) and reinforcements as parts named "reinforcement" whose "label"
// prop is R1, R2….
func exportENS(ctl *oscalControl, r Requirement) {
	if !r.IsENSMeasure() {
		return
	}
	dims := "categoria"
	if !r.ByCategory {
		var ds []string
		for _, d := range r.Dimensions {
			ds = append(ds, string(d))
		}
		dims = strings.Join(ds, " ")
	}
	ctl.Props = append(ctl.Props, oscalProp{Name: "ens-dimensions", NS: custodiaNS, Value: dims})
	for i, lv := range r.Levels {
		ctl.Props = append(ctl.Props, oscalProp{Name: fmt.Sprintf("ens-level-%d", i+1), NS: custodiaNS, Value: lv.String()})
	}
	for _, rf := range r.Reinforcements {
		part := oscalPart{ID: ctl.ID + "_" + rf.ID, Name: "reinforcement", Title: rf.Title, Props: []oscalProp{{Name: "label", Value: rf.ID}}}
		if rf.TitleES != "" {
			part.Props = append(part.Props, oscalProp{Name: "title-es", NS: custodiaNS, Value: rf.TitleES})
		}
		ctl.Parts = append(ctl.Parts, part)
	}
}

func importENS(r *Requirement, ctl *oscalControl) error {
	dims := propValue(ctl.Props, "ens-dimensions", "")
	for _, p := range ctl.Parts {
		if p.Name != "reinforcement" {
			continue
		}
		rf := Reinforcement{ID: propValue(p.Props, "label", ""), Title: p.Title, TitleES: propValue(p.Props, "title-es", "")}
		if rf.Title == "" {
			rf.Title = strings.TrimSpace(p.Prose)
		}
		r.Reinforcements = append(r.Reinforcements, rf)
	}
	if dims == "" {
		if len(r.Reinforcements) > 0 {
			return errors.New("reinforcement parts without an ens-dimensions prop")
		}
		return nil
	}
	if dims == "categoria" {
		r.ByCategory = true
	} else {
		for _, d := range strings.Fields(dims) {
			if !Dimension(d).Valid() || slices.Contains(r.Dimensions, Dimension(d)) {
				return fmt.Errorf("ens-dimensions %q: want distinct C, I, T, A, D or \"categoria\"", dims)
			}
			r.Dimensions = append(r.Dimensions, Dimension(d))
		}
		if len(r.Dimensions) == 0 {
			return errors.New("ens-dimensions is empty")
		}
	}
	for i := range r.Levels {
		cell := propValue(ctl.Props, fmt.Sprintf("ens-level-%d", i+1), "")
		if cell == "" {
			return fmt.Errorf("ens-level-%d prop is missing", i+1)
		}
		lv, err := ParseLevelRule(cell)
		if err != nil {
			return fmt.Errorf("ens-level-%d: %w", i+1, err)
		}
		r.Levels[i] = lv
	}
	return nil
}
