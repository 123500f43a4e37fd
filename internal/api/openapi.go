package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/problem"
)

// OpenAPI returns the OpenAPI 3.1 document of the API, generated from the
// declared operations and the Go types of their bodies.
func (s *Server) OpenAPI() map[string]any {
	g := &schemaGen{components: map[string]any{}, seen: map[reflect.Type]string{}}
	problemRef := g.schema(reflect.TypeFor[problem.Details]())
	paths := map[string]any{}
	for _, op := range s.ops {
		path := OpenAPIPath(Prefix + op.Path)
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		o := map[string]any{
			"operationId":       op.ID,
			"summary":           op.Summary,
			"tags":              []string{op.Tag},
			"description":       policyDescription(op.Policy),
			"x-custodia-policy": op.Policy.String(),
		}
		if op.Policy.Access == authz.AccessPublic {
			o["security"] = []any{}
		}
		var params []any
		for _, p := range op.Params {
			params = append(params, map[string]any{
				"name": p.Name, "in": p.In, "required": p.Required || p.In == "path",
				"description": p.Doc, "schema": map[string]any{"type": p.Type},
			})
		}
		if len(params) > 0 {
			o["parameters"] = params
		}
		switch {
		case op.RequestCSV:
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"text/csv": map[string]any{"schema": map[string]any{"type": "string"}},
			}}
		case op.Request != nil:
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(op.Request))},
			}}
		}
		responses := map[string]any{}
		okResp := map[string]any{"description": http.StatusText(op.Status)}
		if op.Response != nil {
			mt := op.ResponseType
			if mt == "" {
				mt = "application/json"
			}
			okResp["content"] = map[string]any{mt: map[string]any{"schema": g.schema(reflect.TypeOf(op.Response))}}
		}
		responses[itoa(op.Status)] = okResp
		problemResp := func(desc string) map[string]any {
			return map[string]any{"description": desc, "content": map[string]any{problem.ContentType: map[string]any{"schema": problemRef}}}
		}
		if op.Policy.Access != authz.AccessPublic {
			responses["401"] = problemResp("Not signed in, or the API token is invalid.")
			responses["403"] = problemResp("The caller's role does not allow this.")
		}
		if strings.Contains(op.Path, "{") {
			responses["404"] = problemResp("No such resource in the caller's scope.")
		}
		if op.Request != nil || op.RequestCSV || len(op.Params) > 0 {
			responses["400"] = problemResp("Malformed request.")
			responses["422"] = problemResp("Invalid fields; see errors.")
		}
		if op.Request != nil || op.RequestCSV {
			responses["413"] = problemResp("Request body too large.")
		}
		responses["default"] = problemResp("Error.")
		o["responses"] = responses
		item[strings.ToLower(op.Method)] = o
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Custodia API",
			"version":     s.version,
			"description": "JSON API of Custodia. Authenticate with an API token (Authorization: Bearer …) or a console session. Errors are RFC 9457 problem documents; lists take limit and offset.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": g.components,
			"securitySchemes": map[string]any{
				"token":   map[string]any{"type": "http", "scheme": "bearer", "description": "An API token created in the console or with POST /api/v1/tokens."},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "custodia_session", "description": "A console session; state-changing requests also need the X-CSRF-Token header."},
			},
		},
		"security": []any{map[string]any{"token": []string{}}, map[string]any{"session": []string{}}},
	}
}

// OpenAPIPath turns a ServeMux path into an OpenAPI path: "{$}" (exact
// match) disappears, "{name...}" becomes "{name}".
func OpenAPIPath(p string) string {
	p = strings.ReplaceAll(p, "{$}", "")
	return strings.ReplaceAll(p, "...}", "}")
}

func policyDescription(p authz.Policy) string {
	switch p.Access {
	case authz.AccessPublic:
		return "No authentication required."
	case authz.AccessAuthenticated:
		return "Any signed-in user or API token."
	}
	roles := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = string(r)
	}
	d := "Roles: " + strings.Join(roles, ", ") + "."
	if p.ClientScoped {
		d += " Limited to the caller's clients (others are 404)."
	}
	return d
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func (s *Server) openAPIHandler(w http.ResponseWriter, r *http.Request) error {
	b, err := json.MarshalIndent(s.OpenAPI(), "", "  ")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b)
	return nil
}

// schemaGen builds JSON Schemas (OpenAPI 3.1 dialect) from Go types: named
// structs become components, a field is required unless its json tag says
// omitempty or omitzero, and pointers may be null.
type schemaGen struct {
	components map[string]any
	seen       map[reflect.Type]string
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	rawJSONType = reflect.TypeFor[json.RawMessage]()
	genericName = regexp.MustCompile(`^([A-Za-z0-9_]+)\[(?:.*[./])?([A-Za-z0-9_]+)\]$`)
)

// ComponentName is the schema name for a named Go type: its name, with
// generic lists named after their element (List[org.Person] → PersonList).
func ComponentName(t reflect.Type) string {
	name := t.Name()
	if m := genericName.FindStringSubmatch(name); m != nil {
		return m[2] + m[1]
	}
	return name
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case rawJSONType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		inner := g.schema(t.Elem())
		if typ, ok := inner["type"].(string); ok {
			out := map[string]any{}
			for k, v := range inner {
				out[k] = v
			}
			out["type"] = []string{typ, "null"}
			return out
		}
		return map[string]any{"anyOf": []any{inner, map[string]any{"type": "null"}}}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return map[string]any{"type": "integer"}
	case reflect.Int64, reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		name := ComponentName(t)
		if prev, ok := g.seen[t]; ok {
			return map[string]any{"$ref": "#/components/schemas/" + prev}
		}
		for other, n := range g.seen { // two types with the same name: qualify
			if n == name && other != t {
				name = strings.ReplaceAll(t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:], ".", "") + name
			}
		}
		g.seen[t] = name
		g.components[name] = map[string]any{} // placeholder for recursion
		g.components[name] = g.object(t)
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// object describes a struct's JSON fields (embedded structs flattened).
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			sch := g.schema(f.Type)
			if doc := f.Tag.Get("doc"); doc != "" {
				if _, isRef := sch["$ref"]; isRef {
					sch = map[string]any{"allOf": []any{sch}, "description": doc}
				} else {
					sch["description"] = doc
				}
			}
			props[name] = sch
			optional := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
			if !optional {
				required = append(required, name)
			}
		}
	}
	walk(t)
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		sort.Strings(required)
		out["required"] = required
	}
	return out
}

// CheckDocument reports every /api/ route registered in r that the
// document lacks and every operation of the document that is not registered.
// The server's full-handler test calls it too, so routes registered by other
// packages are covered.
func CheckDocument(routes []authz.Route, doc map[string]any) []string {
	var problems []string
	paths, _ := doc["paths"].(map[string]any)
	registered := map[string]bool{}
	for _, rt := range routes {
		if !rt.API() {
			continue
		}
		key := strings.ToLower(rt.Method) + " " + OpenAPIPath(rt.Path)
		registered[key] = true
		item, _ := paths[OpenAPIPath(rt.Path)].(map[string]any)
		if _, ok := item[strings.ToLower(rt.Method)]; !ok {
			problems = append(problems, fmt.Sprintf("route %s is registered but not in the OpenAPI document", rt.Pattern))
		}
	}
	for path, item := range paths {
		for method := range item.(map[string]any) {
			if !registered[method+" "+path] {
				problems = append(problems, fmt.Sprintf("the OpenAPI document names %s %s, which is not registered", strings.ToUpper(method), path))
			}
		}
	}
	sort.Strings(problems)
	return problems
}
