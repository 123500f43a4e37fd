package loadtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "Bearer t" {
			w.WriteHeader(401)
			return
		}
		if r.URL.Path == "/fail" {
			w.WriteHeader(500)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	rep, err := Run(context.Background(), Options{
		BaseURL: srv.URL, Header: http.Header{"Authorization": {"Bearer t"}},
		Concurrency: 4, Duration: 5 * time.Second, MaxRequests: 400, Warmup: 1,
		Targets: []Target{{Name: "ok", Paths: []string{"/a", "/b"}}, {Name: "fail", Path: "/fail"}},
	})
	if err == nil {
		t.Fatalf("warm-up against a failing target succeeded")
	}
	rep, err = Run(context.Background(), Options{
		BaseURL: srv.URL, Header: http.Header{"Authorization": {"Bearer t"}},
		Concurrency: 4, Duration: 5 * time.Second, MaxRequests: 400,
		Targets: []Target{{Name: "ok", Paths: []string{"/a", "/b"}}, {Name: "fail", Path: "/fail"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ok, fail := rep.Results[0], rep.Results[1]
	if rep.Total != 400 || ok.Requests+fail.Requests != 400 || ok.Requests < 150 || fail.Errors != fail.Requests || ok.Errors != 0 {
		t.Errorf("report = %+v", rep)
	}
	if rep.Results[0].P99 <= 0 || rep.Results[0].P50 > rep.Results[0].P99 {
		t.Errorf("percentiles = %+v", rep.Results[0])
	}
	if !strings.Contains(rep.Markdown(), "| ok | ") || !strings.Contains(rep.Markdown(), "| fail | ") {
		t.Errorf("markdown:\n%s", rep.Markdown())
	}
}

func TestLoopbackOnly(t *testing.T) {
	for url, ok := range map[string]bool{
		"http://127.0.0.1:8080": true, "http://localhost:1": true, "http://[::1]:80": true,
		"http://10.0.0.1:80": false, "https://example.com": false, "ftp://127.0.0.1": false, "": false,
	} {
		if err := CheckLoopback(url); (err == nil) != ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok=%v", url, err, ok)
		}
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for p, want := range map[float64]time.Duration{50: 5, 90: 9, 99: 10, 100: 10} {
		if got := Percentile(d, p); got != want {
			t.Errorf("Percentile(1..10, %v) = %v, want %v", p, got, want)
		}
	}
	if Percentile(nil, 50) != 0 {
		t.Error("Percentile(nil) != 0")
	}
}

func TestThinkTimePacesClients(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	rep, err := Run(context.Background(), Options{BaseURL: srv.URL, Concurrency: 2, Duration: time.Second,
		Think: 100 * time.Millisecond, Targets: []Target{{Name: "x", Path: "/"}}})
	if err != nil {
		t.Fatal(err)
	}
	// Two clients pausing 50–150 ms each send about 20 requests in a second.
	if rep.Total < 8 || rep.Total > 45 {
		t.Errorf("with 100ms think time, 2 clients sent %d requests in 1s, want about 20", rep.Total)
	}
}
