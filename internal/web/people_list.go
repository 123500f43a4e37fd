package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
)

const peoplePageSize = 50

type peopleListData struct {
	People  []personRow
	L       peopleLabels
	Total   int
	Query   string
	Clients []Option
	Sites   []Option
	Teams   []Option
	Active  []Option
	Pager   pager
}

type personRow struct {
	org.Person
	ClientNames string
	Status      string // translated
}

// peopleLabels are the column labels, translated once per page rather than
// once per cell (template method calls are costly).
type peopleLabels struct {
	EmployeeID, FullName, Email, Team, Site, Clients, Status string
}

// pager is the data of the "pager" partial.
type pager struct {
	V               *view
	Prev, Next      string
	From, To, Total int
}

// refs are the names of the clients, sites and teams in scope, for
// selects and for showing ids as names.
type refs struct {
	clients []org.Client
	sites   []org.Site
	teams   []org.Team
}

func (s *Server) loadRefs(ctx context.Context, sc identity.Scope) (*refs, error) {
	var rf refs
	var err error
	if rf.clients, err = s.store.Clients(ctx, org.ClientFilter{Scope: sc, Page: org.Page{Limit: org.MaxLimit}}); err != nil {
		return nil, err
	}
	if rf.sites, err = s.store.Sites(ctx, org.SiteFilter{Scope: sc, Page: org.Page{Limit: org.MaxLimit}}); err != nil {
		return nil, err
	}
	if rf.teams, err = s.store.Teams(ctx, org.TeamFilter{Scope: sc, Page: org.Page{Limit: org.MaxLimit}}); err != nil {
		return nil, err
	}
	return &rf, nil
}

func (rf *refs) clientName(id int64) string {
	for _, c := range rf.clients {
		if c.ID == id {
			return c.Name
		}
	}
	return "#" + strconv.FormatInt(id, 10)
}

func (rf *refs) clientNames(ids []int64) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = rf.clientName(id)
	}
	return strings.Join(names, ", ")
}

// options builds select options with an empty first choice labelled first.
func (rf *refs) clientOptions(first string, selected int64) []Option {
	opts := []Option{{Value: "", Label: first}}
	for _, c := range rf.clients {
		opts = append(opts, Option{Value: itoa64(c.ID), Label: c.Name, Selected: c.ID == selected})
	}
	return opts
}

func (rf *refs) siteOptions(first string, selected int64) []Option {
	opts := []Option{{Value: "", Label: first}}
	for _, st := range rf.sites {
		opts = append(opts, Option{Value: itoa64(st.ID), Label: st.Name, Selected: st.ID == selected})
	}
	return opts
}

func (rf *refs) teamOptions(first string, selected int64) []Option {
	opts := []Option{{Value: "", Label: first}}
	for _, t := range rf.teams {
		opts = append(opts, Option{Value: itoa64(t.ID), Label: t.Name, Selected: t.ID == selected})
	}
	return opts
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// queryID reads an optional positive id from the query ("" or junk = 0).
func queryID(q url.Values, name string) int64 {
	id, err := strconv.ParseInt(q.Get(name), 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}

func queryOffset(q url.Values) int {
	n, err := strconv.Atoi(q.Get("offset"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// pageLinks computes previous/next links keeping the other query parameters.
func pageLinks(v *view, base string, q url.Values, offset, size, shown, total int) pager {
	p := pager{V: v, Total: total}
	if shown > 0 {
		p.From, p.To = offset+1, offset+shown
	}
	link := func(off int) string {
		qq := url.Values{}
		for k, vs := range q {
			if k != "offset" && k != "flash" {
				qq[k] = vs
			}
		}
		if off > 0 {
			qq.Set("offset", strconv.Itoa(off))
		}
		if len(qq) == 0 {
			return base
		}
		return base + "?" + qq.Encode()
	}
	if offset > 0 {
		p.Prev = link(max(0, offset-size))
	}
	if offset+shown < total {
		p.Next = link(offset + size)
	}
	return p
}

func (s *Server) peopleList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	sc := scope(r)
	q := r.URL.Query()
	f := org.PersonFilter{
		Scope:    sc,
		Query:    strings.TrimSpace(q.Get("q")),
		ClientID: queryID(q, "client_id"),
		SiteID:   queryID(q, "site_id"),
		TeamID:   queryID(q, "team_id"),
		Page:     org.Page{Limit: peoplePageSize, Offset: queryOffset(q)},
	}
	if len(f.Query) > 200 {
		f.Query = f.Query[:200]
	}
	activeSel := q.Get("active")
	switch activeSel {
	case "true", "false":
		b := activeSel == "true"
		f.Active = &b
	default:
		activeSel = ""
	}
	people, total, err := s.store.People(ctx, f)
	if err != nil {
		return err
	}
	rf, err := s.loadRefs(ctx, sc)
	if err != nil {
		return err
	}
	v := s.newView(r, "people.title", nil)
	d := &peopleListData{Total: total, Query: f.Query}
	active, inactive := v.T("common.active"), v.T("common.inactive")
	d.L = peopleLabels{EmployeeID: v.T("people.employee_id"), FullName: v.T("people.full_name"), Email: v.T("people.email"),
		Team: v.T("people.team"), Site: v.T("people.site"), Clients: v.T("people.clients"), Status: v.T("common.status")}
	d.People = make([]personRow, 0, len(people))
	for _, p := range people {
		row := personRow{Person: p, ClientNames: rf.clientNames(p.ClientIDs), Status: active}
		if !p.Active {
			row.Status = inactive
		}
		d.People = append(d.People, row)
	}
	all := v.T("common.all")
	d.Clients = rf.clientOptions(all, f.ClientID)
	d.Sites = rf.siteOptions(all, f.SiteID)
	d.Teams = rf.teamOptions(all, f.TeamID)
	d.Active = []Option{
		{Value: "", Label: all, Selected: activeSel == ""},
		{Value: "true", Label: v.T("common.active"), Selected: activeSel == "true"},
		{Value: "false", Label: v.T("common.inactive"), Selected: activeSel == "false"},
	}
	d.Pager = pageLinks(v, "/people", q, f.Offset, peoplePageSize, len(people), total)
	v.D = d
	return s.render(w, http.StatusOK, "people_list", v)
}
