package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custodia/custodia/internal/fleet/wire"
	"github.com/custodia/custodia/internal/identity"
)

var allScope = identity.Scope{All: true}

// load is one load run's settings.
type load struct {
	url, secret string
	pid         int
	agents      int
	heartbeat   time.Duration
	duration    time.Duration
	rate        float64 // check-ins per second; 0 = agents / heartbeat
	checks      int
	changeRate  float64
	workers     int
	agentsFile  string
}

func registerLoad(fs *flag.FlagSet) *load {
	lo := &load{}
	fs.IntVar(&lo.agents, "agents", 5000, "simulated agents")
	fs.DurationVar(&lo.heartbeat, "heartbeat", 60*time.Second, "each agent's check-in period")
	fs.DurationVar(&lo.duration, "duration", 60*time.Second, "measured steady-state time (after one warm-up period in which every agent sends all its results)")
	fs.Float64Var(&lo.rate, "rate", 0, "offered check-ins per `second` (default agents/heartbeat; raise it for a saturation run)")
	fs.IntVar(&lo.checks, "checks", 40, "results per agent (sent in full once, then only changes)")
	fs.Float64Var(&lo.changeRate, "change-rate", 0.02, "share of check-ins that carry one changed result")
	fs.IntVar(&lo.workers, "workers", 64, "concurrent requests at most")
	fs.StringVar(&lo.agentsFile, "agents-file", "", "`file` of the agents' credentials: when it exists its first --agents lines are used instead of enrolling "+
		"(the server must use the same database and --data-dir as when it was written); otherwise it is written after enrollment")
	return lo
}

type agent struct {
	mu      sync.Mutex
	cred    string
	seq     int64
	digest  string
	results []wire.Result
	sent    bool
}

type sample struct {
	lat  time.Duration
	code int
	size int
	pol  bool
	// results is set when the check-in carried results.
	results bool
}

func (lo *load) client() *http.Client {
	tr := &http.Transport{MaxIdleConns: lo.workers * 2, MaxIdleConnsPerHost: lo.workers * 2, IdleConnTimeout: time.Minute}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func (lo *load) run(ctx context.Context, out io.Writer) error {
	if lo.agents <= 0 || lo.heartbeat <= 0 || lo.workers <= 0 {
		return fmt.Errorf("--agents, --heartbeat and --workers must be positive")
	}
	hc := lo.client()
	rssStart := rssKB(lo.pid)
	agents, reused, err := lo.readAgents()
	if err != nil {
		return err
	}
	if reused {
		fmt.Fprintf(out, "%d agents read from %s (no enrollment); server RSS %s\n", lo.agents, lo.agentsFile, mb(rssStart))
	} else if agents, err = lo.enrollAll(ctx, hc, out, rssStart); err != nil {
		return err
	}
	rssEnrolled := rssKB(lo.pid)

	rate := lo.rate
	if rate <= 0 {
		rate = float64(lo.agents) / lo.heartbeat.Seconds()
	}
	warm := time.Duration(float64(lo.agents)/rate*float64(time.Second)) + time.Second
	fmt.Fprintf(out, "offered %.0f check-ins/s; warm-up %s (every agent sends its %d results), then %s measured\n", rate, warm.Round(time.Second), lo.checks, lo.duration)
	wres := lo.phase(ctx, hc, agents, rate, warm, 0)
	fmt.Fprintf(out, "warm-up: %s\n", wres.line())
	cpu0 := cpuSeconds(lo.pid)
	res := lo.phase(ctx, hc, agents, rate, lo.duration, wres.next)
	cpu := cpuSeconds(lo.pid) - cpu0
	rssEnd := rssKB(lo.pid)
	fmt.Fprintf(out, "steady:  %s\n", res.line())
	if lo.pid > 0 && res.ok > 0 {
		perCheckin := cpu / float64(res.ok)
		fmt.Fprintf(out, "server CPU %.2f s for %d check-ins = %.3f ms per check-in (%.0f check-ins per CPU-second); at %.0f/s the server uses %.0f%% of one core\n",
			cpu, res.ok, perCheckin*1000, 1/perCheckin, res.rate, perCheckin*res.rate*100)
		hostsPerCore := (1 / perCheckin) * lo.heartbeat.Seconds()
		fmt.Fprintf(out, "hosts per core at a %s heartbeat: %.0f (Fleet: ≈6,000 per vCPU)\n", lo.heartbeat, hostsPerCore)
		fmt.Fprintf(out, "server RSS: start %s, %d agents enrolled %s, end %s\n", mb(rssStart), lo.agents, mb(rssEnrolled), mb(rssEnd))
	}
	summary := map[string]any{"agents": lo.agents, "heartbeat_s": lo.heartbeat.Seconds(), "offered_per_s": rate, "achieved_per_s": res.rate,
		"p50_ms": ms(res.p50), "p95_ms": ms(res.p95), "p99_ms": ms(res.p99), "max_ms": ms(res.max), "errors": res.errors, "checkins": res.ok,
		"server_cpu_s": cpu, "rss_start_kb": rssStart, "rss_enrolled_kb": rssEnrolled, "rss_end_kb": rssEnd, "max_lag_ms": ms(res.lag)}
	b, _ := json.Marshal(summary)
	fmt.Fprintln(out, string(b))
	if res.errors > 0 {
		return fmt.Errorf("%d check-ins failed (first: %s)", res.errors, res.firstErr)
	}
	return nil
}

// enrollAll enrolls the agents (and writes their credentials to
// --agents-file when it is set).
func (lo *load) enrollAll(ctx context.Context, hc *http.Client, out io.Writer, rssStart int64) ([]*agent, error) {
	agents := make([]*agent, lo.agents)
	start := time.Now()
	var enrollErr atomic.Int64
	var firstErr atomic.Value
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(lo.workers, 16); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				a, err := lo.enroll(ctx, hc, i)
				// A timed-out or failed enrollment is tried again (the
				// server may have enrolled the device: enrolling it again
				// gives it a new credential).
				for try := 1; err != nil && try < 3 && ctx.Err() == nil; try++ {
					a, err = lo.enroll(ctx, hc, i)
				}
				if err != nil {
					enrollErr.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				agents[i] = a
			}
		}()
	}
	for i := range agents {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	enrollDur := time.Since(start)
	if n := enrollErr.Load(); n > 0 {
		return nil, fmt.Errorf("%d enrollments failed (first: %v)", n, firstErr.Load())
	}
	fmt.Fprintf(out, "enrolled %d agents in %s (%.0f/s); server RSS %s → %s\n", lo.agents, enrollDur.Round(time.Millisecond),
		float64(lo.agents)/enrollDur.Seconds(), mb(rssStart), mb(rssKB(lo.pid)))
	if lo.agentsFile == "" {
		return agents, nil
	}
	var b strings.Builder
	for _, a := range agents {
		b.WriteString(a.cred + "\n")
	}
	if err := os.WriteFile(lo.agentsFile, []byte(b.String()), 0o600); err != nil {
		return nil, fmt.Errorf("write the agents file: %w", err)
	}
	return agents, nil
}

