package parse

// maxInterned bounds the field-name intern table of one Parser.
const maxInterned = 8192

// maxPositions bounds the positional name cache of one Parser, and ways
// is how many names it remembers per position.
const (
	maxPositions = 512
	ways         = 8
)

// interner returns one shared string per distinct field name, so parsing
// the same shapes of events over and over does not allocate names. It
// first tries the few names recent records had at the same field position
// (byte comparisons, right for streams of a few event shapes), and only
// then hashes the name.
type interner struct {
	m    map[string]string
	last [][ways]string // recent names of field number i
	next []uint8        // round-robin replacement per position
}

func (in *interner) get(b []byte, pos int) string {
	if pos < len(in.last) {
		w := &in.last[pos]
		for i := range w {
			if w[i] == string(b) {
				return w[i]
			}
		}
	}
	if in.m == nil {
		in.m = make(map[string]string, 256)
	}
	s, ok := in.m[string(b)]
	if !ok {
		s = string(b)
		if len(in.m) < maxInterned {
			in.m[s] = s
		}
	}
	if pos >= len(in.last) && pos < maxPositions {
		in.last = append(in.last, make([][ways]string, pos+1-len(in.last))...)
		in.next = append(in.next, make([]uint8, pos+1-len(in.next))...)
	}
	if pos < len(in.last) {
		in.last[pos][in.next[pos]] = s
		in.next[pos] = (in.next[pos] + 1) % ways
	}
	return s
}
