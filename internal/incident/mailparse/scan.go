package mailparse

import (
	"strings"
)

// The patterns below are only run on short windows around cheap anchors
// ('@' for addresses, "http"/"hxxp"/"www." for links): running them over a
// whole multi-megabyte body is far slower.

// findURLs returns up to max URL candidates in s.
func findURLs(s string, max int) []string {
	var out []string
	for i := 0; i < len(s) && len(out) < max; {
		j := strings.IndexAny(s[i:], "hHwW")
		if j < 0 {
			break
		}
		pos := i + j
		i = pos + 1
		if pos > 0 && isWordByte(s[pos-1]) {
			continue
		}
		if !hasURLPrefix(s[pos:]) {
			continue
		}
		end := min(len(s), pos+8192)
		loc := urlRE.FindStringIndex(s[pos:end])
		if loc == nil || loc[0] != 0 {
			continue
		}
		out = append(out, s[pos:pos+loc[1]])
		i = pos + loc[1]
	}
	return out
}

func hasURLPrefix(s string) bool {
	for _, p := range []string{"http://", "https://", "hxxp://", "hxxps://", "www."} {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return true
		}
	}
	return false
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// findEmails returns up to max e-mail addresses in s.
func findEmails(s string, max int) []string {
	var out []string
	for i := 0; i < len(s) && len(out) < max; {
		j := strings.IndexByte(s[i:], '@')
		if j < 0 {
			break
		}
		at := i + j
		i = at + 1
		lo, hi := max0(at-64), min(len(s), at+256)
		loc := emailRE.FindStringIndex(s[lo:hi])
		for loc != nil && lo+loc[1] <= at {
			// A match wholly before this '@' was found already; look on.
			next := lo + loc[1]
			l2 := emailRE.FindStringIndex(s[next:hi])
			if l2 == nil {
				loc = nil
				break
			}
			loc = []int{next - lo + l2[0], next - lo + l2[1]}
		}
		if loc == nil || lo+loc[0] > at {
			continue
		}
		out = append(out, s[lo+loc[0]:lo+loc[1]])
		i = lo + loc[1]
	}
	return out
}

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}
