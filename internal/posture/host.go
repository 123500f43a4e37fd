package posture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// DefaultCommandTimeout bounds every command a rule runs.
const DefaultCommandTimeout = 10 * time.Second

// MaxOutputBytes is the most output kept from one command.
const MaxOutputBytes = 4 << 20

// ErrCommandNotFound is returned by a Runner when the program does not
// exist; the rule then reports not_applicable.
var ErrCommandNotFound = errors.New("command not found")

// ErrNotSupported is returned by a collector that does not exist on this
// operating system; the rule then reports not_applicable.
var ErrNotSupported = errors.New("not supported on this operating system")

// Runner runs a command without a shell and returns its combined output.
// A non-zero exit status is not an error: SCA rules read the output anyway.
type Runner interface {
	Run(ctx context.Context, argv []string) ([]byte, error)
}

// Process is a running process.
type Process struct {
	PID  int
	Name string // executable base name
}

// Package is an installed package or application.
type Package struct {
	Name    string
	Version string
	Source  string // dpkg, rpm, app, msi…
}

// Service is a system service and its state.
type Service struct {
	Name  string
	State string // running, stopped
	Start string // auto, manual, disabled
}

// OSInfo describes the operating system.
type OSInfo struct {
	Family  string // linux, windows, darwin
	ID      string // debian, ubuntu, windows, macos…
	Name    string // "Ubuntu 24.04.1 LTS", "Windows 11 Pro"
	Version string // 24.04, 23H2, 14.5
	Build   string // 22631.3447, 23F79
	Arch    string
	Kernel  string
}

// User is the user signed in on the console session.
type User struct {
	Name   string
	Admin  bool
	Groups []string
}

// Registry reads the Windows registry. Paths are "HIVE\key\subkey" with the
// hive long (HKEY_LOCAL_MACHINE) or short (HKLM).
type Registry interface {
	// KeyExists reports whether the key exists.
	KeyExists(path string) (bool, error)
	// Value returns a value's data as lines: numbers in decimal, strings as
	// is, multi-strings one per line, binary as hex. ok is false when the
	// value (or its key) does not exist.
	Value(path, name string) (lines []string, ok bool, err error)
	// SubKeys lists the names of a key's subkeys.
	SubKeys(path string) ([]string, error)
}

// Host is everything the evaluator observes. Nil collectors make their
// rules not_applicable; tests set Root to a temporary directory and Runner
// to scripts they wrote.
type Host struct {
	// Root is prepended to every file and directory path ("" for the real
	// root).
	Root string
	// Runner runs c: commands; nil disables command rules.
	Runner         Runner
	CommandTimeout time.Duration
	Processes      func(context.Context) ([]Process, error)
	Packages       func(context.Context) ([]Package, error)
	Services       func(context.Context) ([]Service, error)
	OS             func(context.Context) (OSInfo, error)
	SessionUser    func(context.Context) (*User, error)
	Registry       Registry
	// CaseInsensitiveNames makes process, package and service names match
	// regardless of case (Windows and macOS).
	CaseInsensitiveNames bool
	// Now is the clock for age comparisons (time.Now when nil).
	Now func() time.Time
}

// path maps a rule path onto the host's filesystem.
func (h *Host) path(p string) string {
	if h.Root == "" {
		return p
	}
	return filepath.Join(h.Root, filepath.FromSlash(p))
}

// ExecRunner runs real programs with a timeout and no shell.
type ExecRunner struct {
	// Path, when set, is where programs named without a slash are looked up
	// instead of $PATH (tests point it at a temporary directory).
	Path []string
	// Env, when set, replaces the environment of the commands.
	Env []string
	// Root, when set, is prepended to programs named by absolute path
	// (tests run /usr/bin/fdesetup as <Root>/usr/bin/fdesetup).
	Root string
}

// Run implements Runner.
func (r *ExecRunner) Run(ctx context.Context, argv []string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, errors.New("empty command")
	}
	prog, err := r.look(argv[0])
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, prog, argv[1:]...)
	if r.Env != nil {
		cmd.Env = r.Env
	}
	var out limitedBuffer
	out.max = MaxOutputBytes
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = time.Second
	prepareCommand(cmd)
	err = cmd.Run()
	if ctx.Err() != nil {
		return out.Bytes(), fmt.Errorf("command %q: %w", strings.Join(argv, " "), ctx.Err())
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return out.Bytes(), fmt.Errorf("command %q: %w", strings.Join(argv, " "), err)
	}
	return out.Bytes(), nil
}

func (r *ExecRunner) look(name string) (string, error) {
	if strings.ContainsAny(name, `/\`) {
		if r.Root != "" && filepath.IsAbs(name) {
			name = filepath.Join(r.Root, name)
		}
		if _, err := exec.LookPath(name); err != nil {
			return "", fmt.Errorf("%s: %w", name, ErrCommandNotFound)
		}
		return name, nil
	}
	if r.Path == nil {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, ErrCommandNotFound)
		}
		return p, nil
	}
	for _, dir := range r.Path {
		p := filepath.Join(dir, name)
		if lp, err := exec.LookPath(p); err == nil {
			return lp, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, ErrCommandNotFound)
}

// limitedBuffer keeps the first max bytes written and drops the rest. It
// deliberately has no ReadFrom, so io.Copy goes through Write.
type limitedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		if len(p) > room {
			b.buf.Write(p[:room])
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}

// Bytes returns what was kept.
func (b *limitedBuffer) Bytes() []byte { return b.buf.Bytes() }
