package dataprotection

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
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

// An e-mail message (.eml) is scanned part by part: headers and parts
// without a transfer encoding as they are, base64 and quoted-printable text
// parts decoded (and re-encoded the same way when redacted), multipart
// bodies and attached messages (message/rfc822) part by part, nested up to
// emlMaxDepth. Attachments that are not text (images, PDFs, archives…) are
// skipped with a warning. Findings in a decoded part are reported with the
// offsets of the encoded bytes that hold them (for base64, whole 4-character
// groups). A message over maxJSONDoc bytes is scanned as text.

const emlMaxDepth = 10

// emlPart is a span of the message: raw text (enc "") or a transfer-encoded
// body (enc "base64" or "quoted-printable") with its decoding.
type emlPart struct {
	start, end int    // the span in the message
	enc        string // "", "base64", "quoted-printable"
	dec        []byte // the decoded body (enc != "")
	from, to   []int32
	crlf       bool // the encoded body's lines end in CRLF
}

// emlParts splits msg into spans: every byte of msg is in exactly one span
// or in a skipped attachment, in order.
func emlParts(msg []byte, warn func(string)) []emlPart {
	var parts []emlPart
	var walk func(start, end, depth int)
	raw := func(start, end int) {
		if end <= start {
			return
		}
		if n := len(parts); n > 0 && parts[n-1].enc == "" && parts[n-1].end == start {
			parts[n-1].end = end
			return
		}
		parts = append(parts, emlPart{start: start, end: end})
	}
	walk = func(start, end, depth int) {
		hdrEnd, bodyStart := emlHeaderEnd(msg, start, end)
		header := msg[start:hdrEnd]
		ctype, params := emlContentType(header)
		cte := strings.ToLower(emlHeader(header, "content-transfer-encoding"))
		if depth >= emlMaxDepth {
			warn("message nested too deep: the rest is scanned as text")
			raw(start, end)
			return
		}
		raw(start, bodyStart)
		switch {
		case strings.HasPrefix(ctype, "multipart/") && params["boundary"] != "":
			emlMultipart(msg, bodyStart, end, params["boundary"], depth, raw, walk)
		case ctype == "message/rfc822" && cte != "base64" && cte != "quoted-printable":
			walk(bodyStart, end, depth+1)
		case !emlTextual(ctype):
			if cte == "base64" || cte == "quoted-printable" {
				warn("attachment of type " + ctype + " skipped")
				parts = append(parts, emlPart{start: bodyStart, end: end, enc: "skip"})
				return
			}
			raw(bodyStart, end)
		case cte == "base64" || cte == "quoted-printable":
			p := emlPart{start: bodyStart, end: end, enc: cte, crlf: bytes.Contains(msg[bodyStart:end], []byte("\r\n"))}
			if cte == "base64" {
				p.dec, p.from, p.to = decodeBase64Pos(msg[bodyStart:end], bodyStart)
			} else {
				p.dec, p.from, p.to = decodeQPPos(msg[bodyStart:end], bodyStart)
			}
			parts = append(parts, p)
		default:
			raw(bodyStart, end)
		}
	}
	walk(0, len(msg), 0)
	return parts
}

// emlTextual reports whether a part of content type ct is scanned.
func emlTextual(ct string) bool {
	switch {
	case ct == "", strings.HasPrefix(ct, "text/"), strings.HasPrefix(ct, "message/"):
		return true
	case ct == "application/json", ct == "application/csv", ct == "application/xml", ct == "application/x-ndjson":
		return true
	}
	return false
}

// emlHeaderEnd returns the end of the header block starting at start and
// where the body starts (after the blank line); a message without a blank
// line is all header.
func emlHeaderEnd(msg []byte, start, end int) (hdrEnd, bodyStart int) {
	i := start
	for i < end {
		nl := bytes.IndexByte(msg[i:end], '\n')
		if nl < 0 {
			return end, end
		}
		line := msg[i : i+nl]
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			return i, i + nl + 1
		}
		i += nl + 1
	}
	return end, end
}

// emlHeader returns the unfolded value of the first header called name.
func emlHeader(header []byte, name string) string {
	lines := strings.Split(strings.ReplaceAll(string(header), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		k, v, ok := strings.Cut(lines[i], ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), name) {
			continue
		}
		for i+1 < len(lines) && len(lines[i+1]) > 0 && (lines[i+1][0] == ' ' || lines[i+1][0] == '\t') {
			i++
			v += " " + strings.TrimSpace(lines[i])
		}
		return strings.TrimSpace(v)
	}
	return ""
}

