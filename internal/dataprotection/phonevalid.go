package dataprotection

import (
	"errors"
	"regexp/syntax"
	"slices"
	"strconv"
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
	// closure adds to set the instructions reachable from pc without
	// reading: the ones that read a rune, and Match.
	var closure func(set []uint32, seen []bool, pc uint32) ([]uint32, error)
	closure = func(set []uint32, seen []bool, pc uint32) ([]uint32, error) {
		if seen[pc] {
			return set, nil
		}
		seen[pc] = true
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			var err error
			if set, err = closure(set, seen, in.Out); err != nil {
				return nil, err
			}
			return closure(set, seen, in.Arg)
		case syntax.InstCapture, syntax.InstNop:
			return closure(set, seen, in.Out)
		case syntax.InstMatch, syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			return append(set, pc), nil
		case syntax.InstFail:
			return set, nil
		}
		return nil, errNoDFA // InstEmptyWidth: an assertion
	}
	d := &digitDFA{}
	index := map[string]int32{}
	var sets [][]uint32
	add := func(set []uint32) int32 {
		slices.Sort(set)
		key := make([]byte, 0, 4*len(set))
		for _, pc := range set {
			key = strconv.AppendUint(key, uint64(pc), 36)
			key = append(key, ',')
		}
		if s, ok := index[string(key)]; ok {
			return s
		}
		s := int32(len(sets))
		index[string(key)] = s
		sets = append(sets, set)
		match := false
		for _, pc := range set {
			if prog.Inst[pc].Op == syntax.InstMatch {
				match = true
			}
		}
		d.accept = append(d.accept, match)
		d.next = append(d.next, [10]int32{})
		return s
	}
	start, err := closure(nil, make([]bool, len(prog.Inst)), uint32(prog.Start))
	if err != nil {
		return nil, err
	}
	add(start)
	for s := 0; s < len(sets); s++ {
		if len(sets) > maxDFAStates {
			return nil, errNoDFA
		}
		for dg := range 10 {
			r := rune('0' + dg)
			var next []uint32
			seen := make([]bool, len(prog.Inst))
			for _, pc := range sets[s] {
				in := &prog.Inst[pc]
				if in.Op != syntax.InstMatch && in.MatchRune(r) {
					if next, err = closure(next, seen, in.Out); err != nil {
						return nil, err
					}
				}
			}
			if len(next) == 0 {
				d.next[s][dg] = -1
				continue
			}
			d.next[s][dg] = add(next)
		}
	}
	return d, nil
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
// non-geographic calling code).
type phoneRegion struct {
	cc      int
	general *phoneDesc
	types   []*phoneDesc // premium … voicemail, then fixed line
	mobile  *phoneDesc   // nil when mobile and fixed line share a pattern
	leading *digitDFA    // the region's leading digits, or nil
}

// valid is getNumberTypeHelper(nsn) != UNKNOWN.
func (r *phoneRegion) valid(nsn []byte) bool {
	if !r.general.match(nsn) {
		return false
	}
	for _, t := range r.types {
		if t.match(nsn) {
			return true
		}
	}
	return r.mobile.match(nsn)
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

func compileRegion(m *phonenumbers.PhoneMetadata) (*phoneRegion, error) {
	r := &phoneRegion{cc: int(m.GetCountryCode())}
	var err error
	if r.general, err = compileDesc(m.GetGeneralDesc()); err != nil {
		return nil, err
	}
	for _, d := range []*phonenumbers.PhoneNumberDesc{m.GetPremiumRate(), m.GetTollFree(), m.GetSharedCost(),
		m.GetVoip(), m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail(), m.GetFixedLine()} {
		p, err := compileDesc(d)
		if err != nil {
			return nil, err
		}
		if p != nil {
			r.types = append(r.types, p)
		}
	}
	if !m.GetSameMobileAndFixedLinePattern() {
		if r.mobile, err = compileDesc(m.GetMobile()); err != nil {
			return nil, err
		}
	}
	if ld := m.GetLeadingDigits(); ld != "" {
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
	v.mu.RLock()
	r, done := v.regions[code]
	v.mu.RUnlock()
	if done {
		return r, r == nil, true
	}
	m := v.meta[code]
	if m == nil {
		return nil, false, false
	}
	r, err := compileRegion(m)
	if err != nil {
		r = nil
	}
	v.mu.Lock()
	v.regions[code] = r
	v.mu.Unlock()
	return r, r == nil, true
}

// nonGeographic is region for a non-geographic calling code (region 001).
func (v *phoneValidator) nonGeographic(cc int) (r *phoneRegion, fallback, ok bool) {
	v.mu.RLock()
	r, done := v.codes[cc]
	v.mu.RUnlock()
	if done {
		return r, r == nil, true
	}
	m := v.nonGeo[cc]
	if m == nil {
		return nil, false, false
	}
	r, err := compileRegion(m)
	if err != nil {
		r = nil
	}
	v.mu.Lock()
	v.codes[cc] = r
	v.mu.Unlock()
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
	return r.valid(nsn), false
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
			return r.valid(nsn), false
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
				return r.cc == cc && r.valid(nsn), false
			}
		} else if r.valid(nsn) {
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
