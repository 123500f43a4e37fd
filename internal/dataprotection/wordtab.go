package dataprotection

// wordTable maps folded words to their list flags. It is an open-addressed
// hash table over one byte arena, looked up with a hash computed while
// the word is folded: no string conversion, no allocation. Built once,
// read-only afterwards.
type wordTable struct {
	slots []wordSlot // power-of-two size, at most half full
	arena []byte
}

type wordSlot struct {
	hash  uint32
	off   uint32
	n     uint16 // word length; 0 marks an empty slot
	flags uint16
}

// fnv1a hashes a folded word.
func fnv1a(w []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range w {
		h = (h ^ uint32(c)) * 16777619
	}
	return h
}

func newWordTable(words map[string]uint16) *wordTable {
	size := 16
	for size < 2*len(words) {
		size <<= 1
	}
	t := &wordTable{slots: make([]wordSlot, size)}
	for w, fl := range words {
		if w == "" || len(w) > 0xFFFF {
			continue
		}
		h := fnv1a([]byte(w))
		k := int(h) & (size - 1)
		for t.slots[k].n != 0 {
			k = (k + 1) & (size - 1)
		}
		t.slots[k] = wordSlot{hash: h, off: uint32(len(t.arena)), n: uint16(len(w)), flags: fl}
		t.arena = append(t.arena, w...)
	}
	return t
}

// get returns the flags of the folded word w, whose fnv1a hash is h.
func (t *wordTable) get(w []byte, h uint32) uint16 {
	mask := len(t.slots) - 1
	for k := int(h) & mask; ; k = (k + 1) & mask {
		s := &t.slots[k]
		if s.n == 0 {
			return 0
		}
		if s.hash == h && int(s.n) == len(w) && string(t.arena[s.off:s.off+uint32(s.n)]) == string(w) {
			return s.flags
		}
	}
}

// getFolded returns the flags of w folded as foldWord does. An ASCII
// word is hashed and compared lower-cased on the fly, without building
// its folded form; any other is folded into scratch first.
func (t *wordTable) getFolded(w []byte, scratch *[]byte) uint16 {
	h := uint32(2166136261)
	for _, c := range w {
		if c >= 0x80 {
			var h2 uint32
			*scratch, h2 = foldHash((*scratch)[:0], w)
			return t.get(*scratch, h2)
		}
		h = (h ^ uint32(lowerASCII[c])) * 16777619
	}
	mask := len(t.slots) - 1
	for k := int(h) & mask; ; k = (k + 1) & mask {
		s := &t.slots[k]
		if s.n == 0 {
			return 0
		}
		if s.hash == h && int(s.n) == len(w) && equalLowerASCII(t.arena[s.off:s.off+uint32(s.n)], w) {
			return s.flags
		}
	}
}

// equalLowerASCII reports whether w lower-cased is folded (same length).
func equalLowerASCII(folded, w []byte) bool {
	for i, c := range w {
		if lowerASCII[c] != folded[i] {
			return false
		}
	}
	return true
}

// lowerASCII maps A–Z to a–z and every other byte to itself.
var lowerASCII = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c + 32)
	}
	return t
}()

// foldHash appends w folded as foldWord does to dst and returns it with
// its fnv1a hash.
func foldHash(dst, w []byte) ([]byte, uint32) {
	h := uint32(2166136261)
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c == 0xC3 && i+1 < len(w) {
			n := len(dst)
			dst = foldWord(dst, w[i:i+2])
			for _, f := range dst[n:] {
				h = (h ^ uint32(f)) * 16777619
			}
			i++
			continue
		}
		c = lowerASCII[c]
		dst = append(dst, c)
		h = (h ^ uint32(c)) * 16777619
	}
	return dst, h
}
