// Package demo seeds a realistic demo organization for `custodia serve
// --demo` and for benchmarks: one operator, two sites, three clients (a bank,
// a telco and an insurer), a dozen teams and about 300 people with plausible
// Spanish and English names, all generated deterministically from embedded
// name lists.
package demo

import (
	"context"
	_ "embed"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
)

var (
	//go:embed names/es_first.txt
	esFirstText string
	//go:embed names/es_surnames.txt
	esSurnameText string
	//go:embed names/en_first.txt
	enFirstText string
	//go:embed names/en_surnames.txt
	enSurnameText string
)

// PeoplePerScale is how many people Scale 1 seeds.
const PeoplePerScale = 300

// OperatorName is the demo operator's default name.
const OperatorName = "Atalaya Contact Services"

// EmailDomain is the (reserved, non-routable) domain of the demo people's emails.
const EmailDomain = "atalaya.example"

// Options control the seed.
type Options struct {
	// Scale multiplies the number of people: 0 or 1 seeds about 300, 10
	// about 3,000 (the benchmark size). Sites, clients and teams don't change.
	Scale int
	// OperatorName names the operator when none exists yet; "" means OperatorName.
	OperatorName string
	// Now is the date start and leave dates are relative to; zero means now.
	Now time.Time
}

// Result says what Seed did.
type Result struct {
	// Seeded is false when the organization already had data: Seed did nothing.
	Seeded  bool
	Clients int
	Sites   int
	Teams   int
	People  int
	// Leavers is how many of the people are inactive (they left).
	Leavers int
}

