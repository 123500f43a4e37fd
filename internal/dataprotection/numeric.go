package dataprotection

import (
	"math/bits"
	"strconv"

	"github.com/nyaruka/phonenumbers"
)

// unit is one group of a number run: a written digit group or a spoken
// compound ("seiscientos doce" → 612), with its place in the text.
type unit struct {
	start, end int // byte span of the words or digits
	d0, d1     int // its digits in scanState.digits
	spoken     bool
	gap        byte // separator before it: ' ', '-', '.', '/', ',' or 'T' for a new turn
	next       int  // index of the token after it
}

const maxRunDigits = 40

func (st *scanState) scanTokens() {
	toks := st.toks
	for i := 0; i < len(toks); {
		t := toks[i]
		if t.kind&tkDigits != 0 && t.end-t.start <= 2 && st.loneShortNumber(i) {
			i++ // one or two digits that start no longer run: nothing to find
			continue
		}
		if t.kind&tkDigits != 0 || t.kind&tkNumWord != 0 && st.isNumberWord(i) {
			if next := st.numeric(i); next > i {
				i = next
				continue
			}
		}
		if t.kind&tkAlpha != 0 && t.end-t.start <= 34 && (t.kind&tkHasDigit != 0 || st.alnumLead(i)) {
			if next := st.alnum(i); next > i {
				i = next
				continue
			}
		}
		i++
	}
}

// loneShortNumber reports whether the digit token i (one or two digits)
// is a number run of its own, as collect would find it: the next token
// is neither written digits after a written separator nor a number word,
// or a line break follows (a run goes on into the next turn only after
// three digits or more). Such a run is too short for every validator.
func (st *scanState) loneShortNumber(i int) bool {
	if i+1 >= len(st.toks) {
		return true
	}
	nt := st.toks[i+1]
	g := st.text[st.toks[i].end:nt.start]
	for _, c := range g {
		if c == '\n' {
			return true
		}
	}
	if nt.kind&tkDigits != 0 {
		_, ok := writtenGap(g)
		return !ok
	}
	return nt.kind&tkNumWord == 0
}

// wordKind classifies token i as a number word. The spoken-number parser
// asks about the same few tokens again and again: the last answers are
// kept in a small cache, keyed by token index (reset by every scan).
func (st *scanState) wordKind(i int) (kind, val int) {
	t := st.toks[i]
	if t.kind&tkNumWord == 0 {
		return nwNone, 0 // the tokenizer's prefilter
	}
	c := &st.nwCache[i&3]
	if c.tok != int32(i)+1 {
		c.tok, c.x = int32(i)+1, st.s.numWords.getFolded(st.text[t.start:t.end], &st.fold)
	}
	return int(c.x >> 10), int(c.x & 1023)
}

// nwEntry is one answer of the caches of wordKind and wordFlags.
type nwEntry struct {
	tok int32  // token index plus one; 0 when empty
	x   uint16 // the answer: a number-word entry (kind<<10 | value), or list flags
}

// isNumberWord reports whether token i can start a spoken number.
func (st *scanState) isNumberWord(i int) bool {
	k, _ := st.wordKind(i)
	switch k {
	case nwDigit, nwTeen, nwTens, nwHundreds, nwRepeat, nwThousand:
		return true
	case nwOh: // "oh" is a zero only among other number words
		if i+1 < len(st.toks) {
			if _, ok := spokenGap(st.gapAfter(i)); ok {
				k2, _ := st.wordKind(i + 1)
				return k2 == nwDigit || k2 == nwTeen || k2 == nwTens || k2 == nwRepeat || k2 == nwOh
			}
		}
	}
	return false
}

// gapAt returns the bytes between tokens i and i+1.
func (st *scanState) gapAfter(i int) []byte {
	if i+1 >= len(st.toks) {
		return nil
	}
	return st.text[st.toks[i].end:st.toks[i+1].start]
}

// spaceGap reports whether tokens i and i+1 are separated by blanks only
// (or a hyphen, as in "twenty-one").
func (st *scanState) spaceGap(i int) bool {
	g := st.gapAfter(i)
	if len(g) == 0 || len(g) > 2 {
		return false
	}
	for _, c := range g {
		if c != ' ' && c != '-' && c != '\t' {
			return false
		}
	}
	return true
}

