package org

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/identity"
)

// ErrImportNotConfirmed is returned when applying a plan whose file has
// invalid rows without the user's confirmation that the valid rows alone
// should be imported (ImportOptions.AcceptValidRows).
var ErrImportNotConfirmed = errors.New("the file has invalid rows: confirm to import only the valid rows")

// ImportOptions control how a people import is planned and applied.
type ImportOptions struct {
	// Scope is the importing user's scope: rows may only name clients and
	// teams in it and only touch people visible in it. The zero Scope sees
	// nothing: pass identity.Scope{All: true} for an unrestricted import.
	Scope identity.Scope `json:"-"`
	// DeactivateMissing deactivates the active people (in scope) whose
	// employee id is not in the file.
	DeactivateMissing bool `json:"deactivate_missing"`
	// AcceptValidRows is the user's confirmation that, when some rows have
	// errors, the valid rows are to be imported anyway.
	AcceptValidRows bool `json:"accept_valid_rows"`
	// Today is the date leave dates are compared with; zero means now (UTC).
	Today time.Time `json:"today,omitzero"`
}

// ImportAction is what an import does to one person.
type ImportAction string

// The import actions.
const (
	ActionCreate     ImportAction = "create"
	ActionUpdate     ImportAction = "update"
	ActionDeactivate ImportAction = "deactivate" // includes the other changes of the row
	ActionUnchanged  ImportAction = "unchanged"
	ActionError      ImportAction = "error" // the row is not imported
)

// FieldChange is one field an update changes, as text for display.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// ImportItem is the plan for one row of the file (Line > 0) or for one person
// missing from the file (Line 0, with DeactivateMissing).
type ImportItem struct {
	Line       int           `json:"line"`
	EmployeeID string        `json:"employee_id"`
	Action     ImportAction  `json:"action"`
	PersonID   int64         `json:"person_id,omitempty"` // the existing person, 0 on create
	Changes    []FieldChange `json:"changes,omitempty"`   // on update and deactivate
	Errors     FieldErrors   `json:"errors,omitempty"`    // on error
	// Person is the person as the import leaves them (not set on error).
	Person Person `json:"-"`
}

// ImportPlan is what importing a file would do: a dry run. Applying it
// (store.ApplyPeopleImport) plans Rows again against the data of that moment,
// in the same transaction, so the preview can never apply stale decisions.
type ImportPlan struct {
	Rows    []ImportRow   `json:"-"`
	Options ImportOptions `json:"options"`
	Items   []ImportItem  `json:"items"`
	Counts  ImportCounts  `json:"counts"`
	// Warnings are plan-level notes for the user (plain English).
	Warnings []string `json:"warnings,omitempty"`
}

// ImportCounts counts a plan's items by action.
type ImportCounts struct {
	Create     int `json:"create"`
	Update     int `json:"update"`
	Deactivate int `json:"deactivate"`
	Unchanged  int `json:"unchanged"`
	Errors     int `json:"errors"`
}

// HasErrors reports whether some rows are invalid.
func (p *ImportPlan) HasErrors() bool { return p.Counts.Errors > 0 }

// Changes reports whether applying the plan would change anything.
func (p *ImportPlan) Changes() bool {
	return p.Counts.Create+p.Counts.Update+p.Counts.Deactivate > 0
}

// ImportResult is what applying a plan did.
type ImportResult struct {
	Created     int `json:"created"`
	Updated     int `json:"updated"`
	Deactivated int `json:"deactivated"`
	Unchanged   int `json:"unchanged"`
	Skipped     int `json:"skipped"` // invalid rows, not imported
}

// ImportRef is the current data a plan is computed against: every site, team,
// client (by code) and person (by employee id, with all their clients).
type ImportRef struct {
	Sites   map[string]Site
	Teams   map[string]Team
	Clients map[string]Client
	People  map[string]Person
}

// Visible reports whether p is visible through scope (see PersonFilter).
func Visible(scope identity.Scope, p *Person) bool {
	if scope.PersonID != 0 && p.ID != scope.PersonID {
		return false
	}
	if scope.TeamIDs != nil && !slices.Contains(scope.TeamIDs, p.TeamID) {
		return false
	}
	if scope.All {
		return true
	}
	for _, c := range p.ClientIDs {
		if slices.Contains(scope.ClientIDs, c) {
			return true
		}
	}
	return false
}

func inScope(scope identity.Scope, clientID int64) bool {
	return scope.All || slices.Contains(scope.ClientIDs, clientID)
}

