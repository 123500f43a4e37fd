package posture

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// evalRule parses one rule in dialect regex and evaluates it on th.
func evalRule(t *testing.T, h *Host, regex, rule string) Evidence {
	t.Helper()
	rp := ruleParser{regex: regex}
	r, err := rp.parse(rule)
	if err != nil {
		t.Fatalf("parse(%q): %v", rule, err)
	}
	return NewRun(h).rule(context.Background(), r)
}

func TestFileRules(t *testing.T) {
	th := newTestHost(t)
	th.file(t, "/etc/ssh/sshd_config", "# Port 22\nPort 2222\nMaxAuthTries 6\nPermitRootLogin no\n\nProtocol 2\n")
	th.file(t, "/proc/sys/net/ipv4/ip_forward", "0\n")
	tests := []struct {
		rule string
		want Status
		obs  string // substring of Observed
	}{
		{`f:/etc/ssh/sshd_config`, Passed, "exists"},
		{`f:/etc/missing`, Failed, "does not exist"},
		{`not f:/etc/missing`, Passed, ""},
		{`f:/etc/missing,/etc/ssh/sshd_config`, Passed, ""},
		{`f:/proc/sys/net/ipv4/ip_forward -> 0`, Passed, `"0"`},
		{`f:/proc/sys/net/ipv4/ip_forward -> 1`, Failed, "no matching line"},
		{`f:/etc/ssh/sshd_config -> r:^Port\s+2222`, Passed, "Port 2222"},
		{`f:/etc/ssh/sshd_config -> r:^port\s+2222`, Passed, ""}, // OSRegex is case-insensitive
		{`f:/etc/ssh/sshd_config -> !r:^# && r:Port\.+22`, Passed, ""},
		{`not f:/etc/ssh/sshd_config -> !r:^# && r:Port\s+22$`, Passed, ""},
		{`f:/etc/ssh/sshd_config -> n:^MaxAuthTries\s+(\d+) compare <= 4`, Failed, "6"},
		{`f:/etc/ssh/sshd_config -> n:^MaxAuthTries\s+(\d+) compare > 4`, Passed, "6"},
		{`f:/etc/ssh/sshd_config -> r:^Protocol && r:2`, Passed, ""},
		{`f:/etc/ssh/sshd_config -> r:^Protocol && r:1`, Failed, "other conditions not met"},
		{`f:/etc/missing -> r:anything`, NotApplicable, ""},
		{`not f:/etc/missing -> r:anything`, NotApplicable, ""},
		{`f:/etc/ssh -> r:x`, Error, "directory"},
		{`f:/etc/ssh/*_config -> r:^PermitRootLogin\s+no`, Passed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			ev := evalRule(t, th.Host, RegexOS, tt.rule)
			if ev.Result != tt.want || !strings.Contains(ev.Observed, tt.obs) {
				t.Errorf("eval(%q) = %s %q, want %s containing %q", tt.rule, ev.Result, ev.Observed, tt.want, tt.obs)
			}
		})
	}
}

func TestFileRuleEvery(t *testing.T) {
	th := newTestHost(t)
	th.file(t, "/home/alice/.config/lock", "idle=300\n")
	th.file(t, "/home/bob/.config/lock", "idle=900\n")
	ev := evalRule(t, th.Host, RegexOS, `every f:/home/*/.config/lock -> n:^idle=(\d+) compare <= 300`)
	if ev.Result != Failed || ev.Target != "/home/bob/.config/lock" || ev.Observed != "900" {
		t.Errorf("every: %+v, want failed on bob with 900", ev)
	}
	ev = evalRule(t, th.Host, RegexOS, `f:/home/*/.config/lock -> n:^idle=(\d+) compare <= 300`)
	if ev.Result != Passed {
		t.Errorf("any: %+v, want passed", ev)
	}
	ev = evalRule(t, th.Host, RegexOS, `every f:/nobody/*/x -> r:.`)
	if ev.Result != NotApplicable {
		t.Errorf("every without targets: %+v, want not_applicable", ev)
	}
}