// below1000 parses hundreds, tens and units from token i on.
func (st *scanState) below1000(i int) (val, next int, ok bool) {
	n := len(st.toks)
	k, v := st.wordKind(i)
	switch k {
	case nwHundreds:
		val, next, ok = v, i+1, true
		if next < n && st.spaceGap(i) {
			if r, nx, ok2 := st.below100(next); ok2 {
				val += r
				next = nx
			}
		}
		return
	case nwDigit:
		if i+1 < n && st.spaceGap(i) {
			if k2, _ := st.wordKind(i + 1); k2 == nwHundred {
				val, next, ok = v*100, i+2, true
				j := next
				if j < n && st.spaceGap(j-1) {
					if k3, _ := st.wordKind(j); k3 == nwAnd && j+1 < n && st.spaceGap(j) {
						j++
					}
					if r, nx, ok2 := st.below100(j); ok2 {
						val += r
						next = nx
					}
				}
				return
			}
		}
	}
	return st.below100(i)
}

// below100 parses "veintiuno", "treinta y dos", "forty five", "siete".
func (st *scanState) below100(i int) (val, next int, ok bool) {
	k, v := st.wordKind(i)
	switch k {
	case nwDigit, nwTeen:
		return v, i + 1, true
	case nwTens:
		val, next = v, i+1
		j := next
		// Spanish joins tens and units with "y" ("treinta y nueve"; a bare
		// "treinta nueve" is 30, 9); English does not ("forty five").
		english := st.text[st.toks[i].end-1]|0x20 == 'y'
		if j < len(st.toks) && st.spaceGap(j-1) {
			k2, _ := st.wordKind(j)
			if k2 == nwAnd && j+1 < len(st.toks) && st.spaceGap(j) {
				j++
			} else if !english {
				return val, next, true
			}
			if k3, v3 := st.wordKind(j); k3 == nwDigit && v3 > 0 && j < len(st.toks) {
				val += v3
				next = j + 1
			}
		}
		return val, next, true
	}
	return 0, i, false
}

// spoken parses a spoken number compound at token i and appends its
// digits. A single digit word gives one digit; "doble cinco" gives 55;
// "seiscientos doce" 612; "dos mil veintisiete" 2027.
func (st *scanState) spoken(i int) (next int, ok bool) {
	n := len(st.toks)
	k, v := st.wordKind(i)
	switch k {
	case nwRepeat:
		if i+1 < n && st.spaceGap(i) {
			if k2, v2 := st.wordKind(i + 1); k2 == nwDigit || k2 == nwOh {
				for r := 0; r < v; r++ {
					st.digits = append(st.digits, byte('0'+v2))
				}
				return i + 2, true
			}
		}
		return i, false
	case nwOh:
		st.digits = append(st.digits, '0')
		return i + 1, true
	case nwThousand:
		val, next := 1000, i+1
		if next < n && st.spaceGap(i) {
			if r, nx, ok2 := st.below1000(next); ok2 {
				val += r
				next = nx
			}
		}
		st.digits = strconv.AppendInt(st.digits, int64(val), 10)
		return next, true
	}
	val, next, ok := st.below1000(i)
	if !ok {
		return i, false
	}
	if val < 10 && next < n && st.spaceGap(next-1) {
		if k2, _ := st.wordKind(next); k2 == nwThousand {
			val *= 1000
			next++
			if next < n && st.spaceGap(next-1) {
				if r, nx, ok2 := st.below1000(next); ok2 {
					val += r
					next = nx
				}
			}
		}
	}
	st.digits = strconv.AppendInt(st.digits, int64(val), 10)
	return next, true
}

// writtenGap classifies the separator between two written digit groups:
// up to three bytes of blanks and at most one of - . / ( ).
func writtenGap(g []byte) (byte, bool) {
	if len(g) == 0 || len(g) > 3 || len(g) > 1 && g[0] == '.' {
		return 0, false // ". " ends a sentence
	}
	sep := byte(' ')
	for _, c := range g {
		switch c {
		case ' ':
		case '-', '.', '/', '(', ')':
			if sep != ' ' && !(sep == ')' && c == '(') {
				return 0, false
			}
			sep = c
		default:
			return 0, false
		}
	}
	return sep, true
}

