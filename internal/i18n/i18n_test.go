package i18n

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadBuiltin(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if len(c.Keys()) == 0 {
		t.Fatal("catalogue is empty")
	}
	for _, k := range c.Keys() {
		for _, l := range Languages {
			if got := c.T(l, k); got == "" {
				t.Errorf("T(%q, %q) is empty", l, k)
			}
		}
	}
}

func TestT(t *testing.T) {
	c := MustLoad()
	tests := []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"en", "common.save", nil, "Save"},
		{"es", "common.save", nil, "Guardar"},
		{"fr", "common.save", nil, "Save"},
		{"es", "validation.too_long", []any{80}, "Debe tener como máximo 80 caracteres."},
		{"en", "no.such.key", nil, "no.such.key"},
	}
	for _, tt := range tests {
		if got := c.T(tt.lang, tt.key, tt.args...); got != tt.want {
			t.Errorf("T(%q, %q, %v) = %q, want %q", tt.lang, tt.key, tt.args, got, tt.want)
		}
	}
	var missing []string
	c.Missing = func(lang, key string) { missing = append(missing, lang+":"+key) }
	c.T("es", "nope")
	if len(missing) != 1 || missing[0] != "es:nope" {
		t.Errorf("Missing called with %v, want [es:nope]", missing)
	}
}

func TestLoadExtraModule(t *testing.T) {
	good := fstest.MapFS{
		"en/isms.json": {Data: []byte(`{"isms.title": "ISMS %s"}`)},
		"es/isms.json": {Data: []byte(`{"isms.title": "SGSI %s"}`)},
	}
	c, err := Load(good)
	if err != nil {
		t.Fatalf("Load(good) = %v", err)
	}
	if got := c.T("es", "isms.title", "x"); got != "SGSI x" {
		t.Errorf("T = %q, want SGSI x", got)
	}
	bad := []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"missing in es", fstest.MapFS{
			"en/m.json": {Data: []byte(`{"m.a": "A"}`)},
			"es/m.json": {Data: []byte(`{}`)},
		}, `"m.a" is in en but not in es`},
		{"missing in en", fstest.MapFS{
			"en/m.json": {Data: []byte(`{}`)},
			"es/m.json": {Data: []byte(`{"m.b": "B"}`)},
		}, `"m.b" is in es but not in en`},
		{"placeholder mismatch", fstest.MapFS{
			"en/m.json": {Data: []byte(`{"m.a": "%d items"}`)},
			"es/m.json": {Data: []byte(`{"m.a": "%s elementos"}`)},
		}, "placeholders differ"},
		{"placeholder count", fstest.MapFS{
			"en/m.json": {Data: []byte(`{"m.a": "%s and %s"}`)},
			"es/m.json": {Data: []byte(`{"m.a": "%s"}`)},
		}, "placeholders differ"},
		{"duplicate key", fstest.MapFS{
			"en/m.json": {Data: []byte(`{"common.save": "S"}`)},
			"es/m.json": {Data: []byte(`{"common.save": "G"}`)},
		}, "defined twice"},
		{"bad json", fstest.MapFS{
			"en/m.json": {Data: []byte(`{`)},
			"es/m.json": {Data: []byte(`{}`)},
		}, "parse en/m.json"},
		{"bad verb", fstest.MapFS{
			"en/m.json": {Data: []byte(`{"m.a": "100%"}`)},
			"es/m.json": {Data: []byte(`{"m.a": "100%"}`)},
		}, "trailing %"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.fs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load() = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestReorderedPlaceholders(t *testing.T) {
	fs := fstest.MapFS{
		"en/m.json": {Data: []byte(`{"m.a": "%s of %d"}`)},
		"es/m.json": {Data: []byte(`{"m.a": "%[2]d de %[1]s"}`)},
	}
	c, err := Load(fs)
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if got := c.T("es", "m.a", "x", 3); got != "3 de x" {
		t.Errorf("T = %q, want %q", got, "3 de x")
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		pref, header, want string
	}{
		{"", "", "en"},
		{"es", "en-US,en;q=0.9", "es"},
		{"ES", "", "es"},
		{"fr", "es-ES,es;q=0.9,en;q=0.8", "es"},
		{"", "en-GB,en;q=0.9,es;q=0.8", "en"},
		{"", "fr-FR,fr;q=0.9,es;q=0.5,en;q=0.4", "es"},
		{"", "fr, de", "en"},
		{"", "en;q=0.1, es;q=0.9", "es"},
		{"", "es;q=0, en;q=0.2", "en"},
		{"", "es;q=abc", "en"},
		{"", ";;;,,,q=1", "en"},
		{"", "es-MX", "es"},
	}
	for _, tt := range tests {
		if got := Negotiate(tt.pref, tt.header); got != tt.want {
			t.Errorf("Negotiate(%q, %q) = %q, want %q", tt.pref, tt.header, got, tt.want)
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "es", "en-US,en;q=0.9", "es;q=0.5, en;q=x", ";;;", "*", "es-419;q=1.0"} {
		f.Add("", s)
	}
	f.Add("es", "en")
	f.Fuzz(func(t *testing.T, pref, header string) {
		got := Negotiate(pref, header)
		if !Supported(got) {
			t.Fatalf("Negotiate(%q, %q) = %q, not a supported language", pref, header, got)
		}
	})
}

func FuzzVerbs(f *testing.F) {
	for _, s := range []string{"", "%s", "%[2]d %[1]s", "100%%", "%", "%[", "%[0]d", "%5.2f", "%!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := verbs(s)
		if err == nil {
			for _, x := range v {
				if !strings.Contains(x, ":") {
					t.Fatalf("verbs(%q) = %v: malformed entry", s, v)
				}
			}
		}
	})
}
