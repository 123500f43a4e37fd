package office

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/compliance"
	"github.com/custodia/custodia/internal/isms/ens"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
)

// SaveSystem creates (ID 0) or updates an ENS system the caller may change.
func (o *Office) SaveSystem(ctx context.Context, p *identity.Principal, sys *compliance.ENSSystem) error {
	if err := sys.Validate(o.Now()); err != nil {
		return err
	}
	if !canWriteClient(p, sys.ClientID) {
		if sys.ClientID == 0 {
			return ErrOperatorWide
		}
		return org.FieldErrors{{Field: "client_id", Message: "is not a known client"}}
	}
	if sys.ID == 0 {
		return o.st.ISMSCreateENSSystem(ctx, sys)
	}
	cur, err := o.st.ISMSENSSystem(ctx, p.Scope(), sys.ID)
	if err != nil {
		return err
	}
	if !canWriteClient(p, cur.ClientID) {
		return ErrOperatorWide
	}
	return o.st.ISMSUpdateENSSystem(ctx, p.Scope(), sys)
}

// writableSystem returns a system the caller may change.
func (o *Office) writableSystem(ctx context.Context, p *identity.Principal, id int64) (*compliance.ENSSystem, error) {
	sys, err := o.st.ISMSENSSystem(ctx, p.Scope(), id)
	if err != nil {
		return nil, err
	}
	if !canWriteClient(p, sys.ClientID) {
		return nil, ErrOperatorWide
	}
	return sys, nil
}

// SetMeasure records the status (and any override) of an Anexo II measure
// in a system.
func (o *Office) SetMeasure(ctx context.Context, p *identity.Principal, systemID int64, m *compliance.MeasureState) error {
	if _, err := o.writableSystem(ctx, p, systemID); err != nil {
		return err
	}
	c, err := o.Catalog(catalog.ENS)
	if err != nil {
		return err
	}
	if r, err := c.Requirement(m.Measure); err != nil || !r.IsENSMeasure() {
		return org.FieldErrors{{Field: "measure", Message: "is not an Anexo II measure"}}
	}
	return o.st.ISMSSetENSMeasure(ctx, p.Scope(), systemID, m)
}

// AddExtra adds a compensatory or complementary measure, validated against
// the system's current declaration (a compensatory measure must replace
// applicable measures).
func (o *Office) AddExtra(ctx context.Context, p *identity.Principal, systemID int64, x *compliance.ENSExtra) error {
	if _, err := o.writableSystem(ctx, p, systemID); err != nil {
		return err
	}
	doc, err := o.Declaration(ctx, p, systemID)
	if err != nil {
		return err
	}
	x.Title, x.Justification = strings.TrimSpace(x.Title), strings.TrimSpace(x.Justification)
	if err := doc.SoA.AddExtra(x.ExtraMeasure); err != nil {
		return org.FieldErrors{{Field: "extra", Message: err.Error()}}
	}
	return o.st.ISMSAddENSExtra(ctx, p.Scope(), systemID, x)
}

// DeleteExtra removes an officer-added measure.
func (o *Office) DeleteExtra(ctx context.Context, p *identity.Principal, systemID, extraID int64) error {
	if _, err := o.writableSystem(ctx, p, systemID); err != nil {
		return err
	}
	return o.st.ISMSDeleteENSExtra(ctx, p.Scope(), systemID, extraID)
}

// DeclRow is one measure line of a declaration as shown and printed.
type DeclRow struct {
	ens.SoAEntry
	TitleEN  string         `json:"title_en"`
	Status   catalog.Status `json:"status"`
	Note     string         `json:"note,omitempty"`
	Evidence []string       `json:"evidence,omitempty"` // titles of fresh evidence
	Stale    int            `json:"stale_evidence,omitempty"`
}

// ConformityView is the conformity path and audit clock of a system.
type ConformityView struct {
	Path      ens.ConformityPath `json:"path"`
	LastAudit time.Time          `json:"last_audit,omitzero"`
	NextDue   time.Time          `json:"next_due,omitzero"`
	Overdue   bool               `json:"overdue"`
}

// DeclarationDoc is a system's Declaración de Aplicabilidad with the state
// of each measure: the draft computed now, or a signed version's snapshot.
type DeclarationDoc struct {
	System      compliance.ENSSystem    `json:"system"`
	SoA         *ens.SoA                `json:"soa"`
	Rows        []DeclRow               `json:"rows"`
	Extras      []compliance.ENSExtra   `json:"extras"`
	Conformity  ConformityView          `json:"conformity"`
	GeneratedAt time.Time               `json:"generated_at"`
	Signed      *compliance.Declaration `json:"signed,omitempty"`
	Counts      map[string]int          `json:"counts"`
}

