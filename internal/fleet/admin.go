package fleet

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/fleet/wire"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/posture"
	"github.com/custodia/custodia/internal/store"
)

// InputError is a user-facing validation error (400/422).
type InputError struct {
	// Key is the message's catalogue key (fleet.err.…) and Args its
	// arguments; Msg is the English text.
	Key, Msg string
	Args     []any
}

func (e *InputError) Error() string { return e.Msg }

func inputErr(key, format string, a ...any) error {
	return &InputError{Key: key, Msg: fmt.Sprintf(format, a...), Args: a}
}

// SecretInput is what an administrator fills in to create an enrollment
// secret: a client or a site (or both), optionally a team.
type SecretInput struct {
	Name      string
	ClientID  int64
	SiteID    int64
	TeamID    int64
	ExpiresAt *time.Time
	MaxUses   int64
	CreatedBy string
}

// CreateSecret creates an enrollment secret and returns it in clear (shown
// only now; the database keeps its digest). A caller limited to some
// clients must name one of them.
func (s *Service) CreateSecret(ctx context.Context, scope identity.Scope, in SecretInput) (string, *store.FleetEnrollSecret, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 120 {
		return "", nil, inputErr("fleet.err.a_name_is_required_at", "A name is required (at most 120 characters).")
	}
	if in.ClientID == 0 && in.SiteID == 0 {
		return "", nil, inputErr("fleet.err.choose_the_client_or_the", "Choose the client or the site the devices will belong to.")
	}
	if in.ClientID == 0 && !scope.All {
		return "", nil, inputErr("fleet.err.choose_one_of_your_clients", "Choose one of your clients.")
	}
	if in.MaxUses < 0 {
		return "", nil, inputErr("fleet.err.the_maximum_number_of_uses", "The maximum number of uses cannot be negative.")
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(s.now()) {
		return "", nil, inputErr("fleet.err.the_expiry_must_be_in", "The expiry must be in the future.")
	}
	if in.ClientID != 0 {
		if _, err := s.st.Client(ctx, scope, in.ClientID); err != nil {
			return "", nil, notFoundAs(err, "fleet.err.unknown_client", "Unknown client.")
		}
	}
	if in.SiteID != 0 {
		if _, err := s.st.Site(ctx, scope, in.SiteID); err != nil {
			return "", nil, notFoundAs(err, "fleet.err.unknown_site", "Unknown site.")
		}
	}
	if in.TeamID != 0 {
		t, err := s.st.Team(ctx, scope, in.TeamID)
		if err != nil {
			return "", nil, notFoundAs(err, "fleet.err.unknown_team", "Unknown team.")
		}
		if t.ClientID != 0 && in.ClientID != 0 && t.ClientID != in.ClientID {
			return "", nil, inputErr("fleet.err.the_team_works_for_another", "The team works for another client.")
		}
		if in.SiteID != 0 && t.SiteID != in.SiteID {
			return "", nil, inputErr("fleet.err.the_team_is_at_another", "The team is at another site.")
		}
		if in.ClientID == 0 && t.ClientID != 0 {
			in.ClientID = t.ClientID
		}
		if in.SiteID == 0 {
			in.SiteID = t.SiteID
		}
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, err
	}
	plain := "ces_" + base64.RawURLEncoding.EncodeToString(raw)
	e := &store.FleetEnrollSecret{Name: in.Name, Hint: plain[:8], ClientID: in.ClientID, SiteID: in.SiteID, TeamID: in.TeamID,
		ExpiresAt: in.ExpiresAt, MaxUses: in.MaxUses, CreatedBy: in.CreatedBy}
	if err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.FleetSecretCreate(ctx, e, wire.HashSecret(plain)) }); err != nil {
		return "", nil, err
	}
	return plain, e, nil
}

func notFoundAs(err error, key, msg string) error {
	if errors.Is(err, store.ErrNotFound) {
		return &InputError{Key: key, Msg: msg}
	}
	return err
}