// Seed creates the demo organization in one transaction, only if the
// organization is empty (no client, site, team or person); otherwise it
// changes nothing and reports Seeded false. Every object is created through
// the store, so the audit trail records it. Seed does not create user
// accounts: the caller creates the administrator.
func Seed(ctx context.Context, st *store.Store, opts Options) (Result, error) {
	if opts.Scale <= 0 {
		opts.Scale = 1
	}
	if opts.Scale > 1000 {
		return Result{}, fmt.Errorf("demo seed: scale %d is too large (at most 1000)", opts.Scale)
	}
	if opts.OperatorName == "" {
		opts.OperatorName = OperatorName
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	var res Result
	err := st.InTx(ctx, func(tx *store.Tx) error {
		res = Result{}
		empty, err := tx.OrganizationEmpty(ctx)
		if err != nil || !empty {
			return err
		}
		if err := tx.EnsureOperator(ctx, opts.OperatorName); err != nil {
			return err
		}
		g := newGenerator(opts)
		if err := g.seed(ctx, tx, &res); err != nil {
			return err
		}
		res.Seeded = true
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("demo seed: %w", err)
	}
	if res.Seeded {
		if err := st.AnalyzeOrganization(ctx); err != nil {
			return res, fmt.Errorf("demo seed: %w", err)
		}
	}
	return res, nil
}

type siteSpec struct{ code, name, city string }

var sites = []siteSpec{
	{"mad", "Madrid — Las Tablas", "Madrid"},
	{"svq", "Sevilla — Cartuja", "Sevilla"},
}

type clientSpec struct{ code, name, sector string }

var clients = []clientSpec{
	{"meridiano", "Banco Meridiano", "banking"},
	{"aurora", "Aurora Telecom", "telco"},
	{"alba", "Seguros Alba", "insurance"},
}

// teamSpec: client "" is an internal team; role is the job role of its
// members; allClients makes its members work for every client.
type teamSpec struct {
	code, name, site, client, role string
	allClients                     bool
	english                        bool // an English-speaking desk: mostly English names
}

var teams = []teamSpec{
	{code: "mad-meridiano-retail", name: "Meridiano Banca Particulares", site: "mad", client: "meridiano", role: "agent"},
	{code: "mad-meridiano-cards", name: "Meridiano Tarjetas", site: "mad", client: "meridiano", role: "agent"},
	{code: "svq-meridiano-collections", name: "Meridiano Recobro", site: "svq", client: "meridiano", role: "agent"},
	{code: "mad-aurora-sales", name: "Aurora Ventas", site: "mad", client: "aurora", role: "agent"},
	{code: "svq-aurora-support", name: "Aurora Soporte Técnico", site: "svq", client: "aurora", role: "agent"},
	{code: "svq-aurora-english", name: "Aurora English Desk", site: "svq", client: "aurora", role: "agent", english: true},
	{code: "mad-alba-claims", name: "Alba Siniestros", site: "mad", client: "alba", role: "agent"},
	{code: "svq-alba-policies", name: "Alba Pólizas", site: "svq", client: "alba", role: "agent"},
	{code: "mad-alba-english", name: "Alba Expat Desk", site: "mad", client: "alba", role: "agent", english: true},
	{code: "mad-quality", name: "Calidad", site: "mad", role: "quality", allClients: true},
	{code: "mad-it-security", name: "IT y Seguridad", site: "mad", role: "it"},
	{code: "svq-training", name: "Formación", site: "svq", role: "trainer", allClients: true},
}

type generator struct {
	opts       Options
	rng        *rand.Rand
	today      time.Time
	esFirst    []string
	esSurname  []string
	enFirst    []string
	enSurname  []string
	emails     map[string]bool
	nextNumber int
}

func newGenerator(opts Options) *generator {
	return &generator{
		opts:       opts,
		rng:        rand.New(rand.NewPCG(20260101, uint64(opts.Scale))),
		today:      org.Day(opts.Now.UTC()),
		esFirst:    lines(esFirstText),
		esSurname:  lines(esSurnameText),
		enFirst:    lines(enFirstText),
		enSurname:  lines(enSurnameText),
		emails:     map[string]bool{},
		nextNumber: 10001,
	}
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (g *generator) seed(ctx context.Context, tx *store.Tx, res *Result) error {
	siteIDs := map[string]int64{}
	for _, s := range sites {
		site := org.Site{Code: s.code, Name: s.name, City: s.city, Country: "ES", Timezone: "Europe/Madrid"}
		if err := tx.CreateSite(ctx, &site); err != nil {
			return err
		}
		siteIDs[s.code] = site.ID
		res.Sites++
	}
	clientIDs := map[string]int64{}
	var allClientIDs []int64
	for _, c := range clients {
		client := org.Client{Code: c.code, Name: c.name, Sector: c.sector}
		if err := tx.CreateClient(ctx, &client); err != nil {
			return err
		}
		clientIDs[c.code] = client.ID
		allClientIDs = append(allClientIDs, client.ID)
		res.Clients++
	}

	// Internal teams get a small share; the client campaigns share the rest.
	total := PeoplePerScale * g.opts.Scale
	internalSize := max(3, total/25)
	var campaign int
	for _, t := range teams {
		if t.client != "" {
			campaign++
		}
	}
	campaignSize := (total - internalSize*(len(teams)-campaign)) / campaign

	all := identity.Scope{All: true}
	for _, ts := range teams {
		team := org.Team{Code: ts.code, Name: ts.name, SiteID: siteIDs[ts.site], ClientID: clientIDs[ts.client]}
		if err := tx.CreateTeam(ctx, &team); err != nil {
			return err
		}
		res.Teams++
		size := internalSize
		if ts.client != "" {
			size = campaignSize
		}
		for i := range size {
			p := g.person(ts, i)
			p.TeamID, p.SiteID = team.ID, team.SiteID
			switch {
			case ts.allClients:
				p.ClientIDs = append([]int64(nil), allClientIDs...)
			case ts.client != "":
				p.ClientIDs = []int64{team.ClientID}
				// Some agents are multi-skilled and also work another campaign.
				if p.JobRole == "agent" && g.rng.IntN(100) < 6 {
					p.ClientIDs = append(p.ClientIDs, allClientIDs[g.rng.IntN(len(allClientIDs))])
				}
			}
			if err := tx.CreatePerson(ctx, all, &p); err != nil {
				return fmt.Errorf("person %s: %w", p.EmployeeID, err)
			}
			res.People++
			if !p.Active {
				res.Leavers++
			}
		}
	}
	return nil
}

// person makes the i-th member of a team: the first is its supervisor, every
// fifteenth a team lead; about 8% have left and 3% are serving notice.
func (g *generator) person(ts teamSpec, i int) org.Person {
	role := ts.role
	if ts.client != "" {
		switch {
		case i == 0:
			role = "supervisor"
		case i%15 == 0:
			role = "team_lead"
		}
	}
	english := g.rng.IntN(100) < 15
	if ts.english {
		english = g.rng.IntN(100) < 80
	}
	var first, last, emailLast string
	if english {
		first = g.pick(g.enFirst)
		last = g.pick(g.enSurname)
		emailLast = last
	} else {
		first = g.pick(g.esFirst)
		s1, s2 := g.pick(g.esSurname), g.pick(g.esSurname)
		for s2 == s1 {
			s2 = g.pick(g.esSurname)
		}
		last = s1 + " " + s2
		emailLast = s1
	}
	p := org.Person{
		EmployeeID: fmt.Sprintf("AT%05d", g.nextNumber),
		FullName:   first + " " + last,
		Email:      g.email(first, emailLast),
		JobRole:    role,
		Active:     true,
	}
	g.nextNumber++
	// Contact centers have high turnover: most people started in the last
	// three years, a few long-timers up to twelve.
	days := g.rng.IntN(3 * 365)
	if g.rng.IntN(100) < 15 {
		days = g.rng.IntN(12 * 365)
	}
	p.StartDate = g.today.AddDate(0, 0, -days-1)
	switch r := g.rng.IntN(100); {
	case r < 8 && role != "supervisor":
		gone := g.rng.IntN(days+1) / 2
		p.LeaveDate = g.today.AddDate(0, 0, -gone-1)
		p.Active = false
	case r < 11:
		p.LeaveDate = g.today.AddDate(0, 0, 1+g.rng.IntN(30))
	}
	return p
}

func (g *generator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

// email builds first.last@domain from the ASCII letters of the names, with a
// number when it is taken.
func (g *generator) email(first, last string) string {
	local := asciiLetters(first) + "." + asciiLetters(last)
	addr := local + "@" + EmailDomain
	for n := 2; g.emails[addr]; n++ {
		addr = fmt.Sprintf("%s%d@%s", local, n, EmailDomain)
	}
	g.emails[addr] = true
	return addr
}

func asciiLetters(s string) string {
	s = org.FoldSearch(s)
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
