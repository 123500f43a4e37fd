package clock

import (
	"testing"
	"time"
)

var aware = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func byID(cs []Clock) map[string]Clock {
	m := map[string]Clock{}
	for _, c := range cs {
		m[c.ID] = c
	}
	return m
}

func TestBreachTwoClients(t *testing.T) {
	in := Incident{
		AwareAt:            aware,
		PersonalDataBreach: true,
		Clients: []Client{
			{ID: "acme", Name: "Acme Seguros", NotifyWithin: 24 * time.Hour},
			{ID: "bnk", Name: "Banco Norte", NotifyWithin: 48 * time.Hour},
		},
	}
	cs := Compute(in, Policy{}, aware.Add(time.Hour))
	var aepd, clients int
	for _, c := range cs {
		switch c.Kind {
		case GDPRAuthority:
			aepd++
		case GDPRController:
			clients++
		}
	}
	if aepd != 1 || clients != 2 {
		t.Fatalf("AEPD clocks = %d, client clocks = %d, want 1 and 2", aepd, clients)
	}
	m := byID(cs)
	for id, want := range map[string]time.Time{
		"gdpr_art33_authority":         aware.Add(72 * time.Hour),
		"gdpr_art33_2_controller:acme": aware.Add(24 * time.Hour),
		"gdpr_art33_2_controller:bnk":  aware.Add(48 * time.Hour),
		"gdpr_art34_decision":          aware.Add(72 * time.Hour),
	} {
		c, ok := m[id]
		if !ok {
			t.Errorf("clock %s missing", id)
			continue
		}
		if !c.Deadline.Equal(want) || c.State != Running {
			t.Errorf("clock %s = deadline %v state %s, want %v running", id, c.Deadline, c.State, want)
		}
	}
	if m["gdpr_art33_authority"].Recipient != "AEPD" || m["gdpr_art33_2_controller:bnk"].Recipient != "Banco Norte" {
		t.Errorf("recipients = %q, %q", m["gdpr_art33_authority"].Recipient, m["gdpr_art33_2_controller:bnk"].Recipient)
	}
	if !cs[0].Deadline.Equal(aware.Add(24 * time.Hour)) {
		t.Errorf("clocks not ordered by deadline: first = %s", cs[0].ID)
	}
}

