package policy

import (
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/identity"
)

func TestRender(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"# Title\n\nSome *text* and **bold**.", "<h2>Title</h2>\n<p>Some <em>text</em> and <strong>bold</strong>.</p>\n"},
		{"- a\n- b\n\n1. one\n2. two", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n"},
		{"<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"},
		{"[site](https://example.com/a?b=1&c=2)", `<p><a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer">site</a></p>` + "\n"},
		{"[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"},
		{`[x](https://e.com/"onmouseover=x)`, "<p>[x](https://e.com/&#34;onmouseover=x)</p>\n"},
		{"`<b>` code", "<p><code>&lt;b&gt;</code> code</p>\n"},
		{"> quote\n---\n#nospace", "<blockquote><p>quote</p></blockquote>\n<hr>\n<p>#nospace</p>\n"},
		{"Línea con acentos: ñ, ü", "<p>Línea con acentos: ñ, ü</p>\n"},
	} {
		if got := string(Render(c.in)); got != c.want {
			t.Errorf("Render(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzRender(f *testing.F) {
	for _, s := range []string{"# a\n- b\n1. c\n> d", "**x*y**`z`[a](https://b)", "<img src=x onerror=alert(1)>", "[a](mailto:x@y)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := string(Render(s))
		// No tag but ours: every "<" opens one of the subset's tags.
		for i := 0; i < len(out); i++ {
			if out[i] != '<' {
				continue
			}
			rest := out[i+1:]
			ok := false
			for _, tag := range []string{"p>", "/p>", "h2>", "/h2>", "h3>", "/h3>", "h4>", "/h4>", "h5>", "/h5>", "ul>", "/ul>", "ol>", "/ol>", "li>", "/li>",
				"em>", "/em>", "strong>", "/strong>", "code>", "/code>", "blockquote>", "/blockquote>", "hr>", `a href="`, "/a>"} {
				if strings.HasPrefix(rest, tag) {
					ok = true
					break
				}
			}
			if !ok {
				t.Fatalf("Render(%q) has a foreign tag at %d: %q", s, i, out)
			}
		}
		if strings.Contains(strings.ToLower(out), `href="javascript`) {
			t.Fatalf("Render(%q) links to javascript: %q", s, out)
		}
	})
}

func TestTargetMatches(t *testing.T) {
	agentA := Member{UserID: 1, Role: identity.RoleAgent, SiteID: 10, TeamID: 100, ClientIDs: []int64{7}}
	supB := Member{UserID: 2, Role: identity.RoleSupervisor, SiteID: 11, TeamID: 101, ClientIDs: []int64{8}}
	for _, c := range []struct {
		name   string
		t      Target
		client int64
		a, b   bool
	}{
		{"everybody", Target{}, 0, true, true},
		{"agents", Target{Roles: []identity.Role{identity.RoleAgent}}, 0, true, false},
		{"site 11", Target{SiteIDs: []int64{11}}, 0, false, true},
		{"team 100 or 101", Target{TeamIDs: []int64{100, 101}}, 0, true, true},
		{"client 8", Target{ClientIDs: []int64{8}}, 0, false, true},
		{"agents of client 8", Target{Roles: []identity.Role{identity.RoleAgent}, ClientIDs: []int64{8}}, 0, false, false},
		{"client 7's own policy", Target{}, 7, true, false},
	} {
		if got := c.t.Matches(agentA, c.client); got != c.a {
			t.Errorf("%s: agent of A = %v, want %v", c.name, got, c.a)
		}
		if got := c.t.Matches(supB, c.client); got != c.b {
			t.Errorf("%s: supervisor of B = %v, want %v", c.name, got, c.b)
		}
	}
}
