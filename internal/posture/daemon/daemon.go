// Package daemon installs and removes the agent as a system service: a
// systemd unit on Linux, a launchd daemon on macOS and a Windows service.
// Installation is a Plan (files to write, commands to run) so tests and
// --dry-run can inspect it without touching the host.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Name is the service name on every platform.
const Name = "custodia-agent"

// LaunchdLabel is the launchd job label on macOS.
const LaunchdLabel = "com.custodia.agent"

// Config describes the service to install.
type Config struct {
	// Binary is the absolute path of the agent executable.
	Binary string
	// Args are passed after "run" (e.g. --interval 1h --state-dir …).
	Args []string
}

// File is a file a plan writes.
type File struct {
	Path    string // absolute path on the target host
	Mode    os.FileMode
	Content string
}

// Plan is what installing or uninstalling does.
type Plan struct {
	Write    []File
	Remove   []string
	Commands [][]string
	// Service is set for Windows, where registration goes through the
	// service control manager instead of files.
	Service *WindowsService
	Delete  string // Windows service to delete
	// BestEffort makes failing commands warnings (uninstalling a service
	// that is not loaded must still remove its file).
	BestEffort bool
	// Warnings collects the errors BestEffort let through.
	Warnings []string
}

// WindowsService is the Windows service registration.
type WindowsService struct {
	Name        string
	DisplayName string
	Description string
	Binary      string
	Args        []string
}

// Runner runs a command; it matches posture.Runner.
type Runner interface {
	Run(ctx context.Context, argv []string) ([]byte, error)
}

func (c Config) argv() []string {
	return append([]string{c.Binary, "run"}, c.Args...)
}

func (c Config) check() error {
	if !filepath.IsAbs(c.Binary) && !strings.HasPrefix(c.Binary, `\\`) && !(len(c.Binary) > 2 && c.Binary[1] == ':') {
		return fmt.Errorf("agent binary %q: want an absolute path", c.Binary)
	}
	return nil
}

// systemdQuote quotes an argument for an ExecStart line.
func systemdQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"'\\$%;") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `$$`, `%`, `%%`)
	return `"` + r.Replace(s) + `"`
}

// SystemdUnit renders the unit file. The agent runs at low CPU and I/O
// priority so a check run never slows the agent's desktop.
func SystemdUnit(c Config) string {
	var exec []string
	for _, a := range c.argv() {
		exec = append(exec, systemdQuote(a))
	}
	return `[Unit]
Description=Custodia workstation agent (posture checks)
Documentation=https://github.com/custodia/custodia/blob/main/docs/agent.md
After=network-online.target systemd-logind.service
Wants=network-online.target

[Service]
Type=simple
ExecStart=` + strings.Join(exec, " ") + `
Restart=on-failure
RestartSec=10s
Nice=10
IOSchedulingClass=idle
CPUQuota=25%
MemoryMax=128M
TasksMax=64
ProtectHome=read-only
NoNewPrivileges=yes

[Install]
WantedBy=multi-user.target
`
}

// LaunchdPlist renders the launchd daemon property list.
func LaunchdPlist(c Config) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + LaunchdLabel + `</string>
	<key>ProgramArguments</key>
	<array>
`)
	for _, a := range c.argv() {
		b.WriteString("\t\t<string>" + html.EscapeString(a) + "</string>\n")
	}
	b.WriteString(`	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>ProcessType</key>
	<string>Background</string>
	<key>LowPriorityIO</key>
	<true/>
	<key>Nice</key>
	<integer>10</integer>
	<key>StandardErrorPath</key>
	<string>/Library/Logs/custodia-agent.log</string>
</dict>
</plist>
`)
	return b.String()
}

// Paths of the installed service definitions.
const (
	SystemdPath = "/etc/systemd/system/" + Name + ".service"
	LaunchdPath = "/Library/LaunchDaemons/" + LaunchdLabel + ".plist"
)

