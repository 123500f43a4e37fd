package dataprotection_test

import (
	"context"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	dp "github.com/custodia/custodia/internal/dataprotection"
	"github.com/custodia/custodia/internal/dataprotection/corpus"
	"golang.org/x/sys/unix"
)

// mixedCorpus is generated contact-center text: half with personal data,
// half without, as a support queue holds.
func mixedCorpus(tb testing.TB, size int) []byte {
	tb.Helper()
	var b strings.Builder
	for seed := uint64(1); b.Len() < size; seed++ {
		pii := corpus.Generate(corpus.Train, 1000, seed)
		clean := corpus.Generate(corpus.Clean, 1000, seed)
		for i := range pii {
			b.WriteString(pii[i].Text)
			b.WriteString("\n")
			b.WriteString(clean[i].Text)
			b.WriteString("\n")
		}
	}
	return []byte(b.String()[:size])
}

// BenchmarkScan scans 4 MiB of mixed text per operation. Besides the
// wall-clock ns/op it reports the process's CPU time per operation
// (cpu-ns/op) and the throughput per CPU-second (cpu-MB/s), which other
// load on a shared machine does not inflate; run it with -cpu 1 for the
// figure per core (garbage collection included).
func BenchmarkScan(b *testing.B) {
	data := mixedCorpus(b, 4<<20)
	s, _ := dp.NewScanner(dp.Options{})
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	c0, n := processCPU(), 0
	for b.Loop() {
		s.Scan(data)
		n++
	}
	reportCPU(b, processCPU()-c0, n, len(data))
}

// processCPU returns the CPU time (user and system) of the process.
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, cpu time.Duration, n, size int) {
	if n == 0 || cpu <= 0 {
		return
	}
	per := cpu / time.Duration(n)
	b.ReportMetric(float64(per.Nanoseconds()), "cpu-ns/op")
	b.ReportMetric(float64(size)/per.Seconds()/1e6, "cpu-MB/s")
}

func BenchmarkScanStreamText(b *testing.B) {
	data := mixedCorpus(b, 4<<20)
	s, _ := dp.NewScanner(dp.Options{})
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	c0, n := processCPU(), 0
	for b.Loop() {
		_, err := s.ScanStream(context.Background(), strings.NewReader(string(data)), dp.FormatText, func(dp.Finding, []byte) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportCPU(b, processCPU()-c0, n, len(data))
}

func BenchmarkRedactStream(b *testing.B) {
	data := mixedCorpus(b, 4<<20)
	s, _ := dp.NewScanner(dp.Options{})
	op, _ := dp.NewOperator(dp.OpMask, nil)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.RedactStream(context.Background(), strings.NewReader(string(data)), io.Discard, dp.FormatText, op); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMessageLatency scans 1 KB messages one at a time and reports
// the 50th and 99th percentile latency, as wall-clock time and as the
// thread's CPU time (which other load on the machine does not inflate).
func BenchmarkMessageLatency(b *testing.B) {
	data := mixedCorpus(b, 1<<20)
	s, _ := dp.NewScanner(dp.Options{})
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var lat, cpu []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		off := (i * 1024) % (len(data) - 1024)
		c0 := threadCPU()
		t0 := time.Now()
		s.Scan(data[off : off+1024])
		lat = append(lat, time.Since(t0))
		cpu = append(cpu, threadCPU()-c0)
	}
	slices.Sort(lat)
	slices.Sort(cpu)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		b.ReportMetric(float64(cpu[len(cpu)*99/100].Microseconds()), "p99-cpu-µs")
	}
}

// threadCPU returns the calling thread's CPU time.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// TestScanDomainsOnCorpus compares the dot-driven scanDomains with the
// token-by-token reference on the benchmark corpus (whose web addresses
// are in e-mails) and on text with bare domains.
func TestScanDomainsOnCorpus(t *testing.T) {
	s, _ := dp.NewScanner(dp.Options{})
	web := strings.Repeat("Visit www.example.com or shop.example.co.uk/path?q=1, café.es and 3.5 mm; mail info@example.org. ", 2000)
	for _, text := range [][]byte{mixedCorpus(t, 4<<20), []byte(web)} {
		got, want := dp.CompareScanDomains(s, text)
		if !slices.Equal(got, want) {
			t.Fatalf("scanDomains found %d, reference %d", len(got), len(want))
		}
	}
	if got, _ := dp.CompareScanDomains(s, []byte(web)); len(got) < 6000 {
		t.Fatalf("%d domains found in the web text, want 6000", len(got))
	}
}
