package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
)

const personSelect = `SELECT p.id, p.employee_id, p.full_name, p.email, p.job_role, p.site_id, p.team_id,
	p.start_date, p.leave_date, p.active, p.created_at, p.updated_at, COALESCE(s.name, ''), COALESCE(t.name, ''), t.client_id
	FROM people p LEFT JOIN sites s ON s.id = p.site_id LEFT JOIN teams t ON t.id = p.team_id`

// scanPerson scans a personSelect row. Through a limited scope, the name of
// a team of another client is left empty (the person may work for several
// clients; their team's campaign is not the viewer's business).
func scanPerson(sc interface{ Scan(...any) error }, scope identity.Scope, p *org.Person) error {
	var site, team, teamClient sql.NullInt64
	err := sc.Scan(&p.ID, &p.EmployeeID, &p.FullName, &p.Email, &p.JobRole, &site, &team,
		orgScanDate{&p.StartDate}, orgScanDate{&p.LeaveDate}, &p.Active, ScanTime(&p.CreatedAt), ScanTime(&p.UpdatedAt),
		&p.SiteName, &p.TeamName, &teamClient)
	p.SiteID, p.TeamID = site.Int64, team.Int64
	p.ClientIDs = []int64{}
	if teamClient.Valid && !scope.All && !slices.Contains(scope.ClientIDs, teamClient.Int64) {
		p.TeamName = ""
	}
	return err
}

// personScopeSQL restricts people (alias p) to those visible in scope: one of
// their clients in scope, their team in scope.TeamIDs (when non-nil), and
// themselves when scope.PersonID is set.
func personScopeSQL(scope identity.Scope, args []any) (string, []any) {
	return personScopeSQLMode(scope, args, false)
}

// personScopeSQLMode is personScopeSQL; with inList the client condition is
// written "p.id IN (SELECT …)", which counts faster, instead of a correlated
// EXISTS, which lets a name-ordered page stop early.
func personScopeSQLMode(scope identity.Scope, args []any, inList bool) (string, []any) {
	var b strings.Builder
	if scope.PersonID != 0 {
		b.WriteString(" AND p.id = ?")
		args = append(args, scope.PersonID)
	}
	if scope.TeamIDs != nil {
		if len(scope.TeamIDs) == 0 {
			b.WriteString(" AND 1 = 0")
		} else {
			var in string
			in, args = orgInList(scope.TeamIDs, args)
			b.WriteString(" AND p.team_id IN " + in)
		}
	}
	if !scope.All {
		if len(scope.ClientIDs) == 0 {
			b.WriteString(" AND 1 = 0")
		} else {
			var in string
			in, args = orgInList(scope.ClientIDs, args)
			if inList {
				b.WriteString(" AND p.id IN (SELECT pc.person_id FROM person_clients pc WHERE pc.client_id IN " + in + ")")
			} else {
				b.WriteString(" AND EXISTS (SELECT 1 FROM person_clients pc WHERE pc.person_id = p.id AND pc.client_id IN " + in + ")")
			}
		}
	}
	return b.String(), args
}