func TestDirRules(t *testing.T) {
	th := newTestHost(t)
	th.file(t, "/etc/sudoers.d/README", "x\n")
	th.file(t, "/etc/sudoers.d/deep/agents", "%agents ALL=(ALL) NOPASSWD: ALL\n")
	th.file(t, "/etc/modprobe.d/usb.conf", "install usb-storage /bin/true\n")
	tests := []struct {
		rule string
		want Status
	}{
		{`d:/etc/sudoers.d`, Passed},
		{`d:/etc/nothing`, Failed},
		{`d:/etc/sudoers.d -> agents`, Passed},
		{`d:/etc/sudoers.d -> nobody`, Failed},
		{`d:/etc/sudoers.d -> r:^ag -> r:NOPASSWD`, Passed},
		{`not d:/etc/sudoers.d -> r:\. -> r:NOPASSWD`, Failed},
		{`d:/etc/modprobe.d -> r:\.conf$ -> r:^install\s+usb-storage\s+/bin/true`, Passed},
		{`d:/etc/nothing -> r:x -> r:y`, NotApplicable},
	}
	for _, tt := range tests {
		ev := evalRule(t, th.Host, RegexOS, tt.rule)
		if ev.Result != tt.want {
			t.Errorf("eval(%q) = %s (%q), want %s", tt.rule, ev.Result, ev.Observed, tt.want)
		}
	}
}

func TestCommandRules(t *testing.T) {
	th := newTestHost(t)
	th.script(t, "systemctl", `if [ "$1" = is-enabled ] && [ "$2" = cups ]; then echo enabled; else echo disabled; exit 1; fi`)
	th.script(t, "sshd", `echo "maxauthtries 6"; echo "permitrootlogin no"`)
	th.script(t, "hang", `sleep 30`)
	th.script(t, "args", `for a in "$@"; do echo "arg=$a"; done`)
	th.script(t, "loud", `i=0; while [ $i -lt 200000 ]; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done; echo END`)
	th.CommandTimeout = 300 * time.Millisecond
	tests := []struct {
		rule string
		want Status
		obs  string
	}{
		{`c:systemctl is-enabled cups -> r:^enabled`, Passed, "enabled"},
		{`c:systemctl is-enabled avahi -> r:^enabled`, Failed, ""}, // non-zero exit still read
		{`c:sshd -T -> !r:^\s*maxauthtries\s+4\s*$`, Passed, ""},
		{`c:sshd -T -> n:^maxauthtries\s+(\d+) compare <= 4`, Failed, "6"},
		{`c:args 'a b' "c d" -> arg=a b`, Passed, ""},
		{`c:args 'a b' "c d" -> r:^arg=c d$`, Passed, ""},
		{`c:args $(id) -> arg=$(id)`, Passed, ""}, // no shell: nothing is expanded
		{`c:no-such-program -> r:x`, NotApplicable, "not found"},
		{`c:hang -> r:x`, Error, "timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			start := time.Now()
			ev := evalRule(t, th.Host, RegexOS, tt.rule)
			if ev.Result != tt.want || !strings.Contains(ev.Observed, tt.obs) {
				t.Errorf("eval(%q) = %s %q, want %s containing %q", tt.rule, ev.Result, ev.Observed, tt.want, tt.obs)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("eval(%q) took %s", tt.rule, d)
			}
		})
	}
	th.CommandTimeout = 10 * time.Second
	ev := evalRule(t, th.Host, RegexOS, `c:loud -> r:^END$`)
	if ev.Result != Failed {
		t.Errorf("output past MaxOutputBytes: %s %q, want failed (output truncated)", ev.Result, ev.Observed)
	}
}

