package dataprotection

import (
	"bytes"
	"slices"
)

// Postal addresses and places named by their context. An address is
// taken as a block: its street line (house number, street name, number),
// unit, town, region and postal code, over several lines when it is
// written as an envelope. A place follows the words that announce one
// ("flew to", "grew up in", "lives in"…).

// streetSuffixWords are street types written after the name, in English
// (the suffixes of postal standards), and the street words of other
// languages that may end a street name.
const streetSuffixWords = `street st str streets avenue ave av avenues road rd roads lane ln lanes boulevard blvd drive dr drives
way ways court ct courts place pl places square sq squares terrace ter crescent cres close gardens gdns park parks parkway pkwy
highway hwy row rows hill hills alley allee arcade bend bluff bluffs bottom branch brook brooks burg burgs bypass camp canyon cape
causeway center centers circle circles cliff cliffs club common commons corner corners course cove coves creek crest crossing
crossroad crossroads curve dale dam divide estate estates expressway extension extensions falls ferry field fields flat flats ford
fords forest forge forges fork forks fort freeway garden gateway glen glens green greens grove groves harbor harbors haven heights
highlands hollow inlet island islands isle junction junctions key keys knoll knolls lake lakes land landing light lights loaf lock
locks lodge loop mall manor manors meadow meadows mews mill mills mission motorway mount mountain mountains neck orchard oval
overpass pass passage path pike pine pines plain plains plaza point points port ports prairie radial ramp ranch rapid rapids rest
ridge ridges river route shoal shoals shore shores skyway spring springs spur spurs station stravenue stream summit throughway
trace track trafficway trail trailer tunnel turnpike underpass union unions valley valleys via viaduct view views village villages
ville vista walk walks wall well wells`

// placeCues are the words after which a place name follows; the last
// word of each is the token the cue is recognised at.
var placeCues = [][]string{
	{"flew", "to"}, {"fly", "to"}, {"flying", "to"}, {"grew", "up", "in"}, {"moved", "here", "from"}, {"moved", "to"},
	{"moved", "from"}, {"i'm", "in"}, {"im", "in"}, {"am", "in"}, {"originally", "from"}, {"based", "in"},
	{"home", "city"}, {"arrived", "at"}, {"arrived", "in"}, {"returned", "to"}, {"lives", "in"}, {"live", "in"},
	{"living", "in"}, {"located", "in"}, {"born", "in"}, {"travelling", "to"}, {"traveling", "to"}, {"trip", "to"},
	{"visit"}, {"visiting"}, {"city", "of"}, {"town", "of"},
	{"vivo", "en"}, {"vive", "en"}, {"viajo", "a"}, {"desde"}, {"street", "in"}, {"road", "in"},
}

// addressCues are the words after which an address follows.
var addressCues = [][]string{
	{"lives", "at"}, {"live", "at"}, {"living", "at"}, {"address"}, {"addresses"}, {"address", "is"},
	{"address", "to"}, {"address", "with"}, {"are"}, {"one", "to"}, {"sent", "to"}, {"office", "is", "at"},
	{"meet", "me", "at"}, {"stop", "at"}, {"off", "at"}, {"is", "on"}, {"side", "of"}, {"is", "at"},
	{"direccion"}, {"domicilio"}, {"vivo", "en"}, {"lives", "on"}, {"live", "on"}, {"located", "at"}, {"based", "at"},
}

// cue is a place or address cue, filed under its last word.
type cue struct {
	words   []string
	address bool
}

// cueLists files the cues by their last word: cueTable maps the word to
// its index in cueLists plus one, and cueFilter is a cheap prefilter of
// those words (numberWordFilter's key). Built once, read-only.
var cueLists, cueTable, cueFilter = func() ([][]cue, *wordTable, *[1 << 14]bool) {
	idx := map[string]uint16{}
	var lists [][]cue
	var f [1 << 14]bool
	for k, list := range [][][]string{placeCues, addressCues} {
		for _, c := range list {
			last := c[len(c)-1]
			n, ok := idx[last]
			if !ok {
				lists = append(lists, nil)
				n = uint16(len(lists))
				idx[last] = n
			}
			lists[n-1] = append(lists[n-1], cue{words: c, address: k == 1})
			f[filterKey([]byte(last))] = true
		}
	}
	return lists, newWordTable(idx), &f
}()

