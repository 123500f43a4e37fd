//go:build windows

package collect

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/custodia/custodia/internal/posture"
)

// New returns the host the agent runs on.
func New() *posture.Host {
	reg := Registry{}
	h := NewWindows(WindowsParts{
		Registry:  reg,
		Runner:    &posture.ExecRunner{},
		Processes: processes,
		Services:  func(ctx context.Context) ([]posture.Service, error) { return services(reg) },
		AdminsGroup: func() string {
			sid, err := windows.StringToSid("S-1-5-32-544")
			if err != nil {
				return ""
			}
			name, _, _, err := sid.LookupAccount("")
			if err != nil {
				return ""
			}
			return name
		},
	})
	fallback := h.SessionUser
	h.SessionUser = func(ctx context.Context) (*posture.User, error) {
		if u, err := consoleUser(); err == nil {
			return u, nil
		}
		// Not running as SYSTEM (e.g. "check" from an admin prompt):
		// fall back to the last console user and the Administrators group.
		return fallback(ctx)
	}
	return h
}

// consoleUser returns the user signed in on the active console session,
// from its token: the name from the token's user SID, Admin from the
// presence of BUILTIN\Administrators (S-1-5-32-544) among the token's groups,
// which also holds under UAC (deny-only) and for nested domain groups.
// It needs SYSTEM; nil without error means nobody is signed in.
func consoleUser() (*posture.User, error) {
	session := windows.WTSGetActiveConsoleSessionId()
	if session == 0xFFFFFFFF {
		return nil, nil
	}
	var tok windows.Token
	if err := windows.WTSQueryUserToken(session, &tok); err != nil {
		if errors.Is(err, windows.ERROR_NO_TOKEN) {
			return nil, nil // the logon screen
		}
		return nil, fmt.Errorf("session %d token: %w", session, err)
	}
	defer tok.Close()
	tu, err := tok.GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("token user: %w", err)
	}
	account, domain, _, err := tu.User.Sid.LookupAccount("")
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", tu.User.Sid, err)
	}
	u := &posture.User{Name: domain + `\` + account}
	admins, err := windows.CreateWellKnownSid(windows.WinBuiltinAdministratorsSid)
	if err != nil {
		return nil, err
	}
	groups, err := tok.GetTokenGroups()
	if err != nil {
		return nil, fmt.Errorf("token groups: %w", err)
	}
	for _, g := range groups.AllGroups() {
		if g.Sid.Equals(admins) {
			u.Admin = true
			u.Groups = append(u.Groups, "Administrators")
		}
	}
	return u, nil
}

// Registry reads the live Windows registry (the 64-bit view).
type Registry struct{}

var roots = map[string]registry.Key{
	"HKEY_LOCAL_MACHINE":  registry.LOCAL_MACHINE,
	"HKEY_USERS":          registry.USERS,
	"HKEY_CURRENT_USER":   registry.CURRENT_USER,
	"HKEY_CLASSES_ROOT":   registry.CLASSES_ROOT,
	"HKEY_CURRENT_CONFIG": registry.CURRENT_CONFIG,
}

func open(path string, access uint32) (registry.Key, bool, error) {
	hive, sub, err := posture.SplitKey(path)
	if err != nil {
		return 0, false, err
	}
	k, err := registry.OpenKey(roots[hive], sub, access|registry.WOW64_64KEY)
	if errors.Is(err, registry.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("open %s: %w", path, err)
	}
	return k, true, nil
}

// KeyExists implements posture.Registry.
func (Registry) KeyExists(path string) (bool, error) {
	k, ok, err := open(path, registry.QUERY_VALUE)
	if ok {
		k.Close()
	}
	return ok, err
}

// Value implements posture.Registry.
func (Registry) Value(path, name string) ([]string, bool, error) {
	k, ok, err := open(path, registry.QUERY_VALUE)
	if err != nil || !ok {
		return nil, false, err
	}
	defer k.Close()
	_, typ, err := k.GetValue(name, nil)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil && !errors.Is(err, windows.ERROR_MORE_DATA) {
		return nil, false, fmt.Errorf("read %s -> %s: %w", path, name, err)
	}
	switch typ {
	case registry.DWORD, registry.QWORD:
		v, _, err := k.GetIntegerValue(name)
		if err != nil {
			return nil, false, err
		}
		return []string{strconv.FormatUint(v, 10)}, true, nil
	case registry.SZ, registry.EXPAND_SZ:
		v, _, err := k.GetStringValue(name)
		if err != nil {
			return nil, false, err
		}
		return []string{v}, true, nil
	case registry.MULTI_SZ:
		v, _, err := k.GetStringsValue(name)
		if err != nil {
			return nil, false, err
		}
		return v, true, nil
	default:
		v, _, err := k.GetBinaryValue(name)
		if err != nil {
			return nil, false, err
		}
		return []string{hex.EncodeToString(v)}, true, nil
	}
}

// SubKeys implements posture.Registry.
func (Registry) SubKeys(path string) ([]string, error) {
	k, ok, err := open(path, registry.ENUMERATE_SUB_KEYS)
	if err != nil || !ok {
		return nil, err
	}
	defer k.Close()
	return k.ReadSubKeyNames(-1)
}

func processes(context.Context) ([]posture.Process, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return nil, fmt.Errorf("process snapshot: %w", err)
	}
	defer windows.CloseHandle(snap)
	var e windows.ProcessEntry32
	e.Size = uint32(unsafe.Sizeof(e))
	var out []posture.Process
	for err = windows.Process32First(snap, &e); err == nil; err = windows.Process32Next(snap, &e) {
		out = append(out, posture.Process{PID: int(e.ProcessID), Name: windows.UTF16ToString(e.ExeFile[:])})
	}
	if !errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		return out, fmt.Errorf("process list: %w", err)
	}
	return out, nil
}

func services(reg Registry) ([]posture.Service, error) {
	m, err := mgr.Connect()
	if err != nil {
		return nil, fmt.Errorf("service manager: %w", err)
	}
	defer m.Disconnect()
	names, err := m.ListServices()
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	out := make([]posture.Service, 0, len(names))
	for _, n := range names {
		s := posture.Service{Name: n, State: "stopped", Start: "manual"}
		if h, err := m.OpenService(n); err == nil {
			if st, err := h.Query(); err == nil && st.State == svc.Running {
				s.State = "running"
			}
			h.Close()
		}
		if v, ok, _ := reg.Value(`HKLM\SYSTEM\CurrentControlSet\Services\`+n, "Start"); ok && len(v) > 0 {
			switch strings.TrimSpace(v[0]) {
			case "0", "1", "2":
				s.Start = "auto"
			case "4":
				s.Start = "disabled"
			}
		}
		out = append(out, s)
	}
	return out, nil
}
