package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/custodia/custodia/internal/posture"
	"github.com/custodia/custodia/internal/posture/daemon"
)

func cmdInstall(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "install", "[flags] [-- RUN-FLAGS...]",
		`Install the agent as a system service and start it: a systemd unit on
Linux (/etc/systemd/system/custodia-agent.service), a launchd daemon on macOS
(/Library/LaunchDaemons/com.custodia.agent.plist), a Windows service
(custodia-agent, automatic start, restart on failure). Flags after "--" are
passed to "custodia-agent run". Needs root/Administrator unless --dry-run.`)
	dry := fs.Bool("dry-run", false, "print what would be written and run, change nothing")
	root := fs.String("root", "", "write service files under `DIR` instead of / (packaging; implies --no-start)")
	noStart := fs.Bool("no-start", false, "write the service definition but do not register or start it")
	bin := fs.String("binary", "", "agent executable `PATH` the service runs (default: this executable)")
	goos := fs.String("os", runtime.GOOS, "target operating system (linux, darwin, windows); for --dry-run and --root")
	if err := parse(fs, args); err != nil {
		return err
	}
	exe := *bin
	if exe == "" {
		p, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this executable: %w", err)
		}
		if exe, err = filepath.Abs(p); err != nil {
			return err
		}
	}
	plan, err := daemon.InstallPlan(*goos, daemon.Config{Binary: exe, Args: fs.Args()})
	if err != nil {
		return err
	}
	return apply(ctx, env, plan, *dry, *root, *noStart, *goos)
}

func cmdUninstall(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "uninstall", "[flags]",
		`Stop the agent's system service and remove its definition. Reports and
logs in the state directory are kept.`)
	dry := fs.Bool("dry-run", false, "print what would be removed and run, change nothing")
	root := fs.String("root", "", "remove service files under `DIR` instead of / (implies --no-stop)")
	noStop := fs.Bool("no-stop", false, "remove the definition without stopping the service")
	goos := fs.String("os", runtime.GOOS, "target operating system (linux, darwin, windows); for --dry-run and --root")
	if err := parse(fs, args); err != nil {
		return err
	}
	plan, err := daemon.UninstallPlan(*goos)
	if err != nil {
		return err
	}
	return apply(ctx, env, plan, *dry, *root, *noStop, *goos)
}

func apply(ctx context.Context, env *Env, plan *daemon.Plan, dry bool, root string, noRun bool, goos string) error {
	if dry {
		plan.Describe(env.Stdout)
		return nil
	}
	if goos != runtime.GOOS && root == "" {
		return fmt.Errorf("--os %s differs from this system (%s): use --dry-run or --root", goos, runtime.GOOS)
	}
	var runner daemon.Runner = &posture.ExecRunner{}
	if root != "" || noRun {
		runner = nil
		plan.Service, plan.Delete = nil, "" // nothing to register in a staging tree
	}
	if err := plan.Apply(ctx, root, runner); err != nil {
		return err
	}
	for _, w := range plan.Warnings {
		fmt.Fprintf(env.Stderr, "warning: %s\n", w)
	}
	fmt.Fprintln(env.Stdout, "done")
	return nil
}
