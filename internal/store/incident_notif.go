package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// ResponseDraft is one saved version of a clock's notification draft.
type ResponseDraft struct {
	ClockID   int64             `json:"clock_id"`
	Version   int64             `json:"version"`
	Lang      string            `json:"lang"`
	Fields    map[string]string `json:"fields"`
	CreatedBy string            `json:"created_by"`
	CreatedAt time.Time         `json:"created_at"`
}

// ResponseDraftLatest returns the newest saved draft of a clock; ErrNotFound
// when none was saved. The caller checks the clock is in scope.
func (s *Store) ResponseDraftLatest(ctx context.Context, clockID int64) (*ResponseDraft, error) {
	return s.responseDraft(ctx, "SELECT clock_id, version, lang, fields, created_by, created_at FROM response_drafts WHERE clock_id = ? ORDER BY version DESC LIMIT 1", clockID)
}

// ResponseDraftVersion returns one version of a clock's draft.
func (s *Store) ResponseDraftVersion(ctx context.Context, clockID, version int64) (*ResponseDraft, error) {
	return s.responseDraft(ctx, "SELECT clock_id, version, lang, fields, created_by, created_at FROM response_drafts WHERE clock_id = ? AND version = ?", clockID, version)
}

func (s *Store) responseDraft(ctx context.Context, q string, args ...any) (*ResponseDraft, error) {
	var d ResponseDraft
	var fields string
	if err := s.QueryRow(ctx, q, args...).Scan(&d.ClockID, &d.Version, &d.Lang, &fields, &d.CreatedBy, ScanTime(&d.CreatedAt)); err != nil {
		return nil, fmt.Errorf("draft: %w", mapErr(err))
	}
	if err := json.Unmarshal([]byte(fields), &d.Fields); err != nil {
		return nil, fmt.Errorf("draft fields: %w", err)
	}
	return &d, nil
}

// ResponseDraftVersions lists a clock's draft versions, newest first (without fields).
func (s *Store) ResponseDraftVersions(ctx context.Context, clockID int64) ([]ResponseDraft, error) {
	rows, err := s.Query(ctx, "SELECT clock_id, version, lang, created_by, created_at FROM response_drafts WHERE clock_id = ? ORDER BY version DESC", clockID)
	if err != nil {
		return nil, fmt.Errorf("draft versions: %w", err)
	}
	defer rows.Close()
	out := []ResponseDraft{}
	for rows.Next() {
		var d ResponseDraft
		if err := rows.Scan(&d.ClockID, &d.Version, &d.Lang, &d.CreatedBy, ScanTime(&d.CreatedAt)); err != nil {
			return nil, fmt.Errorf("draft versions: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ResponseSaveDraft stores d as the clock's next version (d.Version is set).
func (tx *Tx) ResponseSaveDraft(ctx context.Context, d *ResponseDraft) error {
	var n int64
	if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM response_drafts WHERE clock_id = ?", d.ClockID).Scan(&n); err != nil {
		return fmt.Errorf("save draft: %w", err)
	}
	b, err := json.Marshal(d.Fields)
	if err != nil {
		return fmt.Errorf("save draft: %w", err)
	}
	d.Version = n + 1
	if _, err := tx.Exec(ctx, "INSERT INTO response_drafts (clock_id, version, lang, fields, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		d.ClockID, d.Version, d.Lang, string(b), d.CreatedBy, TimeArg(d.CreatedAt)); err != nil {
		return fmt.Errorf("save draft: %w", mapErr(err))
	}
	return nil
}
