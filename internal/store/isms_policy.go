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
	"github.com/custodia/custodia/internal/isms/policy"
)

const policyColumns = "id, code, title, kind, client_id, owner_user_id, review_months, created_at, updated_at"

func scanPolicy(sc interface{ Scan(...any) error }, p *policy.Policy) error {
	var client, owner sql.NullInt64
	if err := sc.Scan(&p.ID, &p.Code, &p.Title, &p.Kind, &client, &owner, &p.ReviewMonths, ScanTime(&p.CreatedAt), ScanTime(&p.UpdatedAt)); err != nil {
		return err
	}
	p.ClientID, p.OwnerUserID = client.Int64, owner.Int64
	return nil
}

const policyVersionColumns = `id, policy_id, version, body, change_note, status, target_roles, target_site_ids, target_team_ids, target_client_ids,
	created_by, created_at, published_at, review_at`

func scanPolicyVersion(sc interface{ Scan(...any) error }, v *policy.Version) error {
	var roles, sites, teams, clients string
	if err := sc.Scan(&v.ID, &v.PolicyID, &v.Version, &v.Body, &v.ChangeNote, &v.Status, &roles, &sites, &teams, &clients,
		&v.CreatedBy, ScanTime(&v.CreatedAt), ScanTime(&v.PublishedAt), ScanTime(&v.ReviewAt)); err != nil {
		return err
	}
	v.Target = policy.Target{Roles: []identity.Role{}, SiteIDs: policy.SplitIDs(sites), TeamIDs: policy.SplitIDs(teams), ClientIDs: policy.SplitIDs(clients)}
	for _, r := range strings.Split(roles, ",") {
		if r != "" {
			v.Target.Roles = append(v.Target.Roles, identity.Role(r))
		}
	}
	v.Approvals = []policy.Approval{}
	return nil
}