// People lists the people matching f, by name, with the total number of
// matches (for pagination). Each person's ClientIDs hold only in-scope clients.
func (s *Store) People(ctx context.Context, f org.PersonFilter) ([]org.Person, int, error) {
	limit, offset := f.Clamp()
	// The page walks the name index and stops at the limit.
	where, args := personFilterSQL(f, false)
	rows, err := s.Query(ctx, personSelect+where+" ORDER BY p.full_name, p.id LIMIT ? OFFSET ?", append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list people: %w", err)
	}
	defer rows.Close()
	out := []org.Person{}
	for rows.Next() {
		var p org.Person
		if err := scanPerson(rows, f.Scope, &p); err != nil {
			return nil, 0, fmt.Errorf("list people: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list people: %w", err)
	}
	rows.Close()
	// A short page that starts at the beginning is the whole result: no count needed.
	total := len(out)
	if offset > 0 || len(out) == limit {
		query, args := personCountSQL(f)
		if err := s.QueryRow(ctx, query, args...).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("count people: %w", err)
		}
	}
	if err := loadPersonClients(ctx, s, f.Scope, out); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// personCountSQL counts the people matching f. The commonest lists — everyone,
// or everyone of some clients — are counted from an index alone.
func personCountSQL(f org.PersonFilter) (string, []any) {
	sc := f.Scope
	plain := strings.TrimSpace(f.Query) == "" && f.ClientID == 0 && f.SiteID == 0 && f.TeamID == 0 && f.Active == nil &&
		sc.TeamIDs == nil && sc.PersonID == 0
	switch {
	case plain && sc.All:
		return "SELECT COUNT(*) FROM people", nil
	case plain && len(sc.ClientIDs) > 0:
		in, args := orgInList(sc.ClientIDs, nil)
		return "SELECT COUNT(DISTINCT person_id) FROM person_clients WHERE client_id IN " + in, args
	}
	where, args := personFilterSQL(f, true)
	return "SELECT COUNT(*) FROM people p" + where, args
}

// personFilterSQL is the WHERE clause of a people filter (see personScopeSQLMode for inList).
func personFilterSQL(f org.PersonFilter, inList bool) (string, []any) {
	var w strings.Builder
	args := []any{}
	w.WriteString(" WHERE 1 = 1")
	// The cheap tests on the row come first, the client subqueries last.
	if q := strings.TrimSpace(f.Query); q != "" {
		w.WriteString(` AND p.search_text LIKE ? ESCAPE '\'`)
		args = append(args, orgLike(q))
	}
	if f.ClientID != 0 {
		if inList {
			w.WriteString(" AND p.id IN (SELECT fc.person_id FROM person_clients fc WHERE fc.client_id = ?)")
		} else {
			w.WriteString(" AND EXISTS (SELECT 1 FROM person_clients fc WHERE fc.person_id = p.id AND fc.client_id = ?)")
		}
		args = append(args, f.ClientID)
	}
	if f.SiteID != 0 {
		w.WriteString(" AND p.site_id = ?")
		args = append(args, f.SiteID)
	}
	if f.TeamID != 0 {
		w.WriteString(" AND p.team_id = ?")
		args = append(args, f.TeamID)
	}
	if f.Active != nil {
		w.WriteString(" AND p.active = ?")
		args = append(args, *f.Active)
	}
	scopeSQL, args := personScopeSQLMode(f.Scope, args, inList)
	w.WriteString(scopeSQL)
	return w.String(), args
}

// loadPersonClients fills the people's ClientIDs (the in-scope ones).
func loadPersonClients(ctx context.Context, q orgQuerier, scope identity.Scope, people []org.Person) error {
	if len(people) == 0 {
		return nil
	}
	byID := make(map[int64]int, len(people))
	ids := make([]int64, len(people))
	for i := range people {
		byID[people[i].ID] = i
		ids[i] = people[i].ID
	}
	in, args := orgInList(ids, nil)
	query := "SELECT person_id, client_id FROM person_clients WHERE person_id IN " + in
	if !scope.All {
		if len(scope.ClientIDs) == 0 {
			return nil
		}
		var cin string
		cin, args = orgInList(scope.ClientIDs, args)
		query += " AND client_id IN " + cin
	}
	rows, err := q.Query(ctx, query+" ORDER BY person_id, client_id", args...)
	if err != nil {
		return fmt.Errorf("load person clients: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid, cid int64
		if err := rows.Scan(&pid, &cid); err != nil {
			return fmt.Errorf("load person clients: %w", err)
		}
		if i, ok := byID[pid]; ok {
			people[i].ClientIDs = append(people[i].ClientIDs, cid)
		}
	}
	return rows.Err()
}

// Person returns the person with id if visible in scope, else an error
// wrapping ErrNotFound. ClientIDs hold only the in-scope clients.
func (s *Store) Person(ctx context.Context, scope identity.Scope, id int64) (*org.Person, error) {
	return getPerson(ctx, s, scope, "p.id = ?", id)
}

// PersonByEmployeeID returns the person with that employee id if visible in scope.
func (s *Store) PersonByEmployeeID(ctx context.Context, scope identity.Scope, employeeID string) (*org.Person, error) {
	return getPerson(ctx, s, scope, "p.employee_id = ?", strings.TrimSpace(employeeID))
}

func getPerson(ctx context.Context, q orgQuerier, scope identity.Scope, where string, key any) (*org.Person, error) {
	scopeSQL, args := personScopeSQL(scope, []any{key})
	var p org.Person
	if err := scanPerson(q.QueryRow(ctx, personSelect+" WHERE "+where+scopeSQL, args...), scope, &p); err != nil {
		return nil, fmt.Errorf("person %v: %w", key, mapErr(err))
	}
	people := []org.Person{p}
	if err := loadPersonClients(ctx, q, scope, people); err != nil {
		return nil, err
	}
	return &people[0], nil
}

// CreatePerson validates and inserts p with its clients, setting its id and
// timestamps. A person created inactive without a leave date leaves today.
func (s *Store) CreatePerson(ctx context.Context, p *org.Person) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.CreatePerson(ctx, identity.Scope{All: true}, p) })
}

