package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/custodia/custodia/internal/dataprotection"
)

// Scan runs "custodia scan": it prints the findings in the given files and
// directories (or standard input for "-").
func Scan(ctx context.Context, env *Env, args []string) error {
	fset := flag.NewFlagSet("scan", flag.ContinueOnError)
	fset.SetOutput(env.Stderr)
	var ef engineFlags
	ef.register(fset)
	format := fset.String("format", "jsonl", "output: jsonl (one finding per line), text, or sarif (SARIF 2.1.0)")
	summary := fset.Bool("summary", false, "print counts per entity and per file instead of the findings (data discovery)")
	showValues := fset.Bool("show-values", false, "also print each sensitive value in full (off by default: only a masked form is shown)")
	fset.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: custodia scan [flags] PATH... | -")
		fmt.Fprintln(env.Stderr, "\nFinds personal and card data in files. Directories are walked; .txt, .jsonl, .csv, .json")
		fmt.Fprintln(env.Stderr, "and .eml are understood, other files are read as text and binary files are skipped.")
		fmt.Fprintln(env.Stderr, "Offsets are byte offsets into each file; values are masked unless --show-values.\n\nFlags:")
		fset.PrintDefaults()
		fmt.Fprintln(env.Stderr, "\nEntities:", entityList())
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErr("%v", err)
	}
	if fset.NArg() == 0 {
		fset.Usage()
		return usageErr("no PATH given (use - for standard input)")
	}
	switch *format {
	case "jsonl", "text", "sarif":
	default:
		return usageErr("--format must be jsonl, text or sarif, not %q", *format)
	}
	sc, err := ef.scanner()
	if err != nil {
		return err
	}
	masker, _ := dataprotection.NewOperator(dataprotection.OpMask, nil)
	out := bufio.NewWriterSize(env.Stdout, 64<<10)
	defer out.Flush()
	r := &scanRun{ctx: ctx, env: env, ef: &ef, sc: sc, masker: masker, out: out, format: *format,
		summary: *summary, showValues: *showValues, total: map[dataprotection.Entity]int{}}
	for _, p := range fset.Args() {
		if err := r.path(p); err != nil {
			return err
		}
	}
	if err := r.finish(); err != nil {
		return err
	}
	if r.failed > 0 {
		return fmt.Errorf("%d of %d inputs could not be scanned (see messages above)", r.failed, r.files)
	}
	return nil
}

type scanRun struct {
	ctx        context.Context
	env        *Env
	ef         *engineFlags
	sc         *dataprotection.Scanner
	masker     *dataprotection.Operator
	out        *bufio.Writer
	format     string
	summary    bool
	showValues bool
	files      int
	failed     int
	total      map[dataprotection.Entity]int
	sarif      []sarifResult
	enc        lineEncoder
	masked     []byte // the current finding's masked value, reused
}

func (r *scanRun) path(p string) error {
	if p == "-" {
		f, err := r.ef.format("-")
		if err != nil {
			return err
		}
		return r.input("-", r.env.Stdin, f)
	}
	return filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(r.env.Stderr, "custodia scan: %v\n", err)
			r.failed++
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		if cerr := r.ctx.Err(); cerr != nil {
			return cerr
		}
		f, ferr := r.ef.format(path)
		if ferr != nil {
			return ferr
		}
		file, oerr := os.Open(path)
		if oerr != nil {
			fmt.Fprintf(r.env.Stderr, "custodia scan: %v\n", oerr)
			r.failed++
			return nil
		}
		defer file.Close()
		return r.input(path, file, f)
	})
}

// input scans one file. Binary content is skipped with a message; a read
// error is reported and the run goes on.
func (r *scanRun) input(path string, rd io.Reader, f dataprotection.Format) error {
	r.files++
	br := bufio.NewReaderSize(rd, 64<<10)
	head, _ := br.Peek(8 << 10)
	if bytes.IndexByte(head, 0) >= 0 {
		fmt.Fprintf(r.env.Stderr, "custodia scan: %s: binary file skipped\n", path)
		return nil
	}
	rep, err := r.sc.ScanStream(r.ctx, br, f, func(fd dataprotection.Finding, value []byte) error {
		if r.summary {
			return nil
		}
		return r.emit(path, fd, value)
	})
	if rep != nil {
		for _, w := range rep.Warnings {
			fmt.Fprintf(r.env.Stderr, "custodia scan: %s: %s\n", path, w)
		}
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		fmt.Fprintf(r.env.Stderr, "custodia scan: %s: %v\n", path, err)
		r.failed++
		return nil
	}
	for e, n := range rep.Counts {
		r.total[e] += n
	}
	if r.summary {
		return r.fileSummary(path, rep)
	}
	return nil
}

