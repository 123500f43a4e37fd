package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/fleet/wire"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
)

func init() {
	readers := access{roles: []identity.Role{rAdmin, rSec, rAud, rSup}}
	readerID := access{roles: []identity.Role{rAdmin, rSec, rAud, rSup}, scoped: true}
	secretReaders := access{roles: []identity.Role{rAdmin, rSec, rAud}}
	secretReaderID := access{roles: []identity.Role{rAdmin, rSec, rAud}, scoped: true}
	mgr := access{roles: []identity.Role{rAdmin, rSec}}
	mgrID := access{roles: []identity.Role{rAdmin, rSec}, scoped: true}
	device := access{handlerAuth: true}
	moduleTables["fleet"] = map[string]access{
		"POST " + wire.PathEnroll:  device,
		"POST " + wire.PathCheckin: device,
		"POST " + wire.PathReport:  device,

		"GET /api/v1/fleet/devices":              readers,
		"GET /api/v1/fleet/devices.csv":          readers,
		"GET /api/v1/fleet/devices/{id}":         readerID,
		"POST /api/v1/fleet/devices/{id}/revoke": mgrID,
		"PATCH /api/v1/fleet/devices/{id}":       mgrID,
		"GET /api/v1/fleet/checks":               readers,
		"GET /api/v1/fleet/check":                readers,
		"GET /api/v1/fleet/check.csv":            readers,
		"GET /api/v1/fleet/exceptions":           readers,
		"POST /api/v1/fleet/exceptions":          mgr,
		"DELETE /api/v1/fleet/exceptions/{id}":   mgrID,
		"GET /api/v1/fleet/secrets":              secretReaders,
		"POST /api/v1/fleet/secrets":             mgr,
		"DELETE /api/v1/fleet/secrets/{id}":      mgrID,
		"GET /api/v1/fleet/reports":              readers,
		"GET /api/v1/fleet/policies":             secretReaders,
		"POST /api/v1/fleet/policies":            mgr,
		"DELETE /api/v1/fleet/policies/{id}":     mgrID,

		"GET /fleet":                         readers,
		"GET /fleet/devices.csv":             readers,
		"GET /fleet/devices/{id}":            readerID,
		"POST /fleet/devices/{id}/revoke":    mgrID,
		"POST /fleet/devices/{id}/owner":     mgrID,
		"GET /fleet/checks":                  readers,
		"GET /fleet/check":                   readers,
		"GET /fleet/check.csv":               readers,
		"GET /fleet/exceptions":              readers,
		"POST /fleet/exceptions":             mgr,
		"POST /fleet/exceptions/{id}/revoke": mgrID,
		"GET /fleet/secrets":                 secretReaders,
		"POST /fleet/secrets":                mgr,
		"POST /fleet/secrets/{id}/revoke":    mgrID,
		"GET /fleet/policies":                secretReaders,
		"GET /fleet/policies/new":            mgr,
		"POST /fleet/policies":               mgr,
		"GET /fleet/policies/{id}":           secretReaderID,
		"POST /fleet/policies/{id}/delete":   mgrID,
	}
	moduleSeeders = append(moduleSeeders, seedFleet)
	moduleTargets = append(moduleTargets, fleetTarget)
	moduleRequests = append(moduleRequests, fleetRequest)
}

