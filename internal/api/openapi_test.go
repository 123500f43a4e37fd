package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

func TestOpenAPIMatchesRoutes(t *testing.T) {
	st := storetest.SQLite(t)
	s := New(Deps{Store: st})
	r := authz.NewRouter(authz.Options{})
	s.Register(r)
	doc := s.OpenAPI()
	for _, p := range CheckDocument(r.Routes(), doc) {
		t.Error(p)
	}
	// A route registered behind the document's back is caught.
	r.HandleFunc("GET /api/v1/sneaky", authz.Public(), func(http.ResponseWriter, *http.Request) {})
	if got := CheckDocument(r.Routes(), doc); len(got) != 1 || !strings.Contains(got[0], "/api/v1/sneaky") {
		t.Errorf("undocumented route not reported: %v", got)
	}
	// And so is a documented operation without a route.
	paths := doc["paths"].(map[string]any)
	paths["/api/v1/ghost"] = map[string]any{"get": map[string]any{}}
	if got := CheckDocument(r.Routes()[:len(r.Routes())-1], doc); len(got) != 1 || !strings.Contains(got[0], "/api/v1/ghost") {
		t.Errorf("unregistered operation not reported: %v", got)
	}
}

func TestOpenAPIDocumentServed(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	code, doc, _ := f.call(t, nil, "GET", "/api/v1/openapi.json", "")
	if code != 200 || doc["openapi"] != "3.1.0" {
		t.Fatalf("GET /api/v1/openapi.json = %d, openapi %v", code, doc["openapi"])
	}
	// Every $ref resolves.
	b, _ := json.Marshal(doc)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, part := range strings.Split(string(b), `"$ref":"#/components/schemas/`)[1:] {
		name := part[:strings.IndexByte(part, '"')]
		if _, ok := schemas[name]; !ok {
			t.Errorf("$ref to missing schema %q", name)
		}
	}
	for _, name := range []string{"Person", "PersonList", "Client", "Details", "ImportResponse"} {
		if _, ok := schemas[name]; !ok {
			t.Errorf("schema %s missing; have %v", name, keys(schemas))
		}
	}
}

// TestSampleResponsesMatchSchemas calls every GET operation as an
// administrator and checks the answers against the documented schemas'
// required properties and types.
func TestSampleResponsesMatchSchemas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		doc := f.api.OpenAPI()
		schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
		ids := map[string]int64{"clients": f.clientA.ID, "sites": f.site.ID, "teams": f.teamA.ID, "people": f.personA.ID, "users": f.adminUser.ID}
		checked := 0
		for _, op := range f.api.ops {
			if op.Method != "GET" || op.Response == nil || op.Path == "/openapi.json" {
				continue
			}
			path := op.Path
			if strings.Contains(path, "{id}") {
				first := strings.Split(strings.TrimPrefix(path, "/"), "/")[0]
				id, ok := ids[first]
				if !ok {
					t.Errorf("%s %s: no sample id for %q", op.Method, path, first)
					continue
				}
				path = strings.ReplaceAll(path, "{id}", itoa64(id))
			}
			p := f.admin()
			p.PersonID = f.personA.ID
			req := httptest.NewRequest("GET", Prefix+path, nil)
			req = req.WithContext(withPrincipal(req, p))
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, req)
			if w.Code != op.Status {
				t.Errorf("GET %s = %d, want %d: %s", path, w.Code, op.Status, w.Body)
				continue
			}
			if op.ResponseType == "application/x-ndjson" {
				lines := strings.Split(strings.TrimSpace(w.Body.String()), "\n")
				for i, line := range lines {
					var obj map[string]any
					if err := json.Unmarshal([]byte(line), &obj); err != nil || obj["type"] == nil {
						t.Errorf("GET %s: line %d is not a typed JSON object: %q", path, i+1, line)
					}
				}
				if !strings.Contains(lines[0], `"header"`) || !strings.Contains(lines[len(lines)-1], `"end"`) {
					t.Errorf("GET %s: export lacks header or end line", path)
				}
				checked++
				continue
			}
			var body any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Errorf("GET %s: %v", path, err)
				continue
			}
			sch := schemaOf(doc, op)
			for _, e := range validate(body, sch, schemas, "$") {
				t.Errorf("GET %s: %s", path, e)
			}
			checked++
		}
		if checked < 8 {
			t.Errorf("checked only %d responses", checked)
		}
	})
}

func schemaOf(doc map[string]any, op *operation) map[string]any {
	item := doc["paths"].(map[string]any)[OpenAPIPath(Prefix+op.Path)].(map[string]any)
	o := item[strings.ToLower(op.Method)].(map[string]any)
	resp := o["responses"].(map[string]any)[fmt.Sprint(op.Status)].(map[string]any)
	for _, mt := range resp["content"].(map[string]any) {
		return mt.(map[string]any)["schema"].(map[string]any)
	}
	return nil
}

