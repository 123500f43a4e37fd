package web

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// doc is a parsed HTML page for assertions.
type doc struct {
	root *html.Node
	raw  string
}

func parseHTML(tb testing.TB, body string) *doc {
	tb.Helper()
	n, err := html.Parse(strings.NewReader(body))
	if err != nil {
		tb.Fatalf("parse HTML: %v", err)
	}
	return &doc{root: n, raw: body}
}

func attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

// matches reports whether n matches a simple selector: tag, #id, .class and
// [attr] / [attr=value] parts, combined without spaces (input[name=q].x).
func matches(n *html.Node, sel string) bool {
	if n.Type != html.ElementNode {
		return false
	}
	rest := sel
	i := strings.IndexAny(rest, "#.[")
	if i < 0 {
		i = len(rest)
	}
	if tag := rest[:i]; tag != "" && tag != n.Data {
		return false
	}
	rest = rest[i:]
	for rest != "" {
		switch rest[0] {
		case '#', '.':
			j := strings.IndexAny(rest[1:], "#.[")
			if j < 0 {
				j = len(rest) - 1
			}
			val := rest[1 : j+1]
			if rest[0] == '#' {
				if id, _ := attr(n, "id"); id != val {
					return false
				}
			} else {
				cls, _ := attr(n, "class")
				found := false
				for _, c := range strings.Fields(cls) {
					if c == val {
						found = true
					}
				}
				if !found {
					return false
				}
			}
			rest = rest[j+1:]
		case '[':
			j := strings.IndexByte(rest, ']')
			if j < 0 {
				return false
			}
			k, v, hasV := strings.Cut(rest[1:j], "=")
			got, ok := attr(n, k)
			if !ok || (hasV && got != strings.Trim(v, `"'`)) {
				return false
			}
			rest = rest[j+1:]
		default:
			return false
		}
	}
	return true
}

// findAll returns the elements matching sel; a space in sel means
// "descendant of".
func (d *doc) findAll(sel string) []*html.Node {
	parts := strings.Fields(sel)
	scope := []*html.Node{d.root}
	for _, p := range parts {
		var next []*html.Node
		seen := map[*html.Node]bool{}
		for _, s := range scope {
			walk(s, func(n *html.Node) {
				if n != s && matches(n, p) && !seen[n] {
					seen[n] = true
					next = append(next, n)
				}
			})
		}
		scope = next
	}
	return scope
}

func (d *doc) find(sel string) *html.Node {
	all := d.findAll(sel)
	if len(all) == 0 {
		return nil
	}
	return all[0]
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

// text is the node's text content with whitespace collapsed.
func text(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
			b.WriteByte(' ')
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// mustFind fails the test when sel matches nothing.
func (d *doc) mustFind(tb testing.TB, sel string) *html.Node {
	tb.Helper()
	n := d.find(sel)
	if n == nil {
		tb.Fatalf("no element matches %q in:\n%s", sel, truncateForLog(d.raw))
	}
	return n
}

// hasText reports whether some element matching sel contains s.
func (d *doc) hasText(sel, s string) bool {
	for _, n := range d.findAll(sel) {
		if strings.Contains(text(n), s) {
			return true
		}
	}
	return false
}

func truncateForLog(s string) string {
	if len(s) > 4000 {
		return s[:4000] + "…"
	}
	return s
}

// checkPageHygiene asserts what every console page must satisfy: no inline
// script or style (the CSP forbids them), every visible form control has a
// label, every POST form carries the anti-forgery token.
func checkPageHygiene(tb testing.TB, d *doc) {
	tb.Helper()
	labels := map[string]bool{}
	for _, l := range d.findAll("label") {
		if f, ok := attr(l, "for"); ok {
			labels[f] = true
		}
	}
	walk(d.root, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") {
				tb.Errorf("inline event handler %s on <%s>", a.Key, n.Data)
			}
			if a.Key == "style" {
				tb.Errorf("inline style attribute on <%s>", n.Data)
			}
			if (a.Key == "href" || a.Key == "src" || a.Key == "action") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
				tb.Errorf("javascript: URL on <%s>", n.Data)
			}
		}
		switch n.Data {
		case "script":
			if _, ok := attr(n, "src"); !ok || n.FirstChild != nil {
				tb.Errorf("inline <script>")
			}
		case "style":
			tb.Errorf("inline <style>")
		case "input", "select", "textarea":
			typ, _ := attr(n, "type")
			if typ == "hidden" || typ == "submit" {
				return
			}
			id, _ := attr(n, "id")
			// A control inside its <label> is labelled too.
			inLabel := false
			for p := n.Parent; p != nil; p = p.Parent {
				if p.Type == html.ElementNode && p.Data == "label" {
					inLabel = true
				}
			}
			if !inLabel && (id == "" || !labels[id]) {
				name, _ := attr(n, "name")
				tb.Errorf("form control %s (name %q) has no label", n.Data, name)
			}
		case "form":
			if m, _ := attr(n, "method"); strings.EqualFold(m, "post") {
				found := false
				walk(n, func(c *html.Node) {
					if c.Type == html.ElementNode && c.Data == "input" {
						if nm, _ := attr(c, "name"); nm == "csrf_token" {
							if v, _ := attr(c, "value"); v != "" {
								found = true
							}
						}
					}
				})
				action, _ := attr(n, "action")
				if !found && action != "/login" {
					tb.Errorf("POST form to %s has no csrf_token", action)
				}
			}
		}
	})
}
