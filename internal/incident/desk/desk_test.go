package desk

import (
	"testing"
	"time"
)

func TestCanTransition(t *testing.T) {
	for _, c := range []struct {
		from, to string
		ok       bool
	}{
		{StatusNew, StatusTriaged, true}, {StatusTriaged, StatusContained, true}, {StatusContained, StatusRecovered, true},
		{StatusNew, StatusClosed, true}, {StatusRecovered, StatusClosed, true}, {StatusClosed, StatusTriaged, true},
		{StatusContained, StatusTriaged, false}, {StatusClosed, StatusNew, false}, {StatusNew, StatusNew, false},
		{StatusNew, "done", false}, {StatusClosed, StatusContained, false},
	} {
		if got := CanTransition(c.from, c.to); got != c.ok {
			t.Errorf("CanTransition(%s, %s) = %v, want %v", c.from, c.to, got, c.ok)
		}
	}
}

func TestNormalizeObservable(t *testing.T) {
	for _, c := range []struct{ kind, in, want string }{
		{ObsIP, "::ffff:192.0.2.1", "192.0.2.1"},
		{ObsDomain, "Evil.Example.", "evil.example"},
		{ObsURL, "HTTPS://Evil.Example/Login?a=1", "https://evil.example/Login?a=1"},
		{ObsHash, "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"},
		{ObsEmail, "Boss <CEO@Evil.Example>", "ceo@evil.example"},
		{ObsPhone, "0034 (91) 123-45-67", "+34911234567"},
	} {
		got, err := NormalizeObservable(c.kind, c.in)
		if err != nil || got != c.want {
			t.Errorf("NormalizeObservable(%s, %q) = %q, %v; want %q", c.kind, c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ kind, in string }{
		{ObsIP, "1.2.3"}, {ObsDomain, "localhost"}, {ObsURL, "javascript:alert(1)"}, {ObsHash, "xyz"},
		{ObsEmail, "nobody"}, {ObsPhone, "call me"}, {"colour", "red"}, {ObsDomain, "a.example\r\nX: y"},
	} {
		if _, err := NormalizeObservable(c.kind, c.in); err == nil {
			t.Errorf("NormalizeObservable(%s, %q) accepted bad input", c.kind, c.in)
		}
	}
}

func TestBuiltinPlaybooks(t *testing.T) {
	books, err := BuiltinPlaybooks()
	if err != nil {
		t.Fatal(err)
	}
	var list []Playbook
	for _, key := range []string{"phishing", "vishing", "lost_device", "malware", "misdirected_data", "insider_theft", "account_compromise"} {
		b, ok := books[key]
		if !ok {
			t.Fatalf("no built-in playbook %q", key)
		}
		p, err := ParsePlaybook(b)
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, *p)
	}
	if p := PlaybookFor(list, "phishing"); p == nil || p.Key != "phishing" {
		t.Fatalf("PlaybookFor(phishing) = %+v", p)
	}
	if p := PlaybookFor(list, "test"); p != nil {
		t.Fatalf("PlaybookFor(test) = %+v, want none", p)
	}
	if _, err := ParsePlaybook([]byte("key: x\ntitle: X\ncategories: [phishing]\ntasks: [a]\nextra: 1\n")); err == nil {
		t.Fatal("an unknown field was accepted")
	}
	if _, err := ParsePlaybook([]byte("key: x\ntitle: X\ncategories: [nope]\ntasks: [a]\n")); err == nil {
		t.Fatal("an unknown category was accepted")
	}
}

func TestCountdowns(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	ack := t0.Add(10 * time.Minute)
	in := &Incident{Severity: SeverityCritical, CreatedAt: t0, AcknowledgedAt: &ack}
	cs := DefaultSLAs().Countdowns(in, t0.Add(2*time.Hour))
	if !cs[0].Met || cs[0].Breached {
		t.Errorf("ack: %+v, want met", cs[0])
	}
	if !cs[1].Breached || cs[1].Left != -time.Hour {
		t.Errorf("triage: %+v, want breached by 1h", cs[1])
	}
	if cs[2].Breached || cs[2].Left != 2*time.Hour {
		t.Errorf("contain: %+v, want 2h left", cs[2])
	}
	if err := DefaultSLAs().Validate(); err != nil {
		t.Fatal(err)
	}
}

func FuzzParsePlaybook(f *testing.F) {
	books, _ := BuiltinPlaybooks()
	for _, b := range books {
		f.Add(b)
	}
	f.Add([]byte("key: [\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePlaybook(b)
		if err == nil && p.Validate() != nil {
			t.Fatal("ParsePlaybook returned an invalid playbook")
		}
	})
}
