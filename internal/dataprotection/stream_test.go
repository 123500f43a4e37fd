package dataprotection

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"testing"
)

func testOperator(tb testing.TB, kind string) *Operator {
	tb.Helper()
	op, err := NewOperator(kind, []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		tb.Fatalf("NewOperator(%s): %v", kind, err)
	}
	return op
}

func redactString(tb testing.TB, s *Scanner, in string, f Format, op *Operator) string {
	tb.Helper()
	var out bytes.Buffer
	if _, err := s.RedactStream(context.Background(), strings.NewReader(in), &out, f, op); err != nil {
		tb.Fatalf("RedactStream: %v", err)
	}
	return out.String()
}

func TestRedactJSONLKeepsJSON(t *testing.T) {
	s := newTestScanner(t, Options{})
	in := `{"id":1,"note":"tarjeta 4111 1111 1111 1111, mail a\"b@example.com","cvv":"123","pan":4111111111111111}` + "\n" +
		`{"id":2,"note":"sin datos"}` + "\n"
	out := redactString(t, s, in, FormatJSONL, testOperator(t, OpRedact))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2: %q", len(lines), out)
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("line %q is not valid JSON", l)
		}
	}
	want := `{"id":1,"note":"tarjeta <CREDIT_CARD>, mail a\"<EMAIL_ADDRESS>","cvv":"<CARD_CVV>","pan":"<CREDIT_CARD>"}`
	if lines[0] != want {
		t.Errorf("line 1 = %s\nwant     %s", lines[0], want)
	}
	if lines[1] != `{"id":2,"note":"sin datos"}` {
		t.Errorf("line 2 changed: %s", lines[1])
	}
}

