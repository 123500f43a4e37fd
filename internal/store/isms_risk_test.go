package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/magerit"
	"github.com/custodia/custodia/internal/isms/risk"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// riskFixture creates clients A and B and a user per name given.
type riskFixture struct {
	a, b  org.Client
	users map[string]*identity.User
}

func newRiskFixture(t *testing.T, s *store.Store, users ...string) *riskFixture {
	t.Helper()
	ctx := context.Background()
	f := &riskFixture{a: org.Client{Code: "bank", Name: "Banco"}, b: org.Client{Code: "telco", Name: "Telco"}, users: map[string]*identity.User{}}
	for _, c := range []*org.Client{&f.a, &f.b} {
		if err := s.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range users {
		u := &identity.User{Username: name, Email: name + "@example.com", Role: identity.RoleSecurity, AllClients: true, Active: true}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u, "", time.Now()) }); err != nil {
			t.Fatal(err)
		}
		f.users[name] = u
	}
	return f
}

// riskTestControl inserts a control the way the compliance module does (its table).
func riskTestControl(t *testing.T, s *store.Store, code, status string, clientID int64) int64 {
	t.Helper()
	var client any
	if clientID != 0 {
		client = clientID
	}
	now := store.TimeArg(time.Now())
	var id int64
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		id, err = tx.InsertID(context.Background(), "INSERT INTO isms_controls (code, title, status, client_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
			code, "Control "+code, status, client, now, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func setControlStatus(t *testing.T, s *store.Store, id int64, status string) {
	t.Helper()
	if _, err := s.Exec(context.Background(), "UPDATE isms_controls SET status = ? WHERE id = ?", status, id); err != nil {
		t.Fatal(err)
	}
}

// TestRiskHandWorked pins the MAGERIT arithmetic through the store:
// value propagation down the dependencies, potential risk, residual risk
// after an implemented (full) and a partial (half) safeguard.
func TestRiskHandWorked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		all := identity.Scope{All: true}
		f := newRiskFixture(t, s, "owner")
		srv := risk.Asset{Code: "srv", Name: "Server", Type: magerit.Hardware, ClientID: f.a.ID}
		riskOK(t, s.RiskCreateAsset(ctx, all, &srv))
		app := risk.Asset{Code: "app", Name: "CRM", Type: magerit.Software, ClientID: f.a.ID, DependsOn: []int64{srv.ID}}
		riskOK(t, s.RiskCreateAsset(ctx, all, &app))
		data := risk.Asset{Code: "data", Name: "Customer data", Type: magerit.Essential, ClientID: f.a.ID,
			Value: magerit.Values{"C": 8, "I": 3}, DependsOn: []int64{app.ID}}
		riskOK(t, s.RiskCreateAsset(ctx, all, &data))

		// Propagation: the server holds the data's value.
		got, err := s.RiskAsset(ctx, all, srv.ID)
		riskOK(t, err)
		if got.Accumulated["C"] != 8 || got.Accumulated["I"] != 3 || len(got.Value) != 0 {
			t.Fatalf("server accumulated = %v (own %v), want C 8, I 3 and no own value", got.Accumulated, got.Value)
		}

		th := risk.Threat{Code: "A.8", Name: "Ransomware", Degradation: map[risk.Dimension]float64{"C": 0.5}, Frequency: 1.2}
		riskOK(t, s.RiskCreateThreat(ctx, all, &th))
		if th.Family != magerit.Attacks {
			t.Errorf("family = %q, want A", th.Family)
		}
		ctrl := riskTestControl(t, s, "C-BACKUP", "implemented", 0)
		r := risk.Risk{Title: "Ransomware on the server", AssetID: srv.ID, ThreatID: th.ID, OwnerUserID: f.users["owner"].ID}
		riskOK(t, s.RiskCreate(ctx, all, &r))
		if r.ClientID != f.a.ID || r.Frequency != 1.2 || r.Degradation["C"] != 0.5 {
			t.Fatalf("risk defaults = client %d, freq %v, deg %v", r.ClientID, r.Frequency, r.Degradation)
		}
		// Potential: impact 8 × 0.5 = 4 (M), 1.2/year (M) → M.
		rr, err := s.RiskByID(ctx, all, r.ID)
		riskOK(t, err)
		if p := rr.Potential; p.Impact != 4 || p.ImpactLevel != magerit.M || p.FrequencyLevel != magerit.M || p.Level != magerit.M || p.Dimension != "C" {
			t.Errorf("potential = %+v, want impact 4 M, frequency M, risk M in C", p)
		}
		if rr.Residual != rr.Potential {
			t.Errorf("residual without safeguards = %+v, want the potential", rr.Residual)
		}

		// An implemented safeguard of 50 %/90 %: impact 2 (B), 0.12/year (B) → B.
		rr.Treatment, rr.Justification = magerit.Mitigate, "backups"
		rr.Safeguards = []risk.Safeguard{{ControlID: ctrl, Degradation: 0.5, Frequency: 0.9}}
		riskOK(t, s.RiskUpdate(ctx, all, rr))
		rr, err = s.RiskByID(ctx, all, r.ID)
		riskOK(t, err)
		if x := rr.Residual; x.Impact != 2 || x.Frequency != 0.12 || x.ImpactLevel != magerit.B || x.FrequencyLevel != magerit.B || x.Level != magerit.B {
			t.Errorf("residual = %+v, want impact 2 B, 0.12/year B, risk B", x)
		}
		// The same control only partially implemented counts for half:
		// 8 × 0.5 × 0.75 = 3 (M), 1.2 × 0.55 = 0.66 (B) → B.
		setControlStatus(t, s, ctrl, "partial")
		rr, err = s.RiskByID(ctx, all, r.ID)
		riskOK(t, err)
		if x := rr.Residual; x.Impact != 3 || x.Frequency != 0.66 || x.ImpactLevel != magerit.M || x.Level != magerit.B {
			t.Errorf("residual with a partial control = %+v, want impact 3 M, 0.66/year, risk B", x)
		}
		// Planned: no reduction.
		setControlStatus(t, s, ctrl, "planned")
		rr, err = s.RiskByID(ctx, all, r.ID)
		riskOK(t, err)
		if rr.Residual.Level != magerit.M {
			t.Errorf("residual with a planned control = %v, want M", rr.Residual.Level)
		}
		setControlStatus(t, s, ctrl, "implemented")

		// The stored levels follow a change of the data's value (8 → 10):
		// potential impact 5 (M).
		data.Value = magerit.Values{"C": 10}
		riskOK(t, s.RiskUpdateAsset(ctx, all, &data))
		var pl, rl string
		var pi float64
		riskOK(t, s.QueryRow(ctx, "SELECT potential_level, potential_impact, residual_level FROM isms_risks WHERE id = ?", r.ID).Scan(&pl, &pi, &rl))
		if pl != "M" || pi != 5 || rl != "B" {
			t.Errorf("stored = %s %v %s, want M 5 B", pl, pi, rl)
		}

		// The appetite: M; nothing is above it; at MB the risk is.
		list, err := s.RiskList(ctx, all, store.RiskFilter{AboveAppetite: true})
		riskOK(t, err)
		if len(list) != 0 {
			t.Errorf("above appetite M: %d risks, want 0", len(list))
		}
		riskOK(t, s.RiskSetSettings(ctx, all, &store.RiskSettings{Appetite: magerit.MB, ReminderDays: 3}))
		list, err = s.RiskList(ctx, all, store.RiskFilter{AboveAppetite: true})
		riskOK(t, err)
		if len(list) != 1 || !list[0].AboveAppetite {
			t.Errorf("above appetite MB: %+v, want the risk", list)
		}
	})
}

