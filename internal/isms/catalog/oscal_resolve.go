package catalog

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// source is a catalogue as profile resolution sees it: a loaded framework,
// a bundled OSCAL catalog or a resolved profile.
type source struct {
	id     string // for messages: the catalogue id or "profile <title>"
	groups []Group
	ctls   []*rctl
	params map[string]oscalParam
}

// rctl is a control during resolution: the requirement and the OSCAL
// detail alterations work on.
type rctl struct {
	req     Requirement
	oscalID string
	parts   []oscalPart
	props   []oscalProp
	src     *source // the source the profile imported it from
}

func cloneParts(ps []oscalPart) []oscalPart {
	if ps == nil {
		return nil
	}
	out := make([]oscalPart, len(ps))
	for i, p := range ps {
		out[i] = p
		out[i].Props = slices.Clone(p.Props)
		out[i].Parts = cloneParts(p.Parts)
	}
	return out
}

func (x *rctl) clone() *rctl {
	y := *x
	y.req.Dimensions = slices.Clone(x.req.Dimensions)
	y.req.Reinforcements = slices.Clone(x.req.Reinforcements)
	y.parts = cloneParts(x.parts)
	y.props = slices.Clone(x.props)
	return &y
}

// matches reports whether id names x: its requirement id, its OSCAL id or
// the id ExportOSCAL gives it.
func (x *rctl) matches(id string) bool {
	return id == x.req.ID || id == x.oscalID || id == oscalID("c-", x.req.ID)
}

func (x *rctl) matchesPattern(pat string) bool {
	return globMatch(pat, x.req.ID) || globMatch(pat, x.oscalID) || globMatch(pat, oscalID("c-", x.req.ID))
}

// globMatch matches s against an OSCAL "matching" pattern: * is any run of
// characters, ? any one character, everything else itself.
func globMatch(pat, s string) bool {
	p, t := []rune(pat), []rune(s)
	pi, ti, star, mark := 0, 0, -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// sourceFromCatalog wraps a loaded catalogue: the statement is its text;
// title-es is kept as a prop so that alterations can reach it.
func sourceFromCatalog(c *Catalog) *source {
	src := &source{id: c.ID, groups: slices.Clone(c.Groups), params: map[string]oscalParam{}}
	for _, r := range c.Requirements {
		x := &rctl{req: r, oscalID: oscalID("c-", r.ID), src: src}
		if r.Text != "" {
			x.parts = []oscalPart{{ID: x.oscalID + "_smt", Name: "statement", Prose: r.Text}}
		}
		if r.TitleES != "" {
			x.props = []oscalProp{{Name: "title-es", NS: custodiaNS, Value: r.TitleES}}
		}
		src.ctls = append(src.ctls, x)
	}
	return src
}

// resolver resolves a profile against the documents of its bundle and the
// loaded catalogues; each source is read or resolved once.
type resolver struct {
	docs  []bundleDoc
	cats  []*Catalog
	cache map[any]*source
	stack []int // bundle documents being resolved, for cycles
}

// resolveTop resolves p (document 0 of docs) into the catalogue stored
// under id: statements rendered with the parameters, every bundled
// document used.
func resolveTop(id string, p *Profile, docs []bundleDoc, cats []*Catalog) (*Catalog, error) {
	r := &resolver{docs: docs, cats: cats, cache: map[any]*source{}, stack: []int{0}}
	src, err := r.resolve(p)
	if err != nil {
		return nil, fmt.Errorf("oscal profile: %w", err)
	}
	for i := 1; i < len(docs); i++ {
		if _, used := r.cache[i]; !used {
			return nil, fmt.Errorf("oscal profile: %s: %q is in the bundle but no profile imports it (check the hrefs)", docs[i].root, docs[i].title)
		}
	}
	out := &Catalog{ID: id, Name: p.Title, Version: p.Version, Source: "OSCAL profile " + p.UUID, Groups: src.groups}
	var from []string
	for _, x := range src.ctls {
		req := x.req
		req.Text = renderParams(statementProse(x.parts), src.params)
		req.TitleES = propValue(x.props, "title-es", "")
		out.Requirements = append(out.Requirements, req)
	}
	for _, im := range p.Imports {
		s, _ := r.source(im.Href, p, "") // resolved already: cached
		if s != nil && !slices.Contains(from, s.id) {
			from = append(from, s.id)
		}
	}
	out.Source += " of " + strings.Join(from, ", ")
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("oscal profile: %w", err)
	}
	return out, nil
}

