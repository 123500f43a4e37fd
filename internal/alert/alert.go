// Package alert is the record the product modules raise for the security
// team — a posture check that went from passed to failed, card data found
// outside the declared cardholder-data environment, a device gone silent, a
// detection-rule match — and the incident module's triage queue consumes.
//
// An alert is open until it is linked to an incident or dismissed. Raising
// an alert that is already open under the same source and dedup key counts
// one more occurrence instead of creating a second one.
package alert

import (
	"errors"
	"fmt"
	"time"
)

// Severity levels, lowest first.
const (
	SeverityInfo     = "info"
	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

// Severities lists the levels, lowest first.
var Severities = []string{SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// Status values.
const (
	StatusOpen      = "open"
	StatusLinked    = "linked"
	StatusDismissed = "dismissed"
)

// Alert is one alert.
type Alert struct {
	ID       int64  `json:"id"`
	Source   string `json:"source"`   // the module: fleet, dataprotection, detect, ...
	Kind     string `json:"kind"`     // e.g. check_failed, card_outside_cde, device_silent
	Severity string `json:"severity"` // one of Severities
	// ClientID is the client the alert concerns; 0 = operator-wide.
	ClientID int64  `json:"client_id,omitempty"`
	Title    string `json:"title"`
	// Detail is a JSON object with the specifics; never a sensitive value.
	Detail     map[string]any `json:"detail,omitempty"`
	DedupKey   string         `json:"dedup_key,omitempty"`
	ObjectType string         `json:"object_type,omitempty"`
	ObjectID   string         `json:"object_id,omitempty"`
	Status     string         `json:"status"`
	IncidentID int64          `json:"incident_id,omitempty"`
	// Occurrences counts how often it was raised while open.
	Occurrences int64      `json:"occurrences"`
	CreatedAt   time.Time  `json:"created_at"`
	LastSeenAt  time.Time  `json:"last_seen_at"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
}

// Validate checks an alert before it is raised.
func (a *Alert) Validate() error {
	var errs []error
	if a.Source == "" || len(a.Source) > 40 {
		errs = append(errs, errors.New("source is required (at most 40 characters)"))
	}
	if a.Kind == "" || len(a.Kind) > 60 {
		errs = append(errs, errors.New("kind is required (at most 60 characters)"))
	}
	if !validSeverity(a.Severity) {
		errs = append(errs, fmt.Errorf("severity %q is not one of %v", a.Severity, Severities))
	}
	if a.Title == "" || len(a.Title) > 300 {
		errs = append(errs, errors.New("title is required (at most 300 characters)"))
	}
	if len(a.DedupKey) > 300 {
		errs = append(errs, errors.New("dedup key is longer than 300 characters"))
	}
	return errors.Join(errs...)
}

func validSeverity(s string) bool {
	for _, v := range Severities {
		if v == s {
			return true
		}
	}
	return false
}

// Filter selects alerts.
type Filter struct {
	Status   string // "" = any
	Source   string // "" = any
	Kind     string // "" = any
	ClientID int64  // 0 = any in scope
	Limit    int
	Offset   int
}
