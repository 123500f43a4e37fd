package dataprotection

import (
	"errors"
	"regexp/syntax"
	"slices"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Phone validity is libphonenumber's (IsValidNumber and
// IsValidNumberForRegion), answered from the library's own metadata — the
// same patterns, possible lengths and region rules — but with each pattern
// compiled once into a deterministic automaton over the ten digits instead
// of being run as a regular expression: a lookup per digit, no allocation,
// the same answers (TestPhoneValidatorMatchesLibrary compares the two).
// A region whose patterns do not compile to a small automaton is answered
// by the library itself.

// digitDFA is a deterministic automaton over the digits '0'–'9'.
type digitDFA struct {
	next   [][10]int32 // state → digit → state, -1 when no match can follow
	accept []bool      // the pattern matches what was read
}

// errNoDFA reports a pattern the automaton builder does not handle (an
// assertion, or too many states): its region falls back to the library.
var errNoDFA = errors.New("pattern has no digit automaton")

// maxDFAStates bounds one pattern's automaton.
const maxDFAStates = 1 << 14

// compileDigitDFA builds the automaton of a libphonenumber pattern by
// subset construction over the program Go's regexp compiles it to.
func compileDigitDFA(pattern string) (*digitDFA, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, err
	}
	b := dfaBuilder{prog: prog, seen: make([]uint32, len(prog.Inst)), index: map[string]int32{}, d: &digitDFA{}}
	b.gen++
	start, err := b.closure(nil, uint32(prog.Start))
	if err != nil {
		return nil, err
	}
	b.add(start)
	var next []uint32
	for s := 0; s < len(b.sets); s++ {
		if len(b.sets) > maxDFAStates {
			return nil, errNoDFA
		}
		for dg := range 10 {
			r := rune('0' + dg)
			next = next[:0]
			b.gen++
			for _, pc := range b.sets[s] {
				in := &prog.Inst[pc]
				if in.Op != syntax.InstMatch && in.MatchRune(r) {
					if next, err = b.closure(next, in.Out); err != nil {
						return nil, err
					}
				}
			}
			if len(next) == 0 {
				b.d.next[s][dg] = -1
				continue
			}
			b.d.next[s][dg] = b.add(next)
		}
	}
	return b.d, nil
}

// dfaBuilder is compileDigitDFA's working state: the states found so far
// (sets of instructions), indexed by their encoding.
type dfaBuilder struct {
	prog  *syntax.Prog
	seen  []uint32 // gen when an instruction was added to the set being built
	gen   uint32
	index map[string]int32
	sets  [][]uint32
	key   []byte
	d     *digitDFA
}

// closure adds to set the instructions reachable from pc without reading:
// the ones that read a rune, and Match.
func (b *dfaBuilder) closure(set []uint32, pc uint32) ([]uint32, error) {
	if b.seen[pc] == b.gen {
		return set, nil
	}
	b.seen[pc] = b.gen
	in := &b.prog.Inst[pc]
	switch in.Op {
	case syntax.InstAlt, syntax.InstAltMatch:
		var err error
		if set, err = b.closure(set, in.Out); err != nil {
			return nil, err
		}
		return b.closure(set, in.Arg)
	case syntax.InstCapture, syntax.InstNop:
		return b.closure(set, in.Out)
	case syntax.InstMatch, syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
		return append(set, pc), nil
	case syntax.InstFail:
		return set, nil
	}
	return nil, errNoDFA // InstEmptyWidth: an assertion
}

// add returns the state of set, adding it when it is new (set is copied).
func (b *dfaBuilder) add(set []uint32) int32 {
	slices.Sort(set)
	b.key = b.key[:0]
	for _, pc := range set {
		b.key = append(b.key, byte(pc), byte(pc>>8), byte(pc>>16), byte(pc>>24))
	}
	if s, ok := b.index[string(b.key)]; ok {
		return s
	}
	s := int32(len(b.sets))
	b.index[string(b.key)] = s
	b.sets = append(b.sets, slices.Clone(set))
	match := false
	for _, pc := range set {
		if b.prog.Inst[pc].Op == syntax.InstMatch {
			match = true
		}
	}
	b.d.accept = append(b.d.accept, match)
	b.d.next = append(b.d.next, [10]int32{})
	return s
}

// full reports whether the pattern matches all of nsn (digits only).
func (d *digitDFA) full(nsn []byte) bool {
	s := int32(0)
	for _, c := range nsn {
		if s = d.next[s][c-'0']; s < 0 {
			return false
		}
	}
	return d.accept[s]
}