// ISMSPolicies lists the policies in scope (the caller's clients' and the
// operator-wide ones) by code, each with its published version (no body).
func (s *Store) ISMSPolicies(ctx context.Context, scope identity.Scope) ([]policy.Policy, error) {
	where, args := riskScopeSQL("client_id", scope, nil)
	rows, err := s.Query(ctx, "SELECT "+policyColumns+" FROM isms_policies WHERE "+where+" ORDER BY code, id", args...)
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	out := []policy.Policy{}
	index := map[int64]int{}
	for rows.Next() {
		var p policy.Policy
		if err := scanPolicy(rows, &p); err != nil {
			rows.Close()
			return nil, err
		}
		index[p.ID] = len(out)
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	vr, err := s.Query(ctx, "SELECT "+policyVersionColumns+" FROM isms_policy_versions WHERE status = 'published'")
	if err != nil {
		return nil, err
	}
	defer vr.Close()
	for vr.Next() {
		var v policy.Version
		if err := scanPolicyVersion(vr, &v); err != nil {
			return nil, err
		}
		if i, ok := index[v.PolicyID]; ok {
			v.Body = ""
			out[i].Current = &v
		}
	}
	return out, vr.Err()
}

// ISMSPolicy returns a policy in scope with all its versions (newest first)
// and their approvals.
func (s *Store) ISMSPolicy(ctx context.Context, scope identity.Scope, id int64) (*policy.Policy, error) {
	return policyGet(ctx, s, scope, id)
}

func policyGet(ctx context.Context, q riskQuerier, scope identity.Scope, id int64) (*policy.Policy, error) {
	where, args := riskScopeSQL("client_id", scope, nil)
	args = append(args, id)
	var p policy.Policy
	if err := scanPolicy(q.QueryRow(ctx, "SELECT "+policyColumns+" FROM isms_policies WHERE "+where+" AND id = ?", args...), &p); err != nil {
		return nil, fmt.Errorf("policy %d: %w", id, mapErr(err))
	}
	rows, err := q.Query(ctx, "SELECT "+policyVersionColumns+" FROM isms_policy_versions WHERE policy_id = ? ORDER BY version DESC", id)
	if err != nil {
		return nil, err
	}
	p.Versions = []policy.Version{}
	for rows.Next() {
		var v policy.Version
		if err := scanPolicyVersion(rows, &v); err != nil {
			rows.Close()
			return nil, err
		}
		p.Versions = append(p.Versions, v)
	}
	rows.Close()
	ar, err := q.Query(ctx, `SELECT a.version_id, a.user_id, u.username, a.approved_at, a.note FROM isms_policy_approvals a
		JOIN users u ON u.id = a.user_id JOIN isms_policy_versions v ON v.id = a.version_id WHERE v.policy_id = ? ORDER BY u.username`, id)
	if err != nil {
		return nil, err
	}
	defer ar.Close()
	for ar.Next() {
		var vid int64
		var a policy.Approval
		if err := ar.Scan(&vid, &a.UserID, &a.Username, ScanTime(&a.ApprovedAt), &a.Note); err != nil {
			return nil, err
		}
		for i := range p.Versions {
			if p.Versions[i].ID == vid {
				p.Versions[i].Approvals = append(p.Versions[i].Approvals, a)
			}
		}
	}
	for i := range p.Versions {
		if p.Versions[i].Status == policy.StatusPublished {
			v := p.Versions[i]
			p.Current = &v
		}
	}
	return &p, ar.Err()
}

// ISMSPolicyVersion returns one version and its policy, in scope.
func (s *Store) ISMSPolicyVersion(ctx context.Context, scope identity.Scope, versionID int64) (*policy.Policy, *policy.Version, error) {
	var pid int64
	if err := s.QueryRow(ctx, "SELECT policy_id FROM isms_policy_versions WHERE id = ?", versionID).Scan(&pid); err != nil {
		return nil, nil, fmt.Errorf("policy version %d: %w", versionID, mapErr(err))
	}
	p, err := policyGet(ctx, s, scope, pid)
	if err != nil {
		return nil, nil, err
	}
	for i := range p.Versions {
		if p.Versions[i].ID == versionID {
			return p, &p.Versions[i], nil
		}
	}
	return nil, nil, fmt.Errorf("policy version %d: %w", versionID, ErrNotFound)
}

// ISMSPolicyCreate validates and inserts a policy.
func (s *Store) ISMSPolicyCreate(ctx context.Context, scope identity.Scope, p *policy.Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := riskCanWrite(scope, p.ClientID); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		if err := tx.riskCheckUser(ctx, "owner_user_id", p.OwnerUserID); err != nil {
			return err
		}
		now := time.Now().UTC()
		p.CreatedAt, p.UpdatedAt = now, now
		id, err := tx.InsertID(ctx, `INSERT INTO isms_policies (code, title, kind, client_id, client_key, owner_user_id, review_months, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, p.Code, p.Title, p.Kind, nullID(p.ClientID), p.ClientID, nullID(p.OwnerUserID), p.ReviewMonths, TimeArg(now), TimeArg(now))
		if err != nil {
			return riskConflict(fmt.Errorf("create policy: %w", err), "code", "is already used by another policy")
		}
		p.ID = id
		return tx.Audit(ctx, audit.Record{Action: "isms.policy.create", ObjectType: "isms_policy", ObjectID: riskID(id), ClientID: p.ClientID, After: p, Detail: p.Code})
	})
}

// ISMSPolicyUpdate saves a policy's fields (not its versions).
func (s *Store) ISMSPolicyUpdate(ctx context.Context, scope identity.Scope, p *policy.Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := policyGet(ctx, tx, scope, p.ID)
		if err != nil {
			return err
		}
		if err := riskCanWrite(scope, before.ClientID); err != nil {
			return err
		}
		if err := riskCanWrite(scope, p.ClientID); err != nil {
			return err
		}
		if err := tx.riskCheckUser(ctx, "owner_user_id", p.OwnerUserID); err != nil {
			return err
		}
		p.UpdatedAt = time.Now().UTC()
		if _, err := tx.Exec(ctx, `UPDATE isms_policies SET code = ?, title = ?, kind = ?, client_id = ?, client_key = ?, owner_user_id = ?, review_months = ?, updated_at = ? WHERE id = ?`,
			p.Code, p.Title, p.Kind, nullID(p.ClientID), p.ClientID, nullID(p.OwnerUserID), p.ReviewMonths, TimeArg(p.UpdatedAt), p.ID); err != nil {
			return riskConflict(fmt.Errorf("update policy: %w", mapErr(err)), "code", "is already used by another policy")
		}
		before.Versions = nil
		return tx.Audit(ctx, audit.Record{Action: "isms.policy.update", ObjectType: "isms_policy", ObjectID: riskID(p.ID), ClientID: p.ClientID, Before: before, After: p, Detail: p.Code})
	})
}

// ISMSPolicyAddVersion adds a draft version with its approvers (users who
// will approve it, at least one).
func (s *Store) ISMSPolicyAddVersion(ctx context.Context, scope identity.Scope, policyID int64, v *policy.Version, approvers []int64, by string) error {
	if err := v.Validate(); err != nil {
		return err
	}
	if len(approvers) == 0 {
		return identity.FieldErrors{"approvers": "name at least one approver"}
	}
	return s.InTx(ctx, func(tx *Tx) error {
		p, err := policyGet(ctx, tx, scope, policyID)
		if err != nil {
			return err
		}
		if err := riskCanWrite(scope, p.ClientID); err != nil {
			return err
		}
		var unknown []string
		for _, u := range approvers {
			if tx.riskCheckUser(ctx, "x", u) != nil || u <= 0 {
				unknown = append(unknown, riskID(u))
			}
		}
		if len(unknown) > 0 {
			return identity.FieldErrors{"approvers": "unknown users: " + strings.Join(unknown, ", ")}
		}
		var last int64
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM isms_policy_versions WHERE policy_id = ?", policyID).Scan(&last); err != nil {
			return err
		}
		now := time.Now().UTC()
		v.PolicyID, v.Version, v.Status, v.CreatedAt, v.CreatedBy = policyID, last+1, policy.StatusDraft, now, by
		roles := make([]string, len(v.Target.Roles))
		for i, r := range v.Target.Roles {
			roles[i] = string(r)
		}
		v.ID, err = tx.InsertID(ctx, `INSERT INTO isms_policy_versions (policy_id, version, body, change_note, status, target_roles, target_site_ids,
			target_team_ids, target_client_ids, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			policyID, v.Version, v.Body, v.ChangeNote, v.Status, strings.Join(roles, ","), policy.JoinIDs(v.Target.SiteIDs),
			policy.JoinIDs(v.Target.TeamIDs), policy.JoinIDs(v.Target.ClientIDs), by, TimeArg(now))
		if err != nil {
			return fmt.Errorf("add policy version: %w", err)
		}
		seen := map[int64]bool{}
		for _, u := range approvers {
			if seen[u] {
				continue
			}
			seen[u] = true
			if _, err := tx.Exec(ctx, "INSERT INTO isms_policy_approvals (version_id, user_id) VALUES (?, ?)", v.ID, u); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.policy.version_add", ObjectType: "isms_policy", ObjectID: riskID(policyID), ClientID: p.ClientID,
			After: v, Detail: fmt.Sprintf("%s v%d", p.Code, v.Version)})
	})
}

