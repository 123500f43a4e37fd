// Package discovery is the server side of data protection: the scan and
// redact service the API and the console's "try it" page call (scanners and
// operators built once and reused), the data-protection key sealed under the
// master key, the discovery locations, and the scheduler that scans them
// and raises an alert when card data lies outside a declared cardholder-data
// environment. Only counts, paths and times are ever stored or logged,
// never a found value.
package discovery

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/dataprotection"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
)

// keyName is the secrets-table name of the data-protection key.
const keyName = "dataprotection.key"

// maxCachedScanners bounds the scanners kept for reuse (one per distinct
// set of options); requests beyond it get a scanner of their own.
const maxCachedScanners = 64

// Service runs data protection in the server. It is safe for concurrent use.
type Service struct {
	st  *store.Store
	cfg config.DataProtectionConfig
	log *slog.Logger
	now func() time.Time

	ops map[string]*dataprotection.Operator // every operator kind, keyed
	// masker masks the values shown in findings.
	masker *dataprotection.Operator

	mu       sync.Mutex
	scanners map[string]*dataprotection.Scanner

	running sync.Map // location id → struct{}: one scan of a location at a time in this node
	kick    chan struct{}

	// node is this Service's id as a lease owner, new at every start (see
	// nodeID); leaseDuration is how long a location's lease lasts unless
	// renewed (0: defaultLeaseDuration).
	nodeOnce      sync.Once
	node          string
	leaseDuration time.Duration

	// checkpointFiles and checkpointPeriod override the checkpoint bounds
	// (tests); afterEntry, if set, is called after each entry a scan counts.
	checkpointFiles  int
	checkpointPeriod time.Duration
	afterEntry       func(rel string)
}

// New builds the service: it loads the data-protection key (creating and
// sealing it under the master key on first start) and builds every operator.
func New(ctx context.Context, st *store.Store, keys *secret.Keyring, cfg config.DataProtectionConfig, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	key, err := loadKey(ctx, st, keys)
	if err != nil {
		return nil, err
	}
	s := &Service{st: st, cfg: cfg, log: log, now: time.Now, ops: map[string]*dataprotection.Operator{},
		scanners: map[string]*dataprotection.Scanner{}, kick: make(chan struct{}, 1)}
	for _, kind := range dataprotection.OperatorKinds() {
		op, err := dataprotection.NewOperator(kind, key)
		if err != nil {
			return nil, fmt.Errorf("data protection operator %s: %w", kind, err)
		}
		s.ops[kind] = op
	}
	clear(key)
	s.masker = s.ops[dataprotection.OpMask]
	if _, err := s.Scanner(ScanOptions{}); err != nil {
		return nil, err
	}
	return s, nil
}

// loadKey returns the 32-byte data-protection key. It lives in the secrets
// table sealed under the master key (so a master-key rotation re-wraps it);
// the operators derive one sub-key per use from it with HKDF-SHA-256.
func loadKey(ctx context.Context, st *store.Store, keys *secret.Keyring) ([]byte, error) {
	sealed, err := st.Secret(ctx, keyName)
	if err == nil {
		key, err := keys.Open(sealed, []byte(keyName))
		if err != nil {
			return nil, fmt.Errorf("open the data-protection key: %w", err)
		}
		if len(key) != secret.KeySize {
			return nil, errors.New("the data-protection key is corrupt")
		}
		return key, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	key := make([]byte, secret.KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if sealed, err = keys.Seal(key, []byte(keyName)); err != nil {
		return nil, err
	}
	if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.PutSecret(ctx, keyName, sealed, keys.KeyID(), time.Now()) }); err != nil {
		// Another instance may have created it at the same time: use theirs.
		if again, err2 := st.Secret(ctx, keyName); err2 == nil {
			if k, err3 := keys.Open(again, []byte(keyName)); err3 == nil && len(k) == secret.KeySize {
				return k, nil
			}
		}
		return nil, fmt.Errorf("store the data-protection key: %w", err)
	}
	return key, nil
}

// Config is the service's configuration.
func (s *Service) Config() config.DataProtectionConfig { return s.cfg }

// ScanOptions are the engine options of a request, as the command line
// has them.
type ScanOptions struct {
	Lang       string   `json:"lang,omitempty"`
	Entities   []string `json:"entities,omitempty"`
	FailClosed bool     `json:"fail_closed,omitempty"`
	MinScore   float64  `json:"min_score,omitempty"`
}

// InputError is a request option or location field that is not valid; its
// message may be shown to the user.
type InputError struct {
	Field   string
	Message string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Message }

func inputErr(field, msg string) error { return &InputError{Field: field, Message: msg} }

// engineOptions validates o.
func (o ScanOptions) engineOptions() (dataprotection.Options, string, error) {
	lang := strings.ToLower(strings.TrimSpace(o.Lang))
	switch lang {
	case "", "auto":
		lang = "auto"
	case "es", "en":
	default:
		return dataprotection.Options{}, "", inputErr("lang", "must be es, en or auto")
	}
	if o.MinScore < 0 || o.MinScore > 1 {
		return dataprotection.Options{}, "", inputErr("min_score", "must be from 0 to 1")
	}
	if len(o.Entities) > 64 {
		return dataprotection.Options{}, "", inputErr("entities", "lists too many entities")
	}
	var ents []dataprotection.Entity
	for _, name := range o.Entities {
		e, ok := dataprotection.ParseEntity(strings.TrimSpace(name))
		if !ok {
			return dataprotection.Options{}, "", inputErr("entities", fmt.Sprintf("%q is not a known entity", name))
		}
		if !slices.Contains(ents, e) {
			ents = append(ents, e)
		}
	}
	slices.Sort(ents)
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = string(e)
	}
	key := lang + "|" + strings.Join(names, ",") + "|" + strconv.FormatBool(o.FailClosed) + "|" + strconv.FormatFloat(o.MinScore, 'g', -1, 64)
	return dataprotection.Options{Lang: lang, Entities: ents, FailClosed: o.FailClosed, MinScore: o.MinScore}, key, nil
}

// Scanner returns a scanner for o, reusing one built earlier for the same
// options (building a scanner costs far more than a scan of 1 KB).
func (s *Service) Scanner(o ScanOptions) (*dataprotection.Scanner, error) {
	opts, key, err := o.engineOptions()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	sc := s.scanners[key]
	s.mu.Unlock()
	if sc != nil {
		return sc, nil
	}
	sc, err = dataprotection.NewScanner(opts)
	if err != nil {
		return nil, inputErr("entities", err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.scanners[key]; old != nil {
		return old, nil
	}
	if len(s.scanners) < maxCachedScanners {
		s.scanners[key] = sc
	}
	return sc, nil
}

// Operator returns the operator of kind, keyed with the data-protection key.
func (s *Service) Operator(kind string) (*dataprotection.Operator, error) {
	if kind == "" {
		kind = dataprotection.OpRedact
	}
	op := s.ops[kind]
	if op == nil {
		return nil, inputErr("operator", "must be one of "+strings.Join(dataprotection.OperatorKinds(), ", "))
	}
	return op, nil
}

// scopeOf is the query scope of p.
func scopeOf(p *identity.Principal) identity.Scope { return p.Scope() }
