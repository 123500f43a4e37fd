package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/app"
	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/server"
	"github.com/custodia/custodia/internal/store"
)

func cmdServe(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("custodia serve", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, `Usage: custodia serve [flags]

Runs the web console and the JSON API (/api/v1) in one process. The database
is migrated on start. On a fresh database an administrator is created and its
one-time password printed once; with --demo a demo operator is seeded instead.
SIGTERM or SIGINT stops it gracefully: in-flight requests finish (up to
--shutdown-timeout) and background work is stopped and waited for.

Every flag can be set as CUSTODIA_<FLAG> (e.g. CUSTODIA_ADDR) or in the
--config YAML file; flags win. The master key may be given as
CUSTODIA_MASTER_KEY and the audit signing key as CUSTODIA_AUDIT_SIGNING_KEY.

Flags:`)
		fs.PrintDefaults()
	}
	cfg := config.Defaults()
	cfg.RegisterServe(fs)
	if err := cfg.Parse(fs, args, env.Getenv); err != nil {
		return usageErr(err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	logger, err := newLogger(cfg, env.Stderr)
	if err != nil {
		return usageErr(err)
	}
	return serve(ctx, env, cfg, logger)
}

// newLogger builds the structured logger from --log-level and --log-format.
func newLogger(cfg config.Config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", cfg.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}

// serve runs the server until ctx ends. What a person must read (the URL,
// a one-time password) goes to env.Stdout; logs go to the logger.
func serve(ctx context.Context, env *Env, cfg config.Config, log *slog.Logger) error {
	st, err := store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return err
	}
	defer st.Close()
	if v, err := st.SchemaVersion(ctx); err == nil {
		log.Info("database ready", "dialect", string(st.Dialect()), "schema_version", v)
	}
	keys, err := secret.LoadOrCreate(cfg.DataDir, cfg.MasterKey)
	if err != nil {
		return err
	}
	signing, err := audit.LoadSigningKey(cfg.DataDir, env.Getenv, true)
	if err != nil {
		return err
	}
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return err
	}
	// Listen before building the application, so that a first administrator
	// is only created when its one-time password can be shown.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	a, err := app.New(ctx, app.Options{Config: cfg, Store: st, Keys: keys, Signing: signing, Logger: log, Version: version})
	if err != nil {
		ln.Close()
		return err
	}
	a.Start(ctx)
	url := publicURL(cfg, ln.Addr())
	fmt.Fprintf(env.Stdout, "Custodia is listening on %s\n", url)
	log.Info("listening", "addr", ln.Addr().String(), "tls", tlsCfg != nil, "url", url)
	for _, line := range a.Announce {
		fmt.Fprintln(env.Stdout, strings.ReplaceAll(line, "{url}", url))
	}

	serveErr := a.Server.Serve(ctx, ln, tlsCfg, cfg.ShutdownGrace)

	// Background work stops after the last request, so nothing is half-written.
	stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := a.Stop(stopCtx); err != nil {
		log.Warn("background work did not stop cleanly", "error", err.Error())
	}
	if serveErr != nil {
		return serveErr
	}
	log.Info("stopped")
	return nil
}

func tlsConfig(cfg config.Config) (*tls.Config, error) {
	if !cfg.TLS() {
		return nil, nil
	}
	return server.TLSConfig(cfg.TLSCert, cfg.TLSKey)
}

// publicURL is --base-url, or the URL derived from the listening address.
func publicURL(cfg config.Config, addr net.Addr) string {
	if cfg.BaseURL != "" {
		return strings.TrimRight(cfg.BaseURL, "/")
	}
	scheme := "http"
	if cfg.TLS() {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