// TestRiskSignOff: the owner's acceptance is recorded with the residual
// level and revision, and a later change of the risk (its fields, or its
// residual level through an asset's value) invalidates it.
func TestRiskSignOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		all := identity.Scope{All: true}
		f := newRiskFixture(t, s, "owner", "other")
		owner := f.users["owner"].Principal()
		srv := risk.Asset{Code: "srv", Name: "Server", Type: magerit.Hardware}
		riskOK(t, s.RiskCreateAsset(ctx, all, &srv))
		data := risk.Asset{Code: "data", Name: "Data", Type: magerit.Essential, Value: magerit.Values{"C": 8}, DependsOn: []int64{srv.ID}}
		riskOK(t, s.RiskCreateAsset(ctx, all, &data))
		th := risk.Threat{Code: "A.8", Name: "Ransomware", Degradation: map[risk.Dimension]float64{"C": 0.5}, Frequency: 1.2}
		riskOK(t, s.RiskCreateThreat(ctx, all, &th))
		ctrl := riskTestControl(t, s, "C-1", "implemented", 0)
		r := risk.Risk{Title: "R", AssetID: srv.ID, ThreatID: th.ID, OwnerUserID: owner.UserID, Treatment: magerit.Mitigate, Justification: "j",
			Safeguards: []risk.Safeguard{{ControlID: ctrl, Degradation: 0.5, Frequency: 0.9}}}
		riskOK(t, s.RiskCreate(ctx, all, &r))

		if _, err := s.RiskSignOff(ctx, f.users["other"].Principal(), r.ID, ""); !riskHasField(err, "owner_user_id") {
			t.Errorf("sign-off by another user = %v, want refused", err)
		}
		so, err := s.RiskSignOff(ctx, owner, r.ID, "accepted at B")
		riskOK(t, err)
		if so.ResidualLevel != magerit.B || so.Revision != 1 || so.Username != "owner" {
			t.Errorf("sign-off = %+v", so)
		}
		got, err := s.RiskByID(ctx, all, r.ID)
		riskOK(t, err)
		if got.SignOff == nil || !got.SignOff.Valid {
			t.Fatalf("sign-off after signing = %+v, want valid", got.SignOff)
		}
		// The data's value drops to 3: residual 0.75 (MB) → MB; the risk moved.
		data.Value = magerit.Values{"C": 3}
		riskOK(t, s.RiskUpdateAsset(ctx, all, &data))
		got, err = s.RiskByID(ctx, all, r.ID)
		riskOK(t, err)
		if got.Residual.Level != magerit.MB || got.Revision != 2 || got.SignOff == nil || got.SignOff.Valid {
			t.Errorf("after the value change: residual %v, revision %d, sign-off %+v; want MB, 2, invalid", got.Residual.Level, got.Revision, got.SignOff)
		}
		_, err = s.RiskSignOff(ctx, owner, r.ID, "")
		riskOK(t, err)
		// Editing the risk invalidates the sign-off as well.
		got, _ = s.RiskByID(ctx, all, r.ID)
		if !got.SignOff.Valid {
			t.Fatal("re-signed sign-off is not valid")
		}
		got.Justification = "changed"
		riskOK(t, s.RiskUpdate(ctx, all, got))
		got, _ = s.RiskByID(ctx, all, r.ID)
		if got.SignOff.Valid {
			t.Error("sign-off still valid after the risk changed")
		}
		// The trail has the sign-offs.
		var n int
		riskOK(t, s.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'isms.risk.sign_off'").Scan(&n))
		if n != 2 {
			t.Errorf("%d sign-off audit entries, want 2", n)
		}
	})
}

