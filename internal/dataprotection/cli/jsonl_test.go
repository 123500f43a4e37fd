package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/custodia/custodia/internal/dataprotection"
)

// marshalLine is what "custodia scan" printed per finding before
// lineEncoder: json.Marshal of a findingLine.
func marshalLine(path string, f dataprotection.Finding, masked, value []byte) ([]byte, error) {
	return json.Marshal(findingLine{Path: path, Entity: string(f.Entity), Start: f.Start, End: f.End,
		Score: f.Score, Validator: f.Validator, Masked: string(masked), Value: string(value)})
}

// sprintTextLine is what "custodia scan --format text" printed per finding
// before appendTextLine.
func sprintTextLine(path string, f dataprotection.Finding, v []byte) string {
	return fmt.Sprintf("%s:%d-%d\t%s\t%.2f\t%s\t%q\n", path, f.Start, f.End, f.Entity, f.Score, f.Validator, string(v))
}

// lineCases cover every escape encoding/json makes and the float formats.
var lineCases = []struct {
	path          string
	f             dataprotection.Finding
	masked, value string
}{
	{"a.txt", dataprotection.Finding{Entity: "CREDIT_CARD", Start: 23, End: 42, Score: 1, Validator: "luhn"}, "4111 11** **** 1111", ""},
	{"a.txt", dataprotection.Finding{Entity: "PHONE_NUMBER", Start: 0, End: 9, Score: 0.85, Validator: "libphonenumber"}, "******322", "612345322"},
	{`dir/<b>&"q"\x.txt`, dataprotection.Finding{Entity: "PERSON", Score: 0.7, Validator: "name-list"}, "<*> & \"*\"", `a\b<c>&d"e`},
	{"ctl\x00\x01\x1f\b\f\n\r\t\x7f.txt", dataprotection.Finding{Entity: "URL", Score: 0.5, Validator: "v\u2028\u2029"}, "\u2028x\u2029", "é€𝄞"},
	{"bad\xff\xfe\xc3.txt", dataprotection.Finding{Entity: "EMAIL_ADDRESS", Start: 1 << 40, End: -3, Score: -0.0, Validator: "\xed\xa0\x80"}, "\xc3(", "\xf4\x90\x80\x80 \xe2\x80"},
	{"tiny", dataprotection.Finding{Entity: "X", Score: 1e-7, Validator: "e"}, "", ""},
	{"tiny", dataprotection.Finding{Entity: "X", Score: 1e-6, Validator: "e"}, "m", ""},
	{"huge", dataprotection.Finding{Entity: "X", Score: 1e21, Validator: "e"}, "m", "v"},
	{"huge", dataprotection.Finding{Entity: "X", Score: 123456789012345678901.0 / 10, Validator: "f"}, "m", "v"},
	{"neg", dataprotection.Finding{Entity: "X", Score: -2.5e-300, Validator: "e"}, "m", "v"},
	{"neg", dataprotection.Finding{Entity: "X", Score: -math.MaxFloat64, Validator: "e"}, "m", "v"},
	{"odd", dataprotection.Finding{Entity: "X", Score: 0.1 + 0.2, Validator: "f"}, "m", "v"},
	{"odd", dataprotection.Finding{Entity: "X", Score: 0.005, Validator: "f"}, "m", "v"},
	{"odd", dataprotection.Finding{Entity: "X", Score: 0.015, Validator: "f"}, "m", "v"},
}

// TestAppendLineMatchesMarshal: the hand-written encoder gives the bytes
// json.Marshal gives, with one encoder reused across paths and scores.
func TestAppendLineMatchesMarshal(t *testing.T) {
	var le lineEncoder
	var buf []byte
	for _, c := range lineCases {
		want, err := marshalLine(c.path, c.f, []byte(c.masked), []byte(c.value))
		if err != nil {
			t.Fatal(err)
		}
		buf, err = le.appendLine(buf[:0], c.path, c.f, []byte(c.masked), []byte(c.value))
		if err != nil || string(buf) != string(want) {
			t.Errorf("appendLine(%q, %+v, %q, %q) =\n%s, %v\nwant\n%s", c.path, c.f, c.masked, c.value, buf, err, want)
		}
	}
}

// TestAppendTextLineMatchesSprintf: the text line is fmt's, byte for byte.
func TestAppendTextLineMatchesSprintf(t *testing.T) {
	for _, c := range lineCases {
		want := sprintTextLine(c.path, c.f, []byte(c.masked))
		if got := appendTextLine(nil, c.path, c.f, []byte(c.masked)); string(got) != want {
			t.Errorf("appendTextLine(%q, %+v, %q) = %q, want %q", c.path, c.f, c.masked, got, want)
		}
	}
}

