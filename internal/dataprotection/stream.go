package dataprotection

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// Streaming limits. Memory stays bounded by these whatever the input size.
const (
	chunkSize  = 1 << 20  // text is scanned in chunks of this size…
	chunkTail  = 4 << 10  // …and a finding must end this far before a chunk's end to be final
	lookback   = 1 << 10  // bytes kept before a cut, for context words
	MaxRecord  = 16 << 20 // longest JSONL line or CSV record
	maxJSONDoc = 64 << 20 // a bigger .json file is scanned as text
)

// ErrRecordTooLong reports a JSONL line or CSV record over MaxRecord.
var ErrRecordTooLong = errors.New("record longer than 16 MiB")

// errTooLongEnded is ErrRecordTooLong when the record's line break has
// already been read.
var errTooLongEnded = fmt.Errorf("%w (line read)", ErrRecordTooLong)

// Report sums up one input: its size, the findings per entity, and the
// problems met (an unterminated JSON string, a skipped record…).
type Report struct {
	Bytes    int64
	Counts   map[Entity]int
	Warnings []string
}

func (r *Report) warn(format string, args ...any) {
	if len(r.Warnings) < 100 {
		r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
	}
}

// processor runs a scan (fn set) or a redaction (w and op set) over one input.
type processor struct {
	s   *Scanner
	fn  func(Finding, []byte) error
	w   *bufio.Writer
	op  *Operator
	rep *Report
	tmp []byte
	out []byte
	fs  []Finding // the findings of the text chunk being handled
	// counts are the findings per entity so far, cheaper to bump than
	// rep.Counts; run adds them to rep.Counts when it returns.
	counts []entityCount
}

type entityCount struct {
	e Entity
	n int
}

// count notes one finding of e. Entities are few and most findings carry
// the same constant strings, so a linear search beats hashing.
func (p *processor) count(e Entity) {
	for i := range p.counts {
		if p.counts[i].e == e {
			p.counts[i].n++
			return
		}
	}
	p.counts = append(p.counts, entityCount{e, 1})
}

// flushCounts adds the counts to the report.
func (p *processor) flushCounts() {
	for _, c := range p.counts {
		p.rep.Counts[c.e] += c.n
	}
	p.counts = p.counts[:0]
}

// ScanStream reads r as format f and calls fn for each finding, with
// offsets into the stream, in order, and its value (decoded, for a JSON
// string with escapes). Bad input never stops it: problems
// go to the report's warnings. It fails only on a read error, ctx's end,
// or an error from fn.
func (s *Scanner) ScanStream(ctx context.Context, r io.Reader, f Format, fn func(f Finding, value []byte) error) (*Report, error) {
	if f == FormatEML {
		rep, err := s.ScanEML(ctx, r, fn)
		if rep == nil {
			rep = &Report{Counts: map[Entity]int{}}
		}
		return rep, err
	}
	p := &processor{s: s, fn: fn, rep: &Report{Counts: map[Entity]int{}}}
	return p.rep, p.run(ctx, r, f)
}

// RedactStream copies r to w as format f with every finding replaced by
// op's output: a JSONL stays valid JSONL, a CSV keeps its columns. It
// streams in constant memory. On error the output is incomplete: write to
// a temporary file and rename it only on success.
func (s *Scanner) RedactStream(ctx context.Context, r io.Reader, w io.Writer, f Format, op *Operator) (*Report, error) {
	if f == FormatEML {
		rep, err := s.RedactEML(ctx, r, w, op)
		if rep == nil {
			rep = &Report{Counts: map[Entity]int{}}
		}
		return rep, err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	p := &processor{s: s, w: bw, op: op, rep: &Report{Counts: map[Entity]int{}}}
	if err := p.run(ctx, r, f); err != nil {
		return p.rep, err
	}
	return p.rep, bw.Flush()
}

func (p *processor) run(ctx context.Context, r io.Reader, f Format) error {
	defer p.flushCounts()
	switch f {
	case FormatJSONL, FormatCSV:
		return p.records(ctx, r, f)
	case FormatJSON:
		doc, err := io.ReadAll(io.LimitReader(r, maxJSONDoc+1))
		if err != nil {
			return err
		}
		if len(doc) <= maxJSONDoc {
			p.rep.Bytes = int64(len(doc))
			segs, ok := jsonSegments(doc, nil)
			if !ok {
				p.rep.warn("unterminated JSON string; the rest is scanned as text")
			}
			return p.record(doc, 0, segs, FormatJSON, 0)
		}
		p.rep.warn("JSON document over %d MiB: scanned as text", maxJSONDoc>>20)
		return p.text(ctx, io.MultiReader(bytes.NewReader(doc), r))
	}
	return p.text(ctx, r)
}

// text scans plain text in overlapping chunks. A chunk is cut at a line
// break (or a blank) at least chunkTail bytes before its end, never inside
// a finding; the last lookback bytes before the cut are scanned again with
// the next chunk so that context words still count.
func (p *processor) text(ctx context.Context, r io.Reader) error {
	buf := make([]byte, 0, chunkSize+chunkTail+lookback)
	var base int64 // offset of buf[0] in the stream
	emitted := 0   // bytes of buf already handled
	eof := false
	for !eof {
		if err := ctx.Err(); err != nil {
			return err
		}
		for len(buf) < cap(buf) && !eof {
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				eof = true
			} else if err != nil {
				return err
			}
		}
		// The chunk's findings reuse one slice: emitText is done with them
		// before the next chunk is scanned.
		p.fs = p.s.scanAppend(p.fs[:0], buf)
		fs := p.fs
		cut := len(buf)
		if !eof {
			limit := len(buf) - chunkTail
			cut = limit
			if i := bytes.LastIndexByte(buf[emitted:limit], '\n'); i >= 0 {
				cut = emitted + i + 1
			} else if i := bytes.LastIndexByte(buf[emitted:limit], ' '); i >= 0 {
				cut = emitted + i + 1
			}
			for _, f := range fs {
				if f.Start < cut && f.End > cut && f.Start > emitted {
					cut = f.Start
					break
				}
			}
		}
		if err := p.emitText(buf, fs, emitted, cut, base); err != nil {
			return err
		}
		keep := max(cut-lookback, 0)
		n := copy(buf, buf[keep:])
		buf = buf[:n]
		base += int64(keep)
		emitted = cut - keep
	}
	p.rep.Bytes = base + int64(len(buf))
	return nil
}

