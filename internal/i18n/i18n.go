// Package i18n is Custodia's one message catalogue: every user-facing string
// (console pages, API error titles, e-mails) is looked up here by key, in
// Spanish or English.
//
// Messages live in JSON files, one per module per language:
// messages/<lang>/<module>.json, a flat object of key → text. Keys are
// dotted and start with the module name ("people.list.title"). Texts use
// fmt verbs for arguments ("%s", "%d", or "%[2]s" when a language needs
// another order). Load checks that every key exists in every language and
// that the verbs of each translation take the same arguments.
//
// A module that lives elsewhere can ship its own files the same way: embed
// a directory laid out as <lang>/<module>.json and pass it to Load.
package i18n

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
)

// Languages are the supported languages, the default first.
var Languages = []string{"en", "es"}

// Default is the language used when nothing else matches.
const Default = "en"

//go:embed messages
var builtin embed.FS

// Catalog holds every message in every language. It is read-only after Load
// and safe for concurrent use.
type Catalog struct {
	msgs map[string]map[string]string // lang → key → text
	// Missing, when non-nil, is called for a key the catalogue lacks (T then
	// returns the key itself). The console logs it.
	Missing func(lang, key string)
}

// Load reads the built-in messages plus those in extra (each laid out as
// <lang>/<module>.json) and checks them: same keys in every language,
// consistent placeholders, no key defined twice.
func Load(extra ...fs.FS) (*Catalog, error) {
	sub, err := fs.Sub(builtin, "messages")
	if err != nil {
		return nil, err
	}
	c := &Catalog{msgs: map[string]map[string]string{}}
	for _, l := range Languages {
		c.msgs[l] = map[string]string{}
	}
	for _, fsys := range append([]fs.FS{sub}, extra...) {
		if err := c.add(fsys); err != nil {
			return nil, err
		}
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// MustLoad is Load for tests and programs that cannot start without the
// catalogue; it panics on error.
func MustLoad(extra ...fs.FS) *Catalog {
	c, err := Load(extra...)
	if err != nil {
		panic(err)
	}
	return c
}

func (c *Catalog) add(fsys fs.FS) error {
	for _, lang := range Languages {
		files, err := fs.Glob(fsys, lang+"/*.json")
		if err != nil {
			return fmt.Errorf("i18n: list %s: %w", lang, err)
		}
		for _, name := range files {
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				return fmt.Errorf("i18n: read %s: %w", name, err)
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				return fmt.Errorf("i18n: parse %s: %w", name, err)
			}
			module := strings.TrimSuffix(path.Base(name), ".json")
			for k, v := range m {
				if k == "" {
					return fmt.Errorf("i18n: %s: empty key", name)
				}
				if _, dup := c.msgs[lang][k]; dup {
					return fmt.Errorf("i18n: %s: key %q defined twice (module %s)", name, k, module)
				}
				c.msgs[lang][k] = v
			}
		}
	}
	return nil
}

func (c *Catalog) check() error {
	var problems []string
	ref := c.msgs[Default]
	for _, lang := range Languages {
		for k, v := range c.msgs[lang] {
			if _, err := verbs(v); err != nil {
				problems = append(problems, fmt.Sprintf("%s %q: %v", lang, k, err))
			}
			if lang != Default {
				if _, ok := ref[k]; !ok {
					problems = append(problems, fmt.Sprintf("%q is in %s but not in %s", k, lang, Default))
				}
			}
		}
		if lang == Default {
			continue
		}
		for k, v := range ref {
			other, ok := c.msgs[lang][k]
			if !ok {
				problems = append(problems, fmt.Sprintf("%q is in %s but not in %s", k, Default, lang))
				continue
			}
			a, errA := verbs(v)
			b, errB := verbs(other)
			if errA == nil && errB == nil && !slices.Equal(a, b) {
				problems = append(problems, fmt.Sprintf("%q: placeholders differ: %s %v, %s %v", k, Default, a, lang, b))
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New("i18n: catalogue inconsistent:\n  " + strings.Join(problems, "\n  "))
	}
	return nil
}

// T returns the message key in lang, formatted with args. An unknown
// language falls back to the default; an unknown key returns the key.
func (c *Catalog) T(lang, key string, args ...any) string {
	m, ok := c.msgs[lang]
	if !ok {
		lang = Default
		m = c.msgs[Default]
	}
	s, ok := m[key]
	if !ok {
		if c.Missing != nil {
			c.Missing(lang, key)
		}
		return key
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Has reports whether key is in the catalogue.
func (c *Catalog) Has(key string) bool {
	_, ok := c.msgs[Default][key]
	return ok
}

// Keys returns every key, sorted.
func (c *Catalog) Keys() []string {
	keys := make([]string, 0, len(c.msgs[Default]))
	for k := range c.msgs[Default] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool { return slices.Contains(Languages, lang) }

// verbs lists the arguments a format string consumes as "index:verb"
// entries, sorted, so that two translations can be compared whatever their
// word order. "%%" consumes nothing.
func verbs(s string) ([]string, error) {
	var out []string
	argNum := 1
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		i++
		if i >= len(s) {
			return nil, errors.New("trailing %")
		}
		if s[i] == '%' {
			continue
		}
		// flags
		for i < len(s) && strings.IndexByte("+-# 0", s[i]) >= 0 {
			i++
		}
		// explicit argument index
		if i < len(s) && s[i] == '[' {
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, errors.New("unterminated argument index")
			}
			var n int
			if _, err := fmt.Sscanf(s[i+1:i+j], "%d", &n); err != nil || n < 1 {
				return nil, fmt.Errorf("bad argument index %q", s[i:i+j+1])
			}
			argNum = n
			i += j + 1
		}
		// width and precision
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i >= len(s) {
			return nil, errors.New("missing verb")
		}
		if !strings.ContainsRune("vsdqxXfgetT", rune(s[i])) {
			return nil, fmt.Errorf("unsupported verb %%%c", s[i])
		}
		out = append(out, fmt.Sprintf("%d:%c", argNum, s[i]))
		argNum++
	}
	sort.Strings(out)
	return out, nil
}
