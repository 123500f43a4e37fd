package daemon

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type recorder struct {
	calls []string
	fail  error
}

func (r *recorder) Run(_ context.Context, argv []string) ([]byte, error) {
	r.calls = append(r.calls, strings.Join(argv, " "))
	return []byte("Unit custodia-agent.service not loaded."), r.fail
}

func TestLinuxInstallUninstall(t *testing.T) {
	root := t.TempDir()
	cfg := Config{Binary: "/usr/local/bin/custodia-agent", Args: []string{"--state-dir", "/var/lib/custodia agent"}}
	p, err := InstallPlan("linux", cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	if err := p.Apply(context.Background(), root, rec); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, SystemdPath))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{
		`ExecStart=/usr/local/bin/custodia-agent run --state-dir "/var/lib/custodia agent"`,
		"Nice=10", "IOSchedulingClass=idle", "WantedBy=multi-user.target",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q:\n%s", want, unit)
		}
	}
	if got := strings.Join(rec.calls, "; "); got != "systemctl daemon-reload; systemctl enable --now custodia-agent.service" {
		t.Errorf("commands = %q", got)
	}
	u, _ := UninstallPlan("linux")
	rec = &recorder{fail: errors.New("exit status 5")}
	if err := u.Apply(context.Background(), root, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, SystemdPath)); !os.IsNotExist(err) {
		t.Errorf("unit still there after uninstall: %v", err)
	}
	if rec.calls[0] != "systemctl disable --now custodia-agent.service" {
		t.Errorf("uninstall commands = %q", rec.calls)
	}
	if len(u.Warnings) != 1 || !strings.Contains(u.Warnings[0], "not loaded") {
		t.Errorf("uninstall warnings = %q, want the failed systemctl", u.Warnings)
	}
	// Installing does not tolerate a failing command.
	p2, _ := InstallPlan("linux", cfg)
	if err := p2.Apply(context.Background(), root, &recorder{fail: errors.New("exit status 1")}); err == nil {
		t.Error("install with a failing systemctl succeeded")
	}
}

func TestDarwinAndWindowsPlans(t *testing.T) {
	root := t.TempDir()
	p, err := InstallPlan("darwin", Config{Binary: "/usr/local/bin/custodia-agent", Args: []string{"--interval", "1h"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(context.Background(), root, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(root, LaunchdPath))
	for _, want := range []string{"<string>com.custodia.agent</string>", "<string>run</string>", "<string>1h</string>", "<key>RunAtLoad</key>"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("plist lacks %q", want)
		}
	}
	w, err := InstallPlan("windows", Config{Binary: `C:\Program Files\Custodia\custodia-agent.exe`})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w.Describe(&buf)
	if !strings.Contains(buf.String(), `register Windows service "custodia-agent"`) || !strings.Contains(buf.String(), `custodia-agent.exe run`) {
		t.Errorf("Describe = %q", buf.String())
	}
	if _, err := InstallPlan("linux", Config{Binary: "custodia-agent"}); err == nil {
		t.Error("relative binary accepted")
	}
	if _, err := InstallPlan("plan9", Config{Binary: "/x"}); err == nil {
		t.Error("plan9 accepted")
	}
}
