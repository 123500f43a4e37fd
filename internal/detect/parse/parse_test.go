package parse

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/detect/event"
)

func fixedNow() time.Time { return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }

func parseWith(t *testing.T, f Format, line string) *event.Event {
	t.Helper()
	p := &Parser{Format: f, Now: fixedNow}
	e := &event.Event{}
	if err := p.Parse(line, e); err != nil {
		t.Fatalf("Parse(%q) error: %v", line, err)
	}
	return e
}

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		line   string
		want   map[string]string
		fmt    string
		time   string
	}{
		{"rfc5424 sd", Auto, `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Appl\"ication" eventID="1011"] An application event`,
			map[string]string{"syslog.hostname": "mymachine.example.com", "syslog.appname": "evntslog", "syslog.msgid": "ID47", "exampleSDID@32473.iut": "3", "eventSource": `Appl"ication`, "message": "An application event", "syslog.facility": "local4", "syslog.severity": "notice"},
			"syslog", "2003-10-11T22:14:15.003Z"},
		{"rfc5424 nil sd", Auto, `<34>1 2026-01-02T03:04:05+01:00 host app 123 - - hello`,
			map[string]string{"syslog.procid": "123", "message": "hello"}, "syslog", "2026-01-02T02:04:05Z"},
		{"rfc3164", Auto, `<34>Oct 11 22:14:15 mymachine su[42]: 'su root' failed for lonvick on /dev/pts/8`,
			map[string]string{"syslog.hostname": "mymachine", "syslog.appname": "su", "syslog.procid": "42", "message": "'su root' failed for lonvick on /dev/pts/8"}, "syslog", "2025-10-11T22:14:15Z"},
		{"rfc3164 no hostname", Auto, `<13>Feb  5 17:32:18 sshd: Accepted password for bob`,
			map[string]string{"syslog.appname": "sshd", "message": "Accepted password for bob"}, "syslog", "2026-02-05T17:32:18Z"},
		{"rfc3164 iso", Auto, `<13>2026-02-05T17:32:18Z fw01 kernel: drop`,
			map[string]string{"syslog.hostname": "fw01", "syslog.appname": "kernel", "message": "drop"}, "syslog", "2026-02-05T17:32:18Z"},
		{"rfc3164 no pri", Auto, `Feb  5 17:32:18 host cron[1]: job`,
			map[string]string{"syslog.hostname": "host", "syslog.appname": "cron"}, "syslog", ""},
		{"cef bare", Auto, `CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232 msg=Detected a threat\=yes. No action needed cs1Label=Policy cs1=Block all`,
			map[string]string{"deviceVendor": "Security", "signatureId": "100", "severity": "10", "src": "10.0.0.1", "dst": "2.1.2.2", "spt": "1232", "msg": "Detected a threat=yes. No action needed", "Policy": "Block all"}, "cef", ""},
		{"cef header escape", Auto, `CEF:0|Vendor\|X|Prod\\uct|1|sig|name|5|`,
			map[string]string{"deviceVendor": "Vendor|X", "deviceProduct": `Prod\uct`}, "cef", ""},
		{"cef in syslog", Auto, `<134>Feb 14 19:04:54 host CEF:0|Trend Micro|Deep Security Agent|10|4000000|Eicar_test_file|6|cn1=1 act=deny suser=alice`,
			map[string]string{"syslog.hostname": "host", "deviceProduct": "Deep Security Agent", "act": "deny", "suser": "alice"}, "cef", ""},
		{"leef1", Auto, "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1\tsev=5\tusrName=joe.black",
			map[string]string{"deviceVendor": "Microsoft", "eventId": "15345", "src": "192.0.2.0", "usrName": "joe.black"}, "leef", ""},
		{"leef2 hex delim", Auto, "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5",
			map[string]string{"deviceProduct": "StealthWatch", "src": "10.0.1.8", "dst": "10.0.0.5"}, "leef", ""},
		{"leef2 x5E", Auto, "LEEF:2.0|V|P|1.0|41|x5E|src=10.0.1.8^dst=10.0.0.5",
			map[string]string{"src": "10.0.1.8", "dst": "10.0.0.5"}, "leef", ""},
		{"kv fortigate", Auto, `date=2026-01-02 time=03:04:05 devname="FG-1" logid="0000000013" type="traffic" srcip=10.1.1.1 dstip=8.8.8.8 dstport=53 action="accept" msg="a \"quoted\" word"`,
			map[string]string{"devname": "FG-1", "srcip": "10.1.1.1", "dstport": "53", "action": "accept", "msg": `a "quoted" word`}, "kv", ""},
		{"kv in syslog", Auto, `<189>date=2026-01-02 time=03:04:05 devname=FG logid=1 srcip=1.2.3.4`,
			map[string]string{"devname": "FG", "srcip": "1.2.3.4"}, "kv", ""},
		{"json nested", Auto, `{"a":{"b":"c","n":5,"t":true,"z":null},"list":["x","y"],"objs":[{"k":"v"}],"esc":"q\"\u00e9\ud83d\ude00"}`,
			map[string]string{"a.b": "c", "a.n": "5", "a.t": "true", "list": "x y", "objs.0.k": "v", "esc": "q\"é😀"}, "json", ""},
		{"evtx", Auto, `{"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"5770385F"}},"EventID":1,"Level":4,"TimeCreated":{"#attributes":{"SystemTime":"2026-01-02T03:04:05.123456Z"}},"Execution":{"#attributes":{"ProcessID":3000}},"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WS1"},"EventData":{"Image":"C:\\Windows\\System32\\cmd.exe","CommandLine":"cmd /c whoami"}}}`,
			map[string]string{"EventID": "1", "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "WS1", "Provider_Name": "Microsoft-Windows-Sysmon", "Execution_ProcessID": "3000", "Image": `C:\Windows\System32\cmd.exe`, "CommandLine": "cmd /c whoami", "Event.System.Computer": "WS1"},
			"evtx-json", "2026-01-02T03:04:05.123456Z"},
		{"evtx eventid text", Auto, `{"Event":{"System":{"EventID":{"#text":4625,"#attributes":{"Qualifiers":""}},"Channel":"Security"},"EventData":{"TargetUserName":"bob"}}}`,
			map[string]string{"EventID": "4625", "EventID_Qualifiers": "", "TargetUserName": "bob"}, "evtx-json", ""},
		{"evtx named data", Auto, `{"Event":{"System":{"EventID":4688,"Channel":"Security"},"EventData":{"Data":[{"@Name":"NewProcessName","#text":"C:\\x.exe"},{"#attributes":{"Name":"CommandLine"},"#text":"x -a"}]}}}`,
			map[string]string{"EventID": "4688", "NewProcessName": `C:\x.exe`, "CommandLine": "x -a"}, "evtx-json", ""},
		{"eve", Auto, `{"timestamp":"2026-01-02T03:04:05.000000+0000","flow_id":1,"event_type":"alert","src_ip":"10.0.0.1","dest_ip":"10.0.0.2","dest_port":443,"alert":{"signature":"ET X"}}`,
			map[string]string{"alert.signature": "ET X", "dest_port": "443"}, "eve", "2026-01-02T03:04:05Z"},
		{"text", Auto, `just some words`, map[string]string{"message": "just some words"}, "text", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parseWith(t, tt.format, tt.line)
			for k, want := range tt.want {
				if got, ok := e.Value(k); !ok || got != want {
					t.Errorf("field %q = %q (present %v), want %q", k, got, ok, want)
				}
			}
			if e.Format != tt.fmt {
				t.Errorf("Format = %q, want %q", e.Format, tt.fmt)
			}
			if tt.time != "" {
				want, _ := time.Parse(time.RFC3339Nano, tt.time)
				if !e.Time.Equal(want) {
					t.Errorf("Time = %v, want %v", e.Time, want)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		format Format
		line   string
		want   string
	}{
		{Auto, `{"a":`, "json"},
		{Auto, `{"a":"b"} trailing`, "trailing"},
		{Auto, `<999>x`, "PRI"},
		{Auto, `CEF:0|a|b`, "header"},
		{Auto, "LEEF:1.0|a", "header"},
		{KV, `a=1 b`, "not key=value"},
		{Auto, `<165>1 2003-10-11T22:14:15Z host app - ID [sd a="x`, "unterminated"},
		{Auto, `{"a":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`, "deeper"},
	}
	for _, tt := range tests {
		p := &Parser{Format: tt.format, Now: fixedNow}
		err := p.Parse(tt.line, &event.Event{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v, want it to mention %q", tt.line, err, tt.want)
		}
	}
}

func TestReaderFraming(t *testing.T) {
	in := "first line\r\n" + "27 <34>1 - h a - - - two\nlines" + "\n" + "third\n" + strings.Repeat("x", MaxRecord+10) + "\nlast"
	r := NewReader(strings.NewReader(in))
	var got []string
	var tooLong int
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, ErrRecordTooLong) {
			tooLong++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(rec))
	}
	want := []string{"first line", "<34>1 - h a - - - two\nlines", "third", "last"}
	if strings.Join(got, "|") != strings.Join(want, "|") || tooLong != 1 {
		t.Errorf("records = %q (too long %d), want %q and 1", got, tooLong, want)
	}
}

func TestBoundedFields(t *testing.T) {
	e := parseWith(t, Auto, `{"big":"`+strings.Repeat("a", 2*MaxFieldLen)+`"}`)
	if v, _ := e.Value("big"); len(v) != MaxFieldLen {
		t.Errorf("len(big) = %d, want %d", len(v), MaxFieldLen)
	}
}

func TestFastRFC3339(t *testing.T) {
	for _, s := range []string{"2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123456789+02:00", "2026-01-02 03:04:05.5-0130", "2026-12-31T23:59:59,25Z"} {
		got, ok := fastRFC3339(s)
		if !ok {
			t.Errorf("fastRFC3339(%q) failed", s)
			continue
		}
		var want time.Time
		for _, l := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z0700"} {
			if w, err := time.Parse(l, strings.Replace(s, ",", ".", 1)); err == nil {
				want = w
			}
		}
		if !got.Equal(want) {
			t.Errorf("fastRFC3339(%q) = %v, want %v", s, got, want)
		}
	}
	for _, s := range []string{"2026-13-02T03:04:05Z", "2026-01-02T03:04:05+2", "x026-01-02T03:04:05Z", "2026-01-02T03:04:05."} {
		if _, ok := fastRFC3339(s); ok {
			t.Errorf("fastRFC3339(%q) accepted", s)
		}
	}
}

// TestCEFEscapedValues: escaped extension values and labels with escapes
// get their unescaped text.
func TestCEFEscapedValues(t *testing.T) {
	var e event.Event
	p := NewParser(CEF)
	err := p.Parse(`CEF:0|V|P|1|2|N|3|fname=a\=b.exe cs1Label=Rule\\Name cs1=x\\y msg=line1\nline2 suser=CC\\agent01`, &e)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"fname": "a=b.exe", "cs1Label": `Rule\Name`, "cs1": `x\y`, `Rule\Name`: `x\y`, "msg": "line1\nline2", "suser": `CC\agent01`} {
		if v, ok := e.Value(name); !ok || v != want {
			t.Errorf("%s = %q (%v), want %q", name, v, ok, want)
		}
	}
}
