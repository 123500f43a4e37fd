// Command custodia-load measures the latency of Custodia's people pages and
// API under concurrent load, on the loopback interface only.
//
// By default it is self-contained: it creates a SQLite database in a
// temporary directory, seeds the demo organization at --scale (10 gives
// about 3,000 people), starts the real server (the same wiring as "custodia
// serve") on 127.0.0.1, creates an API token, and runs --runs rounds of
// --duration each with --concurrency clients against the people list page,
// the people search page and GET /api/v1/people, printing a Markdown table of
// the median p50/p90/p99 over the rounds.
//
// With --url and --token it loads an already running server instead
// (its host must be a loopback address).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/custodia/custodia/internal/app"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/server/loadtest"
	"github.com/custodia/custodia/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "custodia-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("custodia-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "load a running server at this loopback `URL` instead of starting one (needs --token)")
	token := fs.String("token", "", "API `token` for --url (role admin or security, all clients)")
	scale := fs.Int("scale", 10, "demo organization scale for the self-contained run (10 = about 3,000 people)")
	dataDir := fs.String("data-dir", "", "`directory` for the self-contained run's database (default: a temporary directory, removed afterwards)")
	conc := fs.Int("concurrency", 50, "concurrent `clients`")
	dur := fs.Duration("duration", 10*time.Second, "length of each round")
	runs := fs.Int("runs", 5, "rounds; the report gives the median of each percentile over them")
	maxReq := fs.Int64("max-requests", 200_000, "at most this many requests per round")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured rounds to `file`")
	think := fs.Duration("think", 0, "pause of each client between requests (jittered ±50%); 0 = closed loop, back to back")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: custodia-load [flags]\n\nMeasures people list, search and API latency under concurrent load (loopback only).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runs < 1 || *runs > 20 || *conc < 1 || *conc > 1000 || *dur <= 0 || *dur > 5*time.Minute {
		return errors.New("--runs 1–20, --concurrency 1–1000 and --duration up to 5m")
	}
	base, bearer := *url, *token
	if base == "" {
		var cleanup func()
		var err error
		base, bearer, cleanup, err = startServer(ctx, *dataDir, *scale, stderr)
		if err != nil {
			return err
		}
		defer cleanup()
	} else if bearer == "" {
		return errors.New("--url needs --token")
	}
	if err := loadtest.CheckLoopback(base); err != nil {
		return err
	}
	searches := []string{"garc", "martin", "lopez", "ana", "smith", "jose", "maria", "rodr", "john", "fern"}
	pagePaths, apiSearch := make([]string, len(searches)), make([]string, len(searches))
	for i, q := range searches {
		pagePaths[i] = "/people?q=" + q
		apiSearch[i] = "/api/v1/people?limit=50&q=" + q
	}
	targets := []loadtest.Target{
		{Name: "people list page (GET /people)", Path: "/people"},
		{Name: "people search page (GET /people?q=…)", Paths: pagePaths},
		{Name: "API list (GET /api/v1/people?limit=50)", Path: "/api/v1/people?limit=50"},
		{Name: "API search (GET /api/v1/people?q=…)", Paths: apiSearch},
	}
	opts := loadtest.Options{
		BaseURL: base, Header: http.Header{"Authorization": {"Bearer " + bearer}},
		Concurrency: *conc, Duration: *dur, MaxRequests: *maxReq, Warmup: 3, Targets: targets, Think: *think,
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
	var reports []*loadtest.Report
	var cpuPerReq []time.Duration
	for i := 0; i < *runs; i++ {
		cpu0 := processCPU()
		rep, err := loadtest.Run(ctx, opts)
		if err != nil {
			return err
		}
		if rep.Total > 0 {
			cpuPerReq = append(cpuPerReq, (processCPU()-cpu0)/time.Duration(rep.Total))
		}
		fmt.Fprintf(stderr, "round %d/%d:\n%s\n", i+1, *runs, rep.Markdown())
		reports = append(reports, rep)
		opts.Warmup = 0
	}
	mode := "back to back (closed loop)"
	if *think > 0 {
		mode = fmt.Sprintf("each pausing %s ±50%% between requests", *think)
	}
	fmt.Fprintf(stdout, "Median of %d rounds of %s, %d concurrent clients %s, on loopback:\n\n", *runs, *dur, *conc, mode)
	fmt.Fprint(stdout, medians(reports))
	if *url == "" && len(cpuPerReq) > 0 {
		slices.Sort(cpuPerReq)
		fmt.Fprintf(stdout, "\nCPU time per request (server and load generator in this process, median of rounds): %s\n", ms(cpuPerReq[len(cpuPerReq)/2]))
	}
	for _, rep := range reports {
		for _, r := range rep.Results {
			if r.Errors > 0 {
				return fmt.Errorf("%s: %d errors (first: %s)", r.Name, r.Errors, r.FirstError)
			}
		}
	}
	return nil
}

// medians summarises the rounds: per target, the median of each percentile.
func medians(reports []*loadtest.Report) string {
	var b strings.Builder
	b.WriteString("| target | requests/round | p50 | p90 | p99 | max p99 of rounds | req/s (all targets) |\n|---|---:|---:|---:|---:|---:|---:|\n")
	var tput []float64
	for _, r := range reports {
		tput = append(tput, r.Throughput)
	}
	slices.Sort(tput)
	for i := range reports[0].Results {
		var p50, p90, p99 []time.Duration
		n := 0
		for _, r := range reports {
			x := r.Results[i]
			p50, p90, p99 = append(p50, x.P50), append(p90, x.P90), append(p99, x.P99)
			n += x.Requests
		}
		for _, s := range [][]time.Duration{p50, p90, p99} {
			slices.Sort(s)
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %.0f |\n", reports[0].Results[i].Name, n/len(reports),
			ms(p50[len(p50)/2]), ms(p90[len(p90)/2]), ms(p99[len(p99)/2]), ms(p99[len(p99)-1]), tput[len(tput)/2])
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// startServer seeds a demo organization and serves it on 127.0.0.1 with the
// real wiring; it returns the URL, an administrator's API token and a
// function that stops everything.
func startServer(ctx context.Context, dataDir string, scale int, stderr io.Writer) (string, string, func(), error) {
	tmp := ""
	if dataDir == "" {
		var err error
		if tmp, err = os.MkdirTemp("", "custodia-load-"); err != nil {
			return "", "", nil, err
		}
		dataDir = tmp
	}
	fail := func(err error) (string, string, func(), error) {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
		return "", "", nil, err
	}
	cfg := config.Defaults()
	cfg.DataDir, cfg.Demo = dataDir, true
	st, err := store.Open(ctx, store.Options{DataDir: dataDir})
	if err != nil {
		return fail(err)
	}
	keys, err := secret.LoadOrCreate(dataDir, "")
	if err != nil {
		st.Close()
		return fail(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil)) // request logging off the measurement's output
	start := time.Now()
	a, err := app.New(ctx, app.Options{Config: cfg, Store: st, Keys: keys, Logger: log, Version: "load", DemoScale: scale})
	if err != nil {
		st.Close()
		return fail(err)
	}
	fmt.Fprintf(stderr, "seeded %d people in %s\n", a.Demo.People, time.Since(start).Round(time.Millisecond))
	admin, err := st.UserByUsername(ctx, "admin")
	if err != nil {
		st.Close()
		return fail(err)
	}
	token, _, err := a.Identity.CreateAPIToken(ctx, admin.Principal(), auth.NewAPIToken{Name: "load", Role: identity.RoleAdmin, AllClients: true})
	if err != nil {
		st.Close()
		return fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.Close()
		return fail(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	a.Start(sctx)
	go func() { done <- a.Server.Serve(sctx, ln, nil, 10*time.Second) }()
	cleanup := func() {
		cancel()
		<-done
		stopCtx, c := context.WithTimeout(context.Background(), 10*time.Second)
		_ = a.Stop(stopCtx)
		c()
		st.Close()
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}
	return "http://" + ln.Addr().String(), token, cleanup, nil
}

// processCPU is the user+system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
