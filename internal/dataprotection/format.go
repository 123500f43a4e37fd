package dataprotection

import (
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Format is a file layout the scanner understands.
type Format int

// The formats. Offsets are always byte offsets into the file.
const (
	FormatText  Format = iota // plain text, scanned in overlapping chunks
	FormatJSONL               // one JSON value per line: every string field
	FormatCSV                 // every cell; the header names give context
	FormatJSON                // one JSON document: every string field
	FormatEML                 // an e-mail message: headers and body as text
)

func (f Format) String() string {
	switch f {
	case FormatJSONL:
		return "jsonl"
	case FormatCSV:
		return "csv"
	case FormatJSON:
		return "json"
	case FormatEML:
		return "eml"
	}
	return "text"
}

// ParseFormat returns the format named s ("text", "txt", "jsonl", "csv", "json", "eml").
func ParseFormat(s string) (Format, bool) {
	switch strings.ToLower(s) {
	case "text", "txt":
		return FormatText, true
	case "jsonl", "ndjson":
		return FormatJSONL, true
	case "csv":
		return FormatCSV, true
	case "json":
		return FormatJSON, true
	case "eml":
		return FormatEML, true
	}
	return FormatText, false
}

// FormatFromPath picks the format from a file name's extension; unknown
// extensions are text.
func FormatFromPath(path string) Format {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if ext == "ndjson" {
		return FormatJSONL
	}
	f, _ := ParseFormat(ext)
	return f
}

// segment is a piece of a record to scan: a JSON string literal, a CSV
// cell, or raw text. raw is its span in the record; dec the decoded text;
// pos, when not nil, maps each decoded byte (and the end) to a raw offset.
type segment struct {
	rawStart, rawEnd int
	dec              []byte
	pos              []int32
	key              []byte // the JSON key or CSV column name, for context
	quoted           bool   // CSV: the cell was quoted
	kind             uint8  // segJSONString, segRaw, segCSV
}

const (
	segRaw = iota
	segJSONString
	segCSV
	segJSONNumber
)

// rawOffset maps a decoded offset of seg to an offset in the record.
func (seg *segment) rawOffset(i int) int {
	if seg.pos == nil {
		off := seg.rawStart
		if seg.kind == segJSONString || seg.quoted {
			off++
		}
		return off + i
	}
	return int(seg.pos[i])
}

// jsonSegments appends the string literals of a JSON text (and numbers of
// seven or more characters, where a card number may hide) to segs. It is
// lexical and tolerant: an unterminated string becomes a raw segment and
// ok is false.
func jsonSegments(rec []byte, segs []segment) (_ []segment, ok bool) {
	ok = true
	var lastKey []byte
	for i := 0; i < len(rec); {
		c := rec[i]
		switch {
		case c == '"':
			dec, pos, end, fine := decodeJSONString(rec, i)
			if !fine {
				segs = append(segs, segment{rawStart: i, rawEnd: len(rec), dec: rec[i:], kind: segRaw})
				return segs, false
			}
			// A key is followed by a colon.
			j := end
			for j < len(rec) && (rec[j] == ' ' || rec[j] == '\t' || rec[j] == '\r' || rec[j] == '\n') {
				j++
			}
			if j < len(rec) && rec[j] == ':' {
				lastKey = dec
				i = end
				continue
			}
			segs = append(segs, segment{rawStart: i, rawEnd: end, dec: dec, pos: pos, key: lastKey, kind: segJSONString})
			i = end
		case c == '-' || c >= '0' && c <= '9':
			j := i
			for j < len(rec) && (rec[j] == '-' || rec[j] == '+' || rec[j] == '.' || rec[j] == 'e' || rec[j] == 'E' || rec[j] >= '0' && rec[j] <= '9') {
				j++
			}
			if j-i >= 7 {
				segs = append(segs, segment{rawStart: i, rawEnd: j, dec: rec[i:j], key: lastKey, kind: segJSONNumber})
			}
			i = j
		default:
			i++
		}
	}
	return segs, ok
}

// decodeJSONString decodes the literal starting at rec[i] == '"'. It
// returns the text, an offset map when escapes were present, and the
// offset after the closing quote.
func decodeJSONString(rec []byte, i int) (dec []byte, pos []int32, end int, ok bool) {
	j := i + 1
	for j < len(rec) && rec[j] != '"' && rec[j] != '\\' {
		j++
	}
	if j < len(rec) && rec[j] == '"' {
		return rec[i+1 : j], nil, j + 1, true
	}
	// Slow path with escapes.
	dec = make([]byte, 0, j-i+16)
	pos = make([]int32, 0, j-i+16)
	for k := i + 1; k < len(rec); {
		c := rec[k]
		switch c {
		case '"':
			pos = append(pos, int32(k))
			return dec, pos, k + 1, true
		case '\\':
			if k+1 >= len(rec) {
				return nil, nil, 0, false
			}
			var r rune
			n := 2
			switch rec[k+1] {
			case '"', '\\', '/':
				r = rune(rec[k+1])
			case 'b':
				r = '\b'
			case 'f':
				r = '\f'
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			case 'u':
				if k+6 > len(rec) {
					return nil, nil, 0, false
				}
				v, good := hex4(rec[k+2 : k+6])
				if !good {
					return nil, nil, 0, false
				}
				r, n = rune(v), 6
				if v >= 0xD800 && v < 0xDC00 && k+12 <= len(rec) && rec[k+6] == '\\' && rec[k+7] == 'u' {
					if lo, good := hex4(rec[k+8 : k+12]); good && lo >= 0xDC00 && lo < 0xE000 {
						r = (rune(v)-0xD800)<<10 + (rune(lo) - 0xDC00) + 0x10000
						n = 12
					}
				}
			default:
				return nil, nil, 0, false
			}
			before := len(dec)
			dec = utf8.AppendRune(dec, r)
			for b := before; b < len(dec); b++ {
				pos = append(pos, int32(k))
			}
			k += n
		default:
			dec = append(dec, c)
			pos = append(pos, int32(k))
			k++
		}
	}
	return nil, nil, 0, false
}

func hex4(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		v <<= 4
		switch {
		case c >= '0' && c <= '9':
			v |= int(c - '0')
		case c >= 'a' && c <= 'f':
			v |= int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			v |= int(c-'A') + 10
		default:
			return 0, false
		}
	}
	return v, true
}