// TestNonFiniteScore: like json.Marshal, the encoder refuses NaN and
// infinities with the same error; the text line prints them as fmt does.
func TestNonFiniteScore(t *testing.T) {
	var le lineEncoder
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		f := dataprotection.Finding{Entity: "X", Score: x, Validator: "v"}
		_, wantErr := marshalLine("p", f, []byte("m"), nil)
		_, err := le.appendLine(nil, "p", f, []byte("m"), nil)
		if err == nil || wantErr == nil || err.Error() != wantErr.Error() {
			t.Errorf("appendLine(score %v) error = %v, want %v", x, err, wantErr)
		}
		if got, want := string(appendTextLine(nil, "p", f, []byte("m"))), sprintTextLine("p", f, []byte("m")); got != want {
			t.Errorf("appendTextLine(score %v) = %q, want %q", x, got, want)
		}
	}
}

// TestAppendLineNoAlloc: encoding a finding into a buffer with room
// allocates nothing.
func TestAppendLineNoAlloc(t *testing.T) {
	var le lineEncoder
	buf := make([]byte, 0, 1024)
	f := dataprotection.Finding{Entity: "PHONE_NUMBER", Start: 52, End: 61, Score: 0.9, Validator: "libphonenumber"}
	masked, value := []byte("******322"), []byte("612 345 322 <ñ>")
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = le.appendLine(buf[:0], "/tmp/corpus.txt", f, masked, value)
		buf = appendTextLine(buf[:0], "/tmp/corpus.txt", f, masked)
	})
	if allocs != 0 {
		t.Errorf("appendLine+appendTextLine allocate %v times per finding, want 0", allocs)
	}
}

// FuzzFindingLine compares the encoder with json.Marshal, and the text
// line with fmt, on arbitrary paths, entities, validators, values, offsets
// and scores. Each input is encoded twice with one encoder, once after a
// line for another path, to exercise the cached path.
func FuzzFindingLine(f *testing.F) {
	for _, c := range lineCases {
		f.Add(c.path, string(c.f.Entity), c.f.Validator, c.masked, c.value, int64(c.f.Start), int64(c.f.End), c.f.Score)
	}
	f.Fuzz(func(t *testing.T, path, entity, validator, masked, value string, start, end int64, score float64) {
		fd := dataprotection.Finding{Entity: dataprotection.Entity(entity), Start: int(start), End: int(end), Score: score, Validator: validator}
		want, wantErr := marshalLine(path, fd, []byte(masked), []byte(value))
		var le lineEncoder
		for _, prev := range []string{"", path + "x"} {
			if prev != "" {
				if _, err := le.appendLine(nil, prev, dataprotection.Finding{Score: 0.5}, nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			got, err := le.appendLine([]byte("x"), path, fd, []byte(masked), []byte(value))
			if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Fatalf("appendLine error = %v, want %v", err, wantErr)
			}
			if err == nil && string(got) != "x"+string(want) {
				t.Fatalf("appendLine =\n%q\nwant\n%q", got[1:], want)
			}
		}
		if got, want := string(appendTextLine(nil, path, fd, []byte(masked))), sprintTextLine(path, fd, []byte(masked)); got != want {
			t.Fatalf("appendTextLine = %q, want %q", got, want)
		}
	})
}

// BenchmarkAppendLine encodes a typical finding: the per-finding cost of
// "custodia scan" outside the engine.
func BenchmarkAppendLine(b *testing.B) {
	var le lineEncoder
	buf := make([]byte, 0, 1024)
	f := dataprotection.Finding{Entity: "EMAIL_ADDRESS", Start: 12345678, End: 12345707, Score: 1, Validator: "public-suffix"}
	masked := []byte("t****************@yahoo.co.uk")
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = le.appendLine(buf[:0], "/tmp/custodia-dpbench/corpus-64mb.txt", f, masked, nil)
	}
}

// TestPlain8: the eight-byte test agrees with jsonSafe for every byte at
// every position among safe bytes, and on random blocks.
func TestPlain8(t *testing.T) {
	want := func(x uint64) bool {
		for k := 0; k < 8; k++ {
			if c := byte(x >> (8 * k)); c >= utf8.RuneSelf || !jsonSafe[c] {
				return false
			}
		}
		return true
	}
	for _, fill := range []byte{'a', ' ', '=', '?', '[', '~', 0x21, 0x7f} {
		for k := 0; k < 8; k++ {
			for c := 0; c < 256; c++ {
				x := uint64(fill) * 0x0101010101010101
				x = x&^(0xff<<(8*k)) | uint64(c)<<(8*k)
				if got := plain8(x); got != want(x) {
					t.Fatalf("plain8(%#016x) = %v, want %v", x, got, want(x))
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1 << 20 {
		x := rng.Uint64()
		if rng.IntN(2) == 0 { // mostly ASCII above the controls: the interesting half
			x = x&0x7f7f7f7f7f7f7f7f | 0x2020202020202020
		}
		if got := plain8(x); got != want(x) {
			t.Fatalf("plain8(%#016x) = %v, want %v", x, got, want(x))
		}
	}
}
