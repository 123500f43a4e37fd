package service

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/isms/auditprog"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestChecklistFromScope: one line per requirement in scope, groups
// expanded, unknown references refused with the list.
func TestChecklistFromScope(t *testing.T) {
	lib, err := catalog.Builtin()
	ok(t, err)
	items, err := auditprog.Checklist(lib, catalog.ISO27001, []string{"A.6"}, []string{"6.1.2", "A.8.13"}, "en")
	ok(t, err)
	if len(items) != 8+2 {
		t.Fatalf("checklist has %d lines, want the 8 people controls plus 2", len(items))
	}
	seen := map[string]bool{}
	for i, it := range items {
		if it.Position != i+1 || it.Title == "" || seen[it.Requirement] {
			t.Errorf("line %d = %+v", i, it)
		}
		seen[it.Requirement] = true
	}
	if !seen["A.6.1"] || !seen["A.6.8"] || !seen["6.1.2"] || !seen["A.8.13"] {
		t.Errorf("lines = %v", seen)
	}
	es, err := auditprog.Checklist(lib, catalog.ENS, []string{"op.acc"}, nil, "es")
	ok(t, err)
	if len(es) != 6 || !strings.Contains(strings.ToLower(es[0].Title), "identificación") {
		t.Errorf("ENS op.acc = %d lines, first %q", len(es), es[0].Title)
	}
	whole, err := auditprog.Checklist(lib, catalog.PCIDSS, nil, nil, "en")
	ok(t, err)
	if len(whole) < 63 {
		t.Errorf("whole PCI DSS = %d lines", len(whole))
	}
	_, err = auditprog.Checklist(lib, catalog.ISO27001, []string{"A.99"}, []string{"A.5.1", "Z.1"}, "en")
	var fe identity.FieldErrors
	if !errors.As(err, &fe) || !strings.Contains(fe["scope"], "A.99, Z.1") {
		t.Errorf("unknown scope = %v", err)
	}
}

type fixture struct {
	st     *store.Store
	svc    *Service
	now    time.Time
	a, b   org.Client
	admin  *identity.User
	lib    *catalog.Library
	audits [2]auditprog.Audit
}

func newFixture(t *testing.T, st *store.Store) *fixture {
	ctx := context.Background()
	f := &fixture{st: st, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	var err error
	f.lib, err = catalog.Builtin()
	ok(t, err)
	f.a, f.b = org.Client{Code: "bank", Name: "Banco"}, org.Client{Code: "telco", Name: "Telco"}
	ok(t, st.CreateClient(ctx, &f.a))
	ok(t, st.CreateClient(ctx, &f.b))
	keys, err := secret.New(secret.Generate())
	ok(t, err)
	id := auth.NewService(st, keys, auth.Config{Password: identity.PasswordParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}}, func() time.Time { return f.now })
	f.svc = &Service{Store: st, Library: f.lib, Identity: id, Now: func() time.Time { return f.now }}
	f.admin, _, err = id.CreateUser(ctx, nil, auth.NewUser{User: identity.User{Username: "ciso", Role: identity.RoleSecurity, AllClients: true}, Password: "correct horse battery staple 42"})
	ok(t, err)
	for i, c := range []int64{f.a.ID, f.b.ID} {
		items, err := auditprog.Checklist(f.lib, catalog.ISO27001, []string{"A.5"}, nil, "en")
		ok(t, err)
		f.audits[i] = auditprog.Audit{Title: "ISO surveillance", Kind: "iso_surveillance", Framework: catalog.ISO27001, ClientID: c}
		ok(t, st.ISMSAuditCreate(ctx, identity.Scope{All: true}, f.lib, &f.audits[i], items))
	}
	return f
}

