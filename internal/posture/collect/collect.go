// Package collect gathers what the posture engine observes on a real host:
// processes, packages, services, the OS version, the session user and, on
// Windows, the registry. The parsers are portable and tested on recorded
// outputs; the glue that calls the operating system is behind build tags.
package collect

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/custodia/custodia/internal/posture"
)

// ParseOSRelease reads an os-release(5) file.
func ParseOSRelease(data []byte) posture.OSInfo {
	info := posture.OSInfo{Family: "linux", Arch: runtime.GOARCH}
	vals := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil {
			v = uq
		} else {
			v = strings.Trim(v, `'"`)
		}
		vals[k] = v
	}
	info.ID = vals["ID"]
	info.Name = vals["PRETTY_NAME"]
	if info.Name == "" {
		info.Name = vals["NAME"]
	}
	info.Version = vals["VERSION_ID"]
	info.Build = vals["BUILD_ID"]
	if info.Build == "" {
		info.Build = info.Version
	}
	return info
}

// ParseDpkgStatus reads /var/lib/dpkg/status and returns the installed
// packages.
func ParseDpkgStatus(r io.Reader) ([]posture.Package, error) {
	var out []posture.Package
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var name, version, status string
	flush := func() {
		if name != "" && strings.HasSuffix(status, " installed") {
			out = append(out, posture.Package{Name: name, Version: version, Source: "dpkg"})
		}
		name, version, status = "", "", ""
	}
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, " ") {
			continue
		}
		switch k {
		case "Package":
			name = strings.TrimSpace(v)
		case "Version":
			version = strings.TrimSpace(v)
		case "Status":
			status = strings.TrimSpace(v)
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dpkg status: %w", err)
	}
	return out, nil
}

// RPMQueryArgs is the rpm command whose output ParseRPM reads.
var RPMQueryArgs = []string{"rpm", "-qa", "--qf", `%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\n`}

// ParseRPM reads the output of RPMQueryArgs.
func ParseRPM(out []byte) []posture.Package {
	var pkgs []posture.Package
	for _, line := range strings.Split(string(out), "\n") {
		name, ver, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if !ok || name == "" {
			continue
		}
		ver = strings.TrimPrefix(ver, "0:")
		pkgs = append(pkgs, posture.Package{Name: name, Version: ver, Source: "rpm"})
	}
	return pkgs
}

// LinuxProcesses lists processes from <root>/proc.
func LinuxProcesses(root string) ([]posture.Process, error) {
	if root == "" {
		root = "/"
	}
	dir := filepath.Join(root, "proc")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var out []posture.Process
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "comm"))
		if err != nil {
			continue // the process ended
		}
		name := strings.TrimSpace(string(b))
		// comm is cut at 15 bytes; the executable's base name is complete.
		if exe, err := os.Readlink(filepath.Join(dir, e.Name(), "exe")); err == nil {
			if base := filepath.Base(strings.TrimSuffix(exe, " (deleted)")); strings.HasPrefix(base, name) {
				name = base
			}
		} else if cmd, err := os.ReadFile(filepath.Join(dir, e.Name(), "cmdline")); err == nil && len(cmd) > 0 {
			arg0, _, _ := bytes.Cut(cmd, []byte{0})
			if base := filepath.Base(string(arg0)); strings.HasPrefix(base, name) {
				name = base
			}
		}
		out = append(out, posture.Process{PID: pid, Name: name})
	}
	return out, nil
}

// ParseSystemctl merges `systemctl list-units --type=service --all
// --no-legend --plain` and `systemctl list-unit-files --type=service
// --no-legend --plain` outputs.
func ParseSystemctl(units, files []byte) []posture.Service {
	byName := map[string]*posture.Service{}
	get := func(unit string) *posture.Service {
		name := strings.TrimSuffix(unit, ".service")
		s, ok := byName[name]
		if !ok {
			s = &posture.Service{Name: name, State: "stopped", Start: "manual"}
			byName[name] = s
		}
		return s
	}
	for _, line := range strings.Split(string(units), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "● "))
		if len(f) < 4 || !strings.HasSuffix(f[0], ".service") {
			continue
		}
		s := get(f[0])
		if f[3] == "running" {
			s.State = "running"
		}
	}
	for _, line := range strings.Split(string(files), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasSuffix(f[0], ".service") {
			continue
		}
		s := get(f[0])
		switch f[1] {
		case "enabled", "enabled-runtime", "static", "alias":
			s.Start = "auto"
		case "disabled":
			s.Start = "manual"
		case "masked", "masked-runtime":
			s.Start = "disabled"
		}
	}
	return sortedServices(byName)
}