// ExceptionInput is what someone fills in to accept a failing check.
type ExceptionInput struct {
	Policy, CheckID string
	Scope           string // device, team, client
	DeviceID        int64
	TeamID          int64
	ClientID        int64
	Owner, Reason   string
	ExpiresAt       time.Time
	CreatedBy       string
}

// MaxExceptionLife bounds an exception's life: an accepted risk is
// reviewed at least yearly.
const MaxExceptionLife = 366 * 24 * time.Hour

// CreateException validates and stores an exception; the device, team or
// client must be in the caller's scope (404-like error otherwise).
func (s *Service) CreateException(ctx context.Context, scope identity.Scope, in ExceptionInput) (*store.FleetException, error) {
	in.Policy, in.CheckID = strings.TrimSpace(in.Policy), strings.TrimSpace(in.CheckID)
	in.Owner, in.Reason = strings.TrimSpace(in.Owner), strings.TrimSpace(in.Reason)
	var errs []string
	if in.Policy == "" || in.CheckID == "" || len(in.Policy) > 256 || len(in.CheckID) > 256 {
		errs = append(errs, "The policy and the check are required.")
	}
	if in.Owner == "" || len(in.Owner) > 200 {
		errs = append(errs, "An owner is required (at most 200 characters).")
	}
	if in.Reason == "" || len(in.Reason) > 2000 {
		errs = append(errs, "A reason is required (at most 2000 characters).")
	}
	now := s.now()
	if !in.ExpiresAt.After(now) || in.ExpiresAt.Sub(now) > MaxExceptionLife {
		errs = append(errs, "The expiry must be in the future and within a year.")
	}
	if len(errs) > 0 {
		return nil, &InputError{Key: "fleet.err.exception_fields", Msg: strings.Join(errs, " ")}
	}
	e := &store.FleetException{Policy: in.Policy, CheckID: in.CheckID, Scope: in.Scope, Owner: in.Owner, Reason: in.Reason,
		ExpiresAt: in.ExpiresAt.UTC(), CreatedBy: in.CreatedBy}
	switch in.Scope {
	case store.FleetScopeDevice:
		d, err := s.st.FleetDevice(ctx, scope, in.DeviceID)
		if err != nil {
			return nil, err
		}
		e.DeviceID, e.TeamID, e.ClientID = d.ID, 0, d.ClientID
	case store.FleetScopeTeam:
		if scope.TeamIDs != nil && !contains(scope.TeamIDs, in.TeamID) {
			return nil, fmt.Errorf("team %d: %w", in.TeamID, store.ErrNotFound)
		}
		t, err := s.st.Team(ctx, scope, in.TeamID)
		if err != nil {
			return nil, err
		}
		e.TeamID, e.ClientID = t.ID, t.ClientID
	case store.FleetScopeClient:
		if scope.TeamIDs != nil {
			return nil, inputErr("fleet.err.a_supervisor_may_accept_failures", "A supervisor may accept failures for a device or a team only.")
		}
		c, err := s.st.Client(ctx, scope, in.ClientID)
		if err != nil {
			return nil, err
		}
		e.ClientID = c.ID
	default:
		return nil, inputErr("fleet.err.the_scope_must_be_device", "The scope must be device, team or client.")
	}
	if err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.FleetExceptionCreate(ctx, e) }); err != nil {
		return nil, err
	}
	return e, nil
}

func contains(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// DeviceRow is a device with its compliance score and stale flag.
type DeviceRow struct {
	store.FleetDevice
	Score Score `json:"score"`
	Stale bool  `json:"stale"`
}

// Devices lists devices in scope with their scores.
func (s *Service) Devices(ctx context.Context, scope identity.Scope, f store.FleetDeviceFilter) ([]DeviceRow, error) {
	now := s.now()
	if f.Stale || f.Fresh {
		f.StaleBefore = s.StaleBefore(now)
	}
	devs, err := s.st.FleetDevices(ctx, scope, f)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(devs))
	for i, d := range devs {
		ids[i] = d.ID
	}
	res, err := s.st.FleetResultsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	exc, err := s.st.FleetExceptionsInForce(ctx, now)
	if err != nil {
		return nil, err
	}
	stale := s.StaleBefore(now)
	out := make([]DeviceRow, len(devs))
	for i, d := range devs {
		out[i] = DeviceRow{FleetDevice: d, Score: Annotate(res[d.ID], exc, d.ID, d.ClientID, d.TeamID, now), Stale: !d.Revoked && d.LastSeenAt.Before(stale)}
	}
	return out, nil
}