func TestProcessPackageServiceOSUser(t *testing.T) {
	h := &Host{
		Processes: func(context.Context) ([]Process, error) {
			return []Process{{1, "systemd"}, {812, "clamd"}, {900, "AnyDesk"}}, nil
		},
		Packages: func(context.Context) ([]Package, error) {
			return []Package{{Name: "firefox", Version: "115.12.0esr-1~deb12u1"}, {Name: "clamav", Version: "1.0.5+dfsg-1"}}, nil
		},
		Services: func(context.Context) ([]Service, error) {
			return []Service{{Name: "clamav-daemon", State: "running", Start: "auto"}, {Name: "ssh", State: "stopped", Start: "disabled"}}, nil
		},
		OS: func(context.Context) (OSInfo, error) {
			return OSInfo{Family: "linux", ID: "debian", Version: "12", Build: "12.5", Kernel: "6.1.0-18-amd64"}, nil
		},
		SessionUser: func(context.Context) (*User, error) {
			return &User{Name: "agent7", Groups: []string{"agent7", "plugdev"}}, nil
		},
		CaseInsensitiveNames: true,
	}
	tests := []struct {
		rule string
		want Status
	}{
		{`p:clamd`, Passed},
		{`not p:anydesk,teamviewer,rustdesk`, Failed},
		{`p:sshd`, Failed},
		{`every p:systemd,clamd`, Passed},
		{`every p:systemd,sshd`, Failed},
		{`pkg:firefox`, Passed},
		{`pkg:chromium`, Failed},
		{`pkg:firefox -> v:>= 115.0`, Passed},
		{`pkg:firefox -> v:>= 128.0`, Failed},
		{`pkg:chromium -> v:>= 128.0`, NotApplicable},
		{`pkg:clam* -> v:^(\d+\.\d+) compare >= 1.0`, Passed},
		{`svc:clamav-daemon -> state=running`, Passed},
		{`svc:ssh -> state=running`, Failed},
		{`svc:ssh -> start=disabled`, Passed},
		{`svc:nothing`, Failed},
		{`svc:nothing -> state=running`, NotApplicable},
		{`os:family -> linux`, Passed},
		{`os:version -> v:>= 12`, Passed},
		{`os:kernel -> v:>= 6.6`, Failed},
		{`user:session -> admin=false`, Passed},
		{`not user:session -> r:^group=sudo$|^group=wheel$`, Passed},
		{`r:HKLM\Software -> x`, NotApplicable}, // no registry on this host
		{`c:ls -> r:x`, NotApplicable},          // no runner
	}
	for _, tt := range tests {
		ev := evalRule(t, h, RegexOS, tt.rule)
		if ev.Result != tt.want {
			t.Errorf("eval(%q) = %s (%q), want %s", tt.rule, ev.Result, ev.Observed, tt.want)
		}
	}
	failing := &Host{Processes: func(context.Context) ([]Process, error) { return nil, errors.New("access denied") }}
	if ev := evalRule(t, failing, RegexOS, `p:x`); ev.Result != Error || !strings.Contains(ev.Observed, "access denied") {
		t.Errorf("failing collector: %+v, want error with the reason", ev)
	}
}

