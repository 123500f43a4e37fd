// Package clock computes the regulatory and contractual notification clocks
// of an incident as pure functions of its recorded facts: GDPR Art. 33 and
// 33(2), the Art. 34 decision record, NIS2 Art. 23, ENS art. 33 (CCN-CERT)
// and DORA major ICT-related incident reporting.
//
// Nothing here reads the wall clock: callers pass "now".
package clock

import (
	"fmt"
	"sort"
	"time"
)

// Kind identifies a clock.
type Kind string

// Clock kinds.
const (
	GDPRAuthority    Kind = "gdpr_art33_authority"    // controller → supervisory authority (AEPD), 72 h
	GDPRController   Kind = "gdpr_art33_2_controller" // processor → each affected controller, contract hours
	GDPRArt34        Kind = "gdpr_art34_decision"     // record of the decision to inform data subjects
	NIS2EarlyWarning Kind = "nis2_early_warning"      // 24 h
	NIS2Notification Kind = "nis2_notification"       // 72 h
	NIS2Final        Kind = "nis2_final_report"       // one month after the notification
	ENSNotification  Kind = "ens_ccn_cert"            // ENS art. 33, danger level ALTO or higher
	DORAInitial      Kind = "dora_initial"            // 4 h from classification, ≤ 24 h from awareness
	DORAIntermediate Kind = "dora_intermediate"       // 72 h from the initial notification
	DORAFinal        Kind = "dora_final"              // one month from the intermediate report
)

// State is where a clock stands.
type State string

// Clock states.
const (
	Running State = "running" // not yet submitted, deadline ahead
	Met     State = "met"     // submitted on time
	Missed  State = "missed"  // deadline passed without submission, or late without reasons
	Late    State = "late"    // submitted late with the reasons for the delay recorded
)

// DangerLevel is the ENS / CCN-STIC 817 danger level of an incident.
type DangerLevel int

// Danger levels, lowest first.
const (
	LevelNone DangerLevel = iota
	LevelBajo
	LevelMedio
	LevelAlto
	LevelMuyAlto
	LevelCritico
)

var levelNames = [...]string{"", "BAJO", "MEDIO", "ALTO", "MUY ALTO", "CRÍTICO"}

func (l DangerLevel) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return fmt.Sprintf("DangerLevel(%d)", int(l))
	}
	return levelNames[l]
}

// Client is a controller for whom the organisation processes data
// (a contact-centre client).
type Client struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	// NotifyWithin is the contractual deadline for telling this client of a
	// personal data breach (GDPR Art. 33(2)); zero takes Policy.DefaultClientHours.
	NotifyWithin time.Duration `json:"notify_within"`
	// Financial marks a DORA financial entity; its major ICT incidents start
	// DORA clocks.
	Financial bool `json:"financial,omitempty"`
}

// Submission records that a notification was sent.
type Submission struct {
	At         time.Time `json:"at"`
	LateReason string    `json:"late_reason,omitempty"` // reasons for the delay (GDPR Art. 33(1)), required when late
}

// Incident holds the facts the clocks depend on.
type Incident struct {
	AwareAt            time.Time   `json:"aware_at"`                       // when the organisation became aware
	PersonalDataBreach bool        `json:"personal_data_breach,omitempty"` // starts the GDPR clocks
	Clients            []Client    `json:"clients,omitempty"`              // affected clients (controllers) when acting as processor
	NIS2               bool        `json:"nis2,omitempty"`                 // significant incident of an essential or important entity
	ENSLevel           DangerLevel `json:"ens_level"`
	// MajorAt is when the incident was classified as major under DORA; zero
	// when it is not (yet) major.
	MajorAt time.Time `json:"major_at"`
	// Submitted maps a clock ID (see Clock.ID) to its submission.
	Submitted map[string]Submission `json:"submitted,omitempty"`
}

// Policy holds the configurable durations.
type Policy struct {
	// DefaultClientHours applies to clients without a contract deadline.
	DefaultClientHours time.Duration `json:"default_client_hours"`
	// ENS maps a danger level to the deadline to notify CCN-CERT. The
	// regulation says "sin demora"; these are the organisation's own targets.
	ENS map[DangerLevel]time.Duration `json:"ens,omitempty"`
}

// DefaultPolicy returns the policy used for zero Policy fields.
func DefaultPolicy() Policy {
	return Policy{
		DefaultClientHours: 24 * time.Hour,
		ENS: map[DangerLevel]time.Duration{
			LevelAlto:    24 * time.Hour,
			LevelMuyAlto: 12 * time.Hour,
			LevelCritico: 4 * time.Hour,
		},
	}
}

// Warning is a reminder point on a clock.
type Warning struct {
	Label string    `json:"label,omitempty"` // "50%", "75%", "2h"
	At    time.Time `json:"at"`
}

// Clock is one running notification obligation.
type Clock struct {
	ID         string      `json:"id,omitempty"` // stable: kind, plus ":"+client ID for per-client clocks
	Kind       Kind        `json:"kind"`
	Rule       string      `json:"rule,omitempty"`      // "GDPR Art. 33(1)", …
	Recipient  string      `json:"recipient,omitempty"` // "AEPD", the client's name, "CSIRT", "CCN-CERT", …
	Start      time.Time   `json:"start"`
	Deadline   time.Time   `json:"deadline"`
	State      State       `json:"state"`
	Submission *Submission `json:"submission,omitempty"`
	Warnings   []Warning   `json:"warnings,omitempty"` // at 50 %, 75 % of the span and 2 h before the deadline
	Notes      []string    `json:"notes,omitempty"`
}

// Remaining returns the time left at now (negative when overdue).
func (c Clock) Remaining(now time.Time) time.Duration { return c.Deadline.Sub(now) }

