package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/custodia/custodia/internal/dataprotection/cli"
)

// cmdScan finds personal and card data in files: see "custodia scan --help".
func cmdScan(ctx context.Context, env *Env, args []string) error {
	return dpError(cli.Scan(ctx, &cli.Env{Stdin: env.Stdin, Stdout: env.Stdout, Stderr: env.Stderr}, args))
}

// dpError maps the data-protection tools' usage errors to errUsage.
func dpError(err error) error {
	if errors.Is(err, cli.ErrUsage) {
		return fmt.Errorf("%w: %s", errUsage, strings.TrimPrefix(err.Error(), cli.ErrUsage.Error()+": "))
	}
	return err
}
