package dataprotection

import "bytes"

// ctxKind names a family of context keywords.
type ctxKind int

const (
	ctxCard ctxKind = iota
	ctxCVV
	ctxExpiry
	ctxDOB
	ctxPassport
	ctxPlate
	ctxPostal
	ctxNSS
	ctxSSN
	ctxPhone
	ctxNINO
	ctxPhoneStrict
	ctxCardStrict
	ctxDevice
	ctxPhoneAfter
	numCtx
)

// contextWords are folded (lower-case, unaccented) word prefixes; a
// keyword matches where a word starts with it.
var contextWords = [numCtx][]string{
	ctxCard:       {"tarjeta", "card", "visa", "mastercard", "master card", "amex", "american express", "credito", "credit", "debito", "debit", "pan ", "pago", "payment", "pagar", "cobr", "numero largo", "long number"},
	ctxCVV:        {"cvv", "cvc", "cv2", "codigo de seguridad", "cod. seguridad", "security code", "card verification", "verification code", "tres digitos", "three digits", "3 digitos", "3 digits", "tres numeros", "three numbers", "digitos de atras", "numeros de atras", "back of the card", "detras de la tarjeta", "reverso", "dorso"},
	ctxExpiry:     {"caducidad", "caduca", "vencimiento", "vence", "expir", "exp.", "exp ", "valid thru", "valid through", "valid until", "good thru", "validez", "fecha de la tarjeta", "mm/aa", "mm/yy"},
	ctxDOB:        {"nacimiento", "naci ", "nacio", "nacida", "nacido", "born", "birth", "dob", "d.o.b", "f. nac", "fecha nac", "f.nac", "cumpleanos", "birthday"},
	ctxPassport:   {"pasaporte", "passport", "pass no", "n. pasaporte"},
	ctxPlate:      {"matricula", "plate", "coche", "vehiculo", "vehicle", "registration", "placa", "licence plate", "license plate"},
	ctxPostal:     {"codigo postal", "cod. postal", "cp ", "cp:", "c.p", "postal", "zip", "calle ", "c/", "avenida", "avda", "av.", "plaza", "pza", "paseo", "direccion", "domicilio", "vivo en", "address", "street", "piso", "portal", "localidad", "provincia"},
	ctxNSS:        {"seguridad social", "nss", "n.s.s", "afiliacion", "naf", "social security number"},
	ctxSSN:        {"ssn", "social security", "seguro social", "ss#", "ss #"},
	ctxPhone:      {"telefono", "tlf", "tfno", "tel", "movil", "phone", "llam", "call", "contacto", "contact", "whatsapp", "mobile", "cell", "fax", "numero de contacto"},
	ctxNINO:       {"national insurance", "nino", "ni number", "ni no"},
	ctxCardStrict: {"tarjeta", "card", "cc ", "visa", "mastercard", "amex", "credito", "credit", "debito", "debit"},
	ctxDevice:     {"imei", "serial", "numero de serie", "n/s", "s/n", "meid", "iccid", "sim"},
	// ctxPhoneAfter are the labels written right after a phone number in
	// signatures and contact cards ("082 490 1693-Office", "… fax").
	ctxPhoneAfter:  {"office", "fax", "mobile", "desk", "home", "work", "cell", "movil", "oficina"},
	ctxPhoneStrict: {"telefono", "tlf", "tfno", "tel:", "tel.", "tel ", "movil", "phone", "mobile", "cell", "fax", "whatsapp", "call me", "llamame", "llamar al", "call on", "reach me", "contact number", "numero de contacto", "desk", "office", "messages to", "answering at", "registered"},
}

// ctxCache is the window of one number run in which context keywords
// count.
type ctxCache struct {
	st       *scanState
	anchor   int // the run's start; the window opens two turns before it
	from, to int
	known    bool
}

func (c *ctxCache) reset(anchor, to int) { c.anchor, c.to, c.known = anchor, to, false }

// has reports whether a keyword of kind occurs in the window.
func (c *ctxCache) has(_ []byte, kind ctxKind) bool {
	if !c.known {
		c.from, c.known = c.st.turnsBackIdx(c.anchor, 2, 300), true
	}
	return c.st.ctxIn(c.from, c.to, kind)
}