// DueWarnings returns the warnings reached at now on a clock that is still
// running.
func (c Clock) DueWarnings(now time.Time) []Warning {
	if c.State != Running {
		return nil
	}
	var out []Warning
	for _, w := range c.Warnings {
		if !now.Before(w.At) {
			out = append(out, w)
		}
	}
	return out
}

// Compute returns every clock the incident starts, evaluated at now,
// ordered by deadline.
func Compute(in Incident, pol Policy, now time.Time) []Clock {
	if pol.DefaultClientHours <= 0 {
		pol.DefaultClientHours = DefaultPolicy().DefaultClientHours
	}
	if pol.ENS == nil {
		pol.ENS = DefaultPolicy().ENS
	}
	aware := in.AwareAt
	var out []Clock
	add := func(id string, k Kind, rule, to string, start, deadline time.Time, notes ...string) Clock {
		c := newClock(id, k, rule, to, start, deadline, in.Submitted, now)
		c.Notes = append(c.Notes, notes...)
		out = append(out, c)
		return c
	}
	if in.PersonalDataBreach {
		add(string(GDPRAuthority), GDPRAuthority, "GDPR Art. 33(1)", "AEPD", aware, aware.Add(72*time.Hour))
		add(string(GDPRArt34), GDPRArt34, "GDPR Art. 34", "data subjects (decision record)", aware, aware.Add(72*time.Hour),
			"record whether the breach is likely to result in a high risk and, if so, inform data subjects without undue delay")
		for _, cl := range in.Clients {
			d := cl.NotifyWithin
			var notes []string
			if d <= 0 {
				d = pol.DefaultClientHours
				notes = append(notes, fmt.Sprintf("no contract deadline configured for %s; using %s", cl.Name, d))
			}
			add(string(GDPRController)+":"+cl.ID, GDPRController, "GDPR Art. 33(2)", cl.Name, aware, aware.Add(d), notes...)
		}
	}
	if in.NIS2 {
		add(string(NIS2EarlyWarning), NIS2EarlyWarning, "NIS2 Art. 23(4)(a)", "CSIRT / competent authority", aware, aware.Add(24*time.Hour))
		n := add(string(NIS2Notification), NIS2Notification, "NIS2 Art. 23(4)(b)", "CSIRT / competent authority", aware, aware.Add(72*time.Hour))
		base, note := after(n)
		add(string(NIS2Final), NIS2Final, "NIS2 Art. 23(4)(d)", "CSIRT / competent authority", base, base.AddDate(0, 1, 0), note)
	}
	if in.ENSLevel >= LevelAlto {
		d, ok := pol.ENS[in.ENSLevel]
		if !ok || d <= 0 {
			d = 24 * time.Hour
		}
		add(string(ENSNotification), ENSNotification, "ENS art. 33 (RD 311/2022), CCN-STIC 817", "CCN-CERT", aware, aware.Add(d),
			"danger level "+in.ENSLevel.String()+": notification is mandatory")
	}
	if !in.MajorAt.IsZero() {
		for _, cl := range in.Clients {
			if !cl.Financial {
				continue
			}
			dl := in.MajorAt.Add(4 * time.Hour)
			if limit := aware.Add(24 * time.Hour); limit.Before(dl) {
				dl = limit
			}
			ini := add(string(DORAInitial)+":"+cl.ID, DORAInitial, "DORA Art. 19(4)(a)", cl.Name+" (competent authority)", in.MajorAt, dl)
			base, note := after(ini)
			mid := add(string(DORAIntermediate)+":"+cl.ID, DORAIntermediate, "DORA Art. 19(4)(b)", cl.Name+" (competent authority)", base, base.Add(72*time.Hour), note)
			base, note = after(mid)
			add(string(DORAFinal)+":"+cl.ID, DORAFinal, "DORA Art. 19(4)(c)", cl.Name+" (competent authority)", base, base.AddDate(0, 1, 0), note)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Deadline.Before(out[j].Deadline) })
	return out
}

// after returns the start of a follow-up clock: the previous report's
// submission time, or its deadline while it has not been sent.
func after(prev Clock) (time.Time, string) {
	if prev.Submission != nil {
		return prev.Submission.At, "counted from the submission of " + prev.ID
	}
	return prev.Deadline, "provisional: counted from the deadline of " + prev.ID + " until it is submitted"
}

// Warnings returns the reminder points of a clock running from start to
// deadline, earliest first: at 50 % and 75 % of the span, and 2 h before the
// deadline when the span is longer than 2 h.
func Warnings(start, deadline time.Time) []Warning {
	span := deadline.Sub(start)
	w := []Warning{
		{Label: "50%", At: start.Add(span / 2)},
		{Label: "75%", At: start.Add(span * 3 / 4)},
	}
	if span > 2*time.Hour {
		w = append(w, Warning{Label: "2h", At: deadline.Add(-2 * time.Hour)})
		sort.SliceStable(w, func(i, j int) bool { return w[i].At.Before(w[j].At) })
	}
	return w
}

func newClock(id string, k Kind, rule, to string, start, deadline time.Time, subs map[string]Submission, now time.Time) Clock {
	c := Clock{ID: id, Kind: k, Rule: rule, Recipient: to, Start: start, Deadline: deadline}
	c.Warnings = Warnings(start, deadline)
	if s, ok := subs[id]; ok && !s.At.IsZero() {
		c.Submission = &s
	}
	switch {
	case c.Submission != nil && !c.Submission.At.After(deadline):
		c.State = Met
	case c.Submission != nil && c.Submission.LateReason != "":
		c.State = Late
	case c.Submission != nil:
		c.State = Missed
		c.Notes = append(c.Notes, "submitted late without the reasons for the delay")
	case now.After(deadline):
		c.State = Missed
	default:
		c.State = Running
	}
	return c
}