// spokenGap accepts the looser separators of transcripts between spoken
// numbers: blanks, commas, periods, dashes and ellipses.
func spokenGap(g []byte) (byte, bool) {
	if len(g) == 0 || len(g) > 8 {
		return 0, false
	}
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case ' ', ',', '.', '-', ';', '\t':
		case 0xE2: // … (E2 80 A6)
			if i+2 < len(g) && g[i+1] == 0x80 && g[i+2] == 0xA6 {
				i += 2
				continue
			}
			return 0, false
		default:
			return 0, false
		}
	}
	return ',', true
}

// numeric collects the number run starting at token i and reports the
// findings in it. It returns the index of the token after the run, or i
// when token i does not start a run.
func (st *scanState) numeric(i int) int {
	last := st.collect(i)
	if len(st.units) == 0 {
		return i
	}
	units := st.units
	st.cc.reset(units[0].start, units[len(units)-1].end+40)
	matched := false
	for s := 0; s < len(units); s++ {
		for e := len(units) - 1; e >= s; e-- {
			nd := units[e].d1 - units[s].d0
			if nd > 19 || nd < 3 {
				continue
			}
			if nd <= 6 && !st.shortMayMatch(s, e, nd) {
				continue
			}
			if st.matchWindow(s, e) {
				matched = true
				s = e
				break
			}
		}
	}
	if st.s.opts.FailClosed {
		// Payment mode masks any run of 12 or more digits, including runs
		// longer than any card and runs no validator took.
		if !matched && len(st.digits) >= 12 {
			st.emit(CreditCard, 0, len(units)-1, 0.5, "fail-closed")
		} else {
			for k, u := range units {
				if u.d1-u.d0 > 19 {
					st.emit(CreditCard, k, k, 0.5, "fail-closed")
				}
			}
		}
	}
	if last <= i {
		return i + 1
	}
	return last
}

// collect gathers the number run starting at token i into st.units and
// st.digits, and returns the index of the token after it.
func (st *scanState) collect(i int) int {
	st.units = st.units[:0]
	st.digits = st.digits[:0]
	st.spokenMask = 0
	st.gapMask = [7]uint64{}
	toks := st.toks
	j := i
	var gap byte
	for j < len(toks) && len(st.units) < 32 && len(st.digits) < maxRunDigits {
		t := toks[j]
		// The unit's fields are kept in registers and stored once.
		d0 := len(st.digits)
		var end, next int
		spoken := false
		if t.kind&tkDigits != 0 {
			st.digits = append(st.digits, st.text[t.start:t.end]...)
			end, next = int(t.end), j+1
		} else {
			nx, ok := st.spoken(j)
			if !ok {
				st.digits = st.digits[:d0]
				break
			}
			spoken = true
			end, next = int(toks[nx-1].end), nx
		}
		st.noteUnit(len(st.units), spoken, gap)
		st.units = append(st.units, unit{start: int(t.start), end: end, d0: d0, d1: len(st.digits), spoken: spoken, gap: gap, next: next})
		j = next
		if j >= len(toks) {
			break
		}
		var ok bool
		gap, j, ok = st.nextUnit(j, end, spoken)
		if !ok {
			break
		}
	}
	if len(st.units) == 0 {
		return i
	}
	return st.units[len(st.units)-1].next
}

// nextUnit decides whether the run goes on at token j, skipping fillers
// and, in transcripts, the speaker label of the same speaker's next turn.
// prevEnd and prevSpoken describe the run's last unit.
func (st *scanState) nextUnit(j, prevEnd int, prevSpoken bool) (gap byte, next int, ok bool) {
	toks := st.toks
	for skips := 0; skips < 3; skips++ {
		g := st.text[prevEnd:toks[j].start]
		for _, c := range g {
			if c == '\n' {
				return st.nextTurn(prevEnd, j)
			}
		}
		isDigits := toks[j].kind&tkDigits != 0
		if !prevSpoken && isDigits {
			gap, ok = writtenGap(g)
			return gap, j, ok
		}
		k, _ := st.wordKind(j)
		if k == nwFiller || k == nwAnd {
			if _, ok := spokenGap(g); !ok {
				return 0, j, false
			}
			prevEnd = int(toks[j].end)
			j++
			if j >= len(toks) {
				return 0, j, false
			}
			continue
		}
		if !isDigits && k == nwNone {
			return 0, j, false
		}
		gap, ok = spokenGap(g)
		return gap, j, ok
	}
	return 0, j, false
}

