// Package desk holds the incident desk's domain: reports (what people
// report through the portal, e-mail, their desktop or another system),
// incidents with their status flow, observables, timeline, tasks,
// evidence and links, playbooks and SLAs. It knows nothing of HTTP or SQL:
// the store persists these types and the triage service drives them.
package desk

import (
	"errors"
	"fmt"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custodia/custodia/internal/incident/taxonomy"
)

// Report channels.
const (
	ChannelPortal  = "portal"
	ChannelEmail   = "email"
	ChannelDesktop = "desktop"
	ChannelAPI     = "api"
)

// Channels lists the report channels.
var Channels = []string{ChannelPortal, ChannelEmail, ChannelDesktop, ChannelAPI}

// Quick choices a reporter picks from ("what happened").
const (
	ChoiceSuspiciousCall  = "suspicious_call"
	ChoiceSuspiciousEmail = "suspicious_email"
	ChoiceLostDevice      = "lost_device"
	ChoiceDataRequest     = "data_request"
	ChoiceMalware         = "malware"
	ChoiceMisdirectedData = "misdirected_data"
	ChoiceOther           = "other"
)

// Choices lists the quick choices in the order the form shows them.
var Choices = []string{ChoiceSuspiciousCall, ChoiceSuspiciousEmail, ChoiceLostDevice, ChoiceDataRequest,
	ChoiceMalware, ChoiceMisdirectedData, ChoiceOther}

// ChoiceCategory maps a quick choice to its RSIT type and default severity.
func ChoiceCategory(choice string) (category, severity string) {
	switch choice {
	case ChoiceSuspiciousCall, ChoiceDataRequest:
		return "social-engineering", SeverityMedium
	case ChoiceSuspiciousEmail:
		return "phishing", SeverityMedium
	case ChoiceLostDevice:
		return "data-loss", SeverityHigh
	case ChoiceMalware:
		return "infected-system", SeverityHigh
	case ChoiceMisdirectedData:
		return "data-leak", SeverityHigh
	}
	return "undetermined", SeverityLow
}

