package dataprotection

import "math/bits"

// The context keywords are found once per scan by walking a trie of the
// folded keywords from the start of every word that could begin one: one
// table lookup per byte, no string conversion, no allocation. A keyword
// matches where a word starts with it (it may run on over the following
// words: "codigo de seguridad").

// kwTrie is the trie of the context keywords over folded bytes. Built
// once, read-only.
type kwTrie struct {
	class [256]uint8   // folded byte → edge class (0: no keyword has it)
	nc    int          // number of classes
	next  []int32      // node*nc + class → child node (0: none)
	mask  []uint32     // ctxKind bits of the keywords ending at the node
	pair  [26][26]bool // the two first letters of some keyword
	// trip holds the third byte after each pair of first letters: its
	// letter, or 26 for any other ASCII byte and for the end of the text
	// (all 27 for a keyword of two letters).
	trip [26][26][27]bool
	// gate is trip for buildKeywordIndex's single lookup: gate[a][b] has
	// bit x set when a keyword may start with letters a and b and a third
	// byte of class x (kwThird: 0–25 a letter, 26 another ASCII byte or
	// the end, 27 a byte from 0x80 on, which may fold to a letter and is
	// always let through); b = 26 is a second byte that is not a letter,
	// let through as well.
	gate [26][27]uint32
}

// kwFirst, kwSecond and kwThird are the letter indexes (0–25, either case)
// of the first three bytes of a word for keywordTrie.gate: kwFirst is 255
// for a byte that is not an ASCII letter, kwSecond 26, kwThird 26 for
// another ASCII byte and 27 from 0x80 on.
var kwFirst, kwSecond, kwThird = func() (f, s, t [256]uint8) {
	for c := range 256 {
		f[c], s[c], t[c] = 255, 26, 26
		if c >= 0x80 {
			t[c] = 27
		}
		if l := byte(c) | 0x20; l >= 'a' && l <= 'z' {
			f[c], s[c], t[c] = l-'a', l-'a', l-'a'
		}
	}
	return
}()

var keywordTrie = buildKeywordTrie()

func buildKeywordTrie() *kwTrie {
	t := &kwTrie{nc: 1}
	for _, kws := range contextWords {
		for _, kw := range kws {
			for i := 0; i < len(kw); i++ {
				if t.class[kw[i]] == 0 {
					t.class[kw[i]] = uint8(t.nc)
					t.nc++
				}
			}
		}
	}
	t.next = make([]int32, t.nc) // the root
	t.mask = make([]uint32, 1)
	for kind, kws := range contextWords {
		for _, kw := range kws {
			// A keyword must open with two letters: it is looked up at the
			// start of a word of two letters or more.
			if len(kw) < 2 || !isLowerASCII(kw[0]) || !isLowerASCII(kw[1]) {
				continue
			}
			n := int32(0)
			for i := 0; i < len(kw); i++ {
				k := int(n)*t.nc + int(t.class[kw[i]])
				if t.next[k] == 0 {
					t.next[k] = int32(len(t.mask))
					t.mask = append(t.mask, 0)
					t.next = append(t.next, make([]int32, t.nc)...)
				}
				n = t.next[k]
			}
			t.mask[n] |= 1 << kind
			a, b := kw[0]-'a', kw[1]-'a'
			t.pair[a][b] = true
			switch {
			case len(kw) == 2:
				for c := range t.trip[a][b] {
					t.trip[a][b][c] = true
				}
			case isLowerASCII(kw[2]):
				t.trip[a][b][kw[2]-'a'] = true
			default:
				t.trip[a][b][26] = true
			}
		}
	}
	for a := range 26 {
		for b := range 27 {
			g := uint32(1) << 27
			for x := range 27 {
				if b == 26 || t.trip[a][b][x] {
					g |= 1 << x
				}
			}
			t.gate[a][b] = g
		}
	}
	return t
}

func isLowerASCII(c byte) bool { return c >= 'a' && c <= 'z' }

// foldC3 folds the second byte of a two-byte UTF-8 letter that starts with
// 0xC3 as foldWord does (0 when foldWord keeps it as it is).
var foldC3 = func() (t [256]byte) {
	for n := 0x80; n < 0xC0; n++ {
		f := foldWord(nil, []byte{0xC3, byte(n)})
		if len(f) == 1 {
			t[n] = f[0]
		}
	}
	return t
}()

// match returns the ctxKind bits of the keywords text[p:] starts with.
func (t *kwTrie) match(text []byte, p int) uint32 {
	var mask uint32
	n := int32(0)
	for p < len(text) {
		c := text[p]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 32
			p++
		case c == 0xC3:
			if p+1 >= len(text) || foldC3[text[p+1]] == 0 {
				return mask
			}
			c = foldC3[text[p+1]]
			p += 2
		default:
			p++
		}
		cl := t.class[c]
		if cl == 0 {
			return mask
		}
		n = t.next[int(n)*t.nc+int(cl)]
		if n == 0 {
			return mask
		}
		mask |= t.mask[n]
	}
	return mask
}

// buildKeywordIndex finds every context keyword in the text, once per
// scan, in one pass over the tokens, and files its position under each of
// its kinds.
func (st *scanState) buildKeywordIndex() {
	for k := range st.kwPos {
		st.kwPos[k] = st.kwPos[k][:0]
		st.kwCur[k] = 0
	}
	st.kwBuilt = true
	text := st.text
	kt := keywordTrie
	for _, t := range st.toks {
		// A keyword starts at a word of two bytes or more whose first byte
		// is an ASCII letter, and most words share their three first
		// letters with no keyword: one lookup in gate tells.
		if t.kind&tkAlpha == 0 || t.end-t.start < 2 {
			continue
		}
		p := int(t.start)
		a := kwFirst[text[p]]
		if a >= 26 {
			continue
		}
		x := uint8(26) // the end of the text
		if p+2 < len(text) {
			x = kwThird[text[p+2]]
		}
		if kt.gate[a][kwSecond[text[p+1]]]>>x&1 == 0 {
			continue
		}
		mask := kt.match(text, int(t.start))
		for mask != 0 {
			k := ctxKind(bits.TrailingZeros32(mask))
			mask &= mask - 1
			st.kwPos[k] = append(st.kwPos[k], t.start)
		}
	}
}

// ctxIn reports whether a keyword of kind starts in text[from:to].
func (st *scanState) ctxIn(from, to int, kind ctxKind) bool {
	if !st.kwBuilt {
		st.buildKeywordIndex()
	}
	pos := st.kwPos[kind]
	// Queries mostly move forward: start from where the last one of this
	// kind ended and step ahead a few keywords before searching.
	lo := int(st.kwCur[kind])
	if lo > len(pos) || lo > 0 && int(pos[lo-1]) >= from {
		lo = 0
	}
	for k := 0; lo < len(pos) && int(pos[lo]) < from; k++ {
		if k == 4 {
			lo = st.searchKw(pos, lo, from)
			break
		}
		lo++
	}
	st.kwCur[kind] = int32(lo)
	return lo < len(pos) && int(pos[lo]) < to
}

// searchKw returns the first index from lo on whose position is >= from.
func (st *scanState) searchKw(pos []int32, lo, from int) int {
	hi := len(pos)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if int(pos[m]) < from {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
