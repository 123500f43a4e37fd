package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/compliance"
	"github.com/custodia/custodia/internal/isms/ens"
)

const ismsENSSystemColumns = "s.id, s.name, s.description, s.client_id, s.level_c, s.level_i, s.level_t, s.level_a, s.level_d, s.responsible_user_id, s.last_audit_at, s.created_at, s.updated_at"

func scanISMSENSSystem(sc interface{ Scan(...any) error }, s *compliance.ENSSystem) error {
	var client, resp sql.NullInt64
	var last nullTime
	var c, i, t, a, d int
	if err := sc.Scan(&s.ID, &s.Name, &s.Description, &client, &c, &i, &t, &a, &d, &resp, &last, ScanTime(&s.CreatedAt), ScanTime(&s.UpdatedAt)); err != nil {
		return err
	}
	s.ClientID, s.ResponsibleUserID = client.Int64, resp.Int64
	s.Valuation = ens.Valuation{C: ens.Level(c), I: ens.Level(i), T: ens.Level(t), A: ens.Level(a), D: ens.Level(d)}
	s.Category = s.Valuation.Category()
	s.LastAuditAt = time.Time{}
	if last.Valid {
		s.LastAuditAt = last.Time
	}
	return nil
}

// ISMSENSSystems lists the ENS systems in scope by name.
func (s *Store) ISMSENSSystems(ctx context.Context, scope identity.Scope) ([]compliance.ENSSystem, error) {
	where, args := ismsScopeSQL("s.", scope, nil)
	rows, err := s.Query(ctx, "SELECT "+ismsENSSystemColumns+" FROM isms_ens_systems s WHERE "+where+" ORDER BY s.name", args...)
	if err != nil {
		return nil, fmt.Errorf("list ens systems: %w", err)
	}
	defer rows.Close()
	var out []compliance.ENSSystem
	for rows.Next() {
		var sys compliance.ENSSystem
		if err := scanISMSENSSystem(rows, &sys); err != nil {
			return nil, err
		}
		out = append(out, sys)
	}
	return out, rows.Err()
}

// ISMSENSSystem returns one ENS system in scope.
func (s *Store) ISMSENSSystem(ctx context.Context, scope identity.Scope, id int64) (*compliance.ENSSystem, error) {
	return ismsENSSystem(ctx, s, scope, id)
}

func ismsENSSystem(ctx context.Context, q ismsQuerier, scope identity.Scope, id int64) (*compliance.ENSSystem, error) {
	where, args := ismsScopeSQL("s.", scope, []any{id})
	var sys compliance.ENSSystem
	if err := scanISMSENSSystem(q.QueryRow(ctx, "SELECT "+ismsENSSystemColumns+" FROM isms_ens_systems s WHERE s.id = ? AND "+where, args...), &sys); err != nil {
		return nil, fmt.Errorf("ens system %d: %w", id, mapErr(err))
	}
	return &sys, nil
}

func ismsNameConflict(err error) error {
	if errors.Is(err, ErrConflict) {
		return fmt.Errorf("%w: %w", ErrConflict, fieldConflict{"name", "is already used by another system"})
	}
	return err
}