// nextTurn continues a run into the same speaker's next turn: the next
// line, or the line after a short reply of the other speaker that holds
// no digits.
func (st *scanState) nextTurn(prevEnd, j int) (gap byte, next int, ok bool) {
	text := st.text
	// Only punctuation may follow the run on its line.
	rest := text[prevEnd:]
	nl := -1
	for k, c := range rest {
		if c == '\n' {
			nl = prevEnd + k + 1
			break
		}
		if c != ' ' && c != ',' && c != '.' && c != '-' && c != '\r' && c != '\t' && c != ';' {
			return 0, j, false
		}
	}
	if nl < 0 {
		return 0, j, false
	}
	// Only a number read in pieces goes on in the next turn: the run so far
	// is short and began its speaker's turn.
	if len(st.digits) > 12 || len(st.digits) < 3 {
		return 0, j, false
	}
	ls := lineStart(text, prevEnd)
	spk := speaker(text, ls)
	if spk == nil || st.units[0].start-(ls+len(spk)+1) > 24 {
		return 0, j, false
	}
	for hop := 0; hop < 2 && nl < len(text); hop++ {
		other := speaker(text, nl)
		if other == nil {
			return 0, j, false
		}
		if string(other) == string(spk) {
			pos := nl + len(other) + 1
			for j < len(st.toks) && int(st.toks[j].start) < pos {
				j++
			}
			if j >= len(st.toks) {
				return 0, j, false
			}
			// The turn must go on with a number.
			if st.toks[j].kind&tkDigits == 0 && !st.isNumberWord(j) {
				return 0, j, false
			}
			return 'T', j, true
		}
		// The other speaker's reply: short and without digits.
		end := nl
		for end < len(text) && text[end] != '\n' {
			c := text[end]
			if c >= '0' && c <= '9' || end-nl > 80 {
				return 0, j, false
			}
			end++
		}
		nl = end + 1
	}
	return 0, j, false
}

// emit reports a finding for units s..e, split at turn boundaries so each
// finding covers only the customer's own words.
func (st *scanState) emit(e Entity, s, last int, score float64, validator string) {
	u := st.units
	segStart := u[s].start
	for k := s + 1; k <= last; k++ {
		if u[k].gap == 'T' {
			st.add(e, segStart, u[k-1].end, score, validator)
			segStart = u[k].start
		}
	}
	st.add(e, segStart, u[last].end, score, validator)
}

func (st *scanState) windowInfo(s, e int) (written, spoken bool, gaps uint32) {
	if s == e {
		return !st.units[s].spoken, st.units[s].spoken, 0
	}
	// Bit k of a mask stands for unit k; a window's gaps are those of its
	// units after the first.
	upto := uint64(1)<<(e+1) - 1
	spoken = st.spokenMask&upto&^(uint64(1)<<s-1) != 0
	written = !spoken
	r := upto &^ (uint64(1)<<(s+1) - 1)
	for b, m := range st.gapMask {
		if m&r != 0 {
			gaps |= 1 << b
		}
	}
	return
}

func gapBit(g byte) uint32 {
	switch g {
	case ' ':
		return gapSpace
	case '-':
		return gapDash
	case '.':
		return gapDot
	case '/':
		return gapSlash
	case 'T':
		return gapTurn
	case ',':
		return 32
	case '(', ')':
		return gapParen
	}
	return 0
}

// noteUnit records unit k's kind and gap in the run's masks.
func (st *scanState) noteUnit(k int, spoken bool, gap byte) {
	if spoken {
		st.spokenMask |= 1 << k
	}
	if k > 0 {
		if b := gapBit(gap); b != 0 {
			st.gapMask[bits.TrailingZeros32(b)] |= 1 << k
		}
	}
}

func (st *scanState) windowInfoSlow(s, e int) (written, spoken bool, gaps uint32) {
	written, spoken = true, false
	for k := s; k <= e; k++ {
		if st.units[k].spoken {
			spoken = true
			written = false
		}
		if k > s {
			switch st.units[k].gap {
			case ' ':
				gaps |= 1
			case '-':
				gaps |= 2
			case '.':
				gaps |= 4
			case '/':
				gaps |= 8
			case 'T':
				gaps |= 16
			case ',':
				gaps |= 32
			case '(', ')':
				gaps |= 64
			}
		}
	}
	return
}

