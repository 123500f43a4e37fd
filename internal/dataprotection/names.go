package dataprotection

import (
	"bufio"
	"bytes"
	_ "embed"
	"strings"
	"sync"
)

//go:embed lists/first_names.txt
var firstNamesTxt []byte

//go:embed lists/surnames.txt
var surnamesTxt []byte

//go:embed lists/places.txt
var placesTxt []byte

// Flags of a word in the name lists.
const (
	nlFirst = 1 << iota
	nlLast
	nlPlace     // a place name, or the first word of one
	nlStop      // a capitalised word that never starts or continues a name
	nlStreet    // a street-type word (Calle, Street…)
	nlIntro     // a word after which a name follows (llamo, name is…)
	nlHonorific // Sr., Mr., Dña.
	nlSuffix    // a street-type word that follows the name (Street, St, Road)
	nlUnit      // Apt, Suite, Flat, Piso
)

// nameLists holds the folded words of the embedded lists.
type nameLists struct {
	words  map[string]uint16
	table  *wordTable      // words, for lookups without allocation
	places map[string]bool // folded multi-word place names
	maxPl  int             // most words in a place name
}

var loadNameLists = sync.OnceValue(func() *nameLists {
	nl := &nameLists{words: make(map[string]uint16, 4096), places: make(map[string]bool, 1024)}
	addWords := func(txt []byte, flag uint16) {
		sc := bufio.NewScanner(bytes.NewReader(txt))
		for sc.Scan() {
			line := sc.Bytes()
			if len(line) == 0 || line[0] == '#' {
				continue
			}
			for _, w := range bytes.Fields(line) {
				nl.words[string(foldWord(nil, w))] |= flag
			}
		}
	}
	addWords(firstNamesTxt, nlFirst)
	addWords(surnamesTxt, nlLast)
	sc := bufio.NewScanner(bytes.NewReader(placesTxt))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(string(foldWord(nil, []byte(line))))
		nl.places[strings.Join(f, " ")] = true
		nl.words[f[0]] |= nlPlace
		if len(f) > nl.maxPl {
			nl.maxPl = len(f)
		}
	}
	for _, w := range strings.Fields(stopWords) {
		nl.words[w] |= nlStop
	}
	for _, w := range strings.Fields("calle c avenida avda av plaza pza paseo camino carretera ronda travesia glorieta via rua rue avenue boulevard") {
		nl.words[w] |= nlStreet
	}
	for _, w := range strings.Fields("street st avenue ave road rd lane ln boulevard blvd drive dr way court ct place pl square squares sq terrace crescent close gardens park parkway highway hwy row hill str") {
		nl.words[w] |= nlSuffix
	}
	for _, w := range strings.Fields(streetSuffixWords) {
		nl.words[w] |= nlSuffix
	}
	for _, w := range strings.Fields("apt apartment suite flat unit piso puerta planta") {
		nl.words[w] |= nlUnit
	}
	for _, w := range strings.Fields("llamo nombre name soy am i'm im sr sra srta mr mrs ms miss dr dra don dona senor senora habla atiende speaking") {
		nl.words[w] |= nlIntro
	}
	for _, w := range strings.Fields("sr sra srta mr mrs ms miss dr dra don dona senor senora") {
		nl.words[w] |= nlHonorific
	}
	nl.table = newWordTable(nl.words)
	return nl
})

// stopWords are capitalised words that begin sentences or name things
// other than people: they end a name.
const stopWords = `el la los las un una de del y o en por para con sin que se su mi tu es son hola buenos buenas gracias vale si no bueno pues
the a an and or of in on at to for from with by is are was were be this that these those my your his her our their it its he she we they you i
hello hi dear thanks thank yes no ok okay please sir madam mr mrs ms dr sr sra agente cliente agent customer caller
monday tuesday wednesday thursday friday saturday sunday lunes martes miercoles jueves viernes sabado domingo
january february march april may june july august september october november december enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre
inc ltd llc sa sl corp company bank banco street calle avenue avenida road`

// wordFlags returns the list flags of token i. The name rules ask about
// the same word several times (the main loop, then titleCaseName and
// singleName): the last answers are kept by token index (reset by every
// scan).
func (st *scanState) wordFlags(i int) uint16 {
	c := &st.nlCache[i&3]
	if c.tok != int32(i)+1 {
		c.tok, c.x = int32(i)+1, st.s.names.table.getFolded(st.tokText(i), &st.fold)
	}
	return c.x
}

// orgWord reports whether token i, folded, is one of orgWords.
func (st *scanState) orgWord(i int) bool {
	return orgWordTable.getFolded(st.tokText(i), &st.orgFold) != 0
}

// foldFlags is wordFlags that also leaves token i folded in st.fold.
func (st *scanState) foldFlags(i int) uint16 {
	var h uint32
	st.fold, h = foldHash(st.fold[:0], st.tokText(i))
	return st.s.names.table.get(st.fold, h)
}

