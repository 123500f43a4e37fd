// Package service runs the audit programme's work that needs the store and
// the identity service: external auditors' time-limited accounts, the
// escalation of overdue corrective actions and the deactivation of
// auditors whose access has ended.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/isms/auditprog"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/store"
)

// Service is the audit programme's service.
type Service struct {
	Store    *store.Store
	Library  *catalog.Library
	Identity *auth.Service
	Logger   *slog.Logger
	Now      func() time.Time
	// Every is how often Run checks (default five minutes).
	Every time.Duration
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// NewAuditor is an external auditor to invite to one audit.
type NewAuditor struct {
	Username    string    `json:"username"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// CreateAuditor creates a read-only auditor account for one audit in the
// caller's scope: role auditor, client scope limited to the audit's client
// (none for an operator-wide audit), a one-time password (returned once;
// TOTP enrolment follows at first sign-in) and a grant that ends at
// ExpiresAt (at most one year). The account is deactivated once its grants
// have all ended.
func (s *Service) CreateAuditor(ctx context.Context, p *identity.Principal, auditID int64, in NewAuditor) (*identity.User, string, *auditprog.Grant, error) {
	a, err := s.Store.ISMSAudit(ctx, p.Scope(), auditID)
	if err != nil {
		return nil, "", nil, err
	}
	now := s.now()
	if !in.ExpiresAt.After(now) || in.ExpiresAt.After(now.AddDate(1, 0, 1)) {
		return nil, "", nil, identity.FieldErrors{"expires_at": "must be in the future and within a year"}
	}
	if !p.AllClients && a.ClientID == 0 {
		return nil, "", nil, identity.FieldErrors{"client_id": "operator-wide audits' auditors are invited by users who see every client"}
	}
	// External: the router confines the account to the auditor portal;
	// ExpiresAt: sign-in and sessions end with the grant even if the
	// scheduler that deactivates expired auditors has not run.
	u := identity.User{Username: strings.TrimSpace(in.Username), Email: in.Email, DisplayName: in.DisplayName, Role: identity.RoleAuditor, ClientIDs: []int64{},
		External: true, ExpiresAt: in.ExpiresAt.UTC()}
	if a.ClientID != 0 {
		u.ClientIDs = []int64{a.ClientID}
	}
	// The identity service lets the system create accounts; the audit trail
	// still names the caller (from the context).
	created, oneTime, err := s.Identity.CreateUser(ctx, nil, auth.NewUser{User: u})
	if err != nil {
		return nil, "", nil, err
	}
	g := &auditprog.Grant{AuditID: auditID, UserID: created.ID, ExpiresAt: in.ExpiresAt.UTC(), CreatedBy: p.Username}
	if err := s.Store.ISMSAuditGrantCreate(ctx, p.Scope(), g); err != nil {
		return nil, "", nil, err
	}
	return created, oneTime, g, nil
}

// Escalate raises an "isms"/"capa_overdue" alert for each corrective
// action past its due date (high for a major non-conformity, medium
// otherwise), once per due date.
func (s *Service) Escalate(ctx context.Context) (int, error) {
	now := s.now()
	return s.Store.ISMSCAPAEscalate(ctx, now, func(tx *store.Tx, c auditprog.CAPA, f auditprog.Finding) error {
		sev := alert.SeverityMedium
		if f.Kind == "nc_major" {
			sev = alert.SeverityHigh
		}
		title := fmt.Sprintf("Corrective action overdue since %s: %s", c.DueDate.Format("2006-01-02"), c.Title)
		if len(title) > 300 {
			title = title[:300]
		}
		return tx.RaiseAlert(ctx, &alert.Alert{Source: "isms", Kind: "capa_overdue", Severity: sev, ClientID: f.ClientID, Title: title,
			DedupKey: fmt.Sprintf("capa:%d:%s", c.ID, c.DueDate.Format("2006-01-02")), ObjectType: "isms_capa", ObjectID: fmt.Sprint(c.ID),
			Detail: map[string]any{"finding_id": f.ID, "audit_id": f.AuditID, "due_date": c.DueDate.Format("2006-01-02"), "finding_kind": f.Kind}})
	})
}

// ExpireAuditors deactivates (ending their sessions) the external auditors
// whose grants have all expired or been revoked.
func (s *Service) ExpireAuditors(ctx context.Context) (int, error) {
	now := s.now()
	rows, err := s.Store.Query(ctx, "SELECT DISTINCT g.user_id FROM isms_audit_grants g JOIN users u ON u.id = g.user_id WHERE u.active")
	if err != nil {
		return 0, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	for _, id := range ids {
		grants, err := s.Store.ISMSAuditGrantsOf(ctx, id)
		if err != nil {
			return n, err
		}
		active := false
		for _, g := range grants {
			active = active || g.Active(now)
		}
		if active {
			continue
		}
		err = s.Store.InTx(ctx, func(tx *store.Tx) error {
			u, err := tx.User(ctx, id)
			if err != nil {
				return err
			}
			if u.Role != identity.RoleAuditor || !u.Active {
				return nil
			}
			u.Active = false
			return tx.UpdateUser(ctx, u, now)
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Run escalates and expires now and then every s.Every until ctx ends.
func (s *Service) Run(ctx context.Context) {
	every := s.Every
	if every <= 0 {
		every = 5 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Escalate(ctx); err != nil && ctx.Err() == nil && s.Logger != nil {
			s.Logger.ErrorContext(ctx, "escalate corrective actions", "error", err.Error())
		}
		if _, err := s.ExpireAuditors(ctx); err != nil && ctx.Err() == nil && s.Logger != nil {
			s.Logger.ErrorContext(ctx, "expire auditors", "error", err.Error())
		}
		if err := s.Store.InTx(ctx, func(tx *store.Tx) error { return tx.RiskRecompute(ctx) }); err != nil && ctx.Err() == nil && s.Logger != nil {
			s.Logger.ErrorContext(ctx, "recompute risks", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// AuditorView is what an external auditor sees of one granted audit.
type AuditorView struct {
	Audit     auditprog.Audit           `json:"audit"`
	ExpiresAt time.Time                 `json:"expires_at"`
	Checklist []auditprog.ChecklistItem `json:"checklist"`
	Findings  []auditprog.Finding       `json:"findings"`
	// SoA is the statement of applicability of the audit's framework.
	SoA []store.ISMSAuditSoALine `json:"soa"`
	// Evidence supports the requirements in scope; files download through
	// the compliance module's evidence endpoint, which audits each download.
	Evidence []store.ISMSAuditEvidenceItem `json:"evidence"`
}

// AuditorEvidence checks that evidence item evidenceID is listed in the
// view of audit auditID its external auditor holds an active grant to (the
// evidence for the audit's checklist): otherwise ErrNotFound. The caller
// then reads the file through the compliance module, which audits the
// download.
func (s *Service) AuditorEvidence(ctx context.Context, p *identity.Principal, auditID, evidenceID int64) error {
	a, err := s.Store.ISMSAuditorAudit(ctx, p.UserID, auditID, s.now())
	if err != nil {
		return err
	}
	items, err := s.Store.ISMSAuditEvidence(ctx, a)
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.ID == evidenceID {
			return nil
		}
	}
	return fmt.Errorf("evidence %d of audit %d: %w", evidenceID, auditID, store.ErrNotFound)
}

// AuditorView assembles an external auditor's view of an audit they hold
// an active grant to; no grant, an expired or revoked one, or another
// audit is ErrNotFound. Each view is written to the audit trail.
func (s *Service) AuditorView(ctx context.Context, p *identity.Principal, auditID int64, lang string) (*AuditorView, error) {
	now := s.now()
	a, err := s.Store.ISMSAuditorAudit(ctx, p.UserID, auditID, now)
	if err != nil {
		return nil, err
	}
	grants, err := s.Store.ISMSAuditGrantsOf(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	v := &AuditorView{Audit: *a, SoA: []store.ISMSAuditSoALine{}}
	for _, g := range grants {
		if g.AuditID == auditID && g.Active(now) && g.ExpiresAt.After(v.ExpiresAt) {
			v.ExpiresAt = g.ExpiresAt
		}
	}
	all := identity.Scope{All: true}
	if v.Checklist, err = s.Store.ISMSAuditChecklist(ctx, all, auditID); err != nil {
		return nil, err
	}
	if v.Findings, err = s.Store.ISMSFindings(ctx, all, store.ISMSFindingFilter{AuditID: auditID}); err != nil {
		return nil, err
	}
	if v.Evidence, err = s.Store.ISMSAuditEvidence(ctx, a); err != nil {
		return nil, err
	}
	states, err := s.Store.ISMSAuditRequirementStates(ctx, a.Framework)
	if err != nil {
		return nil, err
	}
	for _, it := range v.Checklist {
		l, ok := states[it.Requirement]
		if !ok {
			l = store.ISMSAuditSoALine{Requirement: it.Requirement, Applicable: true, Status: "not_assessed"}
		}
		l.Title = it.Title
		v.SoA = append(v.SoA, l)
	}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		return tx.Audit(ctx, audit.Record{Action: "isms.audit.portal_view", ObjectType: "isms_audit", ObjectID: fmt.Sprint(auditID), ClientID: a.ClientID,
			Detail: "external auditor " + p.Username})
	})
	return v, err
}
