// Package loadtest is a small closed-loop HTTP load generator for Custodia's
// performance targets: N concurrent clients each send requests back to back
// to a server on the loopback interface, for a bounded time and a bounded
// number of requests, and the latencies are summarised per target.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Target is one kind of request in the mix; clients take targets in turn.
type Target struct {
	Name string
	Path string // path and query, e.g. /api/v1/people?limit=50
	// Paths, when set, are cycled through instead of Path (e.g. varied searches).
	Paths []string
}

// Options configures a run.
type Options struct {
	// BaseURL of the server; its host must be a loopback address.
	BaseURL string
	// Header is added to every request (Authorization, Cookie).
	Header http.Header
	// Concurrency is the number of clients (default 50).
	Concurrency int
	// Duration bounds the run (default 10s, at most 5 minutes).
	Duration time.Duration
	// MaxRequests bounds the total number of requests (default 200,000).
	MaxRequests int64
	// Warmup requests per target are sent (sequentially) before measuring.
	Warmup  int
	Targets []Target
	// Think is the pause of each client between two requests (uniformly
	// jittered between half and one and a half times it), modelling people
	// using the console rather than a closed loop. 0 sends back to back,
	// which saturates the server and measures queueing as much as service.
	Think time.Duration
}

// Result summarises one target.
type Result struct {
	Name               string
	Requests           int
	Errors             int // transport errors and non-2xx answers
	P50, P90, P99, Max time.Duration
	FirstError         string
}

// Report is the outcome of a run.
type Report struct {
	Concurrency int
	Elapsed     time.Duration
	Total       int
	Throughput  float64 // requests per second
	Results     []Result
}

// CheckLoopback refuses a base URL that is not on the loopback interface:
// the generator is for measuring our own server, never a remote one.
func CheckLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url %q: want http://127.0.0.1:PORT", base)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--url %q: the load generator only targets loopback addresses", base)
	}
	return nil
}

// Run executes the load and returns the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := CheckLoopback(o.BaseURL); err != nil {
		return nil, err
	}
	if len(o.Targets) == 0 {
		return nil, errors.New("loadtest: no targets")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 50
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	o.Duration = min(o.Duration, 5*time.Minute)
	if o.MaxRequests <= 0 {
		o.MaxRequests = 200_000
	}
	base := strings.TrimRight(o.BaseURL, "/")
	tr := &http.Transport{MaxIdleConns: o.Concurrency * 2, MaxIdleConnsPerHost: o.Concurrency * 2, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	do := func(ctx context.Context, path string) (time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return 0, err
		}
		for k, vs := range o.Header {
			req.Header[k] = vs
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if err != nil {
			return d, err
		}
		if resp.StatusCode/100 != 2 {
			return d, fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
		}
		return d, nil
	}
	pathOf := func(t *Target, n int) string {
		if len(t.Paths) > 0 {
			return t.Paths[n%len(t.Paths)]
		}
		return t.Path
	}
	for i := range o.Targets {
		for n := 0; n < o.Warmup; n++ {
			if _, err := do(ctx, pathOf(&o.Targets[i], n)); err != nil {
				return nil, fmt.Errorf("warm-up of %s: %w", o.Targets[i].Name, err)
			}
		}
	}

	type sample struct {
		target int
		d      time.Duration
		err    error
	}
	runCtx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var sent atomic.Int64
	perClient := make([][]sample, o.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < o.Concurrency; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			samples := make([]sample, 0, 1024)
			rng := rand.New(rand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))
			if o.Think > 0 {
				// Users who think between requests do not all arrive at the same
				// instant: each client starts at a random point of its first pause.
				select {
				case <-runCtx.Done():
				case <-time.After(time.Duration(rng.Int64N(int64(o.Think) + 1))):
				}
			}
			for n := c; ; n++ {
				if runCtx.Err() != nil || sent.Add(1) > o.MaxRequests {
					break
				}
				ti := n % len(o.Targets)
				d, err := do(runCtx, pathOf(&o.Targets[ti], n/len(o.Targets)+c))
				if runCtx.Err() != nil {
					break // cut short by the deadline: not a sample
				}
				samples = append(samples, sample{ti, d, err})
				if o.Think > 0 {
					pause := o.Think/2 + time.Duration(rng.Int64N(int64(o.Think)+1))
					select {
					case <-runCtx.Done():
					case <-time.After(pause):
					}
				}
			}
			perClient[c] = samples
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)

	rep := &Report{Concurrency: o.Concurrency, Elapsed: elapsed}
	durs := make([][]time.Duration, len(o.Targets))
	results := make([]Result, len(o.Targets))
	for i, t := range o.Targets {
		results[i].Name = t.Name
	}
	for _, samples := range perClient {
		for _, s := range samples {
			r := &results[s.target]
			r.Requests++
			rep.Total++
			if s.err != nil {
				r.Errors++
				if r.FirstError == "" {
					r.FirstError = s.err.Error()
				}
				continue
			}
			durs[s.target] = append(durs[s.target], s.d)
		}
	}
	for i := range results {
		d := durs[i]
		slices.Sort(d)
		results[i].P50, results[i].P90, results[i].P99 = Percentile(d, 50), Percentile(d, 90), Percentile(d, 99)
		if len(d) > 0 {
			results[i].Max = d[len(d)-1]
		}
	}
	rep.Results = results
	if elapsed > 0 {
		rep.Throughput = float64(rep.Total) / elapsed.Seconds()
	}
	return rep, nil
}

// Percentile returns the p-th percentile (nearest rank) of sorted durations.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

// Markdown formats the report as a table.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d clients, %s, %d requests, %.0f req/s\n\n", r.Concurrency, r.Elapsed.Round(time.Millisecond), r.Total, r.Throughput)
	b.WriteString("| target | requests | errors | p50 | p90 | p99 | max |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, x := range r.Results {
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s | %s |\n", x.Name, x.Requests, x.Errors, ms(x.P50), ms(x.P90), ms(x.P99), ms(x.Max))
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
