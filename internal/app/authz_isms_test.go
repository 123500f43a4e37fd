package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance"
	"github.com/custodia/custodia/internal/isms/compliance/office"
	"github.com/custodia/custodia/internal/isms/ens"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store/storetest"
)

func init() {
	read := access{roles: []identity.Role{rAdmin, rSec, rDPO, rAud}}
	readID := access{roles: []identity.Role{rAdmin, rSec, rDPO, rAud}, scoped: true}
	write := access{roles: []identity.Role{rAdmin, rSec, rDPO}}
	writeID := access{roles: []identity.Role{rAdmin, rSec, rDPO}, scoped: true}
	moduleTables["isms"] = map[string]access{
		"GET /api/v1/isms/dashboard":                               read,
		"GET /api/v1/isms/reports/ens-summary.pdf":                 read,
		"GET /api/v1/isms/frameworks":                              read,
		"POST /api/v1/isms/frameworks":                             write,
		"GET /api/v1/isms/frameworks/{key}/oscal":                  read,
		"DELETE /api/v1/isms/frameworks/{key}":                     write,
		"GET /api/v1/isms/frameworks/{key}/soa":                    read,
		"GET /api/v1/isms/frameworks/{key}/soa.pdf":                read,
		"GET /api/v1/isms/frameworks/{key}/soa.xlsx":               read,
		"GET /api/v1/isms/frameworks/{key}/soa.oscal-profile.json": read,
		"GET /api/v1/isms/frameworks/{key}/soa.oscal-results.json": read,
		"POST /api/v1/isms/frameworks/{key}/assessment-results":    write,
		"PATCH /api/v1/isms/frameworks/{key}/requirements/{ref}":   write,
		"DELETE /api/v1/isms/frameworks/{key}/requirements/{ref}":  write,
		"GET /api/v1/isms/controls":                                read,
		"POST /api/v1/isms/controls":                               write,
		"GET /api/v1/isms/controls/{id}":                           readID,
		"PATCH /api/v1/isms/controls/{id}":                         writeID,
		"DELETE /api/v1/isms/controls/{id}":                        writeID,
		"GET /api/v1/isms/evidence":                                read,
		"POST /api/v1/isms/evidence":                               write,
		"GET /api/v1/isms/evidence/{id}":                           readID,
		"GET /api/v1/isms/evidence/{id}/file":                      readID,
		"DELETE /api/v1/isms/evidence/{id}":                        writeID,
		"GET /api/v1/isms/ens/systems":                             read,
		"POST /api/v1/isms/ens/systems":                            write,
		"GET /api/v1/isms/ens/systems/{id}":                        readID,
		"PATCH /api/v1/isms/ens/systems/{id}":                      writeID,
		"DELETE /api/v1/isms/ens/systems/{id}":                     writeID,
		"PATCH /api/v1/isms/ens/systems/{id}/measures/{measure}":   writeID,
		"POST /api/v1/isms/ens/systems/{id}/extras":                writeID,
		"DELETE /api/v1/isms/ens/systems/{id}/extras/{extra}":      writeID,
		"POST /api/v1/isms/ens/systems/{id}/sign":                  writeID,
		"GET /api/v1/isms/ens/systems/{id}/declaration.pdf":        readID,

		"GET /isms":                                     read,
		"GET /isms/report/ens-summary.pdf":              read,
		"GET /isms/frameworks":                          read,
		"POST /isms/frameworks":                         write,
		"GET /isms/soa/{key}":                           read,
		"GET /isms/soa/{key}/export.pdf":                read,
		"GET /isms/soa/{key}/export.xlsx":               read,
		"GET /isms/soa/{key}/export.oscal-profile.json": read,
		"GET /isms/soa/{key}/export.oscal-results.json": read,
		"POST /isms/soa/{key}/assessment-results":       write,
		"GET /isms/soa/{key}/{ref}":                     read,
		"POST /isms/soa/{key}/{ref}":                    write,
		"POST /isms/soa/{key}/{ref}/delete":             write,
		"GET /isms/controls":                            read,
		"POST /isms/controls":                           write,
		"GET /isms/controls/{id}":                       readID,
		"POST /isms/controls/{id}":                      writeID,
		"POST /isms/controls/{id}/delete":               writeID,
		"POST /isms/evidence":                           write,
		"GET /isms/evidence/{id}/file":                  readID,
		"POST /isms/evidence/{id}/delete":               writeID,
		"GET /isms/ens":                                 read,
		"POST /isms/ens":                                write,
		"GET /isms/ens/{id}":                            readID,
		"POST /isms/ens/{id}":                           writeID,
		"GET /isms/ens/{id}/measures/{measure}":         readID,
		"POST /isms/ens/{id}/measures/{measure}":        writeID,
		"POST /isms/ens/{id}/extras":                    writeID,
		"POST /isms/ens/{id}/extras/{extra}/delete":     writeID,
		"POST /isms/ens/{id}/sign":                      writeID,
		"GET /isms/ens/{id}/declaration.pdf":            readID,
	}
	moduleSeeders = append(moduleSeeders, seedISMS)
	moduleTargets = append(moduleTargets, ismsTarget)
	moduleRequests = append(moduleRequests, ismsRequest)
}

