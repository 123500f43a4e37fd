package catalog

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed data/*.yaml
var dataFS embed.FS

// Library is the set of catalogues and mappings the ISMS works with.
type Library struct {
	Catalogs []*Catalog
	Mappings []Mapping
}

// Catalog returns the catalogue with the given id.
func (l *Library) Catalog(id string) (*Catalog, error) {
	for _, c := range l.Catalogs {
		if c.ID == id {
			return c, nil
		}
	}
	return nil, fmt.Errorf("catalogue %q: %w", id, ErrNotFound)
}

// Builtin loads and validates the embedded catalogues (data/*.yaml) and the
// mappings between them (data/mappings.yaml). It returns a fresh Library on
// each call; callers load it once at start.
func Builtin() (*Library, error) {
	names, err := fs.Glob(dataFS, "data/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list catalogue data: %w", err)
	}
	slices.Sort(names)
	lib := &Library{}
	var mappingData []byte
	for _, name := range names {
		b, err := dataFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if path.Base(name) == "mappings.yaml" {
			mappingData = b
			continue
		}
		c, err := ParseYAML(path.Base(name), b)
		if err != nil {
			return nil, err
		}
		if _, err := lib.Catalog(c.ID); err == nil {
			return nil, fmt.Errorf("%s: catalogue %q defined twice", name, c.ID)
		}
		lib.Catalogs = append(lib.Catalogs, c)
	}
	if mappingData != nil {
		ms, err := ParseMappings("mappings.yaml", mappingData)
		if err != nil {
			return nil, err
		}
		if err := lib.ValidateMappings(ms); err != nil {
			return nil, fmt.Errorf("mappings.yaml: %w", err)
		}
		lib.Mappings = ms
	}
	return lib, nil
}

type rawCatalog struct {
	ID           string     `yaml:"id"`
	Name         string     `yaml:"name"`
	Version      string     `yaml:"version"`
	Source       string     `yaml:"source"`
	Licence      string     `yaml:"licence"`
	Groups       []rawGroup `yaml:"groups"`
	Measures     []rawReq   `yaml:"measures"`
	Requirements []rawReq   `yaml:"requirements"`
}

type rawGroup struct {
	ID     string `yaml:"id"`
	Parent string `yaml:"parent"`
	En     string `yaml:"en"`
	Es     string `yaml:"es"`
}

type rawReq struct {
	ID        string   `yaml:"id"`
	Group     string   `yaml:"group"`
	Parent    string   `yaml:"parent"`
	En        string   `yaml:"en"`
	Es        string   `yaml:"es"`
	Text      string   `yaml:"text"`
	Dims      []string `yaml:"dims"`
	Req       []string `yaml:"req"`
	Refuerzos []rawRef `yaml:"refuerzos"`
}

type rawRef struct {
	ID string `yaml:"id"`
	En string `yaml:"en"`
	Es string `yaml:"es"`
}

// lineIndex mirrors rawCatalog to learn the line of every requirement.
type lineIndex struct {
	Measures     []yaml.Node `yaml:"measures"`
	Requirements []yaml.Node `yaml:"requirements"`
}

// ParseYAML parses a catalogue in Custodia's own YAML format (the format of
// data/*.yaml, described in docs/isms.md) and validates it. Errors name the
// file, and the line where one is known.
func ParseYAML(name string, b []byte) (*Catalog, error) {
	var raw rawCatalog
	if err := decodeStrict(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var lines lineIndex
	if err := decodeLoose(b, &lines); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	items, nodes := raw.Requirements, lines.Requirements
	if len(raw.Measures) > 0 {
		if len(raw.Requirements) > 0 {
			return nil, fmt.Errorf("%s: both measures and requirements given; use one", name)
		}
		items, nodes = raw.Measures, lines.Measures
	}
	c := &Catalog{ID: raw.ID, Name: raw.Name, Version: raw.Version, Source: raw.Source, Licence: raw.Licence}
	for _, g := range raw.Groups {
		c.Groups = append(c.Groups, Group{ID: g.ID, Parent: g.Parent, Title: g.En, TitleES: g.Es})
	}
	isGroup := map[string]bool{}
	for _, g := range c.Groups {
		isGroup[g.ID] = true
	}
	reqGroup := map[string]string{}
	for i, rr := range items {
		line := 0
		if i < len(nodes) {
			line = nodes[i].Line
		}
		r, err := rr.requirement(isGroup, reqGroup)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: requirement %q: %w", name, line, rr.ID, err)
		}
		reqGroup[r.ID] = r.Group
		c.Requirements = append(c.Requirements, r)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

func (rr rawReq) requirement(isGroup map[string]bool, reqGroup map[string]string) (Requirement, error) {
	r := Requirement{ID: strings.TrimSpace(rr.ID), Group: rr.Group, Parent: rr.Parent, Title: rr.En, TitleES: rr.Es, Text: rr.Text}
	// Default the group and parent from the id: "op.acc.1" is in group
	// "op.acc"; "6.1.2" is a child of requirement "6.1" and in its group.
	if i := strings.LastIndex(r.ID, "."); i > 0 && r.Group == "" && r.Parent == "" {
		prefix := r.ID[:i]
		if isGroup[prefix] {
			r.Group = prefix
		} else if g, ok := reqGroup[prefix]; ok {
			r.Parent, r.Group = prefix, g
		}
	}
	for _, rf := range rr.Refuerzos {
		r.Reinforcements = append(r.Reinforcements, Reinforcement{ID: rf.ID, Title: rf.En, TitleES: rf.Es})
	}
	switch {
	case len(rr.Dims) == 0 && len(rr.Req) == 0:
		if len(rr.Refuerzos) > 0 {
			return r, errors.New("reinforcements without dims and req")
		}
		return r, nil
	case len(rr.Dims) == 0:
		return r, errors.New("req given without dims")
	case len(rr.Req) != 3:
		return r, fmt.Errorf("req has %d cells, want 3 (BAJO/BÁSICA, MEDIO/MEDIA, ALTO/ALTA)", len(rr.Req))
	}
	if len(rr.Dims) == 1 && strings.EqualFold(rr.Dims[0], "categoria") {
		r.ByCategory = true
	} else {
		for _, d := range rr.Dims {
			dim := Dimension(strings.TrimSpace(d))
			if !dim.Valid() {
				return r, fmt.Errorf("dimension %q: want C, I, T, A, D or [categoria] alone", d)
			}
			if slices.Contains(r.Dimensions, dim) {
				return r, fmt.Errorf("dimension %s repeated", dim)
			}
			r.Dimensions = append(r.Dimensions, dim)
		}
	}
	for i, cell := range rr.Req {
		lv, err := ParseLevelRule(cell)
		if err != nil {
			return r, fmt.Errorf("%s: %w", LevelNames[i], err)
		}
		r.Levels[i] = lv
	}
	return r, nil
}

// decodeStrict decodes one YAML document into v, rejecting unknown fields
// and trailing documents.
func decodeStrict(b []byte, v any) (err error) {
	defer func() {
		// The YAML decoder must not take the process down on hostile input.
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed YAML: %v", p)
		}
	}()
	if len(b) > MaxImportSize {
		return fmt.Errorf("file of %d bytes exceeds %d", len(b), MaxImportSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty document")
		}
		return fmt.Errorf("decode: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("more than one YAML document")
	}
	return nil
}

// decodeLoose decodes b into v, ignoring unknown fields and recovering from
// a decoder panic.
func decodeLoose(b []byte, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed YAML: %v", p)
		}
	}()
	if err := yaml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}