// ISMSPolicyApprove records the caller's approval of a draft version; only
// the version's approvers may.
func (s *Store) ISMSPolicyApprove(ctx context.Context, p *identity.Principal, versionID int64, note string) error {
	return s.InTx(ctx, func(tx *Tx) error {
		var pid int64
		var status string
		if err := tx.QueryRow(ctx, "SELECT policy_id, status FROM isms_policy_versions WHERE id = ?", versionID).Scan(&pid, &status); err != nil {
			return fmt.Errorf("policy version %d: %w", versionID, mapErr(err))
		}
		pol, err := policyGet(ctx, tx, p.Scope(), pid)
		if err != nil {
			return err
		}
		if status != policy.StatusDraft {
			return identity.FieldErrors{"status": "only a draft version can be approved"}
		}
		res, err := tx.Exec(ctx, "UPDATE isms_policy_approvals SET approved_at = ?, note = ? WHERE version_id = ? AND user_id = ? AND approved_at IS NULL",
			TimeArg(time.Now()), strings.TrimSpace(note), versionID, p.UserID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return identity.FieldErrors{"approver": "you are not a pending approver of this version"}
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.policy.approve", ObjectType: "isms_policy_version", ObjectID: riskID(versionID), ClientID: pol.ClientID,
			Detail: fmt.Sprintf("%s approved %s", p.Username, pol.Code)})
	})
}

