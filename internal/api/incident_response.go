package api

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/incident/response"
	"github.com/custodia/custodia/internal/store"
)

// IncidentResponseDeps are the services the incident response operations need; with them unset
// the module declares no operations.
type IncidentResponseDeps struct {
	// Response runs the regulatory clocks, the breach register and drafts.
	Response *response.Service
	// Notify manages notification channels and deliveries (declareNotify).
	Notify NotifyService
}

// Role groups of the response module: governance reads; the officers who
// act on a breach (administrators, security, the DPO) write.
var (
	responseReaders = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}
	responseWriters = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO}
)

// DraftInput is an edited notification draft.
type DraftInput struct {
	Lang   string            `json:"lang"`
	Fields map[string]string `json:"fields"`
}

// declareIncidentResponse declares the incident response operations.
func (s *Server) declareIncidentResponse() {
	s.declareNotify()
	if s.response.Response == nil {
		return
	}
	get, post, patch := http.MethodGet, http.MethodPost, http.MethodPatch
	read := authz.Roles(roles(responseReaders)...).WithClientScoped()
	write := authz.Roles(roles(responseWriters)...).WithClientScoped()
	id := pathParam("id", "the incident's id")
	cid := pathParam("cid", "the clock's id")
	lang := queryParam("lang", "string", "language of the draft: en or es (default en)")
	tag := "incident-response"

	s.add(&operation{Method: get, Path: "/incidents/{id}/regulatory", Policy: read, ID: "getIncidentRegulatory", Tag: tag,
		Summary: "The incident's regulatory view: became-aware time and its history, regimes, breach record and clocks.",
		Params:  []param{id}, Response: response.View{}, Handler: s.getRegulatory})
	s.add(&operation{Method: post, Path: "/incidents/{id}/aware", Policy: write, ID: "setIncidentAware", Tag: tag,
		Summary: "Record or change when the organisation became aware of the incident, with the reason; the clocks restart from it.",
		Params:  []param{id}, Request: response.AwareInput{}, Response: response.View{}, Handler: s.setAware})
	s.add(&operation{Method: post, Path: "/incidents/{id}/breach", Policy: write, ID: "flagIncidentBreach", Tag: tag,
		Summary: "Flag the incident as a personal-data breach (or update its register entry): starts the AEPD clock, one clock per affected client and the Art. 34 decision.",
		Params:  []param{id}, Request: response.BreachInput{}, Response: store.ResponseBreach{}, Handler: s.flagBreach})
	s.add(&operation{Method: post, Path: "/incidents/{id}/art34", Policy: write, ID: "decideIncidentArt34", Tag: tag,
		Summary: "Record whether data subjects must be told (GDPR Art. 34) and why.",
		Params:  []param{id}, Request: response.Art34Input{}, Response: response.View{}, Handler: s.decideArt34})
	s.add(&operation{Method: post, Path: "/incidents/{id}/regimes", Policy: write, ID: "setIncidentRegimes", Tag: tag,
		Summary: "Classify the incident under NIS2 (significant), ENS (danger level) and DORA (major since); starts the matching clocks.",
		Params:  []param{id}, Request: response.FactsInput{}, Response: response.View{}, Handler: s.setRegimes})
	s.add(&operation{Method: post, Path: "/incidents/{id}/clocks/{cid}/sent", Policy: write, ID: "recordClockSending", Tag: tag,
		Summary: "Record when, how and with which reference a clock's notification was sent (reasons required when late), or that it is not required.",
		Params:  []param{id, cid}, Request: response.SendingInput{}, Response: store.ResponseClock{}, Handler: s.recordSending})
	s.add(&operation{Method: get, Path: "/incidents/{id}/clocks/{cid}/draft", Policy: read, ID: "getClockDraft", Tag: tag,
		Summary: "The clock's notification draft: the newest saved version, or filled from the incident.",
		Params:  []param{id, cid, lang, queryParam("version", "integer", "a saved version (default the newest)")}, Response: response.Draft{}, Handler: s.getDraft})
	s.add(&operation{Method: post, Path: "/incidents/{id}/clocks/{cid}/draft", Policy: write, ID: "saveClockDraft", Tag: tag,
		Summary: "Save the edited draft as a new version.", Params: []param{id, cid}, Request: DraftInput{}, Response: response.Draft{}, Handler: s.saveDraft})
	s.add(&operation{Method: get, Path: "/incidents/{id}/clocks/{cid}/draft/versions", Policy: read, ID: "listClockDraftVersions", Tag: tag,
		Summary: "The saved versions of the clock's draft, newest first (open one with ?version= on the draft).",
		Params:  append([]param{id, cid}, pageParams...), Response: List[store.ResponseDraft]{}, Handler: s.listDraftVersions})
	s.add(&operation{Method: get, Path: "/incidents/{id}/clocks/{cid}/draft.pdf", Policy: read, ID: "getClockDraftPDF", Tag: tag,
		Summary: "The draft as a PDF document.", Params: []param{id, cid, lang}, Response: "", ResponseType: "application/pdf", Handler: s.draftPDF})
	s.add(&operation{Method: get, Path: "/incidents/{id}/clocks/{cid}/draft.txt", Policy: read, ID: "getClockDraftText", Tag: tag,
		Summary: "The draft as plain text to paste into the recipient's form.", Params: []param{id, cid, lang}, Response: "", ResponseType: "text/plain", Handler: s.draftText})
	s.add(&operation{Method: get, Path: "/clocks", Policy: read, ID: "listClocks", Tag: tag,
		Summary: "Every active regulatory clock across incidents in the caller's scope, soonest deadline first.",
		Params:  append([]param{queryParam("state", "string", "only running, met, late, missed or not_required clocks")}, pageParams...), Response: List[store.ResponseClock]{}, Handler: s.listClocks})
	s.add(&operation{Method: get, Path: "/breaches", Policy: read, ID: "listBreaches", Tag: tag,
		Summary: "The breach register (GDPR Art. 33(5)): every personal-data breach, notified or not, with the decisions and dates.",
		Params:  pageParams, Response: List[store.ResponseBreach]{}, Handler: s.listBreaches})
	s.add(&operation{Method: get, Path: "/breaches.csv", Policy: read, ID: "exportBreaches", Tag: tag,
		Summary: "The breach register as CSV.", Response: "", ResponseType: "text/csv", Handler: s.exportBreaches})
	s.add(&operation{Method: get, Path: "/response/clients", Policy: read, ID: "listClientContracts", Tag: tag,
		Summary: "The clients' contract settings: breach-notification deadline, DORA financial entity, notification contact.",
		Params:  pageParams, Response: List[store.ResponseClientSettings]{}, Handler: s.listClientContracts})
	s.add(&operation{Method: get, Path: "/response/clients/{id}", Policy: read, ID: "getClientContract", Tag: tag,
		Summary: "One client's contract settings.", Params: []param{pathParam("id", "the client's id")}, Response: store.ResponseClientSettings{}, Handler: s.getClientContract})
	s.add(&operation{Method: patch, Path: "/response/clients/{id}", Policy: write, ID: "updateClientContract", Tag: tag,
		Summary: "Change a client's contract settings; the deadlines of its running clocks follow.",
		Params:  []param{pathParam("id", "the client's id")}, Request: response.ClientSettingsInput{}, Response: store.ResponseClientSettings{}, Handler: s.updateClientContract})
}