// appendJSONString appends s as a JSON string literal, without HTML
// escaping; invalid UTF-8 becomes U+FFFD so the output stays valid JSON.
func appendJSONString(dst, s []byte) []byte {
	const hexd = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\\ufffd"...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// csvSegments splits one CSV record into cells. A quoted cell's quotes
// and doubled quotes are decoded. ok is false for an unterminated quote.
func csvSegments(rec []byte, delim byte, header [][]byte, segs []segment) (_ []segment, ok bool) {
	ok = true
	col := 0
	i := 0
	for i <= len(rec) {
		start := i
		var seg segment
		seg.kind = segCSV
		if col < len(header) {
			seg.key = header[col]
		}
		if i < len(rec) && rec[i] == '"' {
			seg.quoted = true
			j := i + 1
			simple := true
			for {
				if j >= len(rec) {
					ok = false
					break
				}
				if rec[j] == '"' {
					if j+1 < len(rec) && rec[j+1] == '"' {
						simple = false
						j += 2
						continue
					}
					break
				}
				j++
			}
			if !ok {
				seg.rawStart, seg.rawEnd, seg.dec, seg.quoted, seg.kind = start, len(rec), rec[start:], false, segRaw
				segs = append(segs, seg)
				return segs, false
			}
			if simple {
				seg.dec = rec[i+1 : j]
			} else {
				for k := i + 1; k < j; k++ {
					seg.dec = append(seg.dec, rec[k])
					seg.pos = append(seg.pos, int32(k))
					if rec[k] == '"' {
						k++
					}
				}
				seg.pos = append(seg.pos, int32(j))
			}
			i = j + 1
			for i < len(rec) && rec[i] != delim && rec[i] != '\n' && rec[i] != '\r' {
				i++ // junk after the closing quote: kept as is
			}
		} else {
			for i < len(rec) && rec[i] != delim && rec[i] != '\n' && rec[i] != '\r' {
				i++
			}
			seg.dec = rec[start:i]
		}
		seg.rawStart, seg.rawEnd = start, i
		if seg.quoted {
			seg.rawEnd = i
		}
		if len(seg.dec) > 0 {
			segs = append(segs, seg)
		}
		col++
		if i >= len(rec) || rec[i] != delim {
			break
		}
		i++
	}
	return segs, ok
}

// appendCSVCell appends a cell, quoting it when needed or when it was.
func appendCSVCell(dst, s []byte, delim byte, quoted bool) []byte {
	need := quoted
	for _, c := range s {
		if c == delim || c == '"' || c == '\n' || c == '\r' {
			need = true
			break
		}
	}
	if !need {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for _, c := range s {
		if c == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

// csvHeader decodes the cells of a header record.
func csvHeader(rec []byte, delim byte) [][]byte {
	segs, _ := csvSegments(rec, delim, nil, nil)
	var h [][]byte
	for _, s := range segs {
		h = append(h, append([]byte(nil), s.dec...))
	}
	return h
}

// sniffDelim picks ',' ';' or tab from the first record.
func sniffDelim(rec []byte) byte {
	best, n := byte(','), 0
	for _, d := range []byte{',', ';', '\t', '|'} {
		c := 0
		inQ := false
		for _, b := range rec {
			if b == '"' {
				inQ = !inQ
			} else if b == d && !inQ {
				c++
			}
		}
		if c > n {
			best, n = d, c
		}
	}
	return best
}
