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
	opts     Options
	lang     string
	enabled  [numEntities]bool
	pool     sync.Pool
	names    *nameLists
	numWords *wordTable // the number words of the language (wordKind)
}

const numEntities = 21

// maxScanLen is the largest buffer Scan handles in one piece.
const maxScanLen = 1<<31 - 1

// entityIndex returns the index of e in AllEntities, or -1. It is a
// switch rather than a map: add calls it for every finding.
func entityIndex(e Entity) int {
	switch e {
	case CreditCard:
		return 0
	case CardCVV:
		return 1
	case CardExpiry:
		return 2
	case IBANCode:
		return 3
	case ESNIF:
		return 4
	case ESNIE:
		return 5
	case ESCIF:
		return 6
	case ESNSS:
		return 7
	case ESPassport:
		return 8
	case ESPostalCode:
		return 9
	case ESLicensePlate:
		return 10
	case PhoneNumber:
		return 11
	case EmailAddress:
		return 12
	case IPAddress:
		return 13
	case URL:
		return 14
	case DateOfBirth:
		return 15
	case USSSN:
		return 16
	case UKNINO:
		return 17
	case Person:
		return 18
	case Location:
		return 19
	case DateTime:
		return 20
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
	s.numWords = numberWordTables[s.lang]
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
	return s.scanAppend(nil, text)
}

// scanAppend is Scan for a text of at most maxScanLen bytes, with the
// findings written over dst's backing array when it is big enough (a
// stream scans chunk after chunk with one slice).
func (s *Scanner) scanAppend(dst []Finding, text []byte) []Finding {
	st := s.pool.Get().(*scanState)
	st.reset(s, text)
	st.run()
	out := st.resolve(dst[:0])
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
	fold2   []byte
	cc      ctxCache
	nwCache [4]nwEntry // wordKind's last answers
	nlCache [4]nwEntry // wordFlags's last answers
	orgFold []byte     // orgWord's scratch
	sfx     suffixMemo // knownSuffix's answers in this scan

	kwPos   [numCtx][]int32 // positions of the context keywords, per kind
	kwCur   [numCtx]int32   // where the last ctxIn of each kind ended in kwPos
	kwBuilt bool
	nl      []int32
	nlBuilt bool
	lineLo  int // the line lineStartIdx found last: [lineLo, lineHi)
	lineHi  int
	lineK   int // the index in nl of the line break that ends that line
	// spokenMask and gapMask describe the units of the current number run:
	// bit k is unit k (a run has at most 32 units).
	spokenMask uint64
	gapMask    [7]uint64 // one mask per gap kind (gapSpace … gapParen)
	segs       []int     // where each pass's findings end in found
	fbuf       []Finding // scratch for sortFound
	spanBuf    [][2]int  // scratch for yieldToOthers
}

func (st *scanState) reset(s *Scanner, text []byte) {
	st.s = s
	st.text = text
	st.cc.st = st
	st.toks = st.toks[:0]
	st.found = st.found[:0]
	st.nwCache = [4]nwEntry{}
	st.nlCache = [4]nwEntry{}
	st.kwBuilt = false
	st.sfx.reset()
	st.nlBuilt = false
	st.lineLo, st.lineHi, st.lineK = 0, 0, 0
}

func (st *scanState) add(e Entity, start, end int, score float64, validator string) {
	if !st.s.enabled[entityIndex(e)] || score < st.s.opts.MinScore || start >= end {
		return
	}
	st.found = append(st.found, Finding{Entity: e, Start: start, End: end, Score: score, Validator: validator})
}

func (st *scanState) run() {
	st.tokenize()
	st.segs = st.segs[:0]
	st.scanTokens()
	st.segs = append(st.segs, len(st.found))
	st.scanEmails()
	st.segs = append(st.segs, len(st.found))
	st.scanURLs()
	st.segs = append(st.segs, len(st.found))
	st.scanIPv6()
	st.segs = append(st.segs, len(st.found))
	st.scanNames()
	st.segs = append(st.segs, len(st.found))
}

func compareFindings(a, b Finding) int {
	if a.Start != b.Start {
		return a.Start - b.Start
	}
	return (b.End - b.Start) - (a.End - a.Start)
}

// sortFound sorts st.found as a stable sort would: each pass appended its
// findings (st.segs marks where each pass ended), nearly always in order,
// so each pass's part is sorted on its own when needed and the parts are
// merged, earlier passes first among equals.
func (st *scanState) sortFound() {
	f := st.found
	if len(st.segs) == 0 || st.segs[len(st.segs)-1] != len(f) {
		slices.SortStableFunc(f, compareFindings)
		return
	}
	lo := 0
	for _, hi := range st.segs {
		if part := f[lo:hi]; !slices.IsSortedFunc(part, compareFindings) {
			slices.SortStableFunc(part, compareFindings)
		}
		lo = hi
	}
	if slices.IsSortedFunc(f, compareFindings) {
		return
	}
	// Merge the first part with each next one.
	end := st.segs[0]
	for _, hi := range st.segs[1:] {
		if hi == end {
			continue
		}
		if end > 0 && compareFindings(f[end-1], f[end]) > 0 {
			st.fbuf = append(st.fbuf[:0], f[:end]...)
			a, b := st.fbuf, f[end:hi]
			k := 0
			for len(a) > 0 && len(b) > 0 {
				if compareFindings(b[0], a[0]) < 0 {
					f[k] = b[0]
					b = b[1:]
				} else {
					f[k] = a[0]
					a = a[1:]
				}
				k++
			}
			k += copy(f[k:], a)
			copy(f[k:], b)
		}
		end = hi
	}
}

// resolve sorts the findings and drops overlaps, keeping the finding with
// the higher score and then the longer one; it appends them to out (empty),
// allocating only when out has too little room.
func (st *scanState) resolve(out []Finding) []Finding {
	if len(st.found) == 0 {
		return out
	}
	st.sortFound()
	f := st.found
	if cap(out) < len(f) {
		out = make([]Finding, 0, len(f))
	}
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