// capitalized reports whether token i starts with an upper-case letter
// (ASCII or Latin-1) and has a lower-case letter after it: a word of two
// bytes or more, without digits, whose last byte is a lower-case ASCII
// letter or not ASCII. The tokenizer marks such words tkCap.
func (st *scanState) capitalized(i int) bool {
	return st.toks[i].kind&tkCap != 0
}

// nameGap reports whether tokens i and i+1 are separated by one blank.
func (st *scanState) nameGap(i int) bool {
	return uint(i) < uint(len(st.toks)) && st.toks[i].kind&tkSp1 != 0
}

// scanNames finds PERSON and LOCATION with the embedded lists and context.
func (st *scanState) scanNames() {
	doPerson, doLoc := st.s.enabled[entityIndex(Person)], st.s.enabled[entityIndex(Location)]
	if !doPerson && !doLoc {
		return
	}
	toks := st.toks
	if doPerson {
		st.speakerNames()
		st.signatureName()
	}
	if doLoc {
		from := len(st.found)
		defer func() {
			st.mergeAddressBlocks(from)
			st.yieldToOthers(from)
		}()
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind&tkDigits != 0 {
			if doLoc && t.end-t.start <= 6 && i+2 < len(toks) && st.text[t.end] == ' ' && (toks[i+1].kind&tkDigits != 0 || st.nameLike(i+1)) && st.blankGap(i) {
				if j := st.numberStreetNumber(i); j > i {
					i = j - 1
					continue
				}
			}
			if doLoc && t.end-t.start <= 5 && i+2 < len(toks) && st.nameGap(i) && st.capitalized(i+1) {
				if j := st.streetNumberFirst(i); j > i {
					i = j - 1
				}
			}
			continue
		}
		if t.kind&tkAlpha == 0 || t.kind&tkHasDigit != 0 {
			continue
		}
		if doLoc && i+1 < len(toks) {
			var place, address bool
			if t.kind&tkCue != 0 {
				place, address = st.cueAt(i) // most words pass no cue's filter
			}
			if address || place || t.end-t.start == 5 && st.whereLabel(i) {
				if address {
					if j := st.addressAfterCue(i); j > i {
						i = j - 1
						continue
					}
				}
				if place || st.whereLabel(i) {
					if j := st.placeAfterCue(i); j > i {
						i = j - 1
						continue
					}
				}
			}
		}
		if doLoc && t.end-t.start <= 5 && t.kind&tkUpper != 0 {
			if j := st.postalBox(i); j > i {
				i = j - 1
				continue
			}
		}
		capital := st.capitalized(i)
		if capital && doLoc && i+1 < len(toks) && toks[i+1].kind&tkDigits != 0 && st.nameGap(i) && toks[i+1].end-toks[i+1].start <= 4 {
			st.fold = foldWord(st.fold[:0], st.tokText(i))
			if europeanStreet(st.fold) {
				st.add(Location, int(t.start), int(toks[i+1].end), 0.7, "address")
				i++
				continue
			}
		}
		if !capital && !introWord(st.text[t.start:t.end]) {
			continue
		}
		if capital && doPerson && i+2 < len(toks) {
			if g := st.gapAfter(i); len(g) == 2 && g[0] == ',' && g[1] == ' ' {
				if j := st.nameSequence(i); j > i {
					i = j - 1
					continue
				}
			}
		}
		fl := st.wordFlags(i)
		if fl == 0 {
			if capital && doPerson {
				if j := st.titleCaseName(i); j > i {
					i = j - 1
				} else if st.singleName(i) {
					st.add(Person, int(t.start), int(t.end), 0.5, "name-context")
				}
			}
			continue
		}
		if fl&nlIntro != 0 && doPerson && i+1 < len(toks) {
			if j := st.personAfterIntro(i); j > i {
				i = j - 1
				continue
			}
		}
		if !capital {
			continue
		}
		if fl&nlStreet != 0 && doLoc {
			if j := st.address(i); j > i {
				i = j - 1
				continue
			}
		}
		if fl&nlUnit != 0 && doLoc && i+1 < len(toks) && toks[i+1].kind&tkHasDigit != 0 && int(toks[i+1].start)-int(t.end) <= 2 {
			// "Apt. 864", "Suite 501".
			st.add(Location, int(t.start), int(toks[i+1].end), 0.6, "address-unit")
			i++
			continue
		}
		if fl&nlPlace != 0 && doLoc {
			if j := st.place(i); j > i {
				i = j - 1
				continue
			}
		}
		if fl&nlStop == 0 && doLoc && i > 0 && toks[i-1].kind&tkDigits != 0 && toks[i-1].end-toks[i-1].start == 5 && st.nameGap(i-1) {
			// "28013 Madrid": the town after a postal code.
			j := i + 1
			for j < len(toks) && j < i+3 && st.nameGap(j-1) && st.capitalized(j) {
				j++
			}
			st.add(Location, int(t.start), int(toks[j-1].end), 0.7, "after-postal-code")
			i = j - 1
			continue
		}
		if fl&nlFirst == 0 && fl&nlStop == 0 && fl&nlLast != 0 && doPerson && i > 0 && st.nameGap(i-1) && st.capitalized(i-1) {
			// An unknown capitalised word before a known surname.
			if pf := st.wordFlags(i - 1); pf&(nlStop|nlPlace|nlStreet) == 0 {
				j := st.extendName(i + 1)
				st.add(Person, int(toks[i-1].start), int(toks[j-1].end), 0.7, "surname-list")
				i = j - 1
				continue
			}
		}
		if fl&nlFirst == 0 && fl&nlStop == 0 && fl&nlLast != 0 && doPerson && st.singleName(i) {
			// A known surname alone, in a person's context.
			st.add(Person, int(t.start), int(t.end), 0.6, "surname-context")
			continue
		}
		if fl&nlFirst != 0 && fl&nlStop == 0 && doPerson {
			j := st.extendName(i + 1)
			score := 0.55
			if j > i+1 {
				score = 0.85
			}
			st.add(Person, int(t.start), int(toks[j-1].end), score, "name-list")
			i = j - 1
		}
	}
}

