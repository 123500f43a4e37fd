package dataprotection

import (
	"bytes"
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
	// getFolded agrees with get on the folded word, ASCII or not.
	var scratch []byte
	for _, w := range append(strings.Fields(stopWords+" José GARCÍA Ñandú THE tHe nothing \xc3 Ça x\xc3 garcia GARCIA"), "") {
		f, h := foldHash(nil, []byte(w))
		if got, want := tab.getFolded([]byte(w), &scratch), tab.get(f, h); got != want {
			t.Errorf("getFolded(%q) = %d, want %d", w, got, want)
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

// TestPhoneValidatorConcurrent validates from several goroutines at once,
// while regions are compiled on first use, and checks every answer
// against the library.
func TestPhoneValidatorConcurrent(t *testing.T) {
	nums := []string{"612345678", "912345678", "2015550123", "7911123456", "123456789", "960811322", "699179340", "0612345678"}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 200; k++ {
				n := []byte(nums[(k+g)%len(nums)])
				for _, cc := range []int{34, 1, 44, 39, 33, 49, 351, 52} {
					if got, want := validPhone(cc, n, ""), libraryValidPhone(cc, n, ""); got != want {
						t.Errorf("validPhone(%d, %s) = %v, library %v", cc, n, got, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestEntityIndex(t *testing.T) {
	for i, e := range AllEntities() {
		if got := entityIndex(e); got != i {
			t.Errorf("entityIndex(%s) = %d, want %d", e, got, i)
		}
	}
	if got := entityIndex("NOPE"); got != -1 {
		t.Errorf("entityIndex(NOPE) = %d, want -1", got)
	}
}

// TestSchemeURLSearch checks scanURLs's search for "://" by its "//"
// against the plain search for "://".
func TestSchemeURLSearch(t *testing.T) {
	s := newTestScanner(t, Options{})
	r := rand.New(rand.NewPCG(5, 5))
	parts := []string{"http", "https", "ftp", "HTTP", ":", "/", "//", "://", ":///", "x", ".es", " ", "a.b/c?d", "\n"}
	for n := 0; n < 3000; n++ {
		var b strings.Builder
		for k := r.IntN(20); k >= 0; k-- {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		text := []byte(b.String())
		st := &scanState{}
		st.reset(s, text)
		st.tokenize()
		st.scanURLs()
		got := slices.Clone(st.found)
		st.found = st.found[:0]
		for off := 0; off < len(text); {
			k := bytes.Index(text[off:], []byte("://"))
			if k < 0 {
				break
			}
			p := off + k
			off = p + 3
			if e := st.schemeURL(p); e > 0 {
				off = e
			}
		}
		st.scanDomains()
		if !slices.Equal(got, st.found) {
			t.Fatalf("scanURLs(%q) = %v, want %v", text, got, st.found)
		}
	}
}

// TestIntroFirst checks that introFirst holds the first byte of every
// word introWord accepts.
func TestIntroFirst(t *testing.T) {
	for _, w := range []string{"llamo", "nombre", "name", "soy", "am", "sr", "sra", "srta", "mr", "mrs", "ms", "miss", "dr", "dra", "don",
		"habla", "atiende", "señor", "señora", "doña", "senor", "senora", "dona"} {
		if !introWord([]byte(w)) {
			t.Errorf("introWord(%q) = false, want true", w)
		}
	}
}

// TestLineStartIdx checks the indexed line lookup against lineStart and
// turnsBack, with queries that move forward, back a few lines, and jump.
func TestLineStartIdx(t *testing.T) {
	s := newTestScanner(t, Options{})
	r := rand.New(rand.NewPCG(9, 9))
	for _, text := range [][]byte{prefilterText(1, 5000), []byte("a\n\nb\nc"), []byte("\n\n\n"), []byte("no breaks"), {}} {
		st := &scanState{}
		st.reset(s, text)
		pos := 0
		for q := 0; q < 5000; q++ {
			switch r.IntN(4) {
			case 0:
				pos += r.IntN(40)
			case 1:
				pos -= r.IntN(200)
			case 2:
				pos = r.IntN(len(text) + 1)
			default:
				pos++
			}
			pos = max(0, min(pos, len(text)))
			if got, want := st.lineStartIdx(pos), lineStart(text, pos); got != want {
				t.Fatalf("lineStartIdx(%d) = %d, want %d", pos, got, want)
			}
			if got, want := st.turnsBackIdx(pos, 2, 300), turnsBack(text, pos, 2, 300); got != want {
				t.Fatalf("turnsBackIdx(%d) = %d, want %d", pos, got, want)
			}
		}
	}
}

// TestOrgWordTable checks orgWord's table against orgWordSet, the
// definition, on the words in several cases and on other words.
func TestOrgWordTable(t *testing.T) {
	var scratch []byte
	words := append(strings.Fields(orgWords+" García Smith street2 STRASSE"), "")
	for _, w := range words {
		variants := []string{w, strings.ToUpper(w)}
		if w != "" {
			variants = append(variants, strings.ToUpper(w[:1])+w[1:])
		}
		for _, v := range variants {
			want := orgWordSet[string(foldWord(nil, []byte(v)))]
			if got := orgWordTable.getFolded([]byte(v), &scratch) != 0; got != want {
				t.Errorf("orgWordTable(%q) = %v, want %v", v, got, want)
			}
		}
	}
}

// capitalizedRef is the definition of a capitalised word that the
// tokenizer's tkCap implements.
func capitalizedRef(st *scanState, i int) bool {
	t := st.toks[i]
	w := st.text[t.start:t.end]
	if len(w) < 2 || t.kind&tkHasDigit != 0 {
		return false
	}
	switch {
	case t.kind&tkUpper != 0:
	case w[0] == 0xC3 && w[1] >= 0x80 && w[1] <= 0x9E:
	default:
		return false
	}
	c := w[len(w)-1]
	return c >= 'a' && c <= 'z' || c >= 0x80
}

// TestTokenFlags checks the tokenizer's tkCap against its definition.
func TestTokenFlags(t *testing.T) {
	s := newTestScanner(t, Options{})
	caps := 0
	texts := [][]byte{[]byte("Ab ab AB Ñandú Á1 Éa \xc3\x80\xc3\xa9 A\xc3 Xy9 Ça ça")}
	for seed := uint64(1); seed <= 20; seed++ {
		texts = append(texts, prefilterText(seed, 20000))
	}
	for _, text := range texts {
		st := &scanState{}
		st.reset(s, text)
		st.tokenize()
		for i := range st.toks {
			want := capitalizedRef(st, i)
			if got := st.capitalized(i); got != want {
				t.Fatalf("capitalized(%q) = %v, want %v", st.tokText(i), got, want)
			}
			if want {
				caps++
			}
		}
	}
	if caps < 1000 {
		t.Errorf("checked %d capitalised words, want ≥ 1000", caps)
	}
}

// tokenBoundsRef is the tokenizer's definition of word boundaries: a
// lead byte takes every continuation byte after it; a continuation byte
// after anything else, like any other separator, ends the word.
func tokenBoundsRef(text []byte) [][2]int32 {
	var out [][2]int32
	for i := 0; i < len(text); {
		f := tokFlag[text[i]]
		if f == 0 {
			i++
			continue
		}
		start := i
		for {
			i++
			if f&tfLead != 0 {
				for i < len(text) && text[i]&0xC0 == 0x80 {
					i++
				}
			}
			if i >= len(text) {
				break
			}
			if f = tokFlag[text[i]]; f == 0 {
				break
			}
		}
		out = append(out, [2]int32{int32(start), int32(i)})
	}
	return out
}

// TestTokenBounds checks the tokenizer's word boundaries against
// tokenBoundsRef on text with multi-byte letters and stray bytes.
func TestTokenBounds(t *testing.T) {
	s := newTestScanner(t, Options{})
	r := rand.New(rand.NewPCG(4, 4))
	alphabet := []byte("aZ9 .:\n\xc3\xa9\xc3\x80\xe2\x80\xa6\x80\xbf\xf0\x9f\x98\x80\xc2\xa0\xff")
	for n := 0; n < 5000; n++ {
		text := make([]byte, r.IntN(40))
		for k := range text {
			text[k] = alphabet[r.IntN(len(alphabet))]
		}
		st := &scanState{}
		st.reset(s, text)
		st.tokenize()
		want := tokenBoundsRef(text)
		if len(st.toks) != len(want) {
			t.Fatalf("tokenize(%q): %d tokens, want %d", text, len(st.toks), len(want))
		}
		for k, tk := range st.toks {
			if tk.start != want[k][0] || tk.end != want[k][1] {
				t.Fatalf("tokenize(%q): token %d is %d..%d, want %d..%d", text, k, tk.start, tk.end, want[k][0], want[k][1])
			}
		}
	}
}
