package desk

import (
	"fmt"
	"time"
)

// SLA stages.
const (
	StageAck     = "ack"
	StageTriage  = "triage"
	StageContain = "contain"
)

// Stages lists the SLA stages in order.
var Stages = []string{StageAck, StageTriage, StageContain}

// SLA is the time allowed per stage for one severity, counted from the
// incident's creation.
type SLA struct {
	Ack     time.Duration `json:"ack"`
	Triage  time.Duration `json:"triage"`
	Contain time.Duration `json:"contain"`
}

// SLAPolicy maps severities to their SLA.
type SLAPolicy map[string]SLA

// DefaultSLAs are the built-in targets.
func DefaultSLAs() SLAPolicy {
	return SLAPolicy{
		SeverityCritical: {Ack: 15 * time.Minute, Triage: time.Hour, Contain: 4 * time.Hour},
		SeverityHigh:     {Ack: 30 * time.Minute, Triage: 4 * time.Hour, Contain: 24 * time.Hour},
		SeverityMedium:   {Ack: 4 * time.Hour, Triage: 24 * time.Hour, Contain: 72 * time.Hour},
		SeverityLow:      {Ack: 24 * time.Hour, Triage: 72 * time.Hour, Contain: 7 * 24 * time.Hour},
	}
}

// Validate checks that every severity has positive, ordered targets.
func (p SLAPolicy) Validate() error {
	for _, s := range Severities {
		v, ok := p[s]
		if !ok {
			return fmt.Errorf("sla: no targets for severity %s", s)
		}
		if v.Ack <= 0 || v.Triage < v.Ack || v.Contain < v.Triage {
			return fmt.Errorf("sla %s: want 0 < ack ≤ triage ≤ contain, got %v/%v/%v", s, v.Ack, v.Triage, v.Contain)
		}
	}
	return nil
}

// Countdown is one stage's SLA state.
type Countdown struct {
	Stage    string        `json:"stage"`
	Due      time.Time     `json:"due"`
	Met      bool          `json:"met"`      // the stage was reached by the due time
	Breached bool          `json:"breached"` // due passed before the stage was reached
	Left     time.Duration `json:"left"`     // time left while pending (negative when overdue)
	Done     bool          `json:"done"`     // the stage was reached (on time or not)
}

// Countdowns returns the incident's SLA state per stage at now.
func (p SLAPolicy) Countdowns(in *Incident, now time.Time) []Countdown {
	sla, ok := p[in.Severity]
	if !ok {
		sla = p[SeverityMedium]
	}
	reached := map[string]*time.Time{StageAck: in.AcknowledgedAt, StageTriage: in.TriagedAt, StageContain: in.ContainedAt}
	// Reaching a later stage (or closing) settles the earlier ones.
	later := func(ts ...*time.Time) *time.Time {
		for _, t := range ts {
			if t != nil {
				return t
			}
		}
		return nil
	}
	reached[StageAck] = later(in.AcknowledgedAt, in.TriagedAt, in.ContainedAt, in.ClosedAt)
	reached[StageTriage] = later(in.TriagedAt, in.ContainedAt, in.ClosedAt)
	reached[StageContain] = later(in.ContainedAt, in.EradicatedAt, in.RecoveredAt, in.ClosedAt)
	var out []Countdown
	for _, st := range Stages {
		d := map[string]time.Duration{StageAck: sla.Ack, StageTriage: sla.Triage, StageContain: sla.Contain}[st]
		c := Countdown{Stage: st, Due: in.CreatedAt.Add(d)}
		if at := reached[st]; at != nil {
			c.Done = true
			c.Met = !at.After(c.Due)
			c.Breached = !c.Met
		} else {
			c.Left = c.Due.Sub(now)
			c.Breached = c.Left < 0
		}
		out = append(out, c)
	}
	return out
}
