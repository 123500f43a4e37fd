package magerit

import (
	"fmt"
	"html"
	"slices"
	"strings"
)

var levelColour = map[Level]string{MB: "#2e7d32", B: "#9ccc65", M: "#fdd835", A: "#fb8c00", MA: "#c62828"}

// HeatMap draws risks on a 5×5 grid (frequency across, impact up) as a
// standalone SVG document. Each cell is coloured by its qualitative risk
// and shows how many risks fall in it; its tooltip lists them. All text is
// XML-escaped.
func HeatMap(title string, risks []Risk) string {
	const cell, left, top = 80, 90, 40
	var cells [5][5][]string // [impact-1][freq-1]
	for _, r := range risks {
		if r.ImpactL < MB || r.ImpactL > MA || r.FreqL < MB || r.FreqL > MA {
			continue
		}
		label := fmt.Sprintf("%s on %s [%s]", r.Threat, r.Asset, r.Dimension)
		cells[r.ImpactL-1][r.FreqL-1] = append(cells[r.ImpactL-1][r.FreqL-1], label)
	}
	w, h := left+5*cell+20, top+5*cell+60
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`, w, h, w, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="24" font-family="sans-serif" font-size="16">%s</text>`, left, html.EscapeString(title))
	for i := range 5 { // impact, drawn top (MA) to bottom (MB)
		imp := Level(5 - i)
		y := top + i*cell
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-family="sans-serif" font-size="12" text-anchor="end">%s</text>`, left-8, y+cell/2+4, imp)
		for j := range 5 {
			freq := Level(j + 1)
			x := left + j*cell
			list := slices.Clone(cells[imp-1][freq-1])
			slices.Sort(list)
			fmt.Fprintf(&b, `<g class="cell" data-impact="%s" data-frequency="%s" data-risk="%s">`, imp, freq, RiskLevel(imp, freq))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#ffffff"/>`, x, y, cell, cell, levelColour[RiskLevel(imp, freq)])
			if len(list) > 0 {
				fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(strings.Join(list, "\n")))
				fmt.Fprintf(&b, `<text x="%d" y="%d" font-family="sans-serif" font-size="18" text-anchor="middle">%d</text>`, x+cell/2, y+cell/2+6, len(list))
			}
			b.WriteString(`</g>`)
		}
	}
	for j := range 5 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-family="sans-serif" font-size="12" text-anchor="middle">%s</text>`, left+j*cell+cell/2, top+5*cell+18, Level(j+1))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-family="sans-serif" font-size="12" text-anchor="middle">frequency</text>`, left+5*cell/2, top+5*cell+40)
	fmt.Fprintf(&b, `<text x="16" y="%d" font-family="sans-serif" font-size="12" text-anchor="middle" transform="rotate(-90 16 %d)">impact</text>`, top+5*cell/2, top+5*cell/2)
	b.WriteString(`</svg>`)
	return b.String()
}