func TestStates(t *testing.T) {
	dl := aware.Add(72 * time.Hour)
	tests := []struct {
		name string
		sub  *Submission
		now  time.Time
		want State
	}{
		{"running", nil, aware.Add(time.Hour), Running},
		{"missed", nil, dl.Add(time.Minute), Missed},
		{"met", &Submission{At: dl.Add(-time.Hour)}, dl.Add(time.Hour), Met},
		{"met at deadline", &Submission{At: dl}, dl.Add(time.Hour), Met},
		{"late with reasons", &Submission{At: dl.Add(time.Hour), LateReason: "forensics pending"}, dl.Add(2 * time.Hour), Late},
		{"late without reasons", &Submission{At: dl.Add(time.Hour)}, dl.Add(2 * time.Hour), Missed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Incident{AwareAt: aware, PersonalDataBreach: true, Submitted: map[string]Submission{}}
			if tt.sub != nil {
				in.Submitted["gdpr_art33_authority"] = *tt.sub
			}
			c := byID(Compute(in, Policy{}, tt.now))["gdpr_art33_authority"]
			if c.State != tt.want {
				t.Errorf("State = %s, want %s", c.State, tt.want)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	c := byID(Compute(Incident{AwareAt: aware, PersonalDataBreach: true}, Policy{}, aware))["gdpr_art33_authority"]
	want := []Warning{{"50%", aware.Add(36 * time.Hour)}, {"75%", aware.Add(54 * time.Hour)}, {"2h", aware.Add(70 * time.Hour)}}
	if len(c.Warnings) != len(want) {
		t.Fatalf("Warnings = %v, want %v", c.Warnings, want)
	}
	for i := range want {
		if c.Warnings[i].Label != want[i].Label || !c.Warnings[i].At.Equal(want[i].At) {
			t.Errorf("Warnings[%d] = %v, want %v", i, c.Warnings[i], want[i])
		}
	}
	if got := c.DueWarnings(aware.Add(55 * time.Hour)); len(got) != 2 {
		t.Errorf("DueWarnings(+55h) = %v, want 50%% and 75%%", got)
	}
	if got := c.Remaining(aware.Add(71 * time.Hour)); got != time.Hour {
		t.Errorf("Remaining(+71h) = %v, want 1h", got)
	}
}

func TestNIS2(t *testing.T) {
	sent := aware.Add(60 * time.Hour)
	in := Incident{AwareAt: aware, NIS2: true, Submitted: map[string]Submission{"nis2_notification": {At: sent}}}
	m := byID(Compute(in, Policy{}, aware.Add(70*time.Hour)))
	if c := m["nis2_early_warning"]; !c.Deadline.Equal(aware.Add(24*time.Hour)) || c.State != Missed {
		t.Errorf("early warning = %v %s, want +24h missed", c.Deadline, c.State)
	}
	if c := m["nis2_notification"]; c.State != Met {
		t.Errorf("notification state = %s, want met", c.State)
	}
	if c := m["nis2_final_report"]; !c.Deadline.Equal(sent.AddDate(0, 1, 0)) {
		t.Errorf("final report deadline = %v, want %v", c.Deadline, sent.AddDate(0, 1, 0))
	}
	// Before the notification is sent, the final report counts from its deadline.
	in.Submitted = nil
	m = byID(Compute(in, Policy{}, aware))
	if c := m["nis2_final_report"]; !c.Deadline.Equal(aware.Add(72*time.Hour).AddDate(0, 1, 0)) {
		t.Errorf("provisional final deadline = %v", c.Deadline)
	}
}

func TestENS(t *testing.T) {
	for lvl, want := range map[DangerLevel]time.Duration{LevelBajo: 0, LevelMedio: 0, LevelAlto: 24 * time.Hour, LevelMuyAlto: 12 * time.Hour, LevelCritico: 4 * time.Hour} {
		c, ok := byID(Compute(Incident{AwareAt: aware, ENSLevel: lvl}, Policy{}, aware))["ens_ccn_cert"]
		if want == 0 {
			if ok {
				t.Errorf("level %s started an ENS clock", lvl)
			}
			continue
		}
		if !ok || !c.Deadline.Equal(aware.Add(want)) {
			t.Errorf("level %s deadline = %v (present %v), want +%v", lvl, c.Deadline, ok, want)
		}
	}
}

func TestDORA(t *testing.T) {
	clients := []Client{{ID: "bnk", Name: "Banco Norte", Financial: true}, {ID: "shop", Name: "Shop"}}
	tests := []struct {
		name    string
		majorAt time.Time
		want    time.Time
	}{
		{"classified early: 4 h after classification", aware.Add(2 * time.Hour), aware.Add(6 * time.Hour)},
		{"classified late: capped at 24 h from awareness", aware.Add(22 * time.Hour), aware.Add(24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := byID(Compute(Incident{AwareAt: aware, MajorAt: tt.majorAt, Clients: clients}, Policy{}, aware))
			if c := m["dora_initial:bnk"]; !c.Deadline.Equal(tt.want) {
				t.Errorf("initial deadline = %v, want %v", c.Deadline, tt.want)
			}
			if _, ok := m["dora_initial:shop"]; ok {
				t.Errorf("a non-financial client started a DORA clock")
			}
			if c := m["dora_intermediate:bnk"]; !c.Deadline.Equal(tt.want.Add(72 * time.Hour)) {
				t.Errorf("intermediate deadline = %v", c.Deadline)
			}
			if c := m["dora_final:bnk"]; !c.Deadline.Equal(tt.want.Add(72*time.Hour).AddDate(0, 1, 0)) {
				t.Errorf("final deadline = %v", c.Deadline)
			}
		})
	}
	if cs := Compute(Incident{AwareAt: aware, Clients: clients}, Policy{}, aware); len(cs) != 0 {
		t.Errorf("not major: clocks = %v, want none", cs)
	}
}

func TestDefaultClientDeadline(t *testing.T) {
	c := byID(Compute(Incident{AwareAt: aware, PersonalDataBreach: true, Clients: []Client{{ID: "x", Name: "X"}}}, Policy{DefaultClientHours: 36 * time.Hour}, aware))["gdpr_art33_2_controller:x"]
	if !c.Deadline.Equal(aware.Add(36*time.Hour)) || len(c.Notes) == 0 {
		t.Errorf("default client clock = %v %v, want +36h with a note", c.Deadline, c.Notes)
	}
}