// speakerNames reports chat and transcript speaker labels that are names:
// a capitalised word (not a role like "Agente") at a line start, maybe
// after a [timestamp], followed by a colon.
func (st *scanState) speakerNames() {
	text := st.text
	toks := st.toks
	nls, k := st.newlines(), 0
	ti := 0
	var labels [][2]int
	// The two last labels decided, and whether each is a name: a dialogue
	// alternates two speakers.
	var lastLabel, prevLabel []byte
	lastIsName, prevIsName := false, false
	defer func() {
		// A name is a speaker when it speaks at least twice: form fields
		// ("Phone:", "Address:") appear once.
		if len(labels) < 2 {
			return
		}
		seen := make(map[string]int, len(labels))
		for _, l := range labels {
			seen[string(text[l[0]:l[1]])]++
		}
		// Three speakers or more in turn: a dialogue, where every label
		// is a name even when it speaks once.
		dialogue := len(seen) >= 3
		for _, l := range labels {
			if dialogue || seen[string(text[l[0]:l[1]])] >= 2 {
				st.add(Person, l[0], l[1], 0.6, "speaker-label")
			}
		}
	}()
	for ls := 0; ls < len(text); {
		p := ls
		if p < len(text) && text[p] == '[' {
			for p < len(text) && p-ls < 24 && text[p] != ']' && text[p] != '\n' {
				p++
			}
			if p < len(text) && text[p] == ']' {
				p++
				for p < len(text) && text[p] == ' ' {
					p++
				}
			}
		}
		// Only a capitalised word opens a label: other lines need not find
		// their first token (ti catches up on the next label line).
		if p < len(text) && (text[p] >= 'A' && text[p] <= 'Z' || text[p] == 0xC3) {
			// Lines hold a dozen tokens: stride over them to the line's start.
			for ti+8 < len(toks) && int(toks[ti+8].start) < p {
				ti += 8
			}
			for ti < len(toks) && int(toks[ti].start) < p {
				ti++
			}
			if ti < len(toks) && int(toks[ti].start) == p && int(toks[ti].end) < len(text) && text[toks[ti].end] == ':' && st.capitalized(ti) {
				// Transcripts repeat the same few labels: decide each once.
				label := text[p:toks[ti].end]
				switch {
				case string(label) == string(lastLabel):
				case prevLabel != nil && string(label) == string(prevLabel):
					lastLabel, prevLabel = prevLabel, lastLabel
					lastIsName, prevIsName = prevIsName, lastIsName
				default:
					fl := st.foldFlags(ti)
					prevLabel, prevIsName = lastLabel, lastIsName
					lastLabel, lastIsName = label, fl&(nlStop|nlPlace|nlStreet) == 0 && !roleWord(st.fold)
				}
				if lastIsName {
					labels = append(labels, [2]int{p, int(toks[ti].end)})
				}
			}
		}
		st.mailHeaderName(ls)
		// The next line starts after the first line break from p on.
		for k < len(nls) && int(nls[k]) < p {
			k++
		}
		if k == len(nls) {
			break
		}
		ls = int(nls[k]) + 1
	}
}

func roleWord(w []byte) bool {
	switch string(w) {
	case "agente", "agent", "cliente", "customer", "client", "caller", "operador", "operator", "bot", "sistema", "system",
		"asesor", "advisor", "usuario", "user", "speaker", "note", "nota", "from", "to", "subject", "cc", "date", "re", "fwd",
		"asunto", "para", "de", "fecha", "http", "https", "tel", "email", "mail", "iban", "dni", "nif", "nie", "cvv",
		"name", "phone", "address", "website", "web", "mobile", "fax", "office", "when", "where", "company", "title", "position",
		"account", "card", "amount", "total", "order", "ref", "reference", "status", "priority", "ticket", "answer", "question",
		"personal", "info", "nombre", "telefono", "direccion", "correo", "movil", "cuenta", "tarjeta", "importe", "pedido",
		"estado", "summary", "resumen", "notes", "comment", "comments", "result", "reason", "motivo", "q", "a", "id", "ip", "url":
		return true
	}
	return false
}

