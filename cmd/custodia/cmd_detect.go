package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/detect"
	"github.com/custodia/custodia/internal/detect/event"
	"github.com/custodia/custodia/internal/detect/normalize"
	"github.com/custodia/custodia/internal/detect/parse"
	"github.com/custodia/custodia/internal/detect/sigma"
)

// maxReportedParseErrors bounds the per-record parse errors printed.
const maxReportedParseErrors = 20

// listFlag collects a comma-separated, repeatable flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// placeholderFlag collects name=value[,value…] placeholder definitions.
type placeholderFlag map[string][]string

func (p placeholderFlag) String() string { return "" }
func (p placeholderFlag) Set(s string) error {
	name, vals, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value[,value…], got %q", s)
	}
	p[strings.Trim(name, "%")] = append(p[strings.Trim(name, "%")], strings.Split(vals, ",")...)
	return nil
}

// detectOutput is one JSON line of "custodia detect".
type detectOutput struct {
	RuleID         string            `json:"rule_id"`
	Title          string            `json:"title"`
	Level          string            `json:"level"`
	EventIndex     int64             `json:"event_index"`
	Time           *string           `json:"time"`
	Fields         map[string]string `json:"fields"`
	Status         string            `json:"status,omitempty"`
	Tags           []string          `json:"tags,omitempty"`
	References     []string          `json:"references,omitempty"`
	FalsePositives []string          `json:"falsepositives,omitempty"`
	Correlation    string            `json:"correlation,omitempty"`
	Group          map[string]string `json:"group,omitempty"`
	Value          *float64          `json:"value,omitempty"`
	EventIndexes   []int64           `json:"event_indexes,omitempty"`
}

