package web

import (
	"net/http"
	"slices"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
)

type homeData struct {
	ActivePeople int
	Clients      int
	Teams        int
	Recent       []audit.Entry
	ShowAudit    bool
	// PendingPolicies counts the published policies the user has yet to
	// read and acknowledge (new hires see theirs at the first sign-in).
	PendingPolicies int
}

// pendingPolicies counts the policies waiting for p's acknowledgement (0
// when the policy module is absent or p is not a person).
func (s *Server) pendingPolicies(r *http.Request) (int, error) {
	if s.ismsRisk.Store == nil {
		return 0, nil
	}
	m, err := s.ismsRisk.Store.ISMSPolicyMember(r.Context(), principal(r).UserID)
	if err != nil || m == nil {
		return 0, err
	}
	list, err := s.ismsRisk.Store.ISMSPolicyPending(r.Context(), *m)
	return len(list), err
}

// home is the dashboard; an agent lands on the policies waiting for their
// acknowledgement, or on their own profile when there are none.
func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	pending, err := s.pendingPolicies(r)
	if err != nil {
		return err
	}
	if p.Role == identity.RoleAgent {
		if pending > 0 {
			return redirect(w, r, "/policies/mine")
		}
		return redirect(w, r, "/profile")
	}
	ctx := r.Context()
	sc := p.Scope()
	d := homeData{PendingPolicies: pending}
	active := true
	if _, d.ActivePeople, err = s.store.People(ctx, org.PersonFilter{Scope: sc, Active: &active, Page: org.Page{Limit: 1}}); err != nil {
		return err
	}
	clients, err := s.store.Clients(ctx, org.ClientFilter{Scope: sc, Page: org.Page{Limit: org.MaxLimit}})
	if err != nil {
		return err
	}
	d.Clients = len(clients)
	teams, err := s.store.Teams(ctx, org.TeamFilter{Scope: sc, Page: org.Page{Limit: org.MaxLimit}})
	if err != nil {
		return err
	}
	d.Teams = len(teams)
	if slices.Contains(governance, p.Role) {
		d.ShowAudit = true
		if d.Recent, err = s.store.AuditEntries(ctx, auditScope(p, audit.Filter{Limit: 10})); err != nil {
			return err
		}
	}
	return s.render(w, http.StatusOK, "home", s.newView(r, "home.title", d))
}

// auditScope restricts an audit filter to what p may see.
func auditScope(p *identity.Principal, f audit.Filter) audit.Filter {
	f.AllClients = p.AllClients
	f.ClientIDs = p.ClientIDs
	if f.ClientIDs == nil {
		f.ClientIDs = []int64{}
	}
	return f
}
