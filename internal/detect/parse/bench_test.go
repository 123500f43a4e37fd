package parse

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/detect/event"
)

func benchLines(n int, f func(i int) string) ([]string, int) {
	lines := make([]string, n)
	total := 0
	for i := range lines {
		lines[i] = f(i)
		total += len(lines[i]) + 1
	}
	return lines, total
}

func syslogLine(i int) string {
	if i%2 == 0 {
		return fmt.Sprintf(`<134>1 2026-11-27T03:04:%02d.%03dZ fw-%02d.cc.example.com firewalld %d - [meta@32473 sequenceId="%d" zone="dmz"] connection from 10.20.%d.%d:%d to 203.0.113.%d:443 allowed by policy web-out`, i%60, i%1000, i%16, 1000+i%5000, i, i%255, (i/255)%255, 40000+i%20000, i%255)
	}
	return fmt.Sprintf(`<38>Nov 27 03:04:%02d ws-agent-%02d sshd[%d]: Accepted publickey for agent%02d from 10.20.%d.%d port %d ssh2: RSA SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEF`, i%60, i%50, 1000+i%5000, i%40, i%255, (i/255)%255, 40000+i%20000)
}

func cefLine(i int) string {
	return fmt.Sprintf(`<134>Nov 27 03:04:%02d av-server CEF:0|Trend Micro|Deep Security Agent|20.0.%d|4000000|Eicar_test_file|6|cn1=%d cn1Label=Host ID dvchost=ws-agent-%02d.cc.example.com act=Quarantine suser=CC\\agent%02d fname=eicar.com filePath=C:\\Users\\agent%02d\\Downloads\\eicar.com msg=Realtime scan detected a threat\=EICAR src=10.20.%d.%d rt=Nov 27 2026 03:04:%02d`, i%60, i%9, i, i%50, i%40, i%40, i%255, (i/255)%255, i%60)
}

func benchParse(b *testing.B, f func(int) string) {
	lines, total := benchLines(4096, f)
	p := NewParser(Auto)
	var e event.Event
	per := total / len(lines)
	b.SetBytes(int64(per))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := p.Parse(lines[i%len(lines)], &e); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0, int64(per)*int64(b.N))
}

// reportCPU reports throughput per CPU second of the process: the
// per-core figure, meaningful on a shared machine.
func reportCPU(b *testing.B, cpu0 time.Duration, bytes int64) {
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(bytes)/1e6/cpu.Seconds(), "MB/cpu-s")
	}
}

// BenchmarkParseSyslog parses RFC 5424 (with structured data) and RFC 3164 lines.
func BenchmarkParseSyslog(b *testing.B) { benchParse(b, syslogLine) }

// BenchmarkParseCEF parses CEF inside RFC 3164 syslog.
func BenchmarkParseCEF(b *testing.B) { benchParse(b, cefLine) }

func evtxLine(i int) string {
	return fmt.Sprintf(`{"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon","Guid":"5770385F-C22A-43E0-BF4C-06F5698FFBD9"}},"EventID":1,"Version":5,"Level":4,"Task":1,"Opcode":0,"Keywords":"0x8000000000000000","TimeCreated":{"#attributes":{"SystemTime":"2026-11-27T03:04:%02d.%06dZ"}},"EventRecordID":%d,"Correlation":null,"Execution":{"#attributes":{"ProcessID":3216,"ThreadID":4012}},"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws-agent-%02d.cc.example.com","Security":{"#attributes":{"UserID":"S-1-5-18"}}},"EventData":{"RuleName":"-","UtcTime":"2026-11-27 03:04:%02d.%03d","ProcessGuid":"{2d6c3a4e-5f6b-6389-1a02-000000001e00}","ProcessId":%d,"Image":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","FileVersion":"10.0.19041.546","Description":"Windows PowerShell","Product":"Microsoft® Windows® Operating System","Company":"Microsoft Corporation","OriginalFileName":"PowerShell.EXE","CommandLine":"powershell.exe -NoProfile -ExecutionPolicy Bypass -File \"C:\\ProgramData\\cc\\agent%02d.ps1\"","CurrentDirectory":"C:\\Windows\\system32\\","User":"CC\\agent%02d","LogonGuid":"{2d6c3a4e-5f6b-6389-e703-000000000000}","LogonId":"0x3e7","TerminalSessionId":0,"IntegrityLevel":"System","Hashes":"SHA256=908B64B1971A979C7E3E8CE4621945CBA84854CB98D76367B791A6E22B5F6D53","ParentProcessGuid":"{2d6c3a4e-5f6b-6389-1902-000000001e00}","ParentProcessId":%d,"ParentImage":"C:\\Windows\\System32\\svchost.exe","ParentCommandLine":"C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule","ParentUser":"NT AUTHORITY\\SYSTEM"}}}`,
		i%60, i%1000000, 100000+i, i%50, i%60, i%1000, 1000+i%5000, i%40, i%40, 900+i%100)
}

// BenchmarkParseEvtxJSON parses Sysmon process-creation events exported by
// an evtx-to-JSON tool (about 1.9 KB each, with escaped paths).
func BenchmarkParseEvtxJSON(b *testing.B) { benchParse(b, evtxLine) }

// BenchmarkReadAndParse streams a 64 MiB syslog/CEF mix through Reader and
// Parser; memory stays flat (reported as heap-MB after the run).
func BenchmarkReadAndParse(b *testing.B) {
	lines, _ := benchLines(4096, func(i int) string {
		if i%2 == 0 {
			return syslogLine(i)
		}
		return cefLine(i)
	})
	text := strings.Join(lines, "\n") + "\n"
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		r := NewReader(strings.NewReader(text))
		p := NewParser(Auto)
		var e event.Event
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			if err := p.Parse(string(rec), &e); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportCPU(b, cpu0, int64(len(text))*int64(b.N))
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/1e6, "heap-MB")
}

func TestBenchLinesParse(t *testing.T) {
	for i := 0; i < 100; i++ {
		for _, l := range []string{syslogLine(i), cefLine(i)} {
			var e event.Event
			if err := NewParser(Auto).Parse(l, &e); err != nil {
				t.Fatalf("Parse(%q): %v", l, err)
			}
		}
	}
}

// TestEvtxBenchLine: the benchmark's event parses as the Windows event it is.
func TestEvtxBenchLine(t *testing.T) {
	var e event.Event
	if err := NewParser(Auto).Parse(evtxLine(1), &e); err != nil {
		t.Fatal(err)
	}
	if e.Format != string(EvtxJSON) {
		t.Fatalf("format %q", e.Format)
	}
	for name, want := range map[string]string{
		"EventID":       "1",
		"Channel":       "Microsoft-Windows-Sysmon/Operational",
		"Provider_Name": "Microsoft-Windows-Sysmon",
		"CommandLine":   `powershell.exe -NoProfile -ExecutionPolicy Bypass -File "C:\ProgramData\cc\agent01.ps1"`,
		"ParentImage":   `C:\Windows\System32\svchost.exe`,
	} {
		if v, _ := e.Value(name); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
}