// TestFindingsAndCAPAEscalation: findings against requirements in scope,
// CAPA lifecycle with verification, overdue actions raise one alert each.
func TestFindingsAndCAPAEscalation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		scopeA := identity.Scope{ClientIDs: []int64{f.a.ID}}
		au := f.audits[0]
		if au.Checklist != 37 {
			t.Errorf("checklist of A.5 = %d lines, want 37", au.Checklist)
		}
		bad := auditprog.Finding{AuditID: au.ID, Kind: "nc_major", Title: "x", Requirement: "A.8.1"}
		if err := st.ISMSFindingCreate(ctx, scopeA, &bad); err == nil || !strings.Contains(err.Error(), "not in this audit's scope") {
			t.Errorf("finding outside the scope = %v", err)
		}
		if err := st.ISMSFindingCreate(ctx, scopeA, &auditprog.Finding{AuditID: f.audits[1].ID, Kind: "nc_minor", Title: "x"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("finding on B's audit through A's scope = %v", err)
		}
		fd := auditprog.Finding{AuditID: au.ID, Kind: "nc_major", Title: "No access review", Requirement: "A.5.18"}
		ok(t, st.ISMSFindingCreate(ctx, scopeA, &fd))
		fd.Status = "closed"
		if err := st.ISMSFindingUpdate(ctx, scopeA, &fd); err == nil {
			t.Error("a non-conformity closed without corrective action")
		}
		c := auditprog.CAPA{FindingID: fd.ID, Title: "Quarterly access review", DueDate: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
			RootCause: "No owner", OwnerUserID: f.admin.ID}
		ok(t, st.ISMSCAPACreate(ctx, scopeA, &c))
		future := auditprog.CAPA{FindingID: fd.ID, Title: "Tooling", DueDate: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
		ok(t, st.ISMSCAPACreate(ctx, scopeA, &future))

		n, err := f.svc.Escalate(ctx)
		ok(t, err)
		if n != 1 {
			t.Fatalf("escalated %d, want the one overdue action", n)
		}
		alerts, err := st.Alerts(ctx, identity.Scope{All: true}, alert.Filter{Source: "isms", Kind: "capa_overdue"})
		ok(t, err)
		if len(alerts) != 1 || alerts[0].Severity != alert.SeverityHigh || alerts[0].ClientID != f.a.ID || !strings.Contains(alerts[0].Title, "Quarterly access review") {
			t.Fatalf("alerts = %+v", alerts)
		}
		if n, _ := f.svc.Escalate(ctx); n != 0 {
			t.Errorf("second run escalated %d again", n)
		}
		// Client B's officer does not see A's alert.
		if l, _ := st.Alerts(ctx, identity.Scope{ClientIDs: []int64{f.b.ID}}, alert.Filter{Source: "isms"}); len(l) != 0 {
			t.Errorf("B sees %d of A's alerts", len(l))
		}
		// Lifecycle: closing before verifying is refused; verifying needs the how.
		got, _, err := st.ISMSCAPA(ctx, scopeA, c.ID)
		ok(t, err)
		got.Status = "closed"
		if err := st.ISMSCAPAUpdate(ctx, scopeA, "ciso", got); err == nil {
			t.Error("closed without verification")
		}
		got.Status = "verified"
		if err := st.ISMSCAPAUpdate(ctx, scopeA, "ciso", got); err == nil {
			t.Error("verified without saying how")
		}
		got.Verification = "Sampled 20 accounts in the March review"
		ok(t, st.ISMSCAPAUpdate(ctx, scopeA, "ciso", got))
		got, _, _ = st.ISMSCAPA(ctx, scopeA, c.ID)
		if got.VerifiedBy != "ciso" || got.VerifiedAt.IsZero() {
			t.Errorf("verification not recorded: %+v", got)
		}
		got.Status = "closed"
		ok(t, st.ISMSCAPAUpdate(ctx, scopeA, "ciso", got))
		fd.Status = "closed"
		if err := st.ISMSFindingUpdate(ctx, scopeA, &fd); err == nil || !strings.Contains(err.Error(), "Tooling") {
			t.Errorf("closing with an open action = %v, want it named", err)
		}
		// The report renders (es and en) with the finding.
		items, _ := st.ISMSAuditChecklist(ctx, scopeA, au.ID)
		findings, _ := st.ISMSFindings(ctx, scopeA, store.ISMSFindingFilter{AuditID: au.ID})
		pdf, err := auditprog.ReportPDF(auditprog.ReportInput{T: func(k string, a ...any) string { return k }, Audit: au, Checklist: items, Findings: findings, Now: f.now})
		ok(t, err)
		if !strings.HasPrefix(string(pdf), "%PDF-") || len(pdf) < 2000 {
			t.Errorf("report is %d bytes", len(pdf))
		}
	})
}