// extendName extends a name over following capitalised words that are
// surnames, first names, or not in any list; it returns the end token.
func (st *scanState) extendName(j int) int {
	for n := 0; n < 3 && j < len(st.toks) && st.nameGap(j-1) && st.capitalized(j); n++ {
		fl := st.wordFlags(j)
		if fl&(nlStop|nlPlace|nlStreet|nlSuffix) != 0 && fl&(nlLast|nlFirst) == 0 {
			break
		}
		j++
		// "de", "del", "de la" inside Spanish surnames.
		if j+1 < len(st.toks) && st.nameGap(j-1) {
			w := st.tokText(j)
			if (string(w) == "de" || string(w) == "del") && st.nameGap(j) && st.capitalized(j+1) && st.wordFlags(j+1)&nlLast != 0 {
				j++
			}
		}
	}
	return j
}

// personAfterIntro handles "me llamo Ana", "my name is John Smith", "soy
// Pedro", "Sr. García": the name follows the intro word.
func (st *scanState) personAfterIntro(i int) int {
	toks := st.toks
	w := string(foldWord(st.fold[:0], st.tokText(i)))
	j := i + 1
	switch w {
	case "name", "nombre":
		// "name is", "nombre es", and the answer after "name?".
		if g := st.gapAfter(i); len(g) == 2 && g[0] == '?' && g[1] == ' ' {
			break
		}
		if j+1 >= len(toks) || !st.nameGap(i) {
			return i
		}
		nw := string(foldWord(st.fold[:0], st.tokText(j)))
		if nw != "is" && nw != "es" && nw != "was" {
			return i
		}
		j++
	case "am":
		if i == 0 || string(foldWord(st.fold[:0], st.tokText(i-1))) != "i" {
			return i
		}
	case "soy", "habla", "atiende", "speaking":
	case "llamo":
	default:
		if st.wordFlags(i)&nlHonorific == 0 {
			return i
		}
	}
	if j >= len(toks) {
		return i
	}
	if g := st.gapAfter(j - 1); !(len(g) == 1 && g[0] == ' ' || len(g) == 2 && g[0] == '.' && g[1] == ' ' && w != "name" && w != "nombre" ||
		len(g) == 2 && g[0] == '?' && g[1] == ' ' && (w == "name" || w == "nombre") && st.capitalized(j)) {
		return i
	}
	// After "my name is" / "me llamo" / "mi nombre es" a name follows even
	// in lower case (ASR output, chat); after weaker intros it must be
	// capitalised or in the lists.
	strong := w == "name" || w == "nombre" || w == "llamo"
	plainWord := func(k int) bool {
		t := toks[k]
		return t.kind&tkHasDigit == 0 && t.kind&tkAlpha != 0 && t.end-t.start >= 2
	}
	fl := st.wordFlags(j)
	switch {
	case !plainWord(j):
		return i
	case st.capitalized(j):
		if fl&nlStop != 0 && fl&(nlFirst|nlLast) == 0 {
			return i
		}
	case fl&(nlFirst|nlLast) != 0:
	case strong && fl&(nlStop|nlIntro) == 0:
	default:
		return i
	}
	end := j + 1
	for n := 0; n < 3 && end < len(toks) && st.nameGap(end-1); n++ {
		fl2 := st.wordFlags(end)
		if st.capitalized(end) && (fl2&nlStop == 0 || fl2&(nlFirst|nlLast) != 0) || fl2&nlLast != 0 ||
			strong && plainWord(end) && !st.capitalized(end) && fl2&(nlStop|nlIntro) == 0 && n < 2 {
			end++
			continue
		}
		break
	}
	st.add(Person, int(toks[j].start), int(toks[end-1].end), 0.85, "context")
	return end
}

// place matches the longest place name from the list at token i.
func (st *scanState) place(i int) int {
	toks := st.toks
	var key []byte
	best := 0
	for n := 0; n < st.s.names.maxPl && i+n < len(toks); n++ {
		if n > 0 {
			g := st.text[toks[i+n-1].end:toks[i+n].start]
			if len(g) != 1 || g[0] != ' ' && g[0] != '-' {
				break
			}
			key = append(key, ' ')
		}
		key = foldWord(key, st.tokText(i+n))
		if st.s.names.places[string(key)] {
			best = n + 1
		}
	}
	if best == 0 {
		return i
	}
	end := i + best
	// "Cyprus 36903": a postal code after the country or town.
	if end < len(toks) && st.nameGap(end-1) && toks[end].kind&tkDigits != 0 && toks[end].end-toks[end].start >= 4 && toks[end].end-toks[end].start <= 6 {
		end++
	}
	// "\n LONDON\n United Kingdom": a town line in capitals just before.
	start := i
	if i > 0 && st.allCapsLine(i-1) {
		start = i - 1
	}
	st.add(Location, int(toks[start].start), int(toks[end-1].end), 0.7, "place-list")
	return end
}

