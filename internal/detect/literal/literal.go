// Package literal finds which of many literal strings occur in a text, in
// one pass whatever their number.
package literal

import (
	"encoding/binary"
	"math/bits"
	"sort"
)

// gramLen is the length of the anchor gram of a long needle.
const gramLen = 4

// Filter finds which of a set of needles occur in a text, in one pass over
// the text whatever the number of needles:
//
//   - a needle of gramLen bytes or more is anchored on its rarest 4-byte
//     gram; a rolling 4-byte window probes a small bitset (which fits in
//     cache whatever the number of needles) and only windows whose gram is
//     set are verified against the needles anchored there;
//   - a needle of 2 or 3 bytes is anchored on its first two bytes, probed
//     through a 65,536-bit set of byte pairs;
//   - a one-byte needle is looked up in a 256-entry table.
type Filter struct {
	n int

	// Long needles: bitset over hashed grams, and the needles grouped by
	// slot (long[heads[s]:heads[s+1]] are anchored on grams of slot s).
	bits  []uint64
	shift uint32
	heads []int32
	long  []anchored

	// Needles of 2 and 3 bytes: pairs has bit b0|b1<<8 set for each first
	// byte pair; byPair lists the needles of a pair.
	pairs  []uint64
	byPair map[uint16][]anchored

	// One-byte needles: ids of each byte.
	single    [256][]int32
	hasSingle [4]uint64
}

type anchored struct {
	lit  string
	gram uint32 // the anchor gram (long needles)
	off  int32  // offset of the anchor gram within lit
	id   int32
}

func gramAt(s string, i int) uint32 {
	return binary.LittleEndian.Uint32([]byte(s[i : i+gramLen]))
}

func (f *Filter) slot(g uint32) uint32 { return (g * 2654435761) >> f.shift }

// New indexes needles; their ids are their positions in the slice. Empty
// needles are ignored.
func New(needles []string) *Filter {
	f := &Filter{n: len(needles)}
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
	f.shift = uint32(32 - bits.TrailingZeros(uint(size)))
	for id, n := range needles {
		switch {
		case len(n) == 0:
		case len(n) == 1:
			c := n[0]
			f.single[c] = append(f.single[c], int32(id))
			f.hasSingle[c>>6] |= 1 << (c & 63)
		case len(n) < gramLen:
			if f.pairs == nil {
				f.pairs = make([]uint64, 65536/64)
				f.byPair = map[uint16][]anchored{}
			}
			p := uint16(n[0]) | uint16(n[1])<<8
			f.pairs[p>>6] |= 1 << (p & 63)
			f.byPair[p] = append(f.byPair[p], anchored{lit: n, id: int32(id)})
		default:
			best, bestF := 0, -1
			for i := 0; i+gramLen <= len(n); i++ {
				if c := freq[gramAt(n, i)]; bestF < 0 || c < bestF {
					best, bestF = i, c
				}
			}
			f.long = append(f.long, anchored{lit: n, gram: gramAt(n, best), off: int32(best), id: int32(id)})
		}
	}
	if len(f.long) > 0 {
		f.bits = make([]uint64, size/64)
		sort.SliceStable(f.long, func(i, j int) bool { return f.slot(f.long[i].gram) < f.slot(f.long[j].gram) })
		f.heads = make([]int32, size+1)
		for _, a := range f.long {
			h := f.slot(a.gram)
			f.bits[h>>6] |= 1 << (h & 63)
			f.heads[h+1]++
		}
		for i := 1; i <= size; i++ {
			f.heads[i] += f.heads[i-1]
		}
	}
	return f
}

// Len returns how many needles the filter holds.
func (f *Filter) Len() int { return f.n }

// Scan calls hit for each needle found in text (possibly more than once).
func (f *Filter) Scan(text string, hit func(id int32)) {
	f.scan(text, &identity, func(id int32) bool { hit(id); return false })
}

// Any reports whether any needle occurs in text.
func (f *Filter) Any(text string) bool {
	found := false
	f.scan(text, &identity, func(int32) bool { found = true; return true })
	return found
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
	f.scan(text, &lowerASCII, func(id int32) bool { hit(id); return false })
	return true
}

// scan reports the needles found in text mapped byte by byte through tab,
// until hit returns true.
func (f *Filter) scan(text string, tab *[256]byte, hit func(id int32) bool) {
	var seen [4]uint64 // one-byte needles already reported
	longs := len(f.long) > 0
	pairs := f.pairs != nil
	singles := f.hasSingle != [4]uint64{}
	g := uint32(0)
	for i := 0; i < len(text); i++ {
		c := tab[text[i]]
		g = g>>8 | uint32(c)<<24
		if singles && f.hasSingle[c>>6]&(1<<(c&63)) != 0 && seen[c>>6]&(1<<(c&63)) == 0 {
			seen[c>>6] |= 1 << (c & 63)
			for _, id := range f.single[c] {
				if hit(id) {
					return
				}
			}
		}
		if pairs && i >= 1 {
			p := uint16(g >> 16)
			if f.pairs[p>>6]&(1<<(p&63)) != 0 {
				for _, a := range f.byPair[p] {
					if len(a.lit) == 2 || (i+1 < len(text) && tab[text[i+1]] == a.lit[2]) {
						if hit(a.id) {
							return
						}
					}
				}
			}
		}
		if longs && i >= gramLen-1 {
			h := f.slot(g)
			if f.bits[h>>6]&(1<<(h&63)) == 0 {
				continue
			}
			start := i - (gramLen - 1)
			for _, a := range f.long[f.heads[h]:f.heads[h+1]] {
				if a.gram != g {
					continue
				}
				s := start - int(a.off)
				if s >= 0 && hasPrefixTab(text[s:], a.lit, tab) {
					if hit(a.id) {
						return
					}
				}
			}
		}
	}
}

// identity maps every byte to itself.
var identity = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	return
}()

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

// hasPrefixTab reports whether s, mapped byte by byte through tab, starts
// with p.
func hasPrefixTab(s, p string, tab *[256]byte) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if tab[s[i]] != p[i] {
			return false
		}
	}
	return true
}
