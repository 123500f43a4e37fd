// Package report renders Custodia's printable reports: A4 PDF documents
// with the PDF core fonts (Spanish accents through the cp1252 translator)
// and XLSX workbooks. Modules build their reports from these primitives;
// the package knows nothing of the data.
package report

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
)

// Column is a table column: its title and width in millimetres.
type Column struct {
	Title string
	Width float64
}

// PDF is a report being written.
type PDF struct {
	f      *fpdf.Fpdf
	tr     func(string) string
	width  float64 // usable width
	footer string
}

// NewPDF starts an A4 portrait report with a title block; footer is printed
// at the bottom of every page with the page number. created fixes the
// document's dates (reports are reproducible).
func NewPDF(title, subtitle, footer string, created time.Time, landscape bool) *PDF {
	orient := "P"
	if landscape {
		orient = "L"
	}
	f := fpdf.New(orient, "mm", "A4", "")
	p := &PDF{f: f, tr: f.UnicodeTranslatorFromDescriptor("cp1252"), footer: footer}
	f.SetCreationDate(created)
	f.SetModificationDate(created)
	f.SetTitle(title, true)
	f.SetCreator("Custodia", true)
	f.SetMargins(15, 15, 15)
	f.SetAutoPageBreak(true, 18)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(-12)
		f.SetFont("Helvetica", "", 7)
		f.SetTextColor(110, 110, 110)
		f.CellFormat(0, 5, p.tr(p.footer+"   "+fmt.Sprintf("%d / {nb}", f.PageNo())), "", 0, "R", false, 0, "")
	})
	w, _ := f.GetPageSize()
	p.width = w - 30
	f.AddPage()
	f.SetFont("Helvetica", "B", 16)
	f.SetTextColor(20, 20, 20)
	f.MultiCell(0, 8, p.tr(title), "", "L", false)
	if subtitle != "" {
		f.SetFont("Helvetica", "", 10)
		f.SetTextColor(80, 80, 80)
		f.MultiCell(0, 5, p.tr(subtitle), "", "L", false)
	}
	f.Ln(3)
	f.SetTextColor(20, 20, 20)
	return p
}

// Width is the usable width of a line in millimetres.
func (p *PDF) Width() float64 { return p.width }

// Heading writes a section heading.
func (p *PDF) Heading(text string) {
	p.f.Ln(2)
	p.f.SetFont("Helvetica", "B", 12)
	p.f.MultiCell(0, 6, p.tr(text), "", "L", false)
	p.f.Ln(1)
}

// Para writes a paragraph.
func (p *PDF) Para(text string) {
	p.f.SetFont("Helvetica", "", 9)
	p.f.MultiCell(0, 4.5, p.tr(text), "", "L", false)
	p.f.Ln(1)
}

// Fields writes label: value lines.
func (p *PDF) Fields(pairs ...[2]string) {
	for _, kv := range pairs {
		p.f.SetFont("Helvetica", "B", 9)
		p.f.CellFormat(50, 5, p.tr(kv[0]), "", 0, "L", false, 0, "")
		p.f.SetFont("Helvetica", "", 9)
		p.f.MultiCell(0, 5, p.tr(kv[1]), "", "L", false)
	}
	p.f.Ln(1)
}

// Table writes a table with a repeated header; cells wrap within their
// column. Widths that do not add up to the usable width are scaled.
func (p *PDF) Table(cols []Column, rows [][]string) {
	total := 0.0
	for _, c := range cols {
		total += c.Width
	}
	widths := make([]float64, len(cols))
	for i, c := range cols {
		widths[i] = c.Width * p.width / total
	}
	const lh = 4.0
	header := func() {
		p.f.SetFont("Helvetica", "B", 8)
		p.f.SetFillColor(230, 230, 230)
		for i, c := range cols {
			p.f.CellFormat(widths[i], 6, p.tr(c.Title), "1", 0, "L", true, 0, "")
		}
		p.f.Ln(-1)
		p.f.SetFont("Helvetica", "", 8)
	}
	header()
	_, pageH := p.f.GetPageSize()
	for _, row := range rows {
		lines := make([][]string, len(cols))
		n := 1
		for i := range cols {
			txt := ""
			if i < len(row) {
				txt = p.tr(row[i])
			}
			for _, l := range p.f.SplitLines([]byte(txt), widths[i]-2) {
				lines[i] = append(lines[i], string(l))
			}
			if len(lines[i]) == 0 {
				lines[i] = []string{""}
			}
			n = max(n, len(lines[i]))
		}
		h := float64(n)*lh + 1
		if p.f.GetY()+h > pageH-20 {
			p.f.AddPage()
			header()
		}
		x, y := p.f.GetXY()
		for i := range cols {
			p.f.Rect(x, y, widths[i], h, "D")
			for j, l := range lines[i] {
				p.f.SetXY(x+1, y+0.5+float64(j)*lh)
				p.f.CellFormat(widths[i]-2, lh, l, "", 0, "L", false, 0, "")
			}
			x += widths[i]
		}
		p.f.SetXY(15, y+h)
	}
	p.f.Ln(2)
}

