package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/compliance"
)

const ismsEvidenceColumns = `e.id, e.kind, e.title, e.control_id, e.catalog_key, e.ref, e.ens_system_id, e.client_id, e.url, e.record_module, e.record_ref,
	e.file_name, e.content_type, e.size, e.sha256, e.collected_at, e.fresh_days, e.expires_at, e.created_at, e.created_by`

func scanISMSEvidence(sc interface{ Scan(...any) error }, e *compliance.Evidence) error {
	var control, system, client, by sql.NullInt64
	if err := sc.Scan(&e.ID, &e.Kind, &e.Title, &control, &e.Catalog, &e.Requirement, &system, &client, &e.URL, &e.RecordModule, &e.RecordRef,
		&e.FileName, &e.ContentType, &e.Size, &e.SHA256, ScanTime(&e.CollectedAt), &e.FreshDays, ScanTime(&e.ExpiresAt), ScanTime(&e.CreatedAt), &by); err != nil {
		return err
	}
	e.ControlID, e.ENSSystemID, e.ClientID, e.CreatedBy = control.Int64, system.Int64, client.Int64, by.Int64
	return nil
}

// ISMSEvidenceFilter selects evidence items.
type ISMSEvidenceFilter struct {
	Scope       identity.Scope
	ControlID   int64
	Catalog     string
	Requirement string
	ENSSystemID int64
	Limit       int // 0 = 1000
}

