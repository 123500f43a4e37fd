package parse

import (
	"fmt"
	"strings"

	"github.com/custodia/custodia/internal/detect/event"
)

// looksKV reports whether s starts with at least two key=value pairs.
func looksKV(s string) bool {
	n := 0
	for i := 0; i < 2; i++ {
		k, rest := nextToken(s)
		eq := strings.IndexByte(k, '=')
		if eq <= 0 || strings.IndexByte(k[:eq], '"') >= 0 {
			return n >= 2
		}
		n++
		if eq+1 < len(k) && k[eq+1] == '"' {
			// Skip a quoted value that may contain spaces.
			end := strings.IndexByte(s[eq+2:], '"')
			if end < 0 {
				return false
			}
			rest = strings.TrimLeft(s[eq+2+end+1:], " ")
		}
		s = rest
	}
	return n >= 2
}

// parseKV parses key=value pairs separated by spaces (or commas); values
// may be double-quoted with \" and \\ escapes (FortiGate, Palo Alto, …).
func parseKV(s string, e *event.Event) error {
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == ',' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			break
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' {
			i++
		}
		if i >= len(s) || s[i] != '=' || i == start {
			return fmt.Errorf("kv: %q at offset %d is not key=value", truncate(s[start:], 40), start)
		}
		key := s[start:i]
		i++
		var val string
		if i < len(s) && s[i] == '"' {
			i++
			vs := i
			var b []byte
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' && i+1 < len(s) {
					if b == nil {
						b = append([]byte{}, s[vs:i]...)
					}
					b = append(b, s[i+1])
					i += 2
					continue
				}
				if b != nil {
					b = append(b, s[i])
				}
				i++
			}
			if i >= len(s) {
				return fmt.Errorf("kv: unterminated quoted value for %q", key)
			}
			val = s[vs:i]
			if b != nil {
				val = string(b)
			}
			i++
		} else {
			vs := i
			for i < len(s) && s[i] != ' ' && s[i] != '\t' {
				i++
			}
			val = s[vs:i]
		}
		if len(e.Fields) >= maxFields {
			return errTooManyFields
		}
		e.Add(key, val, event.String)
	}
	return nil
}