// statementProse is the text Custodia keeps of a control: the prose of
// its statement parts and their sub-parts.
func statementProse(parts []oscalPart) string {
	var b []string
	for _, p := range parts {
		if p.Name == "statement" {
			if s := strings.TrimSpace(prose(p)); s != "" {
				b = append(b, s)
			}
		}
	}
	return strings.Join(b, "\n")
}

// insertParam is OSCAL's parameter insertion in prose.
var insertParam = regexp.MustCompile(`\{\{\s*insert:\s*param,\s*([^\s}]+)\s*\}\}`)

// renderParams replaces each "{{ insert: param, id }}" of s by the
// parameter's values (joined by ", "), else its choices ("[Selection: a;
// b]"), else its label ("[Assignment: label]"); an insertion of a
// parameter without any of them is left as it is.
func renderParams(s string, params map[string]oscalParam) string {
	return insertParam.ReplaceAllStringFunc(s, func(m string) string {
		p, ok := params[insertParam.FindStringSubmatch(m)[1]]
		switch {
		case !ok:
			return m
		case len(p.Values) > 0:
			return strings.Join(p.Values, ", ")
		case p.Select != nil && len(p.Select.Choice) > 0:
			how := ""
			if p.Select.HowMany == "one-or-more" {
				how = " (one or more)"
			}
			return "[Selection" + how + ": " + strings.Join(p.Select.Choice, "; ") + "]"
		case p.Label != "":
			return "[Assignment: " + p.Label + "]"
		}
		return m
	})
}

// source finds what an import's href names: a document of the bundle
// (resolved once; a profile already being resolved is a circular import),
// then a loaded framework. path is "" when the href was resolved before.
func (r *resolver) source(href string, p *Profile, path string) (*source, error) {
	hrefs := []string{href}
	var titles []string
	if strings.HasPrefix(href, "#") {
		for _, res := range p.Resources {
			if res.UUID == href[1:] {
				for _, h := range res.Hrefs {
					if h != "" && !strings.HasPrefix(h, "#") {
						hrefs = append(hrefs, h)
					}
				}
				if res.Title != "" {
					titles = append(titles, res.Title)
				}
			}
		}
	}
	for i, d := range r.docs {
		if slices.ContainsFunc(hrefs, d.named) || (d.title != "" && slices.ContainsFunc(titles, func(t string) bool { return strings.EqualFold(t, d.title) })) {
			return r.bundled(i, path)
		}
	}
	for _, c := range r.cats {
		if slices.ContainsFunc(hrefs, func(h string) bool { return matchesHref(h, c) }) ||
			slices.ContainsFunc(titles, func(t string) bool { return strings.EqualFold(t, c.Name) }) {
			if s, ok := r.cache[c]; ok {
				return s, nil
			}
			s := sourceFromCatalog(c)
			r.cache[c] = s
			return s, nil
		}
	}
	return nil, fmt.Errorf("%s: %q names no loaded framework nor document of the bundle (want urn:uuid:<uuid of the catalog Custodia exports>, a framework id, or a back-matter resource linking to one or titled like one)", path, href)
}

// named reports whether href names the bundled document d.
func (d bundleDoc) named(href string) bool {
	h := strings.TrimPrefix(strings.TrimPrefix(href, "urn:uuid:"), "#")
	if d.uuid != "" && strings.EqualFold(h, d.uuid) {
		return true
	}
	if d.href == "" {
		return false
	}
	base := func(s string) string { return s[strings.LastIndexAny(s, "/\\")+1:] }
	return href == d.href || base(href) == base(d.href)
}