// readAgents reads the first --agents credentials of --agents-file; it
// reports false when there is no such file.
func (lo *load) readAgents() ([]*agent, bool, error) {
	if lo.agentsFile == "" {
		return nil, false, nil
	}
	b, err := os.ReadFile(lo.agentsFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	lines := strings.Fields(string(b))
	if len(lines) < lo.agents {
		return nil, false, fmt.Errorf("%s holds %d agents, fewer than --agents %d", lo.agentsFile, len(lines), lo.agents)
	}
	agents := make([]*agent, lo.agents)
	for i := range agents {
		if _, err := wire.ParseCredential(lines[i]); err != nil {
			return nil, false, fmt.Errorf("%s line %d: %w", lo.agentsFile, i+1, err)
		}
		agents[i] = lo.newAgent(i, lines[i])
	}
	return agents, true, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mb(kb int64) string {
	if kb <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f MB", float64(kb)/1024)
}

func (lo *load) enroll(ctx context.Context, hc *http.Client, i int) (*agent, error) {
	body, _ := json.Marshal(wire.EnrollRequest{Secret: lo.secret, HardwareID: fmt.Sprintf("fleetload-%d-%d", os.Getpid(), i),
		Hostname: fmt.Sprintf("DESK-%05d", i), OS: []string{"windows", "linux", "darwin"}[i%3], AgentVersion: "fleetload"})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, lo.url+wire.PathEnroll, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("enroll: %d %s", resp.StatusCode, raw)
	}
	var er wire.EnrollResponse
	if err := json.Unmarshal(raw, &er); err != nil {
		return nil, err
	}
	return lo.newAgent(i, er.Credential), nil
}

// newAgent is agent i with its credential and --checks results (one in
// five failed).
func (lo *load) newAgent(i int, cred string) *agent {
	a := &agent{cred: cred}
	for c := 0; c < lo.checks; c++ {
		res := "passed"
		if c%5 == 0 {
			res = "failed"
		}
		a.results = append(a.results, wire.Result{Policy: "custodia_baseline", ID: fmt.Sprintf("check-%02d", c), Title: fmt.Sprintf("Check %d", c),
			Result: res, Reason: "observed value", Evidence: json.RawMessage(`[{"rule":"r:HKLM\\Software\\X -> Y","observed":"1","expected":"0","result":"` + res + `"}]`),
			SessionUser: "agent" + strconv.Itoa(i%7)})
	}
	return a
}

type phaseResult struct {
	ok, errors int
	firstErr   string
	p50, p95   time.Duration
	p99, max   time.Duration
	lag        time.Duration
	// withResults counts the check-ins that carried results; beatP99 and
	// resultsP99 are the p99 of those without and with results.
	withResults         int
	beatP99, resultsP99 time.Duration
	rate                float64
	bundles             int
	bytesOut            int
	next                int
}

func (r phaseResult) line() string {
	return fmt.Sprintf("%d check-ins (%.0f/s), %d errors, p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms, %d policy bundles sent, mean answer %d B, max dispatch lag %.0f ms; "+
		"p99 %.1f ms for the %d heartbeats, %.1f ms for the %d with results",
		r.ok, r.rate, r.errors, ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), r.bundles, r.bytesOut/max(r.ok, 1), ms(r.lag),
		ms(r.beatP99), r.ok-r.withResults, ms(r.resultsP99), r.withResults)
}