// ISMSPolicyPublish publishes an approved draft: it becomes the current
// version (the previous one is superseded), its review date is set, and
// the people it targets are asked to acknowledge it.
func (s *Store) ISMSPolicyPublish(ctx context.Context, scope identity.Scope, versionID int64, now time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		var pid int64
		if err := tx.QueryRow(ctx, "SELECT policy_id FROM isms_policy_versions WHERE id = ?", versionID).Scan(&pid); err != nil {
			return fmt.Errorf("policy version %d: %w", versionID, mapErr(err))
		}
		p, err := policyGet(ctx, tx, scope, pid)
		if err != nil {
			return err
		}
		if err := riskCanWrite(scope, p.ClientID); err != nil {
			return err
		}
		var v *policy.Version
		for i := range p.Versions {
			if p.Versions[i].ID == versionID {
				v = &p.Versions[i]
			}
		}
		if v == nil || v.Status != policy.StatusDraft {
			return identity.FieldErrors{"status": "only a draft version can be published"}
		}
		if !v.Approved() {
			var waiting []string
			for _, a := range v.Approvals {
				if a.ApprovedAt.IsZero() {
					waiting = append(waiting, a.Username)
				}
			}
			return identity.FieldErrors{"approvals": "still waiting for: " + strings.Join(waiting, ", ")}
		}
		now = now.UTC()
		if _, err := tx.Exec(ctx, "UPDATE isms_policy_versions SET status = 'superseded' WHERE policy_id = ? AND status = 'published'", pid); err != nil {
			return err
		}
		review := now.AddDate(0, p.ReviewMonths, 0)
		if _, err := tx.Exec(ctx, "UPDATE isms_policy_versions SET status = 'published', published_at = ?, review_at = ? WHERE id = ?",
			TimeArg(now), TimeArg(review), versionID); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.policy.publish", ObjectType: "isms_policy_version", ObjectID: riskID(versionID), ClientID: p.ClientID,
			Detail: fmt.Sprintf("%s v%d published; review by %s", p.Code, v.Version, review.Format("2006-01-02"))})
	})
}

// ISMSPolicyMembers lists the active users as targeting sees them; with a
// restricted scope only those who work for one of its clients.
func (s *Store) ISMSPolicyMembers(ctx context.Context, scope identity.Scope) ([]policy.Member, error) {
	return s.ismsPolicyMembers(ctx, scope, 0)
}

// ismsPolicyMembers is ISMSPolicyMembers, for one user when userID is not 0.
func (s *Store) ismsPolicyMembers(ctx context.Context, scope identity.Scope, userID int64) ([]policy.Member, error) {
	one, oneArgs := "", []any{}
	clientsOne, clientsArgs := "", []any{}
	if userID != 0 {
		one, oneArgs = " AND u.id = ?", []any{userID}
		clientsOne, clientsArgs = " WHERE user_id = ?", []any{userID, userID}
	}
	rows, err := s.Query(ctx, `SELECT u.id, u.username, u.display_name, u.email, u.role, COALESCE(p.site_id, 0), COALESCE(p.team_id, 0), COALESCE(p.email, ''), u.locale, u.created_at
		FROM users u LEFT JOIN people p ON p.id = u.person_id WHERE u.active`+one+` ORDER BY u.username`, oneArgs...)
	if err != nil {
		return nil, fmt.Errorf("list policy audience: %w", err)
	}
	out := []policy.Member{}
	index := map[int64]int{}
	for rows.Next() {
		var m policy.Member
		var role, personEmail string
		if err := rows.Scan(&m.UserID, &m.Username, &m.DisplayName, &m.Email, &role, &m.SiteID, &m.TeamID, &personEmail, &m.Locale, ScanTime(&m.CreatedAt)); err != nil {
			rows.Close()
			return nil, err
		}
		m.Role = identity.Role(role)
		if m.Email == "" {
			m.Email = personEmail
		}
		m.ClientIDs = []int64{}
		index[m.UserID] = len(out)
		out = append(out, m)
	}
	rows.Close()
	clientsTail := ""
	if userID != 0 {
		clientsTail = " WHERE u.id = ?"
	}
	cr, err := s.Query(ctx, `SELECT user_id, client_id FROM user_clients`+clientsOne+`
		UNION SELECT u.id, pc.client_id FROM users u JOIN person_clients pc ON pc.person_id = u.person_id`+clientsTail, clientsArgs...)
	if err != nil {
		return nil, err
	}
	defer cr.Close()
	for cr.Next() {
		var u, c int64
		if err := cr.Scan(&u, &c); err != nil {
			return nil, err
		}
		if i, ok := index[u]; ok && !slices.Contains(out[i].ClientIDs, c) {
			out[i].ClientIDs = append(out[i].ClientIDs, c)
		}
	}
	if err := cr.Err(); err != nil {
		return nil, err
	}
	if scope.All {
		return out, nil
	}
	kept := out[:0]
	for _, m := range out {
		if slices.ContainsFunc(m.ClientIDs, func(c int64) bool { return slices.Contains(scope.ClientIDs, c) }) {
			kept = append(kept, m)
		}
	}
	return kept, nil
}