func (r *resolver) bundled(i int, path string) (*source, error) {
	if s, ok := r.cache[i]; ok {
		return s, nil
	}
	d := r.docs[i]
	if at := slices.Index(r.stack, i); at >= 0 {
		var chain []string
		for _, j := range append(r.stack[at:], i) {
			chain = append(chain, fmt.Sprintf("%s (%s)", r.docs[j].title, r.docs[j].root))
		}
		return nil, fmt.Errorf("%s: circular import: %s", path, strings.Join(chain, " → "))
	}
	if d.catalog != nil {
		src := &source{params: map[string]oscalParam{}}
		id := d.uuid
		if id == "" {
			id = "bundle" + strings.Trim(d.root, "$[]")
		}
		c, err := catalogFromOSCAL(id, d.catalog, d.root+".catalog", src)
		if err != nil {
			return nil, err
		}
		src.id, src.groups = c.ID, c.Groups
		for _, x := range src.ctls {
			x.src = src
		}
		r.cache[i] = src
		return src, nil
	}
	r.stack = append(r.stack, i)
	src, err := r.resolve(d.profile)
	r.stack = r.stack[:len(r.stack)-1]
	if err != nil {
		return nil, err
	}
	r.cache[i] = src
	return src, nil
}

// selectControls returns the controls of ctls the selectors name, with
// their descendants when asked. An id or a pattern that names no control
// is refused; all of them are listed.
func selectControls(ctls []*rctl, sels []Selector, path, in string) (map[*rctl]bool, error) {
	set := map[*rctl]bool{}
	children := map[string][]*rctl{}
	for _, x := range ctls {
		if x.req.Parent != "" {
			children[x.req.Parent] = append(children[x.req.Parent], x)
		}
	}
	var add func(x *rctl, kids bool)
	add = func(x *rctl, kids bool) {
		set[x] = true
		if kids {
			for _, ch := range children[x.req.ID] {
				add(ch, true)
			}
		}
	}
	byID := map[string][]*rctl{} // every id a control answers to
	for _, x := range ctls {
		for _, id := range []string{x.req.ID, x.oscalID, oscalID("c-", x.req.ID)} {
			if !slices.Contains(byID[id], x) {
				byID[id] = append(byID[id], x)
			}
		}
	}
	var unknown, empty []string
	for _, sel := range sels {
		for _, id := range sel.IDs {
			for _, x := range byID[id] {
				add(x, sel.WithChildControls)
			}
			if len(byID[id]) == 0 && !slices.Contains(unknown, id) {
				unknown = append(unknown, id)
			}
		}
		for _, pat := range sel.Patterns {
			found := false
			for _, x := range ctls {
				if x.matchesPattern(pat) {
					add(x, sel.WithChildControls)
					found = true
				}
			}
			if !found && !slices.Contains(empty, pat) {
				empty = append(empty, pat)
			}
		}
	}
	var msgs []string
	if len(unknown) > 0 {
		msgs = append(msgs, fmt.Sprintf("unknown control ids in %s: %s", in, strings.Join(unknown, ", ")))
	}
	if len(empty) > 0 {
		msgs = append(msgs, fmt.Sprintf("patterns matching no control in %s: %s", in, strings.Join(empty, ", ")))
	}
	if len(msgs) > 0 {
		return nil, fmt.Errorf("%s: %s", path, strings.Join(msgs, "; "))
	}
	return set, nil
}

// resolve resolves one profile into a source: selection, combination,
// modification, then structure.
func (r *resolver) resolve(p *Profile) (*source, error) {
	out := &source{id: "profile " + p.Title, params: map[string]oscalParam{}}
	var pool []*rctl
	var srcGroups []Group
	for i, im := range p.Imports {
		path := fmt.Sprintf("%s.imports[%d]", p.path, i)
		src, err := r.source(im.Href, p, path+".href")
		if err != nil {
			return nil, err
		}
		inc := map[*rctl]bool{}
		if !im.IncludeAll {
			if inc, err = selectControls(src.ctls, im.Include, path+".include-controls", src.id); err != nil {
				return nil, err
			}
		}
		exc, err := selectControls(src.ctls, im.Exclude, path+".exclude-controls", src.id)
		if err != nil {
			return nil, err
		}
		for _, x := range src.ctls {
			if (im.IncludeAll || inc[x]) && !exc[x] {
				y := x.clone()
				y.src = src
				pool = append(pool, y)
			}
		}
		for _, g := range src.groups {
			if !slices.ContainsFunc(srcGroups, func(h Group) bool { return h.ID == g.ID }) {
				srcGroups = append(srcGroups, g)
			}
		}
		for k, v := range src.params {
			if _, dup := out.params[k]; !dup {
				out.params[k] = v
			}
		}
	}
	pool, err := combine(pool, p)
	if err != nil {
		return nil, err
	}
	if len(pool) == 0 {
		return nil, fmt.Errorf("%s.imports: the selection is empty (every control excluded)", p.path)
	}
	if err := modify(p, pool, out.params); err != nil {
		return nil, err
	}
	switch p.Structure {
	case "as-is":
		out.ctls, out.groups = pool, usedGroups(pool, srcGroups)
		keepParents(out.ctls)
	case "custom":
		if out.ctls, out.groups, err = customStructure(p, pool); err != nil {
			return nil, err
		}
		keepParents(out.ctls)
	default: // flat: no grouping, no nesting
		for _, x := range pool {
			x.req.Group, x.req.Parent = "", ""
		}
		out.ctls = pool
	}
	return out, nil
}

