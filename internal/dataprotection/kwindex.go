package dataprotection

import "sort"

// kwHit is a context keyword found at a byte offset.
type kwHit struct {
	pos  int32
	mask uint32 // the ctxKind bits of the keywords starting there
}

// kwBuckets groups the context keywords by their first two folded bytes,
// so that a word is compared only with the few keywords it could start.
// Built once, read-only.
var kwBuckets = func() map[[2]byte][]kwEntry {
	m := map[[2]byte][]kwEntry{}
	for kind, kws := range contextWords {
		for _, kw := range kws {
			if len(kw) < 2 {
				continue
			}
			k := [2]byte{kw[0], kw[1]}
			m[k] = append(m[k], kwEntry{kw: kw, kind: ctxKind(kind)})
		}
	}
	return m
}()

type kwEntry struct {
	kw   string
	kind ctxKind
}

// kwByPrefix is kwBuckets as an array indexed by the two first letters.
var kwByPrefix = func() (t [26][26][]kwEntry) {
	for k, v := range kwBuckets {
		if k[0] >= 'a' && k[0] <= 'z' && k[1] >= 'a' && k[1] <= 'z' {
			t[k[0]-'a'][k[1]-'a'] = v
		}
	}
	return t
}()

// kwFirst marks the bytes that start a context keyword, as a cheap filter.
var kwFirst = func() (t [256]bool) {
	for k := range kwBuckets {
		t[k[0]] = true
		t[k[0]-32] = true
	}
	return t
}()

// buildKeywordIndex finds every context keyword in the text, once per
// scan, in one pass over the tokens.
func (st *scanState) buildKeywordIndex() {
	st.kw = st.kw[:0]
	st.kwBuilt = true
	text := st.text
	for _, t := range st.toks {
		if t.kind&tkAlpha == 0 || !kwFirst[text[t.start]] || t.end-t.start < 2 {
			continue
		}
		a, b := text[t.start]|0x20, text[t.start+1]
		if b == 0xC3 {
			st.fold = foldWord(st.fold[:0], text[t.start+1:min(int(t.end), int(t.start)+3)])
			if len(st.fold) == 0 {
				continue
			}
			b = st.fold[0]
		}
		b |= 0x20
		if a < 'a' || a > 'z' || b < 'a' || b > 'z' || kwByPrefix[a-'a'][b-'a'] == nil {
			continue
		}
		bucket := kwByPrefix[a-'a'][b-'a']
		var mask uint32
		for _, e := range bucket {
			if foldedHasPrefix(text[t.start:], e.kw) {
				mask |= 1 << e.kind
			}
		}
		if mask != 0 {
			st.kw = append(st.kw, kwHit{pos: t.start, mask: mask})
		}
	}
}

// ctxIn reports whether a keyword of kind starts in text[from:to].
func (st *scanState) ctxIn(from, to int, kind ctxKind) bool {
	if !st.kwBuilt {
		st.buildKeywordIndex()
	}
	kw := st.kw
	i := sort.Search(len(kw), func(i int) bool { return int(kw[i].pos) >= from })
	bit := uint32(1) << kind
	for ; i < len(kw) && int(kw[i].pos) < to; i++ {
		if kw[i].mask&bit != 0 {
			return true
		}
	}
	return false
}

// foldedHasPrefix reports whether text, folded as foldWord does, starts
// with kw. It folds on the fly and stops at the first difference.
func foldedHasPrefix(text []byte, kw string) bool {
	i := 0
	for k := 0; k < len(kw); k++ {
		if i >= len(text) {
			return false
		}
		c := text[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 32
			i++
		case c == 0xC3 && i+1 < len(text):
			var buf [2]byte
			f := foldWord(buf[:0], text[i:i+2])
			if len(f) != 1 {
				return false
			}
			c = f[0]
			i += 2
		default:
			i++
		}
		if c != kw[k] {
			return false
		}
	}
	return true
}
