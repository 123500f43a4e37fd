package corpus

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// This file generates the sensitive values, valid by their checksums, and
// the look-alike numbers that are not personal data.

func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

func luhnDigit(body string) byte {
	sum := 0
	double := true
	for i := len(body) - 1; i >= 0; i-- {
		v := int(body[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// pan returns a Luhn-valid card number of a random brand.
func pan(r *rand.Rand) string {
	prefixes := []struct {
		p string
		n int
	}{{"4", 16}, {"4", 16}, {"4", 16}, {"51", 16}, {"55", 16}, {"2221", 16}, {"2720", 16}, {"34", 15}, {"37", 15},
		{"6011", 16}, {"65", 16}, {"3530", 16}, {"36", 14}, {"62", 16}, {"6759", 16}, {"4", 13}, {"4", 19}}
	pp := prefixes[r.IntN(len(prefixes))]
	body := pp.p + digits(r, pp.n-len(pp.p)-1)
	return body + string(luhnDigit(body))
}

// formatPAN writes a PAN in groups the way people type them.
func formatPAN(r *rand.Rand, p string) string {
	sep := []string{" ", " ", "-", "", "."}[r.IntN(5)]
	if sep == "" {
		return p
	}
	var groups []int
	switch len(p) {
	case 15:
		groups = []int{4, 6, 5}
	case 14:
		groups = []int{4, 6, 4}
	default:
		for n := len(p); n > 0; n -= 4 {
			groups = append(groups, min(4, n))
		}
	}
	var b strings.Builder
	i := 0
	for k, g := range groups {
		if k > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p[i : i+g])
		i += g
	}
	return b.String()
}

var (
	digitsES = []string{"cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"}
	digitsEN = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	tensES   = []string{"", "diez", "veinte", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"}
	teensES  = []string{"diez", "once", "doce", "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve"}
	veintiES = []string{"veinte", "veintiuno", "veintidós", "veintitrés", "veinticuatro", "veinticinco", "veintiséis", "veintisiete", "veintiocho", "veintinueve"}
	tensEN   = []string{"", "ten", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
	teensEN  = []string{"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	hundES   = []string{"", "ciento", "doscientos", "trescientos", "cuatrocientos", "quinientos", "seiscientos", "setecientos", "ochocientos", "novecientos"}
)

// twoDigits says a pair "45" as one number: "cuarenta y cinco", "forty five".
func twoDigits(d string, lang string) (string, bool) {
	if d[0] == '0' {
		return "", false
	}
	t, u := int(d[0]-'0'), int(d[1]-'0')
	if lang == "es" {
		switch {
		case t == 1:
			return teensES[u], true
		case t == 2:
			return veintiES[u], true
		case u == 0:
			return tensES[t], true
		}
		return tensES[t] + " y " + digitsES[u], true
	}
	switch {
	case t == 1:
		return teensEN[u], true
	case u == 0:
		// A bare "forty" before another digit is heard as 4x in English;
		// callers say "four oh" instead.
		return "", false
	}
	return tensEN[t] + " " + digitsEN[u], true
}

// speak says a digit string the way callers do: digit by digit, in pairs,
// with "doble", or (Spanish) hundreds like "seiscientos doce".
func speak(r *rand.Rand, d string, lang string) string {
	words := digitsES
	double := "doble"
	if lang == "en" {
		words, double = digitsEN, "double"
	}
	style := r.IntN(4)
	var parts []string
	for i := 0; i < len(d); {
		switch {
		case style == 1 && i+1 < len(d) && r.IntN(3) > 0:
			if w, ok := twoDigits(d[i:i+2], lang); ok {
				parts = append(parts, w)
				i += 2
				continue
			}
		case style == 2 && i+1 < len(d) && d[i] == d[i+1] && (i+2 >= len(d) || d[i+2] != d[i]):
			parts = append(parts, double+" "+words[d[i]-'0'])
			i += 2
			continue
		case style == 3 && lang == "es" && i+2 < len(d) && d[i] != '0' && r.IntN(2) == 0:
			if rest, ok := twoDigits(d[i+1:i+3], lang); ok {
				h := hundES[d[i]-'0']
				if d[i] == '1' {
					h = "ciento"
				}
				parts = append(parts, h+" "+rest)
				i += 3
				continue
			}
		}
		if lang == "en" && d[i] == '0' && r.IntN(3) == 0 {
			parts = append(parts, "oh")
		} else {
			parts = append(parts, words[d[i]-'0'])
		}
		i++
	}
	sep := []string{" ", ", ", " ", "... "}[r.IntN(4)]
	return strings.Join(parts, sep)
}

const nifLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

func nif(r *rand.Rand) string {
	n := r.IntN(99999999)
	s := fmt.Sprintf("%08d%c", n, nifLetters[n%23])
	switch r.IntN(4) {
	case 0:
		return s[:2] + "." + s[2:5] + "." + s[5:8] + "-" + s[8:]
	case 1:
		return s[:8] + " " + s[8:]
	case 2:
		return s[:8] + "-" + s[8:]
	}
	return s
}

func nie(r *rand.Rand) string {
	p := r.IntN(3)
	n := r.IntN(9999999)
	s := fmt.Sprintf("%c%07d%c", "XYZ"[p], n, nifLetters[(p*10000000+n)%23])
	if r.IntN(3) == 0 {
		return s[:1] + "-" + s[1:8] + "-" + s[8:]
	}
	return s
}

func cif(r *rand.Rand) string {
	org := "ABEH"[r.IntN(4)]
	d := digits(r, 7)
	sum := 0
	for i := 0; i < 7; i++ {
		v := int(d[i] - '0')
		if i%2 == 0 {
			v *= 2
			v = v/10 + v%10
		}
		sum += v
	}
	return fmt.Sprintf("%c%s%d", org, d, (10-sum%10)%10)
}

func nss(r *rand.Rand) string {
	prov := 1 + r.IntN(52)
	num := 10000000 + r.IntN(89999999)
	v, _ := strconv.Atoi(fmt.Sprintf("%02d%08d", prov, num))
	ctrl := v % 97
	switch r.IntN(2) {
	case 0:
		return fmt.Sprintf("%02d/%08d/%02d", prov, num, ctrl)
	}
	return fmt.Sprintf("%02d %08d %02d", prov, num, ctrl)
}

func mod97(s string) int {
	rem := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			rem = (rem*100 + int(c-'A') + 10) % 97
		}
	}
	return rem
}

func cccDigit(ds string) int {
	w := []int{1, 2, 4, 8, 5, 10, 9, 7, 3, 6}
	s := 0
	for i := range ds {
		s += int(ds[i]-'0') * w[i]
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

// iban returns a valid IBAN (Spanish with valid CCC, or German, French, British).
func iban(r *rand.Rand) string {
	var cc, bban string
	switch r.IntN(5) {
	case 0:
		cc, bban = "DE", digits(r, 18)
	case 1:
		cc, bban = "FR", digits(r, 23)
	case 2:
		cc, bban = "GB", "NWBK"+digits(r, 14)
	default:
		bank, branch, acct := digits(r, 4), digits(r, 4), digits(r, 10)
		bban = bank + branch + strconv.Itoa(cccDigit("00"+bank+branch)) + strconv.Itoa(cccDigit(acct)) + acct
		cc = "ES"
	}
	check := 98 - mod97(bban+cc+"00")
	s := fmt.Sprintf("%s%02d%s", cc, check, bban)
	if r.IntN(3) > 0 {
		var b strings.Builder
		for i := 0; i < len(s); i += 4 {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s[i:min(i+4, len(s))])
		}
		return b.String()
	}
	return s
}

func phoneES(r *rand.Rand) (written string, national string) {
	first := []string{"6", "6", "71", "74", "91", "93", "96", "95"}[r.IntN(8)]
	n := first + digits(r, 9-len(first))
	switch r.IntN(5) {
	case 0:
		return "+34 " + n[:3] + " " + n[3:6] + " " + n[6:], n
	case 1:
		return "+34" + n, n
	case 2:
		return n[:3] + " " + n[3:5] + " " + n[5:7] + " " + n[7:], n
	case 3:
		return n, n
	}
	return n[:3] + " " + n[3:6] + " " + n[6:], n
}

func phoneIntl(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return "+44 20 7946 " + digits(r, 4)
	case 1:
		return "+33 6 " + digits(r, 2) + " " + digits(r, 2) + " " + digits(r, 2) + " " + digits(r, 2)
	case 2:
		return "+49 30 " + digits(r, 8)
	}
	return "+1 415 555 " + digits(r, 4)
}

func ssn(r *rand.Rand) string {
	return fmt.Sprintf("%03d-%02d-%04d", 100+r.IntN(565), 10+r.IntN(89), 1000+r.IntN(8999))
}

func nino(r *rand.Rand) string {
	first := "ABCEGHJKLMNOPRSTWXYZ"
	second := "ABCEGHJKLMNPRSTWXYZ"
	a, b := first[r.IntN(len(first))], second[r.IntN(len(second))]
	for string([]byte{a, b}) == "GB" || string([]byte{a, b}) == "NK" || string([]byte{a, b}) == "TN" {
		a = 'A'
	}
	d := digits(r, 6)
	return fmt.Sprintf("%c%c %s %s %s %c", a, b, d[:2], d[2:4], d[4:], "ABCD"[r.IntN(4)])
}

func email(r *rand.Rand, first, last string) string {
	doms := []string{"gmail.com", "hotmail.es", "yahoo.co.uk", "empresa.es", "correo.org", "outlook.com", "telefonica.net"}
	f := strings.ToLower(asciiFold(first))
	l := strings.ToLower(asciiFold(last))
	sep := []string{".", "_", ""}[r.IntN(3)]
	return f + sep + l + strconv.Itoa(r.IntN(99)) + "@" + doms[r.IntN(len(doms))]
}

func asciiFold(s string) string {
	return strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ñ", "n", "Á", "A", "É", "E", "Í", "I", "Ó", "O", "Ú", "U", " ", "").Replace(s)
}

func ipv4(r *rand.Rand) string {
	return fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(222), r.IntN(256), r.IntN(256), 1+r.IntN(254))
}

func ipv6(r *rand.Rand) string {
	return fmt.Sprintf("2001:db8:%x:%x::%x", r.IntN(65535), r.IntN(65535), 1+r.IntN(65535))
}

func dob(r *rand.Rand) string {
	d, m, y := 1+r.IntN(28), 1+r.IntN(12), 1940+r.IntN(66)
	return fmt.Sprintf("%02d/%02d/%d", d, m, y)
}

func expiry(r *rand.Rand) string {
	return fmt.Sprintf("%02d/%02d", 1+r.IntN(12), 26+r.IntN(8))
}

func cvv(r *rand.Rand, amex bool) string {
	if amex {
		return digits(r, 4)
	}
	return digits(r, 3)
}

func plate(r *rand.Rand) string {
	cons := "BCDFGHJKLMNPRSTVWXYZ"
	return fmt.Sprintf("%s %c%c%c", digits(r, 4), cons[r.IntN(20)], cons[r.IntN(20)], cons[r.IntN(20)])
}

func passport(r *rand.Rand) string {
	up := "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	return fmt.Sprintf("%c%c%c%s", up[r.IntN(26)], up[r.IntN(26)], up[r.IntN(26)], digits(r, 6))
}

func postal(r *rand.Rand) string {
	return fmt.Sprintf("%02d%03d", 1+r.IntN(52), r.IntN(1000))
}

// Look-alikes that are not personal data and must not be flagged.

func orderID(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return "PED-" + strconv.Itoa(2020+r.IntN(6)) + "-" + digits(r, 6)
	case 1:
		return "#" + digits(r, 8)
	case 2:
		return "ORD" + digits(r, 9)
	}
	return "1" + digits(r, 9)
}

func amount(r *rand.Rand, lang string) string {
	if lang == "es" {
		return fmt.Sprintf("%d,%02d €", r.IntN(2000), r.IntN(100))
	}
	return fmt.Sprintf("$%d.%02d", r.IntN(2000), r.IntN(100))
}

func timestamp(r *rand.Rand) string {
	return fmt.Sprintf("2025-%02d-%02d %02d:%02d:%02d", 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60))
}

func tracking(r *rand.Rand) string {
	switch r.IntN(3) {
	case 0:
		return "1Z" + strings.ToUpper(strconv.FormatInt(int64(r.IntN(1<<30)), 36)) + digits(r, 8)
	case 1:
		return "PK" + digits(r, 10) + "ES"
	}
	return digits(r, 22)
}

// imei returns a Luhn-valid 15-digit IMEI (type allocation code 35…).
func imei(r *rand.Rand) string {
	body := "35" + digits(r, 12)
	return body + string(luhnDigit(body))
}

func invoice(r *rand.Rand) string {
	return fmt.Sprintf("FAC-%d/%05d", 2020+r.IntN(6), r.IntN(99999))
}