// prefix reports whether the pattern matches a prefix of nsn.
func (d *digitDFA) prefix(nsn []byte) bool {
	s := int32(0)
	for _, c := range nsn {
		if d.accept[s] {
			return true
		}
		if s = d.next[s][c-'0']; s < 0 {
			return false
		}
	}
	return d.accept[s]
}

// phoneDesc is one number type of a region: its possible lengths and
// pattern (libphonenumber's isNumberMatchingDesc).
type phoneDesc struct {
	anyLen  bool   // the type lists no lengths: any length
	lengths uint32 // bit l set: length l is possible
	dfa     *digitDFA
}

func (p *phoneDesc) match(nsn []byte) bool {
	if p == nil {
		return false
	}
	if !p.anyLen && (len(nsn) >= 32 || p.lengths&(1<<len(nsn)) == 0) {
		return false
	}
	return p.dfa.full(nsn)
}

// phoneRegion is the compiled metadata of one region (or of one
// non-geographic calling code). Its leading digits are compiled with it;
// its number types on the first validation that needs them (a calling
// code shared by many regions, as NANP's, is mostly told apart by leading
// digits).
type phoneRegion struct {
	cc      int
	meta    *phonenumbers.PhoneMetadata
	leading *digitDFA // the region's leading digits, or nil
	once    sync.Once
	types   *phoneTypes // nil once compiled: the library answers instead
}

// phoneTypes are a region's number types.
type phoneTypes struct {
	general *phoneDesc
	types   []*phoneDesc // premium … voicemail, then fixed line
	mobile  *phoneDesc   // nil when mobile and fixed line share a pattern
}

// valid is getNumberTypeHelper(nsn) != UNKNOWN; fallback reports that the
// region's patterns have no automaton (the library must answer).
func (r *phoneRegion) valid(nsn []byte) (valid, fallback bool) {
	r.once.Do(func() { r.types, _ = compileTypes(r.meta) })
	t := r.types
	if t == nil {
		return false, true
	}
	if !t.general.match(nsn) {
		return false, false
	}
	for _, d := range t.types {
		if d.match(nsn) {
			return true, false
		}
	}
	return t.mobile.match(nsn), false
}

func compileDesc(d *phonenumbers.PhoneNumberDesc) (*phoneDesc, error) {
	if d == nil {
		return nil, nil
	}
	dfa, err := compileDigitDFA(d.GetNationalNumberPattern())
	if err != nil {
		return nil, err
	}
	p := &phoneDesc{anyLen: len(d.PossibleLength) == 0, dfa: dfa}
	for _, l := range d.PossibleLength {
		if l >= 0 && l < 32 {
			p.lengths |= 1 << l
		}
	}
	return p, nil
}

