package parse

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/custodia/custodia/internal/detect/event"
)

// maxJSONDepth bounds nesting of JSON events.
const maxJSONDepth = 64

// maxFields bounds how many fields one event may produce.
const maxFields = 4096

var errTooManyFields = errors.New("more than 4096 fields")

// jsonFlattener walks a JSON document and adds one field per scalar, named
// by its dotted path. Strings without escapes are sub-strings of the input,
// so flattening allocates only for paths and escaped strings.
type jsonFlattener struct {
	s    string
	i    int
	e    *event.Event
	path []byte
	in   *interner
	sc   *jsonScratch

	// deferEsc asks strEscaped to leave a field value's unescaped text in
	// sc.esc (reported through escPending, escStart, escEnd) instead of
	// allocating a string for it.
	deferEsc         bool
	escPending       bool
	escStart, escEnd int
}

// jsonScratch is reused from record to record: the unescaped text of every
// escaped string value of one record goes into esc, which becomes one
// string at the end (one allocation per record rather than one per value).
type jsonScratch struct {
	esc     []byte
	pending []escSpan
}

// escSpan says that field number field's value is esc[start:end].
type escSpan struct{ field, start, end int }

// parseJSON flattens the JSON object in line into e.
func parseJSON(line string, e *event.Event, in *interner, sc *jsonScratch) error {
	var pathBuf [128]byte
	sc.esc, sc.pending = sc.esc[:0], sc.pending[:0]
	f := jsonFlattener{s: line, e: e, path: pathBuf[:0], in: in, sc: sc}
	f.skipSpace()
	if f.i >= len(f.s) || f.s[f.i] != '{' {
		return fmt.Errorf("json: want an object at offset %d", f.i)
	}
	err := f.value(0)
	if len(sc.pending) > 0 {
		all := string(sc.esc)
		for _, p := range sc.pending {
			e.Fields[p.field].Value = all[p.start:p.end]
		}
	}
	if cap(sc.esc) > 1<<20 {
		sc.esc = nil // do not keep one enormous record's buffer
	}
	if err != nil {
		return err
	}
	f.skipSpace()
	if f.i != len(f.s) {
		return fmt.Errorf("json: trailing data at offset %d", f.i)
	}
	return nil
}

func (f *jsonFlattener) skipSpace() {
	for f.i < len(f.s) {
		switch f.s[f.i] {
		case ' ', '\t', '\n', '\r':
			f.i++
		default:
			return
		}
	}
}

func (f *jsonFlattener) errorf(format string, args ...any) error {
	return fmt.Errorf("json: "+format+" at offset %d", append(args, f.i)...)
}

func (f *jsonFlattener) add(value string, kind event.Kind) error {
	if len(f.e.Fields) >= maxFields {
		return errTooManyFields
	}
	f.e.Add(f.in.get(f.path, len(f.e.Fields)), value, kind)
	return nil
}

// value parses the value at f.i under the current path.
func (f *jsonFlattener) value(depth int) error {
	if depth > maxJSONDepth {
		return f.errorf("nested deeper than %d", maxJSONDepth)
	}
	f.skipSpace()
	if f.i >= len(f.s) {
		return f.errorf("unexpected end")
	}
	switch c := f.s[f.i]; {
	case c == '{':
		f.i++
		base := len(f.path)
		f.skipSpace()
		if f.i < len(f.s) && f.s[f.i] == '}' {
			f.i++
			return nil
		}
		for {
			f.skipSpace()
			if f.i >= len(f.s) || f.s[f.i] != '"' {
				return f.errorf("want a key")
			}
			key, err := f.str()
			if err != nil {
				return err
			}
			f.skipSpace()
			if f.i >= len(f.s) || f.s[f.i] != ':' {
				return f.errorf("want ':'")
			}
			f.i++
			f.path = f.path[:base]
			if base > 0 {
				f.path = append(f.path, '.')
			}
			f.path = append(f.path, key...)
			if err := f.value(depth + 1); err != nil {
				return err
			}
			f.path = f.path[:base]
			f.skipSpace()
			if f.i >= len(f.s) {
				return f.errorf("unexpected end in object")
			}
			if f.s[f.i] == ',' {
				f.i++
				continue
			}
			if f.s[f.i] == '}' {
				f.i++
				return nil
			}
			return f.errorf("want ',' or '}'")
		}
	case c == '[':
		f.i++
		base := len(f.path)
		var items []string
		scalars := true
		f.skipSpace()
		if f.i < len(f.s) && f.s[f.i] == ']' {
			f.i++
			return f.addList(nil)
		}
		for n := 0; ; n++ {
			f.skipSpace()
			if f.i >= len(f.s) {
				return f.errorf("unexpected end in array")
			}
			if c := f.s[f.i]; c == '{' || c == '[' {
				scalars = false
				f.path = append(f.path, '.')
				f.path = strconv.AppendInt(f.path, int64(n), 10)
				if err := f.value(depth + 1); err != nil {
					return err
				}
				f.path = f.path[:base]
			} else {
				v, _, err := f.scalar()
				if err != nil {
					return err
				}
				items = append(items, v)
			}
			f.skipSpace()
			if f.i >= len(f.s) {
				return f.errorf("unexpected end in array")
			}
			if f.s[f.i] == ',' {
				f.i++
				continue
			}
			if f.s[f.i] == ']' {
				f.i++
				break
			}
			return f.errorf("want ',' or ']'")
		}
		if scalars || len(items) > 0 {
			return f.addList(items)
		}
		return nil
	default:
		f.deferEsc = true
		v, kind, err := f.scalar()
		f.deferEsc = false
		if err != nil {
			f.escPending = false
			return err
		}
		if f.escPending {
			f.escPending = false
			if len(f.e.Fields) >= maxFields {
				return errTooManyFields
			}
			f.sc.pending = append(f.sc.pending, escSpan{len(f.e.Fields), f.escStart, f.escEnd})
		}
		return f.add(v, kind)
	}
}

