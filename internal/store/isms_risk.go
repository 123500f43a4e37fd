package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/magerit"
	"github.com/custodia/custodia/internal/isms/risk"
)

// RiskSettings are the risk module's settings.
type RiskSettings struct {
	// Appetite is the highest residual level accepted without treatment.
	Appetite magerit.Level `json:"-"`
	// AppetiteName is the appetite as the API shows it: MB, B, M, A or MA.
	AppetiteName string `json:"appetite"`
	// ReminderDays is the least number of days between two policy reminders
	// to one person.
	ReminderDays int       `json:"reminder_days"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// RiskGetSettings returns the settings (defaults: appetite M, reminders
// every 7 days).
func (s *Store) RiskGetSettings(ctx context.Context) (RiskSettings, error) {
	return riskSettings(ctx, s)
}

func riskSettings(ctx context.Context, q riskQuerier) (RiskSettings, error) {
	st := RiskSettings{Appetite: magerit.M, AppetiteName: "M", ReminderDays: 7}
	var app string
	err := q.QueryRow(ctx, "SELECT appetite, reminder_days, updated_at FROM isms_risk_settings WHERE id = 1").Scan(&app, &st.ReminderDays, ScanTime(&st.UpdatedAt))
	if err == sql.ErrNoRows {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("risk settings: %w", err)
	}
	if l, err := risk.ParseLevel(app); err == nil {
		st.Appetite = l
	}
	st.AppetiteName = st.Appetite.String()
	return st, nil
}

// RiskSetSettings saves the settings; only callers who see every client
// may (they are operator-wide).
func (s *Store) RiskSetSettings(ctx context.Context, scope identity.Scope, st *RiskSettings) error {
	fe := identity.FieldErrors{}
	if st.Appetite < magerit.MB || st.Appetite > magerit.MA {
		fe["appetite"] = "must be MB, B, M, A or MA"
	}
	if st.ReminderDays < 1 || st.ReminderDays > 365 {
		fe["reminder_days"] = "must be from 1 to 365"
	}
	if err := fe.Err(); err != nil {
		return err
	}
	if err := riskCanWrite(scope, 0); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := riskSettings(ctx, tx)
		if err != nil {
			return err
		}
		st.UpdatedAt, st.AppetiteName = time.Now().UTC(), st.Appetite.String()
		if _, err := tx.Exec(ctx, `INSERT INTO isms_risk_settings (id, appetite, reminder_days, updated_at) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET appetite = excluded.appetite, reminder_days = excluded.reminder_days, updated_at = excluded.updated_at`,
			st.Appetite.String(), st.ReminderDays, TimeArg(st.UpdatedAt)); err != nil {
			return fmt.Errorf("save risk settings: %w", err)
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.risk_settings.update", ObjectType: "isms_risk_settings", ObjectID: "1", Before: before, After: st})
	})
}

// RiskFilter selects risks.
type RiskFilter struct {
	AssetID  int64
	ThreatID int64
	// AboveAppetite keeps the risks whose residual level exceeds the appetite.
	AboveAppetite bool
}

const riskSelect = `SELECT r.id, r.title, r.client_id, r.asset_id, a.code, a.name, r.threat_id, t.code, t.name, r.owner_user_id,
	r.deg_c, r.deg_i, r.deg_t, r.deg_a, r.deg_d, r.frequency, r.treatment, r.justification, r.revision, r.created_at, r.updated_at,
	a.acc_c, a.acc_i, a.acc_t, a.acc_a, a.acc_d
	FROM isms_risks r JOIN isms_assets a ON a.id = r.asset_id JOIN isms_threats t ON t.id = r.threat_id`

// RiskList lists the risks in scope, computed now, highest residual first.
func (s *Store) RiskList(ctx context.Context, scope identity.Scope, f RiskFilter) ([]risk.Risk, error) {
	var conds []string
	var args []any
	if f.AssetID != 0 {
		conds, args = append(conds, "r.asset_id = ?"), append(args, f.AssetID)
	}
	if f.ThreatID != 0 {
		conds, args = append(conds, "r.threat_id = ?"), append(args, f.ThreatID)
	}
	list, err := riskList(ctx, s, scope, strings.Join(conds, " AND "), args)
	if err != nil {
		return nil, err
	}
	st, err := riskSettings(ctx, s)
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, r := range list {
		r.AboveAppetite = r.Residual.Level > st.Appetite
		if f.AboveAppetite && !r.AboveAppetite {
			continue
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b risk.Risk) int {
		if a.Residual.Level != b.Residual.Level {
			return int(b.Residual.Level) - int(a.Residual.Level)
		}
		if a.Potential.Level != b.Potential.Level {
			return int(b.Potential.Level) - int(a.Potential.Level)
		}
		return strings.Compare(a.Title, b.Title)
	})
	return out, nil
}

// RiskByID returns one risk in scope, computed now.
func (s *Store) RiskByID(ctx context.Context, scope identity.Scope, id int64) (*risk.Risk, error) {
	r, err := riskOne(ctx, s, scope, id)
	if err != nil {
		return nil, err
	}
	st, err := riskSettings(ctx, s)
	if err != nil {
		return nil, err
	}
	r.AboveAppetite = r.Residual.Level > st.Appetite
	return r, nil
}

func riskOne(ctx context.Context, q riskQuerier, scope identity.Scope, id int64) (*risk.Risk, error) {
	list, err := riskList(ctx, q, scope, "r.id = ?", []any{id})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("risk %d: %w", id, ErrNotFound)
	}
	return &list[0], nil
}

func riskList(ctx context.Context, q riskQuerier, scope identity.Scope, extra string, extraArgs []any) ([]risk.Risk, error) {
	where, args := riskScopeSQL("r.client_id", scope, nil)
	if extra != "" {
		where += " AND " + extra
		args = append(args, extraArgs...)
	}
	rows, err := q.Query(ctx, riskSelect+" WHERE "+where+" ORDER BY r.id", args...)
	if err != nil {
		return nil, fmt.Errorf("list risks: %w", err)
	}
	out := []risk.Risk{}
	accs := []magerit.Values{}
	index := map[int64]int{}
	for rows.Next() {
		var r risk.Risk
		var client, owner sql.NullInt64
		var d [5]float64
		var acc [5]int
		var treat string
		if err := rows.Scan(&r.ID, &r.Title, &client, &r.AssetID, &r.AssetCode, &r.AssetName, &r.ThreatID, &r.ThreatCode, &r.ThreatName, &owner,
			&d[0], &d[1], &d[2], &d[3], &d[4], &r.Frequency, &treat, &r.Justification, &r.Revision, ScanTime(&r.CreatedAt), ScanTime(&r.UpdatedAt),
			&acc[0], &acc[1], &acc[2], &acc[3], &acc[4]); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list risks: %w", err)
		}
		r.ClientID, r.OwnerUserID, r.Treatment = client.Int64, owner.Int64, magerit.Option(treat)
		r.Degradation = riskDegMap(d)
		r.Safeguards = []risk.Safeguard{}
		v := magerit.Values{}
		for i, dim := range risk.Dimensions {
			if acc[i] != 0 {
				v[dim] = acc[i]
			}
		}
		index[r.ID] = len(out)
		out = append(out, r)
		accs = append(accs, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	sg, err := q.Query(ctx, `SELECT s.risk_id, s.control_id, c.code, c.title, c.status, s.degradation, s.frequency
		FROM isms_risk_safeguards s JOIN isms_controls c ON c.id = s.control_id ORDER BY s.risk_id, c.code`)
	if err != nil {
		return nil, fmt.Errorf("list safeguards: %w", err)
	}
	for sg.Next() {
		var rid int64
		var x risk.Safeguard
		if err := sg.Scan(&rid, &x.ControlID, &x.Code, &x.Title, &x.Status, &x.Degradation, &x.Frequency); err != nil {
			sg.Close()
			return nil, err
		}
		if i, ok := index[rid]; ok {
			out[i].Safeguards = append(out[i].Safeguards, x)
		}
	}
	sg.Close()
	so, err := q.Query(ctx, `SELECT id, risk_id, user_id, username, treatment, residual_level, revision, note, signed_at FROM isms_risk_signoffs ORDER BY risk_id, id`)
	if err != nil {
		return nil, fmt.Errorf("list sign-offs: %w", err)
	}
	for so.Next() {
		var rid int64
		var x risk.SignOff
		var treat, lvl string
		if err := so.Scan(&x.ID, &rid, &x.UserID, &x.Username, &treat, &lvl, &x.Revision, &x.Note, ScanTime(&x.SignedAt)); err != nil {
			so.Close()
			return nil, err
		}
		x.Treatment = magerit.Option(treat)
		x.ResidualLevel, _ = risk.ParseLevel(lvl)
		x.ResidualLevelName = x.ResidualLevel.String()
		if i, ok := index[rid]; ok {
			c := x
			out[i].SignOff = &c // the latest (ordered by id)
		}
	}
	so.Close()
	for i := range out {
		r := &out[i]
		if err := r.Compute(accs[i]); err != nil {
			return nil, fmt.Errorf("risk %d: %w", r.ID, err)
		}
		if r.SignOff != nil {
			r.SignOff.Valid = r.SignOff.Revision == r.Revision && r.SignOff.ResidualLevel == r.Residual.Level
		}
	}
	return out, nil
}

// riskPrepare checks a risk's references in scope (asset, threat,
// owner, controls) and defaults its degradation and frequency from the
// threat when none is given.
func (tx *Tx) riskPrepare(ctx context.Context, scope identity.Scope, r *risk.Risk) error {
	asset, err := riskAsset(ctx, tx, scope, r.AssetID)
	if err != nil {
		return identity.FieldErrors{"asset_id": "is not a known asset"}
	}
	if err := riskCanWrite(scope, asset.ClientID); err != nil {
		return err
	}
	r.ClientID = asset.ClientID
	th, err := riskThreat(ctx, tx, r.ThreatID)
	if err != nil {
		return identity.FieldErrors{"threat_id": "is not a known threat"}
	}
	if len(r.Degradation) == 0 && r.Frequency == 0 {
		r.Degradation, r.Frequency = th.Degradation, th.Frequency
	}
	if err := tx.riskCheckUser(ctx, "owner_user_id", r.OwnerUserID); err != nil {
		return err
	}
	var unknown []string
	for i := range r.Safeguards {
		sgd := &r.Safeguards[i]
		where, args := riskScopeSQL("client_id", scope, nil)
		args = append(args, sgd.ControlID)
		var client sql.NullInt64
		err := tx.QueryRow(ctx, "SELECT code, title, status, client_id FROM isms_controls WHERE "+where+" AND id = ?", args...).
			Scan(&sgd.Code, &sgd.Title, &sgd.Status, &client)
		if err != nil || (client.Int64 != 0 && client.Int64 != r.ClientID) {
			unknown = append(unknown, riskID(sgd.ControlID))
		}
	}
	if len(unknown) > 0 {
		return identity.FieldErrors{"safeguards": "unknown controls: " + strings.Join(unknown, ", ")}
	}
	return nil
}

// RiskCreate validates and inserts a risk with its safeguards.
func (s *Store) RiskCreate(ctx context.Context, scope identity.Scope, r *risk.Risk) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.RiskCreate(ctx, scope, r) })
}

// RiskCreate is Store.RiskCreate inside a transaction.
func (tx *Tx) RiskCreate(ctx context.Context, scope identity.Scope, r *risk.Risk) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if err := tx.riskPrepare(ctx, scope, r); err != nil {
		return err
	}
	now := time.Now().UTC()
	r.CreatedAt, r.UpdatedAt, r.Revision = now, now, 1
	d := riskDegArgs(r.Degradation)
	id, err := tx.InsertID(ctx, `INSERT INTO isms_risks (title, client_id, asset_id, threat_id, owner_user_id, deg_c, deg_i, deg_t, deg_a, deg_d,
		frequency, treatment, justification, revision, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`,
		r.Title, nullID(r.ClientID), r.AssetID, r.ThreatID, nullID(r.OwnerUserID), d[0], d[1], d[2], d[3], d[4], r.Frequency,
		string(r.Treatment), r.Justification, TimeArg(now), TimeArg(now))
	if err != nil {
		return fmt.Errorf("create risk: %w", err)
	}
	r.ID = id
	if err := tx.riskSetSafeguards(ctx, r); err != nil {
		return err
	}
	if err := tx.riskComputeStored(ctx, r); err != nil {
		return err
	}
	return tx.Audit(ctx, audit.Record{Action: "isms.risk.create", ObjectType: "isms_risk", ObjectID: riskID(id), ClientID: r.ClientID, After: r, Detail: r.Title})
}

// RiskUpdate saves a risk's fields and safeguards; any change makes a
// new revision, which invalidates the owner's sign-off.
func (s *Store) RiskUpdate(ctx context.Context, scope identity.Scope, r *risk.Risk) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := riskOne(ctx, tx, scope, r.ID)
		if err != nil {
			return err
		}
		if err := riskCanWrite(scope, before.ClientID); err != nil {
			return err
		}
		if err := tx.riskPrepare(ctx, scope, r); err != nil {
			return err
		}
		r.CreatedAt, r.UpdatedAt, r.Revision = before.CreatedAt, time.Now().UTC(), before.Revision+1
		d := riskDegArgs(r.Degradation)
		if _, err := tx.Exec(ctx, `UPDATE isms_risks SET title = ?, client_id = ?, asset_id = ?, threat_id = ?, owner_user_id = ?, deg_c = ?, deg_i = ?,
			deg_t = ?, deg_a = ?, deg_d = ?, frequency = ?, treatment = ?, justification = ?, revision = ?, updated_at = ? WHERE id = ?`,
			r.Title, nullID(r.ClientID), r.AssetID, r.ThreatID, nullID(r.OwnerUserID), d[0], d[1], d[2], d[3], d[4], r.Frequency,
			string(r.Treatment), r.Justification, r.Revision, TimeArg(r.UpdatedAt), r.ID); err != nil {
			return fmt.Errorf("update risk: %w", err)
		}
		for _, q := range []string{"DELETE FROM isms_risk_safeguards WHERE risk_id = ?", "DELETE FROM isms_risk_controls WHERE risk_id = ?"} {
			if _, err := tx.Exec(ctx, q, r.ID); err != nil {
				return err
			}
		}
		if err := tx.riskSetSafeguards(ctx, r); err != nil {
			return err
		}
		if err := tx.riskComputeStored(ctx, r); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.risk.update", ObjectType: "isms_risk", ObjectID: riskID(r.ID), ClientID: r.ClientID, Before: before, After: r, Detail: r.Title})
	})
}

// RiskDelete deletes a risk, its safeguard links and sign-offs.
func (s *Store) RiskDelete(ctx context.Context, scope identity.Scope, id int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := riskOne(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		if err := riskCanWrite(scope, before.ClientID); err != nil {
			return err
		}
		for _, q := range []string{"DELETE FROM isms_risk_controls WHERE risk_id = ?", "DELETE FROM isms_risks WHERE id = ?"} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return fmt.Errorf("delete risk: %w", err)
			}
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.risk.delete", ObjectType: "isms_risk", ObjectID: riskID(id), ClientID: before.ClientID, Before: before, Detail: before.Title})
	})
}

func (tx *Tx) riskSetSafeguards(ctx context.Context, r *risk.Risk) error {
	for _, sgd := range r.Safeguards {
		if _, err := tx.Exec(ctx, "INSERT INTO isms_risk_controls (risk_id, control_id) VALUES (?, ?)", r.ID, sgd.ControlID); err != nil {
			return fmt.Errorf("link control: %w", err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO isms_risk_safeguards (risk_id, control_id, degradation, frequency) VALUES (?, ?, ?, ?)",
			r.ID, sgd.ControlID, sgd.Degradation, sgd.Frequency); err != nil {
			return fmt.Errorf("link control: %w", err)
		}
	}
	return nil
}

// riskComputeStored computes r against its asset's accumulated value and
// stores the levels.
func (tx *Tx) riskComputeStored(ctx context.Context, r *risk.Risk) error {
	a, err := riskAsset(ctx, tx, identity.Scope{All: true}, r.AssetID)
	if err != nil {
		return err
	}
	if err := r.Compute(a.Accumulated); err != nil {
		return err
	}
	return tx.riskStoreComputed(ctx, r, false)
}

func (tx *Tx) riskStoreComputed(ctx context.Context, r *risk.Risk, newRevision bool) error {
	q := `UPDATE isms_risks SET potential_impact = ?, potential_freq = ?, potential_level = ?, residual_impact = ?, residual_freq = ?,
		residual_level = ?, worst_dimension = ?`
	if newRevision {
		q += ", revision = revision + 1"
	}
	_, err := tx.Exec(ctx, q+" WHERE id = ?", r.Potential.Impact, r.Potential.Frequency, r.Potential.Level.String(),
		r.Residual.Impact, r.Residual.Frequency, r.Residual.Level.String(), string(r.Residual.Dimension), r.ID)
	if err != nil {
		return fmt.Errorf("store risk levels: %w", err)
	}
	return nil
}

// RiskSignOff records the risk owner's acceptance of the risk's current
// treatment and residual level. Only the risk's owner may sign; the risk
// must have a treatment.
func (s *Store) RiskSignOff(ctx context.Context, p *identity.Principal, id int64, note string) (*risk.SignOff, error) {
	var out risk.SignOff
	err := s.InTx(ctx, func(tx *Tx) error {
		r, err := riskOne(ctx, tx, p.Scope(), id)
		if err != nil {
			return err
		}
		if r.OwnerUserID == 0 || r.OwnerUserID != p.UserID {
			return identity.FieldErrors{"owner_user_id": "only the risk's owner may sign off its treatment"}
		}
		if r.Treatment == "" {
			return identity.FieldErrors{"treatment": "choose a treatment before signing off"}
		}
		if len(note) > 2000 {
			return identity.FieldErrors{"note": "is too long (at most 2000 characters)"}
		}
		out = risk.SignOff{UserID: p.UserID, Username: p.Username, Treatment: r.Treatment, ResidualLevel: r.Residual.Level, ResidualLevelName: r.Residual.Level.String(),
			Revision: r.Revision, Note: strings.TrimSpace(note), SignedAt: time.Now().UTC(), Valid: true}
		out.ID, err = tx.InsertID(ctx, `INSERT INTO isms_risk_signoffs (risk_id, user_id, username, treatment, residual_level, revision, note, signed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, p.UserID, p.Username, string(out.Treatment), out.ResidualLevel.String(), out.Revision, out.Note, TimeArg(out.SignedAt))
		if err != nil {
			return fmt.Errorf("sign off risk: %w", err)
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.risk.sign_off", ObjectType: "isms_risk", ObjectID: riskID(id), ClientID: r.ClientID, After: out,
			Detail: fmt.Sprintf("%s accepted residual %s (%s) at revision %d", p.Username, out.ResidualLevel, out.Treatment, out.Revision)})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// RiskStarterResult counts what loading the starter content created.
type RiskStarterResult struct {
	Assets  int `json:"assets"`
	Threats int `json:"threats"`
	Risks   int `json:"risks"`
}

// RiskLoadStarter loads the contact-center starter model for clientID (0 =
// operator-wide): its threats into the catalogue, its assets with their
// values and dependencies, and one risk per threat on its asset (the
// model's suggested safeguards in the justification). It is idempotent:
// what exists (same codes) is kept.
func (s *Store) RiskLoadStarter(ctx context.Context, scope identity.Scope, clientID int64, m *magerit.Model) (RiskStarterResult, error) {
	var res RiskStarterResult
	err := s.InTx(ctx, func(tx *Tx) error {
		if err := riskCanWrite(scope, clientID); err != nil {
			return err
		}
		all := identity.Scope{All: true}
		threatIDs := map[string]int64{}
		for _, t := range m.Threats {
			var id int64
			err := tx.QueryRow(ctx, "SELECT id FROM isms_threats WHERE code = ?", t.Code).Scan(&id)
			if err == sql.ErrNoRows {
				th := risk.Threat{Code: t.Code, Name: t.Name, Degradation: t.Degradation, Frequency: t.Frequency}
				if err := th.Validate(); err != nil {
					return err
				}
				now := time.Now().UTC()
				d := riskDegArgs(th.Degradation)
				id, err = tx.InsertID(ctx, `INSERT INTO isms_threats (code, name, description, deg_c, deg_i, deg_t, deg_a, deg_d, frequency, created_at, updated_at)
					VALUES (?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, th.Code, th.Name, d[0], d[1], d[2], d[3], d[4], th.Frequency, TimeArg(now), TimeArg(now))
				if err != nil {
					return err
				}
				res.Threats++
			} else if err != nil {
				return err
			}
			threatIDs[t.ID] = id
		}
		assetIDs := map[string]int64{}
		for _, a := range m.Assets {
			var id int64
			err := tx.QueryRow(ctx, "SELECT id FROM isms_assets WHERE client_key = ? AND code = ?", clientID, a.ID).Scan(&id)
			if err == sql.ErrNoRows {
				now := time.Now().UTC()
				v := riskValueArgs(a.Value)
				id, err = tx.InsertID(ctx, `INSERT INTO isms_assets (code, name, type, client_id, client_key, location, description,
					val_c, val_i, val_t, val_a, val_d, created_at, updated_at) VALUES (?, ?, ?, ?, ?, '', '', ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
					a.ID, a.Name, string(a.Type), nullID(clientID), clientID, v[0], v[1], v[2], v[3], v[4], TimeArg(now), TimeArg(now))
				if err != nil {
					return err
				}
				res.Assets++
			} else if err != nil {
				return err
			}
			assetIDs[a.ID] = id
		}
		for _, d := range m.Dependencies {
			if _, err := tx.Exec(ctx, "INSERT INTO isms_asset_deps (upper_id, lower_id) VALUES (?, ?) ON CONFLICT DO NOTHING", assetIDs[d.Upper], assetIDs[d.Lower]); err != nil {
				return err
			}
		}
		if err := tx.RiskRecompute(ctx); err != nil {
			return err
		}
		for _, t := range m.Threats {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM isms_risks WHERE asset_id = ? AND threat_id = ?", assetIDs[t.Asset], threatIDs[t.ID]).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				continue
			}
			var suggested []string
			for _, sg := range m.Safeguards {
				if slices.Contains(sg.Threats, t.ID) {
					suggested = append(suggested, sg.Name)
				}
			}
			asset, _ := m.Asset(t.Asset)
			r := risk.Risk{Title: t.Name + " — " + asset.Name, AssetID: assetIDs[t.Asset], ThreatID: threatIDs[t.ID],
				Degradation: t.Degradation, Frequency: t.Frequency}
			if len(suggested) > 0 {
				r.Justification = "Suggested safeguards: " + strings.Join(suggested, "; ")
			}
			if err := tx.RiskCreate(ctx, all, &r); err != nil {
				return err
			}
			res.Risks++
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.risk.load_starter", ObjectType: "isms_risk", ClientID: clientID, After: res,
			Detail: fmt.Sprintf("contact-center starter: %d assets, %d threats, %d risks", res.Assets, res.Threats, res.Risks)})
	})
	return res, err
}

// RiskOption is a choice offered by the risk pages (a control, an owner).
type RiskOption struct {
	ID     int64
	Code   string
	Title  string
	Status string
}

// RiskControlOptions lists the controls in scope that can treat a risk.
func (s *Store) RiskControlOptions(ctx context.Context, scope identity.Scope) ([]RiskOption, error) {
	where, args := riskScopeSQL("client_id", scope, nil)
	return riskOptions(ctx, s, "SELECT id, code, title, status FROM isms_controls WHERE "+where+" ORDER BY code", args...)
}

// RiskOwnerOptions lists the active users who may own risks, approve
// policies or own corrective actions (administrators, security officers,
// DPOs and supervisors).
func (s *Store) RiskOwnerOptions(ctx context.Context) ([]RiskOption, error) {
	return riskOptions(ctx, s, `SELECT id, username, display_name, role FROM users WHERE active AND role IN ('admin', 'security', 'dpo', 'supervisor') ORDER BY username`)
}

func riskOptions(ctx context.Context, q riskQuerier, query string, args ...any) ([]RiskOption, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []RiskOption{}
	for rows.Next() {
		var o RiskOption
		if err := rows.Scan(&o.ID, &o.Code, &o.Title, &o.Status); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
