package authz

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/identity"
)

func ok(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }

func newTestRouter(opts Options) *Router {
	rt := NewRouter(opts)
	rt.HandleFunc("GET /healthz", Public(), ok)
	rt.HandleFunc("GET /profile", Authenticated().WithMFAOptional(), ok)
	rt.HandleFunc("GET /people", Roles(identity.RoleAdmin, identity.RoleAuditor), ok)
	rt.HandleFunc("POST /people", Roles(identity.RoleAdmin, identity.RoleAuditor), ok)
	rt.HandleFunc("POST /audit/export", Roles(identity.RoleAuditor).WithReadOnly(), ok)
	rt.HandleFunc("GET /api/v1/people", Roles(identity.RoleAdmin), ok)
	rt.HandleFunc("GET /api/v1/clients/{clientID}/sites", Roles(identity.RoleAdmin).WithClientScoped(), ok)
	rt.HandleFunc("GET /auditor", Roles(identity.RoleAuditor).WithExternal(), ok)
	rt.HandleFunc("GET /api/v1/auditor/audits", Roles(identity.RoleAuditor).WithExternal(), ok)
	rt.HandleFunc("POST /reports", Authenticated(), ok)
	return rt
}

func TestRouterPolicies(t *testing.T) {
	rt := newTestRouter(Options{NeedsMFAEnrolment: func(p *identity.Principal) bool { return p.Username == "noMFA" }, ExternalHome: "/auditor"})
	admin := &identity.Principal{UserID: 1, Username: "a", Role: identity.RoleAdmin, ClientIDs: []int64{1}}
	auditor := &identity.Principal{UserID: 2, Username: "b", Role: identity.RoleAuditor, AllClients: true}
	agent := &identity.Principal{UserID: 3, Username: "c", Role: identity.RoleAgent}
	noMFA := &identity.Principal{UserID: 4, Username: "noMFA", Role: identity.RoleAdmin, AllClients: true}
	oneTime := &identity.Principal{UserID: 5, Username: "d", Role: identity.RoleAdmin, AllClients: true, MustChangePassword: true}
	oneTimeToken := &identity.Principal{UserID: 5, Username: "d", Role: identity.RoleAdmin, AllClients: true, MustChangePassword: true, TokenID: 9}
	external := &identity.Principal{UserID: 6, Username: "ext", Role: identity.RoleAuditor, ClientIDs: []int64{1}, External: true}
	tests := []struct {
		method, path string
		p            *identity.Principal
		want         int
		location     string
	}{
		{"GET", "/healthz", nil, 204, ""},
		{"GET", "/profile", nil, 303, "/login?next=%2Fprofile"},
		{"GET", "/profile", agent, 204, ""},
		{"GET", "/people", agent, 403, ""},
		{"GET", "/people", auditor, 204, ""},
		{"POST", "/people", auditor, 403, ""},
		{"POST", "/people", admin, 204, ""},
		{"POST", "/audit/export", auditor, 204, ""},
		{"GET", "/api/v1/people", nil, 401, ""},
		{"GET", "/api/v1/people", agent, 403, ""},
		{"GET", "/api/v1/people", admin, 204, ""},
		{"GET", "/api/v1/clients/1/sites", admin, 204, ""},
		{"GET", "/api/v1/clients/2/sites", admin, 404, ""},
		{"GET", "/api/v1/clients/x/sites", admin, 404, ""},
		{"GET", "/api/v1/nothing", admin, 404, ""},
		{"DELETE", "/api/v1/people", admin, 405, ""},
		{"GET", "/nothing", admin, 404, ""},
		{"GET", "/people", noMFA, 303, "/profile/mfa"},
		{"GET", "/profile", noMFA, 204, ""},
		{"GET", "/api/v1/people", noMFA, 403, ""},
		{"GET", "/people", oneTime, 303, "/profile"},
		{"POST", "/people", oneTime, 303, "/profile"},
		{"GET", "/profile", oneTime, 204, ""},
		{"GET", "/api/v1/people", oneTime, 403, ""},
		{"GET", "/api/v1/people", oneTimeToken, 204, ""},
		// An external account reaches the routes marked for it, public
		// routes and its own account's pages; elsewhere console GETs go to
		// its home and everything else is 403, whatever its role admits.
		{"GET", "/auditor", external, 204, ""},
		{"GET", "/api/v1/auditor/audits", external, 204, ""},
		{"GET", "/healthz", external, 204, ""},
		{"GET", "/profile", external, 204, ""},
		{"GET", "/people", external, 303, "/auditor"},
		{"GET", "/people", auditor, 204, ""},
		{"POST", "/audit/export", external, 403, ""},
		{"POST", "/reports", external, 403, ""},
		{"GET", "/api/v1/people", external, 403, ""},
		{"GET", "/auditor", auditor, 204, ""},
		{"GET", "/auditor", admin, 403, ""},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.path, nil)
		if tt.p != nil {
			req = req.WithContext(identity.WithPrincipal(req.Context(), tt.p))
		}
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, req)
		who := "anonymous"
		if tt.p != nil {
			who = tt.p.Username
		}
		if w.Code != tt.want {
			t.Errorf("%s %s as %s = %d, want %d", tt.method, tt.path, who, w.Code, tt.want)
			continue
		}
		if tt.location != "" && w.Header().Get("Location") != tt.location {
			t.Errorf("%s %s as %s: Location = %q, want %q", tt.method, tt.path, who, w.Header().Get("Location"), tt.location)
		}
		if strings.HasPrefix(tt.path, "/api/") && w.Code >= 400 {
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s %s: Content-Type = %q, want application/problem+json", tt.method, tt.path, ct)
			}
			var doc struct{ Status int }
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || doc.Status != tt.want {
				t.Errorf("%s %s: problem body %q (err %v), want status %d", tt.method, tt.path, w.Body.String(), err, tt.want)
			}
		}
	}
}

func TestRoutesListsEverything(t *testing.T) {
	rt := newTestRouter(Options{})
	routes := rt.Routes()
	if len(routes) != 10 {
		t.Fatalf("Routes() has %d routes, want 10", len(routes))
	}
	if r := routes[6]; r.Method != "GET" || r.Path != "/api/v1/clients/{clientID}/sites" || !r.Policy.ClientScoped || !r.API() {
		t.Errorf("Routes()[6] = %+v", r)
	}
	if r := routes[7]; r.Path != "/auditor" || !r.Policy.External || !r.Policy.AdmitsExternal() || r.Policy.String() != "roles(auditor)+external" {
		t.Errorf("Routes()[7] = %+v (%s)", r, r.Policy)
	}
}

func TestHandleRejectsBadRegistrations(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		pol     Policy
	}{
		{"/no-method", Public()},
		{"GET /x", Policy{}},
		{"GET /x", Roles()},
		{"GET /x", Roles("root")},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle(%q, %v) did not panic", tc.pattern, tc.pol)
				}
			}()
			NewRouter(Options{}).HandleFunc(tc.pattern, tc.pol, ok)
		}()
	}
}

func TestMatchRecorded(t *testing.T) {
	rt := newTestRouter(Options{})
	req := httptest.NewRequest("GET", "/healthz", nil)
	ctx, m := WithMatch(req.Context())
	rt.ServeHTTP(httptest.NewRecorder(), req.WithContext(ctx))
	if !m.Matched() || m.Route.Pattern != "GET /healthz" {
		t.Errorf("Match = %+v, want GET /healthz", m)
	}
}