// emlContentType returns the lower-cased media type and the parameters of
// the Content-Type header (text/plain when absent or unreadable).
func emlContentType(header []byte) (string, map[string]string) {
	v := emlHeader(header, "content-type")
	if v == "" {
		return "text/plain", nil
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		// A broken header: take the media type and look for a boundary by hand.
		mt = strings.ToLower(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]))
		params = map[string]string{}
		if i := strings.Index(asciiLower(v), "boundary="); i >= 0 {
			b := strings.Trim(strings.TrimSpace(strings.SplitN(v[i+9:], ";", 2)[0]), `"`)
			params["boundary"] = b
		}
	}
	return mt, params
}

// emlMultipart walks the parts of a multipart body between the boundary
// lines; the preamble, boundary lines and epilogue are raw text.
func emlMultipart(msg []byte, start, end int, boundary string, depth int, raw func(int, int), walk func(int, int, int)) {
	delim := []byte("--" + boundary)
	partStart := -1
	i := start
	for i < end {
		nl := bytes.IndexByte(msg[i:end], '\n')
		lineEnd := end
		if nl >= 0 {
			lineEnd = i + nl + 1
		}
		line := bytes.TrimRight(msg[i:lineEnd], "\r\n \t")
		if bytes.HasPrefix(line, delim) {
			rest := line[len(delim):]
			if len(rest) == 0 || bytes.Equal(rest, []byte("--")) {
				if partStart >= 0 {
					// The line break before the boundary belongs to the boundary.
					pe := i
					if pe > partStart && msg[pe-1] == '\n' {
						pe--
						if pe > partStart && msg[pe-1] == '\r' {
							pe--
						}
					}
					walk(partStart, pe, depth+1)
					raw(pe, lineEnd)
				} else {
					raw(start, lineEnd)
				}
				if len(rest) == 2 { // the closing boundary: the epilogue is text
					raw(lineEnd, end)
					return
				}
				partStart = lineEnd
			}
		}
		i = lineEnd
	}
	if partStart >= 0 {
		walk(partStart, end, depth+1) // unterminated: the last part runs to the end
	} else {
		raw(start, end)
	}
}

// decodeBase64Pos decodes a base64 body, ignoring characters outside the
// alphabet, and maps each decoded byte to the raw span of its 4-character
// group (offsets from base).
func decodeBase64Pos(b []byte, base int) (dec []byte, from, to []int32) {
	var quad [4]byte
	var qpos [4]int
	n := 0
	for i, c := range b {
		v := base64Value(c)
		if v < 0 {
			if c == '=' {
				break
			}
			continue
		}
		quad[n], qpos[n] = byte(v), i
		n++
		if n == 4 {
			dec = append(dec, quad[0]<<2|quad[1]>>4, quad[1]<<4|quad[2]>>2, quad[2]<<6|quad[3])
			for k := 0; k < 3; k++ {
				from, to = append(from, int32(base+qpos[0])), append(to, int32(base+qpos[3]+1))
			}
			n = 0
		}
	}
	// A last group of 2 or 3 characters (padding or none).
	if n >= 2 {
		dec = append(dec, quad[0]<<2|quad[1]>>4)
		from, to = append(from, int32(base+qpos[0])), append(to, int32(base+qpos[n-1]+1))
		if n == 3 {
			dec = append(dec, quad[1]<<4|quad[2]>>2)
			from, to = append(from, int32(base+qpos[0])), append(to, int32(base+qpos[n-1]+1))
		}
	}
	return dec, from, to
}

func base64Value(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '+' || c == '-':
		return 62
	case c == '/' || c == '_':
		return 63
	}
	return -1
}

// decodeQPPos decodes a quoted-printable body (RFC 2045: =XX escapes, soft
// line breaks "=\n"), leniently (a bad escape is kept as it is), mapping
// each decoded byte to its raw span.
func decodeQPPos(b []byte, base int) (dec []byte, from, to []int32) {
	for i := 0; i < len(b); {
		c := b[i]
		if c == '=' {
			if i+1 < len(b) && b[i+1] == '\n' {
				i += 2
				continue
			}
			if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
				i += 3
				continue
			}
			if i+2 < len(b) {
				if h, ok := hex4(append([]byte("00"), b[i+1:i+3]...)); ok {
					dec = append(dec, byte(h))
					from, to = append(from, int32(base+i)), append(to, int32(base+i+3))
					i += 3
					continue
				}
			}
		}
		dec = append(dec, c)
		from, to = append(from, int32(base+i)), append(to, int32(base+i+1))
		i++
	}
	return dec, from, to
}

// readEML reads a whole message, or reports that it is too big for it.
func readEML(r io.Reader) (msg []byte, rest io.Reader, err error) {
	msg, err = io.ReadAll(io.LimitReader(r, maxJSONDoc+1))
	if err != nil {
		return nil, nil, err
	}
	if len(msg) > maxJSONDoc {
		return nil, io.MultiReader(bytes.NewReader(msg), r), nil
	}
	return msg, nil, nil
}