// DeviceDetail is a device's page: current results (accepted marked),
// history, exceptions that apply and desk reports.
type DeviceDetail struct {
	Device     DeviceRow                 `json:"device"`
	Results    []store.FleetResult       `json:"results"`
	History    []store.FleetHistoryEntry `json:"history"`
	Exceptions []store.FleetException    `json:"exceptions"`
	Reports    []store.FleetReport       `json:"reports"`
}

// Device returns device id's detail if it is in scope.
func (s *Service) Device(ctx context.Context, scope identity.Scope, id int64) (*DeviceDetail, error) {
	d, err := s.st.FleetDevice(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	res, err := s.st.FleetResults(ctx, id)
	if err != nil {
		return nil, err
	}
	exc, err := s.st.FleetExceptions(ctx, identity.Scope{All: true}, store.FleetExceptionFilter{DeviceID: id, Limit: 500})
	if err != nil {
		return nil, err
	}
	sc := Annotate(res, exc, d.ID, d.ClientID, d.TeamID, now)
	hist, err := s.st.FleetHistory(ctx, id, 200)
	if err != nil {
		return nil, err
	}
	reps, err := s.st.FleetReports(ctx, scope, id, 50, 0)
	if err != nil {
		return nil, err
	}
	return &DeviceDetail{Device: DeviceRow{FleetDevice: *d, Score: sc, Stale: !d.Revoked && d.LastSeenAt.Before(s.StaleBefore(now))},
		Results: res, History: hist, Exceptions: exc, Reports: reps}, nil
}

// CheckView is the fleet view of one check: its results on every device
// in scope, accepted failures marked.
func (s *Service) CheckView(ctx context.Context, scope identity.Scope, f store.FleetCheckFilter) ([]store.FleetResult, error) {
	rs, err := s.st.FleetCheckResults(ctx, scope, f)
	if err != nil {
		return nil, err
	}
	exc, err := s.st.FleetExceptions(ctx, identity.Scope{All: true}, store.FleetExceptionFilter{Active: true, Now: s.now(), Policy: f.Policy, CheckID: f.CheckID, Limit: 5000})
	if err != nil {
		return nil, err
	}
	now := s.now()
	for i := range rs {
		Annotate(rs[i:i+1], exc, rs[i].DeviceID, rs[i].ClientID, rs[i].TeamID, now)
	}
	return rs, nil
}

// Revoke revokes device id (in scope): its next request is refused.
func (s *Service) Revoke(ctx context.Context, scope identity.Scope, id int64) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error { return tx.FleetDeviceRevoke(ctx, scope, id) })
}

// PolicyInput is a custom policy to assign.
type PolicyInput struct {
	// Name labels the assignment; empty takes the policy's id.
	Name                     string
	OS                       string
	ClientID, SiteID, TeamID int64
	Source                   string
}

// MaxPolicySource bounds a custom policy's source.
const MaxPolicySource = 1 << 20

