package store

import (
	"context"
	"fmt"
	"time"

	"github.com/custodia/custodia/internal/identity"
)

// ResponseBreach is an entry of the breach register (GDPR Art. 33(5)).
type ResponseBreach struct {
	ID             int64     `json:"id"`
	IncidentID     int64     `json:"incident_id"`
	IncidentRef    string    `json:"incident_ref"`
	IncidentTitle  string    `json:"incident_title"`
	AwareAt        time.Time `json:"aware_at,omitzero"`
	Nature         string    `json:"nature"`
	DataCategories string    `json:"data_categories"`
	SubjectsCount  int64     `json:"subjects_count"`
	RecordsCount   int64     `json:"records_count"`
	Consequences   string    `json:"consequences"`
	Measures       string    `json:"measures"`
	// Art34Decision is "" (pending), "inform" or "not_required".
	Art34Decision  string    `json:"art34_decision"`
	Art34Reasons   string    `json:"art34_reasons"`
	Art34DecidedBy string    `json:"art34_decided_by,omitempty"`
	Art34DecidedAt time.Time `json:"art34_decided_at,omitzero"`
	FlaggedBy      string    `json:"flagged_by"`
	FlaggedAt      time.Time `json:"flagged_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// AuthorityNotifiedAt is when the supervisory authority was notified
	// (zero when not, or not yet).
	AuthorityNotifiedAt time.Time `json:"authority_notified_at,omitzero"`
	AuthorityState      string    `json:"authority_state,omitempty"`
	// ClientsNotified and ClientsTotal count the per-client notices.
	ClientsNotified int `json:"clients_notified"`
	ClientsTotal    int `json:"clients_total"`
}

const breachColumns = `b.id, b.incident_id, i.ref, i.title, i.became_aware_at, b.nature, b.data_categories, b.subjects_count, b.records_count,
	b.consequences, b.measures, b.art34_decision, b.art34_reasons, b.art34_decided_by, b.art34_decided_at, b.flagged_by, b.flagged_at, b.updated_at,
	(SELECT MAX(c.sent_at) FROM response_clocks c WHERE c.incident_id = b.incident_id AND c.kind = 'gdpr_art33_authority' AND c.active = 1),
	COALESCE((SELECT MAX(c.state) FROM response_clocks c WHERE c.incident_id = b.incident_id AND c.kind = 'gdpr_art33_authority' AND c.active = 1), ''),
	(SELECT COUNT(*) FROM response_clocks c WHERE c.incident_id = b.incident_id AND c.kind = 'gdpr_art33_2_controller' AND c.active = 1 AND c.sent_at IS NOT NULL),
	(SELECT COUNT(*) FROM response_clocks c WHERE c.incident_id = b.incident_id AND c.kind = 'gdpr_art33_2_controller' AND c.active = 1)`

func scanBreach(sc interface{ Scan(...any) error }, b *ResponseBreach) error {
	var aware, decided, notified nullTime
	if err := sc.Scan(&b.ID, &b.IncidentID, &b.IncidentRef, &b.IncidentTitle, &aware, &b.Nature, &b.DataCategories, &b.SubjectsCount, &b.RecordsCount,
		&b.Consequences, &b.Measures, &b.Art34Decision, &b.Art34Reasons, &b.Art34DecidedBy, &decided, &b.FlaggedBy, ScanTime(&b.FlaggedAt), ScanTime(&b.UpdatedAt),
		&notified, &b.AuthorityState, &b.ClientsNotified, &b.ClientsTotal); err != nil {
		return err
	}
	b.AwareAt, b.Art34DecidedAt, b.AuthorityNotifiedAt = aware.Time, decided.Time, notified.Time
	return nil
}

// ResponseBreaches lists the breach register in scope, newest first.
func (s *Store) ResponseBreaches(ctx context.Context, scope identity.Scope) ([]ResponseBreach, error) {
	where, args := incidentScopeSQL(scope, nil)
	rows, err := s.Query(ctx, "SELECT "+breachColumns+" FROM response_breaches b JOIN incidents i ON i.id = b.incident_id WHERE "+where+
		" ORDER BY b.flagged_at DESC, b.id DESC", args...)
	if err != nil {
		return nil, fmt.Errorf("list breaches: %w", err)
	}
	defer rows.Close()
	out := []ResponseBreach{}
	for rows.Next() {
		var b ResponseBreach
		if err := scanBreach(rows, &b); err != nil {
			return nil, fmt.Errorf("list breaches: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// ResponseBreach returns the incident's breach record if it is in scope.
func (s *Store) ResponseBreach(ctx context.Context, scope identity.Scope, incidentID int64) (*ResponseBreach, error) {
	return responseBreach(ctx, s, scope, incidentID)
}

// ResponseBreach is Store.ResponseBreach in the transaction.
func (tx *Tx) ResponseBreach(ctx context.Context, scope identity.Scope, incidentID int64) (*ResponseBreach, error) {
	return responseBreach(ctx, tx, scope, incidentID)
}

func responseBreach(ctx context.Context, q orgQuerier, scope identity.Scope, incidentID int64) (*ResponseBreach, error) {
	where, args := incidentScopeSQL(scope, nil)
	args = append(args, incidentID)
	var b ResponseBreach
	if err := scanBreach(q.QueryRow(ctx, "SELECT "+breachColumns+" FROM response_breaches b JOIN incidents i ON i.id = b.incident_id WHERE "+where+
		" AND b.incident_id = ?", args...), &b); err != nil {
		return nil, fmt.Errorf("breach of incident %d: %w", incidentID, mapErr(err))
	}
	return &b, nil
}

// ResponseSaveBreach inserts or updates the incident's breach record.
func (tx *Tx) ResponseSaveBreach(ctx context.Context, b *ResponseBreach) error {
	id, err := tx.InsertID(ctx, `INSERT INTO response_breaches (incident_id, nature, data_categories, subjects_count, records_count, consequences, measures,
		art34_decision, art34_reasons, art34_decided_by, art34_decided_at, flagged_by, flagged_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (incident_id) DO UPDATE SET nature = excluded.nature, data_categories = excluded.data_categories,
		subjects_count = excluded.subjects_count, records_count = excluded.records_count, consequences = excluded.consequences,
		measures = excluded.measures, art34_decision = excluded.art34_decision, art34_reasons = excluded.art34_reasons,
		art34_decided_by = excluded.art34_decided_by, art34_decided_at = excluded.art34_decided_at, updated_at = excluded.updated_at
		RETURNING id`,
		b.IncidentID, b.Nature, b.DataCategories, b.SubjectsCount, b.RecordsCount, b.Consequences, b.Measures,
		b.Art34Decision, b.Art34Reasons, b.Art34DecidedBy, TimeArg(b.Art34DecidedAt), b.FlaggedBy, TimeArg(b.FlaggedAt), TimeArg(b.UpdatedAt))
	if err != nil {
		return fmt.Errorf("save breach of incident %d: %w", b.IncidentID, err)
	}
	b.ID = id
	return nil
}
