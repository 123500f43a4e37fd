package dataprotection

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// scanDomainsRef is the token-by-token scanDomains that the dot-driven
// one replaced: the reference for TestScanDomainsMatchesReference.
func (st *scanState) scanDomainsRef() {
	text := st.text
	toks := st.toks
	for i := 0; i+1 < len(toks); i++ {
		t := toks[i]
		if t.kind&tkAlpha == 0 || int(t.end) >= len(text) || text[t.end] != '.' || toks[i+1].start != t.end+1 {
			continue
		}
		if t.start > 0 {
			if c := text[t.start-1]; c == '@' || c == '.' || c == '/' || c == ':' || isDomainByte(c) {
				continue
			}
		}
		// Collect label.label… up to a non-domain byte.
		e := int(t.end)
		for e < len(text) && isDomainByte(text[e]) {
			e++
		}
		for e > int(t.end) && (text[e-1] == '.' || text[e-1] == '-') {
			e--
		}
		if e < len(text) && text[e] == '@' {
			continue
		}
		host := text[t.start:e]
		www := len(host) > 4 && (host[0]|0x20) == 'w' && (host[1]|0x20) == 'w' && (host[2]|0x20) == 'w' && host[3] == '.'
		if !www && !commonTLD(host) {
			continue
		}
		if !st.knownSuffix(host) {
			continue
		}
		end := e
		if e < len(text) && (text[e] == '/' || text[e] == '?') {
			end = st.urlEnd(e)
		}
		score := 0.6
		if www {
			score = 0.85
		}
		st.add(URL, int(t.start), end, score, "domain")
		for i+1 < len(toks) && int(toks[i+1].start) < end {
			i++
		}
	}
}

// CompareScanDomains runs scanDomains and the reference on text and
// returns both results (for the corpus test in the external package).
func CompareScanDomains(s *Scanner, text []byte) (got, want []Finding) {
	for k, f := range []func(*scanState){(*scanState).scanDomains, (*scanState).scanDomainsRef} {
		st := new(scanState)
		st.reset(s, text)
		st.tokenize()
		f(st)
		if k == 0 {
			got = slices.Clone(st.found)
		} else {
			want = slices.Clone(st.found)
		}
	}
	return got, want
}

// TestScanDomainsMatchesReference compares scanDomains with the
// token-by-token reference on random text made of domain-like pieces,
// accents, digits and punctuation (the corpus test is
// TestScanDomainsOnCorpus).
func TestScanDomainsMatchesReference(t *testing.T) {
	s := newTestScanner(t, Options{})
	pieces := []string{"www", "gmail", "com", "co", "uk", "es", "café", "ñandú", "example", "org", "io", "x", "123", "4.5",
		".", ".", ".", "..", " ", " ", "-", "@", "/", "?", ":", "é", "\xc3", "\xa9", "\n", "https", "path", "WWW", "COM"}
	r := rand.New(rand.NewPCG(7, 8))
	found := 0
	for range 50000 {
		var b []byte
		for n := r.IntN(12); n >= 0; n-- {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		got, want := CompareScanDomains(s, b)
		if !slices.Equal(got, want) {
			t.Fatalf("scanDomains(%q) = %v, reference %v", b, got, want)
		}
		found += len(want)
	}
	if found < 500 {
		t.Errorf("only %d domains found in the random texts: they do not exercise the scan", found)
	}
}
