package baseline

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/posture"
	"github.com/custodia/custodia/internal/posture/collect"
)

func TestPoliciesLint(t *testing.T) {
	ids := map[string]string{}
	names := Names()
	if len(names) != 6 {
		t.Fatalf("Names() = %v, want 3 baselines and 3 restriction policies", names)
	}
	for _, n := range names {
		ps, err := Load(n)
		if err != nil {
			t.Fatalf("Load(%s): %v", n, err)
		}
		p := ps[0]
		if p.Dialect != posture.Wazuh5 {
			t.Errorf("%s: dialect %v, want 5.x", n, p.Dialect)
		}
		for _, pr := range p.Problems() {
			t.Errorf("%s: %s", n, pr)
		}
		for _, c := range p.Checks {
			if prev, dup := ids[c.ID]; dup {
				t.Errorf("%s: check id %s also in %s", n, c.ID, prev)
			}
			ids[c.ID] = n
			if len(c.Compliance["iso_27001"]) == 0 || len(c.Compliance["ens"]) == 0 {
				t.Errorf("%s: check %s lacks an ISO/IEC 27001:2022 or ENS mapping", n, c.ID)
			}
			if c.Remediation == "" || c.Rationale == "" {
				t.Errorf("%s: check %s lacks rationale or remediation", n, c.ID)
			}
		}
	}
	for _, goos := range []string{"linux", "windows", "darwin"} {
		if got := For(goos, true); len(got) != 2 {
			t.Errorf("For(%s) = %v", goos, got)
		}
	}
	if For("plan9", false) != nil {
		t.Error("For(plan9) should be empty")
	}
}

// results maps check id to result for one policy run.
func results(pr posture.PolicyResult) map[string]posture.CheckResult {
	m := map[string]posture.CheckResult{}
	for _, c := range pr.Checks {
		m[c.ID] = c
	}
	return m
}

func runPolicy(t *testing.T, h *posture.Host, name string) map[string]posture.CheckResult {
	t.Helper()
	ps, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return results(posture.NewRun(h).Policy(context.Background(), ps[0]))
}

type tree struct {
	t    *testing.T
	root string
}

func (tr tree) write(p, content string, mode os.FileMode) {
	tr.t.Helper()
	full := filepath.Join(tr.root, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), mode); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr tree) age(p string, d time.Duration) {
	tr.t.Helper()
	ts := time.Now().Add(-d)
	if err := os.Chtimes(filepath.Join(tr.root, filepath.FromSlash(p)), ts, ts); err != nil {
		tr.t.Fatal(err)
	}
}

