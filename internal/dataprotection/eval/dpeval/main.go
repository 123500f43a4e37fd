// Command dpeval generates test material for the data-protection engine
// and measures it.
//
//	dpeval gen -mb 8 -out corpus.txt      mixed contact-center text (half PII-free)
//	dpeval eval [-n 5000] [-presidio F]   full accuracy report (Markdown)
//	dpeval scan FILE...                   "custodia scan" in-process (for benchmarks)
//	dpeval mem -gb 5                      scan a streamed generated input, report peak memory
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"github.com/custodia/custodia/internal/corpora"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	dp "github.com/custodia/custodia/internal/dataprotection"
	"github.com/custodia/custodia/internal/dataprotection/cli"
	"github.com/custodia/custodia/internal/dataprotection/corpus"
	"github.com/custodia/custodia/internal/dataprotection/eval"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dpeval gen|eval|scan|mem [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "eval":
		err = runEval(os.Args[2:])
	case "scan":
		env := &cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
		err = cli.Scan(context.Background(), env, os.Args[2:])
	case "mem":
		err = mem(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dpeval:", err)
		os.Exit(1)
	}
}

// mixed writes about size bytes of generated text: documents with
// personal data alternate with PII-free ones.
func mixed(w io.Writer, size int64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var n int64
	for seed := uint64(1); n < size; seed++ {
		pii := corpus.Generate(corpus.Train, 500, seed)
		clean := corpus.Generate(corpus.Clean, 500, seed+1<<32)
		for i := range pii {
			for _, t := range []string{pii[i].Text, "\n", clean[i].Text, "\n"} {
				k, err := bw.WriteString(t)
				if err != nil {
					return err
				}
				n += int64(k)
			}
			if n >= size {
				break
			}
		}
	}
	return bw.Flush()
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	mb := fs.Int("mb", 8, "megabytes to write")
	out := fs.String("out", "-", "output file (- for standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	w := io.Writer(os.Stdout)
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	return mixed(w, int64(*mb)<<20)
}

func runEval(args []string) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	n := fs.Int("n", 5000, "documents per split")
	presidio := fs.String("presidio", filepath.Join(corpora.Dir("pii"), "synth_dataset_v2.json"), "presidio-research synth_dataset_v2.json (empty to skip)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := dp.NewScanner(dp.Options{})
	if err != nil {
		return err
	}
	out := os.Stdout
	for _, split := range []struct {
		name string
		sp   corpus.Split
	}{{"train", corpus.Train}, {"eval", corpus.Eval}} {
		res := eval.Corpus(s, corpus.Generate(split.sp, *n, 42))
		fmt.Fprintf(out, "\n### Generated corpus, %s split (%d documents, %d bytes; templates %s)\n\n", split.name, res.Docs, res.Bytes, strings.Join(corpus.TemplateIDs(split.sp), ", "))
		eval.WriteTable(out, res.PerEntity, res.Overall())
		cs := res.Checksummed()
		fmt.Fprintf(out, "\nchecksum-validated entities: precision %.4f recall %.4f; spoken PAN recall %.4f (%d/%d); PAN leak %.5f%%; PAN+CVV leak %.5f%%\n",
			cs.Precision(), cs.Recall(), res.SpokenPAN.Recall(), res.SpokenPAN.TP, res.SpokenPAN.TP+res.SpokenPAN.FN, 100*res.LeakPAN(), 100*res.Leak())
	}
	clean := corpus.Generate(corpus.Clean, *n, 43)
	rate, examples := eval.CleanRate(s, clean)
	size := 0
	for _, d := range clean {
		size += len(d.Text)
	}
	fmt.Fprintf(out, "\nPII-free material (%d bytes): %.3f findings per 100 KB %v\n", size, rate, examples)
	if *presidio != "" {
		ps, _ := dp.NewScanner(dp.Options{Lang: "en", Entities: dp.AllEntities()})
		res, err := eval.Presidio(ps, *presidio)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "\n### presidio-research synth_dataset_v2 (%d sentences, %d tokens; token-level, DATE_TIME enabled)\n\n", res.Sentences, res.Tokens)
		eval.WriteTable(out, res.PerEntity, res.Overall())
		o := res.Overall("DATE_TIME")
		fmt.Fprintf(out, "\noverall without DATE_TIME: precision %.3f recall %.3f F2 %.3f\n", o.Precision(), o.Recall(), o.F(2))
	}
	return nil
}

// mem scans a generated stream of the given size through ScanStream and
// reports throughput and the peak heap.
func mem(args []string) error {
	fs := flag.NewFlagSet("mem", flag.ContinueOnError)
	gb := fs.Float64("gb", 1, "gigabytes to stream")
	if err := fs.Parse(args); err != nil {
		return err
	}
	size := int64(*gb * (1 << 30))
	pr, pw := io.Pipe()
	go func() {
		// Repeat a 64 MB generated block: generation is slower than scanning.
		var block strings.Builder
		_ = mixed(&block, 64<<20)
		b := block.String()
		var n int64
		for n < size {
			k, err := io.WriteString(pw, b[:min(int64(len(b)), size-n)])
			if err != nil {
				return
			}
			n += int64(k)
		}
		pw.Close()
	}()
	s, _ := dp.NewScanner(dp.Options{})
	var peak uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				if ms.Sys > peak {
					peak = ms.Sys
				}
			}
		}
	}()
	start := time.Now()
	found := 0
	rep, err := s.ScanStream(context.Background(), pr, dp.FormatText, func(dp.Finding, []byte) error { found++; return nil })
	close(done)
	if err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Printf("streamed %d bytes in %v (%.1f MB/s), %d findings, peak runtime memory (Sys) %.1f MB\n",
		rep.Bytes, el.Round(time.Millisecond), float64(rep.Bytes)/el.Seconds()/1e6, found, float64(peak)/1e6)
	return nil
}
