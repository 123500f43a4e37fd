package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	auditsvc "github.com/custodia/custodia/internal/isms/auditprog/service"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// TestExternalAuditorConfined invites an external auditor to client A's
// audit the way the console does and walks every registered route with
// that account: it reaches the auditor portal (its audit, that audit's
// evidence files), public routes and its own account's pages, and nothing
// else — even routes its role (auditor) would admit for an employee. Once
// the invitation's expiry has passed its session ends and it cannot sign in,
// whether or not the scheduler has deactivated it.
func TestExternalAuditorConfined(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		if w.app.ISMSAudits == nil {
			t.Fatal("audit programme not wired")
		}
		var inviter *identity.User
		for _, a := range w.actors {
			if a.name == "admin (all clients)" {
				inviter = a.user
			}
		}
		auditA, auditB := w.ids["ismsr.audit"][0], w.ids["ismsr.audit"][1]
		evidenceA, evidenceB := w.ids["isms.evidence"][0], w.ids["isms.evidence"][1]
		expires := w.clock.Now().Add(7 * 24 * time.Hour)
		u, oneTime, _, err := w.app.ISMSAudits.CreateAuditor(ctx, inviter.Principal(), auditA,
			auditsvc.NewAuditor{Username: "ext-auditor", Email: "ext@audit.example", ExpiresAt: expires})
		must(t, err)
		if !u.External || !u.ExpiresAt.Equal(expires.UTC()) || u.Role != identity.RoleAuditor {
			t.Fatalf("invited account = external %v, expires %v, role %s", u.External, u.ExpiresAt, u.Role)
		}
		must(t, w.app.Identity.ChangePassword(ctx, u.Principal(), oneTime, testPassword))
		stored, err := st.User(ctx, u.ID)
		must(t, err)
		if !stored.External || !stored.ExpiresAt.Equal(expires.UTC()) {
			t.Fatalf("stored account = external %v, expires %v", stored.External, stored.ExpiresAt)
		}
		ext := &actor{name: "external auditor", user: stored, password: testPassword}
		w.enrolTOTP(t, ext)
		w.signIn(t, ext)

		h := w.app.Server
		get := func(target string) *httptest.ResponseRecorder {
			w.ensureSignedIn(t, ext)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, w.request(authz.Route{Method: http.MethodGet, Path: target}, target, ext))
			return rec
		}
		// What it was invited to.
		for _, c := range []struct {
			path string
			want int
		}{
			{"/auditor", 200},
			{fmt.Sprintf("/auditor/audits/%d", auditA), 200},
			{fmt.Sprintf("/api/v1/auditor/audits/%d", auditA), 200},
			{fmt.Sprintf("/auditor/audits/%d/evidence/%d/file", auditA, evidenceA), 200},
			{fmt.Sprintf("/api/v1/auditor/audits/%d/evidence/%d/file", auditA, evidenceA), 200},
			// Another client's audit and evidence, and evidence outside its audit.
			{fmt.Sprintf("/auditor/audits/%d", auditB), 404},
			{fmt.Sprintf("/api/v1/auditor/audits/%d", auditB), 404},
			{fmt.Sprintf("/auditor/audits/%d/evidence/%d/file", auditA, evidenceB), 404},
			{fmt.Sprintf("/auditor/audits/%d/evidence/%d/file", auditB, evidenceB), 404},
			// What an employee auditor reads, it does not.
			{"/isms", 303},
			{"/", 303},
			{fmt.Sprintf("/isms/evidence/%d/file", evidenceA), 303},
			{"/api/v1/isms/controls", 403},
			{fmt.Sprintf("/api/v1/isms/evidence/%d/file", evidenceA), 403},
		} {
			rec := get(c.path)
			if rec.Code != c.want {
				t.Errorf("GET %s as external auditor = %d, want %d: %.200s", c.path, rec.Code, c.want, rec.Body)
			}
			if c.want == 303 && rec.Header().Get("Location") != "/auditor" {
				t.Errorf("GET %s as external auditor: Location %q, want /auditor", c.path, rec.Header().Get("Location"))
			}
			if c.want == 200 && strings.Contains(c.path, "/file") && rec.Body.String() != "scan result" {
				t.Errorf("GET %s: body %q, want the evidence file", c.path, rec.Body)
			}
		}
		// Every registered route.
		checks := 0
		for _, rt := range h.Router().Routes() {
			target := w.target(rt, true)
			w.ensureSignedIn(t, ext)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, w.request(rt, target, ext))
			checks++
			label := fmt.Sprintf("%s %s as external auditor", rt.Method, target)
			loc := rec.Header().Get("Location")
			if rec.Code >= 500 {
				t.Errorf("%s = %d: %.200s", label, rec.Code, rec.Body)
				continue
			}
			if rt.Policy.AdmitsExternal() {
				if rt.Policy.Access != authz.AccessPublic && rt.Policy.Allows(ext.user.Principal(), rt.Method) && denied(rec.Code, loc) {
					t.Errorf("%s = %d %q, want admitted", label, rec.Code, loc)
				}
				continue
			}
			switch {
			case !rt.API() && rt.Method == http.MethodGet:
				if rec.Code != http.StatusSeeOther || loc != "/auditor" {
					t.Errorf("%s = %d %q, want a redirect to /auditor", label, rec.Code, loc)
				}
			case rec.Code != http.StatusForbidden:
				t.Errorf("%s = %d %q, want 403", label, rec.Code, loc)
			}
		}
		if checks < 100 {
			t.Errorf("only %d routes walked", checks)
		}

		// The downloads are in the audit trail, naming the external auditor.
		var n int
		must(t, st.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'isms.evidence.download' AND actor = ?", "ext-auditor").Scan(&n))
		if n < 2 {
			t.Errorf("%d audited downloads by the external auditor, want at least 2", n)
		}

		// Expiry: the session ends and sign-in is refused, with no
		// scheduler run in between.
		w.clock.Advance(8 * 24 * time.Hour)
		if _, err := w.app.Identity.SessionPrincipal(ctx, ext.cookie); err == nil {
			t.Error("the external auditor's session outlived the invitation")
		}
		if _, err := w.app.Identity.PasswordLogin(ctx, ext.user.Username, ext.password, "192.0.2.10", "test"); !errors.Is(err, auth.ErrInactive) {
			t.Errorf("sign-in after expiry: err = %v, want ErrInactive", err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, w.request(authz.Route{Method: http.MethodGet, Path: "/auditor"}, "/auditor", ext))
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/login") {
			t.Errorf("GET /auditor after expiry = %d %q, want a redirect to /login", rec.Code, rec.Header().Get("Location"))
		}
	})
}
