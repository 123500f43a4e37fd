package posture

import "strings"

// CompareVersions compares two version strings and returns -1, 0 or 1.
//
// It follows the Debian algorithm, which orders every common scheme
// sensibly: an optional "epoch:" prefix compares first, then runs of
// non-digits compare lexically (letters before other characters, "~"
// before everything, even the end) and runs of digits compare
// numerically. So 1.10 > 1.9, 1.0~rc1 < 1.0, 10.0.19045.4291 >
// 10.0.19045.3803 and 128.0.6613.84 > 99.0.
func CompareVersions(a, b string) int {
	ea, ra := splitEpoch(strings.TrimSpace(a))
	eb, rb := splitEpoch(strings.TrimSpace(b))
	if c := compareDigits(ea, eb); c != 0 {
		return c
	}
	return verrevcmp(ra, rb)
}

func splitEpoch(v string) (string, string) {
	if i := strings.IndexByte(v, ':'); i > 0 && isDigits(v[:i]) {
		return v[:i], v[i+1:]
	}
	return "0", v
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// order ranks a non-digit character: ~ first, then the end of the string,
// then letters, then everything else.
func order(c int) int {
	switch {
	case c == 0:
		return 0
	case c == '~':
		return -1
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		return c
	default:
		return c + 256
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func verrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		// Non-digit prefix.
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			var ca, cb int
			if i < len(a) && !isDigit(a[i]) {
				ca = order(int(a[i]))
			}
			if j < len(b) && !isDigit(b[j]) {
				cb = order(int(b[j]))
			}
			if ca != cb {
				if ca < cb {
					return -1
				}
				return 1
			}
			if i < len(a) && !isDigit(a[i]) {
				i++
			}
			if j < len(b) && !isDigit(b[j]) {
				j++
			}
		}
		// Digit run.
		si := i
		for i < len(a) && isDigit(a[i]) {
			i++
		}
		sj := j
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if c := compareDigits(a[si:i], b[sj:j]); c != 0 {
			return c
		}
	}
	return 0
}

// compareDigits compares two runs of decimal digits of any length.
func compareDigits(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
