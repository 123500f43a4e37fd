package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/fleet"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
)

// FleetDeps are the services the fleet operations need; with them unset the
// module declares no operations.
type FleetDeps struct {
	Service *fleet.Service
}

var (
	// fleetReaders see devices, results, exceptions and reports
	// (supervisors: their teams' devices).
	fleetReaders = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleAuditor, identity.RoleSupervisor}
	// fleetManagers create enrollment secrets, exceptions and policies and
	// revoke devices.
	fleetManagers = []identity.Role{identity.RoleAdmin, identity.RoleSecurity}
	// fleetSecretReaders see the enrollment secrets.
	fleetSecretReaders = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleAuditor}
)

// FleetSecretInput creates an enrollment secret.
type FleetSecretInput struct {
	Name      string     `json:"name"`
	ClientID  int64      `json:"client_id,omitempty"`
	SiteID    int64      `json:"site_id,omitempty"`
	TeamID    int64      `json:"team_id,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	MaxUses   int64      `json:"max_uses,omitempty"`
}

// FleetCreatedSecret is a new enrollment secret; Secret is shown only now.
type FleetCreatedSecret struct {
	Secret string                  `json:"secret"`
	Info   store.FleetEnrollSecret `json:"info"`
}

// FleetExceptionInput accepts a failing check.
type FleetExceptionInput struct {
	Policy    string    `json:"policy"`
	CheckID   string    `json:"check_id"`
	Scope     string    `json:"scope"`
	DeviceID  int64     `json:"device_id,omitempty"`
	TeamID    int64     `json:"team_id,omitempty"`
	ClientID  int64     `json:"client_id,omitempty"`
	Owner     string    `json:"owner"`
	Reason    string    `json:"reason"`
	ExpiresAt time.Time `json:"expires_at"`
}

// FleetOwnerInput sets a device's owner.
type FleetOwnerInput struct {
	PersonID int64 `json:"person_id"`
}

// FleetPolicyInput assigns a custom policy.
type FleetPolicyInput struct {
	Name     string `json:"name,omitempty" doc:"labels the assignment; empty takes the policy's id"`
	OS       string `json:"os,omitempty"`
	ClientID int64  `json:"client_id,omitempty"`
	SiteID   int64  `json:"site_id,omitempty"`
	TeamID   int64  `json:"team_id,omitempty"`
	Source   string `json:"source"`
}

// declareFleet declares the fleet module's operations.
func (s *Server) declareFleet() {
	if s.fleet.Service == nil {
		return
	}
	get, post, patch, del := http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
	pol := func(rs []identity.Role) authz.Policy { return authz.Roles(roles(rs)...).WithClientScoped() }
	id := pathParam("id", "the resource's id")
	devFilters := []param{
		queryParam("q", "string", "hostname contains"),
		queryParam("client_id", "integer", "only this client's devices"),
		queryParam("site_id", "integer", "only this site"),
		queryParam("team_id", "integer", "only this team"),
		queryParam("os", "string", "linux, windows or darwin"),
		queryParam("stale", "boolean", "only stale (true) or fresh (false) devices"),
		queryParam("revoked", "boolean", "only revoked (true) or active (false) devices"),
		queryParam("failing_check", "string", "only devices where this check id currently fails"),
		queryParam("failing_policy", "string", "with failing_check: the check's policy"),
	}
	checkParams := []param{
		{Name: "check_id", In: "query", Type: "string", Required: true, Doc: "the check's id"},
		queryParam("policy", "string", "the check's policy (any if empty)"),
		queryParam("result", "string", "only this result (passed, failed, not_applicable, error)"),
	}
	s.add(&operation{Method: get, Path: "/fleet/devices", Policy: pol(fleetReaders), ID: "listFleetDevices", Tag: "fleet",
		Summary: "List the enrolled workstations in scope with owner, site, team, client, OS, agent version, last seen, compliance score and stale flag.",
		Params:  append(devFilters, pageParams...), Response: List[fleet.DeviceRow]{}, Handler: s.listFleetDevices})
	s.add(&operation{Method: get, Path: "/fleet/devices.csv", Policy: pol(fleetReaders), ID: "exportFleetDevices", Tag: "fleet",
		Summary: "Export the devices matching the filters as CSV (up to 100,000).", Params: devFilters, Response: "", ResponseType: "text/csv", Handler: s.exportFleetDevices})
	s.add(&operation{Method: get, Path: "/fleet/devices/{id}", Policy: pol(fleetReaders), ID: "getFleetDevice", Tag: "fleet",
		Summary: "A device: current results with evidence and failing-since, history of changes, exceptions that apply, desk reports.",
		Params:  []param{id}, Response: fleet.DeviceDetail{}, Handler: s.getFleetDevice})
	s.add(&operation{Method: post, Path: "/fleet/devices/{id}/revoke", Policy: pol(fleetManagers), ID: "revokeFleetDevice", Tag: "fleet",
		Summary: "Revoke a device: its next request is refused; it must enroll again with a secret.", Params: []param{id}, Handler: s.revokeFleetDevice})
	s.add(&operation{Method: patch, Path: "/fleet/devices/{id}", Policy: pol(fleetManagers), ID: "updateFleetDevice", Tag: "fleet",
		Summary: "Set a device's owner (a person in scope; 0 clears it).", Params: []param{id}, Request: FleetOwnerInput{}, Response: fleet.DeviceRow{}, Handler: s.updateFleetDevice})
	s.add(&operation{Method: get, Path: "/fleet/checks", Policy: pol(fleetReaders), ID: "listFleetChecks", Tag: "fleet",
		Summary: "Every check reported in scope with its passed/failed counts, most failures first.", Response: List[store.FleetCheckSummary]{}, Handler: s.listFleetChecks})
	s.add(&operation{Method: get, Path: "/fleet/check", Policy: pol(fleetReaders), ID: "getFleetCheck", Tag: "fleet",
		Summary: "The fleet view of one check: its result on every device in scope, failures first (accepted ones marked).",
		Params:  append(checkParams, pageParams...), Response: List[store.FleetResult]{}, Handler: s.getFleetCheck})
	s.add(&operation{Method: get, Path: "/fleet/check.csv", Policy: pol(fleetReaders), ID: "exportFleetCheck", Tag: "fleet",
		Summary: "Export the fleet view of one check as CSV.", Params: checkParams, Response: "", ResponseType: "text/csv", Handler: s.exportFleetCheck})
	s.add(&operation{Method: get, Path: "/fleet/exceptions", Policy: pol(fleetReaders), ID: "listFleetExceptions", Tag: "fleet",
		Summary: "List exceptions (accepted failures) in scope.",
		Params: append([]param{queryParam("state", "string", "active or expired (default all)"), queryParam("check_id", "string", "only this check"),
			queryParam("device_id", "integer", "only exceptions that apply to this device")}, pageParams...),
		Response: List[store.FleetException]{}, Handler: s.listFleetExceptions})
	s.add(&operation{Method: post, Path: "/fleet/exceptions", Policy: pol(fleetManagers), ID: "createFleetException", Tag: "fleet",
		Summary: "Accept a failing check on a device, a team's devices or a client's devices until an expiry (at most a year).",
		Request: FleetExceptionInput{}, Status: http.StatusCreated, Response: store.FleetException{}, Handler: s.createFleetException})
	s.add(&operation{Method: del, Path: "/fleet/exceptions/{id}", Policy: pol(fleetManagers), ID: "revokeFleetException", Tag: "fleet",
		Summary: "End an exception now.", Params: []param{id}, Handler: s.revokeFleetException})
	s.add(&operation{Method: get, Path: "/fleet/secrets", Policy: pol(fleetSecretReaders), ID: "listFleetSecrets", Tag: "fleet",
		Summary: "List enrollment secrets (never the secrets themselves).", Response: List[store.FleetEnrollSecret]{}, Handler: s.listFleetSecrets})
	s.add(&operation{Method: post, Path: "/fleet/secrets", Policy: pol(fleetManagers), ID: "createFleetSecret", Tag: "fleet",
		Summary: "Create an enrollment secret for a client or site (and optionally a team); the secret is in this answer only.",
		Request: FleetSecretInput{}, Status: http.StatusCreated, Response: FleetCreatedSecret{}, Handler: s.createFleetSecret})
	s.add(&operation{Method: del, Path: "/fleet/secrets/{id}", Policy: pol(fleetManagers), ID: "revokeFleetSecret", Tag: "fleet",
		Summary: "Revoke an enrollment secret (devices enrolled with it keep working).", Params: []param{id}, Handler: s.revokeFleetSecret})
	s.add(&operation{Method: get, Path: "/fleet/reports", Policy: pol(fleetReaders), ID: "listFleetReports", Tag: "fleet",
		Summary: "List desk reports sent with custodia-agent report, newest first.", Params: append([]param{queryParam("device_id", "integer", "only this device")}, pageParams...),
		Response: List[store.FleetReport]{}, Handler: s.listFleetReports})
	s.add(&operation{Method: get, Path: "/fleet/policies", Policy: pol(fleetSecretReaders), ID: "listFleetPolicies", Tag: "fleet",
		Summary: "List the custom policies assigned in addition to the built-in baseline.", Response: List[store.FleetPolicy]{}, Handler: s.listFleetPolicies})
	s.add(&operation{Method: post, Path: "/fleet/policies", Policy: pol(fleetManagers), ID: "createFleetPolicy", Tag: "fleet",
		Summary: "Assign a custom policy (Wazuh SCA YAML, either dialect) to a client, site or team; devices fetch it at their next check-in.",
		Request: FleetPolicyInput{}, Status: http.StatusCreated, Response: store.FleetPolicy{}, Handler: s.createFleetPolicy})
	s.add(&operation{Method: del, Path: "/fleet/policies/{id}", Policy: pol(fleetManagers), ID: "deleteFleetPolicy", Tag: "fleet",
		Summary: "Remove a custom policy assignment.", Params: []param{id}, Handler: s.deleteFleetPolicy})
}

// fleetErr maps the fleet's validation errors to 422.
func fleetErr(err error) error {
	var ie *fleet.InputError
	if errors.As(err, &ie) {
		return httpErr(http.StatusUnprocessableEntity, ie.Msg)
	}
	return err
}

// fleetDeviceFilter reads the device filters.
func fleetDeviceFilter(r *http.Request) (store.FleetDeviceFilter, error) {
	var f store.FleetDeviceFilter
	var err error
	if f.Query, err = queryString(r, "q", 200); err != nil {
		return f, err
	}
	if f.ClientID, err = queryInt(r, "client_id"); err != nil {
		return f, err
	}
	if f.SiteID, err = queryInt(r, "site_id"); err != nil {
		return f, err
	}
	if f.TeamID, err = queryInt(r, "team_id"); err != nil {
		return f, err
	}
	if f.OS, err = queryString(r, "os", 20); err != nil {
		return f, err
	}
	switch f.OS {
	case "", "linux", "windows", "darwin":
	default:
		return f, fieldErr("os", "must be linux, windows or darwin")
	}
	stale, err := queryBool(r, "stale")
	if err != nil {
		return f, err
	}
	if stale != nil {
		f.Stale, f.Fresh = *stale, !*stale
	}
	if f.Revoked, err = queryBool(r, "revoked"); err != nil {
		return f, err
	}
	if f.FailingCheck, err = queryString(r, "failing_check", 256); err != nil {
		return f, err
	}
	if f.FailingPolicy, err = queryString(r, "failing_policy", 256); err != nil {
		return f, err
	}
	return f, nil
}

func (s *Server) listFleetDevices(w http.ResponseWriter, r *http.Request) error {
	f, err := fleetDeviceFilter(r)
	if err != nil {
		return err
	}
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	f.Limit, f.Offset = limit+1, offset
	rows, err := s.fleet.Service.Devices(r.Context(), scope(r), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(rows, limit, offset))
	return nil
}

func (s *Server) exportFleetDevices(w http.ResponseWriter, r *http.Request) error {
	f, err := fleetDeviceFilter(r)
	if err != nil {
		return err
	}
	f.Limit = 100000
	rows, err := s.fleet.Service.Devices(r.Context(), scope(r), f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="devices.csv"`)
	return fleet.WriteDevicesCSV(w, rows)
}

