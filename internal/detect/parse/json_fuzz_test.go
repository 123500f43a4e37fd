package parse

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/custodia/custodia/internal/detect/event"
)

// refStrings flattens the string values under nested objects of a decoded
// JSON document by dotted path (arrays are not descended into).
func refStrings(v any, path string, out map[string][]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if strings.Contains(k, ".") {
				continue // dotted keys make paths ambiguous
			}
			p := k
			if path != "" {
				p = path + "." + k
			}
			refStrings(c, p, out)
		}
	case string:
		out[path] = append(out[path], x)
	}
}

// FuzzJSON checks the JSON flattener against encoding/json: every string
// value (escaped or not) must come out exactly as encoding/json decodes it.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":"C:\\Windows\\System32\\cmd.exe","b":{"c":"x\"y","d":"plain"},"e":"\u00e9\ud83d\ude00\n\t"}`,
		`{"Event":{"System":{"Channel":"Security"},"EventData":{"CommandLine":"\"C:\\a b\\c.exe\" /x","Image":"C:\\a.exe"}}}`,
		`{"k\\ey":"v\\al","n":1,"l":["a\\b","c"],"z":null}`,
		`{"a":"\ud800","b":"\/"}`,
	} {
		f.Add(s)
	}
	var in interner
	var sc jsonScratch
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // encoding/json replaces invalid UTF-8
		}
		var doc any
		if json.Unmarshal([]byte(s), &doc) != nil {
			return
		}
		if _, ok := doc.(map[string]any); !ok {
			return
		}
		e := &event.Event{}
		if err := parseJSON(strings.TrimSpace(s), e, &in, &sc); err != nil {
			t.Fatalf("parseJSON(%q): %v (encoding/json accepts it)", s, err)
		}
		want := map[string][]string{}
		refStrings(doc, "", want)
		names := map[string]int{}
		for _, fl := range e.Fields {
			names[fl.Name]++
		}
		for path, vals := range want {
			if len(vals) != 1 || path == "" || names[path] != 1 {
				continue // duplicate keys: encoding/json keeps the last
			}
			f := e.Get(path)
			if f == nil {
				t.Fatalf("parseJSON(%q): no field %q", s, path)
			}
			if f.Value != vals[0] {
				t.Fatalf("parseJSON(%q): %s = %q, encoding/json says %q", s, path, f.Value, vals[0])
			}
		}
	})
}
