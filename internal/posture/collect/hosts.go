package collect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/posture"
)

// CollectorTimeout bounds each command a collector runs.
const CollectorTimeout = 10 * time.Second

func run(ctx context.Context, r posture.Runner, argv ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, CollectorTimeout)
	defer cancel()
	return r.Run(ctx, argv)
}

// NewLinux returns a Linux host whose files live under root ("" for the
// real root) and whose commands go through runner.
func NewLinux(root string, runner posture.Runner) *posture.Host {
	h := &posture.Host{Root: root, Runner: runner, CommandTimeout: posture.DefaultCommandTimeout}
	p := func(rel string) string {
		if root == "" {
			return rel
		}
		return filepath.Join(root, filepath.FromSlash(rel))
	}
	h.Processes = func(context.Context) ([]posture.Process, error) { return LinuxProcesses(root) }
	h.Packages = func(ctx context.Context) ([]posture.Package, error) {
		f, err := os.Open(p("/var/lib/dpkg/status"))
		if err == nil {
			defer f.Close()
			return ParseDpkgStatus(f)
		}
		out, rerr := run(ctx, runner, RPMQueryArgs...)
		if errors.Is(rerr, posture.ErrCommandNotFound) {
			return nil, fmt.Errorf("no dpkg status (%v) and no rpm", err)
		}
		if rerr != nil {
			return nil, rerr
		}
		return ParseRPM(out), nil
	}
	h.Services = func(ctx context.Context) ([]posture.Service, error) {
		units, err := run(ctx, runner, "systemctl", "list-units", "--type=service", "--all", "--no-legend", "--plain", "--no-pager")
		if err != nil {
			return nil, err
		}
		files, err := run(ctx, runner, "systemctl", "list-unit-files", "--type=service", "--no-legend", "--plain", "--no-pager")
		if err != nil {
			return nil, err
		}
		return ParseSystemctl(units, files), nil
	}
	h.OS = func(context.Context) (posture.OSInfo, error) {
		b, err := os.ReadFile(p("/etc/os-release"))
		if err != nil {
			b, err = os.ReadFile(p("/usr/lib/os-release"))
		}
		if err != nil {
			return posture.OSInfo{}, fmt.Errorf("os-release: %w", err)
		}
		info := ParseOSRelease(b)
		if k, err := os.ReadFile(p("/proc/sys/kernel/osrelease")); err == nil {
			info.Kernel = strings.TrimSpace(string(k))
		}
		return info, nil
	}
	h.SessionUser = func(context.Context) (*posture.User, error) {
		name, err := LinuxSessionUser(root)
		if err != nil || name == "" {
			return nil, err
		}
		group, _ := os.ReadFile(p("/etc/group"))
		passwd, _ := os.ReadFile(p("/etc/passwd"))
		groups := ParseGroupFile(group, passwd, name)
		return &posture.User{Name: name, Groups: groups, Admin: IsAdmin(groups)}, nil
	}
	return h
}

// NewDarwin returns a macOS host whose commands go through runner.
func NewDarwin(runner posture.Runner) *posture.Host {
	h := &posture.Host{Runner: runner, CommandTimeout: posture.DefaultCommandTimeout, CaseInsensitiveNames: true}
	h.Processes = func(ctx context.Context) ([]posture.Process, error) {
		out, err := run(ctx, runner, "/bin/ps", "-axco", "pid=,comm=")
		if err != nil {
			return nil, err
		}
		return ParsePS(out), nil
	}
	h.Packages = func(ctx context.Context) ([]posture.Package, error) {
		return DarwinApps(ctx, runner, "/Applications")
	}
	h.Services = func(ctx context.Context) ([]posture.Service, error) {
		out, err := run(ctx, runner, "/bin/launchctl", "list")
		if err != nil {
			return nil, err
		}
		return ParseLaunchctlList(out), nil
	}
	h.OS = func(ctx context.Context) (posture.OSInfo, error) {
		out, err := run(ctx, runner, "/usr/bin/sw_vers")
		if err != nil {
			return posture.OSInfo{}, err
		}
		info := ParseSwVers(out)
		if k, err := run(ctx, runner, "/usr/bin/uname", "-r"); err == nil {
			info.Kernel = strings.TrimSpace(string(k))
		}
		return info, nil
	}
	h.SessionUser = func(ctx context.Context) (*posture.User, error) {
		out, err := run(ctx, runner, "/usr/bin/stat", "-f", "%Su", "/dev/console")
		if err != nil {
			return nil, err
		}
		name := strings.TrimSpace(string(out))
		if name == "" || name == "root" {
			return nil, nil // the login window
		}
		u := &posture.User{Name: name}
		if out, err := run(ctx, runner, "/usr/sbin/dseditgroup", "-o", "checkmember", "-m", name, "admin"); err == nil {
			u.Admin = ParseDseditgroup(out)
			if u.Admin {
				u.Groups = append(u.Groups, "admin")
			}
		}
		return u, nil
	}
	return h
}