// compliantLinux lays out a compliant Debian 12 desk under a temp root,
// with its commands as scripts in <root>/bin.
func compliantLinux(t *testing.T) (tree, *posture.Host) {
	tr := tree{t, t.TempDir()}
	tr.write("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n", 0o644)
	tr.write("sys/block/dm-0/dm/uuid", "CRYPT-LUKS2-0b8f5d1c2e9f4f9fa0e7c2c1f2d3e4f5-sda3_crypt\n", 0o644)
	tr.write("etc/dconf/db/local.d/00-screensaver", "[org/gnome/desktop/session]\nidle-delay=uint32 300\n\n[org/gnome/desktop/screensaver]\nlock-enabled=true\nlock-delay=uint32 0\n", 0o644)
	tr.write("etc/dconf/db/local.d/locks/screensaver", "/org/gnome/desktop/session/idle-delay\n/org/gnome/desktop/screensaver/lock-enabled\n", 0o644)
	tr.write("bin/ufw", "#!/bin/sh\necho 'Status: active'\n", 0o755)
	tr.write("proc/1/comm", "systemd\n", 0o644)
	tr.write("proc/700/comm", "clamd\n", 0o644)
	tr.write("proc/701/comm", "clamonacc\n", 0o644)
	tr.write("proc/900/comm", "firefox-esr\n", 0o644)
	tr.write("proc/modules", "ext4 1 0 - Live 0x0\n", 0o644)
	tr.write("var/lib/clamav/daily.cld", "x", 0o644)
	tr.age("var/lib/clamav/daily.cld", 2*time.Hour)
	tr.write("var/log/apt/history.log", "Start-Date: recent\n", 0o644)
	tr.age("var/log/apt/history.log", 5*24*time.Hour)
	tr.write("etc/apt/apt.conf.d/20auto-upgrades", "APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n", 0o644)
	tr.write("etc/modprobe.d/usb-storage.conf", "install usb-storage /bin/false\n", 0o644)
	tr.write("run/systemd/sessions/2", "USER=agent7\nACTIVE=1\nSEAT=seat0\nTYPE=wayland\n", 0o644)
	tr.write("etc/passwd", "root:x:0:0::/root:/bin/bash\nagent7:x:1001:1001::/home/agent7:/bin/bash\n", 0o644)
	tr.write("etc/group", "sudo:x:27:it-admin\nagent7:x:1001:\n", 0o644)
	tr.write("var/lib/dpkg/status", "Package: firefox-esr\nStatus: install ok installed\nVersion: 140.5.0esr-1~deb12u1\n\nPackage: clamav-daemon\nStatus: install ok installed\nVersion: 1.0.7+dfsg-1~deb12u1\n", 0o644)
	tr.write("etc/security/pwquality.conf", "# pwquality\nminlen = 14\n", 0o644)
	h := collect.NewLinux(tr.root, &posture.ExecRunner{Path: []string{filepath.Join(tr.root, "bin")}, Env: []string{"PATH=/usr/bin:/bin"}})
	h.CommandTimeout = 2 * time.Second
	return tr, h
}

func TestLinuxBaselineCompliant(t *testing.T) {
	_, h := compliantLinux(t)
	res := runPolicy(t, h, "linux.yml")
	for id, c := range res {
		want := posture.Passed
		if id == "lnx-011" || id == "lnx-016" { // no LightDM, no Chrome installed
			want = posture.NotApplicable
		}
		if c.Result != want {
			t.Errorf("%s %q = %s (%s), want %s; evidence %+v", id, c.Title, c.Result, c.Reason, want, c.Evidence)
		}
	}
}

func TestLinuxBaselineDrift(t *testing.T) {
	tr, h := compliantLinux(t)
	tr.write("etc/dconf/db/local.d/00-screensaver", "[org/gnome/desktop/session]\nidle-delay=uint32 900\n[org/gnome/desktop/screensaver]\nlock-enabled=true\n", 0o644)
	tr.write("bin/ufw", "#!/bin/sh\necho 'Status: inactive'\n", 0o755)
	tr.write("proc/77/comm", "rustdesk\n", 0o644)
	tr.write("proc/modules", "usb_storage 86016 0 - Live 0x0\n", 0o644)
	tr.write("etc/group", "sudo:x:27:it-admin,agent7\nagent7:x:1001:\n", 0o644)
	tr.age("var/lib/clamav/daily.cld", 49*time.Hour)
	tr.write("etc/passwd", "root:x:0:0::/root:/bin/bash\nguest:x:1002:1002::/home/guest:/bin/bash\n", 0o644)
	tr.write("bin/nft", "#!/bin/sh\nsleep 20\n", 0o755) // a hanging command: error, not a hang
	h.CommandTimeout = 300 * time.Millisecond
	res := runPolicy(t, h, "linux.yml")
	wants := map[string]struct {
		st     posture.Status
		reason string
	}{
		"lnx-002": {posture.Failed, "screen lock timeout: observed 900 s, expected <= 300 s"},
		"lnx-003": {posture.Error, "timed out"},
		"lnx-005": {posture.Failed, "antivirus signature age: observed age 2d1h, expected age <= 24h"},
		"lnx-008": {posture.Failed, "usb_storage"},
		"lnx-009": {posture.Failed, "admin=false"},
		"lnx-010": {posture.Failed, "guest"},
		"lnx-013": {posture.Failed, "rustdesk"},
	}
	for id, w := range wants {
		c := res[id]
		if c.Result != w.st || !strings.Contains(c.Reason, w.reason) {
			t.Errorf("%s = %s %q, want %s containing %q", id, c.Result, c.Reason, w.st, w.reason)
		}
	}
}

