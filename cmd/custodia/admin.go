package main

import (
	"context"
	"fmt"
)

// adminCommands are the "custodia admin" subcommands.
func adminCommands() []command {
	return []command{
		{"create-user", "create a local user (scripted installs); prints a one-time password unless --password-stdin", adminCreateUser},
		{"backup", "write a consistent online copy of the database and keys", adminBackup},
		{"restore", "restore a backup made by 'admin backup' into an empty data directory", adminRestore},
		{"rotate-key", "generate a new master key and re-wrap every encrypted secret with it", adminRotateKey},
	}
}

func cmdAdmin(ctx context.Context, env *Env, args []string) error {
	return runGroup(ctx, env, "admin", adminCommands(), args)
}

// runGroup dispatches a command group such as "admin" or "audit".
func runGroup(ctx context.Context, env *Env, group string, cmds []command, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(env.Stdout, "Usage: custodia %s <command> [flags]\n\nCommands:\n", group)
		for _, c := range cmds {
			fmt.Fprintf(env.Stdout, "  %-12s %s\n", c.name, c.summary)
		}
		fmt.Fprintf(env.Stdout, "\nRun 'custodia %s <command> --help' for its flags.\n", group)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, c := range cmds {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	return fmt.Errorf("%w: unknown command %q (see 'custodia %s --help')", errUsage, args[0], group)
}
