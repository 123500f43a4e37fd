package store

import (
	"context"
	"fmt"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
)

// PlanPeopleImport computes what importing rows (from org.ParsePeopleCSV)
// would do: the dry run. It changes nothing.
func (s *Store) PlanPeopleImport(ctx context.Context, rows []org.ImportRow, opts org.ImportOptions) (*org.ImportPlan, error) {
	ref, err := loadImportRef(ctx, s)
	if err != nil {
		return nil, err
	}
	return org.BuildPlan(rows, ref, opts), nil
}

// ApplyPeopleImport applies a plan in one transaction. The plan's rows are
// planned again inside the transaction against the current data, so what is
// applied is always consistent (and applying the same file twice changes
// nothing the second time). When some rows are invalid, nothing is written
// unless plan.Options.AcceptValidRows is set (the user confirmed importing
// the valid rows alone): the error is then org.ErrImportNotConfirmed. The
// invalid rows are never imported. Deactivated people lose their user
// accounts' sessions and tokens in the same transaction.
func (s *Store) ApplyPeopleImport(ctx context.Context, plan *org.ImportPlan) (org.ImportResult, error) {
	var res org.ImportResult
	if plan == nil {
		return res, fmt.Errorf("apply people import: no plan")
	}
	err := s.InTx(ctx, func(tx *Tx) error {
		res = org.ImportResult{}
		ref, err := loadImportRef(ctx, tx)
		if err != nil {
			return err
		}
		fresh := org.BuildPlan(plan.Rows, ref, plan.Options)
		if fresh.HasErrors() && !plan.Options.AcceptValidRows {
			return org.ErrImportNotConfirmed
		}
		scope := plan.Options.Scope
		for i := range fresh.Items {
			item := &fresh.Items[i]
			switch item.Action {
			case org.ActionCreate:
				p := item.Person
				if err := tx.CreatePerson(ctx, scope, &p); err != nil {
					return fmt.Errorf("import line %d: %w", item.Line, err)
				}
				res.Created++
			case org.ActionUpdate, org.ActionDeactivate:
				before := ref.People[item.EmployeeID]
				p := item.Person
				if err := tx.updatePerson(ctx, scope, &before, &p); err != nil {
					return fmt.Errorf("import line %d: %w", item.Line, err)
				}
				if item.Action == org.ActionDeactivate {
					res.Deactivated++
				} else {
					res.Updated++
				}
			case org.ActionUnchanged:
				res.Unchanged++
			case org.ActionError:
				res.Skipped++
			}
		}
		detail := fmt.Sprintf("created=%d updated=%d deactivated=%d unchanged=%d skipped=%d deactivate_missing=%t",
			res.Created, res.Updated, res.Deactivated, res.Unchanged, res.Skipped, plan.Options.DeactivateMissing)
		return tx.Audit(ctx, audit.Record{Action: "person.import", ObjectType: "person", Detail: detail})
	})
	if err != nil {
		return org.ImportResult{}, err
	}
	if res.Created+res.Updated+res.Deactivated >= 500 {
		// Best effort: the import is committed either way.
		_ = s.AnalyzeOrganization(ctx)
	}
	return res, nil
}

// loadImportRef reads every site, team, client and person (with all their
// clients) for planning an import.
func loadImportRef(ctx context.Context, q orgQuerier) (org.ImportRef, error) {
	ref := org.ImportRef{
		Sites:   map[string]org.Site{},
		Teams:   map[string]org.Team{},
		Clients: map[string]org.Client{},
		People:  map[string]org.Person{},
	}
	rows, err := q.Query(ctx, "SELECT "+siteColumns+" FROM sites")
	if err != nil {
		return ref, fmt.Errorf("load sites: %w", err)
	}
	for rows.Next() {
		var s org.Site
		if err := scanSite(rows, &s); err != nil {
			rows.Close()
			return ref, fmt.Errorf("load sites: %w", err)
		}
		ref.Sites[s.Code] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ref, fmt.Errorf("load sites: %w", err)
	}

	rows, err = q.Query(ctx, "SELECT "+teamColumns+" FROM teams t")
	if err != nil {
		return ref, fmt.Errorf("load teams: %w", err)
	}
	for rows.Next() {
		var t org.Team
		if err := scanTeam(rows, &t); err != nil {
			rows.Close()
			return ref, fmt.Errorf("load teams: %w", err)
		}
		ref.Teams[t.Code] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ref, fmt.Errorf("load teams: %w", err)
	}

	rows, err = q.Query(ctx, "SELECT "+clientColumns+" FROM clients")
	if err != nil {
		return ref, fmt.Errorf("load clients: %w", err)
	}
	for rows.Next() {
		var c org.Client
		if err := scanClient(rows, &c); err != nil {
			rows.Close()
			return ref, fmt.Errorf("load clients: %w", err)
		}
		ref.Clients[c.Code] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ref, fmt.Errorf("load clients: %w", err)
	}

	rows, err = q.Query(ctx, personSelect)
	if err != nil {
		return ref, fmt.Errorf("load people: %w", err)
	}
	var people []org.Person
	for rows.Next() {
		var p org.Person
		if err := scanPerson(rows, identity.Scope{All: true}, &p); err != nil {
			rows.Close()
			return ref, fmt.Errorf("load people: %w", err)
		}
		people = append(people, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ref, fmt.Errorf("load people: %w", err)
	}
	byID := make(map[int64]int, len(people))
	for i := range people {
		byID[people[i].ID] = i
	}
	rows, err = q.Query(ctx, "SELECT person_id, client_id FROM person_clients ORDER BY person_id, client_id")
	if err != nil {
		return ref, fmt.Errorf("load person clients: %w", err)
	}
	for rows.Next() {
		var pid, cid int64
		if err := rows.Scan(&pid, &cid); err != nil {
			rows.Close()
			return ref, fmt.Errorf("load person clients: %w", err)
		}
		if i, ok := byID[pid]; ok {
			people[i].ClientIDs = append(people[i].ClientIDs, cid)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ref, fmt.Errorf("load person clients: %w", err)
	}
	for _, p := range people {
		ref.People[p.EmployeeID] = p
	}
	return ref, nil
}
