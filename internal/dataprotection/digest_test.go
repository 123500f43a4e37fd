package dataprotection_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"testing"

	dp "github.com/custodia/custodia/internal/dataprotection"
	"github.com/custodia/custodia/internal/dataprotection/corpus"
)

// evalCorpus is mixedCorpus made from the evaluation split's templates.
func evalCorpus(tb testing.TB, size int) []byte {
	tb.Helper()
	var b strings.Builder
	for seed := uint64(1); b.Len() < size; seed++ {
		for _, d := range corpus.Generate(corpus.Eval, 1000, seed) {
			b.WriteString(d.Text)
			b.WriteString("\n")
		}
	}
	return []byte(b.String()[:size])
}

// writeFindings writes one line per finding to w.
func writeFindings(w io.Writer, base int, fs []dp.Finding) {
	for _, f := range fs {
		fmt.Fprintf(w, "%s %d %d %.4f %s\n", f.Entity, base+f.Start, base+f.End, f.Score, f.Validator)
	}
}

// TestBenchCorpusFindings pins the findings on the benchmark corpus (and
// on a corpus of the evaluation split, scanned whole and in 1 KB
// messages) under several options, so that a change made for speed
// cannot change what the scanner reports. Set DP_FINDINGS_DUMP to a
// directory to write the findings there for a diff.
func TestBenchCorpusFindings(t *testing.T) {
	if testing.Short() {
		t.Skip("scans 16 MiB")
	}
	mixed := mixedCorpus(t, 4<<20)
	eval := evalCorpus(t, 2<<20)
	configs := []struct {
		name string
		opts dp.Options
		want string
	}{
		{"default", dp.Options{}, "7d9b04c8759fa680e5df75cee1585d3f872465473fab4a9416f735a0248c254f"},
		{"all-failclosed", dp.Options{Entities: dp.AllEntities(), FailClosed: true}, "c0e07401f12dd17bd5a59141bf1d04192ca10c5873b4aab97895da5c5c403fce"},
		{"es", dp.Options{Lang: "es"}, "ba443988a184fd3d5cdc6a780e0f2b791505ea93c4412807264e663bca3a4e2a"},
		{"en", dp.Options{Lang: "en"}, "e8e15176a3fb0b264e426ec4cf34205061693219474d7fedda7b53296cdce874"},
	}
	dir := os.Getenv("DP_FINDINGS_DUMP")
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			s, err := dp.NewScanner(c.opts)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			var w io.Writer = h
			if dir != "" {
				f, err := os.Create(dir + "/" + c.name + ".txt")
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				w = io.MultiWriter(h, f)
			}
			fmt.Fprintln(w, "# mixed")
			writeFindings(w, 0, s.Scan(mixed))
			fmt.Fprintln(w, "# eval")
			writeFindings(w, 0, s.Scan(eval))
			fmt.Fprintln(w, "# eval in 1 KB messages")
			for off := 0; off < len(eval); off += 1000 {
				writeFindings(w, off, s.Scan(eval[off:min(off+1024, len(eval))]))
			}
			if got := sum(h); got != c.want {
				t.Errorf("findings digest = %s, want %s", got, c.want)
			}
		})
	}
}

func sum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
