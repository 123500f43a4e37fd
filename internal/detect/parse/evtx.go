package parse

import (
	"strings"

	"github.com/custodia/custodia/internal/detect/event"
)

// addEvtxNames adds the Sigma field names of a Windows event exported by an
// evtx-to-JSON tool: System children by name (EventID, Channel, Computer…),
// XML attributes as Tag_Attribute (Provider_Name, Execution_ProcessID…),
// and every EventData and UserData field by its own name. The dotted
// originals stay addressable.
func addEvtxNames(e *event.Event) {
	n := len(e.Fields)
	for i := 0; i < n; i++ {
		f := &e.Fields[i]
		name := f.Name
		switch {
		case strings.HasPrefix(name, "Event.System."):
			rest := name[len("Event.System."):]
			tag, attr, hasAttr := strings.Cut(rest, ".#attributes.")
			switch {
			case hasAttr:
				// Provider.#attributes.Name → Provider_Name; also Provider.Name.
				e.Alias(tag+"_"+attr, f)
				if tag == "Provider" && attr == "Name" {
					e.Alias("Provider", &e.Fields[i])
				}
				if tag == "TimeCreated" && attr == "SystemTime" {
					if t, ok := parseTimestamp(f.Value); ok {
						e.Time = t
					}
				}
			case strings.HasSuffix(rest, ".#text"):
				e.Alias(strings.TrimSuffix(rest, ".#text"), f)
			case !strings.Contains(rest, "."):
				e.Alias(rest, f)
			}
		case strings.HasPrefix(name, "Event.EventData."):
			rest := name[len("Event.EventData."):]
			if strings.Contains(rest, "#attributes") {
				continue
			}
			e.Alias(rest, f)
		case strings.HasPrefix(name, "Event.UserData."):
			rest := name[len("Event.UserData."):]
			if i := strings.LastIndexByte(rest, '.'); i >= 0 {
				rest = rest[i+1:]
			}
			if rest != "" && rest[0] != '#' {
				e.Alias(rest, f)
			}
		}
	}
}