const (
	gapSpace = 1
	gapDash  = 2
	gapDot   = 4
	gapSlash = 8
	gapTurn  = 16
	gapParen = 64
)

// shortMayMatch reports whether a validator could take units s..e of
// three to six digits, so that the others skip matchWindow. Only a whole
// run or turn can be an expiry date or a CVV; otherwise one group of four
// or five digits may be a plate or a postal code, three groups a date and
// four dotted groups an IPv4 address.
func (st *scanState) shortMayMatch(s, e, nd int) bool {
	u := st.units
	if (s == 0 || u[s].gap == 'T') && (e == len(u)-1 || u[e+1].gap == 'T') {
		return true
	}
	switch e - s {
	case 0:
		return nd == 4 || nd == 5
	case 2:
		written, _, gaps := st.windowInfo(s, e)
		return written && (gaps == gapSlash || gaps == gapDash || gaps == gapDot)
	case 3:
		written, _, gaps := st.windowInfo(s, e)
		return written && gaps == gapDot
	}
	return false
}

// matchWindow tries every validator on units s..e and reports whether one
// matched.
func (st *scanState) matchWindow(s, e int) bool {
	u := st.units
	d := st.digits[u[s].d0:u[e].d1]
	nd := len(d)
	if nd < 3 {
		return false
	}
	start, end := u[s].start, u[e].end
	written, _, gaps := st.windowInfo(s, e)
	n := e - s + 1
	whole := (s == 0 || u[s].gap == 'T') && (e == len(u)-1 || u[e+1].gap == 'T')
	if gaps&gapTurn != 0 && (!whole || !st.segmentsAtLeast(s, e, 4)) {
		return false // a number read across turns is made of whole turns of 4+ digits
	}
	text := st.text

	// IPv4: four dotted written groups.
	if written && n == 4 && gaps == gapDot && st.ipv4(s, e) && u[s].gap != '.' && (e+1 >= len(u) || u[e+1].gap != '.') {
		st.add(IPAddress, start, end, 0.95, "ipv4")
		return true
	}
	// ES_NSS: 12 digits, mod 97, with context or the slashed layout.
	if nd == 12 && nssValid(d) && (gaps&gapSlash != 0 || st.cc.has(text, ctxNSS)) {
		st.emit(ESNSS, s, e, 0.95, "mod97")
		return true
	}
	// CREDIT_CARD: Luhn and a known IIN range and length, or Luhn and a
	// card word on the same line ("my credit card 3590…").
	if nd >= 12 && nd <= 19 && luhn(d) {
		if brand := cardBrand(d); brand != "" {
			st.emit(CreditCard, s, e, 1.0, brand)
			return true
		}
		ls := st.lineStartIdx(start)
		le := st.lineHi
		if written && st.ctxIn(max(ls, start-60), min(le, end+20), ctxCardStrict) && !st.ctxIn(max(ls, start-40), start, ctxDevice) {
			st.emit(CreditCard, s, e, 0.9, "luhn+context")
			return true
		}
	}
	// ES_NIF: 8 digits and the control letter after a - or a blank.
	if nd == 8 && written && u[e].next < len(st.toks) {
		nt := st.toks[u[e].next]
		if nt.end-nt.start == 1 && nt.kind&tkAlpha != 0 && int(nt.start)-end <= 1 && (int(nt.start) == end || text[end] == '-' || text[end] == ' ') {
			var buf [9]byte
			copy(buf[:], d)
			buf[8] = text[nt.start] &^ 0x20
			if nifValid(buf[:]) && (gaps == 0 || gaps == gapDot || gaps == gapSpace) {
				st.add(ESNIF, start, int(nt.end), 1.0, "nif-letter")
				return true
			}
		}
	}
	// ES_LICENSE_PLATE: 4 digits and three consonants, with context.
	if nd == 4 && n == 1 && written && u[e].next < len(st.toks) {
		nt := st.toks[u[e].next]
		if nt.end-nt.start == 3 && int(nt.start)-end == 1 && (text[end] == ' ' || text[end] == '-') && plateLetters(text[nt.start:nt.end]) &&
			st.cc.has(text, ctxPlate) {
			st.add(ESLicensePlate, start, int(nt.end), 0.85, "format+context")
			return true
		}
	}
	// US_SSN: 3-2-4 with dashes or blanks, or 9 digits with context.
	if nd == 9 && written && ssnValid(d) {
		if n == 3 && u[s].d1-u[s].d0 == 3 && u[s+1].d1-u[s+1].d0 == 2 && (gaps == gapDash || gaps == gapSpace && st.cc.has(text, ctxSSN)) {
			st.add(USSSN, start, end, 0.85, "ssn-format")
			return true
		}
		if (n == 1 || gaps == gapDash) && st.ctxIn(start-40, start, ctxSSN) {
			st.add(USSSN, start, end, 0.8, "context")
			return true
		}
	}
	// PHONE_NUMBER.
	if nd >= 7 && nd <= 15 && gaps&(gapSlash|gapTurn) == 0 {
		if st.phone(s, e, d) || st.phoneShape(s, e, d) {
			return true
		}
	}
	// DATE_OF_BIRTH: a valid d/m/y date with a birth context.
	if n == 3 && written && (gaps == gapSlash || gaps == gapDash || gaps == gapDot) && validDMY(st, s) &&
		st.cc.has(text, ctxDOB) {
		st.add(DateOfBirth, start, end, 0.85, "date+context")
		return true
	}
	// CARD_EXPIRY: mm/yy, mm/yyyy or four spoken digits, with context.
	if (n == 2 && (gaps == gapSlash || gaps == gapDash || gaps == gapSpace || gaps == 32) || n <= 4 && (nd == 4 || nd == 6) && !written) && whole && validExpiry(st, s, e) &&
		st.before(s, ctxExpiry) {
		st.emit(CardExpiry, s, e, 0.9, "context")
		return true
	}
	if n == 1 && written && (nd == 4 || nd == 6) && validExpiry(st, s, e) && whole &&
		st.before(s, ctxExpiry) {
		st.emit(CardExpiry, s, e, 0.85, "context")
		return true
	}
	// CARD_CVV: a whole run of 3 or 4 digits after a CVV question.
	if (nd == 3 || nd == 4) && whole && st.before(s, ctxCVV) {
		st.emit(CardCVV, s, e, 0.9, "context")
		return true
	}
	// ES_POSTAL_CODE: five digits 01000–52999 near an address word.
	if nd == 5 && n == 1 && written {
		if v := atoiN(d); v >= 1000 && v <= 52999 && (start == 0 || text[start-1] != '/' && text[start-1] != '-') && st.ctxIn(start-50, end+25, ctxPostal) {
			st.add(ESPostalCode, start, end, 0.8, "range+context")
			return true
		}
	}
	// DATE_TIME (opt-in): dates, timestamps and years.
	if st.s.enabled[dateTimeIdx] && written {
		if n == 3 && (gaps == gapSlash || gaps == gapDash || gaps == gapDot) && (validDMY(st, s) || validYMD(st, s)) {
			st.add(DateTime, start, timeAfter(text, end), 0.6, "date")
			return true
		}
		if n == 1 && nd == 4 && whole {
			if y := atoiN(d); y >= 1900 && y <= 2030 {
				st.add(DateTime, start, end, 0.4, "year")
				return true
			}
		}
	}
	// Fail-closed payment mode: any 12+ digits.
	if st.s.opts.FailClosed && nd >= 12 {
		st.emit(CreditCard, s, e, 0.5, "fail-closed")
		return true
	}
	return false
}

