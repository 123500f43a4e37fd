package api

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/policy"
)

func (s *Server) declareISMSRiskPolicies() {
	get, post, patch := http.MethodGet, http.MethodPost, http.MethodPatch
	read := authz.Roles(roles(ismsrReaders)...).WithClientScoped()
	write := authz.Roles(roles(ismsrWriters)...).WithClientScoped()
	owners := authz.Roles(roles(ismsrOwners)...).WithClientScoped()
	self := authz.Authenticated()
	id := pathParam("id", "the resource's id")
	vid := pathParam("id", "the policy version's id")

	s.add(&operation{Method: get, Path: "/isms/policies", Policy: read, ID: "listPolicies", Tag: "isms-policies",
		Summary: "List the policies and procedures in scope with their published version.", Response: List[policy.Policy]{}, Handler: s.listPolicies})
	s.add(&operation{Method: post, Path: "/isms/policies", Policy: write, ID: "createPolicy", Tag: "isms-policies",
		Summary: "Create a policy or procedure (its text comes as versions).", Request: PolicyInput{}, Status: http.StatusCreated,
		Response: policy.Policy{}, Handler: s.createPolicy})
	s.add(&operation{Method: get, Path: "/isms/policies/{id}", Policy: read, ID: "getPolicy", Tag: "isms-policies",
		Summary: "Get a policy with every version, its approvals and targets.", Params: []param{id}, Response: policy.Policy{}, Handler: s.getPolicy})
	s.add(&operation{Method: patch, Path: "/isms/policies/{id}", Policy: write, ID: "updatePolicy", Tag: "isms-policies",
		Summary: "Change a policy's code, title, kind, owner, client or review period (absent fields are kept).", Params: []param{id},
		Request: PolicyInput{}, Response: policy.Policy{}, Handler: s.updatePolicy})
	s.add(&operation{Method: post, Path: "/isms/policies/{id}/versions", Policy: write, ID: "addPolicyVersion", Tag: "isms-policies",
		Summary: "Add a draft version (Markdown) with the people it targets and its approvers.", Params: []param{id},
		Request: PolicyVersionInput{}, Status: http.StatusCreated, Response: policy.Policy{}, Handler: s.addPolicyVersion})
	s.add(&operation{Method: post, Path: "/isms/policy-versions/{id}/approve", Policy: owners, ID: "approvePolicyVersion", Tag: "isms-policies",
		Summary: "Approve a draft version (the caller must be one of its approvers).", Params: []param{vid}, Request: PolicyApprovalInput{},
		Response: policy.Policy{}, Handler: s.approvePolicyVersion})
	s.add(&operation{Method: post, Path: "/isms/policy-versions/{id}/publish", Policy: write, ID: "publishPolicyVersion", Tag: "isms-policies",
		Summary: "Publish an approved version: the people it targets are asked to acknowledge it.", Params: []param{vid},
		Response: policy.Policy{}, Handler: s.publishPolicyVersion})
	s.add(&operation{Method: get, Path: "/isms/policy-versions/{id}/acknowledgements", Policy: read, ID: "policyAcknowledgements", Tag: "isms-policies",
		Summary: "Acknowledgement status of every person a version targets (in the caller's scope).",
		Params:  []param{vid, queryParam("pending", "boolean", "only those who have not acknowledged")}, Response: List[policy.AckStatus]{}, Handler: s.policyAcknowledgements})
	s.add(&operation{Method: get, Path: "/isms/policy-versions/{id}/acknowledgements.csv", Policy: read, ID: "policyAcknowledgementsCSV", Tag: "isms-policies",
		Summary: "The same as CSV (pending=true: the report of who has not acknowledged).",
		Params:  []param{vid, queryParam("pending", "boolean", "only those who have not acknowledged")}, Response: "", ResponseType: "text/csv", Handler: s.policyAcknowledgementsCSV})
	s.add(&operation{Method: post, Path: "/isms/policies/reminders", Policy: write, ID: "sendPolicyReminders", Tag: "isms-policies",
		Summary: "Send the due acknowledgement reminders now (the background job does it hourly).", Response: PolicyRemindersResult{}, Handler: s.sendPolicyReminders})

	s.add(&operation{Method: get, Path: "/me/policies", Policy: self, ID: "listMyPendingPolicies", Tag: "me",
		Summary: "The published policies the caller has still to read and acknowledge.", Response: List[policy.Pending]{}, Handler: s.myPendingPolicies})
	s.add(&operation{Method: get, Path: "/me/policies/{id}", Policy: self, ID: "getMyPolicy", Tag: "me",
		Summary: "A published policy version that targets the caller, with its text rendered as HTML.", Params: []param{vid},
		Response: PolicyToRead{}, Handler: s.getMyPolicy})
	s.add(&operation{Method: post, Path: "/me/policies/{id}/acknowledge", Policy: self, ID: "acknowledgeMyPolicy", Tag: "me",
		Summary: "Acknowledge having read a policy version (idempotent).", Params: []param{vid}, Handler: s.acknowledgeMyPolicy})
}

