// Package office is the ISMS compliance service the console and the API
// share: it joins the catalogues (built-in and imported), the store and the
// master key to manage controls, evidence, the Statement of Applicability,
// ENS systems and their Declaraciones de Aplicabilidad, and computes the
// compliance dashboard and the reports.
package office

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
)

// Office is the compliance service.
type Office struct {
	st      *store.Store
	keys    *secret.Keyring
	builtin *catalog.Library
	now     func() time.Time

	mu  sync.RWMutex
	lib *catalog.Library // built-in plus imported, rebuilt after an import
}

// New loads the built-in catalogues, registers them in the store and reads
// the imported ones.
func New(ctx context.Context, st *store.Store, keys *secret.Keyring, now func() time.Time) (*Office, error) {
	b, err := catalog.Builtin()
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	o := &Office{st: st, keys: keys, builtin: b, now: now}
	for _, c := range b.Catalogs {
		if _, err := st.ISMSRegisterBuiltin(ctx, c); err != nil {
			return nil, fmt.Errorf("register catalogue %s: %w", c.ID, err)
		}
	}
	if err := o.reload(ctx); err != nil {
		return nil, err
	}
	return o, nil
}

// BuiltinKeys lists the ids of the catalogues shipped in the binary.
func BuiltinKeys() []string {
	return []string{catalog.ENS, catalog.ISO27001, catalog.GDPR, catalog.LOPDGDD, catalog.PCIDSS}
}

// Now is the service's clock.
func (o *Office) Now() time.Time { return o.now().UTC() }

// reload rebuilds the library from the built-ins and the store's imports.
func (o *Office) reload(ctx context.Context) error {
	imported, err := o.st.ISMSImportedFrameworks(ctx)
	if err != nil {
		return err
	}
	lib := &catalog.Library{Catalogs: slices.Clone(o.builtin.Catalogs), Mappings: slices.Clone(o.builtin.Mappings)}
	for _, f := range imported {
		var c catalog.Catalog
		if err := json.Unmarshal(f.Content, &c); err != nil {
			return fmt.Errorf("framework %s v%d: stored catalogue: %w", f.Framework.Key, f.Framework.Version, err)
		}
		lib.Catalogs = append(lib.Catalogs, &c)
	}
	for _, f := range imported {
		lib.Mappings = append(lib.Mappings, f.Mappings...)
	}
	o.mu.Lock()
	o.lib = lib
	o.mu.Unlock()
	return nil
}

// Library returns the current library (do not modify it).
func (o *Office) Library() *catalog.Library {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.lib
}