// TestAuditorPortal: an external auditor sees the one audit granted, until
// the grant expires; other audits are invisible; at expiry the account is
// deactivated.
func TestAuditorPortal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		officer := f.admin.Principal()
		if _, _, _, err := f.svc.CreateAuditor(ctx, officer, f.audits[0].ID, NewAuditor{Username: "ext-auditor", ExpiresAt: f.now.Add(-time.Hour)}); err == nil {
			t.Error("an expiry in the past was accepted")
		}
		u, pw, g, err := f.svc.CreateAuditor(ctx, officer, f.audits[0].ID, NewAuditor{Username: "ext-auditor", Email: "aud@example.com", ExpiresAt: f.now.Add(72 * time.Hour)})
		ok(t, err)
		if u.Role != identity.RoleAuditor || u.AllClients || len(u.ClientIDs) != 1 || u.ClientIDs[0] != f.a.ID || pw == "" || g.AuditID != f.audits[0].ID {
			t.Fatalf("auditor = %+v, password %q, grant %+v", u, pw, g)
		}
		p := u.Principal()
		v, err := f.svc.AuditorView(ctx, p, f.audits[0].ID, "en")
		ok(t, err)
		if v.Audit.ID != f.audits[0].ID || len(v.Checklist) != 37 || len(v.SoA) != 37 || !v.ExpiresAt.Equal(g.ExpiresAt) {
			t.Errorf("view = audit %d, %d lines, %d SoA, expires %v", v.Audit.ID, len(v.Checklist), len(v.SoA), v.ExpiresAt)
		}
		if _, err := f.svc.AuditorView(ctx, p, f.audits[1].ID, "en"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another audit = %v, want not found", err)
		}
		var views int
		ok(t, st.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'isms.audit.portal_view'").Scan(&views))
		if views != 1 {
			t.Errorf("%d portal views in the trail, want 1", views)
		}
		if n, _ := f.svc.ExpireAuditors(ctx); n != 0 {
			t.Errorf("expired %d auditors before the end", n)
		}
		f.now = f.now.Add(73 * time.Hour)
		if _, err := f.svc.AuditorView(ctx, p, f.audits[0].ID, "en"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after expiry = %v, want not found", err)
		}
		n, err := f.svc.ExpireAuditors(ctx)
		ok(t, err)
		got, err := st.User(ctx, u.ID)
		ok(t, err)
		if n != 1 || got.Active {
			t.Errorf("expired %d; account active %v", n, got.Active)
		}
		// A revoked grant ends access at once.
		u2, _, g2, err := f.svc.CreateAuditor(ctx, officer, f.audits[1].ID, NewAuditor{Username: "ext-2", ExpiresAt: f.now.Add(24 * time.Hour)})
		ok(t, err)
		ok(t, st.ISMSAuditGrantRevoke(ctx, identity.Scope{All: true}, f.audits[1].ID, g2.ID))
		if _, err := f.svc.AuditorView(ctx, u2.Principal(), f.audits[1].ID, "en"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoked grant = %v", err)
		}
		// An officer of client A cannot invite to B's audit.
		if _, _, _, err := f.svc.CreateAuditor(ctx, &identity.Principal{UserID: f.admin.ID, Username: "x", Role: identity.RoleSecurity, ClientIDs: []int64{f.a.ID}},
			f.audits[1].ID, NewAuditor{Username: "ext-3", ExpiresAt: f.now.Add(time.Hour)}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("inviting to another client's audit = %v", err)
		}
	})
}