// seedISMS gives clients A and B a control (with a file evidence item, so
// deleting it is refused), an ENS system with a signed declaration and an
// extra measure, and imports a framework a control refers to.
func seedISMS(t *testing.T, w *world) {
	ctx := context.Background()
	off := w.app.API.ISMSOffice()
	if off == nil {
		t.Fatal("isms module not wired")
	}
	admin := ismsSeeder(w)
	doc := `{"catalog": {"uuid": "u", "metadata": {"title": "ACME"}, "controls": [{"id": "r1", "title": "One"}, {"id": "r2", "title": "Two"}]}}`
	if _, err := off.Import(ctx, admin, "acme", office.FormatOSCAL, []byte(doc), nil); err != nil {
		t.Fatal(err)
	}
	acme, err := off.Catalog("acme")
	if err != nil {
		t.Fatal(err)
	}
	if acme.Requirements[0].ID != ismsAcmeRef {
		t.Fatalf("imported requirement id %q, want %q", acme.Requirements[0].ID, ismsAcmeRef)
	}
	for i, client := range []int64{w.clientA.ID, w.clientB.ID} {
		c := &compliance.Control{Code: fmt.Sprintf("C-%d", i), Title: "Control", Status: compliance.Implemented, ClientID: client,
			Requirements: []catalog.Ref{{Catalog: "acme", Requirement: ismsAcmeRef}, {Catalog: catalog.ISO27001, Requirement: "A.5.1"}}}
		must(t, off.SaveControl(ctx, admin, c))
		e := &compliance.Evidence{Kind: compliance.EvidenceFile, Title: "Scan", ControlID: c.ID, FileName: "scan.txt", CollectedAt: time.Now()}
		must(t, off.AddEvidence(ctx, admin, e, []byte("scan result")))
		sys := &compliance.ENSSystem{Name: fmt.Sprintf("System %d", i), ClientID: client, Valuation: ens.Valuation{C: ens.Medio, D: ens.Bajo}}
		must(t, off.SaveSystem(ctx, admin, sys))
		x := &compliance.ENSExtra{ExtraMeasure: ens.ExtraMeasure{Kind: ens.Complementary, Title: "Extra", Justification: "why"}}
		must(t, off.AddExtra(ctx, admin, sys.ID, x))
		_, err := off.Sign(ctx, admin, sys.ID, sys.Name)
		must(t, err)
		ids := func(k string, v int64) {
			p := w.ids[k]
			p[i] = v
			w.ids[k] = p
		}
		ids("isms.control", c.ID)
		ids("isms.evidence", e.ID)
		ids("isms.system", sys.ID)
		ids("isms.extra", x.ID)
	}
}

// ismsAcmeRef is the requirement of the imported framework the seeded
// controls refer to.
const ismsAcmeRef = "r1"

// ismsSeeder is the administrator who sees every client, as a principal.
func ismsSeeder(w *world) *identity.Principal {
	for _, a := range w.actors {
		if a.user.AllClients && a.user.Role == identity.RoleAdmin {
			return a.user.Principal()
		}
	}
	panic("no administrator for every client")
}

