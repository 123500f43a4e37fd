package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// The part of a CISO Assistant library file Custodia reads: the framework
// object and its flat list of requirement nodes, linked by parent_urn.
type ciso struct {
	URN       string `yaml:"urn"`
	RefID     string `yaml:"ref_id"`
	Name      string `yaml:"name"`
	Version   any    `yaml:"version"`
	Copyright string `yaml:"copyright"`
	Provider  string `yaml:"provider"`
	Objects   *struct {
		Framework *struct {
			URN              string      `yaml:"urn"`
			RefID            string      `yaml:"ref_id"`
			Name             string      `yaml:"name"`
			RequirementNodes []yaml.Node `yaml:"requirement_nodes"`
		} `yaml:"framework"`
	} `yaml:"objects"`
}

type cisoNode struct {
	URN         string `yaml:"urn"`
	ParentURN   string `yaml:"parent_urn"`
	RefID       string `yaml:"ref_id"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Assessable  bool   `yaml:"assessable"`
}

// ImportCISOAssistant reads a CISO Assistant library (YAML) holding a
// framework. Non-assessable requirement nodes become groups, assessable
// ones requirements; parent_urn gives the tree (an assessable node under an
// assessable node is its child). A node's id is its ref_id, or the last
// segment of its urn when it has none. The catalogue takes the given id, or
// the framework's ref_id. Errors name the line of the offending node.
func ImportCISOAssistant(id string, b []byte) (cat *Catalog, err error) {
	if len(b) > MaxImportSize {
		return nil, fmt.Errorf("ciso assistant: file of %d bytes exceeds %d", len(b), MaxImportSize)
	}
	defer func() {
		// The YAML decoder must not take the process down on hostile input.
		if p := recover(); p != nil {
			cat, err = nil, fmt.Errorf("ciso assistant: malformed YAML: %v", p)
		}
	}()
	var lib ciso
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&lib); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("ciso assistant: empty document")
		}
		return nil, fmt.Errorf("ciso assistant: %w", err)
	}
	if lib.Objects == nil || lib.Objects.Framework == nil {
		return nil, errors.New("ciso assistant: no objects.framework (is this a risk-matrix or threat library?)")
	}
	fw := lib.Objects.Framework
	if id == "" {
		id = fw.RefID
	}
	if id == "" {
		return nil, errors.New("ciso assistant: objects.framework.ref_id: required when no catalogue id is given")
	}
	name := fw.Name
	if name == "" {
		name = lib.Name
	}
	if name == "" {
		name = id
	}
	c := &Catalog{ID: id, Name: name, Source: lib.URN, Licence: lib.Copyright}
	if lib.Version != nil {
		c.Version = fmt.Sprint(lib.Version)
	}
	type seen struct {
		id         string
		assessable bool
		line       int
	}
	byURN := map[string]seen{}
	ids := map[string]int{}
	for i, n := range fw.RequirementNodes {
		var node cisoNode
		if err := n.Decode(&node); err != nil {
			return nil, fmt.Errorf("ciso assistant: line %d: requirement_nodes[%d]: %w", n.Line, i, err)
		}
		where := fmt.Sprintf("ciso assistant: line %d: requirement_nodes[%d]", n.Line, i)
		if strings.TrimSpace(node.URN) == "" {
			return nil, fmt.Errorf("%s: urn is required", where)
		}
		if prev, dup := byURN[node.URN]; dup {
			return nil, fmt.Errorf("%s: urn %q already used on line %d", where, node.URN, prev.line)
		}
		nid := strings.TrimSpace(node.RefID)
		if nid == "" {
			nid = node.URN[strings.LastIndex(node.URN, ":")+1:]
		}
		if nid == "" {
			return nil, fmt.Errorf("%s: urn %q gives no id and ref_id is empty", where, node.URN)
		}
		if prev, dup := ids[nid]; dup {
			return nil, fmt.Errorf("%s: id %q already used on line %d", where, nid, prev)
		}
		title := strings.TrimSpace(node.Name)
		if title == "" {
			title = firstLine(node.Description)
		}
		if title == "" {
			title = nid
		}
		var parent seen
		if node.ParentURN != "" {
			p, ok := byURN[node.ParentURN]
			if !ok {
				return nil, fmt.Errorf("%s: parent_urn %q is not an earlier node", where, node.ParentURN)
			}
			parent = p
		}
		byURN[node.URN] = seen{id: nid, assessable: node.Assessable, line: n.Line}
		ids[nid] = n.Line
		if !node.Assessable {
			if parent.assessable {
				return nil, fmt.Errorf("%s: non-assessable node %q under assessable node %q", where, nid, parent.id)
			}
			c.Groups = append(c.Groups, Group{ID: nid, Parent: parent.id, Title: title})
			continue
		}
		r := Requirement{ID: nid, Title: title, Text: strings.TrimSpace(node.Description)}
		if parent.assessable {
			r.Parent = parent.id
			pr, _ := c.Requirement(parent.id)
			r.Group = pr.Group
		} else {
			r.Group = parent.id
		}
		c.Requirements = append(c.Requirements, r)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("ciso assistant: %w", err)
	}
	return c, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120])
	}
	return strings.TrimSpace(s)
}