func windowsHost(t *testing.T, fixture string, procs []posture.Process, svcs []posture.Service, scripts map[string]string) *posture.Host {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := collect.LoadRegistryFixture(b)
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return collect.NewWindows(collect.WindowsParts{
		Registry:  reg,
		Runner:    &posture.ExecRunner{Path: []string{bin}, Env: []string{"PATH=/usr/bin:/bin"}},
		Processes: func(context.Context) ([]posture.Process, error) { return procs, nil },
		Services:  func(context.Context) ([]posture.Service, error) { return svcs, nil },
	})
}

// powershell answers the baseline's PowerShell commands from recorded
// outputs, by what the command asks for.
func powershell(bitlocker, defender, hotfix, guest, secpol string) string {
	return `case "$*" in
*Get-BitLockerVolume*) printf '%s\n' "` + bitlocker + `";;
*Get-MpComputerStatus*) printf '%s\n' "` + defender + `";;
*Get-HotFix*) echo "` + hotfix + `";;
*Get-LocalUser*) echo "` + guest + `";;
*secedit*) printf '%s\n' "` + secpol + `";;
*) echo "unexpected: $*" >&2; exit 1;;
esac`
}

func TestWindowsBaseline(t *testing.T) {
	today := time.Now().Add(-3 * 24 * time.Hour).Format("2006-01-02")
	compliantPS := powershell(
		"\nProtectionStatus : On\nVolumeStatus     : FullyEncrypted\n",
		"\nAMServiceEnabled          : True\nRealTimeProtectionEnabled : True\nAntivirusSignatureAge     : 0\n",
		today, "False", "[System Access]\nMinimumPasswordAge = 1\nMinimumPasswordLength = 14\nLockoutBadCount = 10\n")
	netAdmins := `printf 'Members\n\n----------\nAdministrator\nCC\\it-admin\nThe command completed successfully.\n'`
	h := windowsHost(t, "registry-compliant.yml",
		[]posture.Process{{PID: 4, Name: "System"}, {PID: 3120, Name: "MsMpEng.exe"}},
		[]posture.Service{{Name: "WinDefend", State: "running", Start: "auto"}, {Name: "wuauserv", State: "stopped", Start: "manual"}},
		map[string]string{"powershell.exe": compliantPS, "net.exe": netAdmins})
	res := runPolicy(t, h, "windows.yml")
	for id, c := range res {
		want := posture.Passed
		if id == "win-017" { // Firefox not installed
			want = posture.NotApplicable
		}
		if c.Result != want {
			t.Errorf("compliant %s %q = %s (%s), want %s; evidence %+v", id, c.Title, c.Result, c.Reason, want, c.Evidence)
		}
	}

	old := time.Now().Add(-45 * 24 * time.Hour).Format("2006-01-02")
	driftPS := powershell(
		"\nProtectionStatus : Off\nVolumeStatus     : FullyDecrypted\n",
		"\nAMServiceEnabled          : True\nRealTimeProtectionEnabled : False\nAntivirusSignatureAge     : 3\n",
		old, "True", "[System Access]\nMinimumPasswordLength = 0\nLockoutBadCount = 0\n")
	netDrift := `printf 'Members\n\n----------\nAdministrator\nCC\\agent7\nThe command completed successfully.\n'`
	h = windowsHost(t, "registry-drifted.yml",
		[]posture.Process{{PID: 8812, Name: "AnyDesk.exe"}},
		[]posture.Service{{Name: "WinDefend", State: "running", Start: "auto"}, {Name: "wuauserv", State: "stopped", Start: "disabled"}},
		map[string]string{"powershell.exe": driftPS, "net.exe": netDrift})
	res = runPolicy(t, h, "windows.yml")
	wants := map[string]string{
		"win-001": "",
		"win-002": "screen lock timeout: observed 1200 s, expected <= 300 s",
		"win-003": "ScreenSaverIsSecure",
		"win-004": "PublicProfile",
		"win-005": "RealTimeProtectionEnabled",
		"win-006": "antivirus signature age: observed 3 days, expected < 1 days",
		"win-007": "last update installed: observed age 45d",
		"win-008": "",
		"win-009": "",
		"win-010": "admin=false",
		"win-011": "",
		"win-012": "fDenyTSConnections",
		"win-013": "AnyDesk",
		"win-014": "OS build: observed 19045.4291, expected >= 26100",
		"win-015": "109.0.5414.120",
		"win-018": "minimum password length: observed 0 characters, expected >= 12 characters",
	}
	for id, reason := range wants {
		c := res[id]
		if c.Result != posture.Failed || !strings.Contains(c.Reason, reason) {
			t.Errorf("drifted %s = %s %q, want failed containing %q", id, c.Result, c.Reason, reason)
		}
	}
}