// PolicyInput creates or changes a policy; on PATCH absent fields are kept.
type PolicyInput struct {
	Code         *string `json:"code,omitempty"`
	Title        *string `json:"title,omitempty"`
	Kind         *string `json:"kind,omitempty" doc:"policy or procedure"`
	ClientID     *int64  `json:"client_id,omitempty" doc:"a client's own policy; 0 or absent = operator-wide"`
	OwnerUserID  *int64  `json:"owner_user_id,omitempty"`
	ReviewMonths *int    `json:"review_months,omitempty" doc:"months from publication to the next review (default 12)"`
}

func (in PolicyInput) apply(p *policy.Policy) {
	if in.Code != nil {
		p.Code = *in.Code
	}
	if in.Title != nil {
		p.Title = *in.Title
	}
	if in.Kind != nil {
		p.Kind = *in.Kind
	}
	if in.ClientID != nil {
		p.ClientID = *in.ClientID
	}
	if in.OwnerUserID != nil {
		p.OwnerUserID = *in.OwnerUserID
	}
	if in.ReviewMonths != nil {
		p.ReviewMonths = *in.ReviewMonths
	}
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) error {
	list, err := s.ismsRisk.Store.ISMSPolicies(r.Context(), scope(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, len(list)+1, 0))
	return nil
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request) error {
	var in PolicyInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var p policy.Policy
	in.apply(&p)
	if err := checkClients(r, "client_id", p.ClientID); err != nil {
		return err
	}
	if err := s.ismsRisk.Store.ISMSPolicyCreate(r.Context(), scope(r), &p); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.ismsRisk.Store.ISMSPolicy(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) updatePolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.ismsRisk.Store.ISMSPolicy(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	var in PolicyInput
	if err := decode(r, &in); err != nil {
		return err
	}
	in.apply(p)
	if err := checkClients(r, "client_id", p.ClientID); err != nil {
		return err
	}
	if err := s.ismsRisk.Store.ISMSPolicyUpdate(r.Context(), scope(r), p); err != nil {
		return err
	}
	return s.writePolicy(w, r, id, http.StatusOK)
}

func (s *Server) writePolicy(w http.ResponseWriter, r *http.Request, id int64, status int) error {
	p, err := s.ismsRisk.Store.ISMSPolicy(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, status, p)
	return nil
}

// PolicyVersionInput is a new draft version.
type PolicyVersionInput struct {
	Body       string        `json:"body" doc:"Markdown (headings, lists, emphasis, links; raw HTML is shown as text)"`
	ChangeNote string        `json:"change_note,omitempty"`
	Target     policy.Target `json:"target"`
	Approvers  []int64       `json:"approvers" doc:"user ids who must approve before publication"`
}

func (s *Server) addPolicyVersion(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.ismsRisk.Store.ISMSPolicy(r.Context(), scope(r), id); err != nil {
		return err
	}
	var in PolicyVersionInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := checkClients(r, "target.client_ids", in.Target.ClientIDs...); err != nil {
		return err
	}
	v := policy.Version{Body: in.Body, ChangeNote: in.ChangeNote, Target: in.Target}
	if err := s.ismsRisk.Store.ISMSPolicyAddVersion(r.Context(), scope(r), id, &v, in.Approvers, principal(r).Username); err != nil {
		return err
	}
	return s.writePolicy(w, r, id, http.StatusCreated)
}

// PolicyApprovalInput is an approver's note.
type PolicyApprovalInput struct {
	Note string `json:"note,omitempty"`
}

func (s *Server) approvePolicyVersion(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, _, err := s.ismsRisk.Store.ISMSPolicyVersion(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	var in PolicyApprovalInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.ismsRisk.Store.ISMSPolicyApprove(r.Context(), principal(r), id, in.Note); err != nil {
		return err
	}
	return s.writePolicy(w, r, p.ID, http.StatusOK)
}

func (s *Server) publishPolicyVersion(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, _, err := s.ismsRisk.Store.ISMSPolicyVersion(r.Context(), scope(r), id)
	if err != nil {
		return err
	}
	if err := s.ismsRisk.Store.ISMSPolicyPublish(r.Context(), scope(r), id, time.Now()); err != nil {
		return err
	}
	return s.writePolicy(w, r, p.ID, http.StatusOK)
}

func (s *Server) ackStatuses(r *http.Request) (*policy.Policy, *policy.Version, []policy.AckStatus, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, nil, nil, err
	}
	pending, err := queryBool(r, "pending")
	if err != nil {
		return nil, nil, nil, err
	}
	p, v, list, err := s.ismsRisk.Store.ISMSPolicyStatus(r.Context(), scope(r), id)
	if err != nil {
		return nil, nil, nil, err
	}
	if pending != nil {
		kept := list[:0]
		for _, a := range list {
			if a.AcknowledgedAt.IsZero() == *pending {
				kept = append(kept, a)
			}
		}
		list = kept
	}
	return p, v, list, nil
}

func (s *Server) policyAcknowledgements(w http.ResponseWriter, r *http.Request) error {
	_, _, list, err := s.ackStatuses(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, len(list)+1, 0))
	return nil
}

