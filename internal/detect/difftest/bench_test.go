package difftest

import (
	"context"
	"testing"
	"time"

	"github.com/bradleyjkemp/sigma-go/evaluator"

	"github.com/custodia/custodia/internal/detect"
	"github.com/custodia/custodia/internal/detect/event"
	"github.com/custodia/custodia/internal/detect/normalize"
	"github.com/custodia/custodia/internal/detect/parse"
	"github.com/custodia/custodia/internal/detect/sigma"
)

// reportRates reports events per wall-clock second and per CPU second of
// the process (the per-core figure, meaningful on a shared machine).
func reportRates(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "events/cpu-s")
	}
}

// BenchmarkWindows runs all SigmaHQ Windows rules that both engines load
// over the same mixed Windows/Sysmon stream. custodia is end to end (parse
// + normalize + route + prefilter + evaluate from the raw JSON line);
// sigma-go gets pre-parsed flat maps (its parse cost is not counted), once
// as a bundle of all rules and once routed by log source like Custodia.
func BenchmarkWindows(b *testing.B) {
	pairs, _, _ := loadPairs(b, corpus+"/rules/windows")
	lines := Events(20000, 1)
	var ours []*sigma.Rule
	for _, p := range pairs {
		ours = append(ours, p.ours)
	}
	b.Logf("rules loaded by both engines: %d", len(pairs))

	b.Run("custodia", func(b *testing.B) {
		eng, err := detect.NewEngine(detect.Config{}, ours...)
		if err != nil {
			b.Fatal(err)
		}
		p := parse.NewParser(parse.Auto)
		var ev event.Event
		alerts := 0
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			if err := p.Parse(lines[i%len(lines)], &ev); err != nil {
				b.Fatal(err)
			}
			alerts += len(eng.Process(&ev))
		}
		reportRates(b, cpu0)
		b.ReportMetric(float64(alerts)/float64(b.N), "alerts/event")
		b.ReportMetric(eng.EvaluationsPerEvent(), "evals/event")
	})

	norm, _ := normalize.New()
	evs := parseEvents(b, lines[:2000], norm)
	maps := make([]map[string]any, len(evs))
	for i, e := range evs {
		maps[i] = refEvent(e)
	}
	ctx := context.Background()

	b.Run("sigma-go-bundle", func(b *testing.B) {
		bundle := evaluator.ForRules(refRules(pairs))
		b.ResetTimer()
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			if _, err := bundle.Matches(ctx, maps[i%len(maps)]); err != nil {
				b.Fatal(err)
			}
		}
		reportRates(b, cpu0)
	})

	b.Run("sigma-go-routed", func(b *testing.B) {
		// Routing is precomputed per event so only rule evaluation is timed.
		routes := make([][]*evaluator.RuleEvaluator, len(evs))
		for i, e := range evs {
			for _, p := range pairs {
				if routed(p.ours, e) {
					routes[i] = append(routes[i], p.eval)
				}
			}
		}
		b.ResetTimer()
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			k := i % len(maps)
			for _, r := range routes[k] {
				r.Matches(ctx, maps[k])
			}
		}
		reportRates(b, cpu0)
	})
}
