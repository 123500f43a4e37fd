package main

import (
	"context"

	"github.com/custodia/custodia/internal/dataprotection/cli"
)

// cmdRedact copies a file with its personal data redacted, masked, hashed,
// tokenized or encrypted: see "custodia redact --help".
func cmdRedact(ctx context.Context, env *Env, args []string) error {
	return dpError(cli.Redact(ctx, &cli.Env{Stdin: env.Stdin, Stdout: env.Stdout, Stderr: env.Stderr}, args))
}
