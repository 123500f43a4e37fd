package parse

import (
	"strings"

	"github.com/custodia/custodia/internal/detect/event"
)

// evtxShortName returns the Sigma name of a dotted evtx-to-JSON path:
// System children by name (EventID, Channel, Computer…), XML attributes as
// Tag_Attribute (Provider_Name, Execution_ProcessID…), EventData fields and
// UserData leaves by their own name. ok is false for paths without one.
func evtxShortName(name string) (string, bool) {
	switch {
	case strings.HasPrefix(name, "Event.System."):
		rest := name[len("Event.System."):]
		if tag, attr, ok := strings.Cut(rest, ".#attributes."); ok {
			if strings.Contains(tag, ".") || strings.Contains(attr, ".") {
				return "", false
			}
			return tag + "_" + attr, true
		}
		rest = strings.TrimSuffix(rest, ".#text")
		if rest == "" || strings.Contains(rest, ".") {
			return "", false
		}
		return rest, true
	case strings.HasPrefix(name, "Event.EventData."):
		rest := name[len("Event.EventData."):]
		if strings.HasPrefix(rest, "#") || strings.Contains(rest, ".") {
			return "", false // attributes, or nested data handled by addNamedData
		}
		return rest, true
	case strings.HasPrefix(name, "Event.UserData."):
		rest := name[len("Event.UserData."):]
		if i := strings.LastIndexByte(rest, '.'); i >= 0 {
			rest = rest[i+1:]
		}
		if rest == "" || rest[0] == '#' {
			return "", false
		}
		return rest, true
	}
	return "", false
}

// addEvtxNames renames the fields of a Windows event exported by an
// evtx-to-JSON tool to their Sigma names (see evtxShortName). The dotted
// originals stay addressable: Event.Get resolves them through the event's
// Resolve function. If two paths share a Sigma name, the first (System
// before EventData) answers to it.
func (p *Parser) addEvtxNames(e *event.Event) {
	if p.evtxNames == nil {
		p.evtxNames = make(map[string]string, 128)
	}
	for i := range e.Fields {
		f := &e.Fields[i]
		var short string
		if i < len(p.evtxLast) && p.evtxLast[i].from == f.Name {
			short = p.evtxLast[i].to // same shape as the previous event
		} else {
			var ok bool
			short, ok = p.evtxNames[f.Name]
			if !ok {
				short, _ = evtxShortName(f.Name)
				if len(p.evtxNames) < maxInterned {
					p.evtxNames[f.Name] = short
				}
			}
			if i < len(p.evtxLast) {
				p.evtxLast[i] = rename{f.Name, short}
			} else if i == len(p.evtxLast) && i < maxPositions {
				p.evtxLast = append(p.evtxLast, rename{f.Name, short})
			}
		}
		if short == "" {
			continue
		}
		f.Name = short
		if short == "TimeCreated_SystemTime" {
			if t, ok := parseTimestamp(f.Value); ok {
				e.Time = t
			}
		}
	}
	e.Reindex()
	addNamedData(e)
	if i := e.Index("Provider_Name"); i >= 0 {
		e.Alias("Provider", i)
	}
	e.Resolve = resolveEvtx
}

// rename is one remembered evtx field renaming.
type rename struct{ from, to string }

// resolveEvtx maps a dotted evtx path to the field name it was renamed to.
func resolveEvtx(name string) string {
	if short, ok := evtxShortName(name); ok {
		return short
	}
	return ""
}

// addNamedData handles exporters that keep EventData as a list of
// <Data Name="X">value</Data> elements ({"Data":[{"@Name":"X","#text":"v"}]}
// or with "#attributes":{"Name":"X"}): each becomes a field X.
func addNamedData(e *event.Event) {
	n := len(e.Fields)
	for i := 0; i < n; i++ {
		name := e.Fields[i].Name
		if !strings.HasPrefix(name, "Event.EventData.Data") {
			continue
		}
		var base string
		switch {
		case strings.HasSuffix(name, ".@Name"):
			base = strings.TrimSuffix(name, ".@Name")
		case strings.HasSuffix(name, ".#attributes.Name"):
			base = strings.TrimSuffix(name, ".#attributes.Name")
		default:
			continue
		}
		field := e.Fields[i].Value
		if field == "" {
			continue
		}
		if j := e.Index(base + ".#text"); j >= 0 {
			e.Alias(field, j)
		} else if e.Get(field) == nil {
			e.Add(field, "", event.String)
		}
	}
}
