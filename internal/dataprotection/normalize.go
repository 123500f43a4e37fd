package dataprotection

// NumberRun is a run of written or spoken digits found by NormalizeNumbers.
type NumberRun struct {
	Start, End int    // byte span of the words and digits
	Digits     string // the digits they say
}

// NormalizeNumbers returns the number runs in text as the scanner sees
// them: "cuatro cinco siete uno" is 4571, "doble cinco" 55, "seiscientos
// doce" 612, "four five seven one" 4571, and digit groups separated by
// blanks or dashes are joined. It is the spoken-number normalizer behind
// the scanner, exposed for tests and tools.
func (s *Scanner) NormalizeNumbers(text []byte) []NumberRun {
	st := s.pool.Get().(*scanState)
	defer s.pool.Put(st)
	st.reset(s, text)
	st.tokenize()
	var runs []NumberRun
	for i := 0; i < len(st.toks); {
		t := st.toks[i]
		if t.kind&tkDigits != 0 || t.kind&tkHasDigit == 0 && st.isNumberWord(i) {
			next := st.collect(i)
			if len(st.units) > 0 {
				runs = append(runs, NumberRun{Start: st.units[0].start, End: st.units[len(st.units)-1].end, Digits: string(st.digits)})
			}
			if next > i {
				i = next
				continue
			}
		}
		i++
	}
	st.text = nil
	return runs
}