// ISMSPolicyStatus lists, for a published version in scope, every person it
// targets (in scope) with their acknowledgement and reminders.
func (s *Store) ISMSPolicyStatus(ctx context.Context, scope identity.Scope, versionID int64) (*policy.Policy, *policy.Version, []policy.AckStatus, error) {
	p, v, err := s.ISMSPolicyVersion(ctx, scope, versionID)
	if err != nil {
		return nil, nil, nil, err
	}
	members, err := s.ISMSPolicyMembers(ctx, scope)
	if err != nil {
		return nil, nil, nil, err
	}
	acks, err := policyTimes(ctx, s, "SELECT user_id, acknowledged_at, 0 FROM isms_policy_acks WHERE version_id = ?", versionID)
	if err != nil {
		return nil, nil, nil, err
	}
	rem, err := policyTimes(ctx, s, "SELECT user_id, sent_at, count FROM isms_policy_reminders WHERE version_id = ?", versionID)
	if err != nil {
		return nil, nil, nil, err
	}
	out := []policy.AckStatus{}
	for _, m := range members {
		if !v.Target.Matches(m, p.ClientID) {
			continue
		}
		st := policy.AckStatus{Member: m, AcknowledgedAt: acks[m.UserID].at, RemindedAt: rem[m.UserID].at, Reminders: rem[m.UserID].n}
		out = append(out, st)
	}
	return p, v, out, nil
}

type policyTime struct {
	at time.Time
	n  int
}

func policyTimes(ctx context.Context, q riskQuerier, query string, args ...any) (map[int64]policyTime, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]policyTime{}
	for rows.Next() {
		var u int64
		var x policyTime
		if err := rows.Scan(&u, ScanTime(&x.at), &x.n); err != nil {
			return nil, err
		}
		out[u] = x
	}
	return out, rows.Err()
}

// ISMSPolicyPending lists the published versions that target member and
// that they have not acknowledged, oldest publication first.
func (s *Store) ISMSPolicyPending(ctx context.Context, m policy.Member) ([]policy.Pending, error) {
	rows, err := s.Query(ctx, `SELECT p.id, p.code, p.title, p.client_id, `+prefixCols("v.", policyVersionColumns)+`
		FROM isms_policy_versions v JOIN isms_policies p ON p.id = v.policy_id
		WHERE v.status = 'published' AND NOT EXISTS (SELECT 1 FROM isms_policy_acks a WHERE a.version_id = v.id AND a.user_id = ?)
		ORDER BY v.published_at, v.id`, m.UserID)
	if err != nil {
		return nil, fmt.Errorf("pending policies: %w", err)
	}
	defer rows.Close()
	out := []policy.Pending{}
	for rows.Next() {
		var pd policy.Pending
		var client sql.NullInt64
		var v policy.Version
		var roles, sites, teams, clients string
		if err := rows.Scan(&pd.PolicyID, &pd.Code, &pd.Title, &client, &v.ID, &v.PolicyID, &v.Version, &v.Body, &v.ChangeNote, &v.Status,
			&roles, &sites, &teams, &clients, &v.CreatedBy, ScanTime(&v.CreatedAt), ScanTime(&v.PublishedAt), ScanTime(&v.ReviewAt)); err != nil {
			return nil, err
		}
		t := policy.Target{SiteIDs: policy.SplitIDs(sites), TeamIDs: policy.SplitIDs(teams), ClientIDs: policy.SplitIDs(clients)}
		for _, r := range strings.Split(roles, ",") {
			if r != "" {
				t.Roles = append(t.Roles, identity.Role(r))
			}
		}
		if !t.Matches(m, client.Int64) {
			continue
		}
		pd.VersionID, pd.Version, pd.PublishedAt = v.ID, v.Version, v.PublishedAt
		out = append(out, pd)
	}
	return out, rows.Err()
}

