package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
)

func init() {
	readers := access{roles: []identity.Role{rAdmin, rSec, rDPO, rAud}}
	readersID := access{roles: []identity.Role{rAdmin, rSec, rDPO, rAud}, scoped: true}
	users := access{roles: []identity.Role{rAdmin, rSec, rDPO}}
	usersID := access{roles: []identity.Role{rAdmin, rSec, rDPO}, scoped: true}
	moduleTables["dataprotection"] = map[string]access{
		"POST /api/v1/dataprotection/scan":                users,
		"POST /api/v1/dataprotection/redact":              users,
		"GET /api/v1/dataprotection/locations":            readers,
		"POST /api/v1/dataprotection/locations":           users,
		"GET /api/v1/dataprotection/locations/{id}":       readersID,
		"PATCH /api/v1/dataprotection/locations/{id}":     usersID,
		"DELETE /api/v1/dataprotection/locations/{id}":    usersID,
		"POST /api/v1/dataprotection/locations/{id}/scan": usersID,
		"GET /api/v1/dataprotection/runs":                 readers,
		"GET /api/v1/dataprotection/runs/{id}":            readersID,
		"GET /api/v1/dataprotection/runs/{id}/files":      readersID,
		"GET /dataprotection":                             readers,
		"GET /dataprotection/locations/new":               users,
		"POST /dataprotection/locations":                  users,
		"GET /dataprotection/locations/{id}":              readersID,
		"POST /dataprotection/locations/{id}":             usersID,
		"POST /dataprotection/locations/{id}/scan":        usersID,
		"POST /dataprotection/locations/{id}/delete":      usersID,
		"GET /dataprotection/runs/{id}":                   readersID,
		"GET /dataprotection/try":                         users,
		"POST /dataprotection/try":                        users,
	}
	moduleSeeders = append(moduleSeeders, seedDataProtection)
	moduleTargets = append(moduleTargets, dataProtectionTarget)
	moduleRequests = append(moduleRequests, dataProtectionRequest)
}

// dpSeq makes the seeded locations' paths unique.
var dpSeq atomic.Int64

func dpLocation(t testing.TB, w *world, clientID int64) *store.DPLocation {
	ctx := context.Background()
	l := &store.DPLocation{Name: "Share", Path: fmt.Sprintf("/srv/dp-%d", dpSeq.Add(1)), ClientID: clientID, IntervalSeconds: 3600, Enabled: true}
	if err := w.st.InTx(ctx, func(tx *store.Tx) error { return tx.DPCreateLocation(ctx, l) }); err != nil {
		if t == nil {
			panic(err)
		}
		t.Fatal(err)
	}
	return l
}

// seedDataProtection creates a location with one run for client A and B.
func seedDataProtection(t *testing.T, w *world) {
	ctx := context.Background()
	var locs, runs [2]int64
	for i, c := range []int64{w.clientA.ID, w.clientB.ID} {
		l := dpLocation(t, w, c)
		now := time.Now().UTC()
		run := &store.DPRun{StartedAt: now, FinishedAt: now, Status: store.DPRunComplete, FilesScanned: 1, FilesWithFindings: 1,
			Counts: store.DPCounts{"EMAIL_ADDRESS": 1}}
		files := []store.DPRunFile{{Path: "a.txt", Findings: 1, Counts: store.DPCounts{"EMAIL_ADDRESS": 1}}}
		must(t, w.st.InTx(ctx, func(tx *store.Tx) error { return tx.DPRecordRun(ctx, l, run, files, nil) }))
		locs[i], runs[i] = l.ID, run.ID
	}
	w.ids["dataprotection.location"] = locs
	w.ids["dataprotection.run"] = runs
}

func dataProtectionTarget(w *world, rt authz.Route, inScope bool) (string, bool) {
	pick := func(key string) string {
		ids := w.ids[key]
		if inScope {
			return strconv.FormatInt(ids[0], 10)
		}
		return strconv.FormatInt(ids[1], 10)
	}
	switch {
	case strings.Contains(rt.Path, "/dataprotection/locations/{id}"):
		return strings.Replace(rt.Path, "{id}", pick("dataprotection.location"), 1), true
	case strings.Contains(rt.Path, "/dataprotection/runs/{id}"):
		return strings.Replace(rt.Path, "{id}", pick("dataprotection.run"), 1), true
	}
	return "", false
}

// dataProtectionRequest gives every caller deleting client A's location a
// location of its own (a deleted one is rightly a 404 after), and sends the
// scan endpoints a real text.
func dataProtectionRequest(w *world, rt authz.Route, target string, a *actor) *http.Request {
	inA := strconv.FormatInt(w.ids["dataprotection.location"][0], 10)
	switch {
	case (rt.Pattern == "DELETE /api/v1/dataprotection/locations/{id}" || rt.Pattern == "POST /dataprotection/locations/{id}/delete") &&
		strings.Contains(target, "/"+inA):
		l := dpLocation(nil, w, w.clientA.ID)
		target = strings.Replace(target, "/"+inA, "/"+strconv.FormatInt(l.ID, 10), 1)
		if rt.API() {
			return w.authorize(httptest.NewRequest(rt.Method, target, nil), rt, a)
		}
		form := url.Values{}
		if a != nil {
			form.Set(identity.CSRFField, a.csrf)
		}
		req := httptest.NewRequest(rt.Method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return w.authorize(req, rt, a)
	case rt.Pattern == "POST /api/v1/dataprotection/scan" || rt.Pattern == "POST /api/v1/dataprotection/redact":
		req := httptest.NewRequest(rt.Method, target, strings.NewReader(`{"text":"tarjeta 4111 1111 1111 1111"}`))
		req.Header.Set("Content-Type", "application/json")
		return w.authorize(req, rt, a)
	}
	return nil
}