func sortedServices(m map[string]*posture.Service) []posture.Service {
	out := make([]posture.Service, 0, len(m))
	for _, s := range m {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ParsePS reads `ps -axco pid=,comm=` (macOS) output.
func ParsePS(out []byte) []posture.Process {
	var ps []posture.Process
	for _, line := range strings.Split(string(out), "\n") {
		pidS, name, ok := strings.Cut(strings.TrimSpace(line), " ")
		pid, err := strconv.Atoi(pidS)
		if !ok || err != nil {
			continue
		}
		ps = append(ps, posture.Process{PID: pid, Name: strings.TrimSpace(name)})
	}
	return ps
}

// ParseSwVers reads `sw_vers` output.
func ParseSwVers(out []byte) posture.OSInfo {
	info := posture.OSInfo{Family: "darwin", ID: "macos", Arch: runtime.GOARCH}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "ProductName":
			info.Name = v
		case "ProductVersion":
			info.Version = v
		case "BuildVersion":
			info.Build = v
		}
	}
	if info.Version != "" {
		info.Name += " " + info.Version
	}
	return info
}

// ParseLaunchctlList reads `launchctl list` (PID, status, label).
func ParseLaunchctlList(out []byte) []posture.Service {
	byName := map[string]*posture.Service{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] == "PID" {
			continue
		}
		st := "stopped"
		if _, err := strconv.Atoi(f[0]); err == nil {
			st = "running"
		}
		byName[f[2]] = &posture.Service{Name: f[2], State: st, Start: "auto"}
	}
	return sortedServices(byName)
}

// ParseDseditgroup reports whether `dseditgroup -o checkmember -m USER
// admin` says the user is a member.
func ParseDseditgroup(out []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(out), []byte("yes "))
}

// ParseGroupFile returns the groups user belongs to (by /etc/group member
// lists and the primary gid from /etc/passwd).
func ParseGroupFile(group, passwd []byte, user string) []string {
	primary := ""
	for _, line := range strings.Split(string(passwd), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 4 && f[0] == user {
			primary = f[3]
		}
	}
	var out []string
	for _, line := range strings.Split(string(group), "\n") {
		f := strings.Split(strings.TrimSpace(line), ":")
		if len(f) < 4 {
			continue
		}
		member := f[2] == primary && primary != ""
		for _, m := range strings.Split(f[3], ",") {
			if strings.TrimSpace(m) == user {
				member = true
			}
		}
		if member {
			out = append(out, f[0])
		}
	}
	return out
}

// adminGroups are the groups that grant administrative rights on Linux and
// macOS.
var adminGroups = map[string]bool{"sudo": true, "wheel": true, "admin": true, "root": true}

// IsAdmin reports whether any group grants administrative rights.
func IsAdmin(groups []string) bool {
	for _, g := range groups {
		if adminGroups[g] {
			return true
		}
	}
	return false
}

// LinuxSessionUser finds the user of the active graphical or console
// session from systemd-logind's state files under <root>/run/systemd/sessions.
func LinuxSessionUser(root string) (string, error) {
	_, user, err := LinuxActiveSession(root)
	return user, err
}

// LinuxActiveSession returns the id and user of the session LinuxSessionUser
// picks ("" when nobody is signed in).
func LinuxActiveSession(root string) (id, user string, err error) {
	if root == "" {
		root = "/"
	}
	dir := filepath.Join(root, "run", "systemd", "sessions")
	ents, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return "", "", nil
		}
		return "", "", fmt.Errorf("read sessions: %w", err)
	}
	bestScore := -1
	for _, e := range ents {
		if strings.Contains(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		kv := map[string]string{}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				kv[k] = v
			}
		}
		if kv["USER"] == "" || kv["CLASS"] == "greeter" {
			continue
		}
		score := 0
		if kv["ACTIVE"] == "1" {
			score += 4
		}
		if kv["SEAT"] == "seat0" {
			score += 2
		}
		if kv["TYPE"] == "x11" || kv["TYPE"] == "wayland" {
			score++
		}
		if score > bestScore {
			id, user, bestScore = e.Name(), kv["USER"], score
		}
	}
	return id, user, nil
}

// ParseNetLocalGroup reads `net localgroup GROUP` output and returns the
// members: the lines between the dashed rule and the completion message,
// which is always the last line (and localized, as are the headers).
func ParseNetLocalGroup(out []byte) []string {
	var members []string
	in := false
	for _, line := range strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "---"):
			in = true
		case in && line != "":
			members = append(members, line)
		}
	}
	if len(members) > 0 {
		members = members[:len(members)-1] // "The command completed successfully."
	}
	return members
}