// ISMSCreateENSSystem stores a new ENS system with its valuation.
func (s *Store) ISMSCreateENSSystem(ctx context.Context, sys *compliance.ENSSystem) error {
	now := time.Now().UTC()
	if err := sys.Validate(now); err != nil {
		return err
	}
	v := sys.Valuation
	return s.InTx(ctx, func(tx *Tx) error {
		id, err := tx.InsertID(ctx, `INSERT INTO isms_ens_systems (name, description, client_id, level_c, level_i, level_t, level_a, level_d, responsible_user_id, last_audit_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			sys.Name, sys.Description, nullID(sys.ClientID), int(v.C), int(v.I), int(v.T), int(v.A), int(v.D), nullID(sys.ResponsibleUserID), nullTimeArg(sys.LastAuditAt), TimeArg(now), TimeArg(now))
		if err != nil {
			return ismsNameConflict(err)
		}
		sys.ID, sys.CreatedAt, sys.UpdatedAt = id, now, now
		return tx.Audit(ctx, audit.Record{Action: "isms.ens_system.create", ObjectType: "isms_ens_system", ObjectID: strconv.FormatInt(id, 10),
			ClientID: sys.ClientID, After: sys, Detail: fmt.Sprintf("%s: %s → %s", sys.Name, v, sys.Category)})
	})
}

// ISMSUpdateENSSystem changes a system in scope (name, description, client,
// valuation, responsible person, last audit).
func (s *Store) ISMSUpdateENSSystem(ctx context.Context, scope identity.Scope, sys *compliance.ENSSystem) error {
	now := time.Now().UTC()
	if err := sys.Validate(now); err != nil {
		return err
	}
	v := sys.Valuation
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := ismsENSSystem(ctx, tx, scope, sys.ID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE isms_ens_systems SET name = ?, description = ?, client_id = ?, level_c = ?, level_i = ?, level_t = ?, level_a = ?, level_d = ?,
			responsible_user_id = ?, last_audit_at = ?, updated_at = ? WHERE id = ?`,
			sys.Name, sys.Description, nullID(sys.ClientID), int(v.C), int(v.I), int(v.T), int(v.A), int(v.D), nullID(sys.ResponsibleUserID), nullTimeArg(sys.LastAuditAt), TimeArg(now), sys.ID)
		if err != nil {
			return ismsNameConflict(mapErr(err))
		}
		sys.CreatedAt, sys.UpdatedAt = before.CreatedAt, now
		return tx.Audit(ctx, audit.Record{Action: "isms.ens_system.update", ObjectType: "isms_ens_system", ObjectID: strconv.FormatInt(sys.ID, 10),
			ClientID: sys.ClientID, Before: before, After: sys, Detail: fmt.Sprintf("%s: %s → %s", sys.Name, v, sys.Category)})
	})
}

// ISMSENSMeasures returns the stored measure states of a system by measure.
func (s *Store) ISMSENSMeasures(ctx context.Context, systemID int64) (map[string]compliance.MeasureState, error) {
	rows, err := s.Query(ctx, "SELECT measure, status, note, override, justification, updated_at FROM isms_ens_measures WHERE system_id = ?", systemID)
	if err != nil {
		return nil, fmt.Errorf("ens measures: %w", err)
	}
	defer rows.Close()
	out := map[string]compliance.MeasureState{}
	for rows.Next() {
		var m compliance.MeasureState
		if err := rows.Scan(&m.Measure, &m.Status, &m.Note, &m.Override, &m.Justification, ScanTime(&m.UpdatedAt)); err != nil {
			return nil, err
		}
		out[m.Measure] = m
	}
	return out, rows.Err()
}

