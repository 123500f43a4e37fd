package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/posture"
	"github.com/custodia/custodia/internal/posture/baseline"
	"github.com/custodia/custodia/internal/posture/collect"
)

// checkOptions are the flags shared by check and run.
type checkOptions struct {
	policies     stringList
	withBaseline bool
	restrictions bool
	timeout      time.Duration
	runTimeout   time.Duration
	parallel     int
}

func (o *checkOptions) register(fs *flag.FlagSet) {
	fs.Var(&o.policies, "policy", "policy `FILE` to run (Wazuh SCA 4.x or 5.x YAML); repeatable; without it the built-in baseline runs")
	fs.BoolVar(&o.withBaseline, "baseline", false, "also run the built-in baseline when --policy is given")
	fs.BoolVar(&o.restrictions, "restrictions", false, "also run the client-restriction policy (clipboard, printing, screen capture, VDI redirection)")
	fs.DurationVar(&o.timeout, "command-timeout", posture.DefaultCommandTimeout, "timeout for each command a rule runs")
	fs.DurationVar(&o.runTimeout, "run-timeout", 5*time.Minute, "limit for a whole check run; rules not reached report error")
	fs.IntVar(&o.parallel, "parallel", 3, "commands run `N` at a time before the checks read them (1: one by one)")
}

// loadPolicies loads the baseline and/or policy files. A file that does not
// parse is reported and skipped, so one bad file never stops the others.
func (o *checkOptions) loadPolicies(stderr io.Writer) ([]*posture.Policy, error) {
	var out []*posture.Policy
	if len(o.policies) == 0 || o.withBaseline || o.restrictions {
		names := baseline.For(runtime.GOOS, o.restrictions)
		if len(o.policies) > 0 && !o.withBaseline && o.restrictions {
			names = names[1:]
		}
		ps, err := baseline.Load(names...)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	var failed []string
	for _, f := range o.policies {
		p, err := posture.ParseFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "custodia-agent: %v\n", err)
			failed = append(failed, f)
			continue
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		if len(failed) > 0 {
			return nil, fmt.Errorf("no policy could be loaded (%s)", strings.Join(failed, ", "))
		}
		return nil, fmt.Errorf("no built-in baseline for %s; pass --policy", runtime.GOOS)
	}
	return out, nil
}

// runChecks evaluates policies against h and returns the report.
func runChecks(ctx context.Context, h *posture.Host, policies []*posture.Policy, limit time.Duration, parallel int) posture.Report {
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	start := time.Now()
	rep := posture.Report{Started: start.UTC()}
	rep.Device, _ = os.Hostname()
	r := posture.NewRun(h)
	if u, err := r.Session(ctx); err == nil && u != nil {
		rep.User = u.Name
	}
	if h.OS != nil {
		if info, err := h.OS(ctx); err == nil {
			rep.OS = strings.TrimSpace(info.Name + " " + info.Build)
		}
	}
	r.Prefetch(ctx, policies, parallel)
	for _, p := range policies {
		rep.Policies = append(rep.Policies, r.Policy(ctx, p))
	}
	rep.DurationMS = time.Since(start).Milliseconds()
	return rep
}

func cmdCheck(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "check", "[--policy FILE...] [--format json|text]",
		`Run posture policies on this machine now and print every check's result
(passed, failed, not_applicable, error) with its evidence and compliance
mapping, plus a score per policy. Works with no server. Without --policy the
built-in contact-center baseline for this operating system runs.
Exit status 1 when a check failed or could not be evaluated.`)
	var o checkOptions
	o.register(fs)
	format := fs.String("format", "text", "output `format`: json or text")
	only := fs.String("only", "", "print only checks with this `result` (failed, error, passed, not_applicable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	o.policies = append(o.policies, fs.Args()...) // check --policy a.yml b.yml
	if *format != "json" && *format != "text" {
		fmt.Fprintf(env.Stderr, "check: --format %q: want json or text\n", *format)
		return errUsage
	}
	policies, err := o.loadPolicies(env.Stderr)
	if err != nil {
		return err
	}
	h := collect.New()
	h.CommandTimeout = o.timeout
	rep := runChecks(ctx, h, policies, o.runTimeout, o.parallel)
	if *only != "" {
		for i := range rep.Policies {
			keep := []posture.CheckResult{}
			for _, c := range rep.Policies[i].Checks {
				if string(c.Result) == *only {
					keep = append(keep, c)
				}
			}
			rep.Policies[i].Checks = keep
		}
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		writeText(env.Stdout, rep)
	}
	for _, p := range rep.Policies {
		if p.Failed > 0 || p.Errors > 0 {
			return errFindings
		}
	}
	return nil
}

