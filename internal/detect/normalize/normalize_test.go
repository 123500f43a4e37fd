package normalize

import (
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
	for _, bad := range []string{"sources: [{name: x, logsource: [{vendor: y}]}]", "sources: {", "sources: [{name: x, when: {a: {b: c}}}]"} {
		if _, err := New([]byte(bad)); err == nil {
			t.Errorf("New(%q) succeeded, want an error", bad)
		}
	}
	if len(strings.TrimSpace(string(DefaultMappings()))) == 0 {
		t.Error("embedded mappings are empty")
	}
}
