package i18n

import (
	"strconv"
	"strings"
)

// Negotiate picks the language for a request: the user's saved preference
// when it is supported, then the best supported language of the browser's
// Accept-Language header (q-values honoured, "es-MX" matches "es"), then
// Default. It never fails: a malformed header is ignored piece by piece.
func Negotiate(userPref, acceptLanguage string) string {
	if p := strings.ToLower(strings.TrimSpace(userPref)); Supported(p) {
		return p
	}
	best, bestQ := "", 0.0
	if len(acceptLanguage) > 4096 {
		acceptLanguage = acceptLanguage[:4096]
	}
	for i, part := range strings.Split(acceptLanguage, ",") {
		if i >= 32 {
			break
		}
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		base, _, _ := strings.Cut(tag, "-")
		if !Supported(base) {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || strings.TrimSpace(k) != "q" {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				f = 0
			}
			q = f
		}
		if q > bestQ {
			best, bestQ = base, q
		}
	}
	if best != "" {
		return best
	}
	return Default
}
