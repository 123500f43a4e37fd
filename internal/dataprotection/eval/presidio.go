package eval

import (
	"encoding/json"
	"fmt"
	"os"
	"unicode"
	"unicode/utf8"

	dp "github.com/custodia/custodia/internal/dataprotection"
)

// presidioSample is one sentence of presidio-research's synth_dataset_v2.
type presidioSample struct {
	FullText string `json:"full_text"`
	Spans    []struct {
		EntityType string `json:"entity_type"`
		Start      int    `json:"start_position"`
		End        int    `json:"end_position"`
	} `json:"spans"`
}

// PresidioGoldMap maps the data set's entity types to the names scored;
// types absent from it (ORGANIZATION, TITLE, AGE, NRP, ZIP_CODE,
// US_DRIVER_LICENSE) become "O", as in presidio-research's evaluation of
// Presidio, which does not detect them either.
var PresidioGoldMap = map[string]string{
	"PERSON": "PERSON", "GPE": "LOCATION", "STREET_ADDRESS": "LOCATION", "CREDIT_CARD": "CREDIT_CARD",
	"PHONE_NUMBER": "PHONE_NUMBER", "EMAIL_ADDRESS": "EMAIL_ADDRESS", "IBAN_CODE": "IBAN_CODE",
	"US_SSN": "US_SSN", "IP_ADDRESS": "IP_ADDRESS", "DOMAIN_NAME": "URL", "DATE_TIME": "DATE_TIME",
}

// presidioPredMap maps our entities to the scored names; the others
// (the Spanish identifiers, CVV…) have no counterpart there and are "O".
var presidioPredMap = map[dp.Entity]string{
	dp.Person: "PERSON", dp.Location: "LOCATION", dp.CreditCard: "CREDIT_CARD", dp.PhoneNumber: "PHONE_NUMBER",
	dp.EmailAddress: "EMAIL_ADDRESS", dp.IBANCode: "IBAN_CODE", dp.USSSN: "US_SSN", dp.IPAddress: "IP_ADDRESS",
	dp.URL: "URL", dp.DateOfBirth: "DATE_TIME", dp.DateTime: "DATE_TIME",
}

// PresidioResult holds token-level counts on the presidio-research set.
type PresidioResult struct {
	Sentences int
	Tokens    int
	PerEntity map[string]*Counts
	// Excluding lists entities left out of Overall (see OverallExcluding).
}

// Overall sums every scored entity.
func (r *PresidioResult) Overall(exclude ...string) Counts {
	var c Counts
	for e, x := range r.PerEntity {
		skip := false
		for _, ex := range exclude {
			skip = skip || ex == e
		}
		if skip {
			continue
		}
		c.TP += x.TP
		c.FP += x.FP
		c.FN += x.FN
	}
	return c
}

// tokenize splits text like spaCy does for the cases that matter here:
// runs of letters and digits are tokens, every other non-space character
// is a token of its own. It returns rune offsets.
func tokenize(runes []rune) [][2]int {
	var toks [][2]int
	for i := 0; i < len(runes); {
		c := runes[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case unicode.IsLetter(c) || unicode.IsDigit(c):
			j := i
			for j < len(runes) && (unicode.IsLetter(runes[j]) || unicode.IsDigit(runes[j])) {
				j++
			}
			toks = append(toks, [2]int{i, j})
			i = j
		default:
			toks = append(toks, [2]int{i, i + 1})
			i++
		}
	}
	return toks
}

// Presidio scores the scanner on presidio-research's synth_dataset_v2.json
// at the token level: each token takes the entity of the gold span and of
// the finding it overlaps; a token counts as TP for E when both are E, FP
// for E when only the prediction is E, FN for E when only the gold is E.
func Presidio(s *dp.Scanner, path string) (*PresidioResult, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read presidio set: %w", err)
	}
	var samples []presidioSample
	if err := json.Unmarshal(raw, &samples); err != nil {
		return nil, fmt.Errorf("parse presidio set: %w", err)
	}
	res := &PresidioResult{PerEntity: map[string]*Counts{}}
	get := func(e string) *Counts {
		c := res.PerEntity[e]
		if c == nil {
			c = &Counts{}
			res.PerEntity[e] = c
		}
		return c
	}
	for _, smp := range samples {
		res.Sentences++
		runes := []rune(smp.FullText)
		text := []byte(smp.FullText)
		// Byte offset → rune offset.
		runeAt := make([]int, len(text)+1)
		ri := 0
		for bi := 0; bi < len(text); {
			_, size := utf8.DecodeRune(text[bi:])
			for k := 0; k < size; k++ {
				runeAt[bi+k] = ri
			}
			bi += size
			ri++
		}
		runeAt[len(text)] = ri
		gold := make([]string, len(runes))
		pred := make([]string, len(runes))
		for _, sp := range smp.Spans {
			name, ok := PresidioGoldMap[sp.EntityType]
			if !ok {
				continue
			}
			for k := max(sp.Start, 0); k < sp.End && k < len(runes); k++ {
				gold[k] = name
			}
		}
		for _, f := range s.Scan(text) {
			name, ok := presidioPredMap[f.Entity]
			if !ok {
				continue
			}
			for k := runeAt[f.Start]; k < runeAt[f.End]; k++ {
				pred[k] = name
			}
		}
		for _, t := range tokenize(runes) {
			res.Tokens++
			g, p := "", ""
			for k := t[0]; k < t[1]; k++ {
				if g == "" {
					g = gold[k]
				}
				if p == "" {
					p = pred[k]
				}
			}
			switch {
			case g != "" && g == p:
				get(g).TP++
			default:
				if p != "" {
					get(p).FP++
				}
				if g != "" {
					get(g).FN++
				}
			}
		}
	}
	return res, nil
}
