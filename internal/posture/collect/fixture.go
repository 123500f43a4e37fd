package collect

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/custodia/custodia/internal/posture"
)

// LoadRegistryFixture builds a static registry from a YAML document that
// maps key paths to value names to data (a string, a number or a list for
// REG_MULTI_SZ), as recorded from a Windows machine.
func LoadRegistryFixture(data []byte) (*posture.StaticRegistry, error) {
	var raw map[string]map[string]yaml.Node
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("registry fixture: %w", err)
	}
	m := map[string]map[string][]string{}
	for key, vals := range raw {
		m[key] = map[string][]string{}
		for name, n := range vals {
			switch n.Kind {
			case yaml.ScalarNode:
				m[key][name] = []string{n.Value}
			case yaml.SequenceNode:
				var lines []string
				if err := n.Decode(&lines); err != nil {
					return nil, fmt.Errorf("registry fixture %s -> %s: %w", key, name, err)
				}
				m[key][name] = lines
			default:
				return nil, fmt.Errorf("registry fixture %s -> %s: want a scalar or a list", key, name)
			}
		}
	}
	return posture.NewStaticRegistry(m)
}
