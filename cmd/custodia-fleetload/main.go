// Command custodia-fleetload measures the fleet's check-in path: it
// simulates N workstation agents that enroll and then check in on a
// heartbeat against a running Custodia server on loopback, sending results
// only when they change and fetching the signed policies only when their
// digest changed, exactly as custodia-agent does.
//
//	custodia-fleetload bench --agents 10000 --heartbeat 60s --duration 60s
//
// starts the real server (the wiring of "custodia serve") as a separate
// process on 127.0.0.1 — SQLite in a temporary directory, or PostgreSQL
// with --database-url — and reports check-ins per second, latency
// percentiles, errors, server CPU per check-in (from /proc/<pid>/stat) and
// server memory after enrollment and at the end. "serve" and "load" run
// the two halves separately.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/custodia/custodia/internal/app"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/fleet/wire"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "custodia-fleetload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: custodia-fleetload bench|serve|load [flags] (-h for each)")
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr)
	case "load":
		return cmdLoad(ctx, args[1:], stdout, stderr)
	case "bench":
		return cmdBench(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown command %q (bench, serve or load)", args[0])
}

// serveInfo is what "serve" prints once ready (one JSON line).
type serveInfo struct {
	URL    string `json:"url"`
	PID    int    `json:"pid"`
	Secret string `json:"secret"`
}

// cmdServe runs the real server on 127.0.0.1 with an enrollment secret for
// the load, prints serveInfo and serves until interrupted.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "", "data `DIR` (SQLite database and master key); required")
	dbURL := fs.String("database-url", "", "PostgreSQL `URL` instead of SQLite")
	interval := fs.Duration("checkin-interval", time.Minute, "the check-in interval the server asks of agents")
	cpuProfile := fs.String("cpuprofile", "", "write the server's CPU profile (pprof) to `file` until it stops")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" {
		return errors.New("serve: --data-dir is required")
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	st, err := store.Open(ctx, store.Options{DataDir: *dataDir, DatabaseURL: *dbURL})
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := secret.LoadOrCreate(*dataDir, "")
	if err != nil {
		return err
	}
	cfg := config.Defaults()
	cfg.DataDir, cfg.DatabaseURL = *dataDir, *dbURL
	cfg.Fleet.CheckinInterval = *interval
	cfg.Fleet.MaxCheckinBytes = 4 << 20
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(ctx, app.Options{Config: cfg, Store: st, Keys: keys, Logger: log, Version: "fleetload"})
	if err != nil {
		return err
	}
	plain, err := loadSecret(ctx, st)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.Start(sctx)
	done := make(chan error, 1)
	go func() { done <- a.Server.Serve(sctx, ln, nil, 10*time.Second) }()
	b, _ := json.Marshal(serveInfo{URL: "http://" + ln.Addr().String(), PID: os.Getpid(), Secret: plain})
	fmt.Fprintln(stdout, string(b))
	err = <-done
	stopCtx, c := context.WithTimeout(context.Background(), 10*time.Second)
	defer c()
	_ = a.Stop(stopCtx)
	return err
}

// loadSecret creates the "loadtest" client (once) and an enrollment secret
// for it, straight in the store (the console would do the same).
func loadSecret(ctx context.Context, st *store.Store) (string, error) {
	cl, err := st.ClientByCode(ctx, allScope, "loadtest")
	if errors.Is(err, store.ErrNotFound) {
		cl = &org.Client{Code: "loadtest", Name: "Load test"}
		err = st.CreateClient(ctx, cl)
	}
	if err != nil {
		return "", err
	}
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	plain := "ces_" + base64.RawURLEncoding.EncodeToString(raw)
	err = st.InTx(ctx, func(tx *store.Tx) error {
		return tx.FleetSecretCreate(ctx, &store.FleetEnrollSecret{Name: "fleetload", Hint: plain[:8], ClientID: cl.ID}, wire.HashSecret(plain))
	})
	return plain, err
}

// cmdBench starts "serve" as a child process and runs the load against it.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbURL := fs.String("database-url", "", "PostgreSQL `URL` (an empty database) instead of SQLite")
	keep := fs.String("data-dir", "", "data `DIR` to keep (default: a temporary directory)")
	cpuProfile := fs.String("cpuprofile", "", "write the server's CPU profile (pprof) to `file`")
	lo := registerLoad(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := *keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "custodia-fleetload-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	sargs := []string{"serve", "--data-dir", filepath.Clean(dir), "--checkin-interval", lo.heartbeat.String()}
	if *dbURL != "" {
		sargs = append(sargs, "--database-url", *dbURL)
	}
	if *cpuProfile != "" {
		sargs = append(sargs, "--cpuprofile", *cpuProfile)
	}
	cmd := exec.CommandContext(ctx, exe, sargs...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	line := make([]byte, 0, 512)
	buf := make([]byte, 1)
	for {
		if _, err := out.Read(buf); err != nil {
			return fmt.Errorf("server did not start: %w", err)
		}
		if buf[0] == '\n' {
			break
		}
		line = append(line, buf[0])
	}
	var info serveInfo
	if err := json.Unmarshal(line, &info); err != nil {
		return fmt.Errorf("server said %q: %w", line, err)
	}
	lo.url, lo.secret, lo.pid = info.URL, info.Secret, info.PID
	db := "sqlite"
	if *dbURL != "" {
		db = "postgres"
	}
	fmt.Fprintf(stdout, "server pid %d on %s (%s)\n", info.PID, info.URL, db)
	return lo.run(ctx, stdout)
}

func cmdLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lo := registerLoad(fs)
	fs.StringVar(&lo.url, "url", "", "the server's loopback `URL` (from serve)")
	fs.StringVar(&lo.secret, "secret", "", "an enrollment `secret` with enough uses")
	fs.IntVar(&lo.pid, "pid", 0, "the server's process `id` (CPU and memory are read from /proc)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if lo.url == "" || lo.secret == "" {
		return errors.New("load: --url and --secret are required")
	}
	if !strings.HasPrefix(lo.url, "http://127.") && !strings.HasPrefix(lo.url, "http://localhost") {
		return errors.New("load: --url must be a loopback http:// address")
	}
	return lo.run(ctx, stdout)
}
