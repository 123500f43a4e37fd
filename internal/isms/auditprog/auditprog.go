// Package auditprog is the ISMS audit programme: audits (internal and
// external, the ENS two-yearly audit, ISO surveillance and certification)
// with their scope and criteria, the checklist generated from the scope,
// findings, corrective actions (CAPA) and the grants that give an external
// auditor read-only access to one audit until an expiry. It validates and
// builds; the SQL lives in internal/store/isms_audit*.go.
package auditprog

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/catalog"
)

// Audit kinds.
var Kinds = []string{"internal", "external", "ens_biennial", "iso_surveillance", "iso_certification"}

// Audit statuses.
var Statuses = []string{"planned", "in_progress", "reported", "closed"}

// Audit is one audit of the programme.
type Audit struct {
	ID        int64  `json:"id"`
	Title     string `json:"title"`
	Kind      string `json:"kind"`
	ClientID  int64  `json:"client_id,omitempty"`
	Framework string `json:"framework" doc:"the criteria: a catalogue id such as iso27001-2022 or ens-rd311-2022"`
	Scope     string `json:"scope"`
	Auditors  string `json:"auditors"`
	Status    string `json:"status"`
	// PlannedStart and PlannedEnd are dates (UTC midnight).
	PlannedStart time.Time `json:"planned_start,omitzero"`
	PlannedEnd   time.Time `json:"planned_end,omitzero"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Counts, filled by list reads.
	Checklist    int `json:"checklist_items"`
	OpenFindings int `json:"open_findings"`
}

// Validate checks the audit's fields and its framework.
func (a *Audit) Validate(lib *catalog.Library) error {
	fe := identity.FieldErrors{}
	a.Title = strings.TrimSpace(a.Title)
	if a.Title == "" || len(a.Title) > 200 {
		fe["title"] = "is required (at most 200 characters)"
	}
	if !slices.Contains(Kinds, a.Kind) {
		fe["kind"] = "must be one of " + strings.Join(Kinds, ", ")
	}
	if a.Status == "" {
		a.Status = "planned"
	}
	if !slices.Contains(Statuses, a.Status) {
		fe["status"] = "must be one of " + strings.Join(Statuses, ", ")
	}
	if lib != nil {
		if _, err := lib.Catalog(a.Framework); err != nil {
			fe["framework"] = "is not a known framework"
		}
	}
	if len(a.Scope) > 4000 || len(a.Auditors) > 1000 {
		fe["scope"] = "is too long"
	}
	if !a.PlannedStart.IsZero() && !a.PlannedEnd.IsZero() && a.PlannedEnd.Before(a.PlannedStart) {
		fe["planned_end"] = "is before the start"
	}
	return fe.Err()
}

// ChecklistItem is one requirement in scope to be assessed.
type ChecklistItem struct {
	ID          int64  `json:"id"`
	Position    int    `json:"position"`
	Requirement string `json:"requirement"`
	Title       string `json:"title"`
	Result      string `json:"result" doc:"empty (not assessed), conforming, nonconforming, observation or not_applicable"`
	Notes       string `json:"notes"`
}

// Results a checklist line may have ("" = not assessed yet).
var Results = []string{"", "conforming", "nonconforming", "observation", "not_applicable"}

// Checklist builds one line per requirement in scope: the requirements of
// the given groups (and their sub-groups) and the requirements named, in
// catalogue order; with neither, the whole framework. Unknown groups or
// requirements are refused with the list.
func Checklist(lib *catalog.Library, framework string, groups, requirements []string, lang string) ([]ChecklistItem, error) {
	c, err := lib.Catalog(framework)
	if err != nil {
		return nil, identity.FieldErrors{"framework": "is not a known framework"}
	}
	want := map[string]bool{}
	var unknown []string
	for _, g := range groups {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		in := c.InGroup(g)
		if len(in) == 0 {
			unknown = append(unknown, g)
		}
		for _, r := range in {
			want[r.ID] = true
		}
	}
	for _, id := range requirements {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if _, err := c.Requirement(id); err != nil {
			unknown = append(unknown, id)
			continue
		}
		want[id] = true
	}
	if len(unknown) > 0 {
		return nil, identity.FieldErrors{"scope": fmt.Sprintf("unknown in %s: %s", framework, strings.Join(unknown, ", "))}
	}
	everything := len(want) == 0
	var out []ChecklistItem
	for _, r := range c.Requirements {
		if !everything && !want[r.ID] {
			continue
		}
		title := r.Title
		if lang == "es" && r.TitleES != "" {
			title = r.TitleES
		}
		out = append(out, ChecklistItem{Position: len(out) + 1, Requirement: r.ID, Title: title})
	}
	return out, nil
}

// Finding kinds.
var FindingKinds = []string{"nc_major", "nc_minor", "observation", "opportunity"}

// Finding is a non-conformity, observation or opportunity for improvement.
type Finding struct {
	ID          int64     `json:"id"`
	AuditID     int64     `json:"audit_id"`
	ClientID    int64     `json:"client_id,omitempty"`
	Kind        string    `json:"kind"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Requirement string    `json:"requirement"`
	ControlID   int64     `json:"control_id,omitempty"`
	ControlCode string    `json:"control_code,omitempty"`
	Status      string    `json:"status" doc:"open or closed"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	ClosedAt    time.Time `json:"closed_at,omitzero"`
	CAPAs       []CAPA    `json:"capas"`
}

// Validate checks the finding's fields.
func (f *Finding) Validate() error {
	fe := identity.FieldErrors{}
	f.Title = strings.TrimSpace(f.Title)
	f.Requirement = strings.TrimSpace(f.Requirement)
	if !slices.Contains(FindingKinds, f.Kind) {
		fe["kind"] = "must be one of " + strings.Join(FindingKinds, ", ")
	}
	if f.Title == "" || len(f.Title) > 200 {
		fe["title"] = "is required (at most 200 characters)"
	}
	if len(f.Description) > 8000 {
		fe["description"] = "is too long (at most 8000 characters)"
	}
	if f.Status == "" {
		f.Status = "open"
	}
	if f.Status != "open" && f.Status != "closed" {
		fe["status"] = "must be open or closed"
	}
	return fe.Err()
}

// NonConformity reports whether the finding needs corrective action.
func (f *Finding) NonConformity() bool { return f.Kind == "nc_major" || f.Kind == "nc_minor" }

// CAPA statuses, in order.
var CAPAStatuses = []string{"open", "done", "verified", "closed"}

// CAPA is a corrective (or preventive) action on a finding.
type CAPA struct {
	ID          int64     `json:"id"`
	FindingID   int64     `json:"finding_id"`
	Title       string    `json:"title"`
	OwnerUserID int64     `json:"owner_user_id,omitempty"`
	DueDate     time.Time `json:"due_date" doc:"a date (UTC midnight)"`
	RootCause   string    `json:"root_cause"`
	Action      string    `json:"action"`
	Status      string    `json:"status" doc:"open, done, verified or closed"`
	// Verification says how effectiveness was checked (required to verify).
	Verification string    `json:"verification"`
	VerifiedBy   string    `json:"verified_by"`
	VerifiedAt   time.Time `json:"verified_at,omitzero"`
	ClosedAt     time.Time `json:"closed_at,omitzero"`
	EscalatedAt  time.Time `json:"escalated_at,omitzero"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Validate checks the action's fields and that a status change follows
// open → done → verified → closed (verification text before verified,
// verified before closed).
func (c *CAPA) Validate(before *CAPA) error {
	fe := identity.FieldErrors{}
	c.Title = strings.TrimSpace(c.Title)
	if c.Title == "" || len(c.Title) > 200 {
		fe["title"] = "is required (at most 200 characters)"
	}
	if c.DueDate.IsZero() {
		fe["due_date"] = "is required (YYYY-MM-DD)"
	}
	if c.Status == "" {
		c.Status = "open"
	}
	if !slices.Contains(CAPAStatuses, c.Status) {
		fe["status"] = "must be one of " + strings.Join(CAPAStatuses, ", ")
	}
	for k, v := range map[string]string{"root_cause": c.RootCause, "action": c.Action, "verification": c.Verification} {
		if len(v) > 8000 {
			fe[k] = "is too long (at most 8000 characters)"
		}
	}
	if (c.Status == "verified" || c.Status == "closed") && strings.TrimSpace(c.Verification) == "" {
		fe["verification"] = "say how the action's effectiveness was verified"
	}
	if c.Status == "closed" && (before == nil || (before.Status != "verified" && before.Status != "closed")) {
		fe["status"] = "verify the action before closing it"
	}
	return fe.Err()
}

// Overdue reports whether the action is still open past its due date.
func (c *CAPA) Overdue(now time.Time) bool {
	if c.Status != "open" && c.Status != "done" {
		return false
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return c.DueDate.Before(today)
}

// Grant gives an external auditor read-only access to one audit until
// ExpiresAt.
type Grant struct {
	ID         int64     `json:"id"`
	AuditID    int64     `json:"audit_id"`
	UserID     int64     `json:"user_id"`
	Username   string    `json:"username"`
	ExpiresAt  time.Time `json:"expires_at"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	AuditTitle string    `json:"audit_title,omitempty"`
}

// Active reports whether the grant admits its auditor at now.
func (g *Grant) Active(now time.Time) bool {
	return g.RevokedAt.IsZero() && now.Before(g.ExpiresAt)
}

// ParseDate reads YYYY-MM-DD ("" is the zero time).
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a date as YYYY-MM-DD")
	}
	return t, nil
}
