package audit

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// The JSON Lines export format. Every line is one JSON object in a canonical
// form (members in this order, no whitespace, strings escaped as in the
// entry's canonical encoding), ending in "\n":
//
//	{"type":"header","format":"custodia-audit-export","version":1,"from_seq":1}
//	{"type":"entry","entry":<the entry's canonical encoding>,"hash":"<hex>"}
//	{"type":"checkpoint","checkpoint":<the checkpoint's canonical fields>,"public_key":"<base64>","signature":"<base64>"}
//	{"type":"end","entries":<n>,"checkpoints":<m>}
//
// Entries come in sequence order; a checkpoint follows the entry it seals.
// Since the "entry" member is the exact byte string the hash covers, anyone
// can check an export with a JSON parser and SHA-256; ReadExport accepts only
// the canonical form, so an export that verifies has not been modified.
const (
	ExportFormat  = "custodia-audit-export"
	ExportVersion = 1
	// MaxExportLine bounds one line of an export file.
	MaxExportLine = 1 << 20
)

// ExportWriter writes an export. Call Close to write the end line and flush.
type ExportWriter struct {
	w           *bufio.Writer
	buf         []byte
	entries     int64
	checkpoints int64
}

// NewExportWriter writes the header of an export whose first entry is fromSeq.
func NewExportWriter(w io.Writer, fromSeq int64) (*ExportWriter, error) {
	if fromSeq < 1 {
		fromSeq = 1
	}
	x := &ExportWriter{w: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 0, 1024)}
	_, err := x.w.Write(appendHeader(x.buf[:0], fromSeq))
	return x, err
}

func appendHeader(b []byte, fromSeq int64) []byte {
	b = append(b, `{"type":"header","format":"`+ExportFormat+`","version":`...)
	b = strconv.AppendInt(b, ExportVersion, 10)
	b = append(b, `,"from_seq":`...)
	b = strconv.AppendInt(b, fromSeq, 10)
	return append(b, "}\n"...)
}

const entryLinePrefix = `{"type":"entry","entry":`

func appendEntryLine(b []byte, e *Entry) []byte {
	b = append(b, entryLinePrefix...)
	b = e.AppendCanonical(b)
	b = append(b, `,"hash":`...)
	b = appendString(b, e.Hash)
	return append(b, "}\n"...)
}

func appendCheckpointLine(b []byte, c *Checkpoint) []byte {
	b = append(b, `{"type":"checkpoint","checkpoint":`...)
	b = c.appendCanonical(b)
	b = append(b, `,"public_key":"`...)
	b = base64.StdEncoding.AppendEncode(b, c.PublicKey)
	b = append(b, `","signature":"`...)
	b = base64.StdEncoding.AppendEncode(b, c.Signature)
	return append(b, "\"}\n"...)
}

func appendEnd(b []byte, entries, checkpoints int64) []byte {
	b = append(b, `{"type":"end","entries":`...)
	b = strconv.AppendInt(b, entries, 10)
	b = append(b, `,"checkpoints":`...)
	b = strconv.AppendInt(b, checkpoints, 10)
	return append(b, "}\n"...)
}

// Entry writes an entry line.
func (x *ExportWriter) Entry(e *Entry) error {
	x.buf = appendEntryLine(x.buf[:0], e)
	x.entries++
	_, err := x.w.Write(x.buf)
	return err
}

// Checkpoint writes a checkpoint line.
func (x *ExportWriter) Checkpoint(c *Checkpoint) error {
	x.buf = appendCheckpointLine(x.buf[:0], c)
	x.checkpoints++
	_, err := x.w.Write(x.buf)
	return err
}

// Counts reports how many entries and checkpoints were written.
func (x *ExportWriter) Counts() (entries, checkpoints int64) { return x.entries, x.checkpoints }

// Close writes the end line and flushes (it does not close the underlying writer).
func (x *ExportWriter) Close() error {
	if _, err := x.w.Write(appendEnd(x.buf[:0], x.entries, x.checkpoints)); err != nil {
		return err
	}
	return x.w.Flush()
}

// ExportOptions tunes VerifyExport.
type ExportOptions struct {
	VerifyOptions
	// Full requires the export to start at entry 1.
	Full bool
}