func prefixCols(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// ISMSPolicyMember returns the member record of one user.
func (s *Store) ISMSPolicyMember(ctx context.Context, userID int64) (*policy.Member, error) {
	all, err := s.ismsPolicyMembers(ctx, identity.Scope{All: true}, userID)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].UserID == userID {
			return &all[i], nil
		}
	}
	return nil, fmt.Errorf("user %d: %w", userID, ErrNotFound)
}

// ISMSPolicyAcknowledge records that the caller read and acknowledges a
// published version that targets them (idempotent).
func (s *Store) ISMSPolicyAcknowledge(ctx context.Context, p *identity.Principal, versionID int64, now time.Time) error {
	m, err := s.ISMSPolicyMember(ctx, p.UserID)
	if err != nil {
		return err
	}
	pending, err := s.ISMSPolicyPending(ctx, *m)
	if err != nil {
		return err
	}
	var item *policy.Pending
	for i := range pending {
		if pending[i].VersionID == versionID {
			item = &pending[i]
		}
	}
	if item == nil {
		var n int
		if err := s.QueryRow(ctx, "SELECT COUNT(*) FROM isms_policy_acks WHERE version_id = ? AND user_id = ?", versionID, p.UserID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		return fmt.Errorf("policy version %d: %w", versionID, ErrNotFound)
	}
	return s.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO isms_policy_acks (version_id, user_id, acknowledged_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			versionID, p.UserID, TimeArg(now)); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.policy.acknowledge", ObjectType: "isms_policy_version", ObjectID: riskID(versionID),
			Detail: fmt.Sprintf("%s acknowledged %s v%d", p.Username, item.Code, item.Version)})
	})
}

// ISMSPolicyPublished lists every published version with its policy (for
// the reminder job).
func (s *Store) ISMSPolicyPublished(ctx context.Context) ([]policy.Policy, error) {
	list, err := s.ISMSPolicies(ctx, identity.Scope{All: true})
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, p := range list {
		if p.Current != nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// ISMSPolicyRecordReminder notes that a reminder was sent (count + 1).
func (s *Store) ISMSPolicyRecordReminder(ctx context.Context, versionID, userID int64, at time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO isms_policy_reminders (version_id, user_id, sent_at, count) VALUES (?, ?, ?, 1)
			ON CONFLICT (version_id, user_id) DO UPDATE SET sent_at = excluded.sent_at, count = isms_policy_reminders.count + 1`,
			versionID, userID, TimeArg(at)); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.policy.remind", ObjectType: "isms_policy_version", ObjectID: riskID(versionID), Detail: fmt.Sprintf("user %d", userID)})
	})
}

// ISMSPolicyAckedAt returns when the user acknowledged a version (zero if not).
func (s *Store) ISMSPolicyAckedAt(ctx context.Context, versionID, userID int64) (time.Time, error) {
	var at time.Time
	err := s.QueryRow(ctx, "SELECT acknowledged_at FROM isms_policy_acks WHERE version_id = ? AND user_id = ?", versionID, userID).Scan(ScanTime(&at))
	if err == sql.ErrNoRows {
		return time.Time{}, nil
	}
	return at, err
}
