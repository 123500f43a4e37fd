package normalize

import (
	"fmt"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/detect/event"
)

func TestExtraMappings(t *testing.T) {
	extra := []byte(`
sources:
  - name: crm
    when: {_format: json, app: [Salesforce, dynamics]}
    logsource: [{product: crm, service: audit}]
    fields: {User: [actor.email, user], action: event.action}
`)
	n, err := New(extra)
	if err != nil {
		t.Fatal(err)
	}
	e := &event.Event{Format: "json"}
	e.Add("app", "salesforce", event.String)
	e.Add("actor.email", "a@example.com", event.String)
	e.Add("event.action", "export", event.String)
	e.Add("action", "already", event.String)
	n.Apply(e)
	if v, _ := e.Value("User"); v != "a@example.com" {
		t.Errorf("User = %q, want a@example.com", v)
	}
	if v, _ := e.Value("action"); v != "already" {
		t.Errorf("action = %q: a mapping must not overwrite an existing field", v)
	}
	want := event.Logsource{Product: "crm", Service: "audit"}
	found := false
	for _, l := range e.Logsources {
		found = found || l == want
	}
	if !found {
		t.Errorf("logsources = %v, want %v among them", e.Logsources, want)
	}
}

func TestWindowsRouting(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		channel, eid string
		want         event.Logsource
		wantNot      event.Logsource
	}{
		{"Microsoft-Windows-Windows Defender/Operational", "1116", event.Logsource{Product: "windows", Service: "windefend"}, event.Logsource{Product: "windows", Service: "application"}},
		{"Microsoft-Windows-Sysmon/Operational", "1", event.Logsource{Product: "windows", Category: "process_creation"}, event.Logsource{Product: "windows", Category: "network_connection"}},
		{"Security", "4688", event.Logsource{Product: "windows", Category: "process_creation"}, event.Logsource{Product: "windows", Service: "sysmon"}},
		{"Microsoft-Windows-Sysmon/Operational", "3", event.Logsource{Product: "windows", Category: "network_connection"}, event.Logsource{Product: "windows", Category: "process_creation"}},
		// file_access and file_rename come from Security 4663 or the
		// Kernel-File ETW provider, never from any other Windows event.
		{"Microsoft-Windows-Sysmon/Operational", "1", event.Logsource{Product: "windows"}, event.Logsource{Product: "windows", Category: "file_access"}},
		{"Security", "4624", event.Logsource{Product: "windows", Service: "security"}, event.Logsource{Product: "windows", Category: "file_rename"}},
	}
	for _, tt := range tests {
		e := &event.Event{Format: "evtx-json"}
		e.Add("Channel", tt.channel, event.String)
		e.Add("EventID", tt.eid, event.Number)
		n.Apply(e)
		has := func(l event.Logsource) bool {
			for _, x := range e.Logsources {
				if Matches(l, x) {
					return true
				}
			}
			return false
		}
		if !has(tt.want) || has(tt.wantNot) {
			t.Errorf("%s/%s: logsources %v, want %v and not %v", tt.channel, tt.eid, e.Logsources, tt.want, tt.wantNot)
		}
	}
}

func TestBadMappings(t *testing.T) {
	for _, bad := range []string{"sources: [{name: x, logsource: [{vendor: y}]}]", "sources: {", "sources: [{name: x, when: {a: {b: c}}}]", "sources: [{name: x, when: {Channel: []}}]"} {
		if _, err := New([]byte(bad)); err == nil {
			t.Errorf("New(%q) succeeded, want an error", bad)
		}
	}
	if len(strings.TrimSpace(string(DefaultMappings()))) == 0 {
		t.Error("embedded mappings are empty")
	}
}

// TestFileCategories: file_access and file_rename have their own sources.
func TestFileCategories(t *testing.T) {
	for _, tt := range []struct {
		fields map[string]string
		want   event.Logsource
	}{
		{map[string]string{"Channel": "Security", "EventID": "4663", "ObjectType": "File"}, event.Logsource{Product: "windows", Category: "file_access"}},
		{map[string]string{"Provider_Name": "Microsoft-Windows-Kernel-File", "EventID": "19"}, event.Logsource{Product: "windows", Category: "file_rename"}},
	} {
		n, _ := New()
		e := &event.Event{Format: "evtx-json"}
		for _, k := range []string{"Channel", "EventID", "ObjectType", "Provider_Name"} {
			if v, ok := tt.fields[k]; ok {
				e.Add(k, v, event.String)
			}
		}
		n.Apply(e)
		found := false
		for _, l := range e.Logsources {
			found = found || l == tt.want
		}
		if !found {
			t.Errorf("%v: logsources %v, want %v among them", tt.fields, e.Logsources, tt.want)
		}
	}
}

// naiveApply is Apply without the Channel/EventID indexes and the lookup
// cache: every source, in file order.
func naiveApply(n *Normalizer, e *event.Event) {
	for _, s := range n.sources {
		var c lookups
		if s.matches(e, &c) {
			s.apply(e)
		}
	}
}

// TestIndexedApply: the indexed Apply gives every event of every Windows
// route exactly what applying each source in order gives.
func TestIndexedApply(t *testing.T) {
	n, err := New()
	if err != nil {
		t.Fatal(err)
	}
	var events [][][2]string
	for _, s := range n.sources {
		var ch, ids []string
		for _, c := range s.conds {
			switch c.field {
			case "Channel":
				ch = c.values
			case "EventID":
				ids = c.values
			}
		}
		if ch == nil {
			continue
		}
		if ids == nil {
			ids = []string{"1", "4688"}
		}
		for _, c := range ch {
			for _, id := range ids {
				events = append(events, [][2]string{{"Channel", c}, {"EventID", id}, {"ObjectType", "File"}, {"NewProcessName", `C:\x.exe`}, {"User", "u"}})
			}
		}
	}
	events = append(events, [][2]string{{"Provider_Name", "Microsoft-Windows-Kernel-File"}, {"EventID", "12"}},
		[][2]string{{"devname", "fg"}, {"logid", "1"}, {"dstip", "10.0.0.1"}})
	if len(events) < 50 {
		t.Fatalf("only %d events built", len(events))
	}
	for _, fields := range events {
		var a, b event.Event
		for _, e := range []*event.Event{&a, &b} {
			e.Format = "evtx-json"
			for _, kv := range fields {
				e.Add(kv[0], kv[1], event.String)
			}
		}
		n.Apply(&a)
		naiveApply(n, &b)
		if fmt.Sprint(a.Logsources) != fmt.Sprint(b.Logsources) || len(a.Fields) != len(b.Fields) {
			t.Errorf("%v: Apply gives %v (%d fields), each source in order gives %v (%d fields)", fields, a.Logsources, len(a.Fields), b.Logsources, len(b.Fields))
		}
	}
}
