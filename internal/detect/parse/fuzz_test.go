package parse

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/detect/event"
)

var seeds = []string{
	`<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="App"] msg`,
	`<34>Oct 11 22:14:15 mymachine su: 'su root' failed`,
	`<13>2026-02-05T17:32:18Z fw01 kernel: drop`,
	`CEF:0|Security|threatmanager|1.0|100|worm stopped|10|src=10.0.0.1 msg=a\=b c cs1Label=P cs1=x`,
	"LEEF:2.0|V|P|1.0|41|^|src=10.0.1.8^dst=10.0.0.5",
	"LEEF:1.0|V|P|1|2|a=b\tc=d",
	`devname="FG" logid=1 srcip=1.2.3.4 msg="x \" y"`,
	`{"Event":{"System":{"EventID":1,"Channel":"Security","Provider":{"#attributes":{"Name":"X"}}},"EventData":{"A":"b"}}}`,
	`{"a":[1,{"b":null}],"c":"\u00e9\ud83d\ude00"}`,
	"plain text",
}

func FuzzParse(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	p := &Parser{Format: Auto, Now: func() time.Time { return time.Unix(0, 0) }}
	f.Fuzz(func(t *testing.T, s string) {
		e := &event.Event{}
		_ = p.Parse(s, e)
		for _, fl := range e.Fields {
			if len(fl.Value) > MaxFieldLen {
				t.Fatalf("field %q longer than MaxFieldLen", fl.Name)
			}
		}
		for _, fm := range []Format{Syslog, CEF, LEEF, JSON, EvtxJSON, KV, Text} {
			q := &Parser{Format: fm, Now: p.Now}
			_ = q.Parse(s, e)
		}
	})
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("a\nb\r\n12 <34>1 - - x\nc"))
	f.Add([]byte("99999 <1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		total := 0
		for i := 0; i < len(data)+2; i++ {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil && !errors.Is(err, ErrRecordTooLong) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("Next: %v", err)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return
			}
			total += len(rec)
			if total > len(data) {
				t.Fatalf("records longer than input")
			}
		}
		t.Fatalf("Reader did not reach EOF")
	})
}
