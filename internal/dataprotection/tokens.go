package dataprotection

// Token kinds.
const (
	tkDigits   = 1 << iota // only ASCII digits
	tkAlpha                // has letters
	tkUpper                // first byte is an ASCII upper-case letter
	tkHasDigit             // has at least one digit
	tkNumWord              // a letter word that may be a number word (numberWordFilter)
	tkCap                  // capitalized (see there)
	tkSp1                  // the next token follows after exactly one blank (nameGap)
	tkCue                  // a letter word that may end a place or address cue (cueFilter)
)

// token is a maximal run of letters and digits.
type token struct {
	start, end int32
	kind       uint16
}

// byteClass: 0 separator, 1 digit, 2 ASCII letter, 3 UTF-8 lead byte.
var byteClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = 1
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = 2
		t[c-32] = 2
	}
	for c := 0xC3; c < 0xF0; c++ {
		t[c] = 3
	}
	t[0xE2] = 0 // general punctuation, currency (—, “, €): separators
	return t
}()

// tokFlag is byteClass as bits for the tokenizer's inner loop: a word
// byte has tfWord, with tfDigit, tfAlpha or tfLead (a UTF-8 lead byte,
// whose continuation bytes follow).
const (
	tfWord = 1 << iota
	tfDigit
	tfAlpha
	tfLead
)

var tokFlag = func() (t [256]uint8) {
	for c := range 256 {
		switch byteClass[c] {
		case 1:
			t[c] = tfWord | tfDigit
		case 2:
			t[c] = tfWord | tfAlpha
		case 3:
			t[c] = tfWord | tfAlpha | tfLead
		}
	}
	return t
}()

// wordFilter merges numberWordFilter (bit 1) and cueFilter (bit 2), which
// share their key, so that the tokenizer looks both up at once.
var wordFilter = func() *[1 << 14]uint8 {
	var t [1 << 14]uint8
	for k := range t {
		if numberWordFilter[k] {
			t[k] |= 1
		}
		if cueFilter[k] {
			t[k] |= 2
		}
	}
	return &t
}()

// tokenize splits st.text into tokens. Multi-byte UTF-8 letters from
// Latin-1 onwards are word bytes; punctuation, symbols and emoji separate.
func (st *scanState) tokenize() {
	text := st.text
	n := len(text)
	toks := st.toks[:0]
	if want := n/5 + 16; cap(toks) < want {
		toks = make([]token, 0, want) // about one token per five bytes of text
	}
	i := 0
	for i < n {
		f := tokFlag[text[i]]
		if f == 0 {
			i++
			continue
		}
		start := i
		var acc uint8
		for {
			acc |= f
			i++
			if f&tfLead != 0 {
				for i < n && text[i]&0xC0 == 0x80 {
					i++
				}
			}
			if i >= n {
				break
			}
			f = tokFlag[text[i]]
			if f == 0 {
				break
			}
		}
		var kind uint16
		c := text[start]
		if c >= 'A' && c <= 'Z' {
			kind = tkUpper
		}
		if acc&tfDigit != 0 {
			kind |= tkHasDigit
		}
		if acc&tfAlpha != 0 {
			kind |= tkAlpha
			if acc&tfDigit == 0 {
				if l := i - start; l <= 15 {
					f := wordFilter[filterKey(text[start:i])]
					if f&1 != 0 && l <= 14 {
						kind |= tkNumWord
					}
					if f&2 != 0 {
						kind |= tkCue
					}
				}
				// Capitalised: an upper-case first letter (ASCII or
				// Latin-1) and a lower-case or non-ASCII last byte.
				if i-start >= 2 && (kind&tkUpper != 0 || c == 0xC3 && text[start+1] >= 0x80 && text[start+1] <= 0x9E) {
					if l := text[i-1]; l >= 'a' && l <= 'z' || l >= 0x80 {
						kind |= tkCap
					}
				}
			}
		} else {
			kind |= tkDigits
		}
		if i+1 < n && text[i] == ' ' && tokFlag[text[i+1]] != 0 {
			kind |= tkSp1
		}
		toks = append(toks, token{int32(start), int32(i), kind})
	}
	st.toks = toks
}

func (st *scanState) tokText(i int) []byte {
	t := st.toks[i]
	return st.text[t.start:t.end]
}
