package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/store"
)

func cmdMigrate(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("custodia migrate", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: custodia migrate [flags]\n\nApplies pending schema migrations (serve also does this on start) and prints the schema version.\nRefuses a database whose schema is newer than this binary.\n\nFlags:")
		fs.PrintDefaults()
	}
	cfg := config.Defaults()
	cfg.RegisterStore(fs)
	status := fs.Bool("status", false, "only print the database's schema version and this binary's, apply nothing")
	if err := cfg.Parse(fs, args, env.Getenv); err != nil {
		return usageErr(err)
	}
	st, err := store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL, DataDir: cfg.DataDir, NoMigrate: true})
	if err != nil {
		return err
	}
	defer st.Close()
	if !*status {
		res, err := st.MigrateReport(ctx)
		if err != nil {
			return err
		}
		for _, r := range res {
			fmt.Fprintf(env.Stdout, "applied %s (%s)\n", r.Name, r.Duration.Round(1e6))
		}
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "schema version %d (this binary knows up to %d)\n", v, store.LatestVersion())
	return nil
}

// usageErr marks flag-parsing errors as usage errors (exit 2); --help stays help.
func usageErr(err error) error {
	if err == flag.ErrHelp {
		return err
	}
	return fmt.Errorf("%w: %v", errUsage, err)
}
