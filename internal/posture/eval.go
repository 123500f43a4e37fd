package posture

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits that keep a hostile policy or host from exhausting the agent.
const (
	MaxFileBytes = 64 << 20 // bytes read from one file
	MaxLineBytes = 1 << 20  // longest line considered
	MaxDirDepth  = 16       // recursion of d: rules
	MaxDirFiles  = 20000    // files visited by one d: rule
	maxObserved  = 200      // characters of a line quoted in evidence
)

// Run evaluates policies against a host. It caches what it collects
// (command outputs, process and package lists) for its lifetime, so create
// one per check run.
type Run struct {
	h  *Host
	mu sync.Mutex

	cmds     map[string]*cmdEntry
	procs    *collected[[]Process]
	pkgs     *collected[[]Package]
	svcs     *collected[[]Service]
	osinfo   *collected[OSInfo]
	userInfo *collected[*User]
}

type cmdOutput struct {
	out []byte
	err error
}

// cmdEntry is one command of the run: the first caller runs it, later
// callers (and concurrent ones) wait for its output.
type cmdEntry struct {
	done chan struct{}
	res  cmdOutput
}

type collected[T any] struct {
	v   T
	err error
}

// NewRun starts a run against h.
func NewRun(h *Host) *Run {
	return &Run{h: h, cmds: map[string]*cmdEntry{}}
}

// Policy evaluates every check of p. It never panics: a check whose
// evaluation fails unexpectedly reports error with the reason.
func (r *Run) Policy(ctx context.Context, p *Policy) PolicyResult {
	pr := PolicyResult{Policy: p.ID, Name: p.Name, Dialect: p.Dialect.String()}
	reqStatus, reqReason := Passed, ""
	if req := p.Requirements; req != nil {
		switch {
		case req.Err != nil:
			reqStatus, reqReason = Error, "policy requirements do not parse: "+req.Err.Error()
		default:
			st, _ := r.rules(ctx, req.Condition, req.Rules)
			switch st {
			case Passed:
			case Error:
				reqStatus, reqReason = Error, "policy requirements could not be evaluated: "+req.Title
			default:
				reqStatus, reqReason = NotApplicable, "policy requirements not met: "+req.Title
			}
		}
	}
	for _, c := range p.Checks {
		cr := CheckResult{
			Policy:      p.ID,
			ID:          c.ID,
			Title:       c.Title,
			Compliance:  c.Compliance,
			Mitre:       c.Mitre,
			Remediation: c.Remediation,
			Evidence:    []Evidence{},
		}
		if cr.Compliance == nil {
			cr.Compliance = map[string][]string{}
		}
		switch {
		case reqStatus != Passed:
			cr.Result, cr.Reason = reqStatus, reqReason
		case c.Err != nil:
			cr.Result, cr.Reason = Error, "check does not parse: "+c.Err.Error()
		default:
			r.check(ctx, c, &cr)
		}
		pr.Checks = append(pr.Checks, cr)
	}
	pr.tally()
	return pr
}

func (r *Run) check(ctx context.Context, c *Check, cr *CheckResult) {
	defer func() {
		if v := recover(); v != nil {
			cr.Result = Error
			cr.Reason = fmt.Sprintf("internal error evaluating the check: %v", v)
		}
	}()
	st, ev := r.rules(ctx, c.Condition, c.Rules)
	cr.Result, cr.Evidence = st, ev
	cr.Reason = reason(c, st, ev)
}

// reason summarises why a check got its result, from the deciding rule.
func reason(c *Check, st Status, ev []Evidence) string {
	// The deciding rule: one with the check's result (for none, a passed
	// rule fails the check), preferring one that observed a value over one
	// whose target was missing.
	var pick *Evidence
	for _, wantMissing := range []bool{false, true} {
		for i := range ev {
			decisive := ev[i].Result == st
			if c.Condition == None && st == Failed {
				decisive = ev[i].Result == Passed
			}
			if decisive && ev[i].missing == wantMissing {
				pick = &ev[i]
				break
			}
		}
		if pick != nil {
			break
		}
	}
	if pick == nil && len(ev) > 0 {
		pick = &ev[len(ev)-1]
	}
	if pick == nil {
		return ""
	}
	name := pick.Target
	if c.Label != "" {
		name = c.Label
	}
	unit := ""
	if c.Unit != "" {
		unit = " " + c.Unit
	}
	obs, exp := pick.Observed, pick.Expected
	if isNumberish(obs) {
		obs += unit
	}
	if exp != "" && isComparison(exp) {
		exp += unit
	}
	switch {
	case name != "" && exp != "":
		return fmt.Sprintf("%s: observed %s, expected %s", name, obs, exp)
	case name != "":
		return fmt.Sprintf("%s: %s", name, obs)
	}
	return obs
}

