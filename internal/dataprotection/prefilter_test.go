package dataprotection

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// prefilterText is varied material for the prefilter tests: every
// context keyword, accents, number runs, dates and turns.
func prefilterText(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	var words []string
	for _, kws := range contextWords {
		for _, kw := range kws {
			words = append(words, kw, strings.ToUpper(kw[:1])+kw[1:], strings.ToUpper(kw))
		}
	}
	words = append(words, "código", "CÓDIGO", "teléfono", "Teléfono", "número", "caducidad", "Ñandú", "ß", "\xc3", "é",
		"4111", "1111", "12", "345", "2025-03-17", "13:38:50", "06/27", "612 345 678", "+34", "uno", "dos", "cuatro",
		"\nAgente:", "\nCliente:", "\nCustomer:", "Calle", "Mayor", "5,", "28013", "Madrid", "John", "Smith", "at", "to")
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		switch r.IntN(6) {
		case 0:
			b.WriteString(", ")
		case 1:
			b.WriteString(". ")
		case 2:
			b.WriteString("-")
		default:
			b.WriteString(" ")
		}
	}
	return []byte(b.String())
}

// refFoldedHasPrefix is the keyword test the trie replaced: text, folded
// as foldWord does, starts with kw.
func refFoldedHasPrefix(text []byte, kw string) bool {
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
			f := foldWord(nil, text[i:i+2])
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

// TestKeywordTrieMatchesReference checks the keyword index against the
// straightforward definition: a keyword starts at a word whose first
// byte is an ASCII letter and whose second folds to a letter.
func TestKeywordTrieMatchesReference(t *testing.T) {
	s := newTestScanner(t, Options{})
	for seed := uint64(1); seed <= 20; seed++ {
		text := prefilterText(seed, 20000)
		st := &scanState{}
		st.reset(s, text)
		st.tokenize()
		st.buildKeywordIndex()
		var want [numCtx][]int32
		for _, tk := range st.toks {
			w := text[tk.start:]
			if tk.kind&tkAlpha == 0 || tk.end-tk.start < 2 || byteClass[w[0]] != 2 {
				continue
			}
			for kind, kws := range contextWords {
				for _, kw := range kws {
					if len(kw) >= 2 && isLowerASCII(kw[0]) && isLowerASCII(kw[1]) && refFoldedHasPrefix(w, kw) {
						want[kind] = append(want[kind], tk.start)
						break
					}
				}
			}
		}
		for k := range want {
			if !slices.Equal(st.kwPos[k], want[k]) {
				t.Fatalf("seed %d, kind %d: trie found %v, reference %v", seed, k, st.kwPos[k], want[k])
			}
		}
		// ctxIn agrees with a linear search, queried out of order too.
		r := rand.New(rand.NewPCG(seed, 1))
		for q := 0; q < 2000; q++ {
			from := r.IntN(len(text)+200) - 100
			to := from + r.IntN(400)
			kind := ctxKind(r.IntN(int(numCtx)))
			got := st.ctxIn(from, to, kind)
			exp := false
			for _, p := range want[kind] {
				if int(p) >= from && int(p) < to {
					exp = true
					break
				}
			}
			if got != exp {
				t.Fatalf("seed %d: ctxIn(%d, %d, %d) = %v, want %v", seed, from, to, kind, got, exp)
			}
		}
	}
}

// TestNumberPrefiltersNeverSkipAMatch checks the two shortcuts of the
// number scan against matchWindow itself: a window of three to six digits
// that shortMayMatch skips is taken by no validator, and a lone short
// number (loneShortNumber) makes a run of its own with no finding.
func TestNumberPrefiltersNeverSkipAMatch(t *testing.T) {
	skipped, lone := 0, 0
	for _, opts := range []Options{{}, {FailClosed: true, Entities: AllEntities()}} {
		s := newTestScanner(t, opts)
		for seed := uint64(1); seed <= 20; seed++ {
			text := prefilterText(seed, 20000)
			st := &scanState{}
			st.reset(s, text)
			st.tokenize()
			for i, tk := range st.toks {
				if tk.kind&tkDigits == 0 {
					continue
				}
				if tk.end-tk.start <= 2 && st.loneShortNumber(i) {
					st.found = st.found[:0]
					lone++
					if next := st.numeric(i); next != i+1 || len(st.found) != 0 || len(st.units) != 1 {
						t.Fatalf("seed %d: loneShortNumber(%q) but numeric found %v, next %d", seed, st.tokText(i), st.found, next-i)
					}
					continue
				}
				st.collect(i)
				for a := 0; a < len(st.units); a++ {
					for b := a; b < len(st.units); b++ {
						nd := st.units[b].d1 - st.units[a].d0
						if nd < 3 || nd > 6 || st.shortMayMatch(a, b, nd) {
							continue
						}
						skipped++
						st.found = st.found[:0]
						st.cc.reset(st.units[0].start, st.units[len(st.units)-1].end+40)
						if st.matchWindow(a, b) {
							t.Fatalf("seed %d: window %d..%d of %q skipped but matches %v", seed, a, b, text[st.units[0].start:st.units[len(st.units)-1].end], st.found)
						}
					}
				}
			}
		}
	}
	if skipped < 1000 || lone < 1000 {
		t.Errorf("checked %d skipped windows and %d lone numbers, want ≥ 1000 of each", skipped, lone)
	}
}

// TestSortFoundIsStable checks the merge of the passes' findings against
// a stable sort of them.
func TestSortFoundIsStable(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for n := 0; n < 300; n++ {
		st := &scanState{}
		var segs []int
		for p := 0; p < 5; p++ {
			k := r.IntN(8)
			start := r.IntN(50)
			for i := 0; i < k; i++ {
				if r.IntN(4) > 0 {
					start += r.IntN(5)
				} else {
					start = r.IntN(60)
				}
				st.found = append(st.found, Finding{Start: start, End: start + 1 + r.IntN(4), Validator: string(rune('a' + len(st.found)))})
			}
			segs = append(segs, len(st.found))
		}
		want := slices.Clone(st.found)
		slices.SortStableFunc(want, compareFindings)
		st.segs = segs
		st.sortFound()
		if !slices.Equal(st.found, want) {
			t.Fatalf("sortFound = %v, want %v", st.found, want)
		}
	}
}

// TestWordTable checks the folded-word table against a map and foldHash
// against foldWord.
func TestWordTable(t *testing.T) {
	words := map[string]uint16{}
	for i, w := range strings.Fields(stopWords + " josé garcia ñandu") {
		words[string(foldWord(nil, []byte(w)))] = uint16(i + 1)
	}
	tab := newWordTable(words)
	for _, w := range []string{"José", "GARCÍA", "Ñandú", "the", "The", "nothing", "", "\xc3", "Ça", "x\xc3"} {
		f, h := foldHash(nil, []byte(w))
		if string(f) != string(foldWord(nil, []byte(w))) || h != fnv1a(f) {
			t.Errorf("foldHash(%q) = %q %x, want %q %x", w, f, h, foldWord(nil, []byte(w)), fnv1a(f))
		}
		if got, want := tab.get(f, h), words[string(f)]; got != want {
			t.Errorf("get(%q) = %d, want %d", f, got, want)
		}
	}
	for _, lang := range []string{"", "es", "en"} {
		for _, w := range numberWordForms {
			f, h := foldHash(nil, []byte(w))
			k, v := numberWord(f, lang)
			x := numberWordTables[lang].get(f, h)
			if int(x>>10) != k || int(x&1023) != v {
				t.Errorf("number word %q (%q): table %d/%d, numberWord %d/%d", w, lang, x>>10, x&1023, k, v)
			}
		}
	}
}

// TestPhoneMemoConcurrent runs validations from several goroutines
// through one scanner's memo and checks every answer against validPhone.
func TestPhoneMemoConcurrent(t *testing.T) {
	s := newTestScanner(t, Options{})
	nums := []string{"612345678", "912345678", "2015550123", "7911123456", "123456789", "960811322", "699179340"}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &scanState{s: s}
			for k := 0; k < 200; k++ {
				n := []byte(nums[(k+g)%len(nums)])
				for _, cc := range []int{34, 1, 44} {
					if got, want := st.validPhoneCached(cc, n, ""), validPhone(cc, n, ""); got != want {
						t.Errorf("validPhoneCached(%d, %s) = %v, want %v", cc, n, got, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
