package parse

import "time"

// digits parses s as an unsigned decimal of exactly len(s) digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

// fastRFC3339 parses "YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm|±hhmm)" (also with
// a space instead of T) without allocating; ok is false for anything else.
func fastRFC3339(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	h, ok4 := digits(s[11:13])
	mi, ok5 := digits(s[14:16])
	se, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 {
		return time.Time{}, false
	}
	rest := s[19:]
	ns := 0
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		j := 1
		scale := 100000000
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			ns += int(rest[j]-'0') * scale
			scale /= 10
			j++
		}
		if j == 1 {
			return time.Time{}, false
		}
		rest = rest[j:]
	}
	loc := time.UTC
	switch {
	case rest == "" || rest == "Z" || rest == "z":
	case (rest[0] == '+' || rest[0] == '-') && (len(rest) == 6 && rest[3] == ':' || len(rest) == 5):
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[len(rest)-2:])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		off := oh*3600 + om*60
		if rest[0] == '-' {
			off = -off
		}
		if off != 0 {
			t := time.Date(y, time.Month(mo), d, h, mi, se, ns, time.UTC).Add(-time.Duration(off) * time.Second)
			return t, true
		}
	default:
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, se, ns, loc), true
}

// fastStamp parses the RFC 3164 "Mmm _d hh:mm:ss" timestamp.
func fastStamp(s string) (month time.Month, day, h, m, sec int, ok bool) {
	if len(s) != 15 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':' {
		return
	}
	month = months[s[:3]]
	dd := s[4:6]
	if dd[0] == ' ' {
		dd = dd[1:]
	}
	var ok1, ok2, ok3, ok4 bool
	day, ok1 = digits(dd)
	h, ok2 = digits(s[7:9])
	m, ok3 = digits(s[10:12])
	sec, ok4 = digits(s[13:15])
	ok = month != 0 && ok1 && ok2 && ok3 && ok4 && day >= 1 && day <= 31 && h < 24 && m < 60 && sec <= 60
	return
}
