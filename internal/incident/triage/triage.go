// Package triage is the incident desk's service: it takes reports from the
// portal, e-mail, desktops and other systems, acknowledges the reporters,
// clusters reports of the same thing into one incident, drives incidents
// through their flow with playbooks and SLAs, and thanks the reporters
// when a case closes. It sits between the console/API and the store.
package triage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/desk"
	"github.com/custodia/custodia/internal/notify"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
)

// ErrInvalid wraps input the service refuses (the API answers 400/422).
var ErrInvalid = errors.New("invalid input")

// Service is the incident desk. Build it with New; Run starts its
// acknowledgement worker and SLA checks.
type Service struct {
	st        *store.Store
	keys      *secret.Keyring
	mailer    notify.Mailer
	publisher notify.Publisher
	cat       *i18n.Catalog
	log       *slog.Logger
	now       func() time.Time

	slas          desk.SLAPolicy
	clusterWindow time.Duration
	baseURL       string
	escalateTo    []string

	mails chan mailJob
	wg    sync.WaitGroup
}

// Options configure a Service. Zero fields take the defaults noted.
type Options struct {
	Store     *store.Store
	Keys      *secret.Keyring
	Mailer    notify.Mailer    // nil: no e-mail (recorded on each report)
	Publisher notify.Publisher // nil: no events
	Catalog   *i18n.Catalog    // nil: the built-in catalogue
	Logger    *slog.Logger
	Now       func() time.Time
	// SLAs per severity (default desk.DefaultSLAs()).
	SLAs desk.SLAPolicy
	// ClusterWindow: reports of the same e-mail within it join one incident (72 h).
	ClusterWindow time.Duration
	// BaseURL of the console, for links in events and mails.
	BaseURL string
	// EscalateTo receive an e-mail when an SLA is breached.
	EscalateTo []string
}

// New builds the service and installs the built-in playbooks that the
// store does not hold yet.
func New(ctx context.Context, o Options) (*Service, error) {
	if o.Store == nil || o.Keys == nil {
		return nil, errors.New("triage: store and keyring are required")
	}
	s := &Service{st: o.Store, keys: o.Keys, mailer: o.Mailer, publisher: o.Publisher, cat: o.Catalog, log: o.Logger, now: o.Now,
		slas: o.SLAs, clusterWindow: o.ClusterWindow, baseURL: strings.TrimRight(o.BaseURL, "/"), escalateTo: o.EscalateTo,
		mails: make(chan mailJob, 1024)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.slas == nil {
		s.slas = desk.DefaultSLAs()
	}
	if err := s.slas.Validate(); err != nil {
		return nil, err
	}
	if s.clusterWindow <= 0 {
		s.clusterWindow = 72 * time.Hour
	}
	if s.cat == nil {
		cat, err := i18n.Load()
		if err != nil {
			return nil, err
		}
		s.cat = cat
	}
	if err := s.installPlaybooks(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// SLAs returns the SLA policy in force.
func (s *Service) SLAs() desk.SLAPolicy { return s.slas }

func (s *Service) installPlaybooks(ctx context.Context) error {
	have, err := s.st.IncidentPlaybooks(ctx)
	if err != nil {
		return err
	}
	builtin, err := desk.BuiltinPlaybooks()
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(builtin))
	for k := range builtin {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	ctx = audit.WithActor(ctx, audit.Actor{Name: "system"})
	for _, k := range keys {
		if _, ok := have[k]; ok {
			continue
		}
		body := string(builtin[k])
		if err := s.st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.IncidentPlaybookSave(ctx, k, body)
			return err
		}); err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("install playbook %s: %w", k, err)
		}
	}
	return nil
}

