package posture

import (
	"fmt"
	"sort"
	"strings"
)

// hives maps the short and long spellings of registry hives to the long one.
var hives = map[string]string{
	"HKLM":                "HKEY_LOCAL_MACHINE",
	"HKEY_LOCAL_MACHINE":  "HKEY_LOCAL_MACHINE",
	"HKU":                 "HKEY_USERS",
	"HKEY_USERS":          "HKEY_USERS",
	"HKCU":                "HKEY_CURRENT_USER",
	"HKEY_CURRENT_USER":   "HKEY_CURRENT_USER",
	"HKCR":                "HKEY_CLASSES_ROOT",
	"HKEY_CLASSES_ROOT":   "HKEY_CLASSES_ROOT",
	"HKCC":                "HKEY_CURRENT_CONFIG",
	"HKEY_CURRENT_CONFIG": "HKEY_CURRENT_CONFIG",
}

// SplitKey splits a registry path into its long hive name and the subkey
// path, accepting HKLM\… and HKEY_LOCAL_MACHINE\… alike.
func SplitKey(path string) (hive, sub string, err error) {
	path = strings.Trim(strings.ReplaceAll(path, "/", `\`), `\`)
	h, rest, _ := strings.Cut(path, `\`)
	long, ok := hives[strings.ToUpper(h)]
	if !ok {
		return "", "", fmt.Errorf("registry path %q: unknown hive %q", path, h)
	}
	return long, strings.Trim(rest, `\`), nil
}

// StaticRegistry is a Registry held in memory, for fixtures recorded from
// Windows machines. Keys are full paths; names compare case-insensitively
// as Windows does.
type StaticRegistry struct {
	keys map[string]map[string][]string // normalized key -> lower value name -> lines
	orig map[string]string              // normalized key -> spelled key
}

// NewStaticRegistry builds a registry from key -> value name -> lines.
func NewStaticRegistry(data map[string]map[string][]string) (*StaticRegistry, error) {
	s := &StaticRegistry{keys: map[string]map[string][]string{}, orig: map[string]string{}}
	for k, vals := range data {
		nk, err := normKey(k)
		if err != nil {
			return nil, err
		}
		// Every ancestor exists too.
		parts := strings.Split(nk, `\`)
		for i := 1; i <= len(parts); i++ {
			anc := strings.Join(parts[:i], `\`)
			if _, ok := s.keys[anc]; !ok {
				s.keys[anc] = map[string][]string{}
				s.orig[anc] = strings.Join(strings.Split(canonKey(k), `\`)[:i], `\`)
			}
		}
		for name, lines := range vals {
			s.keys[nk][strings.ToLower(name)] = lines
		}
	}
	return s, nil
}

func canonKey(k string) string {
	hive, sub, err := SplitKey(k)
	if err != nil {
		return k
	}
	if sub == "" {
		return hive
	}
	return hive + `\` + sub
}

func normKey(k string) (string, error) {
	hive, sub, err := SplitKey(k)
	if err != nil {
		return "", err
	}
	if sub == "" {
		return hive, nil
	}
	return hive + `\` + strings.ToLower(sub), nil
}

// KeyExists implements Registry.
func (s *StaticRegistry) KeyExists(path string) (bool, error) {
	nk, err := normKey(path)
	if err != nil {
		return false, err
	}
	_, ok := s.keys[nk]
	return ok, nil
}

// Value implements Registry.
func (s *StaticRegistry) Value(path, name string) ([]string, bool, error) {
	nk, err := normKey(path)
	if err != nil {
		return nil, false, err
	}
	vals, ok := s.keys[nk]
	if !ok {
		return nil, false, nil
	}
	lines, ok := vals[strings.ToLower(name)]
	return lines, ok, nil
}

// SubKeys implements Registry.
func (s *StaticRegistry) SubKeys(path string) ([]string, error) {
	nk, err := normKey(path)
	if err != nil {
		return nil, err
	}
	var out []string
	prefix := nk + `\`
	for k := range s.keys {
		if rest, ok := strings.CutPrefix(k, prefix); ok && !strings.Contains(rest, `\`) {
			o := s.orig[k]
			out = append(out, o[strings.LastIndex(o, `\`)+1:])
		}
	}
	sort.Strings(out)
	return out, nil
}
