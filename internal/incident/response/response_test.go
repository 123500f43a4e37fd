package response

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/notify"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// recorder is a notify.Publisher that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	events []notify.Event
}

func (r *recorder) Publish(_ context.Context, e notify.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Kind)
	}
	return out
}

type fixture struct {
	st      *store.Store
	svc     *Service
	pub     *recorder
	now     time.Time
	a, b    org.Client
	officer *identity.Principal
}

func (f *fixture) clock() time.Time { return f.now }

func newFixture(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: st, pub: &recorder{}, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	f.svc = &Service{Store: st, Publisher: f.pub, Now: f.clock, ClientDeadline: 24 * time.Hour, NIS2: true}
	f.a = org.Client{Code: "bank", Name: "Banco"}
	f.b = org.Client{Code: "telco", Name: "Telco"}
	for _, c := range []*org.Client{&f.a, &f.b} {
		if err := st.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	f.officer = &identity.Principal{Username: "dpo", Role: identity.RoleDPO, AllClients: true}
	return f
}

// incident inserts an incident of the given clients (the incidents module's
// table) and returns its id.
func newIncident(t *testing.T, st *store.Store, ref string, created time.Time, clients ...int64) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = tx.InsertID(ctx, `INSERT INTO incidents (ref, title, category, severity, status, created_at, updated_at)
			VALUES (?, 'Customer list e-mailed to the wrong address', 'misdirected-data', 'high', 'triaged', ?, ?) RETURNING id`,
			ref, store.TimeArg(created), store.TimeArg(created))
		if err != nil {
			return err
		}
		for _, c := range clients {
			if _, err := tx.Exec(ctx, "INSERT INTO incident_clients (incident_id, client_id) VALUES (?, ?)", id, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestBreachOnTwoClientIncidentStartsClocks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		// Client A's contract says 24 h; client B has no settings (the 48 h
		// default of this deployment applies).
		f.svc.ClientDeadline = 48 * time.Hour
		if _, err := f.svc.SaveClientSettings(ctx, f.officer, f.a.ID, ClientSettingsInput{NotifyHours: 24, ContactEmail: "dpo@banco.example"}); err != nil {
			t.Fatal(err)
		}
		id := newIncident(t, st, "INC-2026-000001", f.now, f.a.ID, f.b.ID)
		aware := f.now.Add(-3 * time.Hour)
		_, err := f.svc.FlagBreach(ctx, f.officer, id, BreachInput{Nature: "Agent sent a customer list to a wrong address", SubjectsCount: 120, RecordsCount: 120,
			DataCategories: "names, phone numbers", AwareAt: aware, AwareReason: "team lead reported it at 06:00"})
		if err != nil {
			t.Fatal(err)
		}
		v, err := f.svc.View(ctx, f.officer.Scope(), id)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]time.Time{}
		for _, c := range v.Clocks {
			got[c.Key] = c.Deadline
			if c.State != "running" {
				t.Errorf("clock %s state = %s, want running", c.Key, c.State)
			}
		}
		want := map[string]time.Time{
			"gdpr_art33_authority":                    aware.Add(72 * time.Hour),
			"gdpr_art34_decision":                     aware.Add(72 * time.Hour),
			"gdpr_art33_2_controller:" + itoa(f.a.ID): aware.Add(24 * time.Hour),
			"gdpr_art33_2_controller:" + itoa(f.b.ID): aware.Add(48 * time.Hour),
		}
		if len(got) != len(want) {
			t.Fatalf("clocks = %v, want %v", got, want)
		}
		for k, d := range want {
			if !got[k].Equal(d) {
				t.Errorf("clock %s deadline = %v, want %v", k, got[k], d)
			}
		}
		aepd := 0
		for _, c := range v.Clocks {
			if c.Kind == "gdpr_art33_authority" {
				aepd++
				if c.Recipient != "AEPD" {
					t.Errorf("authority clock recipient = %q", c.Recipient)
				}
			}
		}
		if aepd != 1 {
			t.Errorf("%d AEPD clocks, want 1", aepd)
		}
		if v.Breach == nil || v.Breach.ClientsTotal != 2 || v.Breach.ClientsNotified != 0 {
			t.Errorf("breach = %+v", v.Breach)
		}
		if len(v.AwareChanges) != 1 || v.AwareChanges[0].Actor != "dpo" || !v.AwareChanges[0].NewAt.Equal(aware) {
			t.Errorf("aware changes = %+v", v.AwareChanges)
		}

		// A client-A user sees the AEPD clock and client A's, never B's.
		scopeA := identity.Scope{ClientIDs: []int64{f.a.ID}}
		va, err := f.svc.View(ctx, scopeA, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range va.Clocks {
			if c.ClientID == f.b.ID {
				t.Errorf("client-A scope sees client B's clock %s", c.Key)
			}
			if _, err := st.ResponseClock(ctx, scopeA, id, c.ID); err != nil {
				t.Errorf("client-A scope cannot get its clock %s: %v", c.Key, err)
			}
		}
		if len(va.Clocks) != 3 {
			t.Errorf("client-A scope sees %d clocks, want 3", len(va.Clocks))
		}
		for _, c := range v.Clocks {
			if c.ClientID == f.b.ID {
				if _, err := st.ResponseClock(ctx, scopeA, id, c.ID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("client-A scope gets client B's clock: %v", err)
				}
			}
		}
		// An incident of client B only is invisible to client A.
		idB := newIncident(t, st, "INC-2026-000002", f.now, f.b.ID)
		if _, err := f.svc.View(ctx, scopeA, idB); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("View of client B's incident in scope A = %v, want not found", err)
		}

		// Changing client A's contract to 12 h moves its clock.
		if _, err := f.svc.SaveClientSettings(ctx, f.officer, f.a.ID, ClientSettingsInput{NotifyHours: 12}); err != nil {
			t.Fatal(err)
		}
		v, _ = f.svc.View(ctx, f.officer.Scope(), id)
		for _, c := range v.Clocks {
			if c.ClientID == f.a.ID && !c.Deadline.Equal(aware.Add(12*time.Hour)) {
				t.Errorf("after the contract change client A's deadline = %v", c.Deadline)
			}
		}

		// Recording the sending of client A's notice meets its clock.
		var clientA store.ResponseClock
		for _, c := range v.Clocks {
			if c.ClientID == f.a.ID {
				clientA = c
			}
		}
		if _, err := f.svc.RecordSending(ctx, f.officer, id, clientA.ID, SendingInput{}); err == nil {
			t.Error("a sending without 'how' was accepted")
		}
		sent, err := f.svc.RecordSending(ctx, f.officer, id, clientA.ID, SendingInput{How: "e-mail to dpo@banco.example", Reference: "BAN-77"})
		if err != nil {
			t.Fatal(err)
		}
		if sent.State != "met" || sent.SentBy != "dpo" || sent.SentRef != "BAN-77" {
			t.Errorf("after sending: %+v", sent)
		}
		// Art. 34 needs reasons.
		if err := f.svc.DecideArt34(ctx, f.officer, id, Art34Input{Decision: "not_required"}); err == nil {
			t.Error("an Art. 34 decision without reasons was accepted")
		}
		if err := f.svc.DecideArt34(ctx, f.officer, id, Art34Input{Decision: "not_required", Reasons: "data encrypted at rest; Art. 34(3)(a)"}); err != nil {
			t.Fatal(err)
		}
		bs, err := st.ResponseBreaches(ctx, f.officer.Scope())
		if err != nil || len(bs) != 1 || bs[0].Art34Decision != "not_required" || bs[0].ClientsNotified != 1 {
			t.Fatalf("register = %+v, %v", bs, err)
		}
		if bs, _ := st.ResponseBreaches(ctx, identity.Scope{ClientIDs: []int64{}}); len(bs) != 0 {
			t.Errorf("an empty scope sees %d breaches", len(bs))
		}
		// Timeline entries were written.
		var n int
		if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM incident_timeline WHERE incident_id = ? AND kind = 'clock_started'", id).Scan(&n); err != nil || n != 4 {
			t.Errorf("clock_started timeline entries = %d, %v; want 4", n, err)
		}
		if k := f.pub.kinds(); !contains(k, "breach.flagged") || !contains(k, "clock.started") {
			t.Errorf("published %v", k)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestWarningsFireAtTheRightTimes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		id := newIncident(t, st, "INC-2026-000010", f.now, f.a.ID)
		aware := f.now
		if _, err := f.svc.SaveClientSettings(ctx, f.officer, f.a.ID, ClientSettingsInput{NotifyHours: 24}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.FlagBreach(ctx, f.officer, id, BreachInput{Nature: "lost laptop", AwareAt: aware, AwareReason: "reported by the agent"}); err != nil {
			t.Fatal(err)
		}
		f.pub.events = nil
		step := func(at time.Duration, wantFired int) {
			t.Helper()
			f.now = aware.Add(at)
			n, err := f.svc.CheckClocks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != wantFired {
				t.Errorf("at +%v fired %d warnings, want %d", at, n, wantFired)
			}
		}
		// Clocks: client A 24 h (50% at 12 h, 75% at 18 h, 2h at 22 h);
		// AEPD and Art. 34 72 h (36 h, 54 h, 70 h).
		step(11*time.Hour, 0)
		step(12*time.Hour, 1)
		step(12*time.Hour+time.Minute, 0) // once only
		step(18*time.Hour, 1)
		step(22*time.Hour, 1)
		step(24*time.Hour+time.Minute, 1) // client A overdue
		step(36*time.Hour, 2)             // AEPD and Art. 34 at 50 %
		v, _ := f.svc.View(ctx, f.officer.Scope(), id)
		for _, c := range v.Clocks {
			if c.ClientID == f.a.ID && c.State != "missed" {
				t.Errorf("client clock state = %s, want missed", c.State)
			}
		}
		kinds := f.pub.kinds()
		if len(kinds) != 6 || kinds[3] != "clock.overdue" {
			t.Errorf("events = %v", kinds)
		}
		for _, e := range f.pub.events {
			if e.Ref != "INC-2026-000010" || strings.Contains(e.Summary, "laptop") {
				t.Errorf("event %+v", e)
			}
		}
		var n int
		_ = st.QueryRow(ctx, "SELECT COUNT(*) FROM incident_timeline WHERE incident_id = ? AND kind IN ('clock_warning', 'clock_overdue')", id).Scan(&n)
		if n != 6 {
			t.Errorf("%d warning timeline entries, want 6", n)
		}
		// A late sending needs reasons, and is then "late".
		var cid int64
		for _, c := range v.Clocks {
			if c.ClientID == f.a.ID {
				cid = c.ID
			}
		}
		if _, err := f.svc.RecordSending(ctx, f.officer, id, cid, SendingInput{How: "phone"}); err == nil {
			t.Error("a late sending without reasons was accepted")
		}
		c, err := f.svc.RecordSending(ctx, f.officer, id, cid, SendingInput{How: "phone", LateReason: "contact unreachable overnight"})
		if err != nil || c.State != "late" {
			t.Errorf("late sending = %+v, %v", c, err)
		}
	})
}