func TestDarwinBaseline(t *testing.T) {
	root := t.TempDir()
	tr := tree{t, root}
	sh := func(p, body string) { tr.write(p, "#!/bin/sh\n"+body+"\n", 0o755) }
	sh("usr/bin/fdesetup", `echo "FileVault is On."`)
	sh("usr/bin/defaults", `case "$2 $3" in
*screensaver\ idleTime) echo 300;;
*screensaver\ askForPassword) echo 1;;
*screensaver\ askForPasswordDelay) echo 0;;
*SoftwareUpdate\ AutomaticCheckEnabled) echo 1;;
*SoftwareUpdate\ CriticalUpdateInstall) echo 1;;
*systemuiserver\ mount-controls) printf '{\n    harddisk-external = (\n        deny\n    );\n}\n';;
*loginwindow\ GuestEnabled) echo 0;;
*) echo "does not exist" >&2; exit 1;;
esac`)
	sh("usr/libexec/ApplicationFirewall/socketfilterfw", `echo "Firewall is enabled. (State = 1)"`)
	sh("usr/sbin/spctl", `echo "assessments enabled"`)
	sh("usr/bin/pwpolicy", `echo "<string>policyAttributePassword matches '.{12,}'</string>"`)
	tr.write("Library/Receipts/InstallHistory.plist", "<plist/>", 0o644)
	tr.write("var/protected/xprotect/XProtect.bundle/Contents/Info.plist", "<plist/>", 0o644)
	h := &posture.Host{
		Root:   root,
		Runner: &posture.ExecRunner{Root: root, Env: []string{"PATH=/usr/bin:/bin"}},
		OS: func(context.Context) (posture.OSInfo, error) {
			return collect.ParseSwVers([]byte("ProductName: macOS\nProductVersion: 14.5\nBuildVersion: 23F79\n")), nil
		},
		Processes: func(context.Context) ([]posture.Process, error) {
			return collect.ParsePS([]byte("1 launchd\n300 loginwindow\n")), nil
		},
		Services: func(context.Context) ([]posture.Service, error) {
			return collect.ParseLaunchctlList([]byte("PID\tStatus\tLabel\n412\t0\tcom.apple.XProtect.daemon.scan\n")), nil
		},
		Packages: func(context.Context) ([]posture.Package, error) {
			return []posture.Package{{Name: "Google Chrome", Version: "156.0.7632.110"}}, nil
		},
		SessionUser:          func(context.Context) (*posture.User, error) { return &posture.User{Name: "agent7"}, nil },
		CaseInsensitiveNames: true,
	}
	res := runPolicy(t, h, "darwin.yml")
	for id, c := range res {
		want := posture.Passed
		if id == "mac-016" { // Firefox not installed
			want = posture.NotApplicable
		}
		if c.Result != want {
			t.Errorf("%s %q = %s (%s), want %s; evidence %+v", id, c.Title, c.Result, c.Reason, want, c.Evidence)
		}
	}
	// Requirements: the macOS policy does not apply to a Linux host.
	h.OS = func(context.Context) (posture.OSInfo, error) { return posture.OSInfo{Family: "linux"}, nil }
	for id, c := range runPolicy(t, h, "darwin.yml") {
		if c.Result != posture.NotApplicable {
			t.Errorf("on linux %s = %s, want not_applicable", id, c.Result)
		}
	}
}
