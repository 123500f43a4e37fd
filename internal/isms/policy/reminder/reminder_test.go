package reminder

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/smtpd"
	"github.com/custodia/custodia/internal/isms/policy"
	"github.com/custodia/custodia/internal/notify"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// mailbox is a real SMTP listener on loopback that keeps what arrives.
type mailbox struct {
	mu  sync.Mutex
	got map[string][]string // recipient → raw messages
}

func startMailbox(t *testing.T, recipients ...string) (*mailbox, string) {
	t.Helper()
	mb := &mailbox{got: map[string][]string{}}
	srv, err := smtpd.New(smtpd.Config{Recipients: recipients, CommandTimeout: 5 * time.Second,
		Handler: func(ctx context.Context, e smtpd.Envelope, raw []byte) error {
			mb.mu.Lock()
			defer mb.mu.Unlock()
			for _, to := range e.To {
				mb.got[to] = append(mb.got[to], string(raw))
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, smtpd.ErrServerClosed) {
			t.Errorf("Serve = %v", err)
		}
	})
	return mb, l.Addr().String()
}

func (mb *mailbox) count(to string) int {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return len(mb.got[to])
}

func (mb *mailbox) last(to string) string {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	l := mb.got[to]
	if len(l) == 0 {
		return ""
	}
	return l[len(l)-1]
}

// TestPolicyLifecycle: approval before publication, targeting by role and
// client, pending acknowledgements (new hires included), reminders through
// a real SMTP server at most once per interval, acknowledgement.
func TestPolicyLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		all := identity.Scope{All: true}
		ca, cb := org.Client{Code: "bank", Name: "Banco"}, org.Client{Code: "telco", Name: "Telco"}
		ok(t, s.CreateClient(ctx, &ca))
		ok(t, s.CreateClient(ctx, &cb))
		site := org.Site{Code: "mad", Name: "Madrid", Timezone: "Europe/Madrid"}
		ok(t, s.CreateSite(ctx, &site))
		team := org.Team{Code: "t1", Name: "T1", SiteID: site.ID, ClientID: ca.ID}
		ok(t, s.CreateTeam(ctx, &team))
		n := 0
		user := func(name string, role identity.Role, client int64) *identity.User {
			n++
			p := org.Person{EmployeeID: "E" + name, FullName: name, Email: name + "@example.com", SiteID: site.ID, ClientIDs: []int64{client}, Active: true}
			if role == identity.RoleAgent {
				p.TeamID = team.ID
			}
			ok(t, s.CreatePerson(ctx, &p))
			u := &identity.User{Username: name, Role: role, PersonID: p.ID, ClientIDs: []int64{client}, Active: true, Locale: "es"}
			if role == identity.RoleAdmin {
				u.ClientIDs, u.AllClients = nil, true
			}
			ok(t, s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u, "", time.Now()) }))
			return u
		}
		owner := user("ciso", identity.RoleAdmin, ca.ID)
		agentA := user("ana", identity.RoleAgent, ca.ID)
		supB := user("bea", identity.RoleSupervisor, cb.ID)
		agentB := user("carl", identity.RoleAgent, cb.ID)

		pol := policy.Policy{Code: "aup", Title: "Acceptable use", OwnerUserID: owner.ID}
		ok(t, s.ISMSPolicyCreate(ctx, all, &pol))
		v := policy.Version{Body: "# Use\n\nBe careful.", Target: policy.Target{Roles: []identity.Role{identity.RoleAgent}, ClientIDs: []int64{ca.ID}}}
		if err := s.ISMSPolicyAddVersion(ctx, all, pol.ID, &v, nil, "ciso"); err == nil {
			t.Error("a version without approvers was accepted")
		}
		ok(t, s.ISMSPolicyAddVersion(ctx, all, pol.ID, &v, []int64{owner.ID}, "ciso"))
		if err := s.ISMSPolicyPublish(ctx, all, v.ID, time.Now()); err == nil || !strings.Contains(err.Error(), "ciso") {
			t.Errorf("publishing unapproved = %v, want refused naming the approver", err)
		}
		if err := s.ISMSPolicyApprove(ctx, agentA.Principal(), v.ID, ""); err == nil {
			t.Error("a non-approver approved")
		}
		ok(t, s.ISMSPolicyApprove(ctx, owner.Principal(), v.ID, "ok"))
		published := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		ok(t, s.ISMSPolicyPublish(ctx, all, v.ID, published))

		pending := func(u *identity.User) int {
			m, err := s.ISMSPolicyMember(ctx, u.ID)
			ok(t, err)
			list, err := s.ISMSPolicyPending(ctx, *m)
			ok(t, err)
			return len(list)
		}
		if pending(agentA) != 1 || pending(supB) != 0 || pending(agentB) != 0 {
			t.Errorf("pending = A %d, supB %d, agentB %d; want 1, 0, 0", pending(agentA), pending(supB), pending(agentB))
		}
		// A new hire is asked too.
		hire := user("dani", identity.RoleAgent, ca.ID)
		if pending(hire) != 1 {
			t.Error("the new hire has nothing to acknowledge")
		}
		// Client B's officer sees none of A's people in the status.
		_, _, st, err := s.ISMSPolicyStatus(ctx, identity.Scope{ClientIDs: []int64{cb.ID}}, v.ID)
		if err != nil || len(st) != 0 {
			t.Errorf("status through B's scope = %d rows, %v", len(st), err)
		}
		_, _, st, err = s.ISMSPolicyStatus(ctx, all, v.ID)
		ok(t, err)
		if len(st) != 2 {
			t.Fatalf("status lists %d people, want ana and dani", len(st))
		}

		mb, addr := startMailbox(t, "ana@example.com", "dani@example.com")
		now := published.Add(time.Hour)
		svc := &Service{Store: s, Mailer: &notify.SMTPMailer{Addr: addr, From: "custodia@example.com"}, Catalog: i18n.MustLoad(),
			BaseURL: "https://custodia.example", Now: func() time.Time { return now }}
		sent, err := svc.RemindOnce(ctx)
		ok(t, err)
		if sent != 2 || mb.count("ana@example.com") != 1 || mb.count("dani@example.com") != 1 {
			t.Fatalf("first run sent %d (ana %d, dani %d), want one each", sent, mb.count("ana@example.com"), mb.count("dani@example.com"))
		}
		if m := mb.last("ana@example.com"); !strings.Contains(m, "Acceptable use") || !strings.Contains(m, "https://custodia.example/policies/mine/") {
			t.Errorf("reminder lacks the title or the link:\n%s", m)
		}
		now = now.Add(3 * 24 * time.Hour)
		if sent, _ := svc.RemindOnce(ctx); sent != 0 {
			t.Errorf("a second run within 7 days sent %d", sent)
		}
		ok(t, s.ISMSPolicyAcknowledge(ctx, agentA.Principal(), v.ID, now))
		if pending(agentA) != 0 {
			t.Error("acknowledged version still pending")
		}
		now = now.Add(5 * 24 * time.Hour)
		sent, err = svc.RemindOnce(ctx)
		ok(t, err)
		if sent != 1 || mb.count("dani@example.com") != 2 || mb.count("ana@example.com") != 1 {
			t.Errorf("after 8 days sent %d (ana %d, dani %d), want only dani again", sent, mb.count("ana@example.com"), mb.count("dani@example.com"))
		}
		// Acknowledging a version that does not target you is not found.
		if err := s.ISMSPolicyAcknowledge(ctx, supB.Principal(), v.ID, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("untargeted acknowledgement = %v", err)
		}
		_, _, st, _ = s.ISMSPolicyStatus(ctx, all, v.ID)
		for _, a := range st {
			if a.Username == "ana" && a.AcknowledgedAt.IsZero() || a.Username == "dani" && a.Reminders != 2 {
				t.Errorf("status %+v", a)
			}
		}
		// A nil mailer sends nothing and fails nothing.
		if n, err := (&Service{Store: s}).RemindOnce(ctx); n != 0 || err != nil {
			t.Errorf("nil mailer = %d, %v", n, err)
		}
	})
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