// writeText prints a report for a person at a terminal.
func writeText(w io.Writer, rep posture.Report) {
	fmt.Fprintf(w, "Device %s", rep.Device)
	if rep.User != "" {
		fmt.Fprintf(w, ", user %s", rep.User)
	}
	if rep.OS != "" {
		fmt.Fprintf(w, ", %s", rep.OS)
	}
	fmt.Fprintf(w, " — %s, %d ms\n", rep.Started.Format(time.RFC3339), rep.DurationMS)
	marks := map[posture.Status]string{posture.Passed: "PASS", posture.Failed: "FAIL", posture.NotApplicable: "N/A ", posture.Error: "ERR "}
	for _, p := range rep.Policies {
		name := p.Name
		if name == "" {
			name = p.Policy
		}
		fmt.Fprintf(w, "\n%s (%s, %s)\n", name, p.Policy, p.Dialect)
		for _, c := range p.Checks {
			fmt.Fprintf(w, "  %s %-8s %s\n", marks[c.Result], c.ID, c.Title)
			if c.Result != posture.Passed && c.Reason != "" {
				fmt.Fprintf(w, "                %s\n", c.Reason)
			}
			if c.Result == posture.Failed && c.Remediation != "" {
				fmt.Fprintf(w, "                fix: %s\n", c.Remediation)
			}
			if len(c.Compliance) > 0 && c.Result == posture.Failed {
				var parts []string
				for _, k := range sortedKeys(c.Compliance) {
					parts = append(parts, k+" "+strings.Join(c.Compliance[k], ","))
				}
				fmt.Fprintf(w, "                maps to: %s\n", strings.Join(parts, "; "))
			}
		}
		fmt.Fprintf(w, "  score %.1f%%: %d passed, %d failed, %d not applicable, %d errors\n",
			p.Score, p.Passed, p.Failed, p.NotApplicable, p.Errors)
	}
}

func cmdLint(_ context.Context, env *Env, args []string) error {
	fs := newFlags(env, "lint", "FILE...",
		`Parse policy files and report every problem: YAML errors, missing fields,
mixed dialects, unknown rule types, regexes OSRegex or PCRE2 cannot express
in RE2 (with the reason), bad compare operators. Nothing is executed.
Exit status 1 when a file has problems. --baseline lints the built-in policies.`)
	builtin := fs.Bool("baseline", false, "lint the built-in baseline policies")
	if err := parse(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 && !*builtin {
		fmt.Fprintln(env.Stderr, "lint: no policy file given")
		return errUsage
	}
	bad := 0
	report := func(name string, p *posture.Policy, err error) {
		if err != nil {
			fmt.Fprintf(env.Stdout, "%s: %v\n", name, err)
			bad++
			return
		}
		probs := p.Problems()
		for _, pr := range probs {
			fmt.Fprintf(env.Stdout, "%s: %s\n", name, pr)
		}
		if len(probs) > 0 {
			bad++
			return
		}
		fmt.Fprintf(env.Stdout, "%s: ok (%s, %s, %d checks)\n", name, p.ID, p.Dialect, len(p.Checks))
	}
	if *builtin {
		for _, n := range baseline.Names() {
			src, err := baseline.Source(n)
			if err != nil {
				return err
			}
			p, err := posture.Parse(src)
			report("baseline/"+n, p, err)
		}
	}
	for _, f := range files {
		p, err := posture.ParseFile(f)
		report(f, p, err)
	}
	if bad > 0 {
		return errFindings
	}
	return nil
}

func cmdPolicies(_ context.Context, env *Env, args []string) error {
	fs := newFlags(env, "policies", "[NAME]",
		`List the built-in policies, or print one (to copy and adapt it).`)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		for _, n := range baseline.Names() {
			fmt.Fprintln(env.Stdout, n)
		}
		return nil
	}
	src, err := baseline.Source(fs.Arg(0))
	if err != nil {
		return err
	}
	_, err = env.Stdout.Write(src)
	return err
}
