package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custodia/custodia/internal/fleet/wire"
	"github.com/custodia/custodia/internal/store"
)

// SetReportIntake sets where desk reports go (the incident module); the
// reports already stored and not yet handed over are forwarded by the next
// sweep, which it triggers.
func (s *Service) SetReportIntake(in ReportIntake) {
	s.mu.Lock()
	s.intake = in
	s.mu.Unlock()
	s.wake()
}

func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func deviceReport(r *store.FleetReport) DeviceReport {
	return DeviceReport{ID: r.ID, DeviceID: r.DeviceID, Hostname: r.Hostname, ClientID: r.ClientID, SiteID: r.SiteID, TeamID: r.TeamID,
		PersonID: r.PersonID, SessionUser: r.SessionUser, OS: r.OS, AgentVersion: r.AgentVer, Category: r.Category, Text: r.Text,
		ReportedAt: r.ReportedAt, ReceivedAt: r.ReceivedAt}
}

// Report stores a desk report from device dc (a resend with the same key is
// stored once) and, when an intake is set, hands it over at once and
// answers its reference; otherwise the report waits for the intake.
func (s *Service) Report(ctx context.Context, dc *store.FleetDeviceCred, seq int64, req *wire.ReportRequest) (*wire.ReportResponse, error) {
	now := s.now().UTC()
	reported := req.ReportedAt
	if reported.IsZero() || reported.After(now.Add(s.cfg.ClockSkew)) {
		reported = now
	}
	var stored *store.FleetReport
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.FleetCheckinSeq(ctx, dc.ID, dc.CredHash, seq); err != nil {
			return err
		}
		var err error
		stored, err = tx.FleetReportAdd(ctx, dc, &store.FleetReport{SessionUser: req.SessionUser, Category: req.Category, Text: req.Text,
			Key: req.Key, ReportedAt: reported.UTC(), ReceivedAt: now})
		return err
	})
	if errors.Is(err, store.ErrFleetReplay) {
		return nil, ErrReplay
	}
	if err != nil {
		return nil, err
	}
	resp := &wire.ReportResponse{ID: stored.ID, Reference: stored.Reference}
	if stored.Reference == "" {
		if ref, err := s.forward(ctx, stored); err == nil {
			resp.Reference = ref
		}
	}
	return resp, nil
}

// forward hands one stored report to the intake and records the outcome;
// with no intake set it does nothing.
func (s *Service) forward(ctx context.Context, r *store.FleetReport) (string, error) {
	s.mu.Lock()
	in := s.intake
	s.mu.Unlock()
	if in == nil {
		return "", errors.New("no report intake")
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	ref, err := in.DeviceReport(cctx, deviceReport(r))
	cancel()
	if err == nil && ref == "" {
		err = errors.New("the intake answered no reference")
	}
	if rerr := s.st.FleetReportForwarded(ctx, r.ID, ref, err); rerr != nil {
		return "", rerr
	}
	if err != nil {
		s.log.Warn("fleet: desk report not handed over yet", "report", r.ID, "err", err)
		return "", err
	}
	return ref, nil
}

// ForwardReports hands every pending desk report to the intake, oldest
// first (nothing to do without an intake).
func (s *Service) ForwardReports(ctx context.Context) error {
	s.mu.Lock()
	in := s.intake
	s.mu.Unlock()
	if in == nil {
		return nil
	}
	pending, err := s.st.FleetReportsPending(ctx, 200)
	if err != nil {
		return err
	}
	for i := range pending {
		if _, err := s.forward(ctx, &pending[i]); err != nil {
			return fmt.Errorf("forward desk report %d: %w", pending[i].ID, err)
		}
	}
	return nil
}
