package notify

import (
	"context"
	"time"
)

// Event is something a channel may be told about: a new incident, an SLA
// breach, a regulatory clock nearing its deadline. Channels' rules select
// events by kind, severity, category and client; a channel's sensitivity
// setting decides whether it receives Details or only the summary fields.
type Event struct {
	// Kind: incident.created, incident.updated, incident.sla_breached,
	// clock.warning, clock.overdue, report.received, alert.raised, ...
	Kind     string
	Severity string // low, medium, high, critical
	Category string // incident taxonomy code
	// ClientIDs are the clients the event concerns (empty = operator-wide).
	ClientIDs []int64
	// IncidentID and Ref identify the incident, when there is one.
	IncidentID int64
	Ref        string
	// Title and Summary are safe for every channel (no personal data).
	Title   string
	Summary string
	// Details may hold personal or confidential information: only channels
	// whose sensitivity allows it receive them.
	Details string
	// URL links to the console page.
	URL string
	At  time.Time
}

// Publisher accepts events for delivery. Publish must not block on the
// network: it records the event for the delivery worker and returns.
type Publisher interface {
	Publish(ctx context.Context, e Event) error
}
