package discovery

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
)

// allScope sees every client (the scheduler's own reads).
var allScope = identity.Scope{All: true}

// ErrReadOnly reports a change to a location that comes from the
// configuration.
var ErrReadOnly = errors.New("this location was set up by the server (configuration or demo); change it there")

// LocationInput creates or changes a location from the console or the API.
type LocationInput struct {
	Name string `json:"name"`
	Path string `json:"path"`
	// ClientID is the client whose data the folder holds (0: operator-wide,
	// for callers who see every client).
	ClientID int64 `json:"client_id,omitempty"`
	// CDE declares the folder a cardholder-data environment: card data
	// found there raises no alert.
	CDE bool `json:"cde"`
	// IntervalMinutes is the time between scans (default: the server's).
	IntervalMinutes int64 `json:"interval_minutes,omitempty"`
	// Enabled: when false the location is not scanned (default true).
	Enabled *bool `json:"enabled,omitempty"`
}

// FieldErrors lists every invalid field of a location input.
type FieldErrors []InputError

func (e FieldErrors) Error() string {
	parts := make([]string, len(e))
	for i, f := range e {
		parts[i] = f.Error()
	}
	return strings.Join(parts, "; ")
}

// validate checks in and returns the location it describes, for p.
func (s *Service) validate(ctx context.Context, p *identity.Principal, in LocationInput) (store.DPLocation, error) {
	var fe FieldErrors
	l := store.DPLocation{Name: strings.TrimSpace(in.Name), CDE: in.CDE, ClientID: in.ClientID, Enabled: in.Enabled == nil || *in.Enabled}
	if l.Name == "" || utf8.RuneCountInString(l.Name) > 120 || !utf8.ValidString(l.Name) {
		fe = append(fe, InputError{"name", "is required (at most 120 characters)"})
	}
	path := strings.TrimSpace(in.Path)
	switch {
	case path == "" || !filepath.IsAbs(path) || len(path) > 1024 || strings.ContainsRune(path, 0):
		fe = append(fe, InputError{"path", "must be an absolute folder path on the server"})
	default:
		l.Path = filepath.Clean(path)
		if !s.underAllowedRoot(l.Path) {
			if len(s.cfg.Roots()) == 0 {
				fe = append(fe, InputError{"path", "no folder may be added here: the server has no --dataprotection-allowed-roots"})
			} else {
				fe = append(fe, InputError{"path", "must lie under one of " + strings.Join(s.cfg.Roots(), ", ")})
			}
		} else if st, err := os.Stat(l.Path); err != nil || !st.IsDir() {
			fe = append(fe, InputError{"path", "is not a folder the server can read"})
		}
	}
	switch mins := in.IntervalMinutes; {
	case mins == 0:
		l.IntervalSeconds = int64(s.interval(0) / time.Second)
	case mins < 5 || mins > 60*24*366:
		fe = append(fe, InputError{"interval_minutes", "must be from 5 minutes to a year"})
	default:
		l.IntervalSeconds = mins * 60
	}
	if l.ClientID == 0 && !p.AllClients {
		fe = append(fe, InputError{"client_id", "is required"})
	} else if l.ClientID != 0 {
		if !p.CanSeeClient(l.ClientID) {
			fe = append(fe, InputError{"client_id", "is not a known client"})
		} else if _, err := s.st.Client(ctx, scopeOf(p), l.ClientID); err != nil {
			fe = append(fe, InputError{"client_id", "is not a known client"})
		}
	}
	if len(fe) > 0 {
		return l, fe
	}
	return l, nil
}