// allCapsLine reports whether token k is a word of three or more capital
// letters alone on its line, as towns are written in postal addresses.
func (st *scanState) allCapsLine(k int) bool {
	t := st.toks[k]
	w := st.text[t.start:t.end]
	if len(w) < 3 || t.kind&tkHasDigit != 0 {
		return false
	}
	for _, c := range w {
		if c >= 'a' && c <= 'z' {
			return false
		}
	}
	before := st.text[max(0, int(t.start)-3):t.start]
	after := st.text[t.end:min(len(st.text), int(t.end)+3)]
	return bytes.IndexByte(before, '\n') >= 0 && bytes.IndexByte(after, '\n') >= 0
}

// address matches "Calle Mayor 5", "C/ Alcalá 23", "Avenida de la
// Constitución, 12" and English "221B Baker Street".
func (st *scanState) address(i int) int {
	toks := st.toks
	j := i + 1
	for n := 0; n < 5 && j < len(toks); n++ {
		g := st.text[toks[j-1].end:toks[j].start]
		if len(g) > 2 || bytes.IndexByte(g, '\n') >= 0 {
			break
		}
		w := st.tokText(j)
		if st.capitalized(j) || string(w) == "de" || string(w) == "del" || string(w) == "la" || string(w) == "los" || string(w) == "las" {
			j++
			continue
		}
		break
	}
	if j == i+1 || j >= len(toks) {
		return i
	}
	g := st.text[toks[j-1].end:toks[j].start]
	if len(g) > 3 || toks[j].kind&tkHasDigit == 0 {
		return i
	}
	end := j + 1
	st.add(Location, int(toks[i].start), int(toks[end-1].end), 0.8, "address")
	return end
}

// streetNumberFirst matches "221 Baker Street", "1668 Glyn St": a house
// number, one to four capitalised words and a street-type word. It runs
// from the number token i and returns the token after the match, or i.
func (st *scanState) streetNumberFirst(i int) int {
	toks := st.toks
	j := i + 1
	for n := 0; n < 4 && j < len(toks); n++ {
		if !st.nameGap(j-1) || !st.capitalized(j) {
			return i
		}
		if st.wordFlags(j)&nlSuffix != 0 && n > 0 {
			st.add(Location, int(toks[i].start), int(toks[j].end), 0.75, "address")
			return j + 1
		}
		j++
	}
	return i
}

// europeanStreet matches "Puruntie 82", "Allika 46", "Bundesstrasse 31":
// a capitalised word ending like a street name in a European language and
// a house number.
func europeanStreet(w []byte) bool {
	for _, suf := range []string{"tie", "katu", "kuja", "polku", "gatan", "vagen", "vej", "gade", "strasse", "straße", "weg", "laan", "straat", "utca", "ulica", "gasse", "platz", "allee"} {
		if len(w) > len(suf)+2 && string(w[len(w)-len(suf):]) == suf {
			return true
		}
	}
	return false
}

// orgWords end a Title Case run that names an organisation or a thing.
const orgWords = `inc ltd llc plc gmbh corp corporation company co group bank university college school hospital hotel
center centre institute foundation association club team league weekly news journal times post magazine records studios
airlines airways museum library church council ministry department office services solutions systems technologies
international national global partners holdings industries media press radio television tv film festival award awards
prize party republic kingdom united states union federation avenue street road drive lane park river lake mountain
island islands north south east west northern southern eastern western central new old great little saint san santa
mount fort port bay beach valley county state province city town village district region area orchestra associates
investments markets capital transit act day tales pleasures love rights crossing coves pass parks route streets strasse
straße but and or karma impulse band choir quartet trio fund bureau agency network golf tennis yacht country sports
football cricket rugby stadium arena airport`

var orgWordSet = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(orgWords) {
		m[w] = true
	}
	return m
}()

// orgWordTable is orgWordSet as a wordTable, for lookups of a token
// without folding it first.
var orgWordTable = func() *wordTable {
	m := map[string]uint16{}
	for w := range orgWordSet {
		m[w] = 1
	}
	return newWordTable(m)
}()