// VerifyExport reads an export and verifies it. Unreadable or non-canonical
// lines are problems in the report (line numbers start at 1); the error is
// only for failures to read r. opts.FromSeq is taken from the header.
func VerifyExport(r io.Reader, opts ExportOptions) (*Report, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxExportLine+1)
	var unterminated bool
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			unterminated = true
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	var (
		v                    *Verifier
		lineNo               int64
		entries, checkpoints int64
		ended                bool
		buf                  = make([]byte, 0, 1024)
	)
	start := func(from int64) {
		vo := opts.VerifyOptions
		vo.FromSeq = from
		v = NewVerifier(vo)
	}
	for sc.Scan() {
		lineNo++
		line := sc.Bytes()
		if v == nil {
			from, err := parseHeader(line)
			start(from)
			if err == nil {
				if opts.Full && from != 1 {
					v.entryProblem(1, KindRemoved, "entries 1–%d missing (the export starts at entry %d) — removed", from-1, from)
				}
				continue
			}
			v.Malformed(lineNo, err)
			if from != 0 {
				continue
			}
			// Not a header at all: read the line as a body line.
		}
		if ended {
			v.Malformed(lineNo, errors.New("data after the end line"))
			continue
		}
		if !utf8.Valid(line) {
			v.Malformed(lineNo, errors.New("invalid UTF-8"))
			continue
		}
		switch {
		case bytes.HasPrefix(line, []byte(`{"type":"entry",`)):
			entries++
			e, err := parseEntryLine(line)
			if err == nil && !sameLine(appendEntryLine(buf[:0], &e), line) {
				err = errors.New("entry line is not in canonical form")
			}
			if err != nil {
				v.Malformed(lineNo, err)
				continue
			}
			// The "entry" member is the canonical encoding, verbatim.
			e.computed = hashHex(line[len(entryLinePrefix) : len(line)-len(`,"hash":"`)-64-len(`"}`)])
			v.Entry(e)
		case bytes.HasPrefix(line, []byte(`{"type":"checkpoint",`)):
			checkpoints++
			c, err := parseCheckpointLine(line)
			if err == nil && !sameLine(appendCheckpointLine(buf[:0], &c), line) {
				err = errors.New("checkpoint line is not in canonical form")
			}
			if err != nil {
				v.Malformed(lineNo, err)
				continue
			}
			v.Checkpoint(c)
		case bytes.HasPrefix(line, []byte(`{"type":"end",`)):
			ended = true
			ne, nc, err := parseEnd(line)
			if err != nil {
				v.Malformed(lineNo, err)
			} else if ne != entries || nc != checkpoints {
				v.Malformed(lineNo, fmt.Errorf("end line counts %d entries and %d checkpoints, the file holds %d and %d", ne, nc, entries, checkpoints))
			}
		default:
			v.Malformed(lineNo, errors.New("unknown line type"))
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			if v == nil {
				start(opts.FromSeq)
			}
			v.Malformed(lineNo+1, fmt.Errorf("line longer than %d bytes", MaxExportLine))
			return v.Finish(), nil
		}
		return nil, fmt.Errorf("read export: %w", err)
	}
	if v == nil {
		start(opts.FromSeq)
		v.Malformed(1, errors.New("empty file: no header"))
		return v.Finish(), nil
	}
	if unterminated {
		v.Malformed(lineNo, errors.New("last line has no newline (truncated file?)"))
	}
	if !ended {
		v.Malformed(lineNo, errors.New("no end line: the export is truncated"))
	}
	return v.Finish(), nil
}

// sameLine reports whether enc is line followed by a newline.
func sameLine(enc, line []byte) bool {
	return len(enc) == len(line)+1 && enc[len(line)] == '\n' && bytes.Equal(enc[:len(line)], line)
}

func parseHeader(line []byte) (int64, error) {
	c := cursor{b: line}
	c.lit(`{"type":"header","format":"` + ExportFormat + `","version":`)
	if ver := c.int(); c.err == nil && ver != ExportVersion {
		return 0, fmt.Errorf("export format version %d, this binary reads %d", ver, ExportVersion)
	}
	c.lit(`,"from_seq":`)
	from := c.int()
	c.lit(`}`)
	c.end()
	if c.err != nil {
		return 0, fmt.Errorf("header: %w", c.err)
	}
	if from < 1 {
		return 0, errors.New("header: from_seq must be at least 1")
	}
	if !sameLine(appendHeader(nil, from), line) {
		return 0, errors.New("header is not in canonical form")
	}
	return from, nil
}

func parseEnd(line []byte) (entries, checkpoints int64, err error) {
	c := cursor{b: line}
	c.lit(`{"type":"end","entries":`)
	entries = c.int()
	c.lit(`,"checkpoints":`)
	checkpoints = c.int()
	c.lit(`}`)
	c.end()
	return entries, checkpoints, c.err
}

func parseEntryLine(line []byte) (Entry, error) {
	c := cursor{b: line}
	var e Entry
	c.lit(`{"type":"entry","entry":`)
	c.lit(`{"action":`)
	e.Action = c.str()
	c.lit(`,"actor":`)
	e.Actor = c.str()
	c.lit(`,"actor_user_id":`)
	e.ActorUserID = c.int()
	c.lit(`,"after_digest":`)
	e.AfterDigest = c.str()
	c.lit(`,"at":`)
	e.At = c.time()
	c.lit(`,"before_digest":`)
	e.BeforeDigest = c.str()
	c.lit(`,"client_id":`)
	e.ClientID = c.int()
	c.lit(`,"detail":`)
	e.Detail = c.str()
	c.lit(`,"ip":`)
	e.IP = c.str()
	c.lit(`,"object_id":`)
	e.ObjectID = c.str()
	c.lit(`,"object_type":`)
	e.ObjectType = c.str()
	c.lit(`,"prev_hash":`)
	e.PrevHash = c.str()
	c.lit(`,"request_id":`)
	e.RequestID = c.str()
	c.lit(`,"seq":`)
	e.Seq = c.int()
	c.lit(`},"hash":`)
	e.Hash = c.str()
	c.lit(`}`)
	c.end()
	if c.err == nil && e.Seq < 1 {
		c.err = errors.New("seq must be at least 1")
	}
	if c.err == nil && !validHash(e.Hash) {
		c.err = errors.New("hash is not 64 lower-case hex digits")
	}
	return e, c.err
}