// Severities.
const (
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

// Severities lists the severities from least to most severe.
var Severities = []string{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// ValidSeverity reports whether s is a severity.
func ValidSeverity(s string) bool { return slices.Contains(Severities, s) }

// SeverityRank orders severities (0 for unknown).
func SeverityRank(s string) int { return slices.Index(Severities, s) + 1 }

// RaiseSeverity returns the next severity up (critical stays critical).
func RaiseSeverity(s string) string {
	i := slices.Index(Severities, s)
	if i < 0 {
		return SeverityMedium
	}
	return Severities[min(i+1, len(Severities)-1)]
}

// Incident statuses, in flow order.
const (
	StatusNew        = "new"
	StatusTriaged    = "triaged"
	StatusContained  = "contained"
	StatusEradicated = "eradicated"
	StatusRecovered  = "recovered"
	StatusClosed     = "closed"
)

// Statuses lists the incident statuses in flow order.
var Statuses = []string{StatusNew, StatusTriaged, StatusContained, StatusEradicated, StatusRecovered, StatusClosed}

// ErrTransition is returned for a status change the flow does not allow.
var ErrTransition = errors.New("status change not allowed")

// CanTransition reports whether an incident may go from one status to
// another: forward along the flow one or more steps (a step may be skipped
// when it did not apply, e.g. nothing to eradicate), closing from any open
// status (a false positive is closed from new), and reopening a closed
// incident to triaged. Staying put is not a transition.
func CanTransition(from, to string) bool {
	fi, ti := slices.Index(Statuses, from), slices.Index(Statuses, to)
	if fi < 0 || ti < 0 || fi == ti {
		return false
	}
	if from == StatusClosed {
		return to == StatusTriaged
	}
	return ti > fi
}

// Outcomes recorded when an incident closes.
const (
	OutcomeReal          = "real"           // a real incident, handled
	OutcomeAttempt       = "attempt"        // a real attack that did not succeed (e.g. phishing nobody fell for)
	OutcomeFalsePositive = "false_positive" // harmless after all
	OutcomeDuplicate     = "duplicate"
)

// Outcomes lists the close outcomes.
var Outcomes = []string{OutcomeReal, OutcomeAttempt, OutcomeFalsePositive, OutcomeDuplicate}

// Real reports whether an outcome counts as "the report was real".
func Real(outcome string) bool { return outcome == OutcomeReal || outcome == OutcomeAttempt }

// Report statuses.
const (
	ReportNew       = "new"
	ReportLinked    = "linked"
	ReportDismissed = "dismissed"
)

// Acknowledgement statuses of a report.
const (
	AckPortal        = "portal"         // shown on screen at once (portal, API, desktop)
	AckSent          = "sent"           // e-mailed
	AckFailed        = "failed"         // the mailer failed
	AckNoAddress     = "no_address"     // nobody to write to (anonymous, no address)
	AckNotConfigured = "not_configured" // no mailer configured
)

// Report is something a person or a system reported.
type Report struct {
	ID        int64  `json:"id"`
	Ref       string `json:"ref"`
	Channel   string `json:"channel"`
	Category  string `json:"category"` // quick choice
	Text      string `json:"text"`
	Anonymous bool   `json:"anonymous"`
	// Reporter fields are shown only to the security team.
	ReporterPersonID int64  `json:"reporter_person_id,omitempty"`
	ReporterUserID   int64  `json:"reporter_user_id,omitempty"`
	ReporterEmail    string `json:"reporter_email,omitempty"`
	ReporterName     string `json:"reporter_name,omitempty"`
	ReporterLocale   string `json:"reporter_locale,omitempty"`
	ClientID         int64  `json:"client_id,omitempty"`
	TeamID           int64  `json:"team_id,omitempty"`
	DeviceID         int64  `json:"device_id,omitempty"`
	// Context holds channel specifics: call_id, queue, calling_number,
	// hostname, os, subject, from, source, ...
	Context       map[string]string `json:"context,omitempty"`
	MessageID     string            `json:"message_id,omitempty"`
	SenderSubject string            `json:"-"`
	MailFileID    int64             `json:"mail_file_id,omitempty"`
	Flags         []string          `json:"flags,omitempty"`
	Severity      string            `json:"severity"`
	Status        string            `json:"status"`
	IncidentID    int64             `json:"incident_id,omitempty"`
	IncidentRef   string            `json:"incident_ref,omitempty"`
	Outcome       string            `json:"outcome,omitempty"`
	DismissReason string            `json:"dismiss_reason,omitempty"`
	AckStatus     string            `json:"ack_status,omitempty"`
	ThanksStatus  string            `json:"thanks_status,omitempty"`
	Observables   []Observable      `json:"observables,omitempty"`
	CreatedAt     time.Time         `json:"created_at"`
	AckAt         *time.Time        `json:"acknowledged_at,omitempty"`
	ClosedAt      *time.Time        `json:"closed_at,omitempty"`
}

// HideReporter blanks the reporter's identity (for callers outside the
// security team), including the desk's OS user name.
func (r *Report) HideReporter() {
	r.ReporterPersonID, r.ReporterUserID, r.ReporterEmail, r.ReporterName = 0, 0, "", ""
	if _, ok := r.Context["session_user"]; ok {
		c := make(map[string]string, len(r.Context))
		for k, v := range r.Context {
			if k != "session_user" {
				c[k] = v
			}
		}
		r.Context = c
	}
}

// Validate checks a report before it is stored.
func (r *Report) Validate() error {
	var errs []error
	if !slices.Contains(Channels, r.Channel) {
		errs = append(errs, fmt.Errorf("channel %q is not one of %v", r.Channel, Channels))
	}
	if r.Category != "" && !slices.Contains(Choices, r.Category) {
		errs = append(errs, fmt.Errorf("category %q is not one of %v", r.Category, Choices))
	}
	if r.Category == "" && strings.TrimSpace(r.Text) == "" && r.MailFileID == 0 {
		errs = append(errs, errors.New("say what happened: pick a category or write a few words"))
	}
	if utf8.RuneCountInString(r.Text) > 20000 {
		errs = append(errs, errors.New("text is longer than 20000 characters"))
	}
	if !utf8.ValidString(r.Text) {
		errs = append(errs, errors.New("text is not valid UTF-8"))
	}
	if r.Severity != "" && !ValidSeverity(r.Severity) {
		errs = append(errs, fmt.Errorf("severity %q is not one of %v", r.Severity, Severities))
	}
	if len(r.Context) > 30 {
		errs = append(errs, errors.New("context has more than 30 fields"))
	}
	for k, v := range r.Context {
		if len(k) > 60 || len(v) > 2000 || !utf8.ValidString(k+v) {
			errs = append(errs, fmt.Errorf("context field %.60q is too long or not UTF-8", k))
			break
		}
	}
	return errors.Join(errs...)
}

// Incident is a case the security team works on.
type Incident struct {
	ID              int64      `json:"id"`
	Ref             string     `json:"ref"`
	Title           string     `json:"title"`
	Description     string     `json:"description"`
	Category        string     `json:"category"`
	Severity        string     `json:"severity"`
	Status          string     `json:"status"`
	OwnerUserID     int64      `json:"owner_user_id,omitempty"`
	OwnerName       string     `json:"owner_name,omitempty"`
	Source          string     `json:"source,omitempty"`
	Playbook        string     `json:"playbook,omitempty"`
	PlaybookVersion int64      `json:"playbook_version,omitempty"`
	Outcome         string     `json:"outcome,omitempty"`
	OutcomeText     string     `json:"outcome_text,omitempty"`
	SLAEscalated    []string   `json:"sla_escalated,omitempty"`
	ClientIDs       []int64    `json:"client_ids"`
	Reporters       int        `json:"reporters"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	BecameAwareAt   *time.Time `json:"became_aware_at,omitempty"`
	AcknowledgedAt  *time.Time `json:"acknowledged_at,omitempty"`
	TriagedAt       *time.Time `json:"triaged_at,omitempty"`
	ContainedAt     *time.Time `json:"contained_at,omitempty"`
	EradicatedAt    *time.Time `json:"eradicated_at,omitempty"`
	RecoveredAt     *time.Time `json:"recovered_at,omitempty"`
	ClosedAt        *time.Time `json:"closed_at,omitempty"`
}

// Validate checks an incident's editable fields.
func (in *Incident) Validate() error {
	var errs []error
	if t := strings.TrimSpace(in.Title); t == "" || utf8.RuneCountInString(t) > 300 {
		errs = append(errs, errors.New("title is required (at most 300 characters)"))
	}
	if utf8.RuneCountInString(in.Description) > 20000 {
		errs = append(errs, errors.New("description is longer than 20000 characters"))
	}
	if in.Category != "" {
		if _, _, ok := taxonomy.Lookup(in.Category); !ok {
			errs = append(errs, fmt.Errorf("category %q is not an RSIT incident type", in.Category))
		}
	}
	if !ValidSeverity(in.Severity) {
		errs = append(errs, fmt.Errorf("severity %q is not one of %v", in.Severity, Severities))
	}
	if in.Outcome != "" && !slices.Contains(Outcomes, in.Outcome) {
		errs = append(errs, fmt.Errorf("outcome %q is not one of %v", in.Outcome, Outcomes))
	}
	return errors.Join(errs...)
}

// Open reports whether the incident is not closed.
func (in *Incident) Open() bool { return in.Status != StatusClosed }

// Observable kinds.
const (
	ObsIP     = "ip"
	ObsDomain = "domain"
	ObsURL    = "url"
	ObsHash   = "hash"
	ObsEmail  = "email"
	ObsPhone  = "phone"
)

// ObservableKinds lists the observable kinds.
var ObservableKinds = []string{ObsIP, ObsDomain, ObsURL, ObsHash, ObsEmail, ObsPhone}

// Observable is an indicator attached to a report or incident.
type Observable struct {
	ID     int64     `json:"id,omitempty"`
	Kind   string    `json:"kind"`
	Value  string    `json:"value"`
	Source string    `json:"source,omitempty"`
	At     time.Time `json:"created_at,omitzero"`
}

var (
	hashRe  = regexp.MustCompile(`^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128})$`)
	phoneRe = regexp.MustCompile(`^\+?[0-9]{3,20}$`)
)

// NormalizeObservable validates an observable and returns its canonical
// value (lower-cased domains, e-mail addresses and hashes; canonical IP
// text; phone numbers without spaces, dots, dashes or brackets), so the
// same indicator is stored once per incident.
func NormalizeObservable(kind, value string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" || len(v) > 2048 || !utf8.ValidString(v) || strings.ContainsAny(v, "\r\n\x00") {
		return "", fmt.Errorf("observable %s: empty, too long or has control characters", kind)
	}
	switch kind {
	case ObsIP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return "", fmt.Errorf("observable ip %q: not an IP address", v)
		}
		return a.Unmap().String(), nil
	case ObsDomain:
		d := strings.TrimSuffix(strings.ToLower(v), ".")
		if len(d) > 253 || !strings.Contains(d, ".") || strings.ContainsAny(d, " /@:") {
			return "", fmt.Errorf("observable domain %q: not a domain name", v)
		}
		return d, nil
	case ObsURL:
		u, err := url.Parse(v)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ftp") {
			return "", fmt.Errorf("observable url %q: not an absolute http(s) URL", v)
		}
		u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		return u.String(), nil
	case ObsHash:
		h := strings.ToLower(v)
		if !hashRe.MatchString(h) {
			return "", fmt.Errorf("observable hash %q: not an MD5/SHA-1/SHA-256/SHA-512 hex digest", v)
		}
		return h, nil
	case ObsEmail:
		a, err := mail.ParseAddress(v)
		if err != nil {
			return "", fmt.Errorf("observable email %q: not an e-mail address", v)
		}
		return strings.ToLower(a.Address), nil
	case ObsPhone:
		p := strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "").Replace(v)
		if strings.HasPrefix(p, "00") {
			p = "+" + p[2:]
		}
		if !phoneRe.MatchString(p) {
			return "", fmt.Errorf("observable phone %q: not a phone number", v)
		}
		return p, nil
	}
	return "", fmt.Errorf("observable kind %q is not one of %v", kind, ObservableKinds)
}

// TimelineEntry is one line of an incident's timeline.
type TimelineEntry struct {
	ID    int64     `json:"id"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Kind  string    `json:"kind"`
	Text  string    `json:"text"`
}