// titleCaseName takes two or three Title Case words in a row ("Krisztián
// Szöllösy", "Szabina J Gelencsér") that are in no list, not a place and
// not an organisation, as a person's name, with a low score.
func (st *scanState) titleCaseName(i int) int {
	toks := st.toks
	if i > 0 && st.nameGap(i-1) && st.capitalized(i-1) {
		return i
	}
	// At the start of a sentence or a line too many ordinary words are
	// capitalised: there the name needs a cue before it ("Name:", "said")
	// or a verb after it ("… lives at", "… will be talking").
	p := int(toks[i].start) - 1
	for p >= 0 && (st.text[p] == ' ' || st.text[p] == '\t') {
		p--
	}
	atStart := p < 0 || st.text[p] == '.' || st.text[p] == '\n' || st.text[p] == '!' || st.text[p] == '?' || st.text[p] == '"' || st.text[p] == ':'
	j := i
	for j < len(toks) && j < i+3 {
		if j > i && !st.nameGap(j-1) && !st.initialGap(j-1) {
			break
		}
		w := st.tokText(j)
		initial := len(w) == 1 && w[0] >= 'A' && w[0] <= 'Z'
		if !initial && !st.capitalized(j) {
			break
		}
		fl := st.wordFlags(j)
		if fl&(nlStop|nlPlace|nlStreet|nlSuffix|nlUnit|nlIntro) != 0 || st.orgWord(j) {
			return i
		}
		j++
	}
	if j-i < 2 || len(st.tokText(j-1)) == 1 {
		return i
	}
	if j < len(toks) && st.nameGap(j-1) && st.capitalized(j) {
		return i // a longer Title Case run: a title or an organisation
	}
	if j < len(toks) && st.nameGap(j-1) && toks[j].kind&tkDigits != 0 {
		// "Villacher Strasse 31": a street and its number.
		if st.s.enabled[entityIndex(Location)] {
			st.add(Location, int(toks[i].start), int(toks[j].end), 0.6, "address")
		}
		return j + 1
	}
	score := 0.5
	if atStart {
		if !st.personCueBefore(i) && !st.personVerbAfter(j) {
			return i
		}
		score = 0.55
	}
	st.add(Person, int(toks[i].start), int(toks[j-1].end), score, "title-case")
	return j
}

// initialGap reports whether token k is an initial followed by ". " (the
// "D. " of "Faina D. Yefremova").
func (st *scanState) initialGap(k int) bool {
	t := st.toks[k]
	if t.end-t.start != 1 || !isUpperASCII(st.text[t.start]) {
		return false
	}
	g := st.gapAfter(k)
	return len(g) == 2 && g[0] == '.' && g[1] == ' '
}

// personCueBefore reports whether the words before token i announce a
// person: a "Name:" or "By:" label, "said", "assistant to", "Dear".
func (st *scanState) personCueBefore(i int) bool {
	if i == 0 {
		return false
	}
	k := i - 1
	g := st.gapAfter(k)
	label := len(g) > 0 && g[0] == ':'
	w := string(foldWord(st.fold[:0], st.tokText(k)))
	switch w {
	case "name", "user", "nombre", "contact", "contacto", "attn", "attention", "from", "de":
		return label
	case "said", "says", "dear", "estimado", "estimada", "thanks", "gracias", "hi", "hello", "hola", "hey", "called", "starring":
		return !label
	case "me":
		return !label && k > 0 && string(foldWord(st.fold[:0], st.tokText(k-1))) == "call"
	case "by":
		if label {
			return true // "Directed By: …"
		}
		if k == 0 {
			return false
		}
		switch string(foldWord(st.fold[:0], st.tokText(k-1))) {
		case "directed", "written", "sung", "produced", "arranged", "composed", "painted", "signed", "approved":
			return true
		}
		return false
	case "to", "at", "with":
		if k == 0 || label {
			return false
		}
		switch string(foldWord(st.fold[:0], st.tokText(k-1))) {
		case "assistant", "speak", "talk", "talked", "spoke", "shouted", "married", "wrote", "sent", "gave", "given", "belongs", "replied":
			return true
		}
	}
	return false
}

// personVerbAfter reports whether token j, after a name, is a verb that
// people are the subject of, or the name's possessive "'s".
func (st *scanState) personVerbAfter(j int) bool {
	if j >= len(st.toks) {
		return false
	}
	g := st.gapAfter(j - 1)
	if len(g) == 1 && (g[0] == '\'' || g[0] == ',') {
		return g[0] == '\'' && string(st.tokText(j)) == "s"
	}
	if len(g) != 1 || g[0] != ' ' {
		return false
	}
	switch string(foldWord(st.fold[:0], st.tokText(j))) {
	case "lives", "lived", "will", "said", "says", "spent", "shouted", "was", "has", "had", "wrote", "asked", "told",
		"works", "worked", "joined", "called", "went", "arrived", "flew", "grew", "moved", "is", "from", "vive", "dijo", "llamo":
		return true
	}
	return false
}

// introFirst holds the first bytes of introWord's words.
var introFirst = func() (t [256]bool) {
	for _, c := range "lnsamdh" {
		t[c] = true
	}
	return t
}()