func ismsTarget(w *world, rt authz.Route, inScope bool) (string, bool) {
	if _, ok := moduleTables["isms"][rt.Pattern]; !ok {
		return "", false
	}
	pick := func(k string) string {
		v := w.ids[k]
		if inScope {
			return strconv.FormatInt(v[0], 10)
		}
		return strconv.FormatInt(v[1], 10)
	}
	p := rt.Path
	switch {
	case strings.Contains(p, "/controls/{id}"):
		p = strings.Replace(p, "{id}", pick("isms.control"), 1)
	case strings.Contains(p, "/evidence/{id}"):
		p = strings.Replace(p, "{id}", pick("isms.evidence"), 1)
	case strings.Contains(p, "{id}"):
		p = strings.Replace(p, "{id}", pick("isms.system"), 1)
	}
	p = strings.Replace(p, "{extra}", pick("isms.extra"), 1)
	p = strings.Replace(p, "{measure}", "op.acc.1", 1)
	if rt.Method == http.MethodDelete || strings.HasSuffix(p, "/{ref}/delete") {
		p = strings.Replace(p, "{key}", "acme", 1)
		p = strings.Replace(p, "{ref}", url.PathEscape(ismsAcmeRef), 1)
	}
	p = strings.Replace(p, "{key}", catalog.ISO27001, 1)
	p = strings.Replace(p, "{ref}", "A.5.1", 1)
	return p, true
}

// ismsRequest gives every caller deleting client A's evidence item or
// extra measure one of its own (a deleted one is rightly a 404 after).
func ismsRequest(w *world, rt authz.Route, target string, a *actor) *http.Request {
	var kind string
	switch rt.Pattern {
	case "DELETE /api/v1/isms/evidence/{id}", "POST /isms/evidence/{id}/delete":
		kind = "isms.evidence"
	case "DELETE /api/v1/isms/ens/systems/{id}/extras/{extra}", "POST /isms/ens/{id}/extras/{extra}/delete":
		kind = "isms.extra"
	default:
		return nil
	}
	old := strconv.FormatInt(w.ids[kind][0], 10)
	if !strings.Contains(target, "/"+old) {
		return nil // out of scope: client B's stays
	}
	ctx := context.Background()
	off := w.app.API.ISMSOffice()
	admin := ismsSeeder(w)
	var fresh int64
	if kind == "isms.evidence" {
		e := &compliance.Evidence{Kind: compliance.EvidenceLink, Title: "fresh", ControlID: w.ids["isms.control"][0], URL: "https://x.example/", CollectedAt: time.Now()}
		if err := off.AddEvidence(ctx, admin, e, nil); err != nil {
			panic(err)
		}
		fresh = e.ID
		target = strings.Replace(target, "/evidence/"+old, "/evidence/"+strconv.FormatInt(fresh, 10), 1)
	} else {
		x := &compliance.ENSExtra{ExtraMeasure: ens.ExtraMeasure{Kind: ens.Complementary, Title: "fresh", Justification: "why"}}
		if err := off.AddExtra(ctx, admin, w.ids["isms.system"][0], x); err != nil {
			panic(err)
		}
		fresh = x.ID
		target = strings.Replace(target, "/extras/"+old, "/extras/"+strconv.FormatInt(fresh, 10), 1)
	}
	var req *http.Request
	if rt.API() {
		req = httptest.NewRequest(rt.Method, target, nil)
	} else {
		form := url.Values{}
		if a != nil {
			form.Set(identity.CSRFField, a.csrf)
		}
		req = httptest.NewRequest(rt.Method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return w.authorize(req, rt, a)
}

// TestISMSDemoIsIdempotent seeds the demo compliance content twice: the
// second run adds nothing.
func TestISMSDemoIsIdempotent(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	keys, err := secret.New(secret.Generate())
	must(t, err)
	off, err := office.New(ctx, st, keys, nil)
	must(t, err)
	o := Options{Store: st}
	must(t, ismsDemo(ctx, off, o))
	must(t, ismsDemo(ctx, off, o))
	controls, err := st.ISMSControls(ctx, storeControlFilter(identity.Scope{All: true}), time.Now())
	must(t, err)
	systems, err := st.ISMSENSSystems(ctx, identity.Scope{All: true})
	must(t, err)
	if len(controls) != 4 || len(systems) != 1 {
		t.Fatalf("after two demo seeds: %d controls, %d systems; want 4 and 1", len(controls), len(systems))
	}
	d, err := off.Dashboard(ctx, &identity.Principal{Role: identity.RoleAdmin, AllClients: true}, 0)
	must(t, err)
	if d.Health["green"] != 1 || d.Health["amber"] != 1 {
		t.Fatalf("demo health = %v, want one green (fresh MFA report) and one amber (stale antimalware export)", d.Health)
	}
}