func TestScanJSONLOffsets(t *testing.T) {
	s := newTestScanner(t, Options{})
	in := `{"a":"x\n4111 1111 1111 1111"}` + "\n" + `{"b":"DNI 12345678Z"}` + "\n"
	var got []string
	_, err := s.ScanStream(context.Background(), strings.NewReader(in), FormatJSONL, func(f Finding, _ []byte) error {
		got = append(got, string(f.Entity)+"="+in[f.Start:f.End])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "CREDIT_CARD=4111 1111 1111 1111 ES_NIF=12345678Z"
	if strings.Join(got, " ") != want {
		t.Errorf("findings = %q, want %q", strings.Join(got, " "), want)
	}
}

func TestRedactCSVKeepsColumns(t *testing.T) {
	s := newTestScanner(t, Options{})
	in := "name,card,cvv,comment\n" +
		"Ana,4111-1111-1111-1111,123,\"dice \"\"hola\"\", tel 612 345 678\"\n" +
		"Luis,5500 0000 0000 0004,999,\"multi\nline\"\n"
	out := redactString(t, s, in, FormatCSV, testOperator(t, OpMask))
	want := "name,card,cvv,comment\n" +
		"***,4111-11**-****-1111,***,\"dice \"\"hola\"\", tel *** *** 678\"\n" +
		"****,5500 00** **** 0004,***,\"multi\nline\"\n"
	if out != want {
		t.Errorf("redacted CSV =\n%s\nwant\n%s", out, want)
	}
}

func TestTextChunkBoundaries(t *testing.T) {
	s := newTestScanner(t, Options{})
	card := "4111 1111 1111 1111"
	// Place cards around every chunk cut region.
	var b strings.Builder
	filler := strings.Repeat("palabra ", 16) + "\n"
	n := 0
	for b.Len() < 3*chunkSize {
		b.WriteString(filler)
		if b.Len()%(chunkSize-chunkTail) < 300 || n%50 == 0 {
			b.WriteString("tarjeta " + card + " fin\n")
		}
		n++
	}
	in := b.String()
	want := strings.Count(in, card)
	var found int
	_, err := s.ScanStream(context.Background(), strings.NewReader(in), FormatText, func(f Finding, _ []byte) error {
		if in[f.Start:f.End] != card {
			t.Errorf("finding %d..%d = %q, want the card", f.Start, f.End, in[f.Start:f.End])
		}
		found++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found != want {
		t.Errorf("found %d cards, want %d", found, want)
	}
	out := redactString(t, s, in, FormatText, testOperator(t, OpRedact))
	if strings.Contains(out, card) {
		t.Error("a card survived redaction")
	}
	if got := strings.Count(out, "<CREDIT_CARD>"); got != want {
		t.Errorf("redacted %d cards, want %d", got, want)
	}
	if strings.ReplaceAll(in, card, "<CREDIT_CARD>") != out {
		t.Error("redaction changed more than the cards")
	}
}

func TestOperators(t *testing.T) {
	pan := []byte("4111 1111 1111 1111")
	for _, kind := range OperatorKinds() {
		op := testOperator(t, kind)
		out, err := op.Apply(CreditCard, pan)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if bytes.Contains(bytes.ReplaceAll(out, []byte(" "), nil), []byte("4111111111111111")) {
			t.Errorf("%s left the PAN readable: %s", kind, out)
		}
		switch kind {
		case OpMask:
			if string(out) != "4111 11** **** 1111" {
				t.Errorf("mask = %s", out)
			}
		case OpHash, OpToken:
			again, _ := op.Apply(CreditCard, []byte("4111-1111-1111-1111"))
			if !bytes.Equal(out, again) {
				t.Errorf("%s is not deterministic across separators: %s vs %s", kind, out, again)
			}
		case OpEncrypt:
			back, err := op.Reveal(out)
			if err != nil || !bytes.Equal(back, pan) {
				t.Errorf("Reveal(%s) = %s, %v", out, back, err)
			}
			other := testOperator(t, OpEncrypt)
			other.aead = mustOtherKey(t).aead
			if _, err := other.Reveal(out); err == nil {
				t.Error("Reveal with another key succeeded")
			}
		case OpFPE:
			if len(out) != len(pan) || string(out[:7]) != "4111 11" || string(out[15:]) != "1111" {
				t.Errorf("fpe = %s, want card-shaped with BIN and last four", out)
			}
			back, err := op.Reveal(out)
			if err != nil || !bytes.Equal(back, pan) {
				t.Errorf("Reveal(%s) = %s, %v", out, back, err)
			}
		}
	}
	cvv, _ := testOperator(t, OpMask).Apply(CardCVV, []byte("123"))
	if string(cvv) != "***" {
		t.Errorf("mask(CVV) = %s, want ***", cvv)
	}
	if _, err := NewOperator(OpHash, []byte("short")); err == nil {
		t.Error("NewOperator accepted a short key")
	}
}

func mustOtherKey(t *testing.T) *Operator {
	op, err := NewOperator(OpEncrypt, []byte("another key, also long enough!!"))
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func TestOverlongRecord(t *testing.T) {
	s := newTestScanner(t, Options{})
	in := `{"a":"` + strings.Repeat("x", MaxRecord) + `"}` + "\n" + `{"b":"DNI 12345678Z"}` + "\n"
	var got []string
	rep, err := s.ScanStream(context.Background(), strings.NewReader(in), FormatJSONL, func(f Finding, v []byte) error {
		got = append(got, string(v))
		if in[f.Start:f.End] != string(v) {
			t.Errorf("offsets %d..%d do not point at %q", f.Start, f.End, v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "skipped") {
		t.Errorf("warnings = %q, want one about the skipped record", rep.Warnings)
	}
	if len(got) != 1 || got[0] != "12345678Z" {
		t.Errorf("findings after the long record = %q", got)
	}
	// Redaction refuses rather than let the record through.
	if _, err := s.RedactStream(context.Background(), strings.NewReader(in), io.Discard, FormatJSONL, testOperator(t, OpRedact)); err == nil {
		t.Error("RedactStream accepted an over-long record")
	}
}

// TestStreamReportCounts: a report counts exactly the findings handed to
// the callback, per entity, in every streamed format and across chunks;
// a redaction counts the same; a scan stopped by its callback counts the
// findings up to the stop.
func TestStreamReportCounts(t *testing.T) {
	s := newTestScanner(t, Options{})
	var text, jl, csvIn strings.Builder
	csvIn.WriteString("id,note\n")
	for i := 0; text.Len() < 2*chunkSize+chunkSize/2; i++ {
		seed := fuzzSeeds[i%len(fuzzSeeds)]
		text.WriteString(seed + "\n")
		if jl.Len() < chunkSize/4 {
			b, _ := json.Marshal(map[string]string{"note": seed})
			jl.Write(append(b, '\n'))
			csvIn.WriteString(fmt.Sprintf("%d,%q\n", i, strings.ReplaceAll(seed, `"`, `'`)))
		}
	}
	for _, c := range []struct {
		f  Format
		in string
	}{{FormatText, text.String()}, {FormatJSONL, jl.String()}, {FormatCSV, csvIn.String()}} {
		got := map[Entity]int{}
		rep, err := s.ScanStream(context.Background(), strings.NewReader(c.in), c.f, func(f Finding, _ []byte) error {
			got[f.Entity]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) < 3 || !maps.Equal(rep.Counts, got) {
			t.Errorf("format %v: report counts %v, callback saw %v", c.f, rep.Counts, got)
		}
		red, err := s.RedactStream(context.Background(), strings.NewReader(c.in), io.Discard, c.f, testOperator(t, OpMask))
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(red.Counts, got) {
			t.Errorf("format %v: redaction counts %v, want %v", c.f, red.Counts, got)
		}
	}
	errStop := errors.New("stop")
	n := 0
	rep, err := s.ScanStream(context.Background(), strings.NewReader(text.String()), FormatText, func(Finding, []byte) error {
		if n++; n == 7 {
			return errStop
		}
		return nil
	})
	total := 0
	for _, k := range rep.Counts {
		total += k
	}
	if !errors.Is(err, errStop) || total != 7 {
		t.Errorf("stopped scan: err %v, counts %v (%d), want errStop and 7", err, rep.Counts, total)
	}
}