// Catalog returns a loaded catalogue.
func (o *Office) Catalog(key string) (*catalog.Catalog, error) {
	c, err := o.Library().Catalog(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	return c, nil
}

// CheckRefs reports the first reference to a requirement that is not
// loaded, as a field error.
func (o *Office) CheckRefs(field string, refs []catalog.Ref) error {
	lib := o.Library()
	for _, r := range refs {
		c, err := lib.Catalog(r.Catalog)
		if err != nil {
			return org.FieldErrors{{Field: field, Message: "unknown catalogue " + r.Catalog}}
		}
		if _, err := c.Requirement(r.Requirement); err != nil {
			return org.FieldErrors{{Field: field, Message: "unknown requirement " + r.String()}}
		}
	}
	return nil
}

// ImportFormat names an importer.
type ImportFormat string

// The importers.
const (
	FormatOSCAL         ImportFormat = "oscal"
	FormatCISOAssistant ImportFormat = "ciso-assistant"
	// FormatOSCALProfile is an OSCAL profile selecting controls of loaded
	// frameworks; it is stored as a framework of its own holding the
	// selected requirements.
	FormatOSCALProfile ImportFormat = "oscal-profile"
)

// ImportError is a malformed document: where and why. Nothing was changed.
type ImportError struct{ Err error }

func (e *ImportError) Error() string { return e.Err.Error() }
func (e *ImportError) Unwrap() error { return e.Err }

// FieldErrors reports the problem on the document field.
func (e *ImportError) FieldErrors() []org.FieldError {
	return []org.FieldError{{Field: "document", Message: e.Err.Error()}}
}

// Import parses a catalogue document (OSCAL JSON catalog or CISO Assistant
// library YAML) under key and optional mappings (the mappings.yaml format),
// validates both against the loaded frameworks and stores a new version. A
// malformed document or a mapping to an unknown requirement changes
// nothing.
func (o *Office) Import(ctx context.Context, p *identity.Principal, key string, format ImportFormat, doc, mappings []byte) (*compliance.Framework, error) {
	key = strings.TrimSpace(key)
	if key == "" || len(key) > 60 || strings.ContainsAny(key, ": /\\") {
		return nil, org.FieldErrors{{Field: "key", Message: "must be 1 to 60 characters without spaces, colons or slashes"}}
	}
	if _, err := o.builtin.Catalog(key); err == nil {
		return nil, org.FieldErrors{{Field: "key", Message: "is a built-in catalogue; import under another id"}}
	}
	var c *catalog.Catalog
	var err error
	switch format {
	case FormatOSCAL:
		c, err = catalog.ImportOSCAL(key, doc)
	case FormatCISOAssistant:
		c, err = catalog.ImportCISOAssistant(key, doc)
	case FormatOSCALProfile:
		others := slices.DeleteFunc(slices.Clone(o.Library().Catalogs), func(x *catalog.Catalog) bool { return x.ID == key })
		c, err = catalog.ImportOSCALProfile(key, doc, others)
	default:
		return nil, org.FieldErrors{{Field: "format", Message: "must be oscal, oscal-profile or ciso-assistant"}}
	}
	if err != nil {
		return nil, &ImportError{err}
	}
	c.ID = key
	if err := c.Validate(); err != nil {
		return nil, &ImportError{err}
	}
	var ms []catalog.Mapping
	if len(bytes.TrimSpace(mappings)) > 0 {
		if ms, err = catalog.ParseMappings("mappings", mappings); err != nil {
			return nil, org.FieldErrors{{Field: "mappings", Message: err.Error()}}
		}
		lib := o.Library()
		trial := &catalog.Library{Catalogs: append(slices.DeleteFunc(slices.Clone(lib.Catalogs), func(x *catalog.Catalog) bool { return x.ID == key }), c)}
		if err := trial.ValidateMappings(ms); err != nil {
			return nil, org.FieldErrors{{Field: "mappings", Message: err.Error()}}
		}
		for _, m := range ms {
			if m.From.Catalog != key && m.To.Catalog != key {
				return nil, org.FieldErrors{{Field: "mappings", Message: fmt.Sprintf("mapping %s → %s does not involve %s", m.From, m.To, key)}}
			}
		}
	}
	content, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(doc)
	f := &compliance.Framework{Origin: string(format), SHA256: hex.EncodeToString(sum[:]), CreatedBy: p.UserID}
	if err := o.st.ISMSSaveImport(ctx, f, c, content, ms, "isms.framework.import"); err != nil {
		return nil, err
	}
	return f, o.reload(ctx)
}

// DeleteRequirement removes a requirement from an imported framework as a
// new version; one that controls or evidence refer to is refused with the
// references (*compliance.InUseError).
func (o *Office) DeleteRequirement(ctx context.Context, p *identity.Principal, key, ref string) error {
	if _, err := o.builtin.Catalog(key); err == nil {
		return org.FieldErrors{{Field: "key", Message: "requirements of a built-in catalogue cannot be deleted"}}
	}
	c, err := o.Catalog(key)
	if err != nil {
		return err
	}
	if _, err := c.Requirement(ref); err != nil {
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	next := *c
	next.Requirements = slices.DeleteFunc(slices.Clone(c.Requirements), func(r catalog.Requirement) bool { return r.ID == ref })
	for i := range next.Requirements {
		if next.Requirements[i].Parent == ref {
			return &compliance.InUseError{Object: key + ":" + ref, References: []compliance.Reference{{Kind: "requirement", Label: key + ":" + next.Requirements[i].ID}}}
		}
	}
	var keep []catalog.Mapping
	for _, m := range o.importedMappings(key) {
		if (m.From.Catalog == key && m.From.Requirement == ref) || (m.To.Catalog == key && m.To.Requirement == ref) {
			continue
		}
		keep = append(keep, m)
	}
	content, err := json.Marshal(&next)
	if err != nil {
		return err
	}
	frameworks, err := o.st.ISMSFrameworks(ctx)
	if err != nil {
		return err
	}
	f := &compliance.Framework{Origin: "oscal", CreatedBy: p.UserID}
	for _, fw := range frameworks {
		if fw.Key == key && fw.Current {
			f.Origin, f.SHA256 = fw.Origin, fw.SHA256
		}
	}
	if err := o.st.ISMSSaveImport(ctx, f, &next, content, keep, "isms.requirement.delete"); err != nil {
		return err
	}
	return o.reload(ctx)
}

func (o *Office) importedMappings(key string) []catalog.Mapping {
	var out []catalog.Mapping
	for _, m := range o.Library().Mappings {
		if slices.ContainsFunc(o.builtin.Mappings, func(b catalog.Mapping) bool { return b.From == m.From && b.To == m.To }) {
			continue
		}
		if m.From.Catalog == key || m.To.Catalog == key {
			out = append(out, m)
		}
	}
	return out
}

// DeleteFramework removes an imported framework (every version); refused
// while controls or evidence refer to its requirements.
func (o *Office) DeleteFramework(ctx context.Context, key string) error {
	if err := o.st.ISMSDeleteFramework(ctx, key); err != nil {
		return err
	}
	return o.reload(ctx)
}

// canWriteClient reports whether p may own a record of client (0 =
// operator-wide: only callers who see every client).
func canWriteClient(p *identity.Principal, client int64) bool {
	if client == 0 {
		return p.Scope().All
	}
	return p.CanSeeClient(client)
}

// ErrOperatorWide refuses a change to an operator-wide record by a caller
// limited to some clients.
var ErrOperatorWide = org.FieldErrors{{Field: "client_id", Message: "choose one of your clients (operator-wide records are managed by those who see every client)"}}

// SaveControl creates (ID 0) or updates a control after checking its
// requirements and client against the caller.
func (o *Office) SaveControl(ctx context.Context, p *identity.Principal, c *compliance.Control) error {
	c.Normalize()
	if err := c.Validate(); err != nil {
		return err
	}
	if err := o.CheckRefs("requirements", c.Requirements); err != nil {
		return err
	}
	if !canWriteClient(p, c.ClientID) {
		if c.ClientID == 0 {
			return ErrOperatorWide
		}
		return org.FieldErrors{{Field: "client_id", Message: "is not a known client"}}
	}
	if c.ID == 0 {
		return o.st.ISMSCreateControl(ctx, c)
	}
	cur, err := o.st.ISMSControl(ctx, p.Scope(), c.ID, o.Now())
	if err != nil {
		return err
	}
	if !canWriteClient(p, cur.ClientID) {
		return ErrOperatorWide
	}
	return o.st.ISMSUpdateControl(ctx, p.Scope(), c)
}

// DeleteControl deletes a control the caller may change.
func (o *Office) DeleteControl(ctx context.Context, p *identity.Principal, id int64) error {
	cur, err := o.st.ISMSControl(ctx, p.Scope(), id, o.Now())
	if err != nil {
		return err
	}
	if !canWriteClient(p, cur.ClientID) {
		return ErrOperatorWide
	}
	return o.st.ISMSDeleteControl(ctx, p.Scope(), id)
}

// MaxEvidenceFile caps an evidence file's size.
const MaxEvidenceFile = 20 << 20

// AddEvidence stores an evidence item for a control or requirement the
// caller sees; a file's content is sealed with the master key and its
// SHA-256 recorded (and written to the audit trail).
func (o *Office) AddEvidence(ctx context.Context, p *identity.Principal, e *compliance.Evidence, file []byte) error {
	e.CreatedBy = p.UserID
	e.Normalize()
	switch {
	case e.ControlID != 0:
		c, err := o.st.ISMSControl(ctx, p.Scope(), e.ControlID, o.Now())
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return org.FieldErrors{{Field: "control_id", Message: "is not a known control"}}
			}
			return err
		}
		e.ClientID = c.ClientID
		e.Catalog, e.Requirement, e.ENSSystemID = "", "", 0
	case e.ENSSystemID != 0:
		sys, err := o.st.ISMSENSSystem(ctx, p.Scope(), e.ENSSystemID)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return org.FieldErrors{{Field: "ens_system_id", Message: "is not a known system"}}
			}
			return err
		}
		e.ClientID = sys.ClientID
	}
	if e.Requirement != "" {
		if err := o.CheckRefs("requirement", []catalog.Ref{{Catalog: e.Catalog, Requirement: e.Requirement}}); err != nil {
			return err
		}
	}
	if e.ControlID == 0 && !canWriteClient(p, e.ClientID) {
		if e.ClientID == 0 {
			return ErrOperatorWide
		}
		return org.FieldErrors{{Field: "client_id", Message: "is not a known client"}}
	}
	var sealed []byte
	if e.Kind == compliance.EvidenceFile {
		if len(file) == 0 {
			return org.FieldErrors{{Field: "file", Message: "is required"}}
		}
		if len(file) > MaxEvidenceFile {
			return org.FieldErrors{{Field: "file", Message: fmt.Sprintf("is larger than %d MiB", MaxEvidenceFile>>20)}}
		}
		sum := sha256.Sum256(file)
		e.SHA256, e.Size = hex.EncodeToString(sum[:]), int64(len(file))
		if e.FileName == "" {
			e.FileName = "evidence"
		}
		var err error
		if sealed, err = o.keys.Seal(file, []byte("isms-evidence:"+e.SHA256)); err != nil {
			return fmt.Errorf("seal evidence: %w", err)
		}
	} else {
		e.FileName, e.ContentType, e.Size, e.SHA256 = "", "", 0, ""
	}
	return o.st.ISMSAddEvidence(ctx, e, sealed, o.keys.KeyID())
}

