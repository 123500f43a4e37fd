// Package literal finds which of many literal strings occur in a text, in
// one pass whatever their number.
package literal

import (
	"encoding/binary"
	"math/bits"
	"strings"
)

// gramLen is the length of the anchor gram of a needle.
const gramLen = 4

// Filter finds which of a set of needles occur in a text. Each
// needle of gramLen bytes or more is anchored on its rarest 4-byte gram;
// the text is scanned with a rolling 4-byte window probing a small bitset
// (which fits in cache whatever the number of needles) and only windows
// whose gram is set are verified against the needles anchored there.
// Shorter needles are checked with strings.Contains.
type Filter struct {
	bits   []uint64
	shift  uint32
	byGram map[uint32][]anchored
	short  []anchored
	n      int
}

type anchored struct {
	lit string
	off int // offset of the anchor gram within lit
	id  int32
}

func gramAt(s string, i int) uint32 {
	return binary.LittleEndian.Uint32([]byte(s[i : i+gramLen]))
}

func (f *Filter) slot(g uint32) uint32 { return (g * 2654435761) >> f.shift }

// New indexes needles (non-empty); their ids are their positions in the
// slice.
func New(needles []string) *Filter {
	f := &Filter{byGram: map[uint32][]anchored{}, n: len(needles)}
	freq := map[uint32]int{}
	for _, n := range needles {
		for i := 0; i+gramLen <= len(n); i++ {
			freq[gramAt(n, i)]++
		}
	}
	size := 1024
	for size < 16*len(needles) {
		size *= 2
	}
	f.bits = make([]uint64, size/64)
	f.shift = uint32(32 - bits.TrailingZeros(uint(size)))
	for id, n := range needles {
		if len(n) < gramLen {
			f.short = append(f.short, anchored{lit: n, id: int32(id)})
			continue
		}
		best, bestF := 0, -1
		for i := 0; i+gramLen <= len(n); i++ {
			if c := freq[gramAt(n, i)]; bestF < 0 || c < bestF {
				best, bestF = i, c
			}
		}
		g := gramAt(n, best)
		f.byGram[g] = append(f.byGram[g], anchored{lit: n, off: best, id: int32(id)})
		h := f.slot(g)
		f.bits[h>>6] |= 1 << (h & 63)
	}
	return f
}

// Scan calls hit for each needle found in text (possibly more than once).
func (f *Filter) Scan(text string, hit func(id int32)) {
	for _, a := range f.short {
		if strings.Contains(text, a.lit) {
			hit(a.id)
		}
	}
	if len(text) < gramLen || len(f.byGram) == 0 {
		return
	}
	g := uint32(0)
	for i := 0; i < gramLen-1; i++ {
		g |= uint32(text[i]) << (8 * (i + 1))
	}
	for i := gramLen - 1; i < len(text); i++ {
		g = g>>8 | uint32(text[i])<<24
		h := f.slot(g)
		if f.bits[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		start := i - (gramLen - 1)
		for _, a := range f.byGram[g] {
			s := start - a.off
			if s >= 0 && strings.HasPrefix(text[s:], a.lit) {
				hit(a.id)
			}
		}
	}
}

// Any reports whether any needle occurs in text.
func (f *Filter) Any(text string) bool {
	for _, a := range f.short {
		if strings.Contains(text, a.lit) {
			return true
		}
	}
	if len(text) < gramLen || len(f.byGram) == 0 {
		return false
	}
	g := uint32(0)
	for i := 0; i < gramLen-1; i++ {
		g |= uint32(text[i]) << (8 * (i + 1))
	}
	for i := gramLen - 1; i < len(text); i++ {
		g = g>>8 | uint32(text[i])<<24
		h := f.slot(g)
		if f.bits[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		start := i - (gramLen - 1)
		for _, a := range f.byGram[g] {
			s := start - a.off
			if s >= 0 && strings.HasPrefix(text[s:], a.lit) {
				return true
			}
		}
	}
	return false
}

// Len returns how many needles the filter holds.
func (f *Filter) Len() int { return f.n }

// lowerASCII maps A-Z to a-z and every other byte to itself.
var lowerASCII = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i + 'a' - 'A')
		}
	}
	return
}()

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix
// p, ignoring ASCII case in s.
func hasPrefixFold(s, p string) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if lowerASCII[s[i]] != p[i] {
			return false
		}
	}
	return true
}

// ScanFold is Scan over the ASCII-lower-cased text, without building it.
// It returns false, having reported nothing, if text has a non-ASCII byte
// (whose lower-casing needs Unicode rules): scan strings.ToLower(text) then.
func (f *Filter) ScanFold(text string, hit func(id int32)) bool {
	for i := 0; i < len(text); i++ {
		if text[i] >= 0x80 {
			return false
		}
	}
	for _, a := range f.short {
		if containsFold(text, a.lit) {
			hit(a.id)
		}
	}
	if len(text) < gramLen || len(f.byGram) == 0 {
		return true
	}
	g := uint32(0)
	for i := 0; i < gramLen-1; i++ {
		g |= uint32(lowerASCII[text[i]]) << (8 * (i + 1))
	}
	for i := gramLen - 1; i < len(text); i++ {
		g = g>>8 | uint32(lowerASCII[text[i]])<<24
		h := f.slot(g)
		if f.bits[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		start := i - (gramLen - 1)
		for _, a := range f.byGram[g] {
			s := start - a.off
			if s >= 0 && hasPrefixFold(text[s:], a.lit) {
				hit(a.id)
			}
		}
	}
	return true
}

func containsFold(s, p string) bool {
	for i := 0; i+len(p) <= len(s); i++ {
		if hasPrefixFold(s[i:], p) {
			return true
		}
	}
	return false
}
