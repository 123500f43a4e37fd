package detect

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/detect/event"
)

// BenchmarkCorrelationMemory feeds 1,000,000 events with distinct group-by
// values into an event_count correlation and reports the live heap per
// tracked key, uncapped and with the default cap of 100,000 keys.
func BenchmarkCorrelationMemory(b *testing.B) {
	for _, tc := range []struct {
		name string
		cap  int
	}{{"uncapped-1M", 2_000_000}, {"cap-100k", 100_000}} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				e := newTestEngine(b, Config{MaxCorrelationKeys: tc.cap},
					"title: a\nid: ra\nlogsource: {product: test}\ndetection: {sel: {kind: a}, condition: sel}\n---\n"+
						"title: c\nid: c\ncorrelation: {type: event_count, rules: [ra], group-by: [User], timespan: 1h, condition: {gte: 10}}\n")
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
				var ev event.Event
				for k := 0; k < 1_000_000; k++ {
					ev.Reset()
					ev.Add("logsource.product", "test", event.String)
					ev.Add("kind", "a", event.String)
					ev.Add("User", "user-"+strconv.Itoa(k), event.String)
					ev.Format = "json"
					ev.Time = base.Add(time.Duration(k) * time.Millisecond)
					e.Process(&ev)
				}
				runtime.GC()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				keys := len(e.corrs[0].groups)
				b.ReportMetric(float64(keys), "keys")
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "heap-MB")
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(keys), "B/key")
				runtime.KeepAlive(e)
			}
		})
	}
}