// WindowsIsAdmin reports whether user (DOMAIN\name or name) is among the
// members of the Administrators group.
func WindowsIsAdmin(members []string, user string) bool {
	short := user
	if i := strings.LastIndexByte(user, '\\'); i >= 0 {
		short = user[i+1:]
	}
	for _, m := range members {
		ms := m
		if i := strings.LastIndexByte(m, '\\'); i >= 0 {
			ms = m[i+1:]
		}
		if strings.EqualFold(m, user) || strings.EqualFold(ms, short) {
			return true
		}
	}
	return false
}

// ParseTasklistCSV reads `tasklist /fo csv /nh` output.
func ParseTasklistCSV(out []byte) ([]posture.Process, error) {
	r := csv.NewReader(bytes.NewReader(out))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("tasklist: %w", err)
	}
	var ps []posture.Process
	for _, rec := range recs {
		if len(rec) < 2 {
			continue
		}
		pid, err := strconv.Atoi(rec[1])
		if err != nil {
			continue
		}
		ps = append(ps, posture.Process{PID: pid, Name: rec[0]})
	}
	return ps, nil
}

// Windows registry locations the collectors read.
const (
	winCurrentVersion = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	winLastLoggedOn   = `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Authentication\LogonUI`
)

var winUninstallKeys = []string{
	`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`,
	`HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall`,
}

func first(reg posture.Registry, key, name string) string {
	lines, ok, err := reg.Value(key, name)
	if err != nil || !ok || len(lines) == 0 {
		return ""
	}
	return lines[0]
}

// WindowsOS reads the Windows version from the registry: build is
// CurrentBuildNumber.UBR (22631.3447), version the DisplayVersion (23H2).
func WindowsOS(reg posture.Registry) (posture.OSInfo, error) {
	ok, err := reg.KeyExists(winCurrentVersion)
	if err != nil {
		return posture.OSInfo{}, err
	}
	if !ok {
		return posture.OSInfo{}, fmt.Errorf("%s does not exist", winCurrentVersion)
	}
	info := posture.OSInfo{Family: "windows", ID: "windows", Arch: runtime.GOARCH}
	info.Name = first(reg, winCurrentVersion, "ProductName")
	build := first(reg, winCurrentVersion, "CurrentBuildNumber")
	// Windows 11 still says "Windows 10" in ProductName; the build tells.
	if n, err := strconv.Atoi(build); err == nil && n >= 22000 {
		info.Name = strings.Replace(info.Name, "Windows 10", "Windows 11", 1)
	}
	info.Version = first(reg, winCurrentVersion, "DisplayVersion")
	if info.Version == "" {
		info.Version = first(reg, winCurrentVersion, "ReleaseId")
	}
	if ubr := first(reg, winCurrentVersion, "UBR"); ubr != "" && build != "" {
		build += "." + ubr
	}
	info.Build = build
	info.Kernel = first(reg, winCurrentVersion, "CurrentVersion")
	return info, nil
}

// WindowsPackages lists installed programs from the Uninstall keys of the
// machine and of every loaded user hive.
func WindowsPackages(reg posture.Registry) ([]posture.Package, error) {
	keys := append([]string(nil), winUninstallKeys...)
	if users, err := reg.SubKeys(`HKU`); err == nil {
		for _, u := range users {
			keys = append(keys, `HKU\`+u+`\Software\Microsoft\Windows\CurrentVersion\Uninstall`)
		}
	}
	var out []posture.Package
	for _, k := range keys {
		subs, err := reg.SubKeys(k)
		if err != nil {
			continue
		}
		for _, s := range subs {
			name := first(reg, k+`\`+s, "DisplayName")
			if name == "" {
				continue
			}
			out = append(out, posture.Package{Name: name, Version: first(reg, k+`\`+s, "DisplayVersion"), Source: "msi"})
		}
	}
	return out, nil
}

// WindowsLastUser returns the last user to sign in on the console
// (DOMAIN\name), which is the session user on a single-session desk.
func WindowsLastUser(reg posture.Registry) string {
	u := first(reg, winLastLoggedOn, "LastLoggedOnSAMUser")
	if u == "" {
		u = first(reg, winLastLoggedOn, "LastLoggedOnUser")
	}
	return strings.TrimPrefix(u, `.\`)
}