// AddPolicy validates a custom policy (it must parse) and assigns it. The
// client, site and team must be in the caller's scope (a team of another
// client or site is refused); a team's client is assigned with it.
func (s *Service) AddPolicy(ctx context.Context, scope identity.Scope, in PolicyInput) (*store.FleetPolicy, error) {
	if len(in.Source) > MaxPolicySource {
		return nil, inputErr("fleet.err.the_policy_file_is_larger", "The policy file is larger than 1 MiB.")
	}
	p, err := posture.Parse([]byte(in.Source))
	if err != nil {
		return nil, inputErr("fleet.err.the_policy_file_does_not", "The policy file does not parse: %s", err.Error())
	}
	in.Name = strings.TrimSpace(in.Name)
	if len(in.Name) > 120 || strings.ContainsFunc(in.Name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, inputErr("fleet.err.policy_name", "The name must be one line of at most 120 characters.")
	}
	switch in.OS {
	case "", "linux", "windows", "darwin":
	default:
		return nil, inputErr("fleet.err.the_operating_system_must_be", "The operating system must be linux, windows, darwin or empty.")
	}
	if in.ClientID == 0 && !scope.All {
		return nil, inputErr("fleet.err.choose_one_of_your_clients", "Choose one of your clients.")
	}
	if in.ClientID != 0 {
		if _, err := s.st.Client(ctx, scope, in.ClientID); err != nil {
			return nil, notFoundAs(err, "fleet.err.unknown_client", "Unknown client.")
		}
	}
	if in.SiteID != 0 {
		if _, err := s.st.Site(ctx, scope, in.SiteID); err != nil {
			return nil, notFoundAs(err, "fleet.err.unknown_site", "Unknown site.")
		}
	}
	if in.TeamID != 0 {
		t, err := s.st.Team(ctx, scope, in.TeamID)
		if err != nil {
			return nil, notFoundAs(err, "fleet.err.unknown_team", "Unknown team.")
		}
		if t.ClientID != 0 && in.ClientID != 0 && t.ClientID != in.ClientID {
			return nil, inputErr("fleet.err.the_team_works_for_another", "The team works for another client.")
		}
		if in.SiteID != 0 && t.SiteID != in.SiteID {
			return nil, inputErr("fleet.err.the_team_is_at_another", "The team is at another site.")
		}
		if in.ClientID == 0 {
			in.ClientID = t.ClientID
		}
	}
	name := in.Name
	if name == "" {
		name = p.ID
	}
	fp := &store.FleetPolicy{Name: name, OS: in.OS, ClientID: in.ClientID, SiteID: in.SiteID, TeamID: in.TeamID, Source: in.Source}
	if err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.FleetPolicyCreate(ctx, fp) }); err != nil {
		return nil, err
	}
	s.InvalidateBundles()
	return fp, nil
}

// LintPolicy finds what `custodia-agent lint` finds in a policy's source:
// a document that does not parse (one problem, its line when the message
// gives one) or the problems of the parsed policy (checks whose rules or
// fields are wrong, by line). The policy is nil when it does not parse.
func LintPolicy(src []byte) (*posture.Policy, []posture.Problem) {
	if len(src) > MaxPolicySource {
		return nil, []posture.Problem{{Msg: "the policy file is larger than 1 MiB"}}
	}
	p, err := posture.Parse(src)
	if err != nil {
		pr := posture.Problem{Msg: err.Error()}
		if m := lineRE.FindStringSubmatch(pr.Msg); m != nil {
			pr.Line, _ = strconv.Atoi(m[1])
		}
		return nil, []posture.Problem{pr}
	}
	return p, p.Problems()
}

// lineRE finds the line a parse error names ("yaml: line 3: …",
// "policy x: line 12: …").
var lineRE = regexp.MustCompile(`\bline (\d+)\b`)

// ErrUnknownPerson reports an owner that is not a person in scope.
var ErrUnknownPerson = errors.New("unknown person")

// SetOwner sets device id's owner to person personID (in scope; 0 clears).
func (s *Service) SetOwner(ctx context.Context, scope identity.Scope, id, personID int64) error {
	if personID != 0 {
		if _, err := s.st.Person(ctx, scope, personID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return ErrUnknownPerson
			}
			return err
		}
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error { return tx.FleetDeviceSetOwner(ctx, scope, id, personID) })
}

// DeletePolicy removes custom policy id (in scope); devices drop it at
// their next check-in.
func (s *Service) DeletePolicy(ctx context.Context, scope identity.Scope, id int64) error {
	if err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.FleetPolicyDelete(ctx, scope, id) }); err != nil {
		return err
	}
	s.InvalidateBundles()
	return nil
}
