// Package eval measures the data-protection scanner: precision, recall,
// F1 and F2 per entity on generated contact-center material, the share of
// card data that would survive redaction, false positives on material
// without personal data, and token-level scores on presidio-research's
// labelled English set.
package eval

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	dp "github.com/custodia/custodia/internal/dataprotection"
	"github.com/custodia/custodia/internal/dataprotection/corpus"
)

// Counts are true positives, false positives and false negatives.
type Counts struct{ TP, FP, FN int }

// Precision is TP/(TP+FP), 1 when nothing was predicted.
func (c Counts) Precision() float64 {
	if c.TP+c.FP == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FP)
}

// Recall is TP/(TP+FN), 1 when nothing was there to find.
func (c Counts) Recall() float64 {
	if c.TP+c.FN == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FN)
}

// F is the F-beta score.
func (c Counts) F(beta float64) float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	b2 := beta * beta
	return (1 + b2) * p * r / (b2*p + r)
}

// Result holds the scores of one evaluation.
type Result struct {
	Docs      int
	Bytes     int
	PerEntity map[string]*Counts
	// SpokenPAN counts spoken card numbers (gold spans marked spoken).
	SpokenPAN Counts
	// LeakChars and CardChars: letters and digits of gold PAN and CVV
	// spans not covered by any finding, and all of them; PANLeak and
	// PANChars the same for card numbers alone.
	LeakChars, CardChars int
	PANLeak, PANChars    int
}

// Overall sums the counts of every entity.
func (r *Result) Overall() Counts {
	var c Counts
	for _, x := range r.PerEntity {
		c.TP += x.TP
		c.FP += x.FP
		c.FN += x.FN
	}
	return c
}

// LeakPAN is the share of PAN characters a redaction would leave.
func (r *Result) LeakPAN() float64 {
	if r.PANChars == 0 {
		return 0
	}
	return float64(r.PANLeak) / float64(r.PANChars)
}

// Leak is the share of PAN and CVV characters a redaction would leave.
func (r *Result) Leak() float64 {
	if r.CardChars == 0 {
		return 0
	}
	return float64(r.LeakChars) / float64(r.CardChars)
}

func (r *Result) counts(e string) *Counts {
	c := r.PerEntity[e]
	if c == nil {
		c = &Counts{}
		r.PerEntity[e] = c
	}
	return c
}

// Corpus scores the scanner on generated documents: a finding matches a
// labelled span of the same entity that it overlaps.
func Corpus(s *dp.Scanner, docs []corpus.Document) *Result {
	res := &Result{PerEntity: map[string]*Counts{}}
	for _, d := range docs {
		res.Docs++
		res.Bytes += len(d.Text)
		fs := scanDoc(s, d)
		used := make([]bool, len(fs))
		for _, g := range d.Spans {
			hit := false
			for i, f := range fs {
				if !used[i] && f.Entity == g.Entity && f.Start < g.End && g.Start < f.End {
					used[i], hit = true, true
					break
				}
			}
			c := res.counts(string(g.Entity))
			if hit {
				c.TP++
			} else {
				c.FN++
			}
			if g.Entity == dp.CreditCard && g.Spoken {
				if hit {
					res.SpokenPAN.TP++
				} else {
					res.SpokenPAN.FN++
				}
			}
			if g.Entity == dp.CreditCard || g.Entity == dp.CardCVV {
				for p := g.Start; p < g.End; p++ {
					c := d.Text[p]
					if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
						continue
					}
					res.CardChars++
					if g.Entity == dp.CreditCard {
						res.PANChars++
					}
					covered := false
					for _, f := range fs {
						if f.Start <= p && p < f.End {
							covered = true
							break
						}
					}
					if !covered {
						res.LeakChars++
						if g.Entity == dp.CreditCard {
							res.PANLeak++
						}
					}
				}
			}
		}
		for i, f := range fs {
			if !used[i] {
				res.counts(string(f.Entity)).FP++
			}
		}
	}
	return res
}

// CleanRate returns the findings per 100 KB on documents without
// personal data, and the findings themselves for inspection.
func CleanRate(s *dp.Scanner, docs []corpus.Document) (per100KB float64, examples []string) {
	n, size := 0, 0
	for _, d := range docs {
		size += len(d.Text)
		for _, f := range scanDoc(s, d) {
			n++
			if len(examples) < 20 {
				examples = append(examples, fmt.Sprintf("%s %q", f.Entity, d.Text[f.Start:f.End]))
			}
		}
	}
	if size == 0 {
		return 0, nil
	}
	return float64(n) / (float64(size) / 102400), examples
}

// WriteTable prints per-entity scores as a Markdown table.
func WriteTable(w io.Writer, per map[string]*Counts, overall Counts) {
	var names []string
	for e := range per {
		names = append(names, e)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "| entity | TP | FP | FN | precision | recall | F1 | F2 |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	row := func(name string, c Counts) {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %.3f | %.3f | %.3f | %.3f |\n", name, c.TP, c.FP, c.FN, c.Precision(), c.Recall(), c.F(1), c.F(2))
	}
	for _, e := range names {
		row(e, *per[e])
	}
	row("**overall**", overall)
}

// ChecksumEntities are the entities confirmed by a checksum.
var ChecksumEntities = []dp.Entity{dp.CreditCard, dp.IBANCode, dp.ESNIF, dp.ESNIE, dp.ESCIF, dp.ESNSS}

// Checksummed sums the counts of the checksum-validated entities.
func (r *Result) Checksummed() Counts {
	var c Counts
	for e, x := range r.PerEntity {
		if slices.Contains(ChecksumEntities, dp.Entity(e)) {
			c.TP += x.TP
			c.FP += x.FP
			c.FN += x.FN
		}
	}
	return c
}

// scanDoc scans a document the way the command line would: CSV exports
// cell by cell with their column names, everything else as text.
func scanDoc(s *dp.Scanner, d corpus.Document) []dp.Finding {
	if d.Kind != "csv" {
		return s.Scan([]byte(d.Text))
	}
	var fs []dp.Finding
	_, err := s.ScanStream(context.Background(), strings.NewReader(d.Text), dp.FormatCSV, func(f dp.Finding, _ []byte) error {
		fs = append(fs, f)
		return nil
	})
	if err != nil {
		panic(err) // a strings.Reader does not fail
	}
	return fs
}
