// Package policy holds the ISMS's policies and procedures: versioned
// Markdown documents with an owner, approvers, publication and review
// dates, the people each version targets (by role, site, team and client)
// and their acknowledgements. It renders the safe Markdown subset, decides
// who a version targets, and sends the reminders; the SQL lives in
// internal/store/isms_policy.go.
package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/identity"
)

// Kinds of document.
const (
	KindPolicy    = "policy"
	KindProcedure = "procedure"
)

// Version statuses.
const (
	StatusDraft      = "draft"
	StatusPublished  = "published"
	StatusSuperseded = "superseded"
)

// Policy is a policy or procedure; its text lives in its versions.
type Policy struct {
	ID           int64     `json:"id"`
	Code         string    `json:"code"`
	Title        string    `json:"title"`
	Kind         string    `json:"kind"`
	ClientID     int64     `json:"client_id,omitempty"` // 0 = operator-wide
	OwnerUserID  int64     `json:"owner_user_id,omitempty"`
	ReviewMonths int       `json:"review_months"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Current is the published version, nil if none.
	Current *Version `json:"current,omitempty"`
	// Versions are listed newest first by detail reads.
	Versions []Version `json:"versions,omitempty"`
}

// Validate checks the policy's fields.
func (p *Policy) Validate() error {
	fe := identity.FieldErrors{}
	p.Code = strings.TrimSpace(p.Code)
	p.Title = strings.TrimSpace(p.Title)
	if p.Code == "" || len(p.Code) > 60 {
		fe["code"] = "is required (at most 60 characters)"
	}
	if p.Title == "" || len(p.Title) > 200 {
		fe["title"] = "is required (at most 200 characters)"
	}
	if p.Kind == "" {
		p.Kind = KindPolicy
	}
	if p.Kind != KindPolicy && p.Kind != KindProcedure {
		fe["kind"] = "must be policy or procedure"
	}
	if p.ReviewMonths == 0 {
		p.ReviewMonths = 12
	}
	if p.ReviewMonths < 1 || p.ReviewMonths > 60 {
		fe["review_months"] = "must be from 1 to 60"
	}
	return fe.Err()
}

// Target says whom a version asks to acknowledge it. Each non-empty list
// must match (any of its entries); empty lists match everybody.
type Target struct {
	Roles     []identity.Role `json:"roles"`
	SiteIDs   []int64         `json:"site_ids"`
	TeamIDs   []int64         `json:"team_ids"`
	ClientIDs []int64         `json:"client_ids"`
}

// Validate checks the roles.
func (t Target) Validate() error {
	for _, r := range t.Roles {
		if _, err := identity.ParseRole(string(r)); err != nil {
			return identity.FieldErrors{"target.roles": fmt.Sprintf("unknown role %q", r)}
		}
	}
	return nil
}

// Member is a user as targeting sees them: role, and their person's site,
// team and clients.
type Member struct {
	UserID      int64         `json:"user_id"`
	Username    string        `json:"username"`
	DisplayName string        `json:"display_name"`
	Email       string        `json:"email"`
	Role        identity.Role `json:"role"`
	SiteID      int64         `json:"site_id,omitempty"`
	TeamID      int64         `json:"team_id,omitempty"`
	ClientIDs   []int64       `json:"client_ids"`
	Locale      string        `json:"-"`
	CreatedAt   time.Time     `json:"-"`
}

// Matches reports whether the target includes m; policyClient (0 = none)
// restricts a client's own policy to the people working for that client.
func (t Target) Matches(m Member, policyClient int64) bool {
	if len(t.Roles) > 0 && !slices.Contains(t.Roles, m.Role) {
		return false
	}
	if len(t.SiteIDs) > 0 && !slices.Contains(t.SiteIDs, m.SiteID) {
		return false
	}
	if len(t.TeamIDs) > 0 && !slices.Contains(t.TeamIDs, m.TeamID) {
		return false
	}
	if len(t.ClientIDs) > 0 && !slices.ContainsFunc(t.ClientIDs, func(c int64) bool { return slices.Contains(m.ClientIDs, c) }) {
		return false
	}
	if policyClient != 0 && !slices.Contains(m.ClientIDs, policyClient) {
		return false
	}
	return true
}

// Approval is one approver's decision on a version.
type Approval struct {
	UserID     int64     `json:"user_id"`
	Username   string    `json:"username"`
	ApprovedAt time.Time `json:"approved_at,omitzero"`
	Note       string    `json:"note"`
}

// Version is one text of a policy.
type Version struct {
	ID          int64      `json:"id"`
	PolicyID    int64      `json:"policy_id"`
	Version     int64      `json:"version"`
	Body        string     `json:"body"`
	ChangeNote  string     `json:"change_note"`
	Status      string     `json:"status"`
	Target      Target     `json:"target"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	PublishedAt time.Time  `json:"published_at,omitzero"`
	ReviewAt    time.Time  `json:"review_at,omitzero"`
	Approvals   []Approval `json:"approvals"`
}

// MaxBody is the largest document accepted (bytes of Markdown).
const MaxBody = 256 << 10

// Validate checks a new version.
func (v *Version) Validate() error {
	fe := identity.FieldErrors{}
	if strings.TrimSpace(v.Body) == "" {
		fe["body"] = "is required"
	} else if len(v.Body) > MaxBody {
		fe["body"] = fmt.Sprintf("is too long (at most %d KiB)", MaxBody>>10)
	}
	if len(v.ChangeNote) > 2000 {
		fe["change_note"] = "is too long (at most 2000 characters)"
	}
	if err := v.Target.Validate(); err != nil {
		return err
	}
	return fe.Err()
}

// Approved reports whether every approver approved (and there is one).
func (v *Version) Approved() bool {
	if len(v.Approvals) == 0 {
		return false
	}
	for _, a := range v.Approvals {
		if a.ApprovedAt.IsZero() {
			return false
		}
	}
	return true
}

// AckStatus is one targeted person's acknowledgement of a version.
type AckStatus struct {
	Member
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	RemindedAt     time.Time `json:"reminded_at,omitzero"`
	Reminders      int       `json:"reminders"`
}

// Pending is a published version the caller has still to acknowledge.
type Pending struct {
	PolicyID    int64     `json:"policy_id"`
	Code        string    `json:"code"`
	Title       string    `json:"title"`
	VersionID   int64     `json:"version_id"`
	Version     int64     `json:"version"`
	PublishedAt time.Time `json:"published_at"`
}

// JoinIDs writes ids as a comma list ("" when empty).
func JoinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return strings.Join(parts, ",")
}

// SplitIDs reads a comma list of ids, skipping blanks and junk.
func SplitIDs(s string) []int64 {
	out := []int64{}
	for _, p := range strings.Split(s, ",") {
		var id int64
		if _, err := fmt.Sscan(strings.TrimSpace(p), &id); err == nil && id > 0 {
			out = append(out, id)
		}
	}
	return out
}