// fleetRequest gives every caller deleting client A's custom policy (API
// or console) a policy of its own to delete (a deleted policy is rightly a
// 404 after).
func fleetRequest(w *world, rt authz.Route, target string, a *actor) *http.Request {
	var suffix string
	switch rt.Pattern {
	case "DELETE /api/v1/fleet/policies/{id}":
	case "POST /fleet/policies/{id}/delete":
		suffix = "/delete"
	default:
		return nil
	}
	aID := strconv.FormatInt(w.ids["fleet.policy"][0], 10)
	if !strings.HasSuffix(target, "/"+aID+suffix) {
		return nil
	}
	ctx := context.Background()
	pol := &store.FleetPolicy{Name: "fresh", ClientID: w.clientA.ID, Source: "policy:\n  id: y\n"}
	if err := w.st.InTx(ctx, func(tx *store.Tx) error { return tx.FleetPolicyCreate(ctx, pol) }); err != nil {
		panic(err)
	}
	fresh := strings.TrimSuffix(target, aID+suffix) + strconv.FormatInt(pol.ID, 10) + suffix
	var req *http.Request
	if rt.API() {
		req = httptest.NewRequest(rt.Method, fresh, nil)
	} else {
		form := url.Values{}
		if a != nil {
			form.Set(identity.CSRFField, a.csrf)
		}
		req = httptest.NewRequest(rt.Method, fresh, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return w.authorize(req, rt, a)
}

// seedFleet enrolls one device in client A (team A) and one in client B
// (team B), each with a failing result, an exception, an enrollment secret
// and a custom policy.
func seedFleet(t *testing.T, w *world) {
	ctx := context.Background()
	now := time.Now().UTC()
	var ids [4][2]int64
	for i, c := range []struct {
		client, team int64
		hw           string
	}{{w.clientA.ID, w.teamA.ID, "hw-a"}, {w.clientB.ID, w.teamB.ID, "hw-b"}} {
		must(t, w.st.InTx(ctx, func(tx *store.Tx) error {
			sec := &store.FleetEnrollSecret{Name: "secret " + c.hw, Hint: "ces_" + c.hw, ClientID: c.client, SiteID: w.site.ID, TeamID: c.team}
			if err := tx.FleetSecretCreate(ctx, sec, wire.HashSecret("ces_"+c.hw)); err != nil {
				return err
			}
			dev, _, err := tx.FleetEnroll(ctx, wire.HashSecret("ces_"+c.hw), store.FleetDeviceFacts{HardwareID: c.hw, Hostname: "DESK-" + c.hw, OS: "linux"}, wire.HashSecret(c.hw), now)
			if err != nil {
				return err
			}
			cred := &store.FleetDeviceCred{ID: dev.ID, ClientID: c.client, TeamID: c.team, Hostname: dev.Hostname, OS: "linux"}
			if _, err := tx.FleetApplyResults(ctx, cred, []store.FleetResult{{Policy: "p", CheckID: "usb", Result: "failed", Evidence: "[]"}}, now); err != nil {
				return err
			}
			exc := &store.FleetException{Policy: "p", CheckID: "usb", Scope: store.FleetScopeDevice, DeviceID: dev.ID, ClientID: c.client,
				Owner: "sec", Reason: "test", ExpiresAt: now.Add(24 * time.Hour)}
			if err := tx.FleetExceptionCreate(ctx, exc); err != nil {
				return err
			}
			pol := &store.FleetPolicy{Name: "custom " + c.hw, ClientID: c.client, Source: "policy:\n  id: x\n"}
			if err := tx.FleetPolicyCreate(ctx, pol); err != nil {
				return err
			}
			ids[0][i], ids[1][i], ids[2][i], ids[3][i] = dev.ID, exc.ID, sec.ID, pol.ID
			return nil
		}))
	}
	w.ids["fleet.device"], w.ids["fleet.exception"], w.ids["fleet.secret"], w.ids["fleet.policy"] = ids[0], ids[1], ids[2], ids[3]
}

func fleetTarget(w *world, rt authz.Route, inScope bool) (string, bool) {
	path := rt.Path
	rest, ok := strings.CutPrefix(strings.TrimPrefix(path, "/api/v1"), "/fleet/")
	if !ok {
		return "", false
	}
	pick := func(key string) string {
		ids := w.ids[key]
		if inScope {
			return strconv.FormatInt(ids[0], 10)
		}
		return strconv.FormatInt(ids[1], 10)
	}
	switch {
	case strings.HasPrefix(rest, "devices/{id}"):
		path = strings.Replace(path, "{id}", pick("fleet.device"), 1)
	case strings.HasPrefix(rest, "exceptions/{id}"):
		path = strings.Replace(path, "{id}", pick("fleet.exception"), 1)
	case strings.HasPrefix(rest, "secrets/{id}"):
		path = strings.Replace(path, "{id}", pick("fleet.secret"), 1)
	case strings.HasPrefix(rest, "policies/{id}"):
		path = strings.Replace(path, "{id}", pick("fleet.policy"), 1)
	case rest == "check" || rest == "check.csv":
		path += "?policy=p&check_id=usb"
	}
	return path, true
}