// EvidenceFile returns a file evidence item's decrypted content after
// checking it against its recorded SHA-256.
func (o *Office) EvidenceFile(ctx context.Context, p *identity.Principal, id int64) (*compliance.Evidence, []byte, error) {
	e, sealed, err := o.st.ISMSEvidenceFile(ctx, p.Scope(), id)
	if err != nil {
		return nil, nil, err
	}
	b, err := o.keys.Open(sealed, []byte("isms-evidence:"+e.SHA256))
	if err != nil {
		return nil, nil, fmt.Errorf("open evidence %d: %w", id, err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != e.SHA256 {
		return nil, nil, fmt.Errorf("evidence %d: content does not match its recorded SHA-256", id)
	}
	return e, b, nil
}

// DeleteEvidence deletes an evidence item the caller may change.
func (o *Office) DeleteEvidence(ctx context.Context, p *identity.Principal, id int64) error {
	e, err := o.st.ISMSEvidence(ctx, p.Scope(), id)
	if err != nil {
		return err
	}
	if !canWriteClient(p, e.ClientID) {
		return ErrOperatorWide
	}
	return o.st.ISMSDeleteEvidence(ctx, p.Scope(), id)
}

// SetRequirementState stores the statement about a loaded requirement.
// Statements are operator-wide: only callers who see every client change
// them.
func (o *Office) SetRequirementState(ctx context.Context, p *identity.Principal, st *compliance.RequirementState) error {
	if !p.Scope().All {
		return ErrOperatorWide
	}
	if err := o.CheckRefs("requirement", []catalog.Ref{{Catalog: st.Catalog, Requirement: st.Requirement}}); err != nil {
		return err
	}
	st.UpdatedBy = p.UserID
	return o.st.ISMSSetRequirementState(ctx, st)
}

// AssessmentImport is the outcome of an assessment-results import.
type AssessmentImport struct {
	Framework string `json:"framework"`
	Updated   int    `json:"updated"`   // requirements whose status changed
	Unchanged int    `json:"unchanged"` // requirements already at the assessed status
	// Notes counts the findings with observations or risks kept as
	// evidence notes on their requirement (a note already kept, same
	// content, is not added again).
	Notes int `json:"notes"`
}

// ImportAssessment reads an OSCAL assessment-results document and records
// the assessed implementation status of key's requirements in one
// transaction (applicability, justification and owner are kept). Only
// callers who see every client may (statements are operator-wide). An
// unknown target id, or a finding about a requirement stated not
// applicable, refuses the whole document with the list; nothing changes.
// A finding with observations or risks is kept, in the same transaction, as
// an evidence note on its requirement: a Markdown file (sealed like any
// evidence file) with the finding, its observations and its risks.
func (o *Office) ImportAssessment(ctx context.Context, p *identity.Principal, key string, doc []byte) (*AssessmentImport, error) {
	if !p.Scope().All {
		return nil, ErrOperatorWide
	}
	c, err := o.Catalog(key)
	if err != nil {
		return nil, err
	}
	a, err := catalog.ParseOSCALAssessmentResults(doc)
	if err != nil {
		return nil, &ImportError{err}
	}
	assessed, err := catalog.ResolveAssessment(c, a)
	if err != nil {
		return nil, &ImportError{err}
	}
	states, err := o.st.ISMSRequirementStates(ctx, key)
	if err != nil {
		return nil, err
	}
	out := &AssessmentImport{Framework: key}
	var notApplicable []string
	var changes []*compliance.RequirementState
	for _, as := range assessed {
		st, ok := states[as.Requirement]
		if !ok {
			st = compliance.RequirementState{Catalog: key, Requirement: as.Requirement, Applicable: true, Status: catalog.NotImplemented}
		}
		if !st.Applicable {
			notApplicable = append(notApplicable, as.Requirement)
			continue
		}
		if st.Status == as.Status { // also the default of a requirement never stated
			out.Unchanged++
			continue
		}
		st.Status, st.UpdatedBy = as.Status, p.UserID
		changes = append(changes, &st)
	}
	if len(notApplicable) > 0 {
		return nil, &ImportError{fmt.Errorf("oscal assessment results: requirements stated not applicable in %s (change their statement first): %s", key, strings.Join(notApplicable, ", "))}
	}
	out.Updated = len(changes)
	notes, err := o.findingNotes(ctx, p, key, a, assessed)
	if err != nil {
		return nil, err
	}
	out.Notes = len(notes)
	sum := sha256.Sum256(doc)
	detail := fmt.Sprintf("OSCAL assessment results %s: %d findings, %d updated, %d unchanged, %d notes, sha256 %s", a.UUID, len(assessed), out.Updated, out.Unchanged, out.Notes, hex.EncodeToString(sum[:]))
	return out, o.st.ISMSImportAssessment(ctx, key, changes, notes, o.keys.KeyID(), "isms.assessment.import", detail)
}

// findingNotes seals the note of each finding with observations or risks
// as a file evidence item of its requirement, collected when the latest of
// its observations was (the import time when it has none), fresh until
// the first of them expires (else the default period). A note equal to
// one the requirement already has is skipped, so importing a document
// twice adds nothing.
func (o *Office) findingNotes(ctx context.Context, p *identity.Principal, key string, a *catalog.Assessment, assessed []catalog.Assessed) ([]store.ISMSSealedEvidence, error) {
	now := o.Now()
	var out []store.ISMSSealedEvidence
	for _, as := range assessed {
		if len(as.Findings) == 0 {
			continue
		}
		have, err := o.st.ISMSEvidenceList(ctx, store.ISMSEvidenceFilter{Scope: p.Scope(), Catalog: key, Requirement: as.Requirement, Limit: 10000})
		if err != nil {
			return nil, err
		}
		for i := range as.Findings {
			f := &as.Findings[i]
			note := []byte(f.Note(a))
			digest := sha256.Sum256(note)
			sum := hex.EncodeToString(digest[:])
			if slices.ContainsFunc(have, func(e compliance.Evidence) bool { return e.SHA256 == sum }) ||
				slices.ContainsFunc(out, func(e store.ISMSSealedEvidence) bool {
					return e.Evidence.SHA256 == sum && e.Evidence.Requirement == as.Requirement
				}) {
				continue
			}
			collected, expires := time.Time{}, time.Time{}
			for _, ob := range f.Observations {
				if ob.Collected.After(collected) {
					collected = ob.Collected
				}
				if !ob.Expires.IsZero() && (expires.IsZero() || ob.Expires.Before(expires)) {
					expires = ob.Expires
				}
			}
			if collected.IsZero() || collected.After(now) {
				collected = now
			}
			e := &compliance.Evidence{Kind: compliance.EvidenceFile, Catalog: key, Requirement: as.Requirement, CollectedAt: collected,
				FileName: "oscal-finding-" + safeFileName(f.UUID, f.TargetID) + ".md", ContentType: "text/markdown; charset=utf-8",
				Size: int64(len(note)), SHA256: sum, CreatedBy: p.UserID}
			if !expires.IsZero() {
				e.FreshDays = max(1, int(math.Ceil(expires.Sub(collected).Hours()/24)))
			}
			title := f.Title
			if title == "" {
				title = f.TargetID
			}
			e.Title = truncateRunes(fmt.Sprintf("OSCAL finding: %s (%d observations, %d risks)", title, len(f.Observations), len(f.Risks)), 200)
			sealed, err := o.keys.Seal(note, []byte("isms-evidence:"+sum))
			if err != nil {
				return nil, fmt.Errorf("seal finding note: %w", err)
			}
			out = append(out, store.ISMSSealedEvidence{Evidence: e, Sealed: sealed})
		}
	}
	return out, nil
}

func safeFileName(ids ...string) string {
	for _, id := range ids {
		var b strings.Builder
		for _, r := range id {
			if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
				b.WriteRune(r)
			}
		}
		if s := b.String(); s != "" && len(s) <= 80 {
			return s
		}
	}
	return "note"
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