// cueAt reports which cues end at token i: a place cue, an address cue.
func (st *scanState) cueAt(i int) (place, address bool) {
	w := st.tokText(i)
	if len(w) > 15 || !cueFilter[filterKey(w)] {
		return false, false
	}
	n := cueTable.getFolded(w, &st.fold)
	if n == 0 {
		return false, false
	}
	// The word before, folded once for every cue of two words or more.
	var prev []byte
	if i > 0 && st.blankGap(i-1) {
		st.fold2 = foldWord(st.fold2[:0], st.tokText(i-1))
		prev = st.fold2
	}
	for _, c := range cueLists[n-1] {
		if len(c.words) > 1 && (prev == nil || string(prev) != c.words[len(c.words)-2]) && c.words[len(c.words)-2] != "i'm" {
			continue
		}
		if st.cueMatches(i, c.words) {
			if c.address {
				address = true
			} else {
				place = true
			}
		}
	}
	return
}

// cueMatches reports whether the words of a cue end at token i, which
// cueAt found to fold to the cue's last word.
func (st *scanState) cueMatches(i int, words []string) bool {
	k := i
	for n := len(words) - 1; n >= 0; n-- {
		if k < 0 {
			return false
		}
		if words[n] == "i'm" {
			// "I'm" is three tokens: I ' m.
			if k < 1 || string(foldWord(st.fold[:0], st.tokText(k))) != "m" || st.text[st.toks[k-1].end] != '\'' ||
				string(foldWord(st.fold[:0], st.tokText(k-1))) != "i" {
				return false
			}
			k -= 2
			continue
		}
		if k != i && string(foldWord(st.fold[:0], st.tokText(k))) != words[n] {
			return false
		}
		if n > 0 && (k == 0 || !st.blankGap(k-1)) {
			return false
		}
		k--
	}
	return true
}

