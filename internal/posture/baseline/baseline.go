// Package baseline holds Custodia's built-in posture policies for
// contact-center workstations, one per operating system, plus opt-in client
// restrictions (clipboard, printing, screen capture, VDI redirection).
package baseline

import (
	"embed"
	"fmt"
	"sort"

	"github.com/custodia/custodia/internal/posture"
)

//go:embed *.yml
var files embed.FS

// Names lists the embedded policy files.
func Names() []string {
	ents, _ := files.ReadDir(".")
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// Source returns an embedded policy file's text.
func Source(name string) ([]byte, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("baseline %q: %w", name, err)
	}
	return b, nil
}

// For returns the baseline policy file names for goos ("linux", "windows",
// "darwin"); restrictions adds the client-restriction policy.
func For(goos string, restrictions bool) []string {
	switch goos {
	case "linux", "windows", "darwin":
	default:
		return nil
	}
	out := []string{goos + ".yml"}
	if restrictions {
		out = append(out, "restrictions-"+goos+".yml")
	}
	return out
}

// Load parses the named embedded policies.
func Load(names ...string) ([]*posture.Policy, error) {
	var out []*posture.Policy
	for _, n := range names {
		src, err := Source(n)
		if err != nil {
			return nil, err
		}
		p, err := posture.Parse(src)
		if err != nil {
			return nil, fmt.Errorf("baseline %s: %w", n, err)
		}
		out = append(out, p)
	}
	return out, nil
}