// emitText handles buf[from:to]: it reports or replaces the findings in
// it. A finding that begins before from (already handled) but goes on
// past it is clipped, so nothing is left readable.
func (p *processor) emitText(buf []byte, fs []Finding, from, to int, base int64) error {
	pos := from
	for _, f := range fs {
		if f.End <= from || f.Start >= to {
			continue
		}
		if f.Start < from {
			f.Start = from
		}
		if f.End > to {
			f.End = to
		}
		p.count(f.Entity)
		if p.fn != nil {
			g := f
			g.Start += int(base)
			g.End += int(base)
			if err := p.fn(g, buf[f.Start:f.End]); err != nil {
				return err
			}
			continue
		}
		if _, err := p.w.Write(buf[pos:f.Start]); err != nil {
			return err
		}
		var err error
		if p.out, err = p.op.AppendApply(p.out[:0], f.Entity, buf[f.Start:f.End]); err != nil {
			return err
		}
		if _, err := p.w.Write(p.out); err != nil {
			return err
		}
		pos = f.End
	}
	if p.w != nil {
		_, err := p.w.Write(buf[pos:to])
		return err
	}
	return nil
}

// records handles JSONL and CSV one record at a time.
func (p *processor) records(ctx context.Context, r io.Reader, f Format) error {
	br := bufio.NewReaderSize(r, 256<<10)
	var off int64
	var header [][]byte
	var delim byte
	var rec []byte
	var segs []segment
	for n := 1; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var err error
		var tooLong int64
		rec, tooLong, err = readRecord(br, rec[:0], f == FormatCSV)
		if errors.Is(err, ErrRecordTooLong) {
			if p.w != nil {
				return fmt.Errorf("record %d: %w", n, ErrRecordTooLong)
			}
			p.rep.warn("record %d: %v; skipped", n, ErrRecordTooLong)
			// Count the skipped bytes so later offsets stay right.
			skipped, err2 := int64(0), error(nil)
			if err != errTooLongEnded {
				skipped, err2 = skipLine(br)
			}
			off += tooLong + skipped
			if err2 == io.EOF {
				break
			}
			if err2 != nil {
				return err2
			}
			continue
		}
		if err != nil && err != io.EOF {
			return err
		}
		if len(rec) > 0 {
			segs = segs[:0]
			ok := true
			if f == FormatJSONL {
				segs, ok = jsonSegments(rec, segs)
				if !ok {
					p.rep.warn("line %d: unterminated JSON string", n)
				}
			} else {
				if header == nil {
					// The header row is scanned without column context.
					delim = sniffDelim(rec)
					segs, ok = csvSegments(rec, delim, nil, segs)
					header = csvHeader(rec, delim)
				} else {
					segs, ok = csvSegments(rec, delim, header, segs)
				}
				if !ok {
					p.rep.warn("record %d: unterminated quoted cell", n)
				}
			}
			if err := p.record(rec, off, segs, f, delim); err != nil {
				return err
			}
			off += int64(len(rec))
		}
		if err == io.EOF {
			break
		}
	}
	p.rep.Bytes = off
	return nil
}

