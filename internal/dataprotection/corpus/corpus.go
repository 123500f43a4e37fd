// Package corpus generates labelled contact-center material in Spanish and
// English (call transcripts with ASR-style spoken numbers, chats, e-mails,
// CRM notes and CSV exports) for evaluating the data-protection scanner.
// Every document comes from a template; the train and eval splits never
// share one. The material also holds numbers that are not personal data
// (order ids, amounts, timestamps, tracking, IMEI-like and invoice
// numbers), which must not be flagged.
package corpus

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/custodia/custodia/internal/dataprotection"
)

// Span is a labelled piece of sensitive data: byte offsets, end exclusive.
type Span struct {
	Entity dataprotection.Entity `json:"entity"`
	Start  int                   `json:"start"`
	End    int                   `json:"end"`
	Spoken bool                  `json:"spoken,omitempty"`
}

// Document is one generated text with its labels.
type Document struct {
	Kind     string `json:"kind"` // transcript, chat, email, crm, csv
	Lang     string `json:"lang"`
	Template string `json:"template"`
	Text     string `json:"text"`
	Spans    []Span `json:"spans"`
}

// Split selects the templates a document may come from.
type Split int

// Splits. Clean documents hold no personal data at all.
const (
	Train Split = iota
	Eval
	Clean
)

// builder appends text and records labelled spans.
type builder struct {
	b     strings.Builder
	spans []Span
}

func (b *builder) text(s string) *builder { b.b.WriteString(s); return b }

func (b *builder) textf(format string, args ...any) *builder {
	fmt.Fprintf(&b.b, format, args...)
	return b
}

func (b *builder) pii(e dataprotection.Entity, v string) *builder {
	start := b.b.Len()
	b.b.WriteString(v)
	b.spans = append(b.spans, Span{Entity: e, Start: start, End: b.b.Len()})
	return b
}

func (b *builder) spoken(e dataprotection.Entity, v string) *builder {
	b.pii(e, v)
	b.spans[len(b.spans)-1].Spoken = true
	return b
}

// persona is the customer of one document.
type persona struct {
	first, last, last2 string
	city               string
}

// Name pools: half of them are in the scanner's embedded lists, half are
// not, so PERSON recall is measured on names the lists do not know.
var (
	firstKnown  = []string{"Lucía", "Javier", "María", "Carlos", "Ana", "Pablo", "Elena", "Jorge", "Laura", "Miguel", "Sarah", "James", "Emily", "Thomas"}
	firstUnseen = []string{"Iratxe", "Xoán", "Anxo", "Eneko", "Maialen", "Zuriñe", "Yeray", "Dailos", "Ximena", "Nayara", "Oihane", "Brais", "Tobias", "Imogen", "Rupert", "Hollie"}
	lastKnown   = []string{"García", "Fernández", "López", "Martínez", "Sánchez", "Romero", "Navarro", "Smith", "Taylor", "Brown"}
	lastUnseen  = []string{"Urquijo", "Barrenetxea", "Olabarria", "Castiñeira", "Piñeiro", "Quiroga", "Sotomayor", "Villalobos", "Cifuentes", "Arrieta", "Pemberton", "Winslow", "Thackeray"}
	cities      = []string{"Madrid", "Valencia", "Sevilla", "Bilbao", "Zaragoza", "Málaga", "Ponferrada", "Talavera", "London", "Manchester"}
)

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

func newPersona(r *rand.Rand) persona {
	p := persona{city: pick(r, cities)}
	if r.IntN(2) == 0 {
		p.first = pick(r, firstKnown)
	} else {
		p.first = pick(r, firstUnseen)
	}
	if r.IntN(2) == 0 {
		p.last = pick(r, lastKnown)
	} else {
		p.last = pick(r, lastUnseen)
	}
	p.last2 = pick(r, lastUnseen)
	return p
}

// template writes one document.
type template struct {
	id   string
	kind string
	lang string
	fn   func(b *builder, r *rand.Rand, p persona, lang string)
}

// Generate returns n documents of the split, deterministic for a seed.
func Generate(split Split, n int, seed uint64) []Document {
	r := rand.New(rand.NewPCG(seed, uint64(split)+1))
	var pool []template
	for i, t := range templates() {
		switch {
		case split == Clean && t.kind == "clean":
			pool = append(pool, t)
		case split != Clean && t.kind != "clean" && i%2 == int(split):
			pool = append(pool, t)
		}
	}
	docs := make([]Document, 0, n)
	for i := 0; i < n; i++ {
		t := pool[r.IntN(len(pool))]
		var b builder
		t.fn(&b, r, newPersona(r), t.lang)
		docs = append(docs, Document{Kind: t.kind, Lang: t.lang, Template: t.id, Text: b.b.String(), Spans: b.spans})
	}
	return docs
}

// TemplateIDs returns the template ids of a split.
func TemplateIDs(split Split) []string {
	var ids []string
	for i, t := range templates() {
		if split == Clean && t.kind == "clean" || split != Clean && t.kind != "clean" && i%2 == int(split) {
			ids = append(ids, t.id)
		}
	}
	return ids
}