func isNumberish(s string) bool {
	if s == "" {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil || strings.Trim(s, "0123456789.-") == ""
}

func isComparison(s string) bool {
	for _, op := range compareOps {
		if strings.HasPrefix(s, op+" ") {
			return true
		}
	}
	return false
}

// rules evaluates rules under cond, stopping where SCA stops: all at the
// first failed, any and none at the first passed.
func (r *Run) rules(ctx context.Context, cond Condition, rules []*Rule) (Status, []Evidence) {
	var sts []Status
	evs := []Evidence{}
	for _, rule := range rules {
		if ctx.Err() != nil {
			evs = append(evs, Evidence{Rule: rule.Text, Observed: "check run cancelled: " + ctx.Err().Error(), Result: Error})
			sts = append(sts, Error)
			break
		}
		ev := r.rule(ctx, rule)
		evs = append(evs, ev)
		sts = append(sts, ev.Result)
		if (cond == All && ev.Result == Failed) || (cond != All && ev.Result == Passed) {
			break
		}
	}
	return Aggregate(cond, sts), evs
}

// rule evaluates one rule, applying "not" last (it swaps passed and failed
// and leaves not_applicable and error alone).
func (r *Run) rule(ctx context.Context, rule *Rule) Evidence {
	ev := r.eval(ctx, rule)
	ev.Rule = rule.Text
	if rule.Strict && ev.Result == NotApplicable && ev.missing {
		ev.Result = Failed
	}
	if rule.Not {
		switch ev.Result {
		case Passed:
			ev.Result = Failed
		case Failed:
			ev.Result = Passed
		}
		if ev.Expected != "" {
			ev.Expected = "not (" + ev.Expected + ")"
		}
	}
	return ev
}

func (r *Run) eval(ctx context.Context, rule *Rule) Evidence {
	switch rule.Kind {
	case KindFile:
		return r.evalFile(rule)
	case KindDir:
		return r.evalDir(rule)
	case KindCommand:
		return r.evalCommand(ctx, rule)
	case KindProcess:
		return r.evalProcess(ctx, rule)
	case KindRegistry:
		return r.evalRegistry(rule)
	case KindPackage:
		return r.evalPackage(ctx, rule)
	case KindService:
		return r.evalService(ctx, rule)
	case KindOS:
		return r.evalOS(ctx, rule)
	case KindUser:
		return r.evalUser(ctx, rule)
	}
	return Evidence{Result: Error, Observed: "unknown rule type " + string(rule.Kind)}
}

// targetOutcome is the result of content matching on one target.
type targetOutcome struct {
	target string
	status Status
	obs    string
}

// combine merges per-target outcomes: any target passing passes (SCA's
// list semantics) or, for "every" rules, all existing targets must pass.
func combine(rule *Rule, outs []targetOutcome, expected string) Evidence {
	ev := Evidence{Expected: expected}
	if len(outs) == 0 {
		ev.Result, ev.Observed, ev.missing = NotApplicable, "no target exists", true
		ev.Target = strings.Join(rule.Targets, ",")
		return ev
	}
	var passed, failed, errored, na []targetOutcome
	for _, o := range outs {
		switch o.status {
		case Passed:
			passed = append(passed, o)
		case Failed:
			failed = append(failed, o)
		case Error:
			errored = append(errored, o)
		default:
			na = append(na, o)
		}
	}
	use := func(o targetOutcome, st Status) Evidence {
		ev.Target, ev.Observed, ev.Result = o.target, o.obs, st
		return ev
	}
	if rule.Every {
		switch {
		case len(failed) > 0:
			return use(failed[0], Failed)
		case len(errored) > 0:
			return use(errored[0], Error)
		case len(passed) > 0:
			e := use(passed[0], Passed)
			if len(passed) > 1 {
				e.Target = fmt.Sprintf("%d targets", len(passed))
			}
			return e
		}
		return use(na[0], NotApplicable)
	}
	switch {
	case len(passed) > 0:
		return use(passed[0], Passed)
	case len(errored) > 0:
		return use(errored[0], Error)
	case len(failed) > 0:
		return use(failed[0], Failed)
	}
	return use(na[0], NotApplicable)
}

// expandFiles maps targets to host paths, expanding globs. It returns the
// display path (as written in the rule) and the host path. A glob matches
// only directories for d: rules and only non-directories for f: rules.
func (r *Run) expandFiles(targets []string, dirs bool) (disp, host []string) {
	for _, t := range targets {
		if strings.ContainsAny(t, "*?[") {
			matches, err := filepath.Glob(r.h.path(t))
			if err != nil {
				disp, host = append(disp, t), append(host, r.h.path(t))
				continue
			}
			for _, m := range matches {
				if st, err := os.Stat(m); err == nil && st.IsDir() != dirs {
					continue
				}
				d := m
				if r.h.Root != "" {
					d = filepath.ToSlash(strings.TrimPrefix(m, filepath.Clean(r.h.Root)))
				}
				disp, host = append(disp, d), append(host, m)
			}
			continue
		}
		disp, host = append(disp, t), append(host, r.h.path(t))
	}
	return disp, host
}

func (r *Run) evalFile(rule *Rule) Evidence {
	disp, paths := r.expandFiles(rule.Targets, false)
	if rule.Content == nil {
		ev := Evidence{Target: strings.Join(rule.Targets, ","), Expected: "file exists"}
		found := 0
		for i, p := range paths {
			st, err := os.Stat(p)
			switch {
			case err == nil && !st.IsDir():
				found++
				if !rule.Every {
					ev.Target, ev.Observed, ev.Result = disp[i], "exists", Passed
					return ev
				}
			case err != nil && !absent(err):
				ev.Target, ev.Observed, ev.Result = disp[i], "cannot stat: "+cleanErr(err, r.h.Root), Error
				return ev
			default:
				if rule.Every {
					ev.Target, ev.Observed, ev.Result = disp[i], "does not exist", Failed
					return ev
				}
			}
		}
		if found > 0 {
			ev.Observed, ev.Result = fmt.Sprintf("%d files exist", found), Passed
			return ev
		}
		ev.Observed, ev.Result = "does not exist", Failed
		return ev
	}
	var outs []targetOutcome
	for i, p := range paths {
		o := targetOutcome{target: disp[i]}
		st, err := os.Stat(p)
		if err != nil && absent(err) {
			continue
		}
		o.status, o.obs = r.matchFile(rule.Content, p, st, err)
		outs = append(outs, o)
	}
	return combine(rule, outs, rule.Content.describe())
}

func (r *Run) evalDir(rule *Rule) Evidence {
	disp, paths := r.expandFiles(rule.Targets, true)
	if rule.Sub == "" {
		ev := Evidence{Target: strings.Join(rule.Targets, ","), Expected: "directory exists"}
		for i, p := range paths {
			st, err := os.Stat(p)
			if err == nil && st.IsDir() {
				ev.Target, ev.Observed, ev.Result = disp[i], "exists", Passed
				return ev
			}
			if err != nil && !absent(err) {
				ev.Target, ev.Observed, ev.Result = disp[i], "cannot stat: "+cleanErr(err, r.h.Root), Error
				return ev
			}
		}
		ev.Observed, ev.Result = "does not exist", Failed
		return ev
	}
	nameDesc := "a file named " + rule.Sub
	if rule.SubRE != nil {
		nameDesc = "a file whose name matches " + rule.Sub
	}
	var outs []targetOutcome
	for i, p := range paths {
		st, err := os.Stat(p)
		if err != nil || !st.IsDir() {
			continue
		}
		files, werr := r.findFiles(p, rule)
		if werr != nil {
			outs = append(outs, targetOutcome{target: disp[i], status: Error, obs: werr.Error()})
			continue
		}
		if rule.Content == nil {
			o := targetOutcome{target: disp[i], status: Failed, obs: "no " + strings.TrimPrefix(nameDesc, "a ")}
			if len(files) > 0 {
				o.status, o.obs = Passed, "found "+r.display(files[0])
			}
			outs = append(outs, o)
			continue
		}
		for _, f := range files {
			o := targetOutcome{target: r.display(f)}
			st, err := os.Stat(f)
			o.status, o.obs = r.matchFile(rule.Content, f, st, err)
			outs = append(outs, o)
		}
	}
	exp := nameDesc
	if rule.Content != nil {
		exp = rule.Content.describe()
	}
	ev := combine(rule, outs, exp)
	if len(outs) == 0 && rule.Content != nil {
		ev.Observed = "no directory or no " + strings.TrimPrefix(nameDesc, "a ")
	}
	return ev
}

func (r *Run) display(p string) string {
	if r.h.Root == "" {
		return p
	}
	return filepath.ToSlash(strings.TrimPrefix(p, filepath.Clean(r.h.Root)))
}

// findFiles walks dir recursively for files matching the rule's name.
func (r *Run) findFiles(dir string, rule *Rule) ([]string, error) {
	var out []string
	visited := 0
	base := strings.Count(filepath.Clean(dir), string(filepath.Separator))
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil // unreadable subdirectory: skip, as SCA does
		}
		visited++
		if visited > MaxDirFiles {
			return fmt.Errorf("more than %d entries under %s", MaxDirFiles, r.display(dir))
		}
		if d.IsDir() {
			if strings.Count(p, string(filepath.Separator))-base >= MaxDirDepth {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if (rule.SubRE != nil && rule.SubRE.MatchString(name)) || (rule.SubRE == nil && name == rule.Sub) {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

func (r *Run) evalCommand(ctx context.Context, rule *Rule) Evidence {
	ev := Evidence{Target: strings.Join(rule.Argv, " "), Expected: rule.Content.describe()}
	if r.h.Runner == nil {
		ev.Result, ev.Observed = NotApplicable, "commands are not available on this host"
		return ev
	}
	res := r.command(ctx, rule.Argv)
	switch {
	case errors.Is(res.err, ErrCommandNotFound):
		ev.Result, ev.Observed, ev.missing = NotApplicable, res.err.Error(), true
		return ev
	case res.err != nil:
		ev.Result, ev.Observed = Error, res.err.Error()
		return ev
	}
	st, obs := r.matchLines(rule.Content, splitLines(string(res.out)))
	ev.Result, ev.Observed = st, obs
	return ev
}

// command runs argv once per run, with the host's timeout, and returns
// its output to every caller.
func (r *Run) command(ctx context.Context, argv []string) cmdOutput {
	key := strings.Join(argv, "\x00")
	r.mu.Lock()
	e, ok := r.cmds[key]
	if !ok {
		e = &cmdEntry{done: make(chan struct{})}
		r.cmds[key] = e
	}
	r.mu.Unlock()
	if ok {
		select {
		case <-e.done:
			return e.res
		case <-ctx.Done():
			return cmdOutput{err: ctx.Err()}
		}
	}
	timeout := r.h.CommandTimeout
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	out, err := r.h.Runner.Run(cctx, argv)
	cancel()
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s", timeout)
	}
	e.res = cmdOutput{out, err}
	close(e.done)
	return e.res
}

// Prefetch starts the distinct commands of the given policies — those
// whose requirements hold — at most workers at a time, so a run that reads
// several slow commands (PowerShell on Windows) waits for the slowest
// rather than for their sum. It returns when they have all finished.
func (r *Run) Prefetch(ctx context.Context, policies []*Policy, workers int) {
	if r.h.Runner == nil {
		return
	}
	if workers < 1 {
		workers = 1
	}
	var argvs [][]string
	seen := map[string]bool{}
	for _, p := range policies {
		if req := p.Requirements; req != nil {
			if req.Err != nil {
				continue
			}
			if st, _ := r.rules(ctx, req.Condition, req.Rules); st != Passed {
				continue
			}
		}
		for _, c := range p.Checks {
			for _, rule := range c.Rules {
				if rule.Kind != KindCommand {
					continue
				}
				if k := strings.Join(rule.Argv, "\x00"); !seen[k] {
					seen[k] = true
					argvs = append(argvs, rule.Argv)
				}
			}
		}
	}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for _, argv := range argvs {
		wg.Add(1)
		sem <- struct{}{}
		go func(argv []string) {
			defer wg.Done()
			defer func() { <-sem }()
			r.command(ctx, argv)
		}(argv)
	}
	wg.Wait()
}

func splitLines(s string) []string {
	s = strings.TrimRight(s, "\r\n")
	if s == "" {
		return []string{""}
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

func (r *Run) nameMatch(pattern, name string) bool {
	if r.h.CaseInsensitiveNames {
		pattern, name = strings.ToLower(pattern), strings.ToLower(name)
	}
	if strings.ContainsAny(pattern, "*?[") {
		ok, err := path.Match(pattern, name)
		return err == nil && ok
	}
	return pattern == name
}

func (r *Run) evalProcess(ctx context.Context, rule *Rule) Evidence {
	ev := Evidence{Target: strings.Join(rule.Targets, ","), Expected: "process running"}
	if r.h.Processes == nil {
		ev.Result, ev.Observed = NotApplicable, "process list not available on this host"
		return ev
	}
	r.mu.Lock()
	if r.procs == nil {
		v, err := r.h.Processes(ctx)
		r.procs = &collected[[]Process]{v, err}
	}
	pc := r.procs
	r.mu.Unlock()
	if pc.err != nil {
		ev.Result, ev.Observed = Error, "cannot list processes: "+pc.err.Error()
		return ev
	}
	running := 0
	for _, t := range rule.Targets {
		found := false
		for _, p := range pc.v {
			if r.nameMatch(t, p.Name) {
				found = true
				if !rule.Every {
					ev.Target, ev.Observed, ev.Result = t, fmt.Sprintf("running (pid %d)", p.PID), Passed
					return ev
				}
				break
			}
		}
		if found {
			running++
		} else if rule.Every {
			ev.Target, ev.Observed, ev.Result = t, "not running", Failed
			return ev
		}
	}
	if rule.Every && running > 0 {
		ev.Observed, ev.Result = "all running", Passed
		return ev
	}
	ev.Observed, ev.Result = "not running", Failed
	return ev
}

func (r *Run) evalRegistry(rule *Rule) Evidence {
	target := strings.Join(rule.Targets, ",")
	ev := Evidence{Target: target}
	if rule.Sub != "" {
		ev.Target = target + " -> " + rule.Sub
	}
	if r.h.Registry == nil {
		ev.Result, ev.Observed = NotApplicable, "no Windows registry on this host"
		return ev
	}
	var keys []string
	for _, t := range rule.Targets {
		ks, err := expandKeys(r.h.Registry, t)
		if err != nil {
			ev.Result, ev.Observed = Error, "cannot read registry: "+err.Error()
			return ev
		}
		keys = append(keys, ks...)
	}
	if rule.Sub == "" {
		ev.Expected = "key exists"
		var outs []targetOutcome
		for _, k := range keys {
			ok, err := r.h.Registry.KeyExists(k)
			o := targetOutcome{target: k, status: Failed, obs: "key does not exist"}
			switch {
			case err != nil:
				o.status, o.obs = Error, "cannot open key: "+err.Error()
			case ok:
				o.status, o.obs = Passed, "key exists"
			}
			outs = append(outs, o)
		}
		if len(outs) == 0 {
			ev.Result, ev.Observed = Failed, "key does not exist"
			return ev
		}
		return combine(rule, outs, ev.Expected)
	}
	var outs []targetOutcome
	exp := "value exists"
	if rule.Content != nil {
		exp = rule.Content.describe()
	}
	for _, k := range keys {
		lines, ok, err := r.h.Registry.Value(k, rule.Sub)
		o := targetOutcome{target: k + " -> " + rule.Sub}
		switch {
		case err != nil:
			o.status, o.obs = Error, "cannot read value: "+err.Error()
		case !ok && rule.Content == nil:
			o.status, o.obs = Failed, "value does not exist"
		case !ok:
			if !rule.Every {
				continue // the target does not exist: not applicable
			}
			o.status, o.obs = Failed, "value does not exist"
		case rule.Content == nil:
			o.status, o.obs = Passed, "value exists"
		default:
			o.status, o.obs = r.matchLines(rule.Content, lines)
		}
		outs = append(outs, o)
	}
	if len(outs) == 0 && rule.Content == nil {
		ev.Result, ev.Observed, ev.Expected = Failed, "key does not exist", exp
		return ev
	}
	e := combine(rule, outs, exp)
	if len(outs) == 0 {
		e.Target, e.Observed = ev.Target, "value does not exist"
	}
	return e
}

// expandKeys expands wildcard path segments of a registry key ("*",
// "S-1-5-21-*", "*Profile") by enumeration, keeping only keys that exist.
func expandKeys(reg Registry, key string) ([]string, error) {
	parts := strings.Split(key, `\`)
	paths := []string{parts[0]}
	wild := false
	for _, seg := range parts[1:] {
		var next []string
		for _, p := range paths {
			if !strings.ContainsAny(seg, "*?[") {
				next = append(next, p+`\`+seg)
				continue
			}
			wild = true
			subs, err := reg.SubKeys(p)
			if err != nil {
				return nil, err
			}
			for _, s := range subs {
				if ok, err := path.Match(strings.ToLower(seg), strings.ToLower(s)); err == nil && ok {
					next = append(next, p+`\`+s)
				}
			}
		}
		paths = next
	}
	if !wild {
		return paths, nil
	}
	existing := paths[:0]
	for _, p := range paths {
		if ok, err := reg.KeyExists(p); err == nil && ok {
			existing = append(existing, p)
		}
	}
	return existing, nil
}

func (r *Run) evalPackage(ctx context.Context, rule *Rule) Evidence {
	ev := Evidence{Target: strings.Join(rule.Targets, ","), Expected: "installed"}
	if r.h.Packages == nil {
		ev.Result, ev.Observed = NotApplicable, "package inventory not available on this host"
		return ev
	}
	r.mu.Lock()
	if r.pkgs == nil {
		v, err := r.h.Packages(ctx)
		r.pkgs = &collected[[]Package]{v, err}
	}
	pc := r.pkgs
	r.mu.Unlock()
	if pc.err != nil {
		ev.Result, ev.Observed = Error, "cannot list packages: "+pc.err.Error()
		return ev
	}
	var outs []targetOutcome
	for _, t := range rule.Targets {
		for _, p := range pc.v {
			if !r.nameMatch(t, p.Name) {
				continue
			}
			o := targetOutcome{target: p.Name, status: Passed, obs: "installed " + p.Version}
			if rule.Content != nil {
				o.status, o.obs = r.matchLines(rule.Content, []string{p.Version})
			}
			outs = append(outs, o)
		}
	}
	if rule.Content == nil && len(outs) == 0 {
		ev.Result, ev.Observed = Failed, "not installed"
		return ev
	}
	if rule.Content != nil {
		ev.Expected = rule.Content.describe()
	}
	e := combine(rule, outs, ev.Expected)
	if len(outs) == 0 {
		e.Observed = "not installed"
	}
	return e
}

func (r *Run) evalService(ctx context.Context, rule *Rule) Evidence {
	ev := Evidence{Target: strings.Join(rule.Targets, ","), Expected: "service exists"}
	if r.h.Services == nil {
		ev.Result, ev.Observed = NotApplicable, "service list not available on this host"
		return ev
	}
	r.mu.Lock()
	if r.svcs == nil {
		v, err := r.h.Services(ctx)
		r.svcs = &collected[[]Service]{v, err}
	}
	sc := r.svcs
	r.mu.Unlock()
	if sc.err != nil {
		ev.Result, ev.Observed = Error, "cannot list services: "+sc.err.Error()
		return ev
	}
	var outs []targetOutcome
	for _, t := range rule.Targets {
		for _, s := range sc.v {
			if !r.nameMatch(t, s.Name) {
				continue
			}
			lines := []string{"state=" + s.State, "start=" + s.Start}
			o := targetOutcome{target: s.Name, status: Passed, obs: strings.Join(lines, " ")}
			if rule.Content != nil {
				o.status, _ = r.matchLines(rule.Content, lines)
			}
			outs = append(outs, o)
		}
	}
	if rule.Content == nil && len(outs) == 0 {
		ev.Result, ev.Observed = Failed, "no such service"
		return ev
	}
	if rule.Content != nil {
		ev.Expected = rule.Content.describe()
	}
	e := combine(rule, outs, ev.Expected)
	if len(outs) == 0 {
		e.Observed = "no such service"
	}
	return e
}

func (r *Run) osInfo(ctx context.Context) (OSInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.osinfo == nil {
		if r.h.OS == nil {
			r.osinfo = &collected[OSInfo]{err: ErrNotSupported}
		} else {
			v, err := r.h.OS(ctx)
			r.osinfo = &collected[OSInfo]{v, err}
		}
	}
	return r.osinfo.v, r.osinfo.err
}

func (r *Run) evalOS(ctx context.Context, rule *Rule) Evidence {
	attr := rule.Targets[0]
	ev := Evidence{Target: "os " + attr, Expected: rule.Content.describe()}
	info, err := r.osInfo(ctx)
	if errors.Is(err, ErrNotSupported) {
		ev.Result, ev.Observed = NotApplicable, err.Error()
		return ev
	}
	if err != nil {
		ev.Result, ev.Observed = Error, "cannot read the OS version: "+err.Error()
		return ev
	}
	v := map[string]string{"name": info.Name, "id": info.ID, "version": info.Version, "build": info.Build,
		"family": info.Family, "arch": info.Arch, "kernel": info.Kernel}[attr]
	if v == "" {
		ev.Result, ev.Observed, ev.missing = NotApplicable, "unknown", true
		return ev
	}
	ev.Result, ev.Observed = r.matchLines(rule.Content, []string{v})
	return ev
}

// Session returns the session user, collected once per run.
func (r *Run) Session(ctx context.Context) (*User, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.userInfo == nil {
		if r.h.SessionUser == nil {
			r.userInfo = &collected[*User]{err: ErrNotSupported}
		} else {
			v, err := r.h.SessionUser(ctx)
			r.userInfo = &collected[*User]{v, err}
		}
	}
	return r.userInfo.v, r.userInfo.err
}

func (r *Run) evalUser(ctx context.Context, rule *Rule) Evidence {
	ev := Evidence{Target: "session user", Expected: rule.Content.describe()}
	u, err := r.Session(ctx)
	switch {
	case errors.Is(err, ErrNotSupported):
		ev.Result, ev.Observed = NotApplicable, err.Error()
		return ev
	case err != nil:
		ev.Result, ev.Observed = Error, "cannot find the session user: "+err.Error()
		return ev
	case u == nil:
		ev.Result, ev.Observed = NotApplicable, "no user signed in"
		return ev
	}
	ev.Target = "session user " + u.Name
	ev.Result, ev.Observed = r.matchLines(rule.Content, u.Lines())
	return ev
}

// Lines renders the user for content checks: name=…, admin=true|false and
// one group=… per group.
func (u *User) Lines() []string {
	lines := []string{"name=" + u.Name, "admin=" + strconv.FormatBool(u.Admin)}
	for _, g := range u.Groups {
		lines = append(lines, "group="+g)
	}
	return lines
}

// absent reports whether err means the path does not exist (including a
// path that goes through a regular file).
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir)
}

// cleanErr strips the test root from an error message.
func cleanErr(err error, root string) string {
	s := err.Error()
	if root != "" {
		s = strings.ReplaceAll(s, filepath.Clean(root), "")
	}
	return s
}

// matchFile matches content against the lines of the file at p, refusing
// anything but a regular file: a FIFO or a device would block or never end.
func (r *Run) matchFile(c *Content, p string, st fs.FileInfo, statErr error) (Status, string) {
	if statErr != nil {
		return Error, "cannot read: " + cleanErr(statErr, r.h.Root)
	}
	if st.IsDir() {
		return Error, "is a directory, not a file"
	}
	if !st.Mode().IsRegular() {
		return Error, "not a regular file (" + st.Mode().Type().String() + ")"
	}
	m := r.newMatcher(c)
	m.mtime = st.ModTime()
	if c.ageOnly() {
		if m.line("") {
			return Passed, m.observed()
		}
		return Failed, m.observed()
	}
	f, err := os.Open(p)
	if err != nil {
		return Error, "cannot read: " + cleanErr(err, r.h.Root)
	}
	defer f.Close()
	return matchReader(m, f)
}

// matchReader matches the matcher's content against the lines of rd.
func matchReader(m *matcher, rd io.Reader) (Status, string) {
	br := bufio.NewReaderSize(io.LimitReader(rd, MaxFileBytes), 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// An overlong line: keep reading it but consider only its start.
			head := string(line)
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if len(head) > MaxLineBytes {
				head = head[:MaxLineBytes]
			}
			if m.line(strings.TrimRight(head, "\r\n")) {
				return Passed, m.observed()
			}
		} else if len(line) > 0 || err == nil {
			if m.line(strings.TrimRight(string(line), "\r\n")) {
				return Passed, m.observed()
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return Error, "cannot read: " + err.Error()
		}
	}
	return Failed, m.observed()
}

// matchLines matches content against lines.
func (r *Run) matchLines(c *Content, lines []string) (Status, string) {
	m := r.newMatcher(c)
	for _, l := range lines {
		if m.line(l) {
			return Passed, m.observed()
		}
	}
	return Failed, m.observed()
}

// matcher tests lines against a content chain and remembers what it saw
// for the evidence.
type matcher struct {
	c        *Content
	now      time.Time
	mtime    time.Time // of the file being read, for age: clauses
	n        int
	matched  bool
	hit      string // the satisfying line
	value    string // the last captured value of an n:/v: clause
	near     string // the last line matching a positive regex or literal
	compared bool
}

func (r *Run) newMatcher(c *Content) *matcher { return &matcher{c: c, now: r.now()} }

func (r *Run) now() time.Time {
	if r.h.Now != nil {
		return r.h.Now()
	}
	return time.Now()
}

func (m *matcher) line(l string) bool {
	m.n++
	for _, cl := range m.c.Clauses {
		if !m.clause(cl, l) {
			return false
		}
	}
	m.matched, m.hit = true, l
	return true
}

func (m *matcher) clause(cl *Clause, l string) bool {
	var res bool
	switch cl.Op {
	case '=':
		res = l == cl.Text
		if res && !cl.Not {
			m.near = l
		}
	case 'r':
		res = cl.Re.MatchString(l)
		if res && !cl.Not {
			m.near = l
		}
	case 'n', 'v':
		sub := cl.Re.FindStringSubmatch(l)
		if sub == nil {
			break
		}
		val := strings.TrimSpace(sub[1])
		m.value, m.compared = val, true
		res = cl.compare(val)
	case 't':
		sub := cl.Re.FindStringSubmatch(l)
		if sub == nil {
			break
		}
		ts, ok := parseTime(strings.TrimSpace(sub[1]))
		if !ok {
			m.value, m.compared = "unparseable time "+strconv.Quote(sub[1]), true
			break
		}
		age := m.now.Sub(ts)
		m.value, m.compared = "age "+FormatAge(age), true
		res = cl.compareDur(age)
	case 'a':
		age := m.now.Sub(m.mtime)
		m.value, m.compared = "age "+FormatAge(age), true
		res = cl.compareDur(age)
	}
	return res != cl.Not
}

func (cl *Clause) compareDur(age time.Duration) bool {
	c := 0
	switch {
	case age < cl.dur:
		c = -1
	case age > cl.dur:
		c = 1
	}
	return cmpResult(cl.Cmp, c)
}

// timeLayouts are the timestamp forms t: clauses understand.
var timeLayouts = []string{time.RFC3339Nano, time.RFC3339, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02", "01/02/2006 15:04:05", "01/02/2006", "Mon Jan _2 15:04:05 2006", "Mon Jan _2 15:04:05 MST 2006"}

// parseTime reads a timestamp in one of timeLayouts (UTC unless it says
// otherwise) or as Unix seconds.
func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

// FormatAge renders a duration in days and hours for evidence.
func FormatAge(d time.Duration) string {
	if d < 0 {
		return "in the future"
	}
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh", days, hours)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", hours, int(d%time.Hour/time.Minute))
	}
	return d.Truncate(time.Second).String()
}

func (cl *Clause) compare(val string) bool {
	var c int
	if cl.Op == 'n' {
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return false
		}
		switch {
		case n < cl.num:
			c = -1
		case n > cl.num:
			c = 1
		}
	} else {
		c = CompareVersions(val, cl.Value)
	}
	return cmpResult(cl.Cmp, c)
}

func cmpResult(op string, c int) bool {
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case ">=":
		return c >= 0
	case ">":
		return c > 0
	}
	return false
}

func (m *matcher) observed() string {
	switch {
	case m.compared && m.value != "":
		return m.value
	case m.matched:
		return quote(m.hit)
	case m.near != "":
		return quote(m.near) + " (other conditions not met)"
	}
	return fmt.Sprintf("no matching line in %d lines", m.n)
}

func quote(s string) string {
	if len(s) > maxObserved {
		s = s[:maxObserved] + "…"
	}
	return strconv.Quote(s)
}

// describe renders what a content chain expects.
func (c *Content) describe() string {
	parts := make([]string, 0, len(c.Clauses))
	for _, cl := range c.Clauses {
		var s string
		switch cl.Op {
		case '=':
			s = "a line equal to " + strconv.Quote(cl.Text)
		case 'r':
			s = "a line matching r:" + cl.Text
		case 'n', 'v':
			s = cl.Cmp + " " + cl.Value
		case 't', 'a':
			s = "age " + cl.Cmp + " " + cl.Value
		}
		if cl.Not {
			s = "not " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " and ")
}