// TestRiskAssetBadInput: cycles, unknown references and deletions still
// referred to are refused with the list, and nothing changes.
func TestRiskAssetBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		all := identity.Scope{All: true}
		f := newRiskFixture(t, s)
		a := risk.Asset{Code: "a", Name: "A", Type: magerit.Hardware}
		riskOK(t, s.RiskCreateAsset(ctx, all, &a))
		b := risk.Asset{Code: "b", Name: "B", Type: magerit.Software, DependsOn: []int64{a.ID}}
		riskOK(t, s.RiskCreateAsset(ctx, all, &b))
		c := risk.Asset{Code: "c", Name: "C", Type: magerit.Essential, DependsOn: []int64{b.ID}, Value: magerit.Values{"D": 5}}
		riskOK(t, s.RiskCreateAsset(ctx, all, &c))
		a.DependsOn = []int64{c.ID}
		err := s.RiskUpdateAsset(ctx, all, &a)
		var fe identity.FieldErrors
		if !errors.As(err, &fe) || !strings.Contains(fe["depends_on"], "a → c → b → a") {
			t.Errorf("cycle = %v, want it named a → c → b → a", err)
		}
		got, _ := s.RiskAsset(ctx, all, a.ID)
		if len(got.DependsOn) != 0 || got.Accumulated["D"] != 5 {
			t.Errorf("after the refused cycle: %+v", got)
		}
		bad := risk.Asset{Code: "x", Name: "X", Type: magerit.Software, DependsOn: []int64{999, 998}}
		if err := s.RiskCreateAsset(ctx, all, &bad); !errors.As(err, &fe) || !strings.Contains(fe["depends_on"], "999, 998") {
			t.Errorf("unknown dependency = %v", err)
		}
		if err := s.RiskCreateAsset(ctx, all, &risk.Asset{Code: "y", Name: "Y", Type: "XX"}); !riskHasField(err, "type") {
			t.Errorf("bad type = %v", err)
		}
		if err := s.RiskCreateAsset(ctx, all, &risk.Asset{Code: "a", Name: "dup", Type: magerit.Hardware}); !riskHasField(err, "code") {
			t.Errorf("duplicate code = %v", err)
		}
		th := risk.Threat{Code: "E.1", Name: "Error"}
		riskOK(t, s.RiskCreateThreat(ctx, all, &th))
		if err := s.RiskCreateThreat(ctx, all, &risk.Threat{Code: "Z.1", Name: "z"}); !riskHasField(err, "code") {
			t.Errorf("bad family = %v", err)
		}
		r := risk.Risk{Title: "Errors on a", AssetID: a.ID, ThreatID: th.ID}
		riskOK(t, s.RiskCreate(ctx, all, &r))
		if err := s.RiskDeleteAsset(ctx, all, a.ID); !errors.As(err, &fe) || !strings.Contains(fe["id"], "Errors on a") {
			t.Errorf("deleting a referred asset = %v, want the list", err)
		}
		if err := s.RiskDeleteThreat(ctx, all, th.ID); !errors.As(err, &fe) || !strings.Contains(fe["id"], "Errors on a") {
			t.Errorf("deleting a referred threat = %v, want the list", err)
		}
		if err := s.RiskCreate(ctx, all, &risk.Risk{Title: "r", AssetID: a.ID, ThreatID: th.ID, Safeguards: []risk.Safeguard{{ControlID: 4242, Degradation: 0.5}}}); !riskHasField(err, "safeguards") {
			t.Errorf("unknown control = %v", err)
		}
		// Cross-client dependency refused.
		ca := risk.Asset{Code: "ca", Name: "A's", Type: magerit.Essential, ClientID: f.a.ID}
		riskOK(t, s.RiskCreateAsset(ctx, all, &ca))
		cb := risk.Asset{Code: "cb", Name: "B's", Type: magerit.Essential, ClientID: f.b.ID, DependsOn: []int64{ca.ID}}
		if err := s.RiskCreateAsset(ctx, all, &cb); !riskHasField(err, "depends_on") {
			t.Errorf("cross-client dependency = %v", err)
		}
	})
}