// introWord is a cheap test for the lower-case words after which a name
// follows, so most words skip the list lookup.
func introWord(w []byte) bool {
	if len(w) < 2 || len(w) > 7 || !introFirst[w[0]] {
		return false
	}
	switch string(w) {
	case "llamo", "nombre", "name", "soy", "am", "sr", "sra", "srta", "mr", "mrs", "ms", "miss", "dr", "dra", "don",
		"habla", "atiende", "señor", "señora", "doña", "senor", "senora", "dona":
		return true
	}
	return false
}

// mailHeaderName reports the display name of an e-mail header line:
// "From: Ana García <ana@example.com>".
func (st *scanState) mailHeaderName(ls int) {
	text := st.text
	if ls >= len(text) {
		return
	}
	rest := text[ls:min(len(text), ls+200)]
	var hdr string
	switch text[ls] | 0x20 { // the header a line may start by its first letter
	case 'f':
		hdr = "from: "
	case 'p':
		hdr = "para: "
	case 'r':
		hdr = "reply-to: "
	case 't':
		hdr = "to: "
	case 'c':
		hdr = "cc: "
	case 'd':
		hdr = "de: "
	default:
		return // no header this line could start
	}
	if !hasPrefixFold(rest, hdr) {
		return
	}
	n := len(hdr)
	lt := bytes.IndexByte(rest[n:], '<')
	if lt <= 0 {
		return
	}
	name := bytes.TrimSpace(bytes.Trim(rest[n:n+lt], " \""))
	if len(name) < 2 || bytes.IndexByte(name, '\n') >= 0 {
		return
	}
	start := ls + n + bytes.Index(rest[n:], name)
	st.add(Person, start, start+len(name), 0.8, "mail-header")
}

func hasPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if b[i]|0x20 != p[i]|0x20 {
			return false
		}
	}
	return true
}

