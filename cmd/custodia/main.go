// Command custodia is Custodia's one binary: "custodia serve" runs the web
// console, JSON API, listeners and schedulers; the other subcommands are the
// command-line tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Env is what a subcommand may touch of the outside world, so tests can run
// commands in-process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// command is one subcommand. run gets the arguments after the command's name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

// commands is the table of subcommands, in the order --help lists them.
func commands() []command {
	return []command{
		{"serve", "run the web console, JSON API, listeners and schedulers", cmdServe},
		{"migrate", "apply pending database migrations and report the schema version", cmdMigrate},
		{"admin", "administration: create-user, backup, restore, rotate-key", cmdAdmin},
		{"audit", "audit trail: verify the hash chain and signatures, export as JSON Lines", cmdAudit},
		{"scan", "find personal and card data in files (data discovery)", cmdScan},
		{"redact", "redact, mask, hash, tokenize or encrypt personal data in a file", cmdRedact},
		{"detect", "evaluate Sigma rules over firewall, antivirus, IDS and workstation events", cmdDetect},
		{"version", "print the version", cmdVersion},
	}
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// errUsage marks an error already explained by a usage message (exit code 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	env := &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	code := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and returns the process exit code.
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
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(env.Stderr, "custodia %s: %v\n", c.name, err)
			return 2
		default:
			fmt.Fprintf(env.Stderr, "custodia %s: %v\n", c.name, err)
			var ec interface{ ExitCode() int }
			if errors.As(err, &ec) {
				return ec.ExitCode()
			}
			return 1
		}
	}
	fmt.Fprintf(env.Stderr, "custodia: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Custodia: security platform for contact centers.")
	fmt.Fprintln(w, "\nUsage: custodia <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'custodia <command> --help' for a command's flags.")
	fmt.Fprintln(w, "Every flag can also be set as a CUSTODIA_* environment variable (--data-dir is CUSTODIA_DATA_DIR)")
	fmt.Fprintln(w, "or in the --config file; flags win over the environment, which wins over the file.")
}

func cmdVersion(ctx context.Context, env *Env, args []string) error {
	fmt.Fprintln(env.Stdout, "custodia", version)
	return nil
}