// Task is one item of an incident's checklist.
type Task struct {
	ID       int64      `json:"id"`
	Position int        `json:"position"`
	Title    string     `json:"title"`
	Playbook string     `json:"playbook,omitempty"`
	Done     bool       `json:"done"`
	DoneBy   string     `json:"done_by,omitempty"`
	DoneAt   *time.Time `json:"done_at,omitempty"`
}

// Affected kinds.
const (
	AffectedPerson = "person"
	AffectedDevice = "device"
	AffectedAsset  = "asset"
)

// Affected is a person, device or asset an incident affects.
type Affected struct {
	ID    int64  `json:"id"`
	Kind  string `json:"kind"`
	RefID int64  `json:"ref_id,omitempty"`
	Label string `json:"label"`
}

// Link kinds (ISMS).
const (
	LinkRisk    = "risk"
	LinkControl = "control"
)

// Link ties an incident to an ISMS risk or control.
type Link struct {
	Kind  string    `json:"kind"`
	RefID int64     `json:"ref_id"`
	Label string    `json:"label,omitempty"`
	At    time.Time `json:"created_at"`
}

// File is an encrypted attachment (report attachment, evidence, raw mail).
type File struct {
	ID          int64     `json:"id"`
	OwnerKind   string    `json:"owner_kind"`
	OwnerID     int64     `json:"owner_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	CreatedBy   string    `json:"created_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// MaxFileBytes caps an attachment or evidence file.
const MaxFileBytes = 25 << 20

// CleanFileName keeps a file name safe to show and to offer as a download.
func CleanFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	if name == "" || name == "." || name == ".." {
		name = "attachment"
	}
	return name
}
