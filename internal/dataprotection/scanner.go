package dataprotection

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Options configures a Scanner.
type Options struct {
	// Lang selects the language of spoken numbers and context words:
	// "es", "en", or "auto" (or "") for both.
	Lang string
	// Entities restricts the report to these entities; empty means all.
	Entities []Entity
	// FailClosed is the payment mode: any run of 12 or more digits is
	// reported as CREDIT_CARD even when the Luhn check fails.
	FailClosed bool
	// MinScore drops findings scored below it.
	MinScore float64
}

// Scanner finds sensitive data. It is safe for concurrent use.
type Scanner struct {
	opts    Options
	lang    string
	enabled [numEntities]bool
	pool    sync.Pool
	names   *nameLists
}

const numEntities = 21

// maxScanLen is the largest buffer Scan handles in one piece.
const maxScanLen = 1<<31 - 1

// entityIdx maps an entity to its index in AllEntities; read-only.
var entityIdx = func() map[Entity]int {
	m := make(map[Entity]int, numEntities)
	for i, e := range AllEntities() {
		m[e] = i
	}
	return m
}()

func entityIndex(e Entity) int {
	if i, ok := entityIdx[e]; ok {
		return i
	}
	return -1
}

// NewScanner returns a scanner configured by opts.
func NewScanner(opts Options) (*Scanner, error) {
	s := &Scanner{opts: opts}
	switch strings.ToLower(opts.Lang) {
	case "", "auto":
	case "es", "en":
		s.lang = strings.ToLower(opts.Lang)
	default:
		return nil, fmt.Errorf("unknown language %q (want es, en or auto)", opts.Lang)
	}
	if len(opts.Entities) == 0 {
		for _, e := range DefaultEntities() {
			s.enabled[entityIndex(e)] = true
		}
	}
	for _, e := range opts.Entities {
		i := entityIndex(e)
		if i < 0 {
			return nil, fmt.Errorf("unknown entity %q", e)
		}
		s.enabled[i] = true
	}
	s.names = loadNameLists()
	s.pool.New = func() any { return new(scanState) }
	return s, nil
}

// Enabled reports whether the scanner reports entity e.
func (s *Scanner) Enabled(e Entity) bool {
	i := entityIndex(e)
	return i >= 0 && s.enabled[i]
}

// Scan returns the findings in text, sorted by start offset and never
// overlapping. It never fails: text that is not valid UTF-8 or not text at
// all is scanned as bytes.
func (s *Scanner) Scan(text []byte) []Finding {
	if len(text) > maxScanLen {
		// Token offsets are 32-bit: scan a huge buffer in chunks.
		var out []Finding
		_, _ = s.ScanStream(context.Background(), bytes.NewReader(text), FormatText, func(f Finding, _ []byte) error {
			out = append(out, f)
			return nil
		})
		return out
	}
	st := s.pool.Get().(*scanState)
	st.reset(s, text)
	st.run()
	out := st.resolve()
	st.text = nil
	s.pool.Put(st)
	return out
}

// scanState is the reusable per-call working memory of a scan.
type scanState struct {
	s       *Scanner
	text    []byte
	toks    []token
	found   []Finding
	units   []unit
	digits  []byte
	compact []byte
	cbounds []cbound
	scratch []byte
	fold    []byte
	cc      ctxCache

	kw      []kwHit
	kwBuilt bool
	nl      []int32
	nlBuilt bool
	lineLo  int // the line lineStartIdx found last: [lineLo, lineHi)
	lineHi  int
	// phoneCache memoizes phone validity by number prefix (validPhoneCached).
	phoneCache map[uint64]bool
	prefix     []unitPrefix
}

func (st *scanState) reset(s *Scanner, text []byte) {
	st.s = s
	st.text = text
	st.cc.st = st
	st.toks = st.toks[:0]
	st.found = st.found[:0]
	st.kw = st.kw[:0]
	st.kwBuilt = false
	st.nlBuilt = false
	st.lineLo, st.lineHi = 0, 0
}

func (st *scanState) add(e Entity, start, end int, score float64, validator string) {
	if !st.s.enabled[entityIndex(e)] || score < st.s.opts.MinScore || start >= end {
		return
	}
	st.found = append(st.found, Finding{Entity: e, Start: start, End: end, Score: score, Validator: validator})
}

func (st *scanState) run() {
	st.tokenize()
	st.scanTokens()
	st.scanEmails()
	st.scanURLs()
	st.scanIPv6()
	st.scanNames()
}

// resolve sorts the findings and drops overlaps, keeping the finding with
// the higher score and then the longer one.
func (st *scanState) resolve() []Finding {
	if len(st.found) == 0 {
		return nil
	}
	f := st.found
	cmp := func(a, b Finding) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return (b.End - b.Start) - (a.End - a.Start)
	}
	if !slices.IsSortedFunc(f, cmp) {
		slices.SortStableFunc(f, cmp)
	}
	out := make([]Finding, 0, len(f))
	for _, x := range f {
		if n := len(out); n > 0 && x.Start < out[n-1].End {
			last := &out[n-1]
			if better(x, *last) {
				*last = x
				// The replacement may now overlap earlier kept findings.
				for len(out) > 1 && out[len(out)-2].End > out[len(out)-1].Start {
					if better(out[len(out)-1], out[len(out)-2]) {
						out[len(out)-2] = out[len(out)-1]
					}
					out = out[:len(out)-1]
				}
			}
			continue
		}
		out = append(out, x)
	}
	return out
}

func better(a, b Finding) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.End-a.Start > b.End-b.Start
}