func compileTypes(m *phonenumbers.PhoneMetadata) (*phoneTypes, error) {
	t := &phoneTypes{}
	var err error
	if t.general, err = compileDesc(m.GetGeneralDesc()); err != nil {
		return nil, err
	}
	for _, d := range []*phonenumbers.PhoneNumberDesc{m.GetPremiumRate(), m.GetTollFree(), m.GetSharedCost(),
		m.GetVoip(), m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail(), m.GetFixedLine()} {
		p, err := compileDesc(d)
		if err != nil {
			return nil, err
		}
		if p != nil {
			t.types = append(t.types, p)
		}
	}
	if !m.GetSameMobileAndFixedLinePattern() {
		if t.mobile, err = compileDesc(m.GetMobile()); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func compileRegion(m *phonenumbers.PhoneMetadata) (*phoneRegion, error) {
	r := &phoneRegion{cc: int(m.GetCountryCode()), meta: m}
	if ld := m.GetLeadingDigits(); ld != "" {
		var err error
		if r.leading, err = compileDigitDFA(ld); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// phoneValidator holds the compiled regions, built on first use.
type phoneValidator struct {
	mu      sync.RWMutex
	meta    map[string]*phonenumbers.PhoneMetadata // region → metadata
	nonGeo  map[int]*phonenumbers.PhoneMetadata    // calling code → metadata of region "001"
	regions map[string]*phoneRegion                // compiled; nil value: use the library
	codes   map[int]*phoneRegion                   // compiled non-geographic codes
	loadErr error
}

var phoneRules = func() *phoneValidator {
	v := &phoneValidator{meta: map[string]*phonenumbers.PhoneMetadata{}, nonGeo: map[int]*phonenumbers.PhoneMetadata{},
		regions: map[string]*phoneRegion{}, codes: map[int]*phoneRegion{}}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		v.loadErr = err
		return v
	}
	for _, m := range coll.GetMetadata() {
		if m.GetId() == "001" {
			v.nonGeo[int(m.GetCountryCode())] = m
		} else {
			v.meta[m.GetId()] = m
		}
	}
	return v
}()

// region returns the compiled region code, whether the library must
// answer instead (fallback), and false when the region is unknown.
func (v *phoneValidator) region(code string) (r *phoneRegion, fallback, ok bool) {
	return compiled(&v.mu, v.regions, v.meta, code)
}

// nonGeographic is region for a non-geographic calling code (region 001).
func (v *phoneValidator) nonGeographic(cc int) (r *phoneRegion, fallback, ok bool) {
	return compiled(&v.mu, v.codes, v.nonGeo, cc)
}

// compiled returns the region of key in cache, compiling it from meta on
// first use (a nil region: its patterns have no automaton).
func compiled[K comparable](mu *sync.RWMutex, cache map[K]*phoneRegion, meta map[K]*phonenumbers.PhoneMetadata, key K) (r *phoneRegion, fallback, ok bool) {
	mu.RLock()
	r, done := cache[key]
	mu.RUnlock()
	if done {
		return r, r == nil, true
	}
	m := meta[key]
	if m == nil {
		return nil, false, false
	}
	r, err := compileRegion(m)
	if err != nil {
		r = nil
	}
	mu.Lock()
	cache[key] = r
	mu.Unlock()
	return r, r == nil, true
}

// forRegion is IsValidNumberForRegion for a geographic region.
func (v *phoneValidator) forRegion(cc int, nsn []byte, code string) (valid, fallback bool) {
	r, fb, ok := v.region(code)
	switch {
	case fb:
		return false, true
	case !ok || r.cc != cc:
		return false, false
	}
	return r.valid(nsn)
}

// any is IsValidNumber: the region is the calling code's only one, or the
// first of its regions whose leading digits match (for a region without
// them, where the number is valid).
func (v *phoneValidator) any(cc int, nsn []byte) (valid, fallback bool) {
	codes := phonenumbers.GetRegionCodesForCountryCode(cc)
	switch len(codes) {
	case 0:
		return false, false
	case 1:
		if codes[0] == "001" {
			r, fb, ok := v.nonGeographic(cc)
			if fb || !ok {
				return false, fb
			}
			return r.valid(nsn)
		}
		return v.forRegion(cc, nsn, codes[0])
	}
	for _, code := range codes {
		r, fb, ok := v.region(code)
		if fb {
			return false, true
		}
		if !ok {
			continue // the library would fail the same way: no metadata, no region
		}
		if r.leading != nil {
			if r.leading.prefix(nsn) {
				if r.cc != cc {
					return false, false
				}
				return r.valid(nsn)
			}
			continue
		}
		valid, fb := r.valid(nsn)
		if fb {
			return false, true
		}
		if valid {
			return r.cc == cc, false
		}
	}
	return false, false
}

// validPhone reports whether national is a valid number of calling code
// cc (of region when it is set), as libphonenumber answers it.
func validPhone(cc int, national []byte, region string) bool {
	if len(national) < 4 || len(national) > 14 || !allDigits(national) {
		return false
	}
	if phoneRules.loadErr == nil {
		// The national significant number: the digits without leading
		// zeros, as the library writes the number it is given.
		nsn := national
		for len(nsn) > 1 && nsn[0] == '0' {
			nsn = nsn[1:]
		}
		var valid, fallback bool
		if region != "" {
			valid, fallback = phoneRules.forRegion(cc, nsn, region)
		} else {
			valid, fallback = phoneRules.any(cc, nsn)
		}
		if !fallback {
			return valid
		}
	}
	return libraryValidPhone(cc, national, region)
}

// libraryValidPhone asks libphonenumber itself.
func libraryValidPhone(cc int, national []byte, region string) bool {
	if len(national) < 4 || len(national) > 14 || !allDigits(national) {
		return false
	}
	var nn uint64
	for _, c := range national {
		nn = nn*10 + uint64(c-'0')
	}
	c32 := int32(cc)
	pn := &phonenumbers.PhoneNumber{CountryCode: &c32, NationalNumber: &nn}
	if region != "" {
		return phonenumbers.IsValidNumberForRegion(pn, region)
	}
	return phonenumbers.IsValidNumber(pn)
}
