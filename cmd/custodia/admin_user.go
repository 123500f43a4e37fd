package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
)

func adminCreateUser(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("custodia admin create-user", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, `Usage: custodia admin create-user --username NAME --role ROLE [flags]

Creates a local user. Without --password-stdin a one-time password is printed
once; the user must change it at first sign-in. Roles: admin, security, dpo,
auditor, supervisor, agent (admin, security, dpo and auditor must enrol TOTP
at first sign-in). Give --all-clients or --clients; a user with neither sees
no client's data.

Flags:`)
		fs.PrintDefaults()
	}
	cfg := config.Defaults()
	cfg.RegisterStore(fs)
	username := fs.String("username", "", "sign-in `name` (lower-case letters, digits, . _ - @)")
	email := fs.String("email", "", "e-mail `address`")
	name := fs.String("name", "", "display `name`")
	role := fs.String("role", "", "`role`: admin, security, dpo, auditor, supervisor or agent")
	clients := fs.String("clients", "", "comma-separated client `codes` the user may see")
	allClients := fs.Bool("all-clients", false, "the user sees every client")
	locale := fs.String("locale", "", "language: en, es, or empty for the browser's")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of generating a one-time password")
	if err := cfg.Parse(fs, args, env.Getenv); err != nil {
		return usageErr(err)
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if *username == "" || *role == "" {
		return usageErr(errors.New("--username and --role are required"))
	}
	r, err := identity.ParseRole(*role)
	if err != nil {
		return usageErr(err)
	}
	password := ""
	if *pwStdin {
		line, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("--password-stdin: no password on standard input")
		}
		password = strings.TrimRight(line, "\r\n")
		if password == "" {
			return errors.New("--password-stdin: empty password")
		}
	}
	st, err := store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := secret.LoadOrCreate(cfg.DataDir, cfg.MasterKey)
	if err != nil {
		return err
	}
	var codes []string
	for _, c := range strings.Split(*clients, ",") {
		if c = strings.ToLower(strings.TrimSpace(c)); c != "" {
			codes = append(codes, c)
		}
	}
	var clientIDs []int64
	if len(codes) > 0 {
		var ids map[string]int64
		if err := st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			ids, err = tx.ClientIDsByCodes(ctx, codes)
			return err
		}); err != nil {
			return err
		}
		var unknown []string
		for _, c := range codes {
			if id, ok := ids[c]; ok {
				clientIDs = append(clientIDs, id)
			} else {
				unknown = append(unknown, c)
			}
		}
		if len(unknown) > 0 {
			return fmt.Errorf("unknown client codes: %s", strings.Join(unknown, ", "))
		}
	}
	svc := auth.NewService(st, keys, auth.Config{}, nil)
	u, oneTime, err := svc.CreateUser(ctx, nil, auth.NewUser{
		User:     identity.User{Username: *username, Email: *email, DisplayName: *name, Role: r, AllClients: *allClients, ClientIDs: clientIDs, Locale: *locale},
		Password: password,
	})
	var fe identity.FieldErrors
	if errors.As(err, &fe) {
		keys := make([]string, 0, len(fe))
		for k := range fe {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "\n  --%s: %s", strings.ReplaceAll(strings.TrimSuffix(k, "_ids"), "_", "-"), fe[k])
		}
		return fmt.Errorf("cannot create the user:%s", b.String())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "created user %s (id %d, role %s)\n", u.Username, u.ID, u.Role)
	if oneTime != "" {
		fmt.Fprintf(env.Stdout, "one-time password (shown once; it must be changed at first sign-in): %s\n", oneTime)
	}
	if u.Role.RequiresMFA() {
		fmt.Fprintln(env.Stdout, "this role must enrol two-factor authentication (TOTP) at first sign-in")
	}
	return nil
}

func adminRotateKey(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("custodia admin rotate-key", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, `Usage: custodia admin rotate-key [--data-dir DIR] [--database URL]

Generates a new master key and re-wraps every encrypted value in the database
(TOTP seeds, stored secrets) with it in one transaction. Then the new key
replaces DATA_DIR/master.key; the old one is kept as master.key.old-<time>
(delete it once no backup needs it). Stop the server first, or restart it
afterwards: a running server still holds the old key.

When the key comes from CUSTODIA_MASTER_KEY, the new key is printed once:
put it in CUSTODIA_MASTER_KEY before the next start.

Flags:`)
		fs.PrintDefaults()
	}
	cfg := config.Defaults()
	cfg.RegisterStore(fs)
	if err := cfg.Parse(fs, args, env.Getenv); err != nil {
		return usageErr(err)
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	st, err := store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.MasterKey != "" {
		old, err := secret.LoadOrCreate("", cfg.MasterKey)
		if err != nil {
			return err
		}
		raw := secret.Generate()
		nk, err := secret.New(raw)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "new master key (shown once; set CUSTODIA_MASTER_KEY to it before the next start):\n%s\n", secret.Encode(raw))
		n, err := auth.RewrapAll(ctx, st, old, nk)
		if err != nil {
			return fmt.Errorf("nothing changed; keep the old CUSTODIA_MASTER_KEY: %w", err)
		}
		fmt.Fprintf(env.Stdout, "re-wrapped %d encrypted values under key %s\n", n, nk.KeyID())
		return nil
	}
	nk, oldFile, n, err := auth.RotateMasterKey(ctx, st, cfg.DataDir, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "re-wrapped %d encrypted values under the new master key %s\n", n, nk.KeyID())
	fmt.Fprintf(env.Stdout, "old key kept as %s (delete it when no backup needs it); restart the server\n", oldFile)
	return nil
}
