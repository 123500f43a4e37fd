package dataprotection

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"mi tarjeta es 4111 1111 1111 1111 gracias",
	"Cliente: cuatro uno uno uno, uno uno uno uno\nAgente: sí\nCliente: uno uno uno uno uno uno uno uno",
	"Agent: CVV?\nCustomer: oh... five... four",
	"IBAN ES91 2100 0418 4502 0005 1332, DNI 12.345.678-Z, NIE X-1234567-L",
	"mail ana@example.com http://x.es/a?b 2001:db8::1 10:30:00 192.168.0.1",
	"\xff\xfe\x00 1234 5678 9012 3456 \xc3",
	"seiscientos doce tres cuatro cinco doble seis",
	"Me llamo Lucía Fernández, vivo en Calle Mayor 5, 28013 Madrid",
	"Billing address: Olli Rantala\n  5120 Hämeenkatu 7\n Apt. 12\n TAMPERE\n\n Finland 33100",
	"lives at the corner of 5 Elm Street and Oak Avenue. PSC 1234, Box 5678\nAPO AE 09876 P.O. Box 1",
	"Name: Ilsabet K. Vorontsova\nA: hi\nB: yo\nC: hey\nflew to NORDHAUSEN; says Okafor. A, B, C and D",
	strings.Repeat("9", 200),
	strings.Repeat("uno ", 100),
}

// FuzzScan checks that any input scans without a crash and that findings
// are in bounds, ordered and disjoint.
func FuzzScan(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	s, err := NewScanner(Options{FailClosed: true, Entities: AllEntities()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		prev := 0
		for _, x := range s.Scan(data) {
			if x.Start < prev || x.End <= x.Start || x.End > len(data) {
				t.Fatalf("bad finding %+v (prev end %d, len %d)", x, prev, len(data))
			}
			prev = x.End
		}
	})
}

// FuzzNormalizeNumbers checks the spoken-number normalizer: no crash,
// runs in bounds, digits only; and digits said one by one come back.
func FuzzNormalizeNumbers(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, "4571")
	}
	s, _ := NewScanner(Options{})
	words := []string{"cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"}
	f.Fuzz(func(t *testing.T, text, digits string) {
		for _, r := range s.NormalizeNumbers([]byte(text)) {
			if r.Start < 0 || r.End > len(text) || r.Start >= r.End {
				t.Fatalf("run %+v out of bounds", r)
			}
			for _, c := range r.Digits {
				if c < '0' || c > '9' {
					t.Fatalf("run %+v has a non-digit", r)
				}
			}
		}
		var said []string
		var want []byte
		for _, c := range []byte(digits) {
			if c >= '0' && c <= '9' && len(want) < 30 {
				said = append(said, words[c-'0'])
				want = append(want, c)
			}
		}
		if len(said) == 0 {
			return
		}
		runs := s.NormalizeNumbers([]byte(strings.Join(said, " ")))
		if len(runs) != 1 || runs[0].Digits != string(want) {
			t.Fatalf("NormalizeNumbers(%q) = %+v, want %s", strings.Join(said, " "), runs, want)
		}
	})
}

// FuzzJSONL checks the JSONL reader and writer: no crash, and a line that
// was valid JSON stays valid JSON after redaction.
func FuzzJSONL(f *testing.F) {
	f.Add([]byte(`{"a":"4111 1111 1111 1111","b":[1,2,"x\u00e9\"y"],"c":4111111111111111}` + "\n" + `{"t":"ok"}`))
	f.Add([]byte(`{"a":"unterminated`))
	f.Add([]byte("\"\\ud800\" \"\\u12\"\n[\"12.345.678-Z\"]"))
	s, _ := NewScanner(Options{})
	op, _ := NewOperator(OpRedact, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		if _, err := s.RedactStream(context.Background(), bytes.NewReader(data), &out, FormatJSONL, op); err != nil {
			return
		}
		in := bytes.Split(data, []byte("\n"))
		got := bytes.Split(out.Bytes(), []byte("\n"))
		if len(in) != len(got) {
			t.Fatalf("line count changed: %d -> %d", len(in), len(got))
		}
		for i := range in {
			if json.Valid(in[i]) && !json.Valid(got[i]) {
				t.Fatalf("line %d: %q became invalid JSON %q", i, in[i], got[i])
			}
		}
		if _, err := s.ScanStream(context.Background(), bytes.NewReader(data), FormatJSON, func(Finding, []byte) error { return nil }); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzCSV checks the CSV reader and writer: no crash, and a file that
// encoding/csv reads keeps its number of records and fields.
func FuzzCSV(f *testing.F) {
	f.Add([]byte("a,b,c\n4111 1111 1111 1111,\"x,\"\"y\"\"\",612 345 678\n"))
	f.Add([]byte("a;b\n\"open"))
	f.Add([]byte("h\n\"multi\nline 12345678Z\"\n"))
	s, _ := NewScanner(Options{})
	op, _ := NewOperator(OpMask, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		if _, err := s.RedactStream(context.Background(), bytes.NewReader(data), &out, FormatCSV, op); err != nil {
			return
		}
		r1 := csv.NewReader(bytes.NewReader(data))
		r1.FieldsPerRecord = -1
		before, err := r1.ReadAll()
		if err != nil || !bytes.Contains(data, []byte{','}) || bytes.ContainsAny(data, ";\t|\r") {
			return
		}
		r2 := csv.NewReader(bytes.NewReader(out.Bytes()))
		r2.FieldsPerRecord = -1
		after, err := r2.ReadAll()
		if err != nil {
			t.Fatalf("redacted CSV unreadable: %v\nin:  %q\nout: %q", err, data, out.Bytes())
		}
		if len(before) != len(after) {
			t.Fatalf("records %d -> %d", len(before), len(after))
		}
		for i := range before {
			if len(before[i]) != len(after[i]) {
				t.Fatalf("record %d: fields %d -> %d\nin:  %q\nout: %q", i, len(before[i]), len(after[i]), data, out.Bytes())
			}
		}
	})
}

// FuzzText checks chunked text scanning against whole-buffer scanning on
// small inputs and that redaction never fails on text.
func FuzzText(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	s, _ := NewScanner(Options{})
	op, _ := NewOperator(OpRedact, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		want := s.Scan(data)
		var got []Finding
		_, err := s.ScanStream(context.Background(), bytes.NewReader(data), FormatText, func(x Finding, _ []byte) error {
			got = append(got, x)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("stream found %d, whole buffer %d", len(got), len(want))
		}
		if _, err := s.RedactStream(context.Background(), bytes.NewReader(data), io.Discard, FormatText, op); err != nil {
			t.Fatal(err)
		}
	})
}