func cmdDetect(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var rules, mappings listFlag
	placeholders := placeholderFlag{}
	fs.Var(&rules, "rules", "Sigma rule directories or files, comma-separated or repeated; \"builtin\" is the embedded contact-center pack")
	format := fs.String("format", "jsonl", "output format: jsonl (one JSON object per alert) or text")
	inputFormat := fs.String("input-format", "auto", "input format: auto (per record), syslog, cef, leef, json, evtx-json, kv or text")
	stats := fs.Bool("stats", false, "print events/s, rules loaded and rules rejected (with reasons) to stderr")
	checkRules := fs.String("check-rules", "", "validate the rules in `DIR` (comma-separated list allowed) and exit; nonzero exit if any is rejected")
	fs.Var(&mappings, "mappings", "extra field-mapping/log-source routing YAML `FILE`s added to the built-in one (see docs/detection.md)")
	fs.Var(placeholders, "placeholder", "values for an expand placeholder, as name=value[,value…]; repeatable")
	maxKeys := fs.Int("max-correlation-keys", 100000, "group-by keys each correlation rule keeps at most")
	routes := fs.Bool("routes", false, "print the log source routing table and exit")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: custodia detect --rules DIR[,DIR…] [flags] [FILE… | -]")
		fmt.Fprintln(env.Stderr, "       custodia detect --check-rules DIR")
		fmt.Fprintln(env.Stderr, "\nEvaluates Sigma rules over events read from the files (or stdin) and prints one line per alert.")
		fmt.Fprintln(env.Stderr, "Flags:")
		fs.PrintDefaults()
	}
	getenv := env.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	// Flags may also come from CUSTODIA_* variables or --config, like every command's.
	cfg := config.Defaults()
	if err := cfg.Parse(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *format != "jsonl" && *format != "text" {
		return fmt.Errorf("%w: --format must be jsonl or text, got %q", errUsage, *format)
	}
	inFmt, err := parse.ParseFormat(*inputFormat)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	var extra [][]byte
	for _, m := range mappings {
		data, err := os.ReadFile(m)
		if err != nil {
			return fmt.Errorf("read mappings: %w", err)
		}
		extra = append(extra, data)
	}
	norm, err := normalize.New(extra...)
	if err != nil {
		return fmt.Errorf("load mappings: %w", err)
	}
	if *routes {
		fmt.Fprintln(env.Stdout, "source\twhen\tlogsource")
		for _, r := range norm.Routes() {
			fmt.Fprintln(env.Stdout, r)
		}
		return nil
	}
	opts := &sigma.Options{Placeholders: placeholders}
	if *checkRules != "" {
		var dirs listFlag
		dirs.Set(*checkRules)
		res, err := detect.LoadRules(dirs, opts)
		if err != nil {
			return err
		}
		for _, e := range res.Rejected {
			fmt.Fprintln(env.Stdout, "rejected:", e)
		}
		for _, r := range res.Rules {
			for _, w := range r.Warnings {
				fmt.Fprintf(env.Stdout, "warning: %s: %s\n", r.Source, w)
			}
		}
		fmt.Fprintf(env.Stdout, "%d files, %d rules loaded, %d rejected\n", res.Files, len(res.Rules), len(res.Rejected))
		if _, err := detect.NewEngine(detect.Config{Normalizer: norm}, res.Rules...); err != nil {
			return err
		}
		if len(res.Rejected) > 0 {
			return fmt.Errorf("%d rules rejected", len(res.Rejected))
		}
		return nil
	}
	if len(rules) == 0 {
		return fmt.Errorf("%w: --rules is required (a directory, or \"builtin\")", errUsage)
	}
	res, err := detect.LoadRules(rules, opts)
	if err != nil {
		return err
	}
	if len(res.Rules) == 0 {
		for _, e := range res.Rejected {
			fmt.Fprintln(env.Stderr, "rejected:", e)
		}
		return fmt.Errorf("no rules loaded from %s", strings.Join(rules, ","))
	}
	eng, err := detect.NewEngine(detect.Config{Normalizer: norm, MaxCorrelationKeys: *maxKeys}, res.Rules...)
	if err != nil {
		return err
	}
	inputs := fs.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	out := bufio.NewWriterSize(env.Stdout, 64<<10)
	defer out.Flush()
	run := detectRun{env: env, eng: eng, parser: parse.NewParser(inFmt), out: out, text: *format == "text"}
	start := time.Now()
	for _, in := range inputs {
		if err := run.input(ctx, in); err != nil {
			return err
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	if run.parseErrors > maxReportedParseErrors {
		fmt.Fprintf(env.Stderr, "custodia detect: %d more records did not parse\n", run.parseErrors-maxReportedParseErrors)
	}
	if *stats {
		el := time.Since(start)
		st := eng.Stats()
		fmt.Fprintf(env.Stderr, "events: %d (%d did not parse) in %s: %.0f events/s\n", run.events, run.parseErrors, el.Round(time.Millisecond), float64(run.events)/el.Seconds())
		fmt.Fprintf(env.Stderr, "alerts: %d; rules evaluated per event after routing and prefilter: %.1f\n", run.alerts, eng.EvaluationsPerEvent())
		fmt.Fprintf(env.Stderr, "rules: %d files, %d loaded (%d detection, %d correlation, %d filters; %d behind the literal prefilter), %d rejected\n",
			res.Files, len(res.Rules), st.Rules, st.Correlations, st.Filters, st.PrefilteredRules, len(res.Rejected))
		for _, e := range res.Rejected {
			fmt.Fprintln(env.Stderr, "  rejected:", e)
		}
	}
	return nil
}

// detectRun carries the state of one "custodia detect" run.
type detectRun struct {
	env         *Env
	eng         *detect.Engine
	parser      *parse.Parser
	out         *bufio.Writer
	text        bool
	events      int64
	parseErrors int64
	alerts      int64
	ev          event.Event
}

func (r *detectRun) input(ctx context.Context, name string) error {
	var rd io.Reader
	if name == "-" {
		rd = r.env.Stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("open input: %w", err)
		}
		defer f.Close()
		rd = f
	}
	recs := parse.NewReader(rd)
	for n := int64(1); ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := recs.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && !errors.Is(err, parse.ErrRecordTooLong) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("read %s: %w", name, err)
		}
		if len(rec) == 0 && err == nil {
			continue // blank line: not an event
		}
		idx := r.events
		r.events++
		if err == nil {
			err = r.parser.Parse(string(rec), &r.ev)
		}
		if err != nil {
			r.parseErrors++
			if r.parseErrors <= maxReportedParseErrors {
				fmt.Fprintf(r.env.Stderr, "custodia detect: %s: record %d (event %d): %v\n", name, n, idx, err)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			continue
		}
		for _, a := range r.eng.ProcessIndex(&r.ev, idx) {
			r.alerts++
			if err := r.write(a); err != nil {
				return err
			}
		}
	}
}

func (r *detectRun) write(a detect.Alert) error {
	if r.text {
		var b strings.Builder
		fmt.Fprintf(&b, "%-8s %s [%s] event %d", strings.ToUpper(orDash(a.Level)), a.Title, a.RuleID, a.EventIndex)
		if !a.Time.IsZero() {
			fmt.Fprintf(&b, " at %s", a.Time.UTC().Format(time.RFC3339))
		}
		if a.Correlation != "" {
			fmt.Fprintf(&b, " %s over events %v", a.Correlation, a.EventIndexes)
		}
		keys := make([]string, 0, len(a.Fields))
		for k := range a.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%q", k, a.Fields[k])
		}
		b.WriteByte('\n')
		_, err := r.out.WriteString(b.String())
		return err
	}
	o := detectOutput{
		RuleID: a.RuleID, Title: a.Title, Level: a.Level, EventIndex: a.EventIndex, Fields: a.Fields,
		Status: a.Status, Tags: a.Tags, References: a.References, FalsePositives: a.FalsePositives,
		Correlation: a.Correlation, Group: a.Group, Value: a.Value, EventIndexes: a.EventIndexes,
	}
	if o.Fields == nil {
		o.Fields = map[string]string{}
	}
	if !a.Time.IsZero() {
		s := a.Time.UTC().Format(time.RFC3339Nano)
		o.Time = &s
	}
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = r.out.Write(b)
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
