package difftest

import (
	"testing"

	"github.com/custodia/custodia/internal/detect"
	"github.com/custodia/custodia/internal/detect/event"
	"github.com/custodia/custodia/internal/detect/normalize"
	"github.com/custodia/custodia/internal/detect/parse"
)

// BenchmarkPhases splits the end-to-end cost on the Windows stream.
func BenchmarkPhases(b *testing.B) {
	lines := Events(20000, 1)
	p := parse.NewParser(parse.Auto)
	var ev event.Event
	b.Run("parse", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p.Parse(lines[i%len(lines)], &ev)
		}
	})
	norm, _ := normalize.New()
	b.Run("parse+normalize", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p.Parse(lines[i%len(lines)], &ev)
			norm.Apply(&ev)
		}
	})
	b.Run("parse+normalize+lower", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p.Parse(lines[i%len(lines)], &ev)
			norm.Apply(&ev)
			ev.LowerAll()
		}
	})
	res, _ := detect.LoadRules([]string{corpus + "/rules/windows"}, nil)
	eng, _ := detect.NewEngine(detect.Config{}, res.Rules...)
	b.Run("all", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p.Parse(lines[i%len(lines)], &ev)
			eng.Process(&ev)
		}
	})
}