// combine folds the copies of one control that reach the profile more
// than once. Identical copies (the same control, unaltered, in the same
// place) are kept once whatever the method; different versions follow the
// method: use-first keeps the first, merge the first
// with the empty fields, the missing parts and props of the others, and
// keep (the default) refuses them, since a catalogue holds one requirement
// per id.
func combine(pool []*rctl, p *Profile) ([]*rctl, error) {
	var out []*rctl
	at := map[string]int{}
	var clash []string
	clashed := map[string]bool{}
	for _, x := range pool {
		i, dup := at[x.req.ID]
		if !dup {
			at[x.req.ID] = len(out)
			out = append(out, x)
			continue
		}
		first := out[i]
		if reflect.DeepEqual(first.req, x.req) && reflect.DeepEqual(first.parts, x.parts) && reflect.DeepEqual(first.props, x.props) {
			continue
		}
		switch p.Combine {
		case "use-first":
		case "merge":
			mergeControl(first, x)
		default:
			if !clashed[x.req.ID] {
				clashed[x.req.ID] = true
				clash = append(clash, fmt.Sprintf("%s (%s and %s)", x.req.ID, first.src.id, x.src.id))
			}
		}
	}
	if len(clash) > 0 {
		return nil, fmt.Errorf("%s.imports: controls selected twice in different versions: %s (give merge.combine.method use-first or merge)", p.path, strings.Join(clash, ", "))
	}
	return out, nil
}

func mergeControl(into, from *rctl) {
	if into.req.Title == "" {
		into.req.Title = from.req.Title
	}
	if into.req.TitleES == "" {
		into.req.TitleES = from.req.TitleES
	}
	for _, pt := range from.parts {
		if pt.ID == "" || !slices.ContainsFunc(into.parts, func(q oscalPart) bool { return q.ID == pt.ID }) {
			into.parts = append(into.parts, cloneParts([]oscalPart{pt})...)
		}
	}
	for _, pr := range from.props {
		if !slices.Contains(into.props, pr) {
			into.props = append(into.props, pr)
		}
	}
}