// BuildPlan computes what importing rows would do to the data in ref.
func BuildPlan(rows []ImportRow, ref ImportRef, opts ImportOptions) *ImportPlan {
	today := Day(opts.Today)
	if today.IsZero() {
		today = Day(time.Now().UTC())
	}
	opts.Today = today
	plan := &ImportPlan{Rows: rows, Options: opts, Items: make([]ImportItem, 0, len(rows))}

	names := newCodeNames(ref, opts.Scope)
	seen := make(map[string]int, len(rows)) // employee id → first line
	for i := range rows {
		row := &rows[i]
		item := planRow(row, ref, opts, names, seen)
		if row.EmployeeID != "" {
			if _, dup := seen[row.EmployeeID]; !dup {
				seen[row.EmployeeID] = row.Line
			}
		}
		plan.add(item)
	}
	valid := len(plan.Items) - plan.Counts.Errors
	if opts.DeactivateMissing && valid == 0 {
		// A file with no valid row is a wrong or broken file, not "everybody left".
		plan.Warnings = append(plan.Warnings, "the file has no valid row, so nobody is deactivated as missing from it")
	}
	if opts.DeactivateMissing && valid > 0 {
		ids := make([]string, 0, len(ref.People))
		for id := range ref.People {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			cur := ref.People[id]
			if _, inFile := seen[id]; inFile || !cur.Active || !Visible(opts.Scope, &cur) {
				continue
			}
			next := cur
			next.ClientIDs = slices.Clone(cur.ClientIDs)
			next.Active = false
			if next.LeaveDate.IsZero() || next.LeaveDate.After(today) {
				next.LeaveDate = today
			}
			if next.LeaveDate.Before(next.StartDate) { // a future hire who never started
				next.LeaveDate = next.StartDate
			}
			plan.add(ImportItem{
				EmployeeID: id, Action: ActionDeactivate, PersonID: cur.ID,
				Changes: diffPeople(&cur, &next, names), Person: next,
			})
		}
	}
	return plan
}

func (p *ImportPlan) add(item ImportItem) {
	switch item.Action {
	case ActionCreate:
		p.Counts.Create++
	case ActionUpdate:
		p.Counts.Update++
	case ActionDeactivate:
		p.Counts.Deactivate++
	case ActionUnchanged:
		p.Counts.Unchanged++
	case ActionError:
		p.Counts.Errors++
	}
	p.Items = append(p.Items, item)
}

func planRow(row *ImportRow, ref ImportRef, opts ImportOptions, names codeNames, seen map[string]int) ImportItem {
	item := ImportItem{Line: row.Line, EmployeeID: row.EmployeeID, Action: ActionError}
	if len(row.Errors) > 0 {
		item.Errors = slices.Clone(row.Errors)
		return item
	}
	if first, dup := seen[row.EmployeeID]; dup {
		item.Errors.Add("employee_id", "appears again (first on line "+strconv.Itoa(first)+")")
		return item
	}
	scope := opts.Scope
	cur, exists := ref.People[row.EmployeeID]
	if exists && !Visible(scope, &cur) {
		item.Errors.Add("employee_id", "belongs to a person outside your scope")
		return item
	}
	var next Person
	if exists {
		next = cur
		next.ClientIDs = slices.Clone(cur.ClientIDs)
		item.PersonID = cur.ID
	} else {
		next = Person{Active: true, JobRole: "agent"}
	}
	cols := row.Columns
	next.EmployeeID = row.EmployeeID
	next.FullName = row.FullName
	next.Email = row.Email
	if cols.Has(ColJobRole) {
		next.JobRole = row.JobRole
	}
	if cols.Has(ColStartDate) {
		next.StartDate = row.StartDate
	}
	if cols.Has(ColLeaveDate) {
		next.LeaveDate = row.LeaveDate
	}

	var fe FieldErrors
	var team *Team
	if cols.Has(ColTeam) {
		next.TeamID = 0
		if row.Team != "" {
			t, ok := ref.Teams[row.Team]
			switch {
			case !ok || (t.ClientID != 0 && !inScope(scope, t.ClientID)):
				fe.Add("team", "unknown team \""+row.Team+"\"")
			case scope.TeamIDs != nil && !slices.Contains(scope.TeamIDs, t.ID):
				fe.Add("team", "team \""+row.Team+"\" is not one of your teams")
			default:
				team = &t
				next.TeamID = t.ID
			}
		}
	}
	if cols.Has(ColSite) {
		next.SiteID = 0
		if row.Site != "" {
			if s, ok := ref.Sites[row.Site]; ok {
				next.SiteID = s.ID
			} else {
				fe.Add("site", "unknown site \""+row.Site+"\"")
			}
		}
	}
	if team != nil && !fe.Has("site") {
		switch {
		case !cols.Has(ColSite) || row.Site == "":
			next.SiteID = team.SiteID
		case next.SiteID != team.SiteID:
			fe.Add("team", "team \""+row.Team+"\" belongs to site \""+names.site[team.SiteID]+"\", not \""+row.Site+"\"")
		}
	}
	if cols.Has(ColClients) {
		// Out-of-scope memberships are not the importer's to change: keep them.
		var ids []int64
		for _, id := range next.ClientIDs {
			if !inScope(scope, id) {
				ids = append(ids, id)
			}
		}
		for _, code := range row.Clients {
			c, ok := ref.Clients[code]
			if !ok || !inScope(scope, c.ID) {
				fe.Add("clients", "unknown client \""+code+"\"")
				continue
			}
			ids = append(ids, c.ID)
		}
		next.ClientIDs = ids
	}
	// A team kept from before must still be at the person's (new) site.
	if t, ok := names.teamByID[next.TeamID]; ok && team == nil && !fe.Has("site") && !fe.Has("team") {
		switch {
		case next.SiteID == 0:
			next.SiteID = t.SiteID
		case next.SiteID != t.SiteID:
			fe.Add("site", "the person's team \""+t.Code+"\" is at site \""+names.site[t.SiteID]+"\": change the team too")
		}
	}
	if scope.TeamIDs != nil && next.TeamID != 0 && !slices.Contains(scope.TeamIDs, next.TeamID) {
		fe.Add("team", "is required: the person must stay in one of your teams")
	}

	// Leavers: a past leave date or active=false deactivates; an explicit
	// active=true reactivates (a rehire: without a leave_date column the old
	// leave date is cleared). An empty active cell keeps the current state.
	left := !next.LeaveDate.IsZero() && next.LeaveDate.Before(opts.Today)
	switch {
	case row.ActiveSet && row.Active && left && cols.Has(ColLeaveDate):
		fe.Add("active", "is true but the leave date "+FormatDate(next.LeaveDate)+" has passed")
	case row.ActiveSet && row.Active:
		if left {
			next.LeaveDate = time.Time{}
		}
		next.Active = true
	case left:
		next.Active = false
	case row.ActiveSet:
		next.Active = row.Active
	case !exists:
		next.Active = true
	}
	if !next.Active && next.LeaveDate.IsZero() {
		next.LeaveDate = opts.Today
		if exists && !cur.LeaveDate.IsZero() {
			next.LeaveDate = cur.LeaveDate
		}
	}
	if err := next.Validate(); err != nil {
		v, _ := AsFieldErrors(err)
		fe = append(fe, v...)
	}
	if !scope.All && !fe.Has("clients") && !slices.ContainsFunc(next.ClientIDs, func(id int64) bool { return inScope(scope, id) }) {
		fe.Add("clients", "at least one of your clients is required")
	}
	if len(fe) > 0 {
		item.Errors = fe
		return item
	}
	item.Person = next
	switch {
	case !exists:
		item.Action = ActionCreate
	default:
		item.Changes = diffPeople(&cur, &next, names)
		switch {
		case cur.Active && !next.Active:
			item.Action = ActionDeactivate
		case len(item.Changes) > 0:
			item.Action = ActionUpdate
		default:
			item.Action = ActionUnchanged
		}
	}
	return item
}

