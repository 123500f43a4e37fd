// Package fleet is the server side of the workstation agents: enrollment,
// check-in, signed policies, results, exceptions and the fleet's views.
package fleet

import (
	"context"
	"time"
)

// DeviceReport is a suspicious-activity report sent from a desk with
// `custodia-agent report "text"`, with the device's context as the server
// knows it (never as the device claims it).
type DeviceReport struct {
	// ID is the fleet's own record of the report.
	ID       int64
	DeviceID int64
	Hostname string
	// ClientID, SiteID and TeamID come from the device's enrollment; 0 = none.
	ClientID int64
	SiteID   int64
	TeamID   int64
	// PersonID is the device's owner (0 = unknown); SessionUser is the OS
	// user signed in on the desk when the report was made.
	PersonID     int64
	SessionUser  string
	OS           string
	AgentVersion string
	// Category is an optional quick choice (see the incident module's
	// report categories); Text is what the person wrote.
	Category   string
	Text       string
	ReportedAt time.Time
	ReceivedAt time.Time
}

// ReportIntake turns desk reports into incidents (the incident module
// implements it). It answers the tracking reference given to the reporter.
type ReportIntake interface {
	DeviceReport(ctx context.Context, r DeviceReport) (ref string, err error)
}