// Bytes finishes the document.
func (p *PDF) Bytes() ([]byte, error) {
	var b bytes.Buffer
	if err := p.f.Output(&b); err != nil {
		return nil, fmt.Errorf("render pdf: %w", err)
	}
	return b.Bytes(), nil
}

// Sheet is one worksheet of a workbook.
type Sheet struct {
	Name   string
	Header []string
	Widths []float64 // column widths in characters (optional)
	Rows   [][]string
}

// XLSX renders sheets as a workbook: a bold, frozen header row with an
// auto-filter, wrapped text.
func XLSX(sheets []Sheet) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDDDDD"}},
		Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	if err != nil {
		return nil, err
	}
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	if err != nil {
		return nil, err
	}
	for i, sh := range sheets {
		name := sh.Name
		if len(name) > 31 {
			name = name[:31]
		}
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return nil, err
		}
		hdr := make([]any, len(sh.Header))
		for j, h := range sh.Header {
			hdr[j] = h
		}
		if err := f.SetSheetRow(name, "A1", &hdr); err != nil {
			return nil, err
		}
		for r, row := range sh.Rows {
			vals := make([]any, len(row))
			for j, v := range row {
				vals[j] = v
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+2)
			if err := f.SetSheetRow(name, cell, &vals); err != nil {
				return nil, err
			}
		}
		last, _ := excelize.ColumnNumberToName(max(1, len(sh.Header)))
		if err := f.SetCellStyle(name, "A1", last+"1", bold); err != nil {
			return nil, err
		}
		if len(sh.Rows) > 0 {
			if err := f.SetCellStyle(name, "A2", fmt.Sprintf("%s%d", last, len(sh.Rows)+1), wrap); err != nil {
				return nil, err
			}
		}
		for j, w := range sh.Widths {
			col, _ := excelize.ColumnNumberToName(j + 1)
			if err := f.SetColWidth(name, col, col, w); err != nil {
				return nil, err
			}
		}
		if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return nil, err
		}
		if err := f.AutoFilter(name, fmt.Sprintf("A1:%s%d", last, len(sh.Rows)+1), nil); err != nil {
			return nil, err
		}
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		return nil, fmt.Errorf("render xlsx: %w", err)
	}
	return b.Bytes(), nil
}

var (
	streamRE = regexp.MustCompile(`(?s)/FlateDecode[^>]*>>\s*stream\r?\n(.*?)\r?\nendstream`)
	textRE   = regexp.MustCompile(`\(((?:\\.|[^\\)])*)\)\s*Tj`)
)

// PDFText extracts the text shown by a PDF written by this package (its
// Tj operators, decompressed and decoded from cp1252), one string per
// line. It is for tests and checks, not a general PDF reader.
func PDFText(pdf []byte) string {
	var out strings.Builder
	contents := [][]byte{pdf}
	for _, m := range streamRE.FindAllSubmatch(pdf, -1) {
		zr, err := zlib.NewReader(bytes.NewReader(m[1]))
		if err != nil {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(zr, 64<<20))
		if err == nil || len(b) > 0 {
			contents = append(contents, b)
		}
	}
	dec := charmap.Windows1252.NewDecoder()
	for _, c := range contents {
		for _, m := range textRE.FindAllSubmatch(c, -1) {
			raw := unescapePDF(m[1])
			s, err := dec.Bytes(raw)
			if err != nil {
				s = raw
			}
			out.Write(s)
			out.WriteByte('\n')
		}
	}
	return out.String()
}

func unescapePDF(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 == len(b) {
			out = append(out, b[i])
			continue
		}
		i++
		switch c := b[i]; c {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		default:
			if c >= '0' && c <= '7' {
				v := 0
				j := 0
				for ; j < 3 && i+j < len(b) && b[i+j] >= '0' && b[i+j] <= '7'; j++ {
					v = v*8 + int(b[i+j]-'0')
				}
				out = append(out, byte(v))
				i += j - 1
				continue
			}
			out = append(out, c)
		}
	}
	return out
}

// Col is a Column of the given title and width in millimetres.
func Col(title string, width float64) Column { return Column{Title: title, Width: width} }