func containsKeyword(buf []byte, kind ctxKind) bool {
	for _, kw := range contextWords[kind] {
		k := []byte(kw)
		off := 0
		for {
			i := bytes.Index(buf[off:], k)
			if i < 0 {
				break
			}
			p := off + i
			if p == 0 || !isAlnumASCII(buf[p-1]) {
				return true
			}
			off = p + 1
		}
	}
	return false
}

// hasContext reports whether one of kind's keywords occurs in
// text[from:to]. scratch is reused for folding.
func hasContext(text []byte, from, to int, kind ctxKind, scratch *[]byte) bool {
	if from < 0 {
		from = 0
	}
	if to > len(text) {
		to = len(text)
	}
	if from >= to {
		return false
	}
	buf := foldWord((*scratch)[:0], text[from:to])
	*scratch = buf
	return containsKeyword(buf, kind)
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// lineStart returns the offset of the first byte of the line holding pos.
func lineStart(text []byte, pos int) int {
	if pos > len(text) {
		pos = len(text)
	}
	i := bytes.LastIndexByte(text[:pos], '\n')
	return i + 1
}

// newlines returns the offsets of the text's line breaks, found once per
// scan.
func (st *scanState) newlines() []int32 {
	if !st.nlBuilt {
		st.nl = st.nl[:0]
		for off := 0; ; {
			i := bytes.IndexByte(st.text[off:], '\n')
			if i < 0 {
				break
			}
			st.nl = append(st.nl, int32(off+i))
			off += i + 1
		}
		st.nlBuilt = true
	}
	return st.nl
}

// lineStartIdx is lineStart with the scan's index of line breaks.
func (st *scanState) lineStartIdx(pos int) int {
	st.newlines()
	if pos >= st.lineLo && pos < st.lineHi {
		return st.lineLo
	}
	// The first line break at or after pos: the scan moves forward, and
	// looks back a turn or two, so look at the few lines next to the last
	// answer before searching.
	lo := -1
	if pos >= st.lineHi && st.lineHi > 0 {
		for k := st.lineK; k < len(st.nl) && k < st.lineK+4; k++ {
			if int(st.nl[k]) >= pos {
				lo = k
				break
			}
		}
	} else if pos < st.lineLo {
		// nl[lineK-1] ends the line before: it is at or after pos.
		for k := st.lineK - 1; k >= 0 && k >= st.lineK-4; k-- {
			if int(st.nl[k]) < pos {
				lo = k + 1
				break
			}
			if k == 0 {
				lo = 0
			}
		}
	}
	if lo < 0 {
		l, h := 0, len(st.nl)
		for l < h {
			m := int(uint(l+h) >> 1)
			if int(st.nl[m]) < pos {
				l = m + 1
			} else {
				h = m
			}
		}
		lo = l
	}
	st.lineK = lo
	st.lineLo, st.lineHi = 0, len(st.text)
	if lo > 0 {
		st.lineLo = int(st.nl[lo-1]) + 1
	}
	if lo < len(st.nl) {
		st.lineHi = int(st.nl[lo]) + 1
	}
	return st.lineLo
}

// turnsBackIdx is turnsBack with the index of line breaks.
func (st *scanState) turnsBackIdx(pos, n, max int) int {
	start := st.lineStartIdx(pos)
	for ; n > 0 && start > 0; n-- {
		start = st.lineStartIdx(start - 1)
	}
	if pos-start > max {
		start = pos - max
	}
	return start
}

// turnsBack returns the offset where the n lines before the one holding
// pos begin, but never more than max bytes back. Transcripts hold one
// speaker turn per line, so this is the window an agent's question arms.
func turnsBack(text []byte, pos, n, max int) int {
	start := lineStart(text, pos)
	for ; n > 0 && start > 0; n-- {
		start = lineStart(text, start-1)
	}
	if pos-start > max {
		start = pos - max
	}
	return start
}

// speaker returns the speaker label of the line starting at ls ("Agente",
// "Cliente", "Customer"…), or nil when the line has none.
func speaker(text []byte, ls int) []byte {
	for i := ls; i < len(text) && i < ls+32; i++ {
		c := text[i]
		switch {
		case c == ':':
			if i == ls {
				return nil
			}
			return text[ls:i]
		case c == '\n':
			return nil
		case c == '[' || c == ']' || c == ' ' || c == '_' || c == '-' || c == '.' || isWordByte(c):
		default:
			return nil
		}
	}
	return nil
}
