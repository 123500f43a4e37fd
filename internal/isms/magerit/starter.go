package magerit

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

//go:embed data/contact-center.yaml
var contactCenterYAML []byte

// ContactCenter returns a fresh copy of the contact-center starter model:
// typical assets with their dependencies, threats and safeguards.
func ContactCenter() (*Model, error) {
	return ParseModel("contact-center.yaml", contactCenterYAML)
}

type rawModel struct {
	Assets []struct {
		ID    string         `yaml:"id"`
		Name  string         `yaml:"name"`
		Type  string         `yaml:"type"`
		Value map[string]int `yaml:"value"`
	} `yaml:"assets"`
	Dependencies []struct {
		Upper string `yaml:"upper"`
		Lower string `yaml:"lower"`
	} `yaml:"dependencies"`
	Threats []struct {
		ID          string             `yaml:"id"`
		Code        string             `yaml:"code"`
		Name        string             `yaml:"name"`
		Asset       string             `yaml:"asset"`
		Degradation map[string]float64 `yaml:"degradation"`
		Frequency   float64            `yaml:"frequency"`
	} `yaml:"threats"`
	Safeguards []struct {
		ID          string   `yaml:"id"`
		Name        string   `yaml:"name"`
		Threats     []string `yaml:"threats"`
		Degradation float64  `yaml:"degradation"`
		Frequency   float64  `yaml:"frequency"`
	} `yaml:"safeguards"`
}

// ParseModel parses a risk model in the YAML format of
// data/contact-center.yaml and validates it.
func ParseModel(name string, b []byte) (m *Model, err error) {
	defer func() {
		// The YAML decoder must not take the process down on hostile input.
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("%s: malformed YAML: %v", name, p)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var raw rawModel
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty document", name)
		}
		return nil, fmt.Errorf("%s: decode: %w", name, err)
	}
	m = &Model{}
	for _, a := range raw.Assets {
		v := Values{}
		for d, x := range a.Value {
			v[Dimension(d)] = x
		}
		m.Assets = append(m.Assets, Asset{ID: a.ID, Name: a.Name, Type: AssetType(a.Type), Value: v})
	}
	for _, d := range raw.Dependencies {
		m.Dependencies = append(m.Dependencies, Dependency{Upper: d.Upper, Lower: d.Lower})
	}
	for _, t := range raw.Threats {
		deg := map[Dimension]float64{}
		for d, x := range t.Degradation {
			deg[Dimension(d)] = x
		}
		m.Threats = append(m.Threats, Threat{ID: t.ID, Code: t.Code, Name: t.Name, Asset: t.Asset, Degradation: deg, Frequency: t.Frequency})
	}
	for _, s := range raw.Safeguards {
		m.Safeguards = append(m.Safeguards, Safeguard{ID: s.ID, Name: s.Name, Threats: s.Threats, Degradation: s.Degradation, Frequency: s.Frequency})
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}