// Declaration computes the current declaration of a system in scope.
func (o *Office) Declaration(ctx context.Context, p *identity.Principal, systemID int64) (*DeclarationDoc, error) {
	sys, err := o.st.ISMSENSSystem(ctx, p.Scope(), systemID)
	if err != nil {
		return nil, err
	}
	c, err := o.Catalog(catalog.ENS)
	if err != nil {
		return nil, err
	}
	soa, err := ens.NewSoA(c, sys.Name, sys.Valuation)
	if err != nil {
		return nil, err
	}
	states, err := o.st.ISMSENSMeasures(ctx, systemID)
	if err != nil {
		return nil, err
	}
	for id, m := range states {
		switch m.Override {
		case compliance.ForceApply:
			if err := soa.Override(id, true, m.Justification); err != nil {
				return nil, err
			}
			if e, _ := soa.Entry(id); e != nil && len(e.Reinforcements) == 0 && len(e.Choices) == 0 {
				if r, err := c.Requirement(id); err == nil {
					lv := r.Levels[int(sys.Category)-1]
					e.Reinforcements = append([]string(nil), lv.Reinforcements...)
					for _, ch := range lv.Choices {
						e.Choices = append(e.Choices, append([]string(nil), ch...))
					}
				}
			}
		case compliance.Exclude:
			if err := soa.Override(id, false, m.Justification); err != nil {
				return nil, err
			}
		}
	}
	extras, err := o.st.ISMSENSExtras(ctx, systemID)
	if err != nil {
		return nil, err
	}
	for _, x := range extras {
		soa.Extra = append(soa.Extra, x.ExtraMeasure)
	}
	now := o.Now()
	evidence, err := o.st.ISMSEvidenceList(ctx, store.ISMSEvidenceFilter{Scope: p.Scope(), ENSSystemID: systemID, Limit: 10000})
	if err != nil {
		return nil, err
	}
	fresh, stale := map[string][]string{}, map[string]int{}
	for _, e := range evidence {
		if e.Stale(now) {
			stale[e.Requirement]++
		} else {
			fresh[e.Requirement] = append(fresh[e.Requirement], e.Title)
		}
	}
	// Controls linked to a measure count as evidence when they are green.
	controls, err := o.st.ISMSControls(ctx, store.ISMSControlFilter{Scope: p.Scope(), ClientID: sys.ClientID}, now)
	if err != nil {
		return nil, err
	}
	for _, ctl := range controls {
		if ctl.ClientID != 0 && ctl.ClientID != sys.ClientID {
			continue
		}
		for _, r := range ctl.Requirements {
			if r.Catalog == catalog.ENS && ctl.Health == compliance.Green {
				fresh[r.Requirement] = append(fresh[r.Requirement], ctl.Code+" "+ctl.Title)
			}
		}
	}
	doc := &DeclarationDoc{System: *sys, SoA: soa, Extras: extras, GeneratedAt: now, Counts: map[string]int{}}
	for _, e := range soa.Entries {
		r, _ := c.Requirement(e.Measure)
		row := DeclRow{SoAEntry: e, Status: catalog.NotImplemented, Evidence: fresh[e.Measure], Stale: stale[e.Measure]}
		if r != nil {
			row.TitleEN = r.Title
		}
		if m, ok := states[e.Measure]; ok {
			row.Status, row.Note = m.Status, m.Note
		}
		if !e.Applies {
			row.Status = catalog.NotApplicable
		}
		doc.Rows = append(doc.Rows, row)
		switch {
		case !e.Applies:
			doc.Counts["not_applicable"]++
		case row.Status == catalog.Implemented && len(row.Evidence) > 0:
			doc.Counts["implemented"]++
			doc.Counts["applies"]++
		default:
			doc.Counts["applies"]++
			doc.Counts[string(row.Status)]++
		}
	}
	k, err := ens.NewConformity(sys.Category, sys.LastAuditAt)
	if err != nil {
		return nil, err
	}
	doc.Conformity = ConformityView{Path: k.Path, LastAudit: k.LastAudit, NextDue: k.NextDue, Overdue: k.Overdue(now)}
	return doc, nil
}

// Sign stores the current declaration as a new signed, immutable version.
// Only the system's responsible person signs when one is named; the
// caller confirms explicitly by typing the system's name.
func (o *Office) Sign(ctx context.Context, p *identity.Principal, systemID int64, confirmName string) (*compliance.Declaration, error) {
	sys, err := o.writableSystem(ctx, p, systemID)
	if err != nil {
		return nil, err
	}
	if p.UserID == 0 {
		return nil, org.FieldErrors{{Field: "confirm", Message: "a declaration is signed by a person with a user account"}}
	}
	if sys.ResponsibleUserID != 0 && sys.ResponsibleUserID != p.UserID {
		return nil, org.FieldErrors{{Field: "confirm", Message: "only the system's responsible person may sign its declaration"}}
	}
	if strings.TrimSpace(confirmName) != sys.Name {
		return nil, org.FieldErrors{{Field: "confirm", Message: "type the system's name exactly to confirm the signature"}}
	}
	doc, err := o.Declaration(ctx, p, systemID)
	if err != nil {
		return nil, err
	}
	content, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	d := &compliance.Declaration{SystemID: systemID, Category: sys.Category.String(), SignedBy: p.UserID, SignedByName: p.Actor(), Content: content}
	if err := o.st.ISMSSignDeclaration(ctx, p.Scope(), d); err != nil {
		return nil, err
	}
	return d, nil
}

// SignedDeclaration returns a signed version's document.
func (o *Office) SignedDeclaration(ctx context.Context, p *identity.Principal, systemID int64, version int) (*DeclarationDoc, error) {
	if _, err := o.st.ISMSENSSystem(ctx, p.Scope(), systemID); err != nil {
		return nil, err
	}
	d, err := o.st.ISMSDeclaration(ctx, systemID, version)
	if err != nil {
		return nil, err
	}
	var doc DeclarationDoc
	if err := json.Unmarshal(d.Content, &doc); err != nil {
		return nil, fmt.Errorf("declaration %d v%d: %w", systemID, version, err)
	}
	d.Content = nil
	doc.Signed = d
	return &doc, nil
}
