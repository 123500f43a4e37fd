package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/fleet/wire"
	"github.com/custodia/custodia/internal/store"
)

// Protocol serves the workstation agents' protocol (enrollment, check-in,
// desk reports) outside the user API. The routes are public to the
// router; each handler authenticates the device itself (enrollment
// secret or device credential).
type Protocol struct{ svc *Service }

// Protocol returns the agents' protocol handlers as a server registrar.
func (s *Service) Protocol() *Protocol { return &Protocol{svc: s} }

// Register mounts the device routes.
func (p *Protocol) Register(r *authz.Router) {
	r.Handle("POST "+wire.PathEnroll, authz.Public().WithDoc("A workstation agent enrolls with an enrollment secret."), http.HandlerFunc(p.enroll))
	r.Handle("POST "+wire.PathCheckin, authz.Public().WithDoc("An enrolled agent checks in (device credential)."), http.HandlerFunc(p.checkin))
	r.Handle("POST "+wire.PathReport, authz.Public().WithDoc("An enrolled agent sends a desk report (device credential)."), http.HandlerFunc(p.report))
}

// agentError writes a short JSON error the agent can show.
func agentError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// readBody reads at most limit bytes; more is 413.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	if r.ContentLength > limit {
		agentError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", limit))
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || int64(len(b)) > limit:
		agentError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", limit))
		return nil, false
	case err != nil:
		agentError(w, http.StatusBadRequest, "could not read the body")
		return nil, false
	}
	return b, true
}

func (p *Protocol) enroll(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, 64<<10)
	if !ok {
		return
	}
	var req wire.EnrollRequest
	if err := json.Unmarshal(body, &req); err != nil {
		agentError(w, http.StatusBadRequest, "enrollment body is not valid JSON")
		return
	}
	resp, err := p.svc.Enroll(r.Context(), &req)
	switch {
	case errors.Is(err, ErrInvalid):
		agentError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrUnauthorized):
		agentError(w, http.StatusUnauthorized, "enrollment secret refused (unknown, revoked, expired or used up)")
	case err != nil:
		p.svc.log.ErrorContext(r.Context(), "fleet: enroll", "err", err)
		agentError(w, http.StatusInternalServerError, "enrollment failed; try again later")
	default:
		writeJSON(w, resp)
	}
}

// authenticate checks the device headers; it writes the answer and returns
// nil when the request is refused.
func (p *Protocol) authenticate(w http.ResponseWriter, r *http.Request) (*store.FleetDeviceCred, int64) {
	dc, seq, err := p.svc.Authenticate(r.Context(), r.Header.Get(wire.HeaderDevice), r.Header.Get(wire.HeaderSeq), r.Header.Get(wire.HeaderTime))
	switch {
	case errors.Is(err, ErrUnauthorized):
		agentError(w, http.StatusUnauthorized, "device credential refused (unknown or revoked device, or clock out of sync)")
	case errors.Is(err, ErrReplay):
		agentError(w, http.StatusConflict, "request sequence already used (replay)")
	case err != nil:
		p.svc.log.ErrorContext(r.Context(), "fleet: authenticate device", "err", err)
		agentError(w, http.StatusInternalServerError, "try again later")
	default:
		return dc, seq
	}
	return nil, 0
}

func (p *Protocol) respondErr(ctx context.Context, w http.ResponseWriter, op string, err error) {
	switch {
	case errors.Is(err, ErrUnauthorized):
		agentError(w, http.StatusUnauthorized, "device credential refused")
	case errors.Is(err, ErrReplay):
		agentError(w, http.StatusConflict, "request sequence already used (replay)")
	default:
		p.svc.log.ErrorContext(ctx, "fleet: "+op, "err", err)
		agentError(w, http.StatusInternalServerError, "try again later")
	}
}

// maxHeartbeatBytes is the largest check-in body read before the device is
// authenticated (a heartbeat is about 150 bytes; the enrollment body, also
// read unauthenticated, may be 64 KiB).
const maxHeartbeatBytes = 8 << 10

func (p *Protocol) checkin(w http.ResponseWriter, r *http.Request) {
	limit := min(maxHeartbeatBytes, p.svc.cfg.MaxCheckinBytes)
	if r.ContentLength < 0 || r.ContentLength > limit {
		// A large body (or one of unknown length): authenticate first.
		dc, seq := p.authenticate(w, r)
		if dc == nil {
			return
		}
		body, ok := readBody(w, r, p.svc.cfg.MaxCheckinBytes)
		if !ok {
			return
		}
		req, err := wire.DecodeCheckin(body)
		if err != nil {
			agentError(w, http.StatusBadRequest, err.Error())
			return
		}
		p.checkinAuthenticated(w, r, dc, seq, req)
		return
	}
	// A small body: read it first; a heartbeat (no results) is
	// authenticated and stored in one statement.
	body, ok := readBody(w, r, limit)
	if !ok {
		return
	}
	req, err := wire.DecodeCheckin(body)
	if err == nil && len(req.Results) == 0 {
		resp, err := p.svc.Heartbeat(r.Context(), r.Header.Get(wire.HeaderDevice), r.Header.Get(wire.HeaderSeq), r.Header.Get(wire.HeaderTime), req)
		if err != nil {
			p.respondErr(r.Context(), w, "check-in", err)
			return
		}
		writeJSON(w, resp)
		return
	}
	// Results, or a malformed body: only an authenticated device is told.
	dc, seq := p.authenticate(w, r)
	if dc == nil {
		return
	}
	if err != nil {
		agentError(w, http.StatusBadRequest, err.Error())
		return
	}
	p.checkinAuthenticated(w, r, dc, seq, req)
}

func (p *Protocol) checkinAuthenticated(w http.ResponseWriter, r *http.Request, dc *store.FleetDeviceCred, seq int64, req *wire.CheckinRequest) {
	resp, err := p.svc.Checkin(r.Context(), dc, seq, req)
	if err != nil {
		p.respondErr(r.Context(), w, "check-in", err)
		return
	}
	writeJSON(w, resp)
}

func (p *Protocol) report(w http.ResponseWriter, r *http.Request) {
	dc, seq := p.authenticate(w, r)
	if dc == nil {
		return
	}
	body, ok := readBody(w, r, 64<<10)
	if !ok {
		return
	}
	req, err := wire.DecodeReport(body)
	if err != nil {
		agentError(w, http.StatusBadRequest, err.Error())
		return
	}
	resp, err := p.svc.Report(r.Context(), dc, seq, req)
	if err != nil {
		p.respondErr(r.Context(), w, "desk report", err)
		return
	}
	writeJSON(w, resp)
}
