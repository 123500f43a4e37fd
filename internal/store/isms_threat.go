package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/magerit"
	"github.com/custodia/custodia/internal/isms/risk"
)

const riskThreatColumns = "id, code, name, description, deg_c, deg_i, deg_t, deg_a, deg_d, frequency, created_at, updated_at"

func scanRiskThreat(sc interface{ Scan(...any) error }, t *risk.Threat) error {
	var d [5]float64
	if err := sc.Scan(&t.ID, &t.Code, &t.Name, &t.Description, &d[0], &d[1], &d[2], &d[3], &d[4], &t.Frequency,
		ScanTime(&t.CreatedAt), ScanTime(&t.UpdatedAt)); err != nil {
		return err
	}
	t.Degradation = riskDegMap(d)
	t.Family = magerit.Threat{Code: t.Code}.Family()
	return nil
}

func riskDegMap(d [5]float64) map[risk.Dimension]float64 {
	m := map[risk.Dimension]float64{}
	for i, dim := range risk.Dimensions {
		if d[i] != 0 {
			m[dim] = d[i]
		}
	}
	return m
}

func riskDegArgs(m map[risk.Dimension]float64) [5]float64 {
	var out [5]float64
	for i, d := range risk.Dimensions {
		out[i] = m[d]
	}
	return out
}

// RiskThreats lists the threat catalogue by code. The catalogue is
// operator-wide: every ISMS user reads it.
func (s *Store) RiskThreats(ctx context.Context) ([]risk.Threat, error) {
	rows, err := s.Query(ctx, "SELECT "+riskThreatColumns+" FROM isms_threats ORDER BY code, id")
	if err != nil {
		return nil, fmt.Errorf("list threats: %w", err)
	}
	defer rows.Close()
	out := []risk.Threat{}
	for rows.Next() {
		var t risk.Threat
		if err := scanRiskThreat(rows, &t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RiskThreat returns one threat.
func (s *Store) RiskThreat(ctx context.Context, id int64) (*risk.Threat, error) {
	return riskThreat(ctx, s, id)
}

func riskThreat(ctx context.Context, q riskQuerier, id int64) (*risk.Threat, error) {
	var t risk.Threat
	if err := scanRiskThreat(q.QueryRow(ctx, "SELECT "+riskThreatColumns+" FROM isms_threats WHERE id = ?", id), &t); err != nil {
		return nil, fmt.Errorf("threat %d: %w", id, mapErr(err))
	}
	return &t, nil
}

// RiskCreateThreat validates and adds a threat to the catalogue; only
// callers who see every client change the shared catalogue.
func (s *Store) RiskCreateThreat(ctx context.Context, scope identity.Scope, t *risk.Threat) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.RiskCreateThreat(ctx, scope, t) })
}

// RiskCreateThreat is Store.RiskCreateThreat inside a transaction.
func (tx *Tx) RiskCreateThreat(ctx context.Context, scope identity.Scope, t *risk.Threat) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := riskCanWrite(scope, 0); err != nil {
		return err
	}
	now := time.Now().UTC()
	t.CreatedAt, t.UpdatedAt = now, now
	d := riskDegArgs(t.Degradation)
	id, err := tx.InsertID(ctx, `INSERT INTO isms_threats (code, name, description, deg_c, deg_i, deg_t, deg_a, deg_d, frequency, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, t.Code, t.Name, t.Description, d[0], d[1], d[2], d[3], d[4], t.Frequency, TimeArg(now), TimeArg(now))
	if err != nil {
		return riskConflict(fmt.Errorf("create threat: %w", err), "code", "is already used by another threat")
	}
	t.ID = id
	return tx.Audit(ctx, audit.Record{Action: "isms.threat.create", ObjectType: "isms_threat", ObjectID: riskID(id), After: t, Detail: t.Code})
}

// RiskUpdateThreat changes a catalogue entry. Risks keep their own
// degradation and frequency (copied when they were created).
func (s *Store) RiskUpdateThreat(ctx context.Context, scope identity.Scope, t *risk.Threat) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := riskCanWrite(scope, 0); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := riskThreat(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		t.CreatedAt, t.UpdatedAt = before.CreatedAt, time.Now().UTC()
		d := riskDegArgs(t.Degradation)
		if _, err := tx.Exec(ctx, `UPDATE isms_threats SET code = ?, name = ?, description = ?, deg_c = ?, deg_i = ?, deg_t = ?, deg_a = ?, deg_d = ?,
			frequency = ?, updated_at = ? WHERE id = ?`, t.Code, t.Name, t.Description, d[0], d[1], d[2], d[3], d[4], t.Frequency, TimeArg(t.UpdatedAt), t.ID); err != nil {
			return riskConflict(fmt.Errorf("update threat: %w", mapErr(err)), "code", "is already used by another threat")
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.threat.update", ObjectType: "isms_threat", ObjectID: riskID(t.ID), Before: before, After: t, Detail: t.Code})
	})
}

// RiskDeleteThreat removes a threat no risk uses; otherwise a field error
// lists the risks (of every client: the catalogue is shared, and only
// callers who see every client may delete).
func (s *Store) RiskDeleteThreat(ctx context.Context, scope identity.Scope, id int64) error {
	if err := riskCanWrite(scope, 0); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := riskThreat(ctx, tx, id)
		if err != nil {
			return err
		}
		refs, err := riskRefs(ctx, tx, "SELECT title FROM isms_risks WHERE threat_id = ? ORDER BY title", id)
		if err != nil {
			return err
		}
		if len(refs) > 0 {
			return identity.FieldErrors{"id": "is referred to by risks: " + strings.Join(refs, "; ")}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM isms_threats WHERE id = ?", id); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.threat.delete", ObjectType: "isms_threat", ObjectID: riskID(id), Before: before, Detail: before.Code})
	})
}
