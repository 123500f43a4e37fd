package parse

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// MaxRecord bounds one record; longer records are skipped with an error.
const MaxRecord = 1 << 20

// ErrRecordTooLong reports a record longer than MaxRecord.
var ErrRecordTooLong = errors.New("record longer than 1 MiB skipped")

// Reader splits a stream into records: lines, or RFC 6587 octet-counted
// frames ("123 <34>1 …") which may contain newlines. Framing is decided
// per record, so mixed streams work.
type Reader struct {
	br  *bufio.Reader
	buf []byte
}

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next record (without its line terminator), valid until
// the following call. It returns io.EOF at the end, and ErrRecordTooLong
// (after skipping the record) for an overlong one; callers may continue.
func (r *Reader) Next() ([]byte, error) {
	// Octet counting: digits, a space, then the frame.
	if n, ok := r.octetCount(); ok {
		if n > MaxRecord {
			if _, err := r.br.Discard(n); err != nil {
				return nil, fmt.Errorf("octet-counted frame: %w", io.ErrUnexpectedEOF)
			}
			return nil, ErrRecordTooLong
		}
		if cap(r.buf) < n {
			r.buf = make([]byte, n)
		}
		r.buf = r.buf[:n]
		if _, err := io.ReadFull(r.br, r.buf); err != nil {
			return nil, fmt.Errorf("octet-counted frame of %d bytes: %w", n, io.ErrUnexpectedEOF)
		}
		// A trailing newline after the frame is tolerated.
		if b, err := r.br.Peek(1); err == nil && b[0] == '\n' {
			r.br.Discard(1)
		}
		return r.buf, nil
	}
	line, err := r.br.ReadSlice('\n')
	if err == nil || (err == io.EOF && len(line) > 0) {
		return trimEOL(line), nil
	}
	if err != bufio.ErrBufferFull {
		return nil, err
	}
	r.buf = append(r.buf[:0], line...)
	for {
		line, err = r.br.ReadSlice('\n')
		if len(r.buf)+len(line) > MaxRecord {
			// Skip the rest of the line.
			for err == bufio.ErrBufferFull {
				_, err = r.br.ReadSlice('\n')
			}
			return nil, ErrRecordTooLong
		}
		r.buf = append(r.buf, line...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		return trimEOL(r.buf), nil
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// octetCount peeks for "NNN " followed by '<' and consumes the count.
func (r *Reader) octetCount() (int, bool) {
	b, _ := r.br.Peek(12)
	n, i := 0, 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		n = n*10 + int(b[i]-'0')
		i++
	}
	if i == 0 || i > 9 || i+1 >= len(b) || b[i] != ' ' || b[i+1] != '<' {
		return 0, false
	}
	r.br.Discard(i + 1)
	return n, true
}