// validate checks v against a JSON schema of the kinds schemaGen writes.
func validate(v any, sch map[string]any, schemas map[string]any, at string) []string {
	if ref, ok := sch["$ref"].(string); ok {
		return validate(v, schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any), schemas, at)
	}
	if all, ok := sch["allOf"].([]any); ok {
		var out []string
		for _, s := range all {
			out = append(out, validate(v, s.(map[string]any), schemas, at)...)
		}
		return out
	}
	if any_, ok := sch["anyOf"].([]any); ok {
		for _, s := range any_ {
			if len(validate(v, s.(map[string]any), schemas, at)) == 0 {
				return nil
			}
		}
		return []string{at + ": matches none of anyOf"}
	}
	types := map[string]bool{}
	switch t := sch["type"].(type) {
	case string:
		types[t] = true
	case []string:
		for _, x := range t {
			types[x] = true
		}
	case []any:
		for _, x := range t {
			types[x.(string)] = true
		}
	case nil:
		return nil // any
	}
	var got string
	switch v.(type) {
	case nil:
		got = "null"
	case string:
		got = "string"
	case bool:
		got = "boolean"
	case float64:
		got = "number"
		if f := v.(float64); f == float64(int64(f)) {
			got = "integer"
		}
	case []any:
		got = "array"
	case map[string]any:
		got = "object"
	}
	if !types[got] && !(got == "integer" && types["number"]) {
		return []string{fmt.Sprintf("%s: got %s, schema says %v", at, got, sch["type"])}
	}
	var out []string
	switch x := v.(type) {
	case []any:
		items, _ := sch["items"].(map[string]any)
		for i, el := range x {
			out = append(out, validate(el, items, schemas, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case map[string]any:
		props, _ := sch["properties"].(map[string]any)
		req, _ := sch["required"].([]string)
		for _, name := range req {
			if _, ok := x[name]; !ok {
				out = append(out, fmt.Sprintf("%s: required property %q missing", at, name))
			}
		}
		for name, val := range x {
			ps, ok := props[name].(map[string]any)
			if !ok {
				if ap, ok := sch["additionalProperties"].(map[string]any); ok {
					out = append(out, validate(val, ap, schemas, at+"."+name)...)
					continue
				}
				if props != nil {
					out = append(out, fmt.Sprintf("%s: property %q is not in the schema", at, name))
				}
				continue
			}
			out = append(out, validate(val, ps, schemas, at+"."+name)...)
		}
	}
	return out
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIStructure checks rules of OpenAPI 3.1 that a generator can get
// wrong: unique operation ids, every path template parameter declared as a
// required path parameter, every declared path parameter in the template.
func TestOpenAPIStructure(t *testing.T) {
	s := New(Deps{Store: storetest.SQLite(t)})
	doc := s.OpenAPI()
	ids := map[string]string{}
	for path, item := range doc["paths"].(map[string]any) {
		for method, o := range item.(map[string]any) {
			op := o.(map[string]any)
			where := strings.ToUpper(method) + " " + path
			id, _ := op["operationId"].(string)
			if id == "" {
				t.Errorf("%s: no operationId", where)
			} else if prev, dup := ids[id]; dup {
				t.Errorf("operationId %q used by %s and %s", id, prev, where)
			}
			ids[id] = where
			declared := map[string]bool{}
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				pm := p.(map[string]any)
				if pm["in"] == "path" {
					declared[pm["name"].(string)] = true
					if pm["required"] != true {
						t.Errorf("%s: path parameter %v not required", where, pm["name"])
					}
					if !strings.Contains(path, "{"+pm["name"].(string)+"}") {
						t.Errorf("%s: path parameter %v not in the path", where, pm["name"])
					}
				}
			}
			for _, seg := range strings.Split(path, "/") {
				if strings.HasPrefix(seg, "{") && !declared[strings.Trim(seg, "{}")] {
					t.Errorf("%s: path parameter %s not declared", where, seg)
				}
			}
			if _, ok := op["responses"].(map[string]any)["default"]; !ok {
				t.Errorf("%s: no default (problem) response", where)
			}
		}
	}
}

// TestListParameters guards against operations sharing parameter slices.
func TestListParameters(t *testing.T) {
	s := New(Deps{Store: storetest.SQLite(t)})
	want := map[string][]string{
		"/clients": {"q", "limit", "offset", "active"},
		"/teams":   {"q", "limit", "offset", "site_id", "client_id"},
		"/sites":   {"q", "limit", "offset"},
	}
	for _, op := range s.ops {
		names, ok := want[op.Path]
		if !ok || op.Method != "GET" {
			continue
		}
		var got []string
		for _, p := range op.Params {
			got = append(got, p.Name)
		}
		if strings.Join(got, ",") != strings.Join(names, ",") {
			t.Errorf("GET %s parameters = %v, want %v", op.Path, got, names)
		}
	}
}