// CreatePersonScoped is CreatePerson for a caller limited to scope: p's
// clients and team must be in it, and at least one client is required when
// the scope is limited.
func (s *Store) CreatePersonScoped(ctx context.Context, scope identity.Scope, p *org.Person) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.CreatePerson(ctx, scope, p) })
}

// CreatePerson is CreatePersonScoped inside a transaction.
func (tx *Tx) CreatePerson(ctx context.Context, scope identity.Scope, p *org.Person) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if !p.Active && p.LeaveDate.IsZero() {
		p.LeaveDate = org.Day(time.Now().UTC())
	}
	if err := tx.checkPersonRefs(ctx, scope, p, nil); err != nil {
		return err
	}
	now := time.Now().UTC()
	p.CreatedAt, p.UpdatedAt = now, now
	id, err := tx.InsertID(ctx, `INSERT INTO people (employee_id, full_name, email, search_text, job_role, site_id, team_id, start_date, leave_date, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.EmployeeID, p.FullName, p.Email, p.SearchText(), p.JobRole, orgNullID(p.SiteID), orgNullID(p.TeamID),
		orgDateArg(p.StartDate), orgDateArg(p.LeaveDate), p.Active, TimeArg(now), TimeArg(now))
	if err != nil {
		return fmt.Errorf("create person: %w", orgConflict(err, "employee_id", "is already used by another person"))
	}
	p.ID = id
	if err := tx.writePersonClients(ctx, id, p.ClientIDs); err != nil {
		return err
	}
	return tx.Audit(ctx, personRecord("person.create", nil, p))
}

// UpdatePerson validates p and saves all its fields, replacing its clients.
// Deactivating (Active from true to false) also disables the user accounts
// linked to the person and revokes their sessions and API tokens, in the same
// transaction.
func (s *Store) UpdatePerson(ctx context.Context, p *org.Person) error {
	return s.UpdatePersonScoped(ctx, identity.Scope{All: true}, p)
}

// UpdatePersonScoped is UpdatePerson for a caller limited to scope: the person
// must be visible in it (else ErrNotFound), p.ClientIDs are the in-scope
// clients (the person's out-of-scope clients are kept), and the team must be
// in scope.
func (s *Store) UpdatePersonScoped(ctx context.Context, scope identity.Scope, p *org.Person) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := getPerson(ctx, tx, identity.Scope{All: true}, "p.id = ?", p.ID)
		if err != nil {
			return fmt.Errorf("update person: %w", err)
		}
		if !org.Visible(scope, before) {
			return fmt.Errorf("update person: person %d: %w", p.ID, ErrNotFound)
		}
		if !scope.All {
			for _, c := range before.ClientIDs {
				if !slices.Contains(scope.ClientIDs, c) && !slices.Contains(p.ClientIDs, c) {
					p.ClientIDs = append(p.ClientIDs, c)
				}
			}
			p.Normalize()
		}
		return tx.updatePerson(ctx, scope, before, p)
	})
}

// updatePerson saves p over before (both read in this transaction).
func (tx *Tx) updatePerson(ctx context.Context, scope identity.Scope, before, p *org.Person) error {
	deactivate := before.Active && !p.Active
	if !p.Active && p.LeaveDate.IsZero() {
		p.LeaveDate = before.LeaveDate
		if p.LeaveDate.IsZero() {
			p.LeaveDate = org.Day(time.Now().UTC())
		}
	}
	if err := tx.checkPersonRefs(ctx, scope, p, before); err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt = before.CreatedAt, time.Now().UTC()
	_, err := tx.Exec(ctx, `UPDATE people SET employee_id = ?, full_name = ?, email = ?, search_text = ?, job_role = ?, site_id = ?, team_id = ?,
		start_date = ?, leave_date = ?, active = ?, updated_at = ? WHERE id = ?`,
		p.EmployeeID, p.FullName, p.Email, p.SearchText(), p.JobRole, orgNullID(p.SiteID), orgNullID(p.TeamID),
		orgDateArg(p.StartDate), orgDateArg(p.LeaveDate), p.Active, TimeArg(p.UpdatedAt), p.ID)
	if err != nil {
		return fmt.Errorf("update person: %w", orgConflict(mapErr(err), "employee_id", "is already used by another person"))
	}
	if !slices.Equal(before.ClientIDs, p.ClientIDs) {
		if _, err := tx.Exec(ctx, "DELETE FROM person_clients WHERE person_id = ?", p.ID); err != nil {
			return fmt.Errorf("update person clients: %w", err)
		}
		if err := tx.writePersonClients(ctx, p.ID, p.ClientIDs); err != nil {
			return err
		}
	}
	action := "person.update"
	if deactivate {
		action = "person.deactivate"
		if err := tx.revokeLeaverAccess(ctx, p.ID); err != nil {
			return err
		}
	}
	return tx.Audit(ctx, personRecord(action, before, p))
}

// DeactivatePerson marks the person as a leaver: inactive, with leaveDate
// (today when zero) as leave date. In the same transaction the user accounts
// linked to the person are disabled and their sessions and API tokens
// revoked. Deactivating an inactive person only updates the leave date.
func (s *Store) DeactivatePerson(ctx context.Context, id int64, leaveDate time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		before, err := getPerson(ctx, tx, identity.Scope{All: true}, "p.id = ?", id)
		if err != nil {
			return fmt.Errorf("deactivate person: %w", err)
		}
		p := *before
		p.ClientIDs = slices.Clone(before.ClientIDs)
		p.Active = false
		p.LeaveDate = org.Day(leaveDate)
		if p.LeaveDate.IsZero() {
			p.LeaveDate = org.Day(time.Now().UTC())
		}
		if !p.StartDate.IsZero() && p.LeaveDate.Before(p.StartDate) {
			return org.FieldErrors{{Field: "leave_date", Message: "is before the start date"}}
		}
		return tx.updatePerson(ctx, identity.Scope{All: true}, before, &p)
	})
}

// DeactivateLeavers deactivates every active person whose leave date is
// before today, revoking their access; run it daily. It returns how many
// people it deactivated.
func (s *Store) DeactivateLeavers(ctx context.Context, today time.Time) (int, error) {
	day := org.FormatDate(org.Day(today))
	if day == "" {
		day = org.FormatDate(org.Day(time.Now().UTC()))
	}
	// Most runs find nobody: look on the read pool before taking the write lock.
	var due int
	if err := s.QueryRow(ctx, "SELECT COUNT(*) FROM people WHERE active = ? AND leave_date IS NOT NULL AND leave_date < ?", true, day).Scan(&due); err != nil {
		return 0, fmt.Errorf("find leavers: %w", err)
	}
	if due == 0 {
		return 0, nil
	}
	n := 0
	err := s.InTx(ctx, func(tx *Tx) error {
		n = 0
		rows, err := tx.Query(ctx, "SELECT id FROM people WHERE active = ? AND leave_date IS NOT NULL AND leave_date < ? ORDER BY id", true, day)
		if err != nil {
			return fmt.Errorf("find leavers: %w", err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("find leavers: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find leavers: %w", err)
		}
		for _, id := range ids {
			before, err := getPerson(ctx, tx, identity.Scope{All: true}, "p.id = ?", id)
			if err != nil {
				return err
			}
			p := *before
			p.ClientIDs = slices.Clone(before.ClientIDs)
			p.Active = false
			if err := tx.updatePerson(ctx, identity.Scope{All: true}, before, &p); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// checkPersonRefs checks that p's site, team and clients exist and are in
// scope, and fills the site from the team when it is missing. before is the
// person being updated (nil on create).
func (tx *Tx) checkPersonRefs(ctx context.Context, scope identity.Scope, p *org.Person, before *org.Person) error {
	var fe org.FieldErrors
	if p.TeamID != 0 {
		t, err := getTeam(ctx, tx, scope, "t.id = ?", p.TeamID)
		switch {
		case orgNotFound(err):
			fe.Add("team_id", "is not a known team")
		case err != nil:
			return err
		case scope.TeamIDs != nil && !slices.Contains(scope.TeamIDs, t.ID):
			fe.Add("team_id", "is not one of your teams")
		case p.SiteID == 0:
			p.SiteID = t.SiteID
		case p.SiteID != t.SiteID:
			fe.Add("team_id", "belongs to another site")
		}
	} else if scope.TeamIDs != nil {
		fe.Add("team_id", "is required")
	}
	if p.SiteID != 0 {
		if _, err := getSite(ctx, tx, "id = ?", p.SiteID); orgNotFound(err) {
			fe.Add("site_id", "is not a known site")
		} else if err != nil {
			return err
		}
	}
	if len(p.ClientIDs) > 0 {
		in, args := orgInList(p.ClientIDs, nil)
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM clients WHERE id IN "+in, args...).Scan(&n); err != nil {
			return fmt.Errorf("check clients: %w", err)
		}
		if n != len(p.ClientIDs) {
			fe.Add("client_ids", "contains an unknown client")
		}
	}
	if !scope.All && !fe.Has("client_ids") {
		inScope := 0
		for _, c := range p.ClientIDs {
			if slices.Contains(scope.ClientIDs, c) {
				inScope++
			} else if before == nil || !slices.Contains(before.ClientIDs, c) {
				fe.Add("client_ids", "contains an unknown client")
				break
			}
		}
		if inScope == 0 && !fe.Has("client_ids") {
			fe.Add("client_ids", "must include at least one of your clients")
		}
	}
	return fe.Err()
}

func (tx *Tx) writePersonClients(ctx context.Context, personID int64, clientIDs []int64) error {
	for _, c := range clientIDs {
		if _, err := tx.Exec(ctx, "INSERT INTO person_clients (person_id, client_id) VALUES (?, ?)", personID, c); err != nil {
			return fmt.Errorf("save person clients: %w", mapErr(err))
		}
	}
	return nil
}

// personRecord is the audit record of a change to a person. A person may work
// for several clients: the record carries the first and lists all in Detail.
func personRecord(action string, before, after *org.Person) audit.Record {
	rec := audit.Record{Action: action, ObjectType: "person", ObjectID: orgID(after.ID), After: after}
	if before != nil {
		rec.Before = before
	}
	if len(after.ClientIDs) > 0 {
		rec.ClientID = after.ClientIDs[0]
		ids := make([]string, len(after.ClientIDs))
		for i, c := range after.ClientIDs {
			ids[i] = strconv.FormatInt(c, 10)
		}
		rec.Detail = "clients=" + strings.Join(ids, ",")
	}
	return rec
}

// revokeLeaverAccess disables the leaver's user accounts and revokes their
// sessions and API tokens (in the caller's transaction).
func (tx *Tx) revokeLeaverAccess(ctx context.Context, personID int64) error {
	if err := tx.RevokePersonAccess(ctx, personID); err != nil {
		return fmt.Errorf("revoke access of leaver %d: %w", personID, err)
	}
	return nil
}