// TestRiskScope: a user limited to client A never sees B's assets or
// risks, and cannot change operator-wide records.
func TestRiskScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		all := identity.Scope{All: true}
		f := newRiskFixture(t, s)
		scopeA := identity.Scope{ClientIDs: []int64{f.a.ID}}
		m, err := magerit.ContactCenter()
		riskOK(t, err)
		res, err := s.RiskLoadStarter(ctx, all, f.b.ID, m)
		riskOK(t, err)
		if res.Assets != len(m.Assets) || res.Threats != len(m.Threats) || res.Risks != len(m.Threats) {
			t.Errorf("starter = %+v, want %d assets, %d threats, %d risks", res, len(m.Assets), len(m.Threats), len(m.Threats))
		}
		again, err := s.RiskLoadStarter(ctx, all, f.b.ID, m)
		riskOK(t, err)
		if again != (store.RiskStarterResult{}) {
			t.Errorf("second load = %+v, want nothing new", again)
		}
		// The recordings server holds the PAN's confidentiality 10.
		bAssets, err := s.RiskAssets(ctx, all)
		riskOK(t, err)
		for _, a := range bAssets {
			if a.Code == "sw-recorder" && a.Accumulated["C"] != 10 {
				t.Errorf("sw-recorder accumulated %v, want C 10", a.Accumulated)
			}
		}
		own := risk.Asset{Code: "mine", Name: "Mine", Type: magerit.Essential, ClientID: f.a.ID}
		riskOK(t, s.RiskCreateAsset(ctx, scopeA, &own))
		list, err := s.RiskAssets(ctx, scopeA)
		riskOK(t, err)
		if len(list) != 1 || list[0].ID != own.ID {
			t.Errorf("client A sees %d assets, want only its own", len(list))
		}
		risks, err := s.RiskList(ctx, scopeA, store.RiskFilter{})
		riskOK(t, err)
		if len(risks) != 0 {
			t.Errorf("client A sees %d of B's risks", len(risks))
		}
		bRisks, _ := s.RiskList(ctx, all, store.RiskFilter{})
		if _, err := s.RiskByID(ctx, scopeA, bRisks[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B's risk through A's scope = %v, want not found", err)
		}
		if _, err := s.RiskAsset(ctx, scopeA, bAssets[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B's asset through A's scope = %v, want not found", err)
		}
		if err := s.RiskCreateAsset(ctx, scopeA, &risk.Asset{Code: "shared", Name: "S", Type: magerit.Hardware}); !riskHasField(err, "client_id") {
			t.Errorf("client-A user creating an operator-wide asset = %v", err)
		}
		if err := s.RiskCreateAsset(ctx, scopeA, &risk.Asset{Code: "theirs", Name: "S", Type: magerit.Hardware, ClientID: f.b.ID}); !riskHasField(err, "client_id") {
			t.Errorf("client-A user creating B's asset = %v", err)
		}
	})
}

func riskOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func riskHasField(err error, field string) bool {
	var fe identity.FieldErrors
	if !errors.As(err, &fe) {
		return false
	}
	_, ok := fe[field]
	return ok
}
