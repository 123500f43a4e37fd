package risk

import (
	"bytes"
	"fmt"
	"time"

	"github.com/go-pdf/fpdf"
)

// PDFDoc is a small report writer on fpdf's core fonts, with the cp1252
// translator so Spanish accents print: a title, headings, paragraphs and
// tables that break across pages. The risk and audit reports use it.
type PDFDoc struct {
	pdf *fpdf.Fpdf
	tr  func(string) string
}

// NewPDFDoc starts an A4 portrait document; footer is printed on every page
// followed by the page number.
func NewPDFDoc(title, footer string) *PDFDoc {
	p := fpdf.New("P", "mm", "A4", "")
	d := &PDFDoc{pdf: p, tr: p.UnicodeTranslatorFromDescriptor("cp1252")}
	p.SetTitle(title, true)
	p.SetCreator("Custodia", true)
	p.SetAutoPageBreak(true, 18)
	p.AliasNbPages("{nb}")
	p.SetFooterFunc(func() {
		p.SetY(-12)
		p.SetFont("Helvetica", "", 8)
		p.SetTextColor(90, 90, 90)
		p.CellFormat(0, 5, d.tr(fmt.Sprintf("%s — %d/{nb}", footer, p.PageNo())), "", 0, "C", false, 0, "")
		p.SetTextColor(0, 0, 0)
	})
	p.AddPage()
	p.SetFont("Helvetica", "B", 16)
	p.MultiCell(0, 8, d.tr(title), "", "L", false)
	p.Ln(2)
	return d
}

// Meta writes a small grey line (date, scope).
func (d *PDFDoc) Meta(s string) {
	d.pdf.SetFont("Helvetica", "", 9)
	d.pdf.SetTextColor(90, 90, 90)
	d.pdf.MultiCell(0, 5, d.tr(s), "", "L", false)
	d.pdf.SetTextColor(0, 0, 0)
	d.pdf.Ln(2)
}

// Heading writes a section heading.
func (d *PDFDoc) Heading(s string) {
	d.pdf.Ln(3)
	d.pdf.SetFont("Helvetica", "B", 12)
	d.pdf.MultiCell(0, 7, d.tr(s), "", "L", false)
	d.pdf.Ln(1)
}

// Para writes a paragraph.
func (d *PDFDoc) Para(s string) {
	d.pdf.SetFont("Helvetica", "", 10)
	d.pdf.MultiCell(0, 5, d.tr(s), "", "L", false)
	d.pdf.Ln(1)
}

// Table writes a table; widths are in mm (A4 leaves 190). Cells wrap; the
// header repeats on a new page.
func (d *PDFDoc) Table(headers []string, widths []float64, rows [][]string) {
	p := d.pdf
	header := func() {
		p.SetFont("Helvetica", "B", 9)
		p.SetFillColor(230, 230, 230)
		for i, h := range headers {
			p.CellFormat(widths[i], 6, d.tr(h), "1", 0, "L", true, 0, "")
		}
		p.Ln(-1)
		p.SetFont("Helvetica", "", 9)
	}
	header()
	const lh = 4.5
	for _, row := range rows {
		lines := 1
		for i, c := range row {
			if n := len(p.SplitLines([]byte(d.tr(c)), widths[i]-2)); n > lines {
				lines = n
			}
		}
		h := float64(lines)*lh + 1
		if p.GetY()+h > 297-20 {
			p.AddPage()
			header()
		}
		x, y := p.GetX(), p.GetY()
		for i, c := range row {
			p.Rect(x, y, widths[i], h, "D")
			p.SetXY(x+1, y+0.5)
			p.MultiCell(widths[i]-2, lh, d.tr(c), "", "L", false)
			x += widths[i]
			p.SetXY(x, y)
		}
		p.SetXY(p.GetX()-sum(widths), y+h)
	}
	p.Ln(2)
}

func sum(xs []float64) float64 {
	t := 0.0
	for _, x := range xs {
		t += x
	}
	return t
}

// Bytes finishes the document.
func (d *PDFDoc) Bytes() ([]byte, error) {
	var b bytes.Buffer
	if err := d.pdf.Output(&b); err != nil {
		return nil, fmt.Errorf("write pdf: %w", err)
	}
	return b.Bytes(), nil
}

// FormatDate prints a date for a report.
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02")
}
