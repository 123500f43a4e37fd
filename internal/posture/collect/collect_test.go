package collect

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/posture"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDpkgStatus(t *testing.T) {
	f, err := os.Open("testdata/dpkg-status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pkgs, err := ParseDpkgStatus(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []posture.Package{
		{Name: "firefox-esr", Version: "115.12.0esr-1~deb12u1", Source: "dpkg"},
		{Name: "clamav-daemon", Version: "1.0.5+dfsg-1~deb12u1", Source: "dpkg"},
	}
	if !reflect.DeepEqual(pkgs, want) {
		t.Errorf("ParseDpkgStatus = %+v, want %+v (removed anydesk excluded)", pkgs, want)
	}
}

func TestParseSystemctl(t *testing.T) {
	svcs := ParseSystemctl(readFixture(t, "systemctl-units.txt"), readFixture(t, "systemctl-unit-files.txt"))
	got := map[string]string{}
	for _, s := range svcs {
		got[s.Name] = s.State + "/" + s.Start
	}
	want := map[string]string{
		"clamav-daemon": "running/auto", "clamav-freshclam": "running/manual",
		"ssh": "stopped/manual", "ufw": "stopped/auto", "xrdp": "stopped/disabled",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseSystemctl = %v, want %v", got, want)
	}
}

func TestParseMacOS(t *testing.T) {
	info := ParseSwVers(readFixture(t, "sw_vers.txt"))
	if info.Name != "macOS 14.5" || info.Version != "14.5" || info.Build != "23F79" || info.Family != "darwin" {
		t.Errorf("ParseSwVers = %+v", info)
	}
	ps := ParsePS(readFixture(t, "ps-macos.txt"))
	if len(ps) != 3 || ps[2].Name != "TeamViewer" || ps[2].PID != 9811 {
		t.Errorf("ParsePS = %+v", ps)
	}
	svcs := ParseLaunchctlList(readFixture(t, "launchctl-list.txt"))
	if len(svcs) != 2 || svcs[0].Name != "com.apple.XProtect.daemon.scan" || svcs[0].State != "running" || svcs[1].State != "stopped" {
		t.Errorf("ParseLaunchctlList = %+v", svcs)
	}
	if !ParseDseditgroup([]byte("yes agent7 is a member of admin\n")) || ParseDseditgroup([]byte("no agent7 is NOT a member of admin\n")) {
		t.Error("ParseDseditgroup")
	}
	kv := ParsePlistStrings([]byte(`<plist><dict><key>CFBundleShortVersionString</key>
	<string>126.0.1</string><key>LSMinimumSystemVersion</key><string>10.15.0</string><key>X</key><true/></dict></plist>`))
	if kv["CFBundleShortVersionString"] != "126.0.1" || kv["LSMinimumSystemVersion"] != "10.15.0" {
		t.Errorf("ParsePlistStrings = %v", kv)
	}
}

func TestDarwinApps(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "Firefox.app", "Contents")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	plist := `<?xml version="1.0"?><plist><dict><key>CFBundleIdentifier</key><string>org.mozilla.firefox</string><key>CFBundleShortVersionString</key><string>126.0.1</string></dict></plist>`
	if err := os.WriteFile(filepath.Join(app, "Info.plist"), []byte(plist), 0o644); err != nil {
		t.Fatal(err)
	}
	pkgs, err := DarwinApps(context.Background(), &posture.ExecRunner{Path: []string{}}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 || pkgs[0].Name != "Firefox" || pkgs[0].Version != "126.0.1" || pkgs[1].Name != "org.mozilla.firefox" {
		t.Errorf("DarwinApps = %+v", pkgs)
	}
}