// ScanEML scans an e-mail message read from r, decoding its base64 and
// quoted-printable text parts (see emlParts). fn gets each finding with
// offsets into the message and the (decoded) value.
func (s *Scanner) ScanEML(ctx context.Context, r io.Reader, fn func(f Finding, value []byte) error) (*Report, error) {
	msg, rest, err := readEML(r)
	if err != nil {
		return nil, err
	}
	if rest != nil {
		rep, err := s.ScanStream(ctx, rest, FormatText, fn)
		if rep != nil {
			rep.warn("message over %d MiB: scanned as text", maxJSONDoc>>20)
		}
		return rep, err
	}
	rep := &Report{Bytes: int64(len(msg)), Counts: map[Entity]int{}}
	for _, p := range emlParts(msg, func(w string) { rep.warn("%s", w) }) {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		switch p.enc {
		case "skip":
			continue
		case "":
			text := msg[p.start:p.end]
			for _, f := range s.Scan(text) {
				v := text[f.Start:f.End]
				f.Start += p.start
				f.End += p.start
				rep.Counts[f.Entity]++
				if err := fn(f, v); err != nil {
					return rep, err
				}
			}
		default:
			for _, f := range s.Scan(p.dec) {
				v := p.dec[f.Start:f.End]
				f.Start, f.End = int(p.from[f.Start]), int(p.to[f.End-1])
				rep.Counts[f.Entity]++
				if err := fn(f, v); err != nil {
					return rep, err
				}
			}
		}
	}
	return rep, nil
}

// RedactEML copies the message read from r to w with every finding
// replaced by op's output; a base64 or quoted-printable part is decoded,
// redacted and encoded again the same way (base64 in 76-character lines).
// On error the output is incomplete.
func (s *Scanner) RedactEML(ctx context.Context, r io.Reader, w io.Writer, op *Operator) (*Report, error) {
	msg, rest, err := readEML(r)
	if err != nil {
		return nil, err
	}
	if rest != nil {
		rep, err := s.RedactStream(ctx, rest, w, FormatText, op)
		if rep != nil {
			rep.warn("message over %d MiB: redacted as text", maxJSONDoc>>20)
		}
		return rep, err
	}
	rep := &Report{Bytes: int64(len(msg)), Counts: map[Entity]int{}}
	bw := bufio.NewWriterSize(w, 256<<10)
	pos := 0
	for _, p := range emlParts(msg, func(w string) { rep.warn("%s", w) }) {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if p.start > pos {
			bw.Write(msg[pos:p.start])
		}
		pos = p.end
		var src []byte
		switch p.enc {
		case "skip":
			bw.Write(msg[p.start:p.end])
			continue
		case "":
			src = msg[p.start:p.end]
		default:
			src = p.dec
		}
		fs := s.Scan(src)
		for _, f := range fs {
			rep.Counts[f.Entity]++
		}
		out, err := op.RedactBytes(src, fs)
		if err != nil {
			return rep, err
		}
		switch p.enc {
		case "":
			bw.Write(out)
		case "base64":
			bw.Write(encodeBase64Lines(out, msg[p.start:p.end], p.crlf))
		case "quoted-printable":
			bw.Write(encodeQP(out, msg[p.start:p.end], p.crlf))
		}
	}
	if pos < len(msg) {
		bw.Write(msg[pos:])
	}
	return rep, bw.Flush()
}

// trailingBreak returns the line breaks that end the raw body, kept after
// the re-encoded one.
func trailingBreak(raw []byte) []byte {
	i := len(raw)
	for i > 0 && (raw[i-1] == '\n' || raw[i-1] == '\r') {
		i--
	}
	return raw[i:]
}

func encodeBase64Lines(dec, raw []byte, crlf bool) []byte {
	enc := base64.StdEncoding.EncodeToString(dec)
	eol := "\n"
	if crlf {
		eol = "\r\n"
	}
	var b bytes.Buffer
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString(eol)
		enc = enc[76:]
	}
	b.WriteString(enc)
	if tb := trailingBreak(raw); len(tb) > 0 {
		b.Write(tb)
	}
	return b.Bytes()
}

func encodeQP(dec, raw []byte, crlf bool) []byte {
	var b bytes.Buffer
	qw := quotedprintable.NewWriter(&b)
	qw.Binary = false
	qw.Write(dec)
	qw.Close()
	out := b.Bytes()
	if !crlf {
		out = bytes.ReplaceAll(out, []byte("\r\n"), []byte("\n"))
	}
	// The writer ends without the body's final line break: keep the original one.
	out = bytes.TrimRight(out, "\r\n")
	return append(out, trailingBreak(raw)...)
}

// asciiLower lower-cases ASCII letters only, keeping every byte offset.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}