func (s *Server) getFleetDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := s.fleet.Service.Device(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) revokeFleetDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.fleet.Service.Revoke(r.Context(), scope(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) updateFleetDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in FleetOwnerInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.PersonID < 0 {
		return fieldErr("person_id", "must be a person's id or 0")
	}
	if err := s.fleet.Service.SetOwner(r.Context(), scope(r), id, in.PersonID); err != nil {
		if errors.Is(err, fleet.ErrUnknownPerson) {
			return fieldErr("person_id", "is not a known person")
		}
		return err
	}
	rows, err := s.fleet.Service.Device(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rows.Device)
	return nil
}

func (s *Server) listFleetChecks(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.store.FleetChecks(r.Context(), scope(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(cs, len(cs)+1, 0))
	return nil
}

func fleetCheckFilter(r *http.Request) (store.FleetCheckFilter, error) {
	var f store.FleetCheckFilter
	var err error
	if f.CheckID, err = queryString(r, "check_id", 256); err != nil {
		return f, err
	}
	if f.CheckID == "" {
		return f, fieldErr("check_id", "is required")
	}
	if f.Policy, err = queryString(r, "policy", 256); err != nil {
		return f, err
	}
	if f.Result, err = queryString(r, "result", 20); err != nil {
		return f, err
	}
	switch f.Result {
	case "", "passed", "failed", "not_applicable", "error":
	default:
		return f, fieldErr("result", "must be passed, failed, not_applicable or error")
	}
	return f, nil
}

func (s *Server) getFleetCheck(w http.ResponseWriter, r *http.Request) error {
	f, err := fleetCheckFilter(r)
	if err != nil {
		return err
	}
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	f.Limit, f.Offset = limit+1, offset
	rs, err := s.fleet.Service.CheckView(r.Context(), scope(r), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(rs, limit, offset))
	return nil
}

func (s *Server) exportFleetCheck(w http.ResponseWriter, r *http.Request) error {
	f, err := fleetCheckFilter(r)
	if err != nil {
		return err
	}
	f.Limit = 100000
	rs, err := s.fleet.Service.CheckView(r.Context(), scope(r), f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="check-`+safeFilename(f.CheckID)+`.csv"`)
	return fleet.WriteCheckCSV(w, rs)
}

func safeFilename(s string) string {
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			return c
		}
		return '_'
	}, s)
}

func (s *Server) listFleetExceptions(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	f := store.FleetExceptionFilter{Limit: limit + 1, Offset: offset}
	switch st, _ := queryString(r, "state", 20); st {
	case "":
	case "active":
		f.Active = true
	case "expired":
		f.Expired = true
	default:
		return fieldErr("state", "must be active or expired")
	}
	if f.CheckID, err = queryString(r, "check_id", 256); err != nil {
		return err
	}
	if f.DeviceID, err = queryInt(r, "device_id"); err != nil {
		return err
	}
	if f.DeviceID != 0 {
		if _, err := s.store.FleetDevice(r.Context(), scope(r), f.DeviceID); err != nil {
			return err
		}
	}
	es, err := s.store.FleetExceptions(r.Context(), scope(r), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(es, limit, offset))
	return nil
}

func (s *Server) createFleetException(w http.ResponseWriter, r *http.Request) error {
	var in FleetExceptionInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := checkClients(r, "client_id", in.ClientID); err != nil {
		return err
	}
	e, err := s.fleet.Service.CreateException(r.Context(), scope(r), fleet.ExceptionInput{Policy: in.Policy, CheckID: in.CheckID, Scope: in.Scope,
		DeviceID: in.DeviceID, TeamID: in.TeamID, ClientID: in.ClientID, Owner: in.Owner, Reason: in.Reason, ExpiresAt: in.ExpiresAt, CreatedBy: principal(r).Actor()})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fieldErr(in.Scope+"_id", "is not known")
		}
		return fleetErr(err)
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func (s *Server) revokeFleetException(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.InTx(r.Context(), func(tx *store.Tx) error { return tx.FleetExceptionRevoke(r.Context(), scope(r), id) }); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listFleetSecrets(w http.ResponseWriter, r *http.Request) error {
	es, err := s.store.FleetSecrets(r.Context(), scope(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(es, len(es)+1, 0))
	return nil
}

func (s *Server) createFleetSecret(w http.ResponseWriter, r *http.Request) error {
	var in FleetSecretInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := checkClients(r, "client_id", in.ClientID); err != nil {
		return err
	}
	plain, e, err := s.fleet.Service.CreateSecret(r.Context(), scope(r), fleet.SecretInput{Name: in.Name, ClientID: in.ClientID, SiteID: in.SiteID,
		TeamID: in.TeamID, ExpiresAt: in.ExpiresAt, MaxUses: in.MaxUses, CreatedBy: principal(r).Actor()})
	if err != nil {
		return fleetErr(err)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, FleetCreatedSecret{Secret: plain, Info: *e})
	return nil
}

func (s *Server) revokeFleetSecret(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.InTx(r.Context(), func(tx *store.Tx) error { return tx.FleetSecretRevoke(r.Context(), scope(r), id) }); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listFleetReports(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	dev, err := queryInt(r, "device_id")
	if err != nil {
		return err
	}
	rs, err := s.store.FleetReports(r.Context(), scope(r), dev, limit+1, offset)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(rs, limit, offset))
	return nil
}

func (s *Server) listFleetPolicies(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.store.FleetPolicies(r.Context(), scope(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(ps, len(ps)+1, 0))
	return nil
}

func (s *Server) createFleetPolicy(w http.ResponseWriter, r *http.Request) error {
	var in FleetPolicyInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := checkClients(r, "client_id", in.ClientID); err != nil {
		return err
	}
	p, err := s.fleet.Service.AddPolicy(r.Context(), scope(r), fleet.PolicyInput{Name: in.Name, OS: in.OS, ClientID: in.ClientID, SiteID: in.SiteID, TeamID: in.TeamID, Source: in.Source})
	if err != nil {
		return fleetErr(err)
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Server) deleteFleetPolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.fleet.Service.DeletePolicy(r.Context(), scope(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
