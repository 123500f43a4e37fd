package policy

import (
	"html"
	"html/template"
	"strings"
)

// Render turns the safe Markdown subset of a policy into HTML. Supported:
// headings (# to ####), paragraphs (blank-line separated), unordered lists
// (- or *), ordered lists (1.), block quotes (>), horizontal rules (---),
// and inline **bold**, *italic*, `code` and [links](https://…) (http, https
// and mailto only). Everything else is text: raw HTML is escaped, never
// passed through.
func Render(src string) template.HTML {
	var b strings.Builder
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	var para []string
	list := "" // "ul" or "ol" while in a list
	flushPara := func() {
		if len(para) > 0 {
			b.WriteString("<p>")
			b.WriteString(inline(strings.Join(para, " ")))
			b.WriteString("</p>\n")
			para = nil
		}
	}
	closeList := func() {
		if list != "" {
			b.WriteString("</" + list + ">\n")
			list = ""
		}
	}
	for _, raw := range lines {
		line := strings.TrimRight(raw, " \t")
		trim := strings.TrimSpace(line)
		switch {
		case trim == "":
			flushPara()
			closeList()
		case strings.HasPrefix(trim, "#"):
			level := len(trim) - len(strings.TrimLeft(trim, "#"))
			text := strings.TrimSpace(trim[level:])
			if level > 4 || text == "" || !strings.HasPrefix(trim[level:], " ") {
				para = append(para, trim)
				continue
			}
			flushPara()
			closeList()
			tag := "h" + string(rune('1'+level)) // # is h2: the page has the h1
			b.WriteString("<" + tag + ">" + inline(text) + "</" + tag + ">\n")
		case trim == "---" || trim == "***":
			flushPara()
			closeList()
			b.WriteString("<hr>\n")
		case strings.HasPrefix(trim, "- ") || strings.HasPrefix(trim, "* "):
			flushPara()
			if list != "ul" {
				closeList()
				b.WriteString("<ul>\n")
				list = "ul"
			}
			b.WriteString("<li>" + inline(strings.TrimSpace(trim[2:])) + "</li>\n")
		case orderedItem(trim) >= 0:
			flushPara()
			if list != "ol" {
				closeList()
				b.WriteString("<ol>\n")
				list = "ol"
			}
			b.WriteString("<li>" + inline(strings.TrimSpace(trim[orderedItem(trim):])) + "</li>\n")
		case strings.HasPrefix(trim, ">"):
			flushPara()
			closeList()
			b.WriteString("<blockquote><p>" + inline(strings.TrimSpace(strings.TrimPrefix(trim, ">"))) + "</p></blockquote>\n")
		default:
			closeList()
			para = append(para, trim)
		}
	}
	flushPara()
	closeList()
	return template.HTML(b.String()) //nolint:gosec // every piece of text was escaped by inline
}

// orderedItem returns the offset of the text after "12. ", or -1.
func orderedItem(s string) int {
	i := 0
	for i < len(s) && i < 4 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i+1 >= len(s) || s[i] != '.' || s[i+1] != ' ' {
		return -1
	}
	return i + 2
}

// inline escapes s and applies the inline markup.
func inline(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		switch {
		case s[0] == '`':
			if j := strings.IndexByte(s[1:], '`'); j >= 0 {
				b.WriteString("<code>" + html.EscapeString(s[1:1+j]) + "</code>")
				s = s[j+2:]
				continue
			}
		case strings.HasPrefix(s, "**"):
			if j := strings.Index(s[2:], "**"); j > 0 {
				b.WriteString("<strong>" + inline(s[2:2+j]) + "</strong>")
				s = s[j+4:]
				continue
			}
		case s[0] == '*' || s[0] == '_':
			if j := strings.IndexByte(s[1:], s[0]); j > 0 {
				b.WriteString("<em>" + inline(s[1:1+j]) + "</em>")
				s = s[j+2:]
				continue
			}
		case s[0] == '[':
			if text, href, rest, ok := link(s); ok {
				b.WriteString(`<a href="` + html.EscapeString(href) + `" rel="noopener noreferrer">` + inline(text) + "</a>")
				s = rest
				continue
			}
		}
		b.WriteString(html.EscapeString(s[:1]))
		s = s[1:]
	}
	return b.String()
}

// link parses "[text](href)" at the start of s; only http, https and
// mailto links are links.
func link(s string) (text, href, rest string, ok bool) {
	end := strings.Index(s, "](")
	if end < 0 {
		return "", "", "", false
	}
	close := strings.IndexByte(s[end+2:], ')')
	if close < 0 {
		return "", "", "", false
	}
	text, href = s[1:end], strings.TrimSpace(s[end+2:end+2+close])
	if strings.ContainsAny(text, "[]") || strings.ContainsAny(href, " \"'<>`") {
		return "", "", "", false
	}
	l := strings.ToLower(href)
	if !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "http://") && !strings.HasPrefix(l, "mailto:") {
		return "", "", "", false
	}
	return text, href, s[end+2+close+1:], true
}