func (s *Server) getRegulatory(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := s.response.Response.View(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// incidentInScope answers 404 before the body is read when the incident is
// not the caller's to see.
func (s *Server) incidentInScope(r *http.Request) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, err
	}
	if _, err := s.store.ResponseIncident(r.Context(), scope(r), id); err != nil {
		return 0, err
	}
	return id, nil
}

func (s *Server) respondView(w http.ResponseWriter, r *http.Request, id int64) error {
	v, err := s.response.Response.View(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) setAware(w http.ResponseWriter, r *http.Request) error {
	id, err := s.incidentInScope(r)
	if err != nil {
		return err
	}
	var in response.AwareInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.response.Response.SetAware(r.Context(), principal(r), id, in); err != nil {
		return err
	}
	return s.respondView(w, r, id)
}

func (s *Server) flagBreach(w http.ResponseWriter, r *http.Request) error {
	id, err := s.incidentInScope(r)
	if err != nil {
		return err
	}
	var in response.BreachInput
	if err := decode(r, &in); err != nil {
		return err
	}
	b, err := s.response.Response.FlagBreach(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (s *Server) decideArt34(w http.ResponseWriter, r *http.Request) error {
	id, err := s.incidentInScope(r)
	if err != nil {
		return err
	}
	var in response.Art34Input
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.response.Response.DecideArt34(r.Context(), principal(r), id, in); err != nil {
		return err
	}
	return s.respondView(w, r, id)
}

func (s *Server) setRegimes(w http.ResponseWriter, r *http.Request) error {
	id, err := s.incidentInScope(r)
	if err != nil {
		return err
	}
	var in response.FactsInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.response.Response.SetFacts(r.Context(), principal(r), id, in); err != nil {
		return err
	}
	return s.respondView(w, r, id)
}

// clockInScope resolves {id} and {cid} to a clock the caller may see.
func (s *Server) clockInScope(r *http.Request) (int64, int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, 0, err
	}
	cid, err := pathID(r, "cid")
	if err != nil {
		return 0, 0, err
	}
	if _, err := s.store.ResponseClock(r.Context(), scope(r), id, cid); err != nil {
		return 0, 0, err
	}
	return id, cid, nil
}

func (s *Server) recordSending(w http.ResponseWriter, r *http.Request) error {
	id, cid, err := s.clockInScope(r)
	if err != nil {
		return err
	}
	var in response.SendingInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.response.Response.RecordSending(r.Context(), principal(r), id, cid, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) loadDraft(r *http.Request) (*response.Draft, error) {
	id, cid, err := s.clockInScope(r)
	if err != nil {
		return nil, err
	}
	lang, err := queryString(r, "lang", 5)
	if err != nil {
		return nil, err
	}
	if lang != "" && lang != "en" && lang != "es" {
		return nil, fieldErr("lang", "must be en or es")
	}
	version, err := queryInt(r, "version")
	if err != nil {
		return nil, err
	}
	if version < 0 {
		return nil, fieldErr("version", "must be positive")
	}
	return s.response.Response.Draft(r.Context(), scope(r), id, cid, lang, version)
}

func (s *Server) getDraft(w http.ResponseWriter, r *http.Request) error {
	d, err := s.loadDraft(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) saveDraft(w http.ResponseWriter, r *http.Request) error {
	id, cid, err := s.clockInScope(r)
	if err != nil {
		return err
	}
	var in DraftInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Lang != "" && in.Lang != "en" && in.Lang != "es" {
		return fieldErr("lang", "must be en or es")
	}
	d, err := s.response.Response.SaveDraft(r.Context(), principal(r), id, cid, in.Lang, in.Fields)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) listDraftVersions(w http.ResponseWriter, r *http.Request) error {
	id, cid, err := s.clockInScope(r)
	if err != nil {
		return err
	}
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	list, err := s.response.Response.DraftVersions(r.Context(), scope(r), id, cid)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, limit, offset))
	return nil
}

func draftFileName(d *response.Draft, ext string) string {
	return fmt.Sprintf("%s-%s-v%d.%s", d.Ref, d.Kind, d.Version, ext)
}

func (s *Server) draftPDF(w http.ResponseWriter, r *http.Request) error {
	d, err := s.loadDraft(r)
	if err != nil {
		return err
	}
	b, err := d.PDF()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="`+draftFileName(d, "pdf")+`"`)
	_, _ = w.Write(b)
	return nil
}

func (s *Server) draftText(w http.ResponseWriter, r *http.Request) error {
	d, err := s.loadDraft(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="`+draftFileName(d, "txt")+`"`)
	_, _ = w.Write([]byte(d.Text()))
	return nil
}

func (s *Server) listClocks(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	state, err := queryString(r, "state", 20)
	if err != nil {
		return err
	}
	switch state {
	case "", "running", "met", "late", "missed", response.StateNotRequired:
	default:
		return fieldErr("state", "must be running, met, late, missed or not_required")
	}
	list, err := s.store.ResponseClockOverview(r.Context(), scope(r), store.ResponseClockFilter{State: state})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, limit, offset))
	return nil
}

func (s *Server) listBreaches(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	list, err := s.store.ResponseBreaches(r.Context(), scope(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, limit, offset))
	return nil
}

func (s *Server) exportBreaches(w http.ResponseWriter, r *http.Request) error {
	list, err := s.store.ResponseBreaches(r.Context(), scope(r))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := response.WriteBreachesCSV(&buf, list); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="breach-register.csv"`)
	_, _ = w.Write(buf.Bytes())
	return nil
}

func (s *Server) listClientContracts(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := page(r)
	if err != nil {
		return err
	}
	list, err := s.store.ResponseClientSettingsList(r.Context(), scope(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, limit, offset))
	return nil
}

func (s *Server) getClientContract(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	c, err := s.store.ResponseClientSettingsOf(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) updateClientContract(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.store.ResponseClientSettingsOf(r.Context(), scope(r), id); err != nil {
		return err
	}
	var in response.ClientSettingsInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.response.Response.SaveClientSettings(r.Context(), principal(r), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
