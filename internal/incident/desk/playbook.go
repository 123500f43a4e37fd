package desk

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/custodia/custodia/internal/incident/taxonomy"
)

//go:embed playbooks/*.yaml
var playbookFiles embed.FS

// Playbook is a checklist of tasks created on an incident when it is
// classified with one of the playbook's categories.
type Playbook struct {
	Key        string   `yaml:"key" json:"key"`
	Title      string   `yaml:"title" json:"title"`
	Categories []string `yaml:"categories" json:"categories"`
	Tasks      []string `yaml:"tasks" json:"tasks"`
	// Version is set by the store (0 = the built-in version).
	Version int64 `yaml:"-" json:"version"`
}

var keyRe = func(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

// Validate checks a playbook.
func (p *Playbook) Validate() error {
	var errs []error
	if !keyRe(p.Key) {
		errs = append(errs, fmt.Errorf("key %q: use 1-40 lower-case letters, digits, _ or -", p.Key))
	}
	if strings.TrimSpace(p.Title) == "" || utf8.RuneCountInString(p.Title) > 200 {
		errs = append(errs, errors.New("title is required (at most 200 characters)"))
	}
	if len(p.Categories) == 0 {
		errs = append(errs, errors.New("categories: list at least one RSIT incident type"))
	}
	for _, c := range p.Categories {
		if _, _, ok := taxonomy.Lookup(c); !ok {
			errs = append(errs, fmt.Errorf("category %q is not an RSIT incident type", c))
		}
	}
	if len(p.Tasks) == 0 || len(p.Tasks) > 100 {
		errs = append(errs, errors.New("tasks: list 1 to 100 tasks"))
	}
	for i, t := range p.Tasks {
		if strings.TrimSpace(t) == "" || utf8.RuneCountInString(t) > 500 {
			errs = append(errs, fmt.Errorf("task %d is empty or longer than 500 characters", i+1))
		}
	}
	return errors.Join(errs...)
}

// ParsePlaybook decodes and validates a playbook's YAML. Unknown fields are
// refused so a typo does not silently drop a checklist.
func ParsePlaybook(src []byte) (*Playbook, error) {
	if len(src) > 64<<10 {
		return nil, errors.New("playbook is larger than 64 KiB")
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	var p Playbook
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("playbook: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("playbook %q: %w", p.Key, err)
	}
	return &p, nil
}

// BuiltinPlaybooks returns the embedded playbooks (phishing, vishing, lost
// device, malware, misdirected data, insider data theft, account
// compromise) with their YAML, sorted by key.
func BuiltinPlaybooks() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := fs.WalkDir(playbookFiles, "playbooks", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := playbookFiles.ReadFile(path)
		if err != nil {
			return err
		}
		p, err := ParsePlaybook(b)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		out[p.Key] = b
		return nil
	})
	return out, err
}

// PlaybookFor returns the first playbook (by key order) that lists the
// category, or nil.
func PlaybookFor(books []Playbook, category string) *Playbook {
	sorted := slices.Clone(books)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	for i := range sorted {
		if slices.Contains(sorted[i].Categories, category) {
			return &sorted[i]
		}
	}
	return nil
}