// blankGap reports whether tokens i and i+1 are separated by blanks only.
func (st *scanState) blankGap(i int) bool {
	g := st.gapAfter(i)
	if len(g) == 0 {
		return false
	}
	for _, c := range g {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// nameLike reports whether token i may be part of a proper name: it
// starts with an upper-case letter or with a non-ASCII letter (accented
// capitals, Greek, Cyrillic…).
func (st *scanState) nameLike(i int) bool {
	t := st.toks[i]
	if t.kind&tkAlpha == 0 || t.kind&tkHasDigit != 0 {
		return false
	}
	c := st.text[t.start]
	if c >= 'A' && c <= 'Z' {
		return true
	}
	if c < 0x80 {
		return false
	}
	// Latin-1 lower-case letters (C3 A0–BF) are not capitals.
	return !(c == 0xC3 && t.end-t.start > 1 && st.text[t.start+1] >= 0xA0)
}

// addressJoiners are the lower-case words that occur inside addresses.
var addressJoiners = map[string]bool{
	"de": true, "del": true, "la": true, "las": true, "los": true, "do": true, "da": true, "dos": true, "das": true,
	"van": true, "von": true, "der": true, "den": true, "di": true, "du": true, "le": true, "les": true, "al": true,
	"el": true, "u": true, "ul": true, "utca": true, "ut": true, "ter": true, "kapu": true, "rkp": true, "str": true,
	"st": true, "and": true, "y": true, "the": true, "corner": true, "of": true, "box": true, "apt": true, "suite": true,
	"rue": true, "via": true, "calle": true, "avenida": true, "ulica": true, "ulitsa": true, "sokak": true, "cd": true,
	"piso": true, "puerta": true, "planta": true, "bajo": true, "izq": true, "dcha": true, "no": true, "nº": true,
	"gate": true, "gata": true, "gatan": true, "vei": true, "veien": true, "vej": true, "vegur": true, "tie": true, "katu": true,
	"utja": true, "des": true, "dei": true, "della": true, "delle": true, "degli": true, "am": true, "an": true, "im": true,
	"zum": true, "zur": true, "ten": true, "op": true, "aan": true,
}

// addressBlock extends an address that starts at token i over the
// following tokens of the same address, across line breaks when the
// lines are short address lines; it returns the token after the block.
// A block stops at a lower-case word that is not an address word, at a
// blank line followed by anything but a postal line, at sentence
// punctuation, and after 40 tokens.
func (st *scanState) addressBlock(i int) int {
	toks := st.toks
	text := st.text
	j := i
	lineWords := 0
	for n := 0; j < len(toks) && n < 40; n++ {
		t := toks[j]
		if j > i {
			g := text[toks[j-1].end:t.start]
			if !addressGapOK(g) {
				break
			}
			if nl := bytes.Count(g, []byte{'\n'}); nl > 0 {
				lineWords = 0
				// After a blank line only a postal line goes on ("Finland
				// 33100"): one with a number.
				if nl > 1 && !st.lineHasNumber(j) {
					break
				}
			}
			// A sentence that goes on after the address: ". It was…".
			if bytes.IndexByte(g, '.') >= 0 && t.end-t.start > 1 && st.nameLike(j) && st.wordFlags(j)&nlStop != 0 {
				break
			}
		}
		// A form label ("Mobile:", "Phone:") ends the address.
		if int(t.end) < len(text) && text[t.end] == ':' {
			break
		}
		w := text[t.start:t.end]
		switch {
		case t.kind&tkDigits != 0:
			if len(w) > 7 {
				return j
			}
		case t.kind&tkHasDigit != 0:
			// "221B", "2A": a house number with a letter.
			if len(w) > 5 {
				return j
			}
		case st.nameLike(j):
		default:
			if !addressJoiners[string(foldWord(st.fold[:0], w))] {
				return j
			}
			// "and" joins two streets only in "the corner of X and Y".
			if string(w) == "and" && !st.cornerBefore(i) {
				return j
			}
		}
		lineWords++
		if lineWords > 12 {
			return j
		}
		j++
	}
	return j
}

// cornerBefore reports whether "corner of" opens the address at token i.
func (st *scanState) cornerBefore(i int) bool {
	return i+2 < len(st.toks) && string(foldWord(nil, st.tokText(i))) == "the" &&
		string(foldWord(nil, st.tokText(i+1))) == "corner"
}

// addressGapOK accepts the separators inside an address: blanks, one
// comma or period, and line breaks (with blanks and the '>' of quoted
// mail), at most one blank line.
func addressGapOK(g []byte) bool {
	if len(g) > 24 {
		return false
	}
	nl, punct := 0, 0
	for _, c := range g {
		switch c {
		case ' ', '\t', '\r', '>':
		case '\n':
			nl++
		case ',', '.', '-', '(', ')', '/':
			punct++
		default:
			return false
		}
	}
	return nl <= 2 && punct <= 2
}

// addressAfterCue reports an address right after an address cue
// ("lives at", "address:"): a block that holds a number.
func (st *scanState) addressAfterCue(i int) int {
	j := i + 1
	// Skip ": " and "is" after "address".
	for j < len(st.toks) && j < i+3 {
		w := string(foldWord(st.fold[:0], st.tokText(j)))
		if w == "is" || w == "here" || w == "they" || w == "are" || w == "it" {
			j++
			continue
		}
		break
	}
	if j >= len(st.toks) {
		return i
	}
	g := st.text[st.toks[j-1].end:st.toks[j].start]
	if len(g) > 8 || bytes.ContainsAny(g, "?!;\"") {
		return i
	}
	// "Billing address: Sara Schwarz\n 28245 Puruntie 82": a first line
	// without a number is the addressee; the address starts on the next.
	if st.toks[j].kind&tkHasDigit == 0 {
		k := j
		for k+1 < len(st.toks) && k < j+5 && st.toks[k].kind&tkHasDigit == 0 && bytes.IndexByte(st.gapAfter(k), '\n') < 0 {
			k++
		}
		if k+1 < len(st.toks) && k < j+5 && bytes.IndexByte(st.gapAfter(k), '\n') >= 0 && st.toks[k+1].kind&tkHasDigit != 0 {
			j = k + 1
			st.addresseeLine(j)
		}
	}
	end := st.addressBlock(j)
	end = st.trimAddress(j, end)
	if end <= j || !st.hasDigitToken(j, end) {
		return i
	}
	st.add(Location, int(st.toks[j].start), int(st.toks[end-1].end), 0.6, "address-context")
	return end
}

// trimAddress drops trailing joiners from the block j..end.
func (st *scanState) trimAddress(j, end int) int {
	for end > j {
		t := st.toks[end-1]
		if t.kind&tkHasDigit != 0 || st.nameLike(end-1) {
			break
		}
		w := string(foldWord(st.fold[:0], st.tokText(end-1)))
		if w == "u" || w == "ul" || w == "st" || w == "str" {
			break
		}
		end--
	}
	return end
}

func (st *scanState) hasDigitToken(j, end int) bool {
	for k := j; k < end; k++ {
		if st.toks[k].kind&tkHasDigit != 0 {
			return true
		}
	}
	return false
}

// numberStreetNumber matches the European street line "28245 Puruntie
// 82", "3482 Via Franscini 71", "808 Kálmán Imre u. 12.": a number, one
// to four name words (with address joiners), and a house number, and
// takes the rest of the address block with it.
func (st *scanState) numberStreetNumber(i int) int {
	toks := st.toks
	j := i + 1
	// A second number: "3369 24 Clarke Avenue".
	if j < len(toks) && toks[j].kind&tkDigits != 0 && st.blankGap(j-1) && toks[j].end-toks[j].start <= 4 {
		j++
	}
	words := 0
	for j < len(toks) && words < 5 {
		if !st.blankGap(j-1) && !(st.text[toks[j-1].end] == '.' && int(toks[j].start) <= int(toks[j-1].end)+2) &&
			!(words > 0 && toks[j].start == toks[j-1].end+1 && st.text[toks[j-1].end] == '-') {
			return i
		}
		if st.nameLike(j) {
			if st.wordFlags(j)&nlStop != 0 {
				return i // "5 Musicians Of The 70s": a title
			}
			words++
			j++
			continue
		}
		if toks[j].kind&tkAlpha != 0 && toks[j].kind&tkHasDigit == 0 && addressJoiners[string(foldWord(st.fold[:0], st.tokText(j)))] && words > 0 {
			j++
			continue
		}
		break
	}
	if words == 0 || j >= len(toks) || toks[j].kind&tkHasDigit == 0 || toks[j].end-toks[j].start > 5 {
		return i
	}
	if w := st.tokText(j); toks[j].kind&tkDigits == 0 && !(isDigit(w[0]) && isUpperASCII(w[len(w)-1]) && allDigits(w[:len(w)-1])) {
		return i // a house number, or one with a letter ("12B")
	}
	if !st.blankGap(j-1) && st.text[toks[j-1].end] != '.' {
		return i
	}
	end := st.trimAddress(i, st.addressBlock(i))
	if end <= j {
		return i
	}
	st.add(Location, int(toks[i].start), int(toks[end-1].end), 0.65, "address")
	st.addresseeLine(i)
	return end
}

// placeAfterCue reports the place name after a place cue ("flew to
// LEPPEN", "grew up in Villafranca del Cid").
func (st *scanState) placeAfterCue(i int) int {
	toks := st.toks
	j := i + 1
	if j < len(toks) && st.text[toks[i].end] == ':' {
		// "Where: UPTON SCUDAMORE Country Club"
	} else if j >= len(toks) || !st.blankGap(i) {
		return i
	}
	end := j
	for end < len(toks) && end < j+5 {
		if end > j && !st.blankGap(end-1) {
			break
		}
		if st.nameLike(end) {
			fl := st.wordFlags(end)
			if fl&nlStop != 0 && fl&nlPlace == 0 {
				break
			}
			end++
			continue
		}
		w := string(foldWord(st.fold[:0], st.tokText(end)))
		if end > j && end+1 < len(toks) && (w == "de" || w == "del" || w == "la" || w == "las" || w == "los" || w == "do" || w == "da" || w == "of" || w == "nad" || w == "am" || w == "sur") &&
			st.blankGap(end) && (st.nameLike(end+1) || end+2 < len(toks) && isArticle(st.tokText(end+1)) && st.nameLike(end+2)) {
			end++
			continue
		}
		if end > j && isArticle(st.tokText(end)) && end+1 < len(toks) && st.nameLike(end+1) && st.blankGap(end) {
			end++
			continue
		}
		break
	}
	if end == j {
		return i
	}
	// "Country Club", "Hotel": a venue named after the place.
	for end-1 > j && orgWordSet[string(foldWord(st.fold[:0], st.tokText(end-1)))] {
		end--
	}
	if string(foldWord(st.fold[:0], st.tokText(end-1))) == "country" {
		end--
	}
	if end <= j {
		return i
	}
	st.add(Location, int(toks[j].start), int(toks[end-1].end), 0.6, "place-context")
	return end
}

// yieldToOthers splits the LOCATION findings of this pass (from on) around
// the findings of the earlier passes they overlap: a postal code or a
// phone number inside an address block keeps its own entity, and the
// address keeps the words around it. Address findings are few, so the
// earlier findings are sorted only when there is one.
func (st *scanState) yieldToOthers(from int) {
	f := st.found
	any := false
	for i := from; i < len(f); i++ {
		if f[i].Entity == Location && f[i].End-f[i].Start > 12 {
			any = true
			break
		}
	}
	if !any || from == 0 {
		return
	}
	spans := st.spanBuf[:0]
	for _, x := range f[:from] {
		spans = append(spans, [2]int{x.Start, x.End})
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	st.spanBuf = spans
	n := len(f)
	for i := from; i < n; i++ {
		x := f[i]
		if x.Entity != Location {
			continue
		}
		// The earlier findings that start before x ends, from the first
		// that may overlap it.
		k, _ := slices.BinarySearchFunc(spans, x.Start, func(a [2]int, s int) int { return a[0] - s })
		for k > 0 && spans[k-1][1] > x.Start {
			k--
		}
		pos := x.Start
		cut := false
		for ; k < len(spans) && spans[k][0] < x.End; k++ {
			sp := spans[k]
			if sp[1] <= x.Start {
				continue
			}
			cut = true
			if s, e := trimSpan(st.text, pos, sp[0]); e > s {
				y := x
				y.Start, y.End = s, e
				f = append(f, y)
			}
			pos = max(pos, sp[1])
		}
		if !cut {
			continue
		}
		if s, e := trimSpan(st.text, pos, x.End); e > s {
			x.Start, x.End = s, e
			f[i] = x
		} else {
			f[i].Entity = "" // dropped below
		}
	}
	k := from
	for i := from; i < len(f); i++ {
		if f[i].Entity != "" {
			f[k] = f[i]
			k++
		}
	}
	st.found = f[:k]
}

// trimSpan narrows text[s:e] to its first and last letter or digit; it
// returns e <= s when there is none.
func trimSpan(text []byte, s, e int) (int, int) {
	for s < e && !isWordByte(text[s]) {
		s++
	}
	for e > s && !isWordByte(text[e-1]) {
		e--
	}
	return s, e
}

// whereLabel reports whether token i is the label "Where:".
func (st *scanState) whereLabel(i int) bool {
	t := st.toks[i]
	return t.end-t.start == 5 && int(t.end) < len(st.text) && st.text[t.end] == ':' && hasPrefixFold(st.text[t.start:], "where")
}

// postalLead holds, per ASCII byte, whether it is the first ([0]) or
// second ([1]) letter of one of postalBox's words.
var postalLead = func() (t [128][2]bool) {
	for _, w := range []string{"psc", "unit", "box", "cmr", "apo", "fpo", "dpo", "usns", "usnv", "uss", "uscgc"} {
		t[w[0]][0], t[w[1]][1] = true, true
	}
	return t
}()

// postalBox matches the box and military addresses of postal standards:
// "PSC 0413, Box 8144\nAPO AA 42323", "USNS Møller\nFPO AA 85844", "Unit
// 1009 Box 0219\nDPO AP 51065", "P.O. Box 242". Token i is the first
// word; it returns the token after the block, or i.
func (st *scanState) postalBox(i int) int {
	toks := st.toks
	if i+1 >= len(toks) {
		return i
	}
	// Most words cannot fold to one of the words below: look at their
	// two first bytes (one from 0x80 on may fold to a letter) first.
	if w := st.tokText(i); len(w) < 3 || w[0] < 0x80 && !postalLead[lowerASCII[w[0]]&0x7F][0] || w[1] < 0x80 && !postalLead[lowerASCII[w[1]]&0x7F][1] {
		return i
	}
	w := string(foldWord(st.fold[:0], st.tokText(i)))
	next := toks[i+1]
	switch w {
	case "psc", "unit", "box", "cmr":
		if next.kind&tkDigits == 0 || !st.blankGap(i) {
			return i
		}
		if w == "box" && i >= 2 && string(foldWord(st.fold[:0], st.tokText(i-1))) == "o" && string(foldWord(st.fold[:0], st.tokText(i-2))) == "p" {
			i -= 2 // P.O. Box
		}
	case "apo", "fpo", "dpo":
		n := st.tokText(i + 1)
		if len(n) != 2 || n[0] != 'A' || (n[1] != 'A' && n[1] != 'E' && n[1] != 'P') {
			return i
		}
	case "usns", "usnv", "uss", "uscgc":
		if !st.nameLike(i+1) || !st.blankGap(i) {
			return i
		}
	default:
		return i
	}
	end := st.trimAddress(i, st.addressBlock(i))
	if end <= i+1 {
		return i
	}
	st.add(Location, int(toks[i].start), int(toks[end-1].end), 0.65, "postal-box")
	return end
}

// addresseeLine reports the person's name on the line that ends just
// before token k (the first token of an address line): "Billing address:
// Sara Schwarz\n 28245 …", "Maureen Thibault\n\n41086 …". The line must
// hold two to four name words (initials allowed) and nothing else.
func (st *scanState) addresseeLine(k int) {
	if k == 0 || !st.s.enabled[entityIndex(Person)] {
		return
	}
	g := st.gapAfter(k - 1)
	if bytes.Count(g, []byte{'\n'}) == 0 || bytes.Count(g, []byte{'\n'}) > 2 {
		return
	}
	end := k // the name is toks[s:end]
	s := end
	for s > 0 && end-s < 5 {
		if s < end && bytes.IndexByte(st.gapAfter(s-1), '\n') >= 0 {
			break
		}
		if s < end && bytes.IndexByte(st.gapAfter(s-1), ':') >= 0 {
			break
		}
		if s < end && !st.nameGap(s-1) && !st.initialGap(s-1) {
			return
		}
		s--
	}
	if s > 0 && bytes.IndexByte(st.gapAfter(s-1), '\n') < 0 {
		// s stopped at a label's colon: the name starts after it.
		// The line starts after a label ("Billing address: ").
		if st.text[st.toks[s-1].end] != ':' {
			return
		}
	}
	if s == end {
		return
	}
	if !st.personWords(s, end) {
		return
	}
	st.add(Person, int(st.toks[s].start), int(st.toks[end-1].end), 0.6, "addressee")
}

// personWords reports whether tokens s..end-1 may form a person's name:
// two to four capitalised words or initials, none a common word, place,
// street or organisation word, the last one not an initial.
func (st *scanState) personWords(s, end int) bool {
	if end-s < 2 || end-s > 4 {
		return false
	}
	for k := s; k < end; k++ {
		w := st.tokText(k)
		if len(w) == 1 && isUpperASCII(w[0]) && k < end-1 {
			continue
		}
		if !st.capitalized(k) {
			return false
		}
		fl := st.wordFlags(k)
		if fl&(nlFirst|nlLast) == 0 && (fl&(nlStop|nlPlace|nlStreet|nlSuffix|nlUnit|nlIntro) != 0 || st.orgWord(k)) {
			return false
		}
	}
	return true
}

// lineHasNumber reports whether the line that starts at token j holds a
// number token.
func (st *scanState) lineHasNumber(j int) bool {
	for k := j; k < len(st.toks) && k < j+8; k++ {
		if k > j && bytes.IndexByte(st.gapAfter(k-1), '\n') >= 0 {
			return false
		}
		if st.toks[k].kind&tkHasDigit != 0 {
			return true
		}
	}
	return false
}

func isArticle(w []byte) bool {
	switch string(w) {
	case "la", "las", "los", "le", "les", "el":
		return true
	}
	return false
}
