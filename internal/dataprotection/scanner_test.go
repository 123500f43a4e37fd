package dataprotection

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func newTestScanner(tb testing.TB, opts Options) *Scanner {
	tb.Helper()
	s, err := NewScanner(opts)
	if err != nil {
		tb.Fatalf("NewScanner: %v", err)
	}
	return s
}

// render shows findings as ENTITY[value] for compact comparisons.
func render(text string, fs []Finding) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%s[%s]", f.Entity, text[f.Start:f.End]))
	}
	return strings.Join(parts, " ")
}

func TestScanExamples(t *testing.T) {
	s := newTestScanner(t, Options{})
	tests := []struct {
		name, text, want string
	}{
		{"visa spaced", "mi tarjeta es 4111 1111 1111 1111 gracias", "CREDIT_CARD[4111 1111 1111 1111]"},
		{"mastercard dashes", "card: 5500-0000-0000-0004.", "CREDIT_CARD[5500-0000-0000-0004]"},
		{"amex", "Amex 3782 822463 10005", "CREDIT_CARD[3782 822463 10005]"},
		{"luhn fails", "pedido 4111 1111 1111 1112", ""},
		{"spoken es", "Cliente: cuatro uno uno uno, uno uno uno uno, uno uno uno uno, uno uno uno uno", "CREDIT_CARD[cuatro uno uno uno, uno uno uno uno, uno uno uno uno, uno uno uno uno]"},
		{"spoken en double", "Customer: four one double one one one one one one one one one one one one one", "CREDIT_CARD[four one double one one one one one one one one one one one one one]"},
		{"iban es", "IBAN ES91 2100 0418 4502 0005 1332.", "IBAN_CODE[ES91 2100 0418 4502 0005 1332]"},
		{"iban de compact", "DE89370400440532013000", "IBAN_CODE[DE89370400440532013000]"},
		{"iban bad", "ES91 2100 0418 4502 0005 1333", ""},
		{"nif dotted", "DNI 12.345.678-Z", "ES_NIF[12.345.678-Z]"},
		{"nif spaced", "mi DNI es 12345678 Z", "ES_NIF[12345678 Z]"},
		{"nif compact", "NIF: 12345678Z", "ES_NIF[12345678Z]"},
		{"nif bad letter", "NIF: 12345678A", ""},
		{"nie", "NIE X-1234567-L y Y1234567X", "ES_NIE[X-1234567-L] ES_NIE[Y1234567X]"},
		{"cif", "CIF B12345674", "ES_CIF[B12345674]"},
		{"phone es", "llámame al 612 345 678", "PHONE_NUMBER[612 345 678]"},
		{"phone +34", "teléfono +34 912 345 678", "PHONE_NUMBER[+34 912 345 678]"},
		{"email", "escribe a ana.garcia@example.com.", "EMAIL_ADDRESS[ana.garcia@example.com]"},
		{"email bad tld", "foo@bar.notatld", ""},
		{"ipv4", "from 192.168.1.10 today", "IP_ADDRESS[192.168.1.10]"},
		{"ipv6", "addr 2001:db8::8a2e:370:7334 ok", "IP_ADDRESS[2001:db8::8a2e:370:7334]"},
		{"time not ipv6", "at 10:30:00 ok", ""},
		{"url", "see https://example.com/a?b=1.", "URL[https://example.com/a?b=1]"},
		{"ssn", "SSN 536-22-1234", "US_SSN[536-22-1234]"},
		{"nino", "NI number AB 12 34 56 C", "UK_NINO[AB 12 34 56 C]"},
		{"cvv after question", "Agente: ¿me dice el código de seguridad?\nCliente: 123", "CARD_CVV[123]"},
		{"cvv spoken", "Agent: and the CVV please?\nCustomer: four five six", "CARD_CVV[four five six]"},
		{"no cvv without context", "Cliente: 123", ""},
		{"expiry", "Agente: ¿fecha de caducidad?\nCliente: 03/27", "CARD_EXPIRY[03/27]"},
		{"postal", "vivo en Calle Mayor 5, 28013 Madrid", "LOCATION[Calle Mayor 5] ES_POSTAL_CODE[28013] LOCATION[Madrid]"},
		{"passport", "pasaporte PAA123456", "ES_PASSPORT[PAA123456]"},
		{"plate", "la matrícula del coche es 1234 BCD", "ES_LICENSE_PLATE[1234 BCD]"},
		{"dob", "fecha de nacimiento 12/03/1985", "DATE_OF_BIRTH[12/03/1985]"},
		{"nss", "número de la seguridad social 28 1234567840", "ES_NSS[28 1234567840]"},
		{"person intro", "Hola, me llamo Lucía Fernández y llamo por", "PERSON[Lucía Fernández]"},
		{"person en", "Hi, my name is John Smith.", "PERSON[John Smith]"},
		{"order id", "pedido 2024001234 importe 45,90 €", ""},
		{"spoken 600s", "Cliente: seiscientos doce, tres cuatro cinco, seis siete ocho", "PHONE_NUMBER[seiscientos doce, tres cuatro cinco, seis siete ocho]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(tt.text, s.Scan([]byte(tt.text)))
			if got != tt.want {
				t.Errorf("Scan(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestWindowInfoMasks(t *testing.T) {
	s := newTestScanner(t, Options{})
	st := &scanState{}
	text := []byte("Cliente: 4111 1111-1111.1111 cuatro, cinco / 12")
	st.reset(s, text)
	st.tokenize()
	st.numeric(1)
	if len(st.units) < 5 {
		t.Fatalf("numeric(1) collected %d units, want a long run", len(st.units))
	}
	for a := 0; a < len(st.units); a++ {
		for b := a; b < len(st.units); b++ {
			w1, s1, g1 := st.windowInfo(a, b)
			w2, s2, g2 := st.windowInfoSlow(a, b)
			if w1 != w2 || s1 != s2 || g1 != g2 {
				t.Errorf("windowInfo(%d,%d) = %v %v %b, want %v %v %b", a, b, w1, s1, g1, w2, s2, g2)
			}
		}
	}
}

func TestFailClosed(t *testing.T) {
	s := newTestScanner(t, Options{FailClosed: true})
	tests := []struct{ text, want string }{
		{"tarjeta 4111 1111 1111 1112", "CREDIT_CARD[4111 1111 1111 1112]"},
		{"ref " + strings.Repeat("7", 25) + " ok", "CREDIT_CARD[" + strings.Repeat("7", 25) + "]"},
		{"pedido 12345678901", ""},
		{"Cliente: uno dos tres cuatro cinco seis siete ocho nueve uno dos tres", "CREDIT_CARD[uno dos tres cuatro cinco seis siete ocho nueve uno dos tres]"},
	}
	for _, tt := range tests {
		if got := render(tt.text, s.Scan([]byte(tt.text))); got != tt.want {
			t.Errorf("Scan(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestHostileInput feeds inputs built to be slow: they must finish.
func TestHostileInput(t *testing.T) {
	s := newTestScanner(t, Options{FailClosed: true, Entities: AllEntities()})
	inputs := map[string]string{
		"digits":       strings.Repeat("1 ", 500000),
		"spoken":       strings.Repeat("uno ", 250000),
		"colons":       strings.Repeat("a:", 500000),
		"at signs":     strings.Repeat("a@", 500000),
		"one line":     strings.Repeat("x", 1<<20),
		"dots":         strings.Repeat("1.", 500000),
		"caps":         strings.Repeat("Ana ", 250000),
		"turns":        strings.Repeat("Cliente: uno dos\nAgente: vale\n", 30000),
		"invalid utf8": strings.Repeat("\xff\xc3", 500000),
	}
	for name, in := range inputs {
		start := time.Now()
		s.Scan([]byte(in))
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%s: scan took %v", name, d)
		}
	}
}
