package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func TestPDFSpanishText(t *testing.T) {
	p := NewPDF("Declaración de Aplicabilidad", "Sistema: Telefonía", "Custodia", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), false)
	p.Heading("Medidas")
	rows := make([][]string, 120)
	for i := range rows {
		rows[i] = []string{"op.acc.6", "Mecanismo de autenticación (usuarios de la organización) con un título largo que se parte en varias líneas", "sí"}
	}
	p.Table([]Column{Col("Medida", 20), Col("Título", 120), Col("Aplica", 15)}, rows)
	b, err := p.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", b[:10])
	}
	txt := PDFText(b)
	for _, want := range []string{"Declaración de Aplicabilidad", "Mecanismo de autenticación", "Título", "sí"} {
		if !strings.Contains(txt, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if n := strings.Count(txt, "op.acc.6"); n != 120 {
		t.Errorf("PDF shows %d rows, want 120", n)
	}
}

func TestXLSX(t *testing.T) {
	b, err := XLSX([]Sheet{{Name: "SoA", Header: []string{"Control", "Título"}, Widths: []float64{10, 40}, Rows: [][]string{{"A.5.1", "Políticas"}}}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := f.GetCellValue("SoA", "B2")
	if err != nil || v != "Políticas" {
		t.Fatalf("B2 = %q, %v; want Políticas", v, err)
	}
}