// mergeAddressBlocks joins the LOCATION findings of one postal address
// ("Koskikatu 25 Apt. 864\nArtilleros\n, CO\n Uruguay 64677") into one
// finding when only short capitalised words, codes and numbers stand
// between them, and takes in a house number just before the first.
// from is the index in st.found where this pass's findings begin.
func (st *scanState) mergeAddressBlocks(from int) {
	text := st.text
	f := st.found
	last := -1
	for i := from; i < len(f); i++ {
		if f[i].Entity != Location {
			continue
		}
		if last >= 0 && f[i].Start >= f[last].End && addressGap(text[f[last].End:f[i].Start]) {
			f[last].End = f[i].End
			f[i].End = f[i].Start // emptied; add() drops nothing, resolve skips it below
			f[i].Entity = ""
			continue
		}
		// A house number before the block: "6750 Koskikatu 25".
		p := f[i].Start
		if f[i].Validator == "address" && p >= 2 && text[p-1] == ' ' && isDigit(text[p-2]) {
			q := p - 2
			for q > 0 && isDigit(text[q-1]) {
				q--
			}
			if p-1-q <= 5 && (q == 0 || !isWordByte(text[q-1])) {
				f[i].Start = q
			}
		}
		last = i
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

// addressGap reports whether the text between two parts of an address is
// short and made of capitalised words, capitals, numbers and punctuation.
func addressGap(g []byte) bool {
	if len(g) > 48 || bytes.Count(g, []byte{'\n'}) > 3 {
		return false
	}
	words := 0
	for i := 0; i < len(g); {
		c := g[i]
		switch {
		case c == ' ' || c == ',' || c == '\n' || c == '.' || c == '\r' || c == '-' || c == '>':
			i++
		case isAlnumASCII(c) || c >= 0x80:
			j := i
			for j < len(g) && (isAlnumASCII(g[j]) || g[j] >= 0x80) {
				j++
			}
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
				return false // a lower-case word (the sentence goes on) or a number (a postal code of its own)
			}
			words++
			if words > 4 {
				return false
			}
			i = j
		default:
			return false
		}
	}
	return bytes.IndexByte(g, '\n') >= 0 || bytes.IndexByte(g, ',') >= 0 || len(g) <= 2
}

// nameSequence reports the names of an enumeration of single capitalised
// words, "Gaetane, Hannah, Anthony and Derek", that starts at token i: at
// least four words, none a common, place, street or organisation word,
// the last after "and" or "y", and not after a preposition ("from
// Hawkins, Richardson and Santana" is a firm). It returns the token after
// the enumeration, or i.
func (st *scanState) nameSequence(i int) int {
	toks := st.toks
	if i > 0 {
		g := st.gapAfter(i - 1)
		if len(g) > 0 && g[0] == ',' {
			return i // not the first item
		}
		switch string(foldWord(st.fold[:0], st.tokText(i-1))) {
		case "from", "at", "of", "with", "for", "by", "in", "to", "de", "en", "con", "para", "por":
			return i
		}
	}
	j := i
	items, last := 0, false
	for j < len(toks) && items < 12 {
		if !st.capitalized(j) {
			return i
		}
		fl := st.wordFlags(j)
		if fl&(nlFirst|nlLast) == 0 && (fl&(nlStop|nlPlace|nlStreet|nlSuffix|nlUnit|nlIntro) != 0 || st.orgWord(j)) {
			return i
		}
		if fl&nlPlace != 0 && fl&(nlFirst|nlLast) == 0 {
			return i
		}
		items++
		j++
		if last || j >= len(toks) {
			break
		}
		g := st.gapAfter(j - 1)
		switch {
		case string(g) == ", ":
			if j+1 < len(toks) && (string(st.tokText(j)) == "and" || string(st.tokText(j)) == "y") && st.nameGap(j) {
				j++
				last = true
			}
		case string(g) == " " && (string(st.tokText(j)) == "and" || string(st.tokText(j)) == "y") && j+1 < len(toks) && st.nameGap(j):
			j++
			last = true
		default:
			return i
		}
	}
	// Three surnames are as often a firm ("Clark, Romero and Hall"):
	// take four or more.
	if !last || items < 4 {
		return i
	}
	for k := i; k < j; k++ {
		if st.capitalized(k) {
			st.add(Person, int(toks[k].start), int(toks[k].end), 0.5, "name-sequence")
		}
	}
	return j
}

// singleName reports whether the capitalised word i, in no list, is a
// person's name by its context: the subject of a verb only people are
// the subject of at the start of a sentence ("Okafor shouted at…",
// "Ilse lives on…"), after "said"/"says" or "shouted at", or one of a
// pair of such words before "were" ("Okafor and Lindqvist were").
func (st *scanState) singleName(i int) bool {
	toks := st.toks
	if st.wordFlags(i)&(nlStop|nlPlace|nlStreet|nlSuffix|nlUnit|nlIntro) != 0 || st.orgWord(i) {
		return false
	}
	if i+1 < len(toks) && (i+1 == len(toks)-1 || !st.capitalized(i+1)) {
		if g := st.gapAfter(i); len(g) == 1 && g[0] == ' ' {
			switch string(foldWord(st.fold[:0], st.tokText(i+1))) {
			case "shouted", "lives", "said", "says", "spent", "wrote", "asked", "told", "began", "replied", "smiled", "laughed", "whispered":
				return true
			case "and":
				// "X and Y were": both capitalised words in no list.
				if i+3 < len(toks) && st.nameGap(i+1) && st.capitalized(i+2) && st.nameGap(i+2) &&
					string(foldWord(st.fold[:0], st.tokText(i+3))) == "were" {
					return st.wordFlags(i+2)&(nlStop|nlPlace|nlStreet|nlSuffix|nlUnit|nlIntro) == 0
				}
			case "were":
				// The second of "X and Y were".
				return i >= 2 && string(st.tokText(i-1)) == "and" && st.capitalized(i-2) && st.nameGap(i-2) && st.nameGap(i-1)
			}
		}
	}
	if i+2 < len(toks) && st.nameGap(i) && st.nameGap(i+1) {
		// "Luiza is from …", "Scott had given …".
		// The two words are compared apart: no string is built.
		st.fold = foldWord(st.fold[:0], st.tokText(i+1))
		st.fold2 = foldWord(st.fold2[:0], st.tokText(i+2))
		switch w1, w2 := string(st.fold), string(st.fold2); {
		case w1 == "is" && (w2 == "from" || w2 == "calling"), (w1 == "had" || w1 == "has") && w2 == "given", w1 == "was" && w2 == "born":
			return true
		}
	}
	if i == 0 || !st.nameGap(i-1) && string(st.gapAfter(i-1)) != ": " {
		return false
	}
	// "says Bergqvist.", "said Gladys to Logan", "shouted at Tiffany:",
	// "Hi Freddy,", "people call me Csanád", "directed by Key".
	return st.personCueBefore(i)
}

// signatureName reports the name that opens a signature or a contact
// card: a first line (maybe quoted with '>') that holds only two to four
// name words, followed by more lines.
func (st *scanState) signatureName() {
	text := st.text
	p := 0
	for p < len(text) && p < 8 && (text[p] == '>' || text[p] == ' ' || text[p] == '\n' || text[p] == '?') {
		p++
	}
	nl := bytes.IndexByte(text[p:min(len(text), p+80)], '\n')
	if nl < 0 {
		return
	}
	i := 0
	for i < len(st.toks) && int(st.toks[i].start) < p {
		i++
	}
	end := i
	for end < len(st.toks) && int(st.toks[end].end) <= p+nl {
		end++
	}
	if end == i || int(st.toks[end-1].end) != p+nl && bytes.TrimSpace(text[st.toks[end-1].end:p+nl]) != nil && len(bytes.TrimSpace(text[st.toks[end-1].end:p+nl])) > 0 {
		return
	}
	for k := i; k+1 < end; k++ {
		if !st.nameGap(k) && !st.initialGap(k) {
			return
		}
	}
	if st.personWords(i, end) {
		st.add(Person, int(st.toks[i].start), int(st.toks[end-1].end), 0.5, "signature")
	}
}