// InstallPlan returns what installing the agent on goos does.
func InstallPlan(goos string, c Config) (*Plan, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	switch goos {
	case "linux":
		return &Plan{
			Write: []File{{Path: SystemdPath, Mode: 0o644, Content: SystemdUnit(c)}},
			Commands: [][]string{
				{"systemctl", "daemon-reload"},
				{"systemctl", "enable", "--now", Name + ".service"},
			},
		}, nil
	case "darwin":
		return &Plan{
			Write:    []File{{Path: LaunchdPath, Mode: 0o644, Content: LaunchdPlist(c)}},
			Commands: [][]string{{"/bin/launchctl", "bootstrap", "system", LaunchdPath}},
		}, nil
	case "windows":
		return &Plan{Service: &WindowsService{
			Name:        Name,
			DisplayName: "Custodia workstation agent",
			Description: "Checks this workstation's security posture (Custodia).",
			Binary:      c.Binary,
			Args:        append([]string{"run"}, c.Args...),
		}}, nil
	}
	return nil, fmt.Errorf("install: unsupported operating system %q", goos)
}

// UninstallPlan returns what uninstalling the agent on goos does.
func UninstallPlan(goos string) (*Plan, error) {
	switch goos {
	case "linux":
		return &Plan{
			Commands:   [][]string{{"systemctl", "disable", "--now", Name + ".service"}},
			Remove:     []string{SystemdPath},
			BestEffort: true,
		}, nil
	case "darwin":
		return &Plan{
			Commands:   [][]string{{"/bin/launchctl", "bootout", "system/" + LaunchdLabel}},
			Remove:     []string{LaunchdPath},
			BestEffort: true,
		}, nil
	case "windows":
		return &Plan{Delete: Name}, nil
	}
	return nil, fmt.Errorf("uninstall: unsupported operating system %q", goos)
}

// Describe writes a human-readable account of the plan.
func (p *Plan) Describe(w io.Writer) {
	for _, f := range p.Write {
		fmt.Fprintf(w, "write %s (mode %o):\n%s\n", f.Path, f.Mode, f.Content)
	}
	for _, r := range p.Remove {
		fmt.Fprintf(w, "remove %s\n", r)
	}
	if s := p.Service; s != nil {
		fmt.Fprintf(w, "register Windows service %q (%s): %s %s, automatic start, restart on failure\n",
			s.Name, s.DisplayName, s.Binary, strings.Join(s.Args, " "))
	}
	if p.Delete != "" {
		fmt.Fprintf(w, "stop and delete Windows service %q\n", p.Delete)
	}
	for _, c := range p.Commands {
		fmt.Fprintf(w, "run %s\n", strings.Join(c, " "))
	}
}

// Apply carries out the plan: files are written under root ("" or "/" for
// the real root) and commands go through run (nil skips them, as tests and
// --no-start do). Windows registrations go through the service manager.
// Files are written before commands on install; on uninstall commands run
// first (stop, then remove).
func (p *Plan) Apply(ctx context.Context, root string, run Runner) error {
	for _, f := range p.Write {
		full := filepath.Join(root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("install: %w", err)
		}
		if err := os.WriteFile(full, []byte(f.Content), f.Mode); err != nil {
			return fmt.Errorf("install: %w", err)
		}
	}
	if p.Service != nil {
		if err := registerService(p.Service); err != nil {
			return err
		}
	}
	if p.Delete != "" {
		if err := deleteService(p.Delete); err != nil {
			return err
		}
	}
	if run != nil {
		for _, c := range p.Commands {
			out, err := run.Run(ctx, c)
			if err == nil {
				continue
			}
			err = fmt.Errorf("run %s: %w: %s", strings.Join(c, " "), err, strings.TrimSpace(string(out)))
			if !p.BestEffort {
				return err
			}
			p.Warnings = append(p.Warnings, err.Error())
		}
	}
	for _, r := range p.Remove {
		full := filepath.Join(root, filepath.FromSlash(r))
		if err := os.Remove(full); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("uninstall: %w", err)
		}
	}
	return nil
}
