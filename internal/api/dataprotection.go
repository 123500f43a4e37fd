package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/dataprotection/discovery"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
)

// DataProtectionDeps are the services the dataprotection operations need; with them unset the
// module declares no operations.
type DataProtectionDeps struct {
	Service *discovery.Service
}

var (
	// dpUsers scan and redact texts and manage discovery locations.
	dpUsers = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO}
	// dpReaders also see the discovery results (auditors read them).
	dpReaders = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}
)

// DPScanInput is a scan request: one text or a list of texts, and the
// options of custodia scan.
type DPScanInput struct {
	// Text is one text to scan (or use Texts).
	Text *string `json:"text,omitempty"`
	// Texts are several texts; findings carry the index of theirs (item).
	Texts []string `json:"texts,omitempty"`
	// Format is how each text is read: text (default), jsonl, csv, json or eml.
	Format string `json:"format,omitempty"`
	// Lang is es, en or auto (default).
	Lang string `json:"lang,omitempty"`
	// Entities restricts the report (default: all but DATE_TIME).
	Entities []string `json:"entities,omitempty"`
	// FailClosed is the payment mode: any 12+ digits count as a card number.
	FailClosed bool `json:"fail_closed,omitempty"`
	// MinScore drops findings scored below it (0–1).
	MinScore float64 `json:"min_score,omitempty"`
}

// DPRedactInput is a redact request: a scan request plus the operator.
type DPRedactInput struct {
	DPScanInput
	// Operator is redact (default), mask, hash, token, encrypt, encrypt-siv or fpe.
	Operator string `json:"operator,omitempty"`
}

// declareDataProtection declares the dataprotection module's operations.
func (s *Server) declareDataProtection() {
	if s.dataprotection.Service == nil {
		return
	}
	get, post, patch, del := http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
	use := authz.Roles(roles(dpUsers)...)
	read := authz.Roles(roles(dpReaders)...).WithClientScoped()
	manage := authz.Roles(roles(dpUsers)...).WithClientScoped()
	id := pathParam("id", "the resource's id")
	s.add(&operation{Method: post, Path: "/dataprotection/scan", Policy: use, ID: "scanDataProtection", Tag: "dataprotection",
		Summary: "Find personal and card data in texts (e.g. a CRM note before it is stored): findings with byte offsets, entity, score, validator and a masked value, never the value itself. Audited with counts only.",
		Request: DPScanInput{}, Response: discovery.Result{}, Handler: s.dpScan})
	s.add(&operation{Method: post, Path: "/dataprotection/redact", Policy: use, ID: "redactDataProtection", Tag: "dataprotection",
		Summary: "Replace the personal and card data in texts with an operator's output (redact, mask, hash, token, encrypt, encrypt-siv, fpe; keys derived from the master key), keeping the format. Audited with counts only.",
		Request: DPRedactInput{}, Response: discovery.Result{}, Handler: s.dpRedact})

	s.add(&operation{Method: get, Path: "/dataprotection/locations", Policy: read, ID: "listDataProtectionLocations", Tag: "dataprotection",
		Summary: "List the discovery locations in scope with their latest run.", Params: pageParams,
		Response: List[DPLocationView]{}, Handler: s.dpListLocations})
	s.add(&operation{Method: post, Path: "/dataprotection/locations", Policy: manage, ID: "createDataProtectionLocation", Tag: "dataprotection",
		Summary: "Add a folder to scan on a schedule (under --dataprotection-allowed-roots), for a client, declared a cardholder-data environment or not.",
		Request: discovery.LocationInput{}, Status: http.StatusCreated, Response: store.DPLocation{}, Handler: s.dpCreateLocation})
	s.add(&operation{Method: get, Path: "/dataprotection/locations/{id}", Policy: read, ID: "getDataProtectionLocation", Tag: "dataprotection",
		Summary: "Get a discovery location with its latest run.", Params: []param{id}, Response: DPLocationView{}, Handler: s.dpGetLocation})
	s.add(&operation{Method: patch, Path: "/dataprotection/locations/{id}", Policy: manage, ID: "updateDataProtectionLocation", Tag: "dataprotection",
		Summary: "Change a discovery location (not one the server set up from its configuration or the demo).", Params: []param{id},
		Request: discovery.LocationInput{}, Response: store.DPLocation{}, Handler: s.dpUpdateLocation})
	s.add(&operation{Method: del, Path: "/dataprotection/locations/{id}", Policy: manage, ID: "deleteDataProtectionLocation", Tag: "dataprotection",
		Summary: "Remove a discovery location and its run history (not one the server set up from its configuration or the demo).", Params: []param{id}, Handler: s.dpDeleteLocation})
	s.add(&operation{Method: post, Path: "/dataprotection/locations/{id}/scan", Policy: manage, ID: "scanDataProtectionLocation", Tag: "dataprotection",
		Summary: "Scan a location now (queued; one scan of a location at a time).", Params: []param{id}, Status: http.StatusAccepted, Response: store.DPLocation{}, Handler: s.dpScanLocation})
	s.add(&operation{Method: get, Path: "/dataprotection/runs", Policy: read, ID: "listDataProtectionRuns", Tag: "dataprotection",
		Summary: "List discovery runs in scope, newest first: files, bytes, entity counts, newest finding.",
		Params:  append([]param{queryParam("location_id", "integer", "only this location's runs")}, pageParams...), Response: List[store.DPRun]{}, Handler: s.dpListRuns})
	s.add(&operation{Method: get, Path: "/dataprotection/runs/{id}", Policy: read, ID: "getDataProtectionRun", Tag: "dataprotection",
		Summary: "Get a discovery run.", Params: []param{id}, Response: store.DPRun{}, Handler: s.dpGetRun})
	s.add(&operation{Method: get, Path: "/dataprotection/runs/{id}/files", Policy: read, ID: "listDataProtectionRunFiles", Tag: "dataprotection",
		Summary: "The files of a run with findings (path, counts per entity, modification time) or errors; never the values.",
		Params:  append([]param{id}, pageParams...), Response: List[store.DPRunFile]{}, Handler: s.dpListRunFiles})
}

