package posture

import (
	"context"
	"os"
	"testing"
)

func loadSample(t *testing.T, name string) *Policy {
	t.Helper()
	p, err := ParseFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range p.Problems() {
		t.Errorf("%s: %s", name, pr)
	}
	return p
}

func statuses(pr PolicyResult) map[string]Status {
	m := map[string]Status{}
	for _, c := range pr.Checks {
		m[c.ID] = c.Result
	}
	return m
}

// TestSample4xLinux runs a CIS-style 4.x policy for real against files and
// commands laid out in a temporary root.
func TestSample4xLinux(t *testing.T) {
	th := newTestHost(t)
	th.file(t, "/etc/debian_version", "12.5\n")
	th.file(t, "/etc/ssh/sshd_config", "# PermitRootLogin yes\nPermitRootLogin no\nMaxAuthTries 6\nPort 2200\n")
	th.file(t, "/etc/pam.d/common-password", "password requisite pam_pwquality.so retry=3\n")
	th.file(t, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n")
	th.file(t, "/etc/sudoers", "root ALL=(ALL) ALL\n")
	th.file(t, "/etc/sudoers.d/logging", "Defaults logfile=/var/log/sudo.log\n")
	th.script(t, "modprobe", `echo "install /bin/true"`)
	th.script(t, "lsmod", `echo "Module Size Used by"; echo "ext4 1 0"`)
	th.Processes = func(context.Context) ([]Process, error) { return []Process{{1, "systemd"}, {99, "avahi-daemon"}}, nil }
	pr := NewRun(th.Host).Policy(context.Background(), loadSample(t, "sample_4x_linux.yml"))
	want := map[string]Status{
		"5000": Passed, "5001": Failed, "5002": Passed, "5003": Passed, "5004": Passed,
		"5005": Passed, "5006": Failed, "5007": Passed, "5008": Failed,
	}
	got := statuses(pr)
	for id, w := range want {
		if got[id] != w {
			t.Errorf("check %s = %s, want %s", id, got[id], w)
		}
	}
	// Without the Debian markers the requirements fail: all not applicable.
	if err := os.Remove(th.root + "/etc/debian_version"); err != nil {
		t.Fatal(err)
	}
	pr = NewRun(th.Host).Policy(context.Background(), loadSample(t, "sample_4x_linux.yml"))
	if pr.NotApplicable != len(pr.Checks) {
		t.Errorf("requirements not met: %d of %d not applicable", pr.NotApplicable, len(pr.Checks))
	}
}

// TestSample4xWindows runs a CIS-style Windows policy on a registry
// fixture and recorded net.exe outputs.
func TestSample4xWindows(t *testing.T) {
	th := newTestHost(t)
	reg, err := NewStaticRegistry(map[string]map[string][]string{
		`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`:              {"ProductName": {"Windows 10 Enterprise"}},
		`HKLM\System\CurrentControlSet\Control\Lsa`:                      {"LimitBlankPasswordUse": {"1"}},
		`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System`: {"InactivityTimeoutSecs": {"900"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	th.Registry = reg
	th.script(t, "net.exe", `cat <<'X'
Force user logoff how long after time expires?:       Never
Minimum password age (days):                          1
Maximum password age (days):                          42
Minimum password length:                              14
Length of password history maintained:                24
Lockout threshold:                                    10
The command completed successfully.
X`)
	th.script(t, "net", `printf 'User name                    Administrator\nAccount active               No\n'`)
	pr := NewRun(th.Host).Policy(context.Background(), loadSample(t, "sample_4x_windows.yml"))
	want := map[string]Status{"26000": Passed, "26001": Passed, "26002": Passed, "26003": Passed, "26004": Passed, "26005": NotApplicable}
	got := statuses(pr)
	for id, w := range want {
		if got[id] != w {
			t.Errorf("check %s = %s, want %s", id, got[id], w)
		}
	}
}
