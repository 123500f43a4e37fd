package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance"
)

const ismsFrameworkColumns = "id, catalog_key, version_no, name, catalog_version, origin, source, licence, sha256, requirements, is_current, created_at, created_by"

func scanISMSFramework(sc interface{ Scan(...any) error }, f *compliance.Framework) error {
	var by sql.NullInt64
	if err := sc.Scan(&f.ID, &f.Key, &f.Version, &f.Name, &f.CatalogVersion, &f.Origin, &f.Source, &f.Licence, &f.SHA256, &f.Requirements,
		&f.Current, ScanTime(&f.CreatedAt), &by); err != nil {
		return err
	}
	f.CreatedBy = by.Int64
	return nil
}

// ISMSFrameworks lists every loaded framework version, current ones first
// per key.
func (s *Store) ISMSFrameworks(ctx context.Context) ([]compliance.Framework, error) {
	rows, err := s.Query(ctx, "SELECT "+ismsFrameworkColumns+" FROM isms_frameworks ORDER BY catalog_key, version_no DESC")
	if err != nil {
		return nil, fmt.Errorf("list frameworks: %w", err)
	}
	defer rows.Close()
	var out []compliance.Framework
	for rows.Next() {
		var f compliance.Framework
		if err := scanISMSFramework(rows, &f); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// ISMSImportedFramework is the current version of an imported framework
// with its catalogue and mappings.
type ISMSImportedFramework struct {
	Framework compliance.Framework
	Content   []byte // canonical JSON catalogue
	Mappings  []catalog.Mapping
}

// ISMSImportedFrameworks returns the current version of every imported
// (non built-in) framework.
func (s *Store) ISMSImportedFrameworks(ctx context.Context) ([]ISMSImportedFramework, error) {
	rows, err := s.Query(ctx, "SELECT "+ismsFrameworkColumns+", content FROM isms_frameworks WHERE is_current = ? AND origin <> 'builtin' ORDER BY catalog_key", true)
	if err != nil {
		return nil, fmt.Errorf("list imported frameworks: %w", err)
	}
	var out []ISMSImportedFramework
	for rows.Next() {
		var f ISMSImportedFramework
		var by sql.NullInt64
		var content string
		if err := rows.Scan(&f.Framework.ID, &f.Framework.Key, &f.Framework.Version, &f.Framework.Name, &f.Framework.CatalogVersion, &f.Framework.Origin,
			&f.Framework.Source, &f.Framework.Licence, &f.Framework.SHA256, &f.Framework.Requirements, &f.Framework.Current, ScanTime(&f.Framework.CreatedAt), &by, &content); err != nil {
			rows.Close()
			return nil, err
		}
		f.Framework.CreatedBy, f.Content = by.Int64, []byte(content)
		out = append(out, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		mrows, err := s.Query(ctx, "SELECT from_key, from_ref, to_key, to_ref, rel FROM isms_mappings WHERE framework_id = ? ORDER BY id", out[i].Framework.ID)
		if err != nil {
			return nil, err
		}
		for mrows.Next() {
			var m catalog.Mapping
			if err := mrows.Scan(&m.From.Catalog, &m.From.Requirement, &m.To.Catalog, &m.To.Requirement, &m.Relationship); err != nil {
				mrows.Close()
				return nil, err
			}
			out[i].Mappings = append(out[i].Mappings, m)
		}
		mrows.Close()
	}
	return out, nil
}

// ISMSRegisterBuiltin records a built-in catalogue as loaded: a new version
// row when the key is new or its catalogue version changed; nothing
// otherwise. It reports whether a row was written.
func (s *Store) ISMSRegisterBuiltin(ctx context.Context, c *catalog.Catalog) (bool, error) {
	wrote := false
	err := s.InTx(ctx, func(tx *Tx) error {
		var ver string
		var n int
		err := tx.QueryRow(ctx, "SELECT catalog_version, version_no FROM isms_frameworks WHERE catalog_key = ? AND is_current = ?", c.ID, true).Scan(&ver, &n)
		switch {
		case err == nil && ver == c.Version:
			return nil
		case err != nil && mapErr(err) != ErrNotFound:
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE isms_frameworks SET is_current = ? WHERE catalog_key = ?", false, c.ID); err != nil {
			return err
		}
		var maxV sql.NullInt64
		if err := tx.QueryRow(ctx, "SELECT MAX(version_no) FROM isms_frameworks WHERE catalog_key = ?", c.ID).Scan(&maxV); err != nil {
			return err
		}
		id, err := tx.InsertID(ctx, `INSERT INTO isms_frameworks (catalog_key, version_no, name, catalog_version, origin, source, licence, requirements, is_current, created_at)
			VALUES (?, ?, ?, ?, 'builtin', ?, ?, ?, ?, ?) RETURNING id`,
			c.ID, maxV.Int64+1, c.Name, c.Version, c.Source, c.Licence, len(c.Requirements), true, TimeArg(time.Now().UTC()))
		if err != nil {
			return err
		}
		wrote = true
		return tx.Audit(ctx, audit.Record{Action: "isms.framework.load", ObjectType: "isms_framework", ObjectID: strconv.FormatInt(id, 10),
			Detail: c.ID + " " + c.Version + " (built-in)"})
	})
	return wrote, err
}

// ISMSRequirementReferences lists what refers to requirements of a
// catalogue that are not in keep (nil keep: any requirement of the
// catalogue): control links and evidence.
func (s *Store) ISMSRequirementReferences(ctx context.Context, key string, keep map[string]bool) ([]compliance.Reference, error) {
	return ismsRequirementReferences(ctx, s, key, keep)
}

func ismsRequirementReferences(ctx context.Context, q ismsQuerier, key string, keep map[string]bool) ([]compliance.Reference, error) {
	var out []compliance.Reference
	rows, err := q.Query(ctx, `SELECT l.ref, c.id, c.code FROM isms_control_requirements l JOIN isms_controls c ON c.id = l.control_id
		WHERE l.catalog_key = ? ORDER BY l.ref, c.code`, key)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var ref, code string
		var id int64
		if err := rows.Scan(&ref, &id, &code); err != nil {
			rows.Close()
			return nil, err
		}
		if keep == nil || !keep[ref] {
			out = append(out, compliance.Reference{Kind: "control", ID: id, Label: code + " → " + key + ":" + ref})
		}
	}
	rows.Close()
	rows, err = q.Query(ctx, "SELECT ref, id, title FROM isms_evidence WHERE catalog_key = ? ORDER BY ref, id", key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var ref, title string
		var id int64
		if err := rows.Scan(&ref, &id, &title); err != nil {
			return nil, err
		}
		if keep == nil || !keep[ref] {
			out = append(out, compliance.Reference{Kind: "evidence", ID: id, Label: title + " → " + key + ":" + ref})
		}
	}
	return out, rows.Err()
}

// ISMSSaveImport stores a new version of an imported framework (its
// canonical JSON catalogue and mappings) and makes it current, in one
// transaction. A version that drops requirements still referred to by
// controls or evidence is refused with a *compliance.InUseError.
func (s *Store) ISMSSaveImport(ctx context.Context, f *compliance.Framework, c *catalog.Catalog, content []byte, mappings []catalog.Mapping, action string) error {
	now := time.Now().UTC()
	return s.InTx(ctx, func(tx *Tx) error {
		var origin string
		switch err := tx.QueryRow(ctx, "SELECT origin FROM isms_frameworks WHERE catalog_key = ? ORDER BY version_no DESC LIMIT 1", c.ID).Scan(&origin); {
		case err == nil && origin == "builtin":
			return fmt.Errorf("%w: %w", ErrConflict, fieldConflict{"id", "is a built-in catalogue; import under another id"})
		case err != nil && mapErr(err) != ErrNotFound:
			return err
		}
		keep := map[string]bool{}
		for _, r := range c.Requirements {
			keep[r.ID] = true
		}
		refs, err := ismsRequirementReferences(ctx, tx, c.ID, keep)
		if err != nil {
			return err
		}
		if len(refs) > 0 {
			return &compliance.InUseError{Object: "the requirements this version removes from " + c.ID, References: refs}
		}
		var maxV sql.NullInt64
		if err := tx.QueryRow(ctx, "SELECT MAX(version_no) FROM isms_frameworks WHERE catalog_key = ?", c.ID).Scan(&maxV); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE isms_frameworks SET is_current = ? WHERE catalog_key = ?", false, c.ID); err != nil {
			return err
		}
		f.Key, f.Version, f.Name, f.CatalogVersion, f.Source, f.Licence = c.ID, int(maxV.Int64)+1, c.Name, c.Version, c.Source, c.Licence
		f.Requirements, f.Current, f.CreatedAt = len(c.Requirements), true, now
		id, err := tx.InsertID(ctx, `INSERT INTO isms_frameworks (catalog_key, version_no, name, catalog_version, origin, source, licence, content, sha256, requirements, is_current, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			f.Key, f.Version, f.Name, f.CatalogVersion, f.Origin, f.Source, f.Licence, string(content), f.SHA256, f.Requirements, true, TimeArg(now), nullID(f.CreatedBy))
		if err != nil {
			return err
		}
		f.ID = id
		for _, m := range mappings {
			if _, err := tx.Exec(ctx, "INSERT INTO isms_mappings (framework_id, from_key, from_ref, to_key, to_ref, rel) VALUES (?, ?, ?, ?, ?, ?)",
				id, m.From.Catalog, m.From.Requirement, m.To.Catalog, m.To.Requirement, string(m.Relationship)); err != nil {
				return fmt.Errorf("mapping %s → %s: %w", m.From, m.To, mapErr(err))
			}
		}
		return tx.Audit(ctx, audit.Record{Action: action, ObjectType: "isms_framework", ObjectID: strconv.FormatInt(id, 10),
			After: f, Detail: fmt.Sprintf("%s v%d (%s, %d requirements, %d mappings) sha256=%s", f.Key, f.Version, f.Origin, f.Requirements, len(mappings), f.SHA256)})
	})
}

// ISMSDeleteFramework removes every version of an imported framework; one
// whose requirements are referred to is refused with the references.
func (s *Store) ISMSDeleteFramework(ctx context.Context, key string) error {
	return s.InTx(ctx, func(tx *Tx) error {
		var origin string
		if err := tx.QueryRow(ctx, "SELECT origin FROM isms_frameworks WHERE catalog_key = ? ORDER BY version_no DESC LIMIT 1", key).Scan(&origin); err != nil {
			return fmt.Errorf("framework %s: %w", key, mapErr(err))
		}
		if origin == "builtin" {
			return fmt.Errorf("%w: %w", ErrConflict, fieldConflict{"key", "a built-in catalogue cannot be deleted"})
		}
		refs, err := ismsRequirementReferences(ctx, tx, key, nil)
		if err != nil {
			return err
		}
		if len(refs) > 0 {
			return &compliance.InUseError{Object: "framework " + key, References: refs}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM isms_mappings WHERE framework_id IN (SELECT id FROM isms_frameworks WHERE catalog_key = ?)", key); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM isms_requirement_states WHERE catalog_key = ?", key); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM isms_frameworks WHERE catalog_key = ?", key); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.framework.delete", ObjectType: "isms_framework", ObjectID: key, Detail: key})
	})
}

// ISMSRequirementStates returns the stored statements of a catalogue's
// requirements, by requirement id.
func (s *Store) ISMSRequirementStates(ctx context.Context, key string) (map[string]compliance.RequirementState, error) {
	rows, err := s.Query(ctx, `SELECT catalog_key, ref, applicable, justification, status, owner_user_id, updated_at, updated_by
		FROM isms_requirement_states WHERE catalog_key = ?`, key)
	if err != nil {
		return nil, fmt.Errorf("requirement states: %w", err)
	}
	defer rows.Close()
	out := map[string]compliance.RequirementState{}
	for rows.Next() {
		var st compliance.RequirementState
		var owner, by sql.NullInt64
		if err := rows.Scan(&st.Catalog, &st.Requirement, &st.Applicable, &st.Justification, &st.Status, &owner, ScanTime(&st.UpdatedAt), &by); err != nil {
			return nil, err
		}
		st.OwnerUserID, st.UpdatedBy = owner.Int64, by.Int64
		out[st.Requirement] = st
	}
	return out, rows.Err()
}

// ISMSSetRequirementState stores the statement about one requirement (the
// caller checked that the requirement exists).
func (s *Store) ISMSSetRequirementState(ctx context.Context, st *compliance.RequirementState) error {
	if err := st.Validate(); err != nil {
		return err
	}
	st.UpdatedAt = time.Now().UTC()
	return s.InTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO isms_requirement_states (catalog_key, ref, applicable, justification, status, owner_user_id, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (catalog_key, ref) DO UPDATE SET applicable = excluded.applicable, justification = excluded.justification, status = excluded.status,
			owner_user_id = excluded.owner_user_id, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			st.Catalog, st.Requirement, st.Applicable, st.Justification, string(st.Status), nullID(st.OwnerUserID), TimeArg(st.UpdatedAt), nullID(st.UpdatedBy))
		if err != nil {
			return fmt.Errorf("set requirement state: %w", err)
		}
		return tx.Audit(ctx, audit.Record{Action: "isms.requirement.update", ObjectType: "isms_requirement", ObjectID: st.Catalog + ":" + st.Requirement,
			After: st, Detail: fmt.Sprintf("applicable=%v status=%s", st.Applicable, st.Status)})
	})
}

// ISMSClients returns the id and name of every client in scope.
func (s *Store) ISMSClients(ctx context.Context, scope identity.Scope) (map[int64]string, error) {
	where, args := "1 = 1", []any(nil)
	if !scope.All {
		if len(scope.ClientIDs) == 0 {
			return map[int64]string{}, nil
		}
		var in string
		in, args = orgInList(scope.ClientIDs, nil)
		where = "id IN " + in
	}
	rows, err := s.Query(ctx, "SELECT id, name FROM clients WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

// ISMSUserNames returns display names (or usernames) of active users, by id.
func (s *Store) ISMSUserNames(ctx context.Context) (map[int64]string, error) {
	rows, err := s.Query(ctx, "SELECT id, CASE WHEN display_name <> '' THEN display_name ELSE username END FROM users WHERE active = ? ORDER BY 2", true)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

// ISMSRisksByControl returns, per control, the titles of the risks it
// treats (read from the risk module's tables when they exist), limited to
// risks in scope.
func (s *Store) ISMSRisksByControl(ctx context.Context, scope identity.Scope) (map[int64][]string, error) {
	out := map[int64][]string{}
	ok, err := s.ISMSTableExists(ctx, "isms_risks")
	if err != nil || !ok {
		return out, err
	}
	where, args := ismsScopeSQL("r.", scope, nil)
	rows, err := s.Query(ctx, "SELECT rc.control_id, r.title FROM isms_risk_controls rc JOIN isms_risks r ON r.id = rc.risk_id WHERE "+where+" ORDER BY rc.control_id, r.title", args...)
	if err != nil {
		return nil, fmt.Errorf("risks by control: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var title string
		if err := rows.Scan(&id, &title); err != nil {
			return nil, err
		}
		out[id] = append(out[id], title)
	}
	return out, rows.Err()
}

// ISMSSetRequirementStates stores several statements of framework key in
// one transaction (an assessment import): every state is validated first,
// each change is audited, and a summary entry on the framework records the
// import (action, detail) even when no state changes. One invalid state
// changes nothing.
func (s *Store) ISMSSetRequirementStates(ctx context.Context, key string, states []*compliance.RequirementState, action, detail string) error {
	return s.ISMSImportAssessment(ctx, key, states, nil, "", action, detail)
}

// ISMSSealedEvidence is an evidence item to add with its sealed file.
type ISMSSealedEvidence struct {
	Evidence *compliance.Evidence
	Sealed   []byte
}

// ISMSImportAssessment is ISMSSetRequirementStates plus evidence items
// (the notes of imported findings; keyID names the key that sealed their
// files), all in one transaction: one invalid state or item changes
// nothing.
func (s *Store) ISMSImportAssessment(ctx context.Context, key string, states []*compliance.RequirementState, evidence []ISMSSealedEvidence, keyID, action, detail string) error {
	for _, st := range states {
		if st.Catalog != key {
			return fmt.Errorf("%s:%s: not a requirement of %s", st.Catalog, st.Requirement, key)
		}
		if err := st.Validate(); err != nil {
			return fmt.Errorf("%s:%s: %w", st.Catalog, st.Requirement, err)
		}
	}
	now := time.Now().UTC()
	for _, ev := range evidence {
		ev.Evidence.Normalize()
		if err := ev.Evidence.Validate(now); err != nil {
			return fmt.Errorf("evidence %q: %w", ev.Evidence.Title, err)
		}
		if ev.Evidence.Kind == compliance.EvidenceFile && len(ev.Sealed) == 0 {
			return fmt.Errorf("add evidence: a file needs its sealed content")
		}
	}
	return s.InTx(ctx, func(tx *Tx) error {
		for _, st := range states {
			st.UpdatedAt = now
			_, err := tx.Exec(ctx, `INSERT INTO isms_requirement_states (catalog_key, ref, applicable, justification, status, owner_user_id, updated_at, updated_by)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (catalog_key, ref) DO UPDATE SET applicable = excluded.applicable, justification = excluded.justification, status = excluded.status,
				owner_user_id = excluded.owner_user_id, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
				st.Catalog, st.Requirement, st.Applicable, st.Justification, string(st.Status), nullID(st.OwnerUserID), TimeArg(st.UpdatedAt), nullID(st.UpdatedBy))
			if err != nil {
				return fmt.Errorf("set requirement state: %w", err)
			}
			if err := tx.Audit(ctx, audit.Record{Action: "isms.requirement.update", ObjectType: "isms_requirement", ObjectID: st.Catalog + ":" + st.Requirement,
				After: st, Detail: fmt.Sprintf("applicable=%v status=%s (%s)", st.Applicable, st.Status, action)}); err != nil {
				return err
			}
		}
		for _, ev := range evidence {
			if err := insertISMSEvidence(ctx, tx, ev.Evidence, ev.Sealed, keyID, now); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, audit.Record{Action: action, ObjectType: "isms_framework", ObjectID: key, Detail: detail})
	})
}
