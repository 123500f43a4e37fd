package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/magerit"
	"github.com/custodia/custodia/internal/isms/risk"
)

// riskScopeSQL restricts an ISMS table to the scope: rows of the scope's
// clients and operator-wide rows (client NULL), which every ISMS user
// shares (the organisation's policies, shared infrastructure).
func riskScopeSQL(col string, scope identity.Scope, args []any) (string, []any) {
	if scope.All {
		return "1 = 1", args
	}
	if len(scope.ClientIDs) == 0 {
		return col + " IS NULL", args
	}
	in, args := orgInList(scope.ClientIDs, args)
	return "(" + col + " IS NULL OR " + col + " IN " + in + ")", args
}

// riskCanWrite checks that the scope may change a row of clientID: its own
// client's rows, and operator-wide rows only for callers who see every client.
func riskCanWrite(scope identity.Scope, clientID int64) error {
	if scope.All {
		return nil
	}
	if clientID == 0 {
		return identity.FieldErrors{"client_id": "operator-wide records can only be changed by users who see every client"}
	}
	if !slices.Contains(scope.ClientIDs, clientID) {
		return identity.FieldErrors{"client_id": "is not a known client"}
	}
	return nil
}

func riskID(id int64) string { return strconv.FormatInt(id, 10) }

const riskAssetColumns = "id, code, name, type, client_id, owner_user_id, location, description, val_c, val_i, val_t, val_a, val_d, acc_c, acc_i, acc_t, acc_a, acc_d, created_at, updated_at"

func scanRiskAsset(sc interface{ Scan(...any) error }, a *risk.Asset) error {
	var client, owner sql.NullInt64
	var typ string
	var v, acc [5]int
	if err := sc.Scan(&a.ID, &a.Code, &a.Name, &typ, &client, &owner, &a.Location, &a.Description,
		&v[0], &v[1], &v[2], &v[3], &v[4], &acc[0], &acc[1], &acc[2], &acc[3], &acc[4], ScanTime(&a.CreatedAt), ScanTime(&a.UpdatedAt)); err != nil {
		return err
	}
	a.Type, a.ClientID, a.OwnerUserID = magerit.AssetType(typ), client.Int64, owner.Int64
	a.Value, a.Accumulated = magerit.Values{}, magerit.Values{}
	for i, d := range risk.Dimensions {
		if v[i] != 0 {
			a.Value[d] = v[i]
		}
		if acc[i] != 0 {
			a.Accumulated[d] = acc[i]
		}
	}
	a.DependsOn = []int64{}
	return nil
}

type riskQuerier interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// RiskAssets lists the assets in scope by code, with their dependencies.
func (s *Store) RiskAssets(ctx context.Context, scope identity.Scope) ([]risk.Asset, error) {
	return riskAssets(ctx, s, scope, "", nil)
}

func riskAssets(ctx context.Context, q riskQuerier, scope identity.Scope, extra string, extraArgs []any) ([]risk.Asset, error) {
	where, args := riskScopeSQL("client_id", scope, nil)
	if extra != "" {
		where += " AND " + extra
		args = append(args, extraArgs...)
	}
	rows, err := q.Query(ctx, "SELECT "+riskAssetColumns+" FROM isms_assets WHERE "+where+" ORDER BY code, id", args...)
	if err != nil {
		return nil, fmt.Errorf("list assets: %w", err)
	}
	out := []risk.Asset{}
	index := map[int64]int{}
	for rows.Next() {
		var a risk.Asset
		if err := scanRiskAsset(rows, &a); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list assets: %w", err)
		}
		index[a.ID] = len(out)
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list assets: %w", err)
	}
	deps, err := q.Query(ctx, "SELECT upper_id, lower_id FROM isms_asset_deps ORDER BY upper_id, lower_id")
	if err != nil {
		return nil, fmt.Errorf("list asset dependencies: %w", err)
	}
	defer deps.Close()
	for deps.Next() {
		var u, l int64
		if err := deps.Scan(&u, &l); err != nil {
			return nil, err
		}
		if i, ok := index[u]; ok {
			if _, vis := index[l]; vis {
				out[i].DependsOn = append(out[i].DependsOn, l)
			}
		}
	}
	return out, deps.Err()
}

// RiskAsset returns the asset with id if it is in scope.
func (s *Store) RiskAsset(ctx context.Context, scope identity.Scope, id int64) (*risk.Asset, error) {
	return riskAsset(ctx, s, scope, id)
}

func riskAsset(ctx context.Context, q riskQuerier, scope identity.Scope, id int64) (*risk.Asset, error) {
	list, err := riskAssets(ctx, q, scope, "id = ?", []any{id})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("asset %d: %w", id, ErrNotFound)
	}
	a := list[0]
	rows, err := q.Query(ctx, "SELECT lower_id FROM isms_asset_deps WHERE upper_id = ? ORDER BY lower_id", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var l int64
		if err := rows.Scan(&l); err != nil {
			return nil, err
		}
		a.DependsOn = append(a.DependsOn, l)
	}
	return &a, rows.Err()
}