func plateLetters(b []byte) bool {
	for _, c := range b {
		switch c {
		case 'B', 'C', 'D', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P', 'R', 'S', 'T', 'V', 'W', 'X', 'Y', 'Z':
		default:
			return false
		}
	}
	return true
}

func (st *scanState) ipv4(s, e int) bool {
	for k := s; k <= e; k++ {
		g := st.digits[st.units[k].d0:st.units[k].d1]
		if len(g) > 3 || atoiN(g) > 255 || len(g) > 1 && g[0] == '0' {
			return false
		}
	}
	return true
}

func validDMY(st *scanState, s int) bool {
	u := st.units
	dd := st.digits[u[s].d0:u[s].d1]
	mm := st.digits[u[s+1].d0:u[s+1].d1]
	yy := st.digits[u[s+2].d0:u[s+2].d1]
	if len(dd) > 2 || len(mm) > 2 || (len(yy) != 2 && len(yy) != 4) {
		return false
	}
	day, mon, year := atoiN(dd), atoiN(mm), atoiN(yy)
	if mon > 12 && day <= 12 { // m/d/y
		day, mon = mon, day
	}
	if len(yy) == 4 && (year < 1900 || year > 2030) {
		return false
	}
	return day >= 1 && day <= 31 && mon >= 1 && mon <= 12
}