// codeNames maps ids back to codes for displaying changes.
type codeNames struct {
	site, team, client map[int64]string
	teamByID           map[int64]Team
	// scope hides the clients the importer may not see from the changes.
	scope identity.Scope
}

func newCodeNames(ref ImportRef, scope identity.Scope) codeNames {
	n := codeNames{site: map[int64]string{}, team: map[int64]string{}, client: map[int64]string{}, teamByID: map[int64]Team{}, scope: scope}
	for code, s := range ref.Sites {
		n.site[s.ID] = code
	}
	for code, t := range ref.Teams {
		n.team[t.ID] = code
		n.teamByID[t.ID] = t
	}
	for code, c := range ref.Clients {
		n.client[c.ID] = code
	}
	return n
}

func (n codeNames) clients(ids []int64) string {
	codes := make([]string, 0, len(ids))
	for _, id := range ids {
		if !inScope(n.scope, id) {
			continue
		}
		if c, ok := n.client[id]; ok {
			codes = append(codes, c)
		} else {
			codes = append(codes, "#"+strconv.FormatInt(id, 10))
		}
	}
	slices.Sort(codes)
	return strings.Join(codes, ";")
}

// diffPeople lists the fields that differ between a and b (both normalized).
func diffPeople(a, b *Person, n codeNames) []FieldChange {
	var ch []FieldChange
	add := func(field, old, new string) {
		if old != new {
			ch = append(ch, FieldChange{Field: field, Old: old, New: new})
		}
	}
	add("full_name", a.FullName, b.FullName)
	add("email", a.Email, b.Email)
	add("job_role", a.JobRole, b.JobRole)
	add("site", n.site[a.SiteID], n.site[b.SiteID])
	add("team", n.team[a.TeamID], n.team[b.TeamID])
	add("clients", n.clients(a.ClientIDs), n.clients(b.ClientIDs))
	add("start_date", FormatDate(a.StartDate), FormatDate(b.StartDate))
	add("leave_date", FormatDate(a.LeaveDate), FormatDate(b.LeaveDate))
	add("active", strconv.FormatBool(a.Active), strconv.FormatBool(b.Active))
	return ch
}
