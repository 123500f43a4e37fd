package dataprotection

// cbound marks a token end inside the compact form of an identifier.
type cbound struct {
	n     int  // compact length up to this token's end
	end   int  // byte offset of the token's end
	tok   int  // index of the next token
	lower bool // a lower-case letter occurs up to here
}

// alnumLead reports whether an all-letter token i may start a spaced-out
// identifier: one to three upper-case letters followed by digits
// ("X 1234567 L", "AB 12 34 56 C", "ES91 …" is caught as mixed).
func (st *scanState) alnumLead(i int) bool {
	t := st.toks[i]
	if t.kind&tkUpper == 0 || t.end-t.start > 3 || i+1 >= len(st.toks) {
		return false
	}
	for _, c := range st.text[t.start:t.end] {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	nt := st.toks[i+1]
	return nt.kind&tkDigits != 0 && nt.start-t.end <= 1
}

// buildCompact joins token i and the tokens after it that are separated by
// one blank, dash or dot, upper-casing letters, up to max bytes.
func (st *scanState) buildCompact(i, max int) {
	st.compact = st.compact[:0]
	st.cbounds = st.cbounds[:0]
	toks := st.toks
	lower := false
	for j := i; j < len(toks) && j < i+10; j++ {
		t := toks[j]
		if j > i {
			g := st.text[toks[j-1].end:t.start]
			if len(g) != 1 || g[0] != ' ' && g[0] != '-' && g[0] != '.' {
				return
			}
		}
		if len(st.compact)+int(t.end-t.start) > max {
			return
		}
		for _, c := range st.text[t.start:t.end] {
			switch {
			case c >= 'a' && c <= 'z':
				c -= 32
				lower = true
			case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			default:
				return
			}
			st.compact = append(st.compact, c)
		}
		st.cbounds = append(st.cbounds, cbound{len(st.compact), int(t.end), j + 1, lower})
	}
}

func (st *scanState) boundAt(n int) (cbound, bool) {
	for _, b := range st.cbounds {
		if b.n == n {
			return b, true
		}
		if b.n > n {
			break
		}
	}
	return cbound{}, false
}

func isUpperASCII(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

// alnum matches identifiers made of letters and digits at token i: IBAN,
// NIF, NIE, CIF, UK NINO and passports. It returns the token after the
// match, or i.
func (st *scanState) alnum(i int) int {
	st.buildCompact(i, 34)
	c := st.compact
	start := int(st.toks[i].start)
	text := st.text
	firstUpper := isUpperASCII(text[start])
	if len(c) >= 15 && firstUpper && isUpperASCII(text[start+1]) && isUpperASCII(c[1]) && isDigit(c[2]) && isDigit(c[3]) {
		if l, ok := ibanLengths[string(c[:2])]; ok && len(c) >= l {
			if b, ok := st.boundAt(l); ok && !b.lower && ibanValid(c[:l]) {
				st.add(IBANCode, start, b.end, 1.0, "iso13616-mod97")
				return b.tok
			}
		}
	}
	if b, ok := st.boundAt(9); ok {
		id := c[:9]
		switch {
		case nieValid(id):
			st.add(ESNIE, start, b.end, 1.0, "nif-letter")
			return b.tok
		case nifValid(id):
			st.add(ESNIF, start, b.end, 1.0, "nif-letter")
			return b.tok
		case firstUpper && cifValid(id):
			st.add(ESCIF, start, b.end, 0.95, "cif-control")
			return b.tok
		case firstUpper && isUpperASCII(text[start+1]) && ninoValid(id):
			score := 0.7
			if st.ctxIn(start-60, b.end, ctxNINO) {
				score = 0.95
			}
			st.add(UKNINO, start, b.end, score, "nino-format")
			return b.tok
		case firstUpper && isUpperASCII(c[1]) && isUpperASCII(c[2]) && allDigits(id[3:]) &&
			st.ctxIn(start-60, b.end+10, ctxPassport):
			st.add(ESPassport, start, b.end, 0.85, "format+context")
			return b.tok
		}
	}
	if b, ok := st.boundAt(7); ok && allDigits(c[:4]) && plateLetters(c[4:7]) && isUpperASCII(text[b.end-1]) &&
		st.ctxIn(start-80, b.end+20, ctxPlate) {
		st.add(ESLicensePlate, start, b.end, 0.85, "format+context")
		return b.tok
	}
	return i
}