// underAllowedRoot reports whether path (clean, absolute) is an allowed
// root or lies under one, after resolving symbolic links of both.
func (s *Service) underAllowedRoot(path string) bool {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		real = path
	}
	for _, root := range s.cfg.Roots() {
		rr, err := filepath.EvalSymlinks(root)
		if err != nil {
			rr = root
		}
		if rel, err := filepath.Rel(rr, real); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// Locations lists the locations in p's scope.
func (s *Service) Locations(ctx context.Context, p *identity.Principal) ([]store.DPLocation, error) {
	return s.st.DPLocations(ctx, scopeOf(p))
}

// Location returns a location in p's scope.
func (s *Service) Location(ctx context.Context, p *identity.Principal, id int64) (*store.DPLocation, error) {
	return s.st.DPLocation(ctx, scopeOf(p), id)
}

// CreateLocation validates in and stores a new location (audited).
func (s *Service) CreateLocation(ctx context.Context, p *identity.Principal, in LocationInput) (*store.DPLocation, error) {
	l, err := s.validate(ctx, p, in)
	if err != nil {
		return nil, err
	}
	l.ManagedBy = store.DPManagedConsole
	if err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.DPCreateLocation(ctx, &l) }); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, FieldErrors{{"path", "is already a location"}}
		}
		return nil, err
	}
	s.Kick()
	return s.Location(ctx, p, l.ID)
}

// UpdateLocation changes location id (in p's scope; not a configured one).
func (s *Service) UpdateLocation(ctx context.Context, p *identity.Principal, id int64, in LocationInput) (*store.DPLocation, error) {
	cur, err := s.Location(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if cur.ManagedBy != store.DPManagedConsole {
		return nil, ErrReadOnly
	}
	l, err := s.validate(ctx, p, in)
	if err != nil {
		return nil, err
	}
	l.ID = id
	if err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.DPUpdateLocation(ctx, scopeOf(p), &l) }); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, FieldErrors{{"path", "is already a location"}}
		}
		return nil, err
	}
	return s.Location(ctx, p, id)
}

// DeleteLocation removes location id (in p's scope; not a configured one)
// with its history.
func (s *Service) DeleteLocation(ctx context.Context, p *identity.Principal, id int64) error {
	cur, err := s.Location(ctx, p, id)
	if err != nil {
		return err
	}
	if cur.ManagedBy != store.DPManagedConsole {
		return ErrReadOnly
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error { return tx.DPDeleteLocation(ctx, scopeOf(p), id) })
}

// ScanNow asks for a scan of location id (in p's scope) at once; the
// scheduler runs it (one scan of a location at a time).
func (s *Service) ScanNow(ctx context.Context, p *identity.Principal, id int64) error {
	if err := s.st.InTx(ctx, func(tx *store.Tx) error { return tx.DPRequestScan(ctx, scopeOf(p), id) }); err != nil {
		return err
	}
	s.Kick()
	return nil
}

// Runs lists the runs of a location in p's scope (0: all), newest first.
func (s *Service) Runs(ctx context.Context, p *identity.Principal, locationID int64, limit, offset int) ([]store.DPRun, error) {
	if locationID != 0 {
		if _, err := s.Location(ctx, p, locationID); err != nil {
			return nil, err
		}
	}
	return s.st.DPRuns(ctx, scopeOf(p), locationID, limit, offset)
}

// Run returns a run in p's scope.
func (s *Service) RunByID(ctx context.Context, p *identity.Principal, id int64) (*store.DPRun, error) {
	return s.st.DPRun(ctx, scopeOf(p), id)
}

// RunFiles lists the files of a run in p's scope with findings or errors.
func (s *Service) RunFiles(ctx context.Context, p *identity.Principal, runID int64, limit, offset int) ([]store.DPRunFile, error) {
	if _, err := s.RunByID(ctx, p, runID); err != nil {
		return nil, err
	}
	return s.st.DPRunFiles(ctx, scopeOf(p), runID, limit, offset)
}

// LatestRuns returns the newest run of each location in p's scope.
func (s *Service) LatestRuns(ctx context.Context, p *identity.Principal) (map[int64]store.DPRun, error) {
	return s.st.DPLatestRuns(ctx, scopeOf(p))
}