func TestWindowsFromFixtures(t *testing.T) {
	reg, err := LoadRegistryFixture(readFixture(t, "registry-win11.yml"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := WindowsOS(reg)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "Windows 11 Pro" || info.Version != "23H2" || info.Build != "22631.3447" {
		t.Errorf("WindowsOS = %+v", info)
	}
	pkgs, err := WindowsPackages(reg)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, p := range pkgs {
		names[p.Name] = p.Version
	}
	if names["Google Chrome"] != "125.0.6422.142" || names["AnyDesk"] == "" || names["Zoom Workplace"] != "6.0.11" || len(names) != 4 {
		t.Errorf("WindowsPackages = %v", names)
	}
	if u := WindowsLastUser(reg); u != `CC\agent7` {
		t.Errorf("WindowsLastUser = %q", u)
	}
	members := ParseNetLocalGroup(readFixture(t, "net-localgroup.txt"))
	if want := []string{"Administrator", `CC\it-admin`, `CC\agent7`}; !reflect.DeepEqual(members, want) {
		t.Errorf("ParseNetLocalGroup = %q, want %q", members, want)
	}
	if !WindowsIsAdmin(members, `CC\agent7`) || WindowsIsAdmin(members, `CC\agent8`) {
		t.Error("WindowsIsAdmin")
	}
	// Spanish Windows: localized headers and completion message.
	es := ParseNetLocalGroup(readFixture(t, "net-localgroup-es.txt"))
	if want := []string{"Administrador", `CC\Domain Admins`}; !reflect.DeepEqual(es, want) {
		t.Errorf("ParseNetLocalGroup(es) = %q, want %q", es, want)
	}
	ps, err := ParseTasklistCSV(readFixture(t, "tasklist.csv"))
	if err != nil || len(ps) != 3 || ps[2].Name != "AnyDesk.exe" || ps[2].PID != 8812 {
		t.Errorf("ParseTasklistCSV = %+v, %v", ps, err)
	}
}

// TestLinuxHost runs the whole Linux host against a fake root.
func TestLinuxHost(t *testing.T) {
	root := t.TempDir()
	write := func(p, s string) {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n")
	write("proc/sys/kernel/osrelease", "6.1.0-21-amd64\n")
	write("proc/1/comm", "systemd\n")
	write("proc/77/comm", "rustdesk\n")
	write("proc/77/cmdline", "/usr/bin/rustdesk\x00--service\x00")
	write("proc/self/comm", "ignored\n")
	b, _ := os.ReadFile("testdata/dpkg-status")
	write("var/lib/dpkg/status", string(b))
	write("run/systemd/sessions/3", "USER=gdm\nCLASS=greeter\nACTIVE=0\n")
	write("run/systemd/sessions/5", "USER=agent7\nACTIVE=1\nSEAT=seat0\nTYPE=wayland\n")
	write("etc/passwd", "root:x:0:0::/root:/bin/bash\nagent7:x:1001:1001::/home/agent7:/bin/bash\n")
	write("etc/group", "root:x:0:\nsudo:x:27:it-admin\nagent7:x:1001:\nplugdev:x:46:agent7\n")

	h := NewLinux(root, nil)
	ctx := context.Background()
	info, err := h.OS(ctx)
	if err != nil || info.ID != "debian" || info.Version != "12" || info.Kernel != "6.1.0-21-amd64" {
		t.Errorf("OS = %+v, %v", info, err)
	}
	ps, err := h.Processes(ctx)
	if err != nil || len(ps) != 2 || ps[1].Name != "rustdesk" {
		t.Errorf("Processes = %+v, %v", ps, err)
	}
	pkgs, err := h.Packages(ctx)
	if err != nil || len(pkgs) != 2 {
		t.Errorf("Packages = %+v, %v", pkgs, err)
	}
	u, err := h.SessionUser(ctx)
	if err != nil || u == nil || u.Name != "agent7" || u.Admin || strings.Join(u.Groups, ",") != "agent7,plugdev" {
		t.Errorf("SessionUser = %+v, %v", u, err)
	}
	write("etc/group", "root:x:0:\nsudo:x:27:it-admin,agent7\nagent7:x:1001:\n")
	if u, _ := h.SessionUser(ctx); u == nil || !u.Admin {
		t.Errorf("SessionUser in sudo = %+v, want admin", u)
	}
}

func TestLoadRegistryFixtureErrors(t *testing.T) {
	for _, doc := range []string{"[", "BOGUS\\x: {a: b}", "HKLM\\x: {a: {b: c}}"} {
		if _, err := LoadRegistryFixture([]byte(doc)); err == nil {
			t.Errorf("LoadRegistryFixture(%q) succeeded", doc)
		}
	}
}

func readSeed(name string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", name)) }