// DPLocationView is a location with its latest run, if any.
type DPLocationView struct {
	store.DPLocation
	LatestRun *store.DPRun `json:"latest_run,omitempty"`
}

// dpErr maps the module's errors to problem documents.
func dpErr(err error) error {
	var ie *discovery.InputError
	var fe discovery.FieldErrors
	var tl *discovery.TooLargeError
	switch {
	case errors.As(err, &tl):
		return httpErr(http.StatusRequestEntityTooLarge, fmt.Sprintf("The texts hold more than the %d bytes this server scans in one request; split them.", tl.Limit))
	case errors.As(err, &ie):
		return fieldErr(ie.Field, ie.Message)
	case errors.As(err, &fe):
		out := make([]problemFieldError, len(fe))
		for i, f := range fe {
			out[i] = problemFieldError{Field: f.Field, Message: f.Message}
		}
		return fieldErrs(out...)
	case errors.Is(err, discovery.ErrReadOnly):
		return httpErr(http.StatusConflict, "This location was set up by the server (its configuration or the demo); it cannot be changed here.")
	}
	return err
}

// dpReadBody caps the body at the configured text size plus room for the
// JSON around it.
func (s *Server) dpReadBody(w http.ResponseWriter, r *http.Request, v any) error {
	limit := s.dataprotection.Service.Config().APIMaxBytes
	if limit <= 0 {
		limit = 1 << 20
	}
	limit += limit/8 + 64<<10
	if r.ContentLength > limit {
		return httpErr(http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than the %d bytes this endpoint accepts; split the texts.", limit))
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return decode(r, v)
}

func (in *DPScanInput) request() (discovery.Request, error) {
	req := discovery.Request{Format: in.Format, ScanOptions: discovery.ScanOptions{Lang: in.Lang, Entities: in.Entities, FailClosed: in.FailClosed, MinScore: in.MinScore}}
	switch {
	case in.Text != nil && in.Texts != nil:
		return req, fieldErr("texts", "give text or texts, not both")
	case in.Text != nil:
		req.Texts = []string{*in.Text}
	default:
		req.Texts = in.Texts
	}
	return req, nil
}

func (s *Server) dpScan(w http.ResponseWriter, r *http.Request) error {
	var in DPScanInput
	if err := s.dpReadBody(w, r, &in); err != nil {
		return err
	}
	req, err := in.request()
	if err != nil {
		return err
	}
	return s.dpProcess(w, r, req, false)
}

func (s *Server) dpRedact(w http.ResponseWriter, r *http.Request) error {
	var in DPRedactInput
	if err := s.dpReadBody(w, r, &in); err != nil {
		return err
	}
	req, err := in.request()
	if err != nil {
		return err
	}
	req.Operator = in.Operator
	return s.dpProcess(w, r, req, true)
}

// dpProcess runs the request and audits it with counts only.
func (s *Server) dpProcess(w http.ResponseWriter, r *http.Request, req discovery.Request, redact bool) error {
	res, err := s.dataprotection.Service.Process(r.Context(), req, redact)
	if err != nil {
		return dpErr(err)
	}
	action, op := "dataprotection.scan_text", ""
	if redact {
		action, op = "dataprotection.redact_text", req.Operator
		if op == "" {
			op = "redact"
		}
	}
	if err := s.store.Audit(r.Context(), audit.Record{Action: action, ObjectType: "dataprotection", ObjectID: "api",
		Detail: res.AuditDetail(op)}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) dpListLocations(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	svc := s.dataprotection.Service
	locs, err := svc.Locations(r.Context(), principal(r))
	if err != nil {
		return err
	}
	latest, err := svc.LatestRuns(r.Context(), principal(r))
	if err != nil {
		return err
	}
	views := make([]DPLocationView, len(locs))
	for i, l := range locs {
		views[i] = DPLocationView{DPLocation: l}
		if run, ok := latest[l.ID]; ok {
			views[i].LatestRun = &run
		}
	}
	writeJSON(w, http.StatusOK, pageOf(views, limit, offset))
	return nil
}

func (s *Server) dpGetLocation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	svc := s.dataprotection.Service
	l, err := svc.Location(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	v := DPLocationView{DPLocation: *l}
	if runs, err := svc.Runs(r.Context(), principal(r), id, 1, 0); err != nil {
		return err
	} else if len(runs) > 0 {
		v.LatestRun = &runs[0]
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) dpCreateLocation(w http.ResponseWriter, r *http.Request) error {
	var in discovery.LocationInput
	if err := decode(r, &in); err != nil {
		return err
	}
	l, err := s.dataprotection.Service.CreateLocation(r.Context(), principal(r), in)
	if err != nil {
		return dpErr(err)
	}
	writeJSON(w, http.StatusCreated, l)
	return nil
}

func (s *Server) dpUpdateLocation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in discovery.LocationInput
	if err := decode(r, &in); err != nil {
		return err
	}
	l, err := s.dataprotection.Service.UpdateLocation(r.Context(), principal(r), id, in)
	if err != nil {
		return dpErr(err)
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (s *Server) dpDeleteLocation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.dataprotection.Service.DeleteLocation(r.Context(), principal(r), id); err != nil {
		return dpErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) dpScanLocation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	svc := s.dataprotection.Service
	if err := svc.ScanNow(r.Context(), principal(r), id); err != nil {
		return dpErr(err)
	}
	l, err := svc.Location(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, l)
	return nil
}

func (s *Server) dpListRuns(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	loc, err := queryInt(r, "location_id")
	if err != nil {
		return err
	}
	runs, err := s.dataprotection.Service.Runs(r.Context(), principal(r), loc, limit+1, offset)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(runs, limit, offset))
	return nil
}

func (s *Server) dpGetRun(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	run, err := s.dataprotection.Service.RunByID(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, run)
	return nil
}

func (s *Server) dpListRunFiles(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	files, err := s.dataprotection.Service.RunFiles(r.Context(), principal(r), id, limit+1, offset)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(files, limit, offset))
	return nil
}
