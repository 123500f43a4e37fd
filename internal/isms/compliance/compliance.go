// Package compliance holds the ISMS's compliance records — the
// organization's own controls, evidence, per-requirement statements (the
// ISO 27001 Statement of Applicability), ENS systems and their signed
// Declaraciones de Aplicabilidad — with their validation and the pure
// arithmetic of control health and compliance scores. It knows nothing of
// HTTP or SQL; internal/store persists these types.
package compliance

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/ens"
	"github.com/custodia/custodia/internal/org"
)

// ControlStatus is how far a control is implemented.
type ControlStatus string

// The statuses of a control.
const (
	Planned       ControlStatus = "planned"
	Partial       ControlStatus = "partial"
	Implemented   ControlStatus = "implemented"
	NotApplicable ControlStatus = "not_applicable"
)

// ControlStatuses lists the statuses in display order.
var ControlStatuses = []ControlStatus{Planned, Partial, Implemented, NotApplicable}

// Effectiveness is the last assessment of how well a control works.
type Effectiveness string

// The effectiveness ratings.
const (
	NotAssessed        Effectiveness = "not_assessed"
	Effective          Effectiveness = "effective"
	PartiallyEffective Effectiveness = "partially_effective"
	Ineffective        Effectiveness = "ineffective"
)

// Effectivenesses lists the ratings in display order.
var Effectivenesses = []Effectiveness{NotAssessed, Effective, PartiallyEffective, Ineffective}

// Health is the traffic light of a control.
type Health string

// The lights: green (implemented, effective or not assessed, every
// evidence item fresh), amber (implemented but evidence missing or stale,
// review overdue, or only partially effective), red (not implemented or
// ineffective), and grey (not applicable).
const (
	Green Health = "green"
	Amber Health = "amber"
	Red   Health = "red"
	Grey  Health = "grey"
)

// Control is one of the organization's own safeguards.
type Control struct {
	ID            int64         `json:"id"`
	Code          string        `json:"code"`
	Title         string        `json:"title"`
	Description   string        `json:"description"`
	Status        ControlStatus `json:"status"`
	OwnerUserID   int64         `json:"owner_user_id,omitempty"`
	OwnerName     string        `json:"owner_name,omitempty"`
	ClientID      int64         `json:"client_id,omitempty"` // 0 = operator-wide
	ReviewAt      time.Time     `json:"review_at,omitzero"`
	Effectiveness Effectiveness `json:"effectiveness"`
	// Requirements are the framework requirements the control addresses.
	Requirements []catalog.Ref `json:"requirements"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`

	// Filled when listed: evidence counts and the resulting light.
	Evidence      int    `json:"evidence"`
	StaleEvidence int    `json:"stale_evidence"`
	Health        Health `json:"health"`
}

var codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$`)

// Normalize trims the text fields and applies defaults.
func (c *Control) Normalize() {
	c.Code = strings.TrimSpace(c.Code)
	c.Title = strings.TrimSpace(c.Title)
	c.Description = strings.TrimSpace(c.Description)
	if c.Status == "" {
		c.Status = Planned
	}
	if c.Effectiveness == "" {
		c.Effectiveness = NotAssessed
	}
	c.Requirements = dedupRefs(c.Requirements)
}

// Validate checks the control's fields (not that its requirements exist:
// the caller checks those against the loaded frameworks).
func (c *Control) Validate() error {
	var fe org.FieldErrors
	if !codeRE.MatchString(c.Code) {
		fe.Add("code", "must be 1 to 40 letters, digits, dots, dashes or underscores")
	}
	if c.Title == "" {
		fe.Add("title", "is required")
	} else if utf8.RuneCountInString(c.Title) > 200 {
		fe.Add("title", "is too long (at most 200 characters)")
	}
	if len(c.Description) > 20000 {
		fe.Add("description", "is too long (at most 20000 characters)")
	}
	if !slices.Contains(ControlStatuses, c.Status) {
		fe.Add("status", "must be planned, partial, implemented or not_applicable")
	}
	if !slices.Contains(Effectivenesses, c.Effectiveness) {
		fe.Add("effectiveness", "must be not_assessed, effective, partially_effective or ineffective")
	}
	if c.ClientID < 0 || c.OwnerUserID < 0 {
		fe.Add("client_id", "is not a known client")
	}
	if len(c.Requirements) > 500 {
		fe.Add("requirements", "too many (at most 500)")
	}
	return fe.Err()
}

func dedupRefs(refs []catalog.Ref) []catalog.Ref {
	out := make([]catalog.Ref, 0, len(refs))
	seen := map[catalog.Ref]bool{}
	for _, r := range refs {
		r.Catalog, r.Requirement = strings.TrimSpace(r.Catalog), strings.TrimSpace(r.Requirement)
		if r.Catalog == "" && r.Requirement == "" || seen[r] {
			continue
		}
		seen[r] = true
		out = append(out, r)
	}
	return out
}

// ParseRefs parses requirement references written "catalogue:requirement",
// separated by commas, spaces or new lines.
func ParseRefs(s string) ([]catalog.Ref, error) {
	var out []catalog.Ref
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == '\t' || r == ';' }) {
		ref, err := catalog.ParseRef(f)
		if err != nil {
			return nil, err
		}
		out = append(out, ref)
	}
	return dedupRefs(out), nil
}

// ControlHealth computes a control's light at now from its status,
// effectiveness, review date and evidence counts.
func ControlHealth(c *Control, now time.Time) Health {
	switch {
	case c.Status == NotApplicable:
		return Grey
	case c.Status != Implemented || c.Effectiveness == Ineffective:
		return Red
	case c.Evidence == 0 || c.StaleEvidence > 0 || c.Effectiveness == PartiallyEffective:
		return Amber
	case !c.ReviewAt.IsZero() && now.After(c.ReviewAt.AddDate(0, 0, 1)):
		return Amber
	}
	return Green
}

// EvidenceKind says what an evidence item is.
type EvidenceKind string

// The kinds of evidence.
const (
	EvidenceFile   EvidenceKind = "file"
	EvidenceLink   EvidenceKind = "link"
	EvidenceRecord EvidenceKind = "record"
)

// MaxFreshDays caps an evidence item's freshness period (ten years).
const MaxFreshDays = 3650

// Evidence is one item supporting a control or, directly, a requirement
// (optionally within an ENS system).
type Evidence struct {
	ID           int64        `json:"id"`
	Kind         EvidenceKind `json:"kind"`
	Title        string       `json:"title"`
	ControlID    int64        `json:"control_id,omitempty"`
	Catalog      string       `json:"catalog,omitempty"`
	Requirement  string       `json:"requirement,omitempty"`
	ENSSystemID  int64        `json:"ens_system_id,omitempty"`
	ClientID     int64        `json:"client_id,omitempty"`
	URL          string       `json:"url,omitempty"`
	RecordModule string       `json:"record_module,omitempty"`
	RecordRef    string       `json:"record_ref,omitempty"`
	FileName     string       `json:"file_name,omitempty"`
	ContentType  string       `json:"content_type,omitempty"`
	Size         int64        `json:"size,omitempty"`
	SHA256       string       `json:"sha256,omitempty"`
	CollectedAt  time.Time    `json:"collected_at"`
	FreshDays    int          `json:"fresh_days"`
	ExpiresAt    time.Time    `json:"expires_at"`
	CreatedAt    time.Time    `json:"created_at"`
	CreatedBy    int64        `json:"created_by,omitempty"`
}

// Stale reports whether the item's freshness period has passed at now.
func (e *Evidence) Stale(now time.Time) bool { return !now.Before(e.ExpiresAt) }

// Normalize trims fields, applies defaults and computes ExpiresAt.
func (e *Evidence) Normalize() {
	e.Title = strings.TrimSpace(e.Title)
	e.URL = strings.TrimSpace(e.URL)
	e.RecordModule = strings.TrimSpace(e.RecordModule)
	e.RecordRef = strings.TrimSpace(e.RecordRef)
	e.Catalog, e.Requirement = strings.TrimSpace(e.Catalog), strings.TrimSpace(e.Requirement)
	if e.FreshDays == 0 {
		e.FreshDays = 365
	}
	if !e.CollectedAt.IsZero() {
		e.CollectedAt = e.CollectedAt.UTC()
		e.ExpiresAt = e.CollectedAt.AddDate(0, 0, e.FreshDays)
	}
}

// Validate checks the item's fields at now (a collection date in the
// future is refused).
func (e *Evidence) Validate(now time.Time) error {
	var fe org.FieldErrors
	if e.Title == "" {
		fe.Add("title", "is required")
	} else if utf8.RuneCountInString(e.Title) > 200 {
		fe.Add("title", "is too long (at most 200 characters)")
	}
	switch e.Kind {
	case EvidenceFile:
		if e.SHA256 == "" || e.FileName == "" {
			fe.Add("file", "is required")
		}
	case EvidenceLink:
		u, err := url.Parse(e.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(e.URL) > 2000 {
			fe.Add("url", "must be an http or https address")
		}
	case EvidenceRecord:
		if e.RecordModule == "" || len(e.RecordModule) > 40 {
			fe.Add("record_module", "is required")
		}
		if e.RecordRef == "" || len(e.RecordRef) > 200 {
			fe.Add("record_ref", "is required")
		}
	default:
		fe.Add("kind", "must be file, link or record")
	}
	if e.ControlID == 0 && e.Requirement == "" {
		fe.Add("control_id", "name a control or a requirement the evidence supports")
	}
	if (e.Catalog == "") != (e.Requirement == "") {
		fe.Add("requirement", "give both the catalogue and the requirement")
	}
	if e.ENSSystemID != 0 && e.Catalog != catalog.ENS {
		fe.Add("ens_system_id", "only ENS measures belong to a system")
	}
	if e.CollectedAt.IsZero() {
		fe.Add("collected_at", "is required")
	} else if e.CollectedAt.After(now.Add(24 * time.Hour)) {
		fe.Add("collected_at", "is in the future")
	}
	if e.FreshDays < 1 || e.FreshDays > MaxFreshDays {
		fe.Add("fresh_days", fmt.Sprintf("must be between 1 and %d", MaxFreshDays))
	}
	return fe.Err()
}

// RequirementState is the organization's statement about one requirement:
// applicable or not (with the justification), the implementation status
// and its owner. A requirement without a stored state is applicable and not
// implemented.
type RequirementState struct {
	Catalog       string         `json:"catalog"`
	Requirement   string         `json:"requirement"`
	Applicable    bool           `json:"applicable"`
	Justification string         `json:"justification"`
	Status        catalog.Status `json:"status"`
	OwnerUserID   int64          `json:"owner_user_id,omitempty"`
	UpdatedAt     time.Time      `json:"updated_at,omitzero"`
	UpdatedBy     int64          `json:"updated_by,omitempty"`
}

// Validate checks a state: a non-applicable requirement needs a
// justification, and the status is one of catalog's (not_applicable only
// with applicable false).
func (s *RequirementState) Validate() error {
	var fe org.FieldErrors
	s.Justification = strings.TrimSpace(s.Justification)
	if s.Status == "" {
		s.Status = catalog.NotImplemented
	}
	if !s.Applicable {
		s.Status = catalog.NotApplicable
		if s.Justification == "" {
			fe.Add("justification", "is required when the requirement does not apply")
		}
	}
	switch s.Status {
	case catalog.NotImplemented, catalog.Partial, catalog.Implemented:
	case catalog.NotApplicable:
		if s.Applicable {
			fe.Add("status", "not_applicable needs applicable set to false")
		}
	default:
		fe.Add("status", "must be not_implemented, partial or implemented")
	}
	if len(s.Justification) > 4000 {
		fe.Add("justification", "is too long (at most 4000 characters)")
	}
	return fe.Err()
}

// MeasureOverride is an officer's decision that differs from Anexo II.
type MeasureOverride string

// The overrides: none, the measure applies although the table says not, or
// it is excluded although the table says it applies.
const (
	NoOverride MeasureOverride = ""
	ForceApply MeasureOverride = "applies"
	Exclude    MeasureOverride = "excluded"
)

// ENSSystem is an information system or service valued under ENS.
type ENSSystem struct {
	ID                int64         `json:"id"`
	Name              string        `json:"name"`
	Description       string        `json:"description"`
	ClientID          int64         `json:"client_id,omitempty"`
	Valuation         ens.Valuation `json:"valuation"`
	Category          ens.Category  `json:"category"`
	ResponsibleUserID int64         `json:"responsible_user_id,omitempty"`
	LastAuditAt       time.Time     `json:"last_audit_at,omitzero"`
	CreatedAt         time.Time     `json:"created_at"`
	UpdatedAt         time.Time     `json:"updated_at"`
}

// Validate checks the system's fields.
func (s *ENSSystem) Validate(now time.Time) error {
	var fe org.FieldErrors
	s.Name = strings.TrimSpace(s.Name)
	s.Description = strings.TrimSpace(s.Description)
	if s.Name == "" {
		fe.Add("name", "is required")
	} else if utf8.RuneCountInString(s.Name) > 200 {
		fe.Add("name", "is too long (at most 200 characters)")
	}
	if len(s.Description) > 20000 {
		fe.Add("description", "is too long (at most 20000 characters)")
	}
	if err := s.Valuation.Validate(); err != nil {
		fe.Add("valuation", err.Error())
	}
	if s.LastAuditAt.After(now.Add(24 * time.Hour)) {
		fe.Add("last_audit_at", "is in the future")
	}
	s.Category = s.Valuation.Category()
	return fe.Err()
}

// MeasureState is the status of one Anexo II measure in one system.
type MeasureState struct {
	Measure       string          `json:"measure"`
	Status        catalog.Status  `json:"status"`
	Note          string          `json:"note"`
	Override      MeasureOverride `json:"override"`
	Justification string          `json:"justification"`
	UpdatedAt     time.Time       `json:"updated_at,omitzero"`
}

// Validate checks a measure state.
func (m *MeasureState) Validate() error {
	var fe org.FieldErrors
	m.Note = strings.TrimSpace(m.Note)
	m.Justification = strings.TrimSpace(m.Justification)
	if m.Status == "" {
		m.Status = catalog.NotImplemented
	}
	switch m.Status {
	case catalog.NotImplemented, catalog.Partial, catalog.Implemented:
	default:
		fe.Add("status", "must be not_implemented, partial or implemented")
	}
	switch m.Override {
	case NoOverride:
	case ForceApply, Exclude:
		if m.Justification == "" {
			fe.Add("justification", "is required to override Anexo II")
		}
	default:
		fe.Add("override", "must be empty, applies or excluded")
	}
	if len(m.Note) > 4000 || len(m.Justification) > 4000 {
		fe.Add("note", "is too long (at most 4000 characters)")
	}
	return fe.Err()
}

// ENSExtra is a stored compensatory or complementary measure.
type ENSExtra struct {
	ID int64 `json:"id"`
	ens.ExtraMeasure
	CreatedAt time.Time `json:"created_at"`
}

// Declaration is a signed, immutable version of a system's Declaración de
// Aplicabilidad.
type Declaration struct {
	ID           int64     `json:"id"`
	SystemID     int64     `json:"system_id"`
	Version      int       `json:"version"`
	Category     string    `json:"category"`
	SHA256       string    `json:"sha256"`
	SignedBy     int64     `json:"signed_by"`
	SignedByName string    `json:"signed_by_name"`
	SignedAt     time.Time `json:"signed_at"`
	Content      []byte    `json:"-"` // canonical JSON of the DeclarationDoc
}

// Framework is one loaded version of a catalogue.
type Framework struct {
	ID             int64     `json:"id"`
	Key            string    `json:"key"`
	Version        int       `json:"version"`
	Name           string    `json:"name"`
	CatalogVersion string    `json:"catalog_version"`
	Origin         string    `json:"origin"` // builtin, oscal, ciso-assistant
	Source         string    `json:"source"`
	Licence        string    `json:"licence"`
	SHA256         string    `json:"sha256,omitempty"`
	Requirements   int       `json:"requirements"`
	Current        bool      `json:"current"`
	CreatedAt      time.Time `json:"created_at"`
	CreatedBy      int64     `json:"created_by,omitempty"`
	Content        []byte    `json:"-"`
}

// Reference is something that refers to a requirement or a control and
// blocks its deletion.
type Reference struct {
	Kind  string `json:"kind"` // control, evidence, risk, requirement_state
	ID    int64  `json:"id,omitempty"`
	Label string `json:"label"`
}

// InUseError refuses a deletion and lists what refers to the object.
type InUseError struct {
	Object     string
	References []Reference
}

func (e *InUseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is referred to by ", e.Object)
	for i, r := range e.References {
		if i > 0 {
			b.WriteString(", ")
		}
		if i == 20 {
			fmt.Fprintf(&b, "and %d more", len(e.References)-20)
			break
		}
		b.WriteString(r.Kind + " " + r.Label)
	}
	return b.String()
}