// ISMSEvidenceList lists evidence in scope, newest collection first.
func (s *Store) ISMSEvidenceList(ctx context.Context, f ISMSEvidenceFilter) ([]compliance.Evidence, error) {
	where, args := ismsScopeSQL("e.", f.Scope, nil)
	if f.ControlID != 0 {
		where += " AND e.control_id = ?"
		args = append(args, f.ControlID)
	}
	if f.Requirement != "" {
		where += " AND e.catalog_key = ? AND e.ref = ?"
		args = append(args, f.Catalog, f.Requirement)
	}
	if f.ENSSystemID != 0 {
		where += " AND e.ens_system_id = ?"
		args = append(args, f.ENSSystemID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.Query(ctx, "SELECT "+ismsEvidenceColumns+" FROM isms_evidence e WHERE "+where+" ORDER BY e.collected_at DESC, e.id DESC LIMIT "+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("list evidence: %w", err)
	}
	defer rows.Close()
	var out []compliance.Evidence
	for rows.Next() {
		var e compliance.Evidence
		if err := scanISMSEvidence(rows, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ISMSEvidence returns one evidence item in scope.
func (s *Store) ISMSEvidence(ctx context.Context, scope identity.Scope, id int64) (*compliance.Evidence, error) {
	return ismsEvidence(ctx, s, scope, id)
}

func ismsEvidence(ctx context.Context, q ismsQuerier, scope identity.Scope, id int64) (*compliance.Evidence, error) {
	where, args := ismsScopeSQL("e.", scope, []any{id})
	var e compliance.Evidence
	if err := scanISMSEvidence(q.QueryRow(ctx, "SELECT "+ismsEvidenceColumns+" FROM isms_evidence e WHERE e.id = ? AND "+where, args...), &e); err != nil {
		return nil, fmt.Errorf("evidence %d: %w", id, mapErr(err))
	}
	return &e, nil
}

// ISMSAddEvidence stores an evidence item; for a file, sealed is its
// content encrypted with the master key (keyID names the key). The audit
// entry records the file's SHA-256 so an auditor can verify it later.
func (s *Store) ISMSAddEvidence(ctx context.Context, e *compliance.Evidence, sealed []byte, keyID string) error {
	now := time.Now().UTC()
	e.Normalize()
	if err := e.Validate(now); err != nil {
		return err
	}
	if e.Kind == compliance.EvidenceFile && len(sealed) == 0 {
		return fmt.Errorf("add evidence: a file needs its sealed content")
	}
	return s.InTx(ctx, func(tx *Tx) error { return insertISMSEvidence(ctx, tx, e, sealed, keyID, now) })
}

// insertISMSEvidence inserts a validated evidence item (and its sealed
// file) with its audit entry in tx.
func insertISMSEvidence(ctx context.Context, tx *Tx, e *compliance.Evidence, sealed []byte, keyID string, now time.Time) error {
	e.CreatedAt = now
	id, err := tx.InsertID(ctx, `INSERT INTO isms_evidence (kind, title, control_id, catalog_key, ref, ens_system_id, client_id, url, record_module, record_ref,
		file_name, content_type, size, sha256, collected_at, fresh_days, expires_at, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.Kind, e.Title, nullID(e.ControlID), e.Catalog, e.Requirement, nullID(e.ENSSystemID), nullID(e.ClientID), e.URL, e.RecordModule, e.RecordRef,
		e.FileName, e.ContentType, e.Size, e.SHA256, TimeArg(e.CollectedAt), e.FreshDays, TimeArg(e.ExpiresAt), TimeArg(now), nullID(e.CreatedBy))
	if err != nil {
		return fmt.Errorf("add evidence: %w", err)
	}
	e.ID = id
	if e.Kind == compliance.EvidenceFile {
		if _, err := tx.Exec(ctx, "INSERT INTO isms_evidence_files (evidence_id, key_id, sealed) VALUES (?, ?, ?)", id, keyID, sealed); err != nil {
			return fmt.Errorf("add evidence file: %w", err)
		}
	}
	detail := string(e.Kind) + " " + e.Title
	if e.SHA256 != "" {
		detail += " sha256=" + e.SHA256
	}
	return tx.Audit(ctx, audit.Record{Action: "isms.evidence.add", ObjectType: "isms_evidence", ObjectID: strconv.FormatInt(id, 10),
		ClientID: e.ClientID, After: e, Detail: detail})
}

// ISMSEvidenceFile returns the sealed content of a file evidence item in
// scope and records the download in the audit trail.
func (s *Store) ISMSEvidenceFile(ctx context.Context, scope identity.Scope, id int64) (*compliance.Evidence, []byte, error) {
	var e *compliance.Evidence
	var sealed []byte
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		if e, err = ismsEvidence(ctx, tx, scope, id); err != nil {
			return err
		}
		if e.Kind != compliance.EvidenceFile {
			return fmt.Errorf("evidence %d has no file: %w", id, ErrNotFound)
		}
		if err := tx.QueryRow(ctx, "SELECT sealed FROM isms_evidence_files WHERE evidence_id = ?", id).Scan(&sealed); err != nil {
			return fmt.Errorf("evidence %d file: %w", id, mapErr(err))
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.evidence.download", ObjectType: "isms_evidence", ObjectID: strconv.FormatInt(id, 10),
			ClientID: e.ClientID, Detail: e.FileName + " sha256=" + e.SHA256})
	})
	return e, sealed, err
}

// ISMSDeleteEvidence deletes an evidence item in scope.
func (s *Store) ISMSDeleteEvidence(ctx context.Context, scope identity.Scope, id int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		e, err := ismsEvidence(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM isms_evidence_files WHERE evidence_id = ?", id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM isms_evidence WHERE id = ?", id); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.evidence.delete", ObjectType: "isms_evidence", ObjectID: strconv.FormatInt(id, 10),
			ClientID: e.ClientID, Before: e, Detail: e.Title})
	})
}

// ISMSDirectEvidence is the fresh evidence given directly for a
// requirement (not through a control), by client and ENS system.
type ISMSDirectEvidence struct {
	Catalog, Requirement string
	ENSSystemID          int64
	ClientID             int64
	Fresh, Total         int
}

// ISMSDirectEvidenceCounts aggregates the evidence given directly for
// requirements, with how many items are fresh at now.
func (s *Store) ISMSDirectEvidenceCounts(ctx context.Context, now time.Time) ([]ISMSDirectEvidence, error) {
	rows, err := s.Query(ctx, `SELECT catalog_key, ref, COALESCE(ens_system_id, 0), COALESCE(client_id, 0), COUNT(*),
		SUM(CASE WHEN expires_at > ? THEN 1 ELSE 0 END)
		FROM isms_evidence WHERE control_id IS NULL AND ref <> '' GROUP BY catalog_key, ref, COALESCE(ens_system_id, 0), COALESCE(client_id, 0)`, TimeArg(now))
	if err != nil {
		return nil, fmt.Errorf("count direct evidence: %w", err)
	}
	defer rows.Close()
	var out []ISMSDirectEvidence
	for rows.Next() {
		var d ISMSDirectEvidence
		if err := rows.Scan(&d.Catalog, &d.Requirement, &d.ENSSystemID, &d.ClientID, &d.Total, &d.Fresh); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