// ISMSAllENSMeasures returns every system's measure states (the dashboard).
func (s *Store) ISMSAllENSMeasures(ctx context.Context) (map[int64]map[string]compliance.MeasureState, error) {
	rows, err := s.Query(ctx, "SELECT system_id, measure, status, override FROM isms_ens_measures")
	if err != nil {
		return nil, fmt.Errorf("ens measures: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]compliance.MeasureState{}
	for rows.Next() {
		var id int64
		var m compliance.MeasureState
		if err := rows.Scan(&id, &m.Measure, &m.Status, &m.Override); err != nil {
			return nil, err
		}
		if out[id] == nil {
			out[id] = map[string]compliance.MeasureState{}
		}
		out[id][m.Measure] = m
	}
	return out, rows.Err()
}

// ISMSSetENSMeasure stores the state of one measure of a system in scope
// (the caller checked that the measure exists).
func (s *Store) ISMSSetENSMeasure(ctx context.Context, scope identity.Scope, systemID int64, m *compliance.MeasureState) error {
	if err := m.Validate(); err != nil {
		return err
	}
	m.UpdatedAt = time.Now().UTC()
	return s.InTx(ctx, func(tx *Tx) error {
		sys, err := ismsENSSystem(ctx, tx, scope, systemID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO isms_ens_measures (system_id, measure, status, note, override, justification, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (system_id, measure) DO UPDATE SET status = excluded.status, note = excluded.note, override = excluded.override,
			justification = excluded.justification, updated_at = excluded.updated_at`,
			systemID, m.Measure, string(m.Status), m.Note, string(m.Override), m.Justification, TimeArg(m.UpdatedAt))
		if err != nil {
			return fmt.Errorf("set measure: %w", err)
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.ens_measure.update", ObjectType: "isms_ens_system", ObjectID: strconv.FormatInt(systemID, 10),
			ClientID: sys.ClientID, After: m, Detail: fmt.Sprintf("%s %s status=%s override=%s", sys.Name, m.Measure, m.Status, m.Override)})
	})
}

// ISMSENSExtras lists a system's compensatory and complementary measures.
func (s *Store) ISMSENSExtras(ctx context.Context, systemID int64) ([]compliance.ENSExtra, error) {
	rows, err := s.Query(ctx, "SELECT id, kind, title, measures, justification, created_at FROM isms_ens_extras WHERE system_id = ? ORDER BY id", systemID)
	if err != nil {
		return nil, fmt.Errorf("ens extras: %w", err)
	}
	defer rows.Close()
	var out []compliance.ENSExtra
	for rows.Next() {
		var x compliance.ENSExtra
		var measures string
		if err := rows.Scan(&x.ID, &x.Kind, &x.Title, &measures, &x.Justification, ScanTime(&x.CreatedAt)); err != nil {
			return nil, err
		}
		if measures != "" {
			x.Measures = strings.Split(measures, ",")
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// ISMSAddENSExtra stores a compensatory or complementary measure of a
// system in scope (validated by the caller with ens.SoA.AddExtra).
func (s *Store) ISMSAddENSExtra(ctx context.Context, scope identity.Scope, systemID int64, x *compliance.ENSExtra) error {
	now := time.Now().UTC()
	return s.InTx(ctx, func(tx *Tx) error {
		sys, err := ismsENSSystem(ctx, tx, scope, systemID)
		if err != nil {
			return err
		}
		id, err := tx.InsertID(ctx, "INSERT INTO isms_ens_extras (system_id, kind, title, measures, justification, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
			systemID, string(x.Kind), x.Title, strings.Join(x.Measures, ","), x.Justification, TimeArg(now))
		if err != nil {
			return err
		}
		x.ID, x.CreatedAt = id, now
		return tx.Audit(ctx, audit.Record{Action: "isms.ens_extra.add", ObjectType: "isms_ens_system", ObjectID: strconv.FormatInt(systemID, 10),
			ClientID: sys.ClientID, After: x, Detail: fmt.Sprintf("%s: %s %q", sys.Name, x.Kind, x.Title)})
	})
}

// ISMSDeleteENSExtra removes an officer-added measure of a system in scope.
func (s *Store) ISMSDeleteENSExtra(ctx context.Context, scope identity.Scope, systemID, extraID int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		sys, err := ismsENSSystem(ctx, tx, scope, systemID)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "DELETE FROM isms_ens_extras WHERE id = ? AND system_id = ?", extraID, systemID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("extra measure %d: %w", extraID, ErrNotFound)
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.ens_extra.delete", ObjectType: "isms_ens_system", ObjectID: strconv.FormatInt(systemID, 10),
			ClientID: sys.ClientID, Detail: fmt.Sprintf("%s: extra measure %d", sys.Name, extraID)})
	})
}

// ISMSSignDeclaration stores a new signed version of a system's
// Declaración de Aplicabilidad: content is its canonical JSON; the version
// number, signer and time are recorded and the digest goes to the audit
// trail. Signed versions are never changed.
func (s *Store) ISMSSignDeclaration(ctx context.Context, scope identity.Scope, d *compliance.Declaration) error {
	now := time.Now().UTC()
	sum := sha256.Sum256(d.Content)
	d.SHA256, d.SignedAt = hex.EncodeToString(sum[:]), now
	return s.InTx(ctx, func(tx *Tx) error {
		sys, err := ismsENSSystem(ctx, tx, scope, d.SystemID)
		if err != nil {
			return err
		}
		var maxV sql.NullInt64
		if err := tx.QueryRow(ctx, "SELECT MAX(version_no) FROM isms_ens_declarations WHERE system_id = ?", d.SystemID).Scan(&maxV); err != nil {
			return err
		}
		d.Version = int(maxV.Int64) + 1
		id, err := tx.InsertID(ctx, `INSERT INTO isms_ens_declarations (system_id, version_no, category, content, sha256, signed_by, signed_by_name, signed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			d.SystemID, d.Version, d.Category, string(d.Content), d.SHA256, d.SignedBy, d.SignedByName, TimeArg(now))
		if err != nil {
			return err
		}
		d.ID = id
		return tx.Audit(ctx, audit.Record{Action: "isms.ens_declaration.sign", ObjectType: "isms_ens_system", ObjectID: strconv.FormatInt(d.SystemID, 10),
			ClientID: sys.ClientID, After: d, Detail: fmt.Sprintf("%s v%d %s signed by %s sha256=%s", sys.Name, d.Version, d.Category, d.SignedByName, d.SHA256)})
	})
}

// ISMSDeclarations lists a system's signed versions, newest first (without
// content).
func (s *Store) ISMSDeclarations(ctx context.Context, systemID int64) ([]compliance.Declaration, error) {
	rows, err := s.Query(ctx, `SELECT id, system_id, version_no, category, sha256, signed_by, signed_by_name, signed_at
		FROM isms_ens_declarations WHERE system_id = ? ORDER BY version_no DESC`, systemID)
	if err != nil {
		return nil, fmt.Errorf("declarations: %w", err)
	}
	defer rows.Close()
	var out []compliance.Declaration
	for rows.Next() {
		var d compliance.Declaration
		if err := rows.Scan(&d.ID, &d.SystemID, &d.Version, &d.Category, &d.SHA256, &d.SignedBy, &d.SignedByName, ScanTime(&d.SignedAt)); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ISMSDeclaration returns one signed version with its content.
func (s *Store) ISMSDeclaration(ctx context.Context, systemID int64, version int) (*compliance.Declaration, error) {
	var d compliance.Declaration
	var content string
	err := s.QueryRow(ctx, `SELECT id, system_id, version_no, category, sha256, signed_by, signed_by_name, signed_at, content
		FROM isms_ens_declarations WHERE system_id = ? AND version_no = ?`, systemID, version).
		Scan(&d.ID, &d.SystemID, &d.Version, &d.Category, &d.SHA256, &d.SignedBy, &d.SignedByName, ScanTime(&d.SignedAt), &content)
	if err != nil {
		return nil, fmt.Errorf("declaration %d v%d: %w", systemID, version, mapErr(err))
	}
	d.Content = []byte(content)
	return &d, nil
}

// ISMSDeleteENSSystem deletes a system in scope; one that evidence or a
// signed declaration refers to is refused with the references.
func (s *Store) ISMSDeleteENSSystem(ctx context.Context, scope identity.Scope, id int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		sys, err := ismsENSSystem(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		var refs []compliance.Reference
		rows, err := tx.Query(ctx, "SELECT id, title FROM isms_evidence WHERE ens_system_id = ? ORDER BY id", id)
		if err != nil {
			return err
		}
		for rows.Next() {
			r := compliance.Reference{Kind: "evidence"}
			if err := rows.Scan(&r.ID, &r.Label); err != nil {
				rows.Close()
				return err
			}
			refs = append(refs, r)
		}
		rows.Close()
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM isms_ens_declarations WHERE system_id = ?", id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			refs = append(refs, compliance.Reference{Kind: "declaration", Label: fmt.Sprintf("%d signed version(s)", n)})
		}
		if len(refs) > 0 {
			return &compliance.InUseError{Object: "system " + sys.Name, References: refs}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM isms_ens_systems WHERE id = ?", id); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.ens_system.delete", ObjectType: "isms_ens_system", ObjectID: strconv.FormatInt(id, 10),
			ClientID: sys.ClientID, Before: sys, Detail: sys.Name})
	})
}

// ISMSSnapshot is one day's compliance of one framework for one client
// (ClientKey 0: the whole operator).
type ISMSSnapshot struct {
	Day        string `json:"day"` // YYYY-MM-DD
	Catalog    string `json:"catalog"`
	ClientKey  int64  `json:"client_id"`
	Applicable int    `json:"applicable"`
	Compliant  int    `json:"compliant"`
}

// ISMSPutSnapshots writes (or rewrites) a day's snapshots in one
// transaction.
func (s *Store) ISMSPutSnapshots(ctx context.Context, snaps []ISMSSnapshot) error {
	return s.InTx(ctx, func(tx *Tx) error {
		for _, sn := range snaps {
			if _, err := tx.Exec(ctx, `INSERT INTO isms_compliance_snapshots (day, catalog_key, client_key, applicable, compliant) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (day, catalog_key, client_key) DO UPDATE SET applicable = excluded.applicable, compliant = excluded.compliant`,
				sn.Day, sn.Catalog, sn.ClientKey, sn.Applicable, sn.Compliant); err != nil {
				return fmt.Errorf("write snapshot: %w", err)
			}
		}
		return nil
	})
}

// ISMSSnapshots returns the snapshots since day from (inclusive) for the
// given client keys, ordered by day.
func (s *Store) ISMSSnapshots(ctx context.Context, from string, clientKeys []int64) ([]ISMSSnapshot, error) {
	if len(clientKeys) == 0 {
		return nil, nil
	}
	in, args := orgInList(clientKeys, []any{from})
	rows, err := s.Query(ctx, "SELECT day, catalog_key, client_key, applicable, compliant FROM isms_compliance_snapshots WHERE day >= ? AND client_key IN "+in+" ORDER BY day, catalog_key, client_key", args...)
	if err != nil {
		return nil, fmt.Errorf("snapshots: %w", err)
	}
	defer rows.Close()
	var out []ISMSSnapshot
	for rows.Next() {
		var sn ISMSSnapshot
		if err := rows.Scan(&sn.Day, &sn.Catalog, &sn.ClientKey, &sn.Applicable, &sn.Compliant); err != nil {
			return nil, err
		}
		out = append(out, sn)
	}
	return out, rows.Err()
}

// ISMSRiskCounts reads the risk module's tables defensively: open findings
// and risks whose residual level is above the appetite, for the scope.
// Missing tables count as zero.
func (s *Store) ISMSRiskCounts(ctx context.Context, scope identity.Scope) (openFindings, aboveAppetite int, err error) {
	levels := []string{"MB", "B", "M", "A", "MA"}
	if ok, err := s.ISMSTableExists(ctx, "isms_findings"); err != nil {
		return 0, 0, err
	} else if ok {
		where, args := ismsScopeSQL("", scope, nil)
		if err := s.QueryRow(ctx, "SELECT COUNT(*) FROM isms_findings WHERE status = 'open' AND "+where, args...).Scan(&openFindings); err != nil {
			return 0, 0, fmt.Errorf("count findings: %w", err)
		}
	}
	ok, err := s.ISMSTableExists(ctx, "isms_risks")
	if err != nil || !ok {
		return openFindings, 0, err
	}
	appetite := "M"
	if ok, _ := s.ISMSTableExists(ctx, "isms_risk_settings"); ok {
		var a string
		if err := s.QueryRow(ctx, "SELECT appetite FROM isms_risk_settings ORDER BY 1 LIMIT 1").Scan(&a); err == nil && a != "" {
			appetite = a
		}
	}
	var above []any
	for i, l := range levels {
		if i > indexOf(levels, appetite) {
			above = append(above, l)
		}
	}
	if len(above) == 0 {
		return openFindings, 0, nil
	}
	where, args := ismsScopeSQL("", scope, above)
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(above)), ", ")
	if err := s.QueryRow(ctx, "SELECT COUNT(*) FROM isms_risks WHERE residual_level IN ("+marks+") AND "+where, args...).Scan(&aboveAppetite); err != nil {
		return openFindings, 0, fmt.Errorf("count risks: %w", err)
	}
	return openFindings, aboveAppetite, nil
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return len(xs)
}