// RiskCreateAsset validates and inserts a, its dependencies included, and
// recomputes the accumulated values and the risks.
func (s *Store) RiskCreateAsset(ctx context.Context, scope identity.Scope, a *risk.Asset) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.RiskCreateAsset(ctx, scope, a) })
}

// RiskCreateAsset is Store.RiskCreateAsset inside a transaction.
func (tx *Tx) RiskCreateAsset(ctx context.Context, scope identity.Scope, a *risk.Asset) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if err := riskCanWrite(scope, a.ClientID); err != nil {
		return err
	}
	if err := tx.riskCheckUser(ctx, "owner_user_id", a.OwnerUserID); err != nil {
		return err
	}
	now := time.Now().UTC()
	a.CreatedAt, a.UpdatedAt = now, now
	v := riskValueArgs(a.Value)
	id, err := tx.InsertID(ctx, `INSERT INTO isms_assets (code, name, type, client_id, client_key, owner_user_id, location, description,
		val_c, val_i, val_t, val_a, val_d, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.Code, a.Name, string(a.Type), nullID(a.ClientID), a.ClientID, nullID(a.OwnerUserID), a.Location, a.Description,
		v[0], v[1], v[2], v[3], v[4], TimeArg(now), TimeArg(now))
	if err != nil {
		return riskConflict(fmt.Errorf("create asset: %w", err), "code", "is already used by another asset")
	}
	a.ID = id
	if err := tx.riskSetDeps(ctx, scope, a); err != nil {
		return err
	}
	if len(a.DependsOn) == 0 {
		// Nothing depends on a new asset and it depends on nothing: its
		// accumulated value is its own, and no other asset changes.
		if _, err := tx.Exec(ctx, "UPDATE isms_assets SET acc_c = val_c, acc_i = val_i, acc_t = val_t, acc_a = val_a, acc_d = val_d WHERE id = ?", id); err != nil {
			return err
		}
		a.Accumulated = magerit.Values{}
		for d, x := range a.Value {
			if x != 0 {
				a.Accumulated[d] = x
			}
		}
	} else if err := tx.RiskRecompute(ctx); err != nil {
		return err
	}
	return tx.Audit(ctx, audit.Record{Action: "isms.asset.create", ObjectType: "isms_asset", ObjectID: riskID(id), ClientID: a.ClientID, After: a, Detail: a.Code})
}

// RiskUpdateAsset saves a's fields and dependencies.
func (s *Store) RiskUpdateAsset(ctx context.Context, scope identity.Scope, a *risk.Asset) error {
	if err := a.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := riskAsset(ctx, tx, scope, a.ID)
		if err != nil {
			return err
		}
		if err := riskCanWrite(scope, before.ClientID); err != nil {
			return err
		}
		if err := riskCanWrite(scope, a.ClientID); err != nil {
			return err
		}
		if err := tx.riskCheckUser(ctx, "owner_user_id", a.OwnerUserID); err != nil {
			return err
		}
		a.CreatedAt, a.UpdatedAt = before.CreatedAt, time.Now().UTC()
		v := riskValueArgs(a.Value)
		_, err = tx.Exec(ctx, `UPDATE isms_assets SET code = ?, name = ?, type = ?, client_id = ?, client_key = ?, owner_user_id = ?, location = ?,
			description = ?, val_c = ?, val_i = ?, val_t = ?, val_a = ?, val_d = ?, updated_at = ? WHERE id = ?`,
			a.Code, a.Name, string(a.Type), nullID(a.ClientID), a.ClientID, nullID(a.OwnerUserID), a.Location, a.Description,
			v[0], v[1], v[2], v[3], v[4], TimeArg(a.UpdatedAt), a.ID)
		if err != nil {
			return riskConflict(fmt.Errorf("update asset: %w", mapErr(err)), "code", "is already used by another asset")
		}
		if _, err := tx.Exec(ctx, "UPDATE isms_risks SET client_id = ? WHERE asset_id = ?", nullID(a.ClientID), a.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM isms_asset_deps WHERE upper_id = ?", a.ID); err != nil {
			return err
		}
		if err := tx.riskSetDeps(ctx, scope, a); err != nil {
			return err
		}
		if err := tx.RiskRecompute(ctx); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.asset.update", ObjectType: "isms_asset", ObjectID: riskID(a.ID), ClientID: a.ClientID, Before: before, After: a, Detail: a.Code})
	})
}

// RiskDeleteAsset deletes an asset that no risk refers to; otherwise it
// answers a field error listing the risks.
func (s *Store) RiskDeleteAsset(ctx context.Context, scope identity.Scope, id int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := riskAsset(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		if err := riskCanWrite(scope, before.ClientID); err != nil {
			return err
		}
		refs, err := riskRefs(ctx, tx, "SELECT title FROM isms_risks WHERE asset_id = ? ORDER BY title", id)
		if err != nil {
			return err
		}
		if len(refs) > 0 {
			return identity.FieldErrors{"id": "is referred to by risks: " + strings.Join(refs, "; ")}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM isms_assets WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete asset: %w", err)
		}
		if err := tx.RiskRecompute(ctx); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.asset.delete", ObjectType: "isms_asset", ObjectID: riskID(id), ClientID: before.ClientID, Before: before, Detail: before.Code})
	})
}

func riskRefs(ctx context.Context, q riskQuerier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// riskSetDeps inserts a's dependencies after checking each lower asset is
// visible and compatible (an operator-wide asset depends on operator-wide
// assets only; a client's asset on its client's or operator-wide ones).
func (tx *Tx) riskSetDeps(ctx context.Context, scope identity.Scope, a *risk.Asset) error {
	var unknown []string
	seen := map[int64]bool{}
	for _, l := range a.DependsOn {
		if seen[l] {
			continue
		}
		seen[l] = true
		if l == a.ID {
			return identity.FieldErrors{"depends_on": "an asset cannot depend on itself"}
		}
		lower, err := riskAsset(ctx, tx, scope, l)
		if err != nil {
			unknown = append(unknown, riskID(l))
			continue
		}
		if lower.ClientID != 0 && lower.ClientID != a.ClientID {
			return identity.FieldErrors{"depends_on": fmt.Sprintf("asset %s belongs to another client than %s", lower.Code, a.Code)}
		}
		if _, err := tx.Exec(ctx, "INSERT INTO isms_asset_deps (upper_id, lower_id) VALUES (?, ?)", a.ID, l); err != nil {
			return fmt.Errorf("add dependency: %w", err)
		}
	}
	if len(unknown) > 0 {
		return identity.FieldErrors{"depends_on": "unknown assets: " + strings.Join(unknown, ", ")}
	}
	a.DependsOn = a.DependsOn[:0]
	for l := range seen {
		a.DependsOn = append(a.DependsOn, l)
	}
	slices.Sort(a.DependsOn)
	return nil
}

func (tx *Tx) riskCheckUser(ctx context.Context, field string, userID int64) error {
	if userID == 0 {
		return nil
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM users WHERE id = ?", userID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return identity.FieldErrors{field: "is not a known user"}
	}
	return nil
}

func riskValueArgs(v magerit.Values) [5]int {
	var out [5]int
	for i, d := range risk.Dimensions {
		out[i] = v[d]
	}
	return out
}

func riskConflict(err error, field, msg string) error {
	if strings.Contains(err.Error(), ErrConflict.Error()) || strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "23505") {
		return identity.FieldErrors{field: msg}
	}
	return err
}

// RiskRecompute propagates asset values along the dependencies and
// recomputes every risk's potential and residual levels, storing what
// changed. A risk whose residual level changes gets a new revision (which
// invalidates its sign-off).
func (tx *Tx) RiskRecompute(ctx context.Context) error {
	all := identity.Scope{All: true}
	assets, err := riskAssets(ctx, tx, all, "", nil)
	if err != nil {
		return err
	}
	acc, err := risk.Accumulate(assets)
	if err != nil {
		return err
	}
	for _, a := range assets {
		nv := acc[a.ID]
		if riskValueArgs(nv) == riskValueArgs(a.Accumulated) {
			continue
		}
		v := riskValueArgs(nv)
		if _, err := tx.Exec(ctx, "UPDATE isms_assets SET acc_c = ?, acc_i = ?, acc_t = ?, acc_a = ?, acc_d = ? WHERE id = ?",
			v[0], v[1], v[2], v[3], v[4], a.ID); err != nil {
			return fmt.Errorf("store accumulated value: %w", err)
		}
	}
	type stored struct {
		pi, pf, ri, rf float64
		pl, rl, dim    string
	}
	prev := map[int64]stored{}
	rows, err := tx.Query(ctx, "SELECT id, potential_impact, potential_freq, potential_level, residual_impact, residual_freq, residual_level, worst_dimension FROM isms_risks")
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var x stored
		if err := rows.Scan(&id, &x.pi, &x.pf, &x.pl, &x.ri, &x.rf, &x.rl, &x.dim); err != nil {
			rows.Close()
			return err
		}
		prev[id] = x
	}
	rows.Close()
	risks, err := riskList(ctx, tx, all, "", nil)
	if err != nil {
		return err
	}
	for i := range risks {
		r := &risks[i] // computed with the accumulated values just stored
		was := prev[r.ID]
		now := stored{r.Potential.Impact, r.Potential.Frequency, r.Residual.Impact, r.Residual.Frequency,
			r.Potential.Level.String(), r.Residual.Level.String(), string(r.Residual.Dimension)}
		if was == now {
			continue
		}
		if err := tx.riskStoreComputed(ctx, r, was.rl != now.rl); err != nil {
			return err
		}
	}
	return nil
}