func TestDraftsRender(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		id := newIncident(t, st, "INC-2026-000020", f.now, f.a.ID)
		if _, err := f.svc.FlagBreach(ctx, f.officer, id, BreachInput{Nature: "Fichero con datos de clientes enviado por error", SubjectsCount: 35,
			DataCategories: "nombre, teléfono", AwareAt: f.now, AwareReason: "aviso del supervisor"}); err != nil {
			t.Fatal(err)
		}
		v, _ := f.svc.View(ctx, f.officer.Scope(), id)
		for _, c := range v.Clocks {
			for _, lang := range []string{"en", "es"} {
				d, err := f.svc.Draft(ctx, f.officer.Scope(), id, c.ID, lang, 0)
				if err != nil {
					t.Fatal(err)
				}
				pdf, err := d.PDF()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(pdf, []byte("%PDF")) || !bytes.Contains(pdf, []byte("INC-2026-000020")) {
					t.Errorf("%s %s: PDF lacks the header or the ref", c.Key, lang)
				}
				text := d.Text()
				for _, f := range d.Fields {
					if !strings.Contains(text, f.Label+":\n") {
						t.Errorf("%s %s: text lacks field %q", c.Key, lang, f.Label)
					}
				}
				if !strings.Contains(text, "INC-2026-000020") {
					t.Errorf("%s: text lacks the ref", c.Key)
				}
			}
		}
		var aepd store.ResponseClock
		for _, c := range v.Clocks {
			if c.Kind == "gdpr_art33_authority" {
				aepd = c
			}
		}
		d, _ := f.svc.Draft(ctx, f.officer.Scope(), id, aepd.ID, "es", 0)
		text := d.Text()
		for _, want := range []string{"Naturaleza de la brecha", "Fichero con datos de clientes enviado por error", "Número aproximado de interesados afectados:\n35", "autoridad de control"} {
			if !strings.Contains(text, want) {
				t.Errorf("AEPD draft (es) lacks %q:\n%s", want, text)
			}
		}
		// Saving makes versions; unknown fields are refused.
		if _, err := f.svc.SaveDraft(ctx, f.officer, id, aepd.ID, "es", map[string]string{"bogus": "x"}); err == nil {
			t.Error("an unknown field was accepted")
		}
		vals := map[string]string{}
		for _, fl := range d.Fields {
			vals[fl.Key] = fl.Value
		}
		vals["measures"] = "Se ha pedido al destinatario que borre el fichero."
		d1, err := f.svc.SaveDraft(ctx, f.officer, id, aepd.ID, "es", vals)
		if err != nil || d1.Version != 1 {
			t.Fatalf("save = %+v, %v", d1, err)
		}
		vals["measures"] = "Borrado confirmado."
		d2, err := f.svc.SaveDraft(ctx, f.officer, id, aepd.ID, "es", vals)
		if err != nil || d2.Version != 2 {
			t.Fatalf("save 2 = %+v, %v", d2, err)
		}
		old, _ := f.svc.Draft(ctx, f.officer.Scope(), id, aepd.ID, "es", 1)
		if !strings.Contains(old.Text(), "borre el fichero") || !strings.Contains(d2.Text(), "Borrado confirmado") {
			t.Error("versions do not keep their values")
		}
		vers, _ := f.svc.DraftVersions(ctx, f.officer.Scope(), id, aepd.ID)
		if len(vers) != 2 {
			t.Errorf("%d versions", len(vers))
		}
		pdf, _ := d2.PDF()
		// "Número" in Windows-1252 is N\xfamero.
		if !bytes.Contains(pdf, []byte("N\xfamero")) {
			t.Error("the PDF does not carry Spanish accents in Windows-1252")
		}
	})
}
