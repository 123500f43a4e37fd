package parse

import (
	"fmt"
	"strings"

	"github.com/custodia/custodia/internal/detect/event"
)

var cefHeader = [...]string{"cefVersion", "deviceVendor", "deviceProduct", "deviceVersion", "signatureId", "name", "severity"}

// parseCEF parses "CEF:Version|Vendor|Product|Version|SignatureID|Name|Severity|Extension".
// In the header \| and \\ are escapes; in the extension \=, \\, \n and \r.
func parseCEF(s string, e *event.Event) error {
	if !strings.HasPrefix(s, "CEF:") {
		return fmt.Errorf("cef: missing CEF: prefix")
	}
	s = s[4:]
	for i := 0; i < len(cefHeader); i++ {
		v, rest, ok := cutHeader(s)
		if !ok {
			return fmt.Errorf("cef: header has %d of 7 fields", i)
		}
		e.Add(cefHeader[i], v, event.String)
		s = rest
	}
	return parseCEFExtension(s, e)
}

// cutHeader returns the text up to the next unescaped '|', unescaped.
func cutHeader(s string) (val, rest string, ok bool) {
	esc := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			esc = true
			i++
		case '|':
			v := s[:i]
			if esc {
				v = unescapeCEF(v, "|\\")
			}
			return v, s[i+1:], true
		}
	}
	return "", "", false
}

// unescapeCEF removes a backslash before any of chars; \n and \r become
// newline and carriage return when chars allows them.
func unescapeCEF(s, chars string) string {
	return string(appendUnescapedCEF(make([]byte, 0, len(s)), s, chars))
}

// appendUnescapedCEF appends s unescaped (see unescapeCEF) to b.
func appendUnescapedCEF(b []byte, s, chars string) []byte {
	for {
		i := strings.IndexByte(s, '\\')
		if i < 0 || i+1 >= len(s) {
			return append(b, s...)
		}
		b = append(b, s[:i]...)
		n := s[i+1]
		switch {
		case n == 'n' && strings.IndexByte(chars, 'n') >= 0:
			b = append(b, '\n')
		case n == 'r' && strings.IndexByte(chars, 'r') >= 0:
			b = append(b, '\r')
		case strings.IndexByte(chars, n) >= 0:
			b = append(b, n)
		default:
			b = append(b, '\\', n)
		}
		s = s[i+2:]
	}
}

// parseCEFExtension parses space-separated key=value pairs whose values may
// contain spaces: a value runs until the space before the next key=.
func parseCEFExtension(s string, e *event.Event) error {
	s = strings.TrimLeft(s, " ")
	type label struct {
		k     string
		field int // the field holding the label's text
	}
	var labels [16]label
	nl := 0
	// The unescaped text of every escaped value goes into one buffer that
	// becomes one string at the end (one allocation per record).
	var bufArr [512]byte
	var spansArr [16]cefSpan
	buf, spans := bufArr[:0], spansArr[:0]
	for len(s) > 0 {
		eq := indexUnescaped(s, '=')
		if eq <= 0 {
			fixCEFSpans(e, buf, spans)
			return fmt.Errorf("cef: extension %q has no key=value", truncate(s, 40))
		}
		key := s[:eq]
		if strings.IndexByte(key, ' ') >= 0 {
			fixCEFSpans(e, buf, spans)
			return fmt.Errorf("cef: bad extension key %q", truncate(key, 40))
		}
		rest := s[eq+1:]
		// Find the next " key=" where key is a run of non-space characters.
		end := len(rest)
		for j := 0; ; {
			k := strings.IndexByte(rest[j:], '=')
			if k < 0 {
				break
			}
			k += j
			j = k + 1
			bs := 0
			for b := k - 1; b >= 0 && rest[b] == '\\'; b-- {
				bs++
			}
			if bs%2 == 1 {
				continue // escaped \=
			}
			if sp := strings.LastIndexByte(rest[:k], ' '); sp >= 0 && sp+1 < k {
				end = sp
				break
			}
		}
		val := rest[:end]
		if len(e.Fields) >= maxFields {
			fixCEFSpans(e, buf, spans)
			return errTooManyFields
		}
		if strings.IndexByte(val, '\\') >= 0 {
			start := len(buf)
			buf = appendUnescapedCEF(buf, val, "=\\nr")
			spans = append(spans, cefSpan{len(e.Fields), start, len(buf)})
			val = ""
		}
		if strings.HasSuffix(key, "Label") && nl < len(labels) {
			labels[nl] = label{strings.TrimSuffix(key, "Label"), len(e.Fields)}
			nl++
		}
		e.Add(key, val, event.String)
		if end == len(rest) {
			break
		}
		s = strings.TrimLeft(rest[end:], " ")
	}
	fixCEFSpans(e, buf, spans)
	// cs1Label=Foo cs1=bar also makes "Foo" addressable.
	for _, l := range labels[:nl] {
		v := e.Fields[l.field].Value
		if v == "" {
			continue
		}
		for i := range e.Fields {
			if e.Fields[i].Name == l.k {
				e.Alias(v, i)
				break
			}
		}
	}
	return nil
}

// cefSpan says that field number field's value is buf[start:end].
type cefSpan struct{ field, start, end int }

// fixCEFSpans gives the escaped values their unescaped text, with one
// allocation for all of them.
func fixCEFSpans(e *event.Event, buf []byte, spans []cefSpan) {
	if len(spans) == 0 {
		return
	}
	all := string(buf)
	for _, sp := range spans {
		e.Fields[sp.field].Value = all[sp.start:sp.end]
	}
}

func indexUnescaped(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == c {
			return i
		}
	}
	return -1
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