// modify applies set-parameters and alters in the order given.
func modify(p *Profile, pool []*rctl, params map[string]oscalParam) error {
	find := func(id string) *rctl {
		for _, x := range pool {
			if x.matches(id) {
				return x
			}
		}
		return nil
	}
	var unknownCtl []string
	for _, a := range p.alters {
		if find(a.controlID) == nil && !slices.Contains(unknownCtl, a.controlID) {
			unknownCtl = append(unknownCtl, a.controlID)
		}
	}
	if len(unknownCtl) > 0 {
		return fmt.Errorf("%s.modify.alters: controls the profile does not select: %s", p.path, strings.Join(unknownCtl, ", "))
	}
	for _, a := range p.alters {
		x := find(a.controlID)
		for _, rm := range a.removes {
			x.parts = removeParts(x.parts, rm)
			x.props = slices.DeleteFunc(x.props, func(pr oscalProp) bool { return rm.prop(pr) })
		}
		for _, add := range a.adds {
			applyAdd(x, add)
			for _, pr := range add.params {
				params[pr.ID] = pr
			}
		}
	}
	// A parameter is known when a source declares it, an addition brings
	// it, or a selected statement inserts it.
	used := map[string]bool{}
	for _, x := range pool {
		for _, m := range insertParam.FindAllStringSubmatch(statementProse(x.parts), -1) {
			used[m[1]] = true
		}
	}
	var unknown []string
	for _, sp := range p.setParams {
		if _, ok := params[sp.id]; !ok && !used[sp.id] && !slices.Contains(unknown, sp.id) {
			unknown = append(unknown, sp.id)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%s.modify.set-parameters: parameters no selected control uses: %s", p.path, strings.Join(unknown, ", "))
	}
	for _, sp := range p.setParams {
		pr := params[sp.id]
		pr.ID = sp.id
		if sp.label != "" {
			pr.Label = sp.label
		}
		if len(sp.values) > 0 {
			pr.Values, pr.Select = sp.values, nil
		}
		if sp.sel != nil {
			pr.Select, pr.Values = sp.sel, nil
		}
		params[sp.id] = pr
	}
	return nil
}

func (rm removal) part(p oscalPart) bool {
	return (rm.byName == "" || rm.byName == p.Name) && (rm.byClass == "" || rm.byClass == p.Class) &&
		(rm.byID == "" || rm.byID == p.ID) && (rm.byNS == "" || rm.byNS == p.NS) &&
		(rm.byItemName == "" || rm.byItemName == "part")
}

func (rm removal) prop(p oscalProp) bool {
	return rm.byID == "" && (rm.byName == "" || rm.byName == p.Name) && (rm.byClass == "" || rm.byClass == p.Class) &&
		(rm.byNS == "" || rm.byNS == p.NS) && (rm.byItemName == "" || rm.byItemName == "prop")
}

func removeParts(ps []oscalPart, rm removal) []oscalPart {
	var out []oscalPart
	for _, p := range ps {
		if rm.part(p) {
			continue
		}
		p.Props = slices.DeleteFunc(p.Props, func(pr oscalProp) bool { return rm.prop(pr) })
		p.Parts = removeParts(p.Parts, rm)
		out = append(out, p)
	}
	return out
}

// applyAdd adds to x: with no by-id (or the control's own id) the parts go
// into the statement (created if missing) at its start or end, the props to
// the control and the title replaces the control's; with by-id naming a
// part they go before, after, or at the start or end of that part. An
// add whose by-id names nothing is inoperative (OSCAL's rule).
func applyAdd(x *rctl, add addition) {
	parts := cloneParts(add.parts)
	if add.byID == "" || x.matches(add.byID) {
		if add.title != "" {
			x.req.Title = add.title
		}
		if add.position == "starting" {
			x.props = append(slices.Clone(add.props), x.props...)
		} else {
			x.props = append(x.props, add.props...)
		}
		if len(parts) == 0 {
			return
		}
		i := slices.IndexFunc(x.parts, func(p oscalPart) bool { return p.Name == "statement" })
		if i < 0 {
			x.parts = append(x.parts, oscalPart{ID: x.oscalID + "_smt", Name: "statement"})
			i = len(x.parts) - 1
		}
		if add.position == "starting" {
			x.parts[i].Parts = append(parts, x.parts[i].Parts...)
		} else {
			x.parts[i].Parts = append(x.parts[i].Parts, parts...)
		}
		return
	}
	x.parts, _ = addToPart(x.parts, add, parts)
}

func addToPart(ps []oscalPart, add addition, parts []oscalPart) ([]oscalPart, bool) {
	for i := range ps {
		if ps[i].ID != add.byID {
			var done bool
			if ps[i].Parts, done = addToPart(ps[i].Parts, add, parts); done {
				return ps, true
			}
			continue
		}
		switch add.position {
		case "before":
			return slices.Insert(ps, i, parts...), true
		case "after":
			return slices.Insert(ps, i+1, parts...), true
		case "starting":
			if add.title != "" {
				ps[i].Title = add.title
			}
			ps[i].Props = append(slices.Clone(add.props), ps[i].Props...)
			ps[i].Parts = append(parts, ps[i].Parts...)
		default:
			if add.title != "" {
				ps[i].Title = add.title
			}
			ps[i].Props = append(ps[i].Props, add.props...)
			ps[i].Parts = append(ps[i].Parts, parts...)
		}
		return ps, true
	}
	return ps, false
}

// usedGroups keeps the groups the controls use, with their ancestors, in
// source order.
func usedGroups(ctls []*rctl, groups []Group) []Group {
	parent := map[string]string{}
	for _, g := range groups {
		parent[g.ID] = g.Parent
	}
	need := map[string]bool{}
	for _, x := range ctls {
		for g := x.req.Group; g != "" && !need[g]; g = parent[g] {
			need[g] = true
		}
	}
	var out []Group
	for _, g := range groups {
		if need[g.ID] {
			out = append(out, g)
		}
	}
	return out
}

// keepParents makes an enhancement whose parent is not kept top level.
func keepParents(ctls []*rctl) {
	kept := map[string]bool{}
	for _, x := range ctls {
		kept[x.req.ID] = true
	}
	for _, x := range ctls {
		if x.req.Parent != "" && !kept[x.req.Parent] {
			x.req.Parent = ""
		}
	}
}

// customStructure arranges the controls in merge.custom's groups; a
// control inserted nowhere is dropped (OSCAL's rule), one inserted twice is
// refused.
func customStructure(p *Profile, pool []*rctl) ([]*rctl, []Group, error) {
	var ctls []*rctl
	var groups []Group
	placed := map[*rctl]string{}
	var walk func(g *customGroup, gid string) error
	walk = func(g *customGroup, gid string) error {
		for _, ins := range g.inserts {
			inc := map[*rctl]bool{}
			var err error
			if !ins.includeAll {
				if inc, err = selectControls(pool, ins.include, ins.path+".include-controls", "the selection"); err != nil {
					return err
				}
			}
			exc, err := selectControls(pool, ins.exclude, ins.path+".exclude-controls", "the selection")
			if err != nil {
				return err
			}
			var these []*rctl
			for _, x := range pool {
				if (ins.includeAll || inc[x]) && !exc[x] {
					if prev, dup := placed[x]; dup {
						return fmt.Errorf("%s: control %s is already inserted at %s", ins.path, x.req.ID, prev)
					}
					placed[x] = ins.path
					x.req.Group = gid
					these = append(these, x)
				}
			}
			switch ins.order {
			case "ascending":
				slices.SortStableFunc(these, func(a, b *rctl) int { return strings.Compare(a.req.ID, b.req.ID) })
			case "descending":
				slices.SortStableFunc(these, func(a, b *rctl) int { return strings.Compare(b.req.ID, a.req.ID) })
			}
			ctls = append(ctls, these...)
		}
		for i := range g.groups {
			sub := &g.groups[i]
			groups = append(groups, Group{ID: sub.id, Parent: gid, Title: sub.title, TitleES: sub.titleES})
			if err := walk(sub, sub.id); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(p.custom, ""); err != nil {
		return nil, nil, err
	}
	if len(ctls) == 0 {
		return nil, nil, errors.New(p.path + ".merge.custom: inserts no control")
	}
	return ctls, groups, nil
}

// matchesHref reports whether an import href names c: the urn:uuid: (or
// #uuid) of the catalogue ExportOSCAL writes for c, Custodia's catalogue id
// or the file name ExportOSCAL's download uses.
func matchesHref(href string, c *Catalog) bool {
	u := nameUUID(c.ID)
	h := strings.TrimPrefix(strings.TrimPrefix(href, "urn:uuid:"), "#")
	if strings.EqualFold(h, u) || h == c.ID || h == "urn:custodia:catalog:"+c.ID {
		return true
	}
	base := href[strings.LastIndexAny(href, "/\\")+1:]
	return base == c.ID+"-oscal.json" || base == c.ID+".json"
}

// requirementByControl finds the requirement an OSCAL control id names: the
// id ExportOSCAL gives it, or the requirement id itself.
func requirementByControl(c *Catalog, id string) (string, bool) {
	for _, r := range c.Requirements {
		if r.ID == id || oscalID("c-", r.ID) == id {
			return r.ID, true
		}
	}
	return "", false
}