// Playbooks returns the newest version of every playbook, parsed.
func (s *Service) Playbooks(ctx context.Context) ([]desk.Playbook, error) {
	vs, err := s.st.IncidentPlaybooks(ctx)
	if err != nil {
		return nil, err
	}
	var out []desk.Playbook
	for _, v := range vs {
		p, err := desk.ParsePlaybook([]byte(v.Body))
		if err != nil {
			s.log.Warn("stored playbook does not parse", "key", v.Key, "version", v.Version, "err", err)
			continue
		}
		p.Version = v.Version
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b desk.Playbook) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// SavePlaybook validates body and stores it as a new version of its key.
func (s *Service) SavePlaybook(ctx context.Context, p0 *identity.Principal, body string) (*desk.Playbook, error) {
	ctx = actorCtx(ctx, p0)
	p, err := desk.ParsePlaybook([]byte(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		v, err := tx.IncidentPlaybookSave(ctx, p.Key, body)
		p.Version = v
		return err
	})
	return p, err
}

// actorCtx puts the principal in ctx as the audit actor when the caller
// has not.
func actorCtx(ctx context.Context, p *identity.Principal) context.Context {
	a := audit.ActorFrom(ctx)
	if p == nil || (a.Name != "" && a.Name != "system") {
		return ctx
	}
	a.UserID, a.Name, a.ClientIDs = p.UserID, p.Actor(), p.ClientIDs
	return audit.WithActor(ctx, a)
}

// SecurityTeam reports whether p may see reporters' identities.
func SecurityTeam(p *identity.Principal) bool {
	return p != nil && (p.Role == identity.RoleAdmin || p.Role == identity.RoleSecurity)
}

func (s *Service) publish(ctx context.Context, kind string, in *desk.Incident, summary string) {
	if s.publisher == nil || in == nil {
		return
	}
	e := notify.Event{Kind: kind, Severity: in.Severity, Category: in.Category, ClientIDs: in.ClientIDs, IncidentID: in.ID,
		Ref: in.Ref, Title: in.Ref + " " + in.Category, Summary: summary, Details: in.Title, At: s.now().UTC()}
	if s.baseURL != "" {
		e.URL = fmt.Sprintf("%s/incidents/%d", s.baseURL, in.ID)
	}
	if err := s.publisher.Publish(ctx, e); err != nil {
		s.log.Warn("publish incident event", "kind", kind, "incident", in.Ref, "err", err)
	}
}

// Upload is a file a person attaches.
type Upload struct {
	Name        string
	ContentType string
	Data        []byte
}

// sealFile encrypts data and describes it; the associated data binds the
// ciphertext to its hash so a row cannot be swapped for another.
func (s *Service) sealFile(kind string, u Upload) (*desk.File, []byte, error) {
	if len(u.Data) > desk.MaxFileBytes {
		return nil, nil, fmt.Errorf("%w: the file is larger than %d MiB", ErrInvalid, desk.MaxFileBytes>>20)
	}
	sum := sha256.Sum256(u.Data)
	f := &desk.File{OwnerKind: kind, Name: desk.CleanFileName(u.Name), ContentType: cleanType(u.ContentType),
		Size: int64(len(u.Data)), SHA256: hex.EncodeToString(sum[:])}
	sealed, err := s.keys.Seal(u.Data, []byte("incident-file:"+f.SHA256))
	if err != nil {
		return nil, nil, fmt.Errorf("seal file: %w", err)
	}
	return f, sealed, nil
}

func cleanType(ct string) string {
	ct = strings.TrimSpace(strings.ToLower(ct))
	if ct == "" || len(ct) > 100 || strings.ContainsAny(ct, "\r\n\"") {
		return "application/octet-stream"
	}
	return ct
}

// OpenFile decrypts a stored file; the caller has checked the owner's scope.
func (s *Service) OpenFile(ctx context.Context, id int64) (*desk.File, []byte, error) {
	f, sealed, err := s.st.IncidentFile(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	data, err := s.keys.Open(sealed, []byte("incident-file:"+f.SHA256))
	if err != nil {
		return nil, nil, fmt.Errorf("open file %d: %w", id, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != f.SHA256 {
		return nil, nil, fmt.Errorf("file %d: content does not match its recorded hash", id)
	}
	return f, data, nil
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

// severityOfAlert maps an alert severity onto the incident scale.
func severityOfAlert(sev string) string {
	if sev == alert.SeverityInfo {
		return desk.SeverityLow
	}
	if desk.ValidSeverity(sev) {
		return sev
	}
	return desk.SeverityMedium
}

// PlaybookYAML returns the newest YAML of a playbook.
func (s *Service) PlaybookYAML(ctx context.Context, key string) (string, error) {
	vs, err := s.st.IncidentPlaybooks(ctx)
	if err != nil {
		return "", err
	}
	v, ok := vs[key]
	if !ok {
		return "", fmt.Errorf("playbook %q: %w", key, store.ErrNotFound)
	}
	return v.Body, nil
}

// PlaybookHistory lists every version of a playbook, newest first.
func (s *Service) PlaybookHistory(ctx context.Context, key string) ([]store.PlaybookVersion, error) {
	return s.st.IncidentPlaybookHistory(ctx, key)
}

// SetPublisher sets where events go (the notification module's outbox);
// call it while wiring, before Run starts.
func (s *Service) SetPublisher(p notify.Publisher) { s.publisher = p }