func (f *jsonFlattener) addList(items []string) error {
	if len(f.e.Fields) >= maxFields {
		return errTooManyFields
	}
	f.e.AddList(f.in.get(f.path, len(f.e.Fields)), items)
	return nil
}

// scalar parses a string, number, true, false or null.
func (f *jsonFlattener) scalar() (string, event.Kind, error) {
	if f.i >= len(f.s) {
		return "", 0, f.errorf("unexpected end")
	}
	switch c := f.s[f.i]; {
	case c == '"':
		s, err := f.str()
		return s, event.String, err
	case c == 't':
		if strings.HasPrefix(f.s[f.i:], "true") {
			f.i += 4
			return "true", event.Bool, nil
		}
	case c == 'f':
		if strings.HasPrefix(f.s[f.i:], "false") {
			f.i += 5
			return "false", event.Bool, nil
		}
	case c == 'n':
		if strings.HasPrefix(f.s[f.i:], "null") {
			f.i += 4
			return "", event.Null, nil
		}
	case c == '-' || ('0' <= c && c <= '9'):
		start := f.i
		f.i++
		for f.i < len(f.s) {
			c := f.s[f.i]
			if ('0' <= c && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
				f.i++
				continue
			}
			break
		}
		return f.s[start:f.i], event.Number, nil
	}
	return "", 0, f.errorf("unexpected character %q", f.s[f.i])
}

// str parses a JSON string starting at the opening quote.
func (f *jsonFlattener) str() (string, error) {
	f.i++ // opening quote
	start := f.i
	for f.i < len(f.s) {
		c := f.s[f.i]
		if !strSpecial[c] {
			f.i++
			continue
		}
		if c == '"' {
			s := f.s[start:f.i]
			f.i++
			return s, nil
		}
		if c == '\\' {
			return f.strEscaped(start)
		}
		return "", f.errorf("control character in string")
	}
	return "", f.errorf("unterminated string")
}

// strSpecial marks the bytes that end the plain run of a JSON string: the
// closing quote, a backslash and control characters.
var strSpecial = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return
}()

func (f *jsonFlattener) strEscaped(start int) (string, error) {
	b0 := len(f.sc.esc)
	b := append(f.sc.esc, f.s[start:f.i]...)
	defer func() {
		if f.escPending {
			f.sc.esc = b // keep the deferred value's text
		} else {
			f.sc.esc = b[:b0]
		}
	}()
	for f.i < len(f.s) {
		c := f.s[f.i]
		switch {
		case c == '"':
			f.i++
			if f.deferEsc {
				f.escPending, f.escStart, f.escEnd = true, b0, len(b)
				return "", nil
			}
			return string(b[b0:]), nil
		case c < 0x20:
			return "", f.errorf("control character in string")
		case c != '\\':
			b = append(b, c)
			f.i++
			continue
		}
		if f.i+1 >= len(f.s) {
			break
		}
		e := f.s[f.i+1]
		f.i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := f.hex4()
			if !ok {
				return "", f.errorf("bad \\u escape")
			}
			if utf16.IsSurrogate(r) && strings.HasPrefix(f.s[f.i:], "\\u") {
				f.i += 2
				r2, ok := f.hex4()
				if !ok {
					return "", f.errorf("bad \\u escape")
				}
				r = utf16.DecodeRune(r, r2)
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", f.errorf("bad escape \\%c", e)
		}
	}
	return "", f.errorf("unterminated string")
}

func (f *jsonFlattener) hex4() (rune, bool) {
	if f.i+4 > len(f.s) {
		return 0, false
	}
	n, err := strconv.ParseUint(f.s[f.i:f.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	f.i += 4
	return rune(n), true
}