type findingLine struct {
	Path      string  `json:"path"`
	Entity    string  `json:"entity"`
	Start     int     `json:"start"`
	End       int     `json:"end"`
	Score     float64 `json:"score"`
	Validator string  `json:"validator"`
	Masked    string  `json:"masked"`
	Value     string  `json:"value,omitempty"`
}

func (r *scanRun) emit(path string, f dataprotection.Finding, value []byte) error {
	var err error
	if r.masked, err = r.masker.AppendApply(r.masked[:0], f.Entity, value); err != nil {
		return err
	}
	if r.format == "sarif" {
		line := findingLine{Path: path, Entity: string(f.Entity), Start: f.Start, End: f.End,
			Score: f.Score, Validator: f.Validator, Masked: string(r.masked)}
		r.sarif = append(r.sarif, newSarifResult(line))
		return nil
	}
	b := r.lineBuf()
	if r.format == "text" {
		shown := r.masked
		if r.showValues {
			shown = value
		}
		b = appendTextLine(b, path, f, shown)
	} else {
		var full []byte
		if r.showValues {
			full = value
		}
		if b, err = r.enc.appendLine(b, path, f, r.masked, full); err != nil {
			return err
		}
		b = append(b, '\n')
	}
	_, err = r.out.Write(b)
	return err
}

// lineBuf returns an empty slice over the output buffer's free space, so
// that a line appended to it and written is not copied. It flushes first
// when little space is left.
func (r *scanRun) lineBuf() []byte {
	if r.out.Available() < 4<<10 {
		r.out.Flush() // an error sticks to r.out and comes back from the next Write
	}
	return r.out.AvailableBuffer()
}

// appendTextLine appends a finding as --format text prints it: the line
// fmt.Sprintf("%s:%d-%d\t%s\t%.2f\t%s\t%q\n", path, f.Start, f.End,
// f.Entity, f.Score, f.Validator, string(v)) gives.
func appendTextLine(dst []byte, path string, f dataprotection.Finding, v []byte) []byte {
	if math.IsInf(f.Score, 0) || math.IsNaN(f.Score) { // fmt spells these its own way
		return fmt.Appendf(dst, "%s:%d-%d\t%s\t%.2f\t%s\t%q\n", path, f.Start, f.End, f.Entity, f.Score, f.Validator, string(v))
	}
	dst = append(dst, path...)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, int64(f.Start), 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, int64(f.End), 10)
	dst = append(dst, '\t')
	dst = append(dst, f.Entity...)
	dst = append(dst, '\t')
	dst = strconv.AppendFloat(dst, f.Score, 'f', 2, 64)
	dst = append(dst, '\t')
	dst = append(dst, f.Validator...)
	dst = append(dst, '\t')
	dst = strconv.AppendQuote(dst, string(v))
	return append(dst, '\n')
}

func sortedEntities(m map[dataprotection.Entity]int) []dataprotection.Entity {
	var es []dataprotection.Entity
	for e := range m {
		es = append(es, e)
	}
	slices.Sort(es)
	return es
}

func (r *scanRun) fileSummary(path string, rep *dataprotection.Report) error {
	if r.format == "text" {
		var parts []string
		for _, e := range sortedEntities(rep.Counts) {
			parts = append(parts, fmt.Sprintf("%s=%d", e, rep.Counts[e]))
		}
		if len(parts) == 0 {
			parts = append(parts, "none")
		}
		_, err := fmt.Fprintf(r.out, "%s\t%d bytes\t%s\n", path, rep.Bytes, strings.Join(parts, " "))
		return err
	}
	b, err := json.Marshal(struct {
		Path   string                        `json:"path"`
		Bytes  int64                         `json:"bytes"`
		Counts map[dataprotection.Entity]int `json:"counts"`
	}{path, rep.Bytes, rep.Counts})
	if err != nil {
		return err
	}
	_, err = r.out.Write(append(b, '\n'))
	return err
}

func (r *scanRun) finish() error {
	if r.summary {
		if r.format == "text" {
			fmt.Fprintf(r.out, "TOTAL\t%d files", r.files)
			for _, e := range sortedEntities(r.total) {
				fmt.Fprintf(r.out, "\t%s=%d", e, r.total[e])
			}
			_, err := fmt.Fprintln(r.out)
			return err
		}
		b, err := json.Marshal(struct {
			Files int                           `json:"files"`
			Total map[dataprotection.Entity]int `json:"total"`
		}{r.files, r.total})
		if err != nil {
			return err
		}
		_, err = r.out.Write(append(b, '\n'))
		return err
	}
	if r.format == "sarif" {
		return writeSarif(r.out, r.sarif)
	}
	return nil
}