func parseCheckpointLine(line []byte) (Checkpoint, error) {
	c := cursor{b: line}
	var cp Checkpoint
	c.lit(`{"type":"checkpoint","checkpoint":{"at":`)
	cp.At = c.time()
	c.lit(`,"hash":`)
	cp.Hash = c.str()
	c.lit(`,"key_id":`)
	cp.KeyID = c.str()
	c.lit(`,"seq":`)
	cp.Seq = c.int()
	c.lit(`},"public_key":`)
	pub := c.str()
	c.lit(`,"signature":`)
	sig := c.str()
	c.lit(`}`)
	c.end()
	if c.err != nil {
		return cp, c.err
	}
	k, err := base64.StdEncoding.DecodeString(pub)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return cp, errors.New("public_key is not a base64 Ed25519 key")
	}
	s, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(s) != ed25519.SignatureSize {
		return cp, errors.New("signature is not a base64 Ed25519 signature")
	}
	cp.PublicKey, cp.Signature = k, s
	return cp, nil
}

// cursor reads the canonical JSON forms; the first error sticks.
type cursor struct {
	b   []byte
	i   int
	err error
}

func (c *cursor) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("column %d: "+format, append([]any{c.i + 1}, args...)...)
	}
}

func (c *cursor) lit(s string) {
	if c.err != nil {
		return
	}
	if !bytes.HasPrefix(c.b[c.i:], []byte(s)) {
		c.fail("expected %s", s)
		return
	}
	c.i += len(s)
}

func (c *cursor) end() {
	if c.err == nil && c.i != len(c.b) {
		c.fail("unexpected data after the object")
	}
}

func (c *cursor) int() int64 {
	if c.err != nil {
		return 0
	}
	j := c.i
	if j < len(c.b) && c.b[j] == '-' {
		j++
	}
	k := j
	for k < len(c.b) && c.b[k] >= '0' && c.b[k] <= '9' {
		k++
	}
	if k == j || (c.b[j] == '0' && k-j > 1) || (c.b[j] == '0' && j > c.i) {
		c.fail("expected a canonical integer")
		return 0
	}
	n, err := strconv.ParseInt(string(c.b[c.i:k]), 10, 64)
	if err != nil {
		c.fail("integer out of range")
		return 0
	}
	c.i = k
	return n
}

func (c *cursor) str() string {
	if c.err != nil {
		return ""
	}
	if c.i >= len(c.b) || c.b[c.i] != '"' {
		c.fail("expected a string")
		return ""
	}
	j := c.i + 1
	var out []byte
	start := j
	for {
		if j >= len(c.b) {
			c.fail("unterminated string")
			return ""
		}
		ch := c.b[j]
		switch {
		case ch == '"':
			s := string(append(out, c.b[start:j]...))
			c.i = j + 1
			return s
		case ch < 0x20:
			c.fail("raw control character in a string")
			return ""
		case ch != '\\':
			j++
			continue
		}
		out = append(out, c.b[start:j]...)
		if j+1 >= len(c.b) {
			c.fail("unterminated escape")
			return ""
		}
		switch c.b[j+1] {
		case '"':
			out = append(out, '"')
		case '\\':
			out = append(out, '\\')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if j+6 > len(c.b) || c.b[j+2] != '0' || c.b[j+3] != '0' || !isLowerHex(c.b[j+4]) || !isLowerHex(c.b[j+5]) {
				c.fail("only \\u00xx escapes of control characters are canonical")
				return ""
			}
			v := unhex(c.b[j+4])<<4 | unhex(c.b[j+5])
			if v >= 0x20 || v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t' {
				c.fail("escape \\u00%c%c is not canonical", c.b[j+4], c.b[j+5])
				return ""
			}
			out = append(out, v)
			j += 6
			start = j
			continue
		default:
			c.fail("unknown escape \\%c", c.b[j+1])
			return ""
		}
		j += 2
		start = j
	}
}

func (c *cursor) time() time.Time {
	s := c.str()
	if c.err != nil {
		return time.Time{}
	}
	t, err := time.Parse(TimeLayout, s)
	if err != nil || t.Format(TimeLayout) != s {
		c.fail("time %q is not in the form %s", s, TimeLayout)
		return time.Time{}
	}
	return t
}

func isLowerHex(b byte) bool { return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' }

func unhex(b byte) byte {
	if b <= '9' {
		return b - '0'
	}
	return b - 'a' + 10
}
