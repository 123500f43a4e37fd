package dataprotection

// foldWord appends to dst the word w lower-cased, with the Spanish accents
// (á é í ó ú ü ñ) reduced to plain ASCII letters. Other bytes are copied.
func foldWord(dst, w []byte) []byte {
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= 'A' && c <= 'Z':
			dst = append(dst, c+32)
		case c == 0xC3 && i+1 < len(w):
			n := w[i+1]
			if n >= 0x80 && n <= 0x9F { // upper-case Latin-1 letters
				n += 0x20
			}
			switch n {
			case 0xA1, 0xA0, 0xA4:
				dst = append(dst, 'a')
			case 0xA9, 0xA8:
				dst = append(dst, 'e')
			case 0xAD, 0xAF:
				dst = append(dst, 'i')
			case 0xB3, 0xB2, 0xB6:
				dst = append(dst, 'o')
			case 0xBA, 0xBC, 0xB9:
				dst = append(dst, 'u')
			case 0xB1:
				dst = append(dst, 'n')
			case 0xA7:
				dst = append(dst, 'c')
			default:
				dst = append(dst, c, w[i+1])
			}
			i++
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// Kinds of number words.
const (
	nwNone     = iota
	nwDigit    // 0–9
	nwTeen     // 10–29 said as one word
	nwTens     // 20, 30 … 90
	nwHundreds // cien, doscientos … (value is the hundreds)
	nwHundred  // English "hundred" (multiplies)
	nwThousand // mil, thousand
	nwRepeat   // doble, double (2), triple (3)
	nwAnd      // y, and
	nwFiller   // eh, um, …
	nwOh       // English "oh" for zero
)

// numberWord classifies a folded word. The table covers Spanish and
// English; lang limits it ("es", "en", or "" for both).
func numberWord(w []byte, lang string) (kind, val int) {
	if lang != "en" {
		if k, v := numberWordES(w); k != nwNone {
			return k, v
		}
	}
	if lang != "es" {
		return numberWordEN(w)
	}
	switch string(w) {
	case "eh", "em", "ehm", "mm", "mmm", "este":
		return nwFiller, 0
	}
	return nwNone, 0
}

func numberWordES(w []byte) (kind, val int) {
	switch string(w) {
	case "cero":
		return nwDigit, 0
	case "uno":
		return nwDigit, 1
	case "dos":
		return nwDigit, 2
	case "tres":
		return nwDigit, 3
	case "cuatro":
		return nwDigit, 4
	case "cinco":
		return nwDigit, 5
	case "seis":
		return nwDigit, 6
	case "siete":
		return nwDigit, 7
	case "ocho":
		return nwDigit, 8
	case "nueve":
		return nwDigit, 9
	case "diez":
		return nwTeen, 10
	case "once":
		return nwTeen, 11
	case "doce":
		return nwTeen, 12
	case "trece":
		return nwTeen, 13
	case "catorce":
		return nwTeen, 14
	case "quince":
		return nwTeen, 15
	case "dieciseis":
		return nwTeen, 16
	case "diecisiete":
		return nwTeen, 17
	case "dieciocho":
		return nwTeen, 18
	case "diecinueve":
		return nwTeen, 19
	case "veinte":
		return nwTens, 20
	case "veintiuno", "veintiun":
		return nwTeen, 21
	case "veintidos":
		return nwTeen, 22
	case "veintitres":
		return nwTeen, 23
	case "veinticuatro":
		return nwTeen, 24
	case "veinticinco":
		return nwTeen, 25
	case "veintiseis":
		return nwTeen, 26
	case "veintisiete":
		return nwTeen, 27
	case "veintiocho":
		return nwTeen, 28
	case "veintinueve":
		return nwTeen, 29
	case "treinta":
		return nwTens, 30
	case "cuarenta":
		return nwTens, 40
	case "cincuenta":
		return nwTens, 50
	case "sesenta":
		return nwTens, 60
	case "setenta":
		return nwTens, 70
	case "ochenta":
		return nwTens, 80
	case "noventa":
		return nwTens, 90
	case "cien", "ciento":
		return nwHundreds, 100
	case "doscientos", "doscientas":
		return nwHundreds, 200
	case "trescientos", "trescientas":
		return nwHundreds, 300
	case "cuatrocientos", "cuatrocientas":
		return nwHundreds, 400
	case "quinientos", "quinientas":
		return nwHundreds, 500
	case "seiscientos", "seiscientas":
		return nwHundreds, 600
	case "setecientos", "setecientas":
		return nwHundreds, 700
	case "ochocientos", "ochocientas":
		return nwHundreds, 800
	case "novecientos", "novecientas":
		return nwHundreds, 900
	case "mil":
		return nwThousand, 1000
	case "doble":
		return nwRepeat, 2
	case "triple":
		return nwRepeat, 3
	case "y":
		return nwAnd, 0
	case "eh", "em", "ehm", "mm", "mmm", "este":
		return nwFiller, 0
	}
	return nwNone, 0
}

func numberWordEN(w []byte) (kind, val int) {
	switch string(w) {
	case "zero":
		return nwDigit, 0
	case "oh":
		return nwOh, 0
	case "one":
		return nwDigit, 1
	case "two":
		return nwDigit, 2
	case "three":
		return nwDigit, 3
	case "four":
		return nwDigit, 4
	case "five":
		return nwDigit, 5
	case "six":
		return nwDigit, 6
	case "seven":
		return nwDigit, 7
	case "eight":
		return nwDigit, 8
	case "nine":
		return nwDigit, 9
	case "ten":
		return nwTeen, 10
	case "eleven":
		return nwTeen, 11
	case "twelve":
		return nwTeen, 12
	case "thirteen":
		return nwTeen, 13
	case "fourteen":
		return nwTeen, 14
	case "fifteen":
		return nwTeen, 15
	case "sixteen":
		return nwTeen, 16
	case "seventeen":
		return nwTeen, 17
	case "eighteen":
		return nwTeen, 18
	case "nineteen":
		return nwTeen, 19
	case "twenty":
		return nwTens, 20
	case "thirty":
		return nwTens, 30
	case "forty":
		return nwTens, 40
	case "fifty":
		return nwTens, 50
	case "sixty":
		return nwTens, 60
	case "seventy":
		return nwTens, 70
	case "eighty":
		return nwTens, 80
	case "ninety":
		return nwTens, 90
	case "hundred":
		return nwHundred, 100
	case "thousand":
		return nwThousand, 1000
	case "double":
		return nwRepeat, 2
	case "triple":
		return nwRepeat, 3
	case "and":
		return nwAnd, 0
	case "uh", "um", "umm", "er", "erm", "hmm":
		return nwFiller, 0
	}
	return nwNone, 0
}

// numberWordFilter is a cheap prefilter for number words: a bit per
// (first byte, last byte, length) of every surface form. It is built once
// and only read afterwards.
var numberWordFilter = buildNumberWordFilter()

func filterKey(w []byte) uint32 {
	f, l := w[0]|0x20, w[len(w)-1]|0x20
	return (uint32(f)&31)<<9 | (uint32(l)&31)<<4 | uint32(len(w))&15
}

func buildNumberWordFilter() *[1 << 14]bool {
	var t [1 << 14]bool
	for _, w := range numberWordForms {
		t[filterKey([]byte(w))] = true
	}
	return &t
}

// numberWordForms lists every surface form of the number words.
var numberWordForms = []string{"cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve",
	"diez", "once", "doce", "trece", "catorce", "quince", "dieciseis", "dieciséis", "diecisiete", "dieciocho", "diecinueve",
	"veinte", "veintiuno", "veintiun", "veintiún", "veintidos", "veintidós", "veintitres", "veintitrés", "veinticuatro", "veinticinco",
	"veintiseis", "veintiséis", "veintisiete", "veintiocho", "veintinueve", "treinta", "cuarenta", "cincuenta", "sesenta",
	"setenta", "ochenta", "noventa", "cien", "ciento", "doscientos", "doscientas", "trescientos", "trescientas",
	"cuatrocientos", "cuatrocientas", "quinientos", "quinientas", "seiscientos", "seiscientas", "setecientos", "setecientas",
	"ochocientos", "ochocientas", "novecientos", "novecientas", "mil", "doble", "triple", "y", "eh", "em", "ehm", "mm", "mmm", "este",
	"zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
	"thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty", "forty",
	"fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "double", "and", "uh", "um", "umm", "er", "erm", "hmm"}

// numberWordTables holds numberWord's answers for every folded number
// word, per language ("" for both, "es", "en"), as kind<<10 | value, so a
// lookup is one hash probe. Built once, read-only.
var numberWordTables = func() map[string]*wordTable {
	m := map[string]*wordTable{}
	for _, lang := range []string{"", "es", "en"} {
		words := map[string]uint16{}
		for _, w := range numberWordForms {
			f := foldWord(nil, []byte(w))
			if k, v := numberWord(f, lang); k != nwNone {
				words[string(f)] = uint16(k)<<10 | uint16(v)
			}
		}
		m[lang] = newWordTable(words)
	}
	return m
}()