func (s *Server) policyAcknowledgementsCSV(w http.ResponseWriter, r *http.Request) error {
	p, v, list, err := s.ackStatuses(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-v%d-acknowledgements.csv"`, csvSafeName(p.Code), v.Version))
	return WritePolicyCSV(w, list)
}

// WritePolicyCSV writes acknowledgement statuses as CSV; cells that a
// spreadsheet would run as a formula are prefixed with a quote.
func WritePolicyCSV(w http.ResponseWriter, list []policy.AckStatus) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"username", "display_name", "email", "role", "acknowledged_at", "reminders", "last_reminder_at"})
	for _, a := range list {
		ack, rem := "", ""
		if !a.AcknowledgedAt.IsZero() {
			ack = a.AcknowledgedAt.UTC().Format(time.RFC3339)
		}
		if !a.RemindedAt.IsZero() {
			rem = a.RemindedAt.UTC().Format(time.RFC3339)
		}
		_ = cw.Write([]string{csvCell(a.Username), csvCell(a.DisplayName), csvCell(a.Email), string(a.Role), ack, fmt.Sprint(a.Reminders), rem})
	}
	cw.Flush()
	return cw.Error()
}

func csvCell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

func csvSafeName(s string) string {
	out := []rune{}
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return "policy"
	}
	return string(out)
}

// PolicyRemindersResult says how many reminders were sent.
type PolicyRemindersResult struct {
	Sent int `json:"sent"`
}

func (s *Server) sendPolicyReminders(w http.ResponseWriter, r *http.Request) error {
	if s.ismsRisk.Policies == nil || s.ismsRisk.Policies.Mailer == nil {
		return httpErr(http.StatusConflict, "No mail server is configured; reminders cannot be sent.")
	}
	n, err := s.ismsRisk.Policies.RemindOnce(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, PolicyRemindersResult{Sent: n})
	return nil
}

func (s *Server) myMember(r *http.Request) (*policy.Member, error) {
	return s.ismsRisk.Store.ISMSPolicyMember(r.Context(), principal(r).UserID)
}

func (s *Server) myPendingPolicies(w http.ResponseWriter, r *http.Request) error {
	m, err := s.myMember(r)
	if err != nil {
		return err
	}
	list, err := s.ismsRisk.Store.ISMSPolicyPending(r.Context(), *m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(list, len(list)+1, 0))
	return nil
}

// PolicyToRead is a published version for its reader.
type PolicyToRead struct {
	PolicyID       int64     `json:"policy_id"`
	Code           string    `json:"code"`
	Title          string    `json:"title"`
	VersionID      int64     `json:"version_id"`
	Version        int64     `json:"version"`
	PublishedAt    time.Time `json:"published_at"`
	Body           string    `json:"body"`
	HTML           string    `json:"html" doc:"the body rendered (safe subset of Markdown)"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
}

func (s *Server) readable(r *http.Request, versionID int64) (*PolicyToRead, error) {
	p := principal(r)
	pol, v, err := s.ismsRisk.Store.ISMSPolicyVersion(r.Context(), identity.Scope{All: true}, versionID)
	if err != nil || v.Status != policy.StatusPublished {
		return nil, errNotFound
	}
	m, err := s.myMember(r)
	if err != nil {
		return nil, err
	}
	if !v.Target.Matches(*m, pol.ClientID) {
		return nil, errNotFound
	}
	ack, err := s.ismsRisk.Store.ISMSPolicyAckedAt(r.Context(), versionID, p.UserID)
	if err != nil {
		return nil, err
	}
	return &PolicyToRead{PolicyID: pol.ID, Code: pol.Code, Title: pol.Title, VersionID: v.ID, Version: v.Version, PublishedAt: v.PublishedAt,
		Body: v.Body, HTML: string(policy.Render(v.Body)), AcknowledgedAt: ack}, nil
}

func (s *Server) getMyPolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	x, err := s.readable(r, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, x)
	return nil
}

func (s *Server) acknowledgeMyPolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := s.readable(r, id); err != nil {
		return err
	}
	if err := s.ismsRisk.Store.ISMSPolicyAcknowledge(r.Context(), principal(r), id, time.Now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
