package parse

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/custodia/custodia/internal/detect/event"
)

// parseLEEF parses LEEF 1.0 ("LEEF:1.0|Vendor|Product|Version|EventID|attrs",
// tab-separated attributes) and LEEF 2.0 (a sixth header field names the
// delimiter, as a character or as a hex code such as x5E or ^).
func parseLEEF(s string, e *event.Event) error {
	if !strings.HasPrefix(s, "LEEF:") {
		return fmt.Errorf("leef: missing LEEF: prefix")
	}
	s = s[5:]
	version, s, ok := strings.Cut(s, "|")
	if !ok {
		return fmt.Errorf("leef: truncated header")
	}
	e.Add("leefVersion", version, event.String)
	names := []string{"deviceVendor", "deviceProduct", "deviceVersion", "eventId"}
	for i, n := range names {
		v, rest, ok := strings.Cut(s, "|")
		if !ok {
			return fmt.Errorf("leef: header has %d of %d fields", i+1, len(names)+1)
		}
		e.Add(n, v, event.String)
		s = rest
	}
	delim := "\t"
	if strings.HasPrefix(version, "2") {
		d, rest, ok := strings.Cut(s, "|")
		if ok && len(d) <= 6 {
			s = rest
			switch {
			case d == "":
			case len(d) > 1 && (d[0] == 'x' || d[0] == 'X' || strings.HasPrefix(d, "0x")):
				n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(d[1:], "x"), "0x"), 16, 8)
				if err != nil {
					return fmt.Errorf("leef: bad delimiter %q", d)
				}
				delim = string(rune(n))
			default:
				delim = d
			}
		}
	}
	for _, attr := range strings.Split(s, delim) {
		if attr == "" {
			continue
		}
		k, v, ok := strings.Cut(attr, "=")
		if !ok {
			return fmt.Errorf("leef: attribute %q has no '='", truncate(attr, 40))
		}
		if len(e.Fields) >= maxFields {
			return errTooManyFields
		}
		e.Add(k, v, event.String)
	}
	return nil
}
