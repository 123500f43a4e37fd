// Command custodia-agent is Custodia's workstation agent: it checks the
// desk's security posture against built-in and custom policies (Wazuh SCA
// format, both dialects) and re-checks when something changes. It runs in
// the foreground, as a systemd unit, a launchd daemon or a Windows service.
//
// It imports no web or database package: the check engine is
// internal/posture.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Env is what a subcommand may touch of the outside world, so tests run
// commands in-process.
type Env struct {
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// command is one subcommand; run gets the arguments after its name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// commands is the table of subcommands, in the order --help lists them.
func commands() []command {
	return []command{
		{"check", "run posture policies now and print the results (no server needed)", cmdCheck},
		{"lint", "check policy files for errors without running them", cmdLint},
		{"policies", "list or print the built-in baseline policies", cmdPolicies},
		{"run", "run in the foreground: check at start, on changes and on a timer; enrolled, send results to the server", cmdRun},
		{"enroll", "register this workstation with a Custodia server (enrollment secret)", cmdEnroll},
		{"report", "send a suspicious-activity report from this desk to the security team", cmdReport},
		{"install", "install and start the agent as a system service", cmdInstall},
		{"uninstall", "stop and remove the agent's system service", cmdUninstall},
		{"version", "print the version", cmdVersion},
	}
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// errUsage marks an error already explained by a usage message (exit 2).
var errUsage = errors.New("usage")

// errFindings makes check exit 1 when a check failed or errored.
var errFindings = errors.New("findings")

func main() {
	if runAsService() {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	code := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and returns the exit code: 0 success,
// 1 findings or failure, 2 usage.
func run(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			return run(ctx, env, []string{args[1], "--help"})
		}
		usage(env.Stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		case errors.Is(err, errFindings):
			return 1
		}
		fmt.Fprintf(env.Stderr, "custodia-agent %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(env.Stderr, "custodia-agent: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `custodia-agent checks this workstation's security posture.

Usage:
  custodia-agent <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, `
Run "custodia-agent <command> --help" for a command's flags.
Exit status: 0 success, 1 a check failed or errored (check) or the command
failed, 2 usage error. Policy language: docs/agent.md.
`)
}

// newFlags returns a flag set that prints usage to env and returns errors.
func newFlags(env *Env, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stdout, "Usage: custodia-agent %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fs.SetOutput(env.Stdout)
		fs.PrintDefaults()
		fs.SetOutput(env.Stderr)
	}
	return fs
}

// parse parses flags, mapping errors to errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

func cmdVersion(_ context.Context, env *Env, args []string) error {
	fs := newFlags(env, "version", "", "Print the agent's version.")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "custodia-agent %s\n", version)
	return nil
}

func sortedKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