// phase offers check-ins at rate for d, round-robin over the agents from
// index first, and measures them.
func (lo *load) phase(ctx context.Context, hc *http.Client, agents []*agent, rate float64, d time.Duration, first int) phaseResult {
	jobs := make(chan int, lo.workers)
	samples := make([][]sample, lo.workers)
	var errMu sync.Mutex
	var firstErr string
	var wg sync.WaitGroup
	for w := 0; w < lo.workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for i := range jobs {
				s, err := lo.checkin(ctx, hc, agents[i], rng)
				if err != nil {
					errMu.Lock()
					if firstErr == "" {
						firstErr = err.Error()
					}
					errMu.Unlock()
				}
				samples[w] = append(samples[w], s)
			}
		}(w)
	}
	start := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	var lag time.Duration
	k := 0
	for ; ; k++ {
		due := start.Add(time.Duration(k) * interval)
		if due.Sub(start) >= d || ctx.Err() != nil {
			break
		}
		if wait := time.Until(due); wait > time.Millisecond {
			time.Sleep(wait)
		}
		jobs <- (first + k) % len(agents)
		if l := time.Since(due); l > lag {
			lag = l
		}
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	var all, beats, withResults []time.Duration
	res := phaseResult{lag: lag, firstErr: firstErr, next: (first + k) % len(agents)}
	for _, ss := range samples {
		for _, s := range ss {
			if s.code != http.StatusOK {
				res.errors++
				continue
			}
			res.ok++
			res.bytesOut += s.size
			if s.pol {
				res.bundles++
			}
			all = append(all, s.lat)
			if s.results {
				withResults = append(withResults, s.lat)
			} else {
				beats = append(beats, s.lat)
			}
		}
	}
	pct := func(all []time.Duration, p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))]
	}
	for _, l := range [][]time.Duration{all, beats, withResults} {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	}
	res.p50, res.p95, res.p99 = pct(all, 0.50), pct(all, 0.95), pct(all, 0.99)
	res.withResults, res.beatP99, res.resultsP99 = len(withResults), pct(beats, 0.99), pct(withResults, 0.99)
	if len(all) > 0 {
		res.max = all[len(all)-1]
	}
	res.rate = float64(res.ok+res.errors) / elapsed.Seconds()
	return res
}

// checkin sends one agent's check-in: everything the first time, then a
// heartbeat with one changed result now and then.
func (lo *load) checkin(ctx context.Context, hc *http.Client, a *agent, rng *rand.Rand) (sample, error) {
	a.mu.Lock()
	req := wire.CheckinRequest{Heartbeat: wire.Heartbeat{SessionUser: "agent", AgentVersion: "fleetload", UptimeS: 3600}, PolicyDigest: a.digest}
	if !a.sent {
		req.Results = a.results
	} else if rng.Float64() < lo.changeRate {
		i := rng.IntN(len(a.results))
		r := a.results[i]
		if r.Result == "passed" {
			r.Result = "failed"
		} else {
			r.Result = "passed"
		}
		a.results[i] = r
		req.Results = []wire.Result{r}
	}
	a.seq = max(a.seq+1, time.Now().UnixMicro())
	seq := a.seq
	body, _ := json.Marshal(req)
	a.mu.Unlock()
	hreq, _ := http.NewRequestWithContext(ctx, http.MethodPost, lo.url+wire.PathCheckin, bytes.NewReader(body))
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set(wire.HeaderDevice, a.cred)
	hreq.Header.Set(wire.HeaderSeq, strconv.FormatInt(seq, 10))
	hreq.Header.Set(wire.HeaderTime, strconv.FormatInt(time.Now().Unix(), 10))
	t0 := time.Now()
	resp, err := hc.Do(hreq)
	if err != nil {
		return sample{lat: time.Since(t0), results: len(req.Results) > 0}, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	s := sample{lat: time.Since(t0), code: resp.StatusCode, size: len(raw), results: len(req.Results) > 0}
	if err != nil {
		s.code = 0
		return s, err
	}
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("check-in: %d %s", resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	var cr wire.CheckinResponse
	if err := json.Unmarshal(raw, &cr); err != nil {
		s.code = 0
		return s, err
	}
	a.mu.Lock()
	a.sent = true
	if cr.Bundle != nil {
		s.pol = true
		a.digest = cr.Bundle.Digest
	}
	a.mu.Unlock()
	return s, nil
}

// cpuSeconds is a process's user+system CPU time from /proc/<pid>/stat.
func cpuSeconds(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	// After the command: state is field 3 of the line, utime 14, stime 15.
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

// rssKB is a process's resident memory from /proc/<pid>/status.
func rssKB(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
