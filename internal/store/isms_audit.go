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
	"github.com/custodia/custodia/internal/isms/auditprog"
	"github.com/custodia/custodia/internal/isms/catalog"
)

const ismsAuditColumns = `id, title, kind, client_id, framework, scope, auditors, status, planned_start, planned_end, created_at, updated_at,
	(SELECT COUNT(*) FROM isms_audit_checklist c WHERE c.audit_id = isms_audits.id),
	(SELECT COUNT(*) FROM isms_findings f WHERE f.audit_id = isms_audits.id AND f.status = 'open')`

func scanISMSAudit(sc interface{ Scan(...any) error }, a *auditprog.Audit) error {
	var client sql.NullInt64
	if err := sc.Scan(&a.ID, &a.Title, &a.Kind, &client, &a.Framework, &a.Scope, &a.Auditors, &a.Status, ScanTime(&a.PlannedStart), ScanTime(&a.PlannedEnd),
		ScanTime(&a.CreatedAt), ScanTime(&a.UpdatedAt), &a.Checklist, &a.OpenFindings); err != nil {
		return err
	}
	a.ClientID = client.Int64
	return nil
}

// ISMSAudits lists the audit programme in scope, by planned start.
func (s *Store) ISMSAudits(ctx context.Context, scope identity.Scope) ([]auditprog.Audit, error) {
	where, args := riskScopeSQL("client_id", scope, nil)
	rows, err := s.Query(ctx, "SELECT "+ismsAuditColumns+" FROM isms_audits WHERE "+where+" ORDER BY COALESCE(planned_start, created_at), id", args...)
	if err != nil {
		return nil, fmt.Errorf("list audits: %w", err)
	}
	defer rows.Close()
	out := []auditprog.Audit{}
	for rows.Next() {
		var a auditprog.Audit
		if err := scanISMSAudit(rows, &a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ISMSAudit returns one audit in scope.
func (s *Store) ISMSAudit(ctx context.Context, scope identity.Scope, id int64) (*auditprog.Audit, error) {
	return ismsAuditGet(ctx, s, scope, id)
}

func ismsAuditGet(ctx context.Context, q riskQuerier, scope identity.Scope, id int64) (*auditprog.Audit, error) {
	where, args := riskScopeSQL("client_id", scope, nil)
	args = append(args, id)
	var a auditprog.Audit
	if err := scanISMSAudit(q.QueryRow(ctx, "SELECT "+ismsAuditColumns+" FROM isms_audits WHERE "+where+" AND id = ?", args...), &a); err != nil {
		return nil, fmt.Errorf("audit %d: %w", id, mapErr(err))
	}
	return &a, nil
}

// ISMSAuditCreate validates and inserts an audit with its checklist (built
// by auditprog.Checklist from the scope).
func (s *Store) ISMSAuditCreate(ctx context.Context, scope identity.Scope, lib *catalog.Library, a *auditprog.Audit, items []auditprog.ChecklistItem) error {
	if err := a.Validate(lib); err != nil {
		return err
	}
	if err := riskCanWrite(scope, a.ClientID); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		now := time.Now().UTC()
		a.CreatedAt, a.UpdatedAt = now, now
		id, err := tx.InsertID(ctx, `INSERT INTO isms_audits (title, kind, client_id, framework, scope, auditors, status, planned_start, planned_end, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.Title, a.Kind, nullID(a.ClientID), a.Framework, a.Scope, a.Auditors, a.Status,
			TimeArg(a.PlannedStart), TimeArg(a.PlannedEnd), TimeArg(now), TimeArg(now))
		if err != nil {
			return fmt.Errorf("create audit: %w", err)
		}
		a.ID = id
		for i, it := range items {
			if _, err := tx.Exec(ctx, "INSERT INTO isms_audit_checklist (audit_id, position, requirement, title) VALUES (?, ?, ?, ?)",
				id, i+1, it.Requirement, it.Title); err != nil {
				return fmt.Errorf("create checklist: %w", err)
			}
		}
		a.Checklist = len(items)
		return tx.Audit(ctx, audit.Record{Action: "isms.audit.create", ObjectType: "isms_audit", ObjectID: riskID(id), ClientID: a.ClientID, After: a,
			Detail: fmt.Sprintf("%s (%s, %d checklist lines)", a.Title, a.Framework, len(items))})
	})
}

// ISMSAuditUpdate saves an audit's fields (the framework and checklist stay).
func (s *Store) ISMSAuditUpdate(ctx context.Context, scope identity.Scope, lib *catalog.Library, a *auditprog.Audit) error {
	if err := a.Validate(lib); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := ismsAuditGet(ctx, tx, scope, a.ID)
		if err != nil {
			return err
		}
		if err := riskCanWrite(scope, before.ClientID); err != nil {
			return err
		}
		if a.Framework != before.Framework {
			return identity.FieldErrors{"framework": "cannot change once the checklist is generated; create another audit"}
		}
		if err := riskCanWrite(scope, a.ClientID); err != nil {
			return err
		}
		a.CreatedAt, a.UpdatedAt = before.CreatedAt, time.Now().UTC()
		if _, err := tx.Exec(ctx, `UPDATE isms_audits SET title = ?, kind = ?, client_id = ?, scope = ?, auditors = ?, status = ?, planned_start = ?, planned_end = ?,
			updated_at = ? WHERE id = ?`, a.Title, a.Kind, nullID(a.ClientID), a.Scope, a.Auditors, a.Status, TimeArg(a.PlannedStart), TimeArg(a.PlannedEnd),
			TimeArg(a.UpdatedAt), a.ID); err != nil {
			return fmt.Errorf("update audit: %w", err)
		}
		if _, err := tx.Exec(ctx, "UPDATE isms_findings SET client_id = ? WHERE audit_id = ?", nullID(a.ClientID), a.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.audit.update", ObjectType: "isms_audit", ObjectID: riskID(a.ID), ClientID: a.ClientID, Before: before, After: a, Detail: a.Title})
	})
}

// ISMSAuditChecklist returns an audit's checklist in order.
func (s *Store) ISMSAuditChecklist(ctx context.Context, scope identity.Scope, auditID int64) ([]auditprog.ChecklistItem, error) {
	if _, err := ismsAuditGet(ctx, s, scope, auditID); err != nil {
		return nil, err
	}
	rows, err := s.Query(ctx, "SELECT id, position, requirement, title, result, notes FROM isms_audit_checklist WHERE audit_id = ? ORDER BY position", auditID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []auditprog.ChecklistItem{}
	for rows.Next() {
		var it auditprog.ChecklistItem
		if err := rows.Scan(&it.ID, &it.Position, &it.Requirement, &it.Title, &it.Result, &it.Notes); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// ISMSAuditSetResult records the result of one checklist line.
func (s *Store) ISMSAuditSetResult(ctx context.Context, scope identity.Scope, auditID, itemID int64, result, notes string) error {
	if !slices.Contains(auditprog.Results, result) {
		return identity.FieldErrors{"result": "must be conforming, nonconforming, observation, not_applicable or empty"}
	}
	if len(notes) > 8000 {
		return identity.FieldErrors{"notes": "is too long (at most 8000 characters)"}
	}
	return s.InTx(ctx, func(tx *Tx) error {
		a, err := ismsAuditGet(ctx, tx, scope, auditID)
		if err != nil {
			return err
		}
		if err := riskCanWrite(scope, a.ClientID); err != nil {
			return err
		}
		var req string
		if err := tx.QueryRow(ctx, "SELECT requirement FROM isms_audit_checklist WHERE id = ? AND audit_id = ?", itemID, auditID).Scan(&req); err != nil {
			return fmt.Errorf("checklist line %d: %w", itemID, mapErr(err))
		}
		if _, err := tx.Exec(ctx, "UPDATE isms_audit_checklist SET result = ?, notes = ? WHERE id = ?", result, strings.TrimSpace(notes), itemID); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.audit.checklist", ObjectType: "isms_audit", ObjectID: riskID(auditID), ClientID: a.ClientID,
			Detail: fmt.Sprintf("%s: %s", req, result)})
	})
}

const ismsFindingColumns = `f.id, f.audit_id, f.client_id, f.kind, f.title, f.description, f.requirement, f.control_id, COALESCE(c.code, ''), f.status,
	f.created_at, f.updated_at, f.closed_at`

// ISMSFindingFilter selects findings.
type ISMSFindingFilter struct {
	AuditID int64
	Status  string
}

// ISMSFindings lists findings in scope with their corrective actions.
func (s *Store) ISMSFindings(ctx context.Context, scope identity.Scope, f ISMSFindingFilter) ([]auditprog.Finding, error) {
	return ismsFindings(ctx, s, scope, f, 0)
}

func ismsFindings(ctx context.Context, q riskQuerier, scope identity.Scope, f ISMSFindingFilter, id int64) ([]auditprog.Finding, error) {
	where, args := riskScopeSQL("f.client_id", scope, nil)
	if f.AuditID != 0 {
		where, args = where+" AND f.audit_id = ?", append(args, f.AuditID)
	}
	if f.Status != "" {
		where, args = where+" AND f.status = ?", append(args, f.Status)
	}
	if id != 0 {
		where, args = where+" AND f.id = ?", append(args, id)
	}
	rows, err := q.Query(ctx, "SELECT "+ismsFindingColumns+" FROM isms_findings f LEFT JOIN isms_controls c ON c.id = f.control_id WHERE "+where+" ORDER BY f.audit_id, f.id", args...)
	if err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	out := []auditprog.Finding{}
	index := map[int64]int{}
	for rows.Next() {
		var x auditprog.Finding
		var client, ctrl sql.NullInt64
		if err := rows.Scan(&x.ID, &x.AuditID, &client, &x.Kind, &x.Title, &x.Description, &x.Requirement, &ctrl, &x.ControlCode, &x.Status,
			ScanTime(&x.CreatedAt), ScanTime(&x.UpdatedAt), ScanTime(&x.ClosedAt)); err != nil {
			rows.Close()
			return nil, err
		}
		x.ClientID, x.ControlID, x.CAPAs = client.Int64, ctrl.Int64, []auditprog.CAPA{}
		index[x.ID] = len(out)
		out = append(out, x)
	}
	rows.Close()
	if len(out) == 0 {
		return out, rows.Err()
	}
	capas, err := ismsCAPAs(ctx, q, "1 = 1", nil)
	if err != nil {
		return nil, err
	}
	for _, c := range capas {
		if i, ok := index[c.FindingID]; ok {
			out[i].CAPAs = append(out[i].CAPAs, c)
		}
	}
	return out, nil
}

// ISMSFinding returns one finding in scope.
func (s *Store) ISMSFinding(ctx context.Context, scope identity.Scope, id int64) (*auditprog.Finding, error) {
	return ismsFindingGet(ctx, s, scope, id)
}

func ismsFindingGet(ctx context.Context, q riskQuerier, scope identity.Scope, id int64) (*auditprog.Finding, error) {
	list, err := ismsFindings(ctx, q, scope, ISMSFindingFilter{}, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("finding %d: %w", id, ErrNotFound)
	}
	return &list[0], nil
}

// ismsCheckFinding checks a finding's references: its requirement must be
// on the audit's checklist, its control a visible one.
func (tx *Tx) ismsCheckFinding(ctx context.Context, scope identity.Scope, a *auditprog.Audit, f *auditprog.Finding) error {
	fe := identity.FieldErrors{}
	if f.Requirement != "" {
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM isms_audit_checklist WHERE audit_id = ? AND requirement = ?", a.ID, f.Requirement).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			fe["requirement"] = fmt.Sprintf("%s is not in this audit's scope (%s)", f.Requirement, a.Framework)
		}
	}
	if f.ControlID != 0 {
		where, args := riskScopeSQL("client_id", scope, nil)
		args = append(args, f.ControlID)
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM isms_controls WHERE "+where+" AND id = ?", args...).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			fe["control_id"] = "is not a known control"
		}
	}
	return fe.Err()
}

// ISMSFindingCreate records a finding of an audit in scope.
func (s *Store) ISMSFindingCreate(ctx context.Context, scope identity.Scope, f *auditprog.Finding) error {
	if err := f.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		a, err := ismsAuditGet(ctx, tx, scope, f.AuditID)
		if err != nil {
			return err
		}
		if err := riskCanWrite(scope, a.ClientID); err != nil {
			return err
		}
		if err := tx.ismsCheckFinding(ctx, scope, a, f); err != nil {
			return err
		}
		now := time.Now().UTC()
		f.ClientID, f.Status, f.CreatedAt, f.UpdatedAt, f.CAPAs = a.ClientID, "open", now, now, []auditprog.CAPA{}
		f.ID, err = tx.InsertID(ctx, `INSERT INTO isms_findings (audit_id, client_id, kind, title, description, requirement, control_id, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?) RETURNING id`, f.AuditID, nullID(f.ClientID), f.Kind, f.Title, f.Description, f.Requirement,
			nullID(f.ControlID), TimeArg(now), TimeArg(now))
		if err != nil {
			return fmt.Errorf("create finding: %w", err)
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.finding.create", ObjectType: "isms_finding", ObjectID: riskID(f.ID), ClientID: f.ClientID, After: f,
			Detail: f.Kind + ": " + f.Title})
	})
}

// ISMSFindingUpdate saves a finding; a non-conformity closes only when
// every corrective action is closed.
func (s *Store) ISMSFindingUpdate(ctx context.Context, scope identity.Scope, f *auditprog.Finding) error {
	if err := f.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := ismsFindingGet(ctx, tx, scope, f.ID)
		if err != nil {
			return err
		}
		if err := riskCanWrite(scope, before.ClientID); err != nil {
			return err
		}
		a, err := ismsAuditGet(ctx, tx, scope, before.AuditID)
		if err != nil {
			return err
		}
		f.AuditID = before.AuditID
		if err := tx.ismsCheckFinding(ctx, scope, a, f); err != nil {
			return err
		}
		if f.Status == "closed" && before.Status != "closed" {
			var open []string
			for _, c := range before.CAPAs {
				if c.Status != "closed" {
					open = append(open, c.Title)
				}
			}
			if len(open) > 0 {
				return identity.FieldErrors{"status": "close its corrective actions first: " + strings.Join(open, "; ")}
			}
			if f.NonConformity() && len(before.CAPAs) == 0 {
				return identity.FieldErrors{"status": "a non-conformity needs a corrective action before it closes"}
			}
			f.ClosedAt = time.Now().UTC()
		} else if f.Status == "open" {
			f.ClosedAt = time.Time{}
		} else {
			f.ClosedAt = before.ClosedAt
		}
		f.UpdatedAt, f.CreatedAt, f.ClientID = time.Now().UTC(), before.CreatedAt, before.ClientID
		if _, err := tx.Exec(ctx, `UPDATE isms_findings SET kind = ?, title = ?, description = ?, requirement = ?, control_id = ?, status = ?, updated_at = ?, closed_at = ?
			WHERE id = ?`, f.Kind, f.Title, f.Description, f.Requirement, nullID(f.ControlID), f.Status, TimeArg(f.UpdatedAt), TimeArg(f.ClosedAt), f.ID); err != nil {
			return fmt.Errorf("update finding: %w", err)
		}
		before.CAPAs = nil
		return tx.Audit(ctx, audit.Record{Action: "isms.finding.update", ObjectType: "isms_finding", ObjectID: riskID(f.ID), ClientID: f.ClientID, Before: before, After: f,
			Detail: f.Status + ": " + f.Title})
	})
}

const ismsCAPAColumns = `id, finding_id, title, owner_user_id, due_date, root_cause, action, status, verification, verified_by, verified_at, closed_at,
	escalated_at, created_at, updated_at`

func ismsCAPAs(ctx context.Context, q riskQuerier, where string, args []any) ([]auditprog.CAPA, error) {
	rows, err := q.Query(ctx, "SELECT "+ismsCAPAColumns+" FROM isms_capas WHERE "+where+" ORDER BY due_date, id", args...)
	if err != nil {
		return nil, fmt.Errorf("list corrective actions: %w", err)
	}
	defer rows.Close()
	out := []auditprog.CAPA{}
	for rows.Next() {
		var c auditprog.CAPA
		var owner sql.NullInt64
		var due string
		if err := rows.Scan(&c.ID, &c.FindingID, &c.Title, &owner, &due, &c.RootCause, &c.Action, &c.Status, &c.Verification, &c.VerifiedBy,
			ScanTime(&c.VerifiedAt), ScanTime(&c.ClosedAt), ScanTime(&c.EscalatedAt), ScanTime(&c.CreatedAt), ScanTime(&c.UpdatedAt)); err != nil {
			return nil, err
		}
		c.OwnerUserID = owner.Int64
		c.DueDate, _ = auditprog.ParseDate(due)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ISMSCAPA returns one corrective action whose finding is in scope.
func (s *Store) ISMSCAPA(ctx context.Context, scope identity.Scope, id int64) (*auditprog.CAPA, *auditprog.Finding, error) {
	return ismsCAPAGet(ctx, s, scope, id)
}

func ismsCAPAGet(ctx context.Context, q riskQuerier, scope identity.Scope, id int64) (*auditprog.CAPA, *auditprog.Finding, error) {
	list, err := ismsCAPAs(ctx, q, "id = ?", []any{id})
	if err != nil {
		return nil, nil, err
	}
	if len(list) == 0 {
		return nil, nil, fmt.Errorf("corrective action %d: %w", id, ErrNotFound)
	}
	f, err := ismsFindingGet(ctx, q, scope, list[0].FindingID)
	if err != nil {
		return nil, nil, fmt.Errorf("corrective action %d: %w", id, ErrNotFound)
	}
	return &list[0], f, nil
}

// ISMSCAPACreate adds a corrective action to a finding in scope.
func (s *Store) ISMSCAPACreate(ctx context.Context, scope identity.Scope, c *auditprog.CAPA) error {
	c.Status = "open"
	if err := c.Validate(nil); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		f, err := ismsFindingGet(ctx, tx, scope, c.FindingID)
		if err != nil {
			return identity.FieldErrors{"finding_id": "is not a known finding"}
		}
		if err := riskCanWrite(scope, f.ClientID); err != nil {
			return err
		}
		if err := tx.riskCheckUser(ctx, "owner_user_id", c.OwnerUserID); err != nil {
			return err
		}
		now := time.Now().UTC()
		c.CreatedAt, c.UpdatedAt = now, now
		c.ID, err = tx.InsertID(ctx, `INSERT INTO isms_capas (finding_id, title, owner_user_id, due_date, root_cause, action, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?) RETURNING id`, c.FindingID, c.Title, nullID(c.OwnerUserID), c.DueDate.Format("2006-01-02"),
			c.RootCause, c.Action, TimeArg(now), TimeArg(now))
		if err != nil {
			return fmt.Errorf("create corrective action: %w", err)
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.capa.create", ObjectType: "isms_capa", ObjectID: riskID(c.ID), ClientID: f.ClientID, After: c, Detail: c.Title})
	})
}

// ISMSCAPAUpdate saves a corrective action; verifying records who (by) and
// when, closing requires a verified action.
func (s *Store) ISMSCAPAUpdate(ctx context.Context, scope identity.Scope, by string, c *auditprog.CAPA) error {
	return s.InTx(ctx, func(tx *Tx) error {
		before, f, err := ismsCAPAGet(ctx, tx, scope, c.ID)
		if err != nil {
			return err
		}
		if err := riskCanWrite(scope, f.ClientID); err != nil {
			return err
		}
		if err := c.Validate(before); err != nil {
			return err
		}
		if err := tx.riskCheckUser(ctx, "owner_user_id", c.OwnerUserID); err != nil {
			return err
		}
		now := time.Now().UTC()
		c.FindingID, c.CreatedAt, c.UpdatedAt = before.FindingID, before.CreatedAt, now
		c.VerifiedBy, c.VerifiedAt, c.ClosedAt, c.EscalatedAt = before.VerifiedBy, before.VerifiedAt, before.ClosedAt, before.EscalatedAt
		if c.Status == "verified" && before.Status != "verified" {
			c.VerifiedBy, c.VerifiedAt = by, now
		}
		if c.Status == "closed" && before.Status != "closed" {
			c.ClosedAt = now
		}
		if c.Status == "open" || c.Status == "done" {
			c.ClosedAt = time.Time{}
			if c.Status == "open" {
				c.VerifiedBy, c.VerifiedAt = "", time.Time{}
			}
		}
		if !c.DueDate.Equal(before.DueDate) {
			c.EscalatedAt = time.Time{} // a new due date gets its own escalation
		}
		if _, err := tx.Exec(ctx, `UPDATE isms_capas SET title = ?, owner_user_id = ?, due_date = ?, root_cause = ?, action = ?, status = ?, verification = ?,
			verified_by = ?, verified_at = ?, closed_at = ?, escalated_at = ?, updated_at = ? WHERE id = ?`, c.Title, nullID(c.OwnerUserID), c.DueDate.Format("2006-01-02"),
			c.RootCause, c.Action, c.Status, c.Verification, c.VerifiedBy, TimeArg(c.VerifiedAt), TimeArg(c.ClosedAt), TimeArg(c.EscalatedAt), TimeArg(now), c.ID); err != nil {
			return fmt.Errorf("update corrective action: %w", err)
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.capa.update", ObjectType: "isms_capa", ObjectID: riskID(c.ID), ClientID: f.ClientID, Before: before, After: c,
			Detail: c.Status + ": " + c.Title})
	})
}

// ISMSCAPAsOpen lists the corrective actions not closed, in scope, by due date.
func (s *Store) ISMSCAPAsOpen(ctx context.Context, scope identity.Scope) ([]auditprog.CAPA, error) {
	where, args := riskScopeSQL("client_id", scope, nil)
	return ismsCAPAs(ctx, s, "status <> 'closed' AND finding_id IN (SELECT id FROM isms_findings WHERE "+where+")", args)
}

// ISMSAuditGrantCreate gives g.UserID (an auditor account) read-only
// access to an audit in scope until g.ExpiresAt (the caller checks that
// the expiry is in the future on its clock).
func (s *Store) ISMSAuditGrantCreate(ctx context.Context, scope identity.Scope, g *auditprog.Grant) error {
	if g.ExpiresAt.IsZero() {
		return identity.FieldErrors{"expires_at": "is required"}
	}
	return s.InTx(ctx, func(tx *Tx) error {
		a, err := ismsAuditGet(ctx, tx, scope, g.AuditID)
		if err != nil {
			return err
		}
		if err := riskCanWrite(scope, a.ClientID); err != nil {
			return err
		}
		var role string
		if err := tx.QueryRow(ctx, "SELECT username, role FROM users WHERE id = ?", g.UserID).Scan(&g.Username, &role); err != nil {
			return identity.FieldErrors{"user_id": "is not a known user"}
		}
		if role != string(identity.RoleAuditor) {
			return identity.FieldErrors{"user_id": "must be an auditor account"}
		}
		g.CreatedAt = time.Now().UTC()
		g.ID, err = tx.InsertID(ctx, "INSERT INTO isms_audit_grants (audit_id, user_id, expires_at, created_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			g.AuditID, g.UserID, TimeArg(g.ExpiresAt), g.CreatedBy, TimeArg(g.CreatedAt))
		if err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.audit.grant", ObjectType: "isms_audit", ObjectID: riskID(g.AuditID), ClientID: a.ClientID, After: g,
			Detail: fmt.Sprintf("%s until %s", g.Username, g.ExpiresAt.UTC().Format(time.RFC3339))})
	})
}

const ismsGrantSelect = `SELECT g.id, g.audit_id, g.user_id, u.username, g.expires_at, g.created_by, g.created_at, g.revoked_at, a.title
	FROM isms_audit_grants g JOIN users u ON u.id = g.user_id JOIN isms_audits a ON a.id = g.audit_id`

func ismsGrants(ctx context.Context, q riskQuerier, where string, args ...any) ([]auditprog.Grant, error) {
	rows, err := q.Query(ctx, ismsGrantSelect+" WHERE "+where+" ORDER BY g.id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []auditprog.Grant{}
	for rows.Next() {
		var g auditprog.Grant
		if err := rows.Scan(&g.ID, &g.AuditID, &g.UserID, &g.Username, ScanTime(&g.ExpiresAt), &g.CreatedBy, ScanTime(&g.CreatedAt), ScanTime(&g.RevokedAt), &g.AuditTitle); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// ISMSAuditGrants lists the grants of an audit in scope.
func (s *Store) ISMSAuditGrants(ctx context.Context, scope identity.Scope, auditID int64) ([]auditprog.Grant, error) {
	if _, err := ismsAuditGet(ctx, s, scope, auditID); err != nil {
		return nil, err
	}
	return ismsGrants(ctx, s, "g.audit_id = ?", auditID)
}

// ISMSAuditGrantsOf lists a user's grants (the auditor portal's home).
func (s *Store) ISMSAuditGrantsOf(ctx context.Context, userID int64) ([]auditprog.Grant, error) {
	return ismsGrants(ctx, s, "g.user_id = ?", userID)
}

// ISMSAuditGrantRevoke ends a grant at once.
func (s *Store) ISMSAuditGrantRevoke(ctx context.Context, scope identity.Scope, auditID, grantID int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		a, err := ismsAuditGet(ctx, tx, scope, auditID)
		if err != nil {
			return err
		}
		if err := riskCanWrite(scope, a.ClientID); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "UPDATE isms_audit_grants SET revoked_at = ? WHERE id = ? AND audit_id = ? AND revoked_at IS NULL", TimeArg(time.Now()), grantID, auditID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("grant %d: %w", grantID, ErrNotFound)
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.audit.grant_revoke", ObjectType: "isms_audit", ObjectID: riskID(auditID), ClientID: a.ClientID, Detail: fmt.Sprintf("grant %d", grantID)})
	})
}

// ISMSAuditorAudit returns the audit userID may see through an active
// grant at now; anything else (no grant, expired, revoked, another audit)
// is ErrNotFound.
func (s *Store) ISMSAuditorAudit(ctx context.Context, userID, auditID int64, now time.Time) (*auditprog.Audit, error) {
	grants, err := ismsGrants(ctx, s, "g.user_id = ? AND g.audit_id = ?", userID, auditID)
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		if g.Active(now) {
			return ismsAuditGet(ctx, s, identity.Scope{All: true}, auditID)
		}
	}
	return nil, fmt.Errorf("audit %d: %w", auditID, ErrNotFound)
}

// ISMSAuditRequirementStates reads the statement of applicability of a
// framework (the compliance module's isms_requirement_states).
func (s *Store) ISMSAuditRequirementStates(ctx context.Context, framework string) (map[string]ISMSAuditSoALine, error) {
	rows, err := s.Query(ctx, "SELECT ref, applicable, justification, status FROM isms_requirement_states WHERE catalog_key = ?", framework)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]ISMSAuditSoALine{}
	for rows.Next() {
		var l ISMSAuditSoALine
		if err := rows.Scan(&l.Requirement, &l.Applicable, &l.Justification, &l.Status); err != nil {
			return nil, err
		}
		out[l.Requirement] = l
	}
	return out, rows.Err()
}

// ISMSAuditSoALine is one line of the statement of applicability as the
// auditor portal shows it.
type ISMSAuditSoALine struct {
	Requirement   string `json:"requirement"`
	Title         string `json:"title"`
	Applicable    bool   `json:"applicable"`
	Justification string `json:"justification"`
	Status        string `json:"status"`
}

// ISMSCAPAEscalate raises an alert (source isms, kind capa_overdue) for
// every corrective action past its due date and not yet escalated for that
// date, and marks it escalated. It returns how many were escalated.
func (s *Store) ISMSCAPAEscalate(ctx context.Context, now time.Time, raise func(tx *Tx, c auditprog.CAPA, f auditprog.Finding) error) (int, error) {
	n := 0
	err := s.InTx(ctx, func(tx *Tx) error {
		today := now.UTC().Format("2006-01-02")
		list, err := ismsCAPAs(ctx, tx, "status IN ('open', 'done') AND due_date < ? AND escalated_at IS NULL", []any{today})
		if err != nil {
			return err
		}
		for _, c := range list {
			f, err := ismsFindingGet(ctx, tx, identity.Scope{All: true}, c.FindingID)
			if err != nil {
				return err
			}
			if err := raise(tx, c, *f); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE isms_capas SET escalated_at = ? WHERE id = ?", TimeArg(now), c.ID); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// ISMSAuditEvidenceItem is an evidence item (the compliance module's
// isms_evidence) that supports a requirement of an audit's checklist,
// directly or through a control linked to it.
type ISMSAuditEvidenceItem struct {
	ID          int64     `json:"id"`
	Title       string    `json:"title"`
	Kind        string    `json:"kind"`
	Requirement string    `json:"requirement,omitempty"`
	ControlCode string    `json:"control_code,omitempty"`
	FileName    string    `json:"file_name,omitempty"`
	SHA256      string    `json:"sha256,omitempty"`
	CollectedAt time.Time `json:"collected_at"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// ISMSAuditEvidence lists the evidence for an audit's checklist that its
// client may see (the audit's client's and operator-wide items).
func (s *Store) ISMSAuditEvidence(ctx context.Context, a *auditprog.Audit) ([]ISMSAuditEvidenceItem, error) {
	sc := identity.Scope{ClientIDs: []int64{}}
	if a.ClientID != 0 {
		sc.ClientIDs = []int64{a.ClientID}
	}
	where, args := riskScopeSQL("e.client_id", sc, nil)
	args = append(args, a.Framework, a.ID, a.Framework, a.ID)
	rows, err := s.Query(ctx, `SELECT e.id, e.title, e.kind, e.ref, COALESCE(c.code, ''), e.file_name, e.sha256, e.collected_at, e.expires_at
		FROM isms_evidence e LEFT JOIN isms_controls c ON c.id = e.control_id
		WHERE `+where+` AND ((e.catalog_key = ? AND e.ref IN (SELECT requirement FROM isms_audit_checklist WHERE audit_id = ?))
		OR e.control_id IN (SELECT control_id FROM isms_control_requirements WHERE catalog_key = ? AND ref IN (SELECT requirement FROM isms_audit_checklist WHERE audit_id = ?)))
		ORDER BY e.collected_at DESC, e.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("audit evidence: %w", err)
	}
	defer rows.Close()
	out := []ISMSAuditEvidenceItem{}
	for rows.Next() {
		var e ISMSAuditEvidenceItem
		if err := rows.Scan(&e.ID, &e.Title, &e.Kind, &e.Requirement, &e.ControlCode, &e.FileName, &e.SHA256, ScanTime(&e.CollectedAt), ScanTime(&e.ExpiresAt)); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