// DarwinApps lists the applications in dir with their versions, read from
// each bundle's Info.plist (converted to XML by plutil when binary).
func DarwinApps(ctx context.Context, runner posture.Runner, dir string) ([]posture.Package, error) {
	apps, err := filepath.Glob(filepath.Join(dir, "*.app"))
	if err != nil {
		return nil, err
	}
	var out []posture.Package
	for _, app := range apps {
		plist := filepath.Join(app, "Contents", "Info.plist")
		b, err := os.ReadFile(plist)
		if err != nil {
			continue
		}
		if strings.HasPrefix(string(b), "bplist") {
			if b, err = run(ctx, runner, "/usr/bin/plutil", "-convert", "xml1", "-o", "-", plist); err != nil {
				continue
			}
		}
		kv := ParsePlistStrings(b)
		name := strings.TrimSuffix(filepath.Base(app), ".app")
		ver := kv["CFBundleShortVersionString"]
		if ver == "" {
			ver = kv["CFBundleVersion"]
		}
		out = append(out, posture.Package{Name: name, Version: ver, Source: "app"})
		if id := kv["CFBundleIdentifier"]; id != "" {
			out = append(out, posture.Package{Name: id, Version: ver, Source: "app"})
		}
	}
	return out, nil
}

// ParsePlistStrings extracts the top-level string values of an XML
// property list.
func ParsePlistStrings(b []byte) map[string]string {
	out := map[string]string{}
	s := string(b)
	for {
		i := strings.Index(s, "<key>")
		if i < 0 {
			break
		}
		s = s[i+5:]
		j := strings.Index(s, "</key>")
		if j < 0 {
			break
		}
		key := s[:j]
		s = strings.TrimLeft(s[j+6:], " \t\r\n")
		if strings.HasPrefix(s, "<string>") {
			if k := strings.Index(s, "</string>"); k >= 0 {
				out[key] = xmlUnescape(s[8:k])
			}
		}
	}
	return out
}

func xmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'").Replace(s)
}

// WindowsParts are the OS-specific collectors a Windows host needs beside
// the registry.
type WindowsParts struct {
	Registry  posture.Registry
	Runner    posture.Runner
	Processes func(context.Context) ([]posture.Process, error)
	Services  func(context.Context) ([]posture.Service, error)
	// AdminsGroup returns the local name of the Administrators group
	// (S-1-5-32-544), which Windows translates ("Administradores").
	AdminsGroup func() string
}

// NewWindows returns a Windows host built on the registry and the given
// collectors.
func NewWindows(w WindowsParts) *posture.Host {
	h := &posture.Host{
		Runner:               w.Runner,
		CommandTimeout:       posture.DefaultCommandTimeout,
		Registry:             w.Registry,
		Processes:            w.Processes,
		Services:             w.Services,
		CaseInsensitiveNames: true,
	}
	if h.Processes == nil && w.Runner != nil {
		h.Processes = func(ctx context.Context) ([]posture.Process, error) {
			out, err := run(ctx, w.Runner, "tasklist.exe", "/fo", "csv", "/nh")
			if err != nil {
				return nil, err
			}
			return ParseTasklistCSV(out)
		}
	}
	h.Packages = func(context.Context) ([]posture.Package, error) { return WindowsPackages(w.Registry) }
	h.OS = func(context.Context) (posture.OSInfo, error) { return WindowsOS(w.Registry) }
	h.SessionUser = func(ctx context.Context) (*posture.User, error) {
		name := WindowsLastUser(w.Registry)
		if name == "" {
			return nil, nil
		}
		u := &posture.User{Name: name}
		if w.Runner != nil {
			group := "Administrators"
			if w.AdminsGroup != nil {
				if g := w.AdminsGroup(); g != "" {
					group = g
				}
			}
			out, err := run(ctx, w.Runner, "net.exe", "localgroup", group)
			if err != nil {
				return nil, fmt.Errorf("list administrators: %w", err)
			}
			u.Admin = WindowsIsAdmin(ParseNetLocalGroup(out), name)
			if u.Admin {
				u.Groups = append(u.Groups, "Administrators")
			}
		}
		return u, nil
	}
	return h
}