// readRecord reads one line, or for CSV one record whose quoted cells may
// hold line breaks, including its line break.
func readRecord(br *bufio.Reader, dst []byte, csv bool) ([]byte, int64, error) {
	quotes := 0
	for {
		line, err := br.ReadSlice('\n')
		if len(dst)+len(line) > MaxRecord {
			n := int64(len(dst) + len(line))
			if err == nil {
				return dst[:0], n, errTooLongEnded // the line break was read
			}
			return dst[:0], n, ErrRecordTooLong
		}
		dst = append(dst, line...)
		if csv {
			quotes += bytes.Count(line, []byte{'"'})
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil:
			return dst, 0, err
		case csv && quotes%2 == 1:
			continue
		}
		return dst, 0, nil
	}
}

func skipLine(br *bufio.Reader) (int64, error) {
	var n int64
	for {
		line, err := br.ReadSlice('\n')
		n += int64(len(line))
		if err != bufio.ErrBufferFull {
			return n, err
		}
	}
}

// record scans the segments of one record; for a redaction it writes the
// record with the replaced segments re-encoded in the record's format.
func (p *processor) record(rec []byte, off int64, segs []segment, f Format, delim byte) error {
	pos := 0
	for si := range segs {
		seg := &segs[si]
		fs, prefix := p.scanSegment(seg)
		if len(fs) == 0 {
			continue
		}
		for _, x := range fs {
			p.count(x.Entity)
		}
		if p.fn != nil {
			for _, x := range fs {
				g := x
				g.Start = int(off) + seg.rawOffset(x.Start-prefix)
				g.End = int(off) + seg.rawOffset(x.End-prefix)
				if x.End-prefix >= len(seg.dec) && seg.pos == nil {
					g.End = int(off) + seg.rawOffset(len(seg.dec))
				}
				if err := p.fn(g, seg.dec[x.Start-prefix:x.End-prefix]); err != nil {
					return err
				}
			}
			continue
		}
		for k := range fs {
			fs[k].Start -= prefix
			fs[k].End -= prefix
		}
		red, err := p.op.RedactBytes(seg.dec, fs)
		if err != nil {
			return err
		}
		if _, err := p.w.Write(rec[pos:seg.rawStart]); err != nil {
			return err
		}
		p.out = p.out[:0]
		switch {
		case seg.kind == segJSONString || seg.kind == segJSONNumber:
			p.out = appendJSONString(p.out, red)
		case seg.kind == segCSV:
			p.out = appendCSVCell(p.out, red, delim, seg.quoted)
		default:
			p.out = append(p.out, red...)
		}
		if _, err := p.w.Write(p.out); err != nil {
			return err
		}
		pos = seg.rawEnd
	}
	if p.w != nil {
		_, err := p.w.Write(rec[pos:])
		return err
	}
	return nil
}

// scanSegment scans a segment with its key or column name in front, so
// that a field called "cvv" arms the CVV detector. It returns the findings
// inside the segment's text and the length of the prefix.
func (p *processor) scanSegment(seg *segment) ([]Finding, int) {
	text := seg.dec
	prefix := 0
	if len(seg.key) > 0 && len(seg.key) < 64 {
		p.tmp = append(append(append(p.tmp[:0], seg.key...), ": "...), seg.dec...)
		prefix = len(seg.key) + 2
		text = p.tmp
	}
	fs := p.s.Scan(text)
	k := 0
	for _, f := range fs {
		if f.Start >= prefix {
			fs[k] = f
			k++
		}
	}
	fs = fs[:k]
	if len(fs) == 0 && nameColumn(seg.key) && p.s.Enabled(Person) && looksLikeName(seg.dec) {
		fs = append(fs, Finding{Entity: Person, Start: prefix, End: prefix + len(seg.dec), Score: 0.8, Validator: "name-column"})
	}
	return fs, prefix
}

// nameColumn reports whether a JSON key or CSV column holds people's names.
func nameColumn(key []byte) bool {
	if len(key) == 0 || len(key) > 32 {
		return false
	}
	switch string(foldWord(nil, key)) {
	case "name", "nombre", "full name", "fullname", "full_name", "first name", "first_name", "firstname", "last name", "last_name",
		"lastname", "surname", "apellido", "apellidos", "customer", "cliente", "customer_name", "contact", "contacto",
		"titular", "cardholder", "card_holder", "holder", "nombre_completo", "nombre completo":
		return true
	}
	return false
}

// looksLikeName reports whether a cell could be a name: letters, blanks,
// hyphens and apostrophes, at most six words, no digits.
func looksLikeName(v []byte) bool {
	if len(v) == 0 || len(v) > 80 {
		return false
	}
	letters, words := 0, 1
	for _, c := range v {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			letters++
		case c == ' ':
			words++
		case c == '-' || c == '\'' || c == '.':
		default:
			return false
		}
	}
	return letters >= 2 && words <= 6
}
