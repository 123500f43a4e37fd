package cli

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"unicode/utf8"

	"github.com/custodia/custodia/internal/dataprotection"
)

// lineEncoder writes findings as JSON Lines, byte for byte what
// json.Marshal gives for a findingLine, without reflection or allocation:
// it appends to the caller's buffer and keeps the encoded path of the file
// being scanned, which every finding of that file repeats.
type lineEncoder struct {
	path string // the path head was encoded for
	head []byte // {"path":"…","entity":
	// A few recent scores and their encodings: scores come from a small set.
	scores [4]scoreText
	next   int
}

type scoreText struct {
	bits uint64
	n    uint8
	text [32]byte
}

// appendLine appends the JSON object of one finding (no line break):
// masked is its masked value and value, when not empty, the value in full.
// Like json.Marshal it fails on a score that is NaN or infinite.
func (le *lineEncoder) appendLine(dst []byte, path string, f dataprotection.Finding, masked, value []byte) ([]byte, error) {
	if math.IsInf(f.Score, 0) || math.IsNaN(f.Score) {
		return dst, &json.UnsupportedValueError{Value: reflect.ValueOf(f.Score), Str: strconv.FormatFloat(f.Score, 'g', -1, 64)}
	}
	if le.head == nil || path != le.path {
		le.path = path
		le.head = append(appendJSONString(append(le.head[:0], `{"path":`...), path), `,"entity":`...)
	}
	dst = append(dst, le.head...)
	dst = appendJSONString(dst, string(f.Entity))
	dst = append(dst, `,"start":`...)
	dst = strconv.AppendInt(dst, int64(f.Start), 10)
	dst = append(dst, `,"end":`...)
	dst = strconv.AppendInt(dst, int64(f.End), 10)
	dst = append(dst, `,"score":`...)
	dst = le.appendScore(dst, f.Score)
	dst = append(dst, `,"validator":`...)
	dst = appendJSONString(dst, f.Validator)
	dst = append(dst, `,"masked":`...)
	dst = appendJSONString(dst, masked)
	if len(value) > 0 { // omitempty
		dst = append(dst, `,"value":`...)
		dst = appendJSONString(dst, value)
	}
	return append(dst, '}'), nil
}

// appendScore appends a finite score as encoding/json writes a float64,
// from the cache when the score was seen lately.
func (le *lineEncoder) appendScore(dst []byte, x float64) []byte {
	bits := math.Float64bits(x)
	for i := range le.scores {
		if s := &le.scores[i]; s.n > 0 && s.bits == bits {
			return append(dst, s.text[:s.n]...)
		}
	}
	s := &le.scores[le.next]
	le.next = (le.next + 1) % len(le.scores)
	b := appendJSONFloat(s.text[:0], x)
	if len(b) > len(s.text) { // cannot happen: 17 digits, "-0.00000" and an exponent fit
		s.n = 0
		return append(dst, b...)
	}
	s.bits, s.n = bits, uint8(len(b))
	return append(dst, b...)
}

// appendJSONFloat appends a finite float64 the way encoding/json does:
// the shortest representation, in exponent form below 1e-6 and from 1e21,
// with the exponent's leading zero dropped (1e-7, not 1e-07).
func appendJSONFloat(dst []byte, x float64) []byte {
	format := byte('f')
	if abs := math.Abs(x); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, x, format, -1, 64)
	if format == 'e' {
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// jsonSafe holds true for the ASCII bytes encoding/json copies as they
// are with HTML escaping on (its default): all but control characters,
// the quote, the backslash and <, > and &.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// plain8 reports whether the eight bytes packed in x are all ones that
// jsonSafe holds true: ASCII, not a control character, not one of
// " \ < > &. Each test below finds a zero byte (v-1 borrows into the top
// bit only where v was zero): < and > differ in one bit, as do " and &.
func plain8(x uint64) bool {
	const ones, tops = 0x0101010101010101, 0x8080808080808080
	ltGt := x&^(ones*0x02) ^ (ones * '<')
	quoteAmp := x&^(ones*0x04) ^ (ones * '"')
	backslash := x ^ (ones * '\\')
	t := x | (x-ones*0x20)&^x | (ltGt-ones)&^ltGt | (quoteAmp-ones)&^quoteAmp | (backslash-ones)&^backslash
	return t&tops == 0
}

// appendJSONString appends s as a JSON string exactly as json.Marshal
// does: HTML-sensitive bytes and control characters escaped as \u00XX
// (\n, \r, \t, \b, \f short), invalid UTF-8 as \ufffd, and U+2028 and
// U+2029 escaped.
func appendJSONString[T string | []byte](dst []byte, s T) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip eight bytes at a time while none needs a look.
		for i+8 <= len(s) && plain8(uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
			uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		n := min(len(s)-i, utf8.UTFMax)
		r, size := utf8.DecodeRuneInString(string(s[i : i+n])) // at most 4 bytes: no allocation
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