func validExpiry(st *scanState, s, e int) bool {
	d := st.digits[st.units[s].d0:st.units[e].d1]
	var mon, year int
	switch len(d) {
	case 4:
		mon, year = atoiN(d[:2]), 2000+atoiN(d[2:])
	case 6:
		mon, year = atoiN(d[:2]), atoiN(d[2:])
	default:
		return false
	}
	return mon >= 1 && mon <= 12 && year >= 2000 && year <= 2049
}

// phone validates a phone number candidate with libphonenumber's metadata.
func (st *scanState) phone(s, e int, d []byte) bool {
	u := st.units
	start := u[s].start
	text := st.text
	plus := false
	if start > 0 && text[start-1] == '+' {
		plus, start = true, start-1
	} else if start > 1 && text[start-1] == ' ' && text[start-2] == '+' {
		plus, start = true, start-2
	} else if start > 0 && text[start-1] == '(' {
		if start > 1 && text[start-2] == '+' {
			plus, start = true, start-2
		} else {
			start--
		}
	}
	if len(d) > 2 && d[0] == '0' && d[1] == '0' {
		plus, d = true, d[2:]
	}
	var cc int
	var national []byte
	region := ""
	var score float64
	switch {
	case plus:
		score = 0.9
		for l := 1; l <= 3 && l < len(d); l++ {
			if phonenumbers.GetRegionCodeForCountryCode(atoiN(d[:l])) != "ZZ" {
				cc, national = atoiN(d[:l]), d[l:]
				break
			}
		}
		if cc == 0 {
			return false
		}
	case len(d) == 9 && d[0] >= '6' && d[0] <= '9' && st.s.lang != "en":
		cc, national, region, score = 34, d, "ES", 0.8
	case len(d) == 11 && d[0] == '3' && d[1] == '4' && d[2] >= '6':
		cc, national, region, score = 34, d[2:], "ES", 0.75
	case len(d) == 10 && st.s.lang != "es":
		cc, national, region, score = 1, d, "", 0.7
	case len(d) == 11 && d[0] == '1' && st.s.lang != "es":
		cc, national, region, score = 1, d[1:], "", 0.7
	case len(d) == 11 && d[0] == '0' && st.s.lang != "es":
		cc, national, region, score = 44, d[1:], "GB", 0.7
	default:
		return false
	}
	if cc == 1 && (len(national) != 10 || national[0] < '2' || national[3] < '2') {
		return false // NANP: area code and exchange start with 2–9
	}
	if !plus && cc != 34 && !st.groupedLike(s, e, cc) {
		return false // a foreign national number must be written in its usual groups
	}
	// An ungrouped national number needs a phone word nearby: order and
	// invoice numbers look the same. Other numbers take the context only
	// as a higher score. The validity check (a few table lookups) comes
	// first: it rejects most candidates without a context search.
	needCtx := !plus && s == e && !(region == "ES" && (d[0] == '6' || d[0] == '7'))
	if !validPhone(cc, national, region) {
		return false
	}
	if needCtx && !st.cc.has(text, ctxPhone) {
		return false
	}
	if needCtx || st.cc.has(text, ctxPhone) {
		score += 0.1
	}
	return st.emitPhone(start, s, e, score, "libphonenumber")
}

// phoneShape accepts a number that libphonenumber rejects when it is
// written like a phone number (in groups, or after a +) with a phone word
// just before it: "Phone: 0490 75 40 81", "call 467 3395".
func (st *scanState) phoneShape(s, e int, d []byte) bool {
	u := st.units
	start := u[s].start
	text := st.text
	written, _, gaps := st.windowInfo(s, e)
	if !written || gaps&(gapSlash|gapTurn) != 0 || len(d) < 7 || len(d) > 15 || (e == s && !(start > 0 && text[start-1] == '+')) {
		return false
	}
	if !(s == 0 || u[s].gap == ' ') || e+1 < len(u) && u[e+1].gap != ' ' {
		return false
	}
	if start > 0 && (isAlnumASCII(text[start-1]) || text[start-1] == '-' || text[start-1] == '.' || text[start-1] == '/') {
		return false
	}
	if end := u[e].end; !st.ctxIn(start-24, start, ctxPhoneStrict) &&
		!(end < len(text) && (text[end] == ' ' || text[end] == '-') && st.ctxIn(end+1, end+2, ctxPhoneAfter)) {
		return false
	}
	for start > 0 && (text[start-1] == '+' || text[start-1] == '(') {
		start--
	}
	return st.emitPhone(start, s, e, 0.6, "phone-shape+context")
}

