package dataprotection

import (
	"bytes"
	"context"
	"encoding/base64"
	"mime/quotedprintable"
	"strings"
	"testing"
)

func b64Lines(s string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(s))
	var b strings.Builder
	for len(enc) > 20 {
		b.WriteString(enc[:20] + "\r\n")
		enc = enc[20:]
	}
	return b.String() + enc + "\r\n"
}

func qp(s string) string {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

const emlPAN = "4111 1111 1111 1111"

func testEML() string {
	inner := "From: a@b.example\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		qp("Mi IBAN es ES9121000418450200051332, gracias.=") + "\r\n"
	return "From: Ana <ana@example.com>\r\nSubject: pago\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\npreamble\r\n" +
		"--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n" +
		"--inner\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		b64Lines("Hola, mi tarjeta es "+emlPAN+" y caduca pronto.") +
		"--inner\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		qp("<p>Tarjeta: "+emlPAN+" = ok, correo maría@example.com</p>") + "\r\n" +
		"--inner--\r\n" +
		"--outer\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64Lines("\x89PNG 4111111111111111") +
		"--outer\r\nContent-Type: message/rfc822\r\n\r\n" + inner +
		"--outer--\r\nepilogue\r\n"
}

func TestScanEMLDecodesParts(t *testing.T) {
	s, err := NewScanner(Options{})
	if err != nil {
		t.Fatal(err)
	}
	msg := testEML()
	if n := strings.Count(msg, emlPAN); n != 1 { // the base64 part hides the other
		t.Fatalf("test message holds the PAN in clear %d times, want 1", n)
	}
	counts := map[Entity]int{}
	rep, err := s.ScanEML(context.Background(), strings.NewReader(msg), func(f Finding, v []byte) error {
		counts[f.Entity]++
		if f.Start < 0 || f.End > len(msg) || f.Start >= f.End {
			t.Errorf("finding %+v out of the message", f)
		}
		if f.Entity == CreditCard && string(v) != emlPAN {
			t.Errorf("card value = %q, want the decoded PAN", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if counts[CreditCard] != 2 {
		t.Errorf("CREDIT_CARD found %d times, want 2 (base64 and quoted-printable parts; not in the image)", counts[CreditCard])
	}
	if counts[IBANCode] != 1 || counts[EmailAddress] < 2 {
		t.Errorf("counts = %v, want the IBAN of the attached message and the e-mails", counts)
	}
	if len(rep.Warnings) == 0 || !strings.Contains(strings.Join(rep.Warnings, ";"), "image/png") {
		t.Errorf("warnings = %v, want the skipped image", rep.Warnings)
	}
}

func TestRedactEMLReencodes(t *testing.T) {
	s, err := NewScanner(Options{})
	if err != nil {
		t.Fatal(err)
	}
	op, _ := NewOperator(OpRedact, nil)
	msg := testEML()
	var out bytes.Buffer
	if _, err := s.RedactEML(context.Background(), strings.NewReader(msg), &out, op); err != nil {
		t.Fatal(err)
	}
	// The redacted message must still parse, and scanning it finds no card.
	counts := map[Entity]int{}
	if _, err := s.ScanEML(context.Background(), bytes.NewReader(out.Bytes()), func(f Finding, v []byte) error {
		counts[f.Entity]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if counts[CreditCard] != 0 || counts[IBANCode] != 0 {
		t.Fatalf("after redaction: %v\n%s", counts, out.String())
	}
	text := out.String()
	want := b64Lines("Hola, mi tarjeta es <CREDIT_CARD> y caduca pronto.")
	if !strings.Contains(strings.ReplaceAll(text, "\r\n", ""), strings.ReplaceAll(want, "\r\n", "")) {
		t.Errorf("the base64 part was not re-encoded as base64 of the redacted text:\n%s", text)
	}
	if !strings.Contains(text, "<CREDIT_CARD> =3D ok") {
		t.Errorf("the quoted-printable part was not re-encoded as quoted-printable:\n%s", text)
	}
	for _, keep := range []string{"preamble\r\n", "--inner--\r\n", "epilogue\r\n", b64Lines("\x89PNG 4111111111111111")} {
		if !strings.Contains(text, keep) {
			t.Errorf("redacted message lost %q", keep)
		}
	}
}

func TestEMLWithoutMIME(t *testing.T) {
	s, _ := NewScanner(Options{})
	msg := "Subject: hi\n\nCard " + emlPAN + "\n"
	var got []Finding
	if _, err := s.ScanEML(context.Background(), strings.NewReader(msg), func(f Finding, v []byte) error {
		got = append(got, f)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || msg[got[0].Start:got[0].End] != emlPAN {
		t.Fatalf("findings = %+v", got)
	}
}

func FuzzEML(f *testing.F) {
	f.Add([]byte(testEML()))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Transfer-Encoding: base64\n\nNDExMQ=\n--x"))
	f.Add([]byte("Content-Transfer-Encoding: quoted-printable\n\n=4=\n=ZZ=3"))
	s, err := NewScanner(Options{})
	if err != nil {
		f.Fatal(err)
	}
	op, _ := NewOperator(OpMask, nil)
	f.Fuzz(func(t *testing.T, msg []byte) {
		_, err := s.ScanEML(context.Background(), bytes.NewReader(msg), func(fd Finding, v []byte) error {
			if fd.Start < 0 || fd.End > len(msg) || fd.Start > fd.End {
				t.Fatalf("finding %+v outside a %d-byte message", fd, len(msg))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.RedactEML(context.Background(), bytes.NewReader(msg), &bytes.Buffer{}, op); err != nil {
			t.Fatal(err)
		}
	})
}
