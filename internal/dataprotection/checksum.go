package dataprotection

// This file holds the checksum validators. Each takes ASCII digits or
// upper-case alphanumerics with separators already removed.

// luhn reports whether the digit string passes the Luhn (mod 10) check.
func luhn(d []byte) bool {
	if len(d) < 2 {
		return false
	}
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		c := d[i]
		if c < '0' || c > '9' {
			return false
		}
		v := int(c - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// atoiN converts a short digit string; it returns -1 if a byte is not a digit.
func atoiN(d []byte) int {
	n := 0
	for _, c := range d {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// cardBrand returns the validator name with the brand of a PAN from its IIN and length, or "" when
// no known brand issues numbers of that prefix and length.
func cardBrand(d []byte) string {
	n := len(d)
	if n < 12 || n > 19 {
		return ""
	}
	p2 := atoiN(d[:2])
	p3 := atoiN(d[:3])
	p4 := atoiN(d[:4])
	p6 := atoiN(d[:6])
	switch {
	case d[0] == '4' && (n == 13 || n == 16 || n == 19):
		return "luhn+iin:visa"
	case (p2 >= 51 && p2 <= 55 || p4 >= 2221 && p4 <= 2720) && n == 16:
		return "luhn+iin:mastercard"
	case (p2 == 34 || p2 == 37) && n == 15:
		return "luhn+iin:amex"
	case (p4 == 6011 || p2 == 65 || p3 >= 644 && p3 <= 649 || p6 >= 622126 && p6 <= 622925) && n >= 16 && n <= 19:
		return "luhn+iin:discover"
	case p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19, (p4 == 1800 || p4 == 2131) && n == 15:
		return "luhn+iin:jcb"
	case (p3 >= 300 && p3 <= 305 || p2 == 36 || p2 == 38 || p2 == 39) && n >= 14 && n <= 19:
		return "luhn+iin:diners"
	case p2 == 62 && n >= 16 && n <= 19:
		return "luhn+iin:unionpay"
	case (p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893 || p4 == 6304 || p4 == 6759 || p4 == 6761 || p4 == 6762 || p4 == 6763 || p2 == 50 || p2 >= 56 && p2 <= 58 || p2 == 67) && n >= 12 && n <= 19:
		return "luhn+iin:maestro"
	}
	return ""
}

// ibanLengths maps ISO 3166 country codes to their IBAN length (ISO 13616 registry).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
	"BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
	"ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
	"HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
	"LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
	"MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
	"RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

// ibanValid reports whether s (upper-case, no spaces) is a valid IBAN: known
// country, the country's length, and the ISO 13616 mod-97 check; for Spain
// the two control digits of the bank account (CCC) are checked as well.
func ibanValid(s []byte) bool {
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	want, ok := ibanLengths[string(s[:2])]
	if !ok || want != len(s) {
		return false
	}
	rem := 0
	add := func(c byte) bool {
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			v := int(c-'A') + 10
			rem = (rem*100 + v) % 97
		default:
			return false
		}
		return true
	}
	for _, c := range s[4:] {
		if !add(c) {
			return false
		}
	}
	for _, c := range s[:4] {
		if !add(c) {
			return false
		}
	}
	if rem != 1 {
		return false
	}
	if string(s[:2]) == "ES" {
		return esCCCValid(s[4:])
	}
	return true
}

// esCCCValid checks the two control digits of a Spanish bank account
// number (20 digits: bank 4, branch 4, control 2, account 10).
func esCCCValid(ccc []byte) bool {
	if len(ccc) != 20 || atoiN(ccc) < 0 && !allDigits(ccc) {
		return false
	}
	if !allDigits(ccc) {
		return false
	}
	weights := [10]int{1, 2, 4, 8, 5, 10, 9, 7, 3, 6}
	dc := func(ds []byte) int {
		s := 0
		for i, c := range ds {
			s += int(c-'0') * weights[i]
		}
		v := 11 - s%11
		switch v {
		case 11:
			return 0
		case 10:
			return 1
		}
		return v
	}
	first := [10]byte{'0', '0'}
	copy(first[2:], ccc[:8])
	return dc(first[:]) == int(ccc[8]-'0') && dc(ccc[10:20]) == int(ccc[9]-'0')
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

const nifLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// nifValid checks a DNI (8 digits + letter) or a K/L/M NIF (letter, 7 digits, letter).
func nifValid(s []byte) bool {
	switch {
	case len(s) == 9 && allDigits(s[:8]):
		return nifLetters[atoiN(s[:8])%23] == s[8]
	case len(s) == 9 && (s[0] == 'K' || s[0] == 'L' || s[0] == 'M') && allDigits(s[1:8]):
		return nifLetters[atoiN(s[1:8])%23] == s[8]
	}
	return false
}

// nieValid checks a NIE: X, Y or Z, 7 digits and the control letter.
func nieValid(s []byte) bool {
	if len(s) != 9 || !allDigits(s[1:8]) {
		return false
	}
	var p int
	switch s[0] {
	case 'X':
		p = 0
	case 'Y':
		p = 1
	case 'Z':
		p = 2
	default:
		return false
	}
	return nifLetters[(p*10000000+atoiN(s[1:8]))%23] == s[8]
}

// cifValid checks a Spanish company tax id (CIF): organisation letter, 7
// digits, and a control digit or letter depending on the organisation type.
func cifValid(s []byte) bool {
	if len(s) != 9 || !allDigits(s[1:8]) {
		return false
	}
	org := s[0]
	switch org {
	case 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'N', 'P', 'Q', 'R', 'S', 'U', 'V', 'W':
	default:
		return false
	}
	sum := 0
	for i := 1; i <= 7; i++ {
		v := int(s[i] - '0')
		if i%2 == 1 { // odd positions (1st, 3rd…) are doubled
			v *= 2
			v = v/10 + v%10
		}
		sum += v
	}
	ctrl := (10 - sum%10) % 10
	letter := "JABCDEFGHI"[ctrl]
	c := s[8]
	switch org {
	case 'P', 'Q', 'R', 'S', 'N', 'W':
		return c == letter
	case 'A', 'B', 'E', 'H':
		return c == byte('0'+ctrl)
	}
	return c == letter || c == byte('0'+ctrl)
}

// nssValid checks a Spanish social security number (12 digits: province 2,
// number 8, control 2 = (province·number) mod 97).
func nssValid(d []byte) bool {
	if len(d) != 12 || !allDigits(d) {
		return false
	}
	prov := atoiN(d[:2])
	num := atoiN(d[2:10])
	var v int
	if num < 10000000 {
		v = prov*10000000 + num
	} else {
		v = atoiN(d[:10])
	}
	return v%97 == atoiN(d[10:12]) && prov >= 1 && prov <= 53
}

// ssnValid applies the SSA's structural rules to a 9-digit US SSN.
func ssnValid(d []byte) bool {
	if len(d) != 9 || !allDigits(d) {
		return false
	}
	area, group, serial := atoiN(d[:3]), atoiN(d[3:5]), atoiN(d[5:])
	return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 &&
		string(d) != "123456789" && string(d) != "078051120"
}

// ninoValid checks the shape of a UK National Insurance number.
func ninoValid(s []byte) bool {
	if len(s) != 9 || !allDigits(s[2:8]) {
		return false
	}
	a, b := s[0], s[1]
	if a < 'A' || a > 'Z' || b < 'A' || b > 'Z' {
		return false
	}
	switch a {
	case 'D', 'F', 'I', 'Q', 'U', 'V':
		return false
	}
	switch b {
	case 'D', 'F', 'I', 'O', 'Q', 'U', 'V':
		return false
	}
	switch string(s[:2]) {
	case "BG", "GB", "NK", "KN", "TN", "NT", "ZZ":
		return false
	}
	return s[8] >= 'A' && s[8] <= 'D'
}
