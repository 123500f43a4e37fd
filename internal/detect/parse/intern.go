package parse

// maxInterned bounds the field-name intern table of one Parser.
const maxInterned = 8192

// interner returns one shared string per distinct field name, so parsing
// the same shapes of events over and over does not allocate names.
type interner map[string]string

func (in *interner) get(b []byte) string {
	if *in == nil {
		*in = make(interner, 256)
	}
	if s, ok := (*in)[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(*in) < maxInterned {
		(*in)[s] = s
	}
	return s
}