func (st *scanState) emitPhone(start, s, e int, score float64, validator string) bool {
	// An extension: "x459", "ext. 12".
	end := st.units[e].end
	text := st.text
	if end+1 < len(text) && text[end] == 'x' && isDigit(text[end+1]) {
		k := end + 1
		for k < len(text) && isDigit(text[k]) {
			k++
		}
		st.units[e].end = k
		defer func() { st.units[e].end = end }()
	}
	st.emitFrom(PhoneNumber, start, s, e, score, validator)
	return true
}

// emitFrom is emit with the first segment starting at start.
func (st *scanState) emitFrom(ent Entity, start, s, e int, score float64, validator string) {
	saved := st.units[s].start
	st.units[s].start = start
	st.emit(ent, s, e, score, validator)
	st.units[s].start = saved
}

// groupedLike reports whether units s..e are grouped the way national
// numbers of country cc are written: 3-3-4 (with an optional leading 1)
// for NANP, two or three groups for the UK.
func (st *scanState) groupedLike(s, e, cc int) bool {
	u := st.units
	l := func(k int) int { return u[k].d1 - u[k].d0 }
	n := e - s + 1
	switch cc {
	case 1:
		if n == 4 && l(s) == 1 {
			s++
			n--
		}
		return n == 3 && l(s) == 3 && l(s+1) == 3 && l(s+2) == 4
	case 44:
		return n == 2 || n == 3
	}
	return n > 1
}

// before reports whether a keyword of kind occurs just before unit s on
// its line, or in the two turns before when the number opens its turn:
// the agent's question arms the customer's answer.
func (st *scanState) before(s int, kind ctxKind) bool {
	start := st.units[s].start
	if !st.ctxIn(start-300, start, kind) {
		return false // both windows below lie in the 300 bytes before
	}
	ls := st.lineStartIdx(start)
	if st.ctxIn(max(ls, start-60), start, kind) {
		return true
	}
	// The answer must open its turn (after the speaker label).
	p := ls
	if spk := speaker(st.text, ls); spk != nil {
		p = ls + len(spk) + 1
	}
	if start-p > 12 {
		return false
	}
	return st.ctxIn(st.turnsBackIdx(start, 2, 300), ls, kind)
}

var dateTimeIdx = entityIndex(DateTime)

func validYMD(st *scanState, s int) bool {
	u := st.units
	yy := st.digits[u[s].d0:u[s].d1]
	mm := st.digits[u[s+1].d0:u[s+1].d1]
	dd := st.digits[u[s+2].d0:u[s+2].d1]
	if len(yy) != 4 || len(mm) > 2 || len(dd) > 2 {
		return false
	}
	y, m, d := atoiN(yy), atoiN(mm), atoiN(dd)
	return y >= 1900 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= 31
}

// timeAfter extends a date over a following " hh:mm" or " hh:mm:ss".
func timeAfter(text []byte, end int) int {
	i := end
	if i+6 > len(text) || text[i] != ' ' && text[i] != 'T' {
		return end
	}
	i++
	k := i
	for k < len(text) && k-i < 8 && (isDigit(text[k]) || text[k] == ':') {
		k++
	}
	if k-i >= 5 && text[i+2] == ':' && isDigit(text[i]) && isDigit(text[i+1]) {
		return k
	}
	return end
}

// segmentsAtLeast reports whether every turn's piece of units s..e has at
// least min digits: a 3-digit CVV answer does not start a card number.
func (st *scanState) segmentsAtLeast(s, e, min int) bool {
	u := st.units
	segStart := u[s].d0
	for k := s + 1; k <= e; k++ {
		if u[k].gap == 'T' {
			if u[k-1].d1-segStart < min {
				return false
			}
			segStart = u[k].d0
		}
	}
	return u[e].d1-segStart >= min
}
