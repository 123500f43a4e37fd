package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// TestFleetDemo checks that --demo enrolls demo workstations with results,
// once.
func TestFleetDemo(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	keys, _ := secret.New(secret.Generate())
	cfg := config.Defaults()
	cfg.Demo, cfg.DataDir = true, t.TempDir()
	count := func() int {
		ds, err := st.FleetDevices(ctx, identity.Scope{All: true}, store.FleetDeviceFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(ds)
	}
	for i := 0; i < 2; i++ {
		if _, err := New(ctx, Options{Config: cfg, Store: st, Keys: keys, Logger: slog.New(slog.DiscardHandler)}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			n := count()
			if n == 0 {
				t.Fatal("no demo devices")
			}
			checks, err := st.FleetChecks(ctx, identity.Scope{All: true})
			if err != nil || len(checks) == 0 || checks[0].Failed == 0 {
				t.Fatalf("demo checks = %+v, %v; want some failing", checks, err)
			}
			continue
		}
		if got := count(); got == 0 || got > 30 {
			t.Errorf("devices after a second start = %d", got)
		}
	}
}

// TestFleetPages renders the fleet console pages and exports with the
// seeded devices of clients A and B and checks what each caller sees.
func TestFleetPages(t *testing.T) {
	st := storetest.SQLite(t)
	w := newWorld(t, st)
	var sec, all *actor
	for _, a := range w.actors {
		switch {
		case a.user.Role == identity.RoleSecurity:
			sec = a
		case a.user.AllClients:
			all = a
		}
	}
	get := func(a *actor, path string) string {
		t.Helper()
		w.ensureSignedIn(t, a)
		rt := authz.Route{Method: "GET", Path: path}
		rec := httptest.NewRecorder()
		w.app.Server.ServeHTTP(rec, w.authorize(httptest.NewRequest("GET", path, nil), rt, a))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s as %s = %d", path, a.name, rec.Code)
		}
		return rec.Body.String()
	}
	body := get(all, "/fleet")
	if !strings.Contains(body, "DESK-hw-a") || !strings.Contains(body, "DESK-hw-b") {
		t.Errorf("/fleet for an all-clients admin lacks a device")
	}
	body = get(sec, "/fleet")
	if !strings.Contains(body, "DESK-hw-a") || strings.Contains(body, "DESK-hw-b") {
		t.Errorf("/fleet for client A's security officer must show A's device only")
	}
	dev := strconv.FormatInt(w.ids["fleet.device"][0], 10)
	body = get(sec, "/fleet/devices/"+dev)
	for _, want := range []string{"DESK-hw-a", "Accepted (exception)", "History of changes", "/fleet/devices/" + dev + "/revoke"} {
		if !strings.Contains(body, want) {
			t.Errorf("device page lacks %q", want)
		}
	}
	// The owner: a person of the device's team, set from the device page.
	if !strings.Contains(body, w.personA.FullName) {
		t.Errorf("device page does not offer %s as owner", w.personA.FullName)
	}
	form := url.Values{"person_id": {strconv.FormatInt(w.personA.ID, 10)}, identity.CSRFField: {sec.csrf}}
	req := httptest.NewRequest("POST", "/fleet/devices/"+dev+"/owner", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	w.app.Server.ServeHTTP(rec, w.authorize(req, authz.Route{Method: "POST"}, sec))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("set owner = %d: %s", rec.Code, rec.Body)
	}
	if body = get(all, "/fleet"); !strings.Contains(body, w.personA.FullName) {
		t.Errorf("the devices list does not show the owner")
	}
	body = get(sec, "/fleet/check?policy=p&check_id=usb")
	if !strings.Contains(body, "DESK-hw-a") || strings.Contains(body, "DESK-hw-b") {
		t.Errorf("fleet view of usb: wrong devices")
	}
	csv := get(all, "/fleet/devices.csv")
	if lines := strings.Count(csv, "\n"); lines != 3 || !strings.HasPrefix(csv, "id,hostname,owner") {
		t.Errorf("devices CSV = %q", csv)
	}
	csv = get(sec, "/api/v1/fleet/check.csv?check_id=usb")
	if strings.Count(csv, "\n") != 2 || !strings.Contains(csv, ",true,") {
		t.Errorf("check CSV = %q, want A's accepted failure only", csv)
	}
	body = get(sec, "/fleet/exceptions")
	if !strings.Contains(body, "p / usb") {
		t.Errorf("exceptions page lacks the exception")
	}
	body = get(sec, "/fleet/secrets")
	if !strings.Contains(body, "secret hw-a") || strings.Contains(body, "secret hw-b") {
		t.Errorf("secrets page: wrong secrets")
	}
}