func TestRegistryRules(t *testing.T) {
	reg, err := NewStaticRegistry(map[string]map[string][]string{
		`HKEY_LOCAL_MACHINE\System\CurrentControlSet\Control\Lsa`:                    {"LimitBlankPasswordUse": {"1"}},
		`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System`:             {"InactivityTimeoutSecs": {"900"}},
		`HKU\S-1-5-21-1-1001\Control Panel\Desktop`:                                  {"ScreenSaveTimeOut": {"300"}, "ScreenSaverIsSecure": {"1"}},
		`HKU\S-1-5-21-1-1002\Control Panel\Desktop`:                                  {"ScreenSaveTimeOut": {"1200"}, "ScreenSaverIsSecure": {"1"}},
		`HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server`:                      {"fDenyTSConnections": {"1"}},
		`HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services\Client\Multi`: {"Lines": {"a", "b"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &Host{Registry: reg}
	tests := []struct {
		rule string
		want Status
		obs  string
	}{
		{`r:HKEY_LOCAL_MACHINE\System\CurrentControlSet\Control\Lsa`, Passed, ""},
		{`r:HKLM\System\CurrentControlSet\Control\Nope`, Failed, ""},
		{`r:HKLM\System\CurrentControlSet\Control\Lsa -> LimitBlankPasswordUse`, Passed, ""},
		{`r:HKLM\System\CurrentControlSet\Control\Lsa -> Missing`, Failed, ""},
		{`r:HKLM\System\CurrentControlSet\Control\Lsa -> LimitBlankPasswordUse -> 1`, Passed, ""},
		{`r:HKLM\System\CurrentControlSet\Control\Lsa -> Missing -> 1`, NotApplicable, ""},
		{`r:hklm\system\currentcontrolset\control\lsa -> limitblankpassworduse -> 0`, Failed, ""},
		{`r:HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System -> InactivityTimeoutSecs -> n:^(\d+) compare <= 300`, Failed, "900"},
		{`every r:HKU\*\Control Panel\Desktop -> ScreenSaveTimeOut -> n:^(\d+) compare <= 300`, Failed, "1200"},
		{`r:HKU\*\Control Panel\Desktop -> ScreenSaveTimeOut -> n:^(\d+) compare <= 300`, Passed, "300"},
		{`r:HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services\Client\Multi -> Lines -> b`, Passed, ""},
		{`r:NOPE\x -> y`, Error, "unknown hive"},
	}
	for _, tt := range tests {
		ev := evalRule(t, h, RegexOS, tt.rule)
		if ev.Result != tt.want || !strings.Contains(ev.Observed, tt.obs) {
			t.Errorf("eval(%q) = %s %q, want %s containing %q", tt.rule, ev.Result, ev.Observed, tt.want, tt.obs)
		}
	}
}

func TestPolicyRun(t *testing.T) {
	th := newTestHost(t)
	th.file(t, "/etc/os-release", "ID=debian\n")
	th.file(t, "/etc/dconf/db/local.d/00-screensaver", "[org/gnome/desktop/session]\nidle-delay=uint32 900\n")
	doc := `
policy: {id: cc_linux, name: "Linux workstation"}
requirements:
  title: "Debian family"
  description: "x"
  condition: any
  rules: ['f:/etc/os-release -> r:^ID=debian']
checks:
  - id: 1
    title: "Screen lock after 5 minutes"
    label: screen lock timeout
    unit: s
    compliance:
      - iso_27001_2022: ["A.8.1"]
    condition: all
    rules:
      - 'f:/etc/dconf/db/local.d/00-screensaver -> n:^idle-delay=uint32\s+(\d+) compare <= 300'
  - id: 2
    title: "Not applicable"
    condition: all
    rules: ['f:/etc/absent -> r:x']
  - id: 3
    title: "broken"
    condition: all
    rules: ['f:/x -> r:(a']
  - id: 4
    title: "passes"
    condition: none
    rules: ['f:/etc/telnet.conf']
  - id: 5
    title: "none fails on the rule that passed"
    condition: none
    rules: ['f:/etc/telnet.conf', 'f:/etc/os-release -> r:^ID=debian']
`
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	pr := NewRun(th.Host).Policy(context.Background(), p)
	want := []Status{Failed, NotApplicable, Error, Passed, Failed}
	for i, w := range want {
		if pr.Checks[i].Result != w {
			t.Errorf("check %s = %s (%s), want %s", pr.Checks[i].ID, pr.Checks[i].Result, pr.Checks[i].Reason, w)
		}
	}
	if got, want := pr.Checks[0].Reason, "screen lock timeout: observed 900 s, expected <= 300 s"; got != want {
		t.Errorf("reason = %q, want %q", got, want)
	}
	if got := pr.Checks[4].Reason; !strings.Contains(got, "/etc/os-release") || !strings.Contains(got, "ID=debian") {
		t.Errorf("none reason = %q, want the rule that passed", got)
	}
	if pr.Score != 33.3 || pr.Passed != 1 || pr.Failed != 2 || pr.NotApplicable != 1 || pr.Errors != 1 {
		t.Errorf("score = %v (%d/%d/%d/%d), want 33.3 (1/2/1/1)", pr.Score, pr.Passed, pr.Failed, pr.NotApplicable, pr.Errors)
	}

	// Requirements not met: every check is not applicable.
	if err := os.WriteFile(filepath.Join(th.root, "etc/os-release"), []byte("ID=fedora\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pr = NewRun(th.Host).Policy(context.Background(), p)
	for _, c := range pr.Checks {
		if c.Result != NotApplicable || !strings.Contains(c.Reason, "requirements not met") {
			t.Errorf("check %s = %s %q, want not_applicable (requirements)", c.ID, c.Result, c.Reason)
		}
	}
}

func TestCommandOutputCached(t *testing.T) {
	th := newTestHost(t)
	counter := filepath.Join(th.root, "count")
	th.script(t, "net.exe", `echo x >> `+counter+`; echo "Minimum password length: 14"`)
	doc := `
policy: {id: p}
checks:
  - {id: 1, title: a, condition: all, rules: ['c:net.exe accounts -> n:Minimum password length:\s+(\d+) compare >= 14']}
  - {id: 2, title: b, condition: all, rules: ['c:net.exe accounts -> n:Minimum password length:\s+(\d+) compare >= 8']}
`
	pr := NewRun(th.Host).Policy(context.Background(), mustParse(t, doc))
	if pr.Passed != 2 {
		t.Errorf("passed = %d, want 2: %+v", pr.Passed, pr.Checks)
	}
	b, _ := os.ReadFile(counter)
	if n := strings.Count(string(b), "x"); n != 1 {
		t.Errorf("command ran %d times, want 1 (cached per run)", n)
	}
}
