package web

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/policy"
	"github.com/custodia/custodia/internal/org"
)

type ismsrPoliciesData struct {
	Policies []policy.Policy
	Clients  []Option
	Owners   []Option
	Kinds    []Option
	CanWrite bool
}

func (s *Server) ismsrPoliciesPage(w http.ResponseWriter, r *http.Request, status int, err error) error {
	list, lerr := s.ismsRisk.Store.ISMSPolicies(r.Context(), scope(r))
	if lerr != nil {
		return lerr
	}
	v := s.newView(r, "ismsrisk.policies.title", nil)
	if err != nil {
		if !v.setFieldErrors(err) {
			return err
		}
		v.Form = r.PostForm
	}
	d := &ismsrPoliciesData{Policies: list, CanWrite: v.Can("admin", "security")}
	sel, _ := strconv.ParseInt(v.Val("client_id"), 10, 64)
	if d.Clients, lerr = s.ismsrClientOptions(r, v, sel); lerr != nil {
		return lerr
	}
	owner, _ := strconv.ParseInt(v.Val("owner_user_id"), 10, 64)
	if d.Owners, lerr = s.ismsrUserOptions(r, v, owner); lerr != nil {
		return lerr
	}
	for _, k := range []string{policy.KindPolicy, policy.KindProcedure} {
		d.Kinds = append(d.Kinds, ismsrOpt(k, v.T("ismsrisk.policy.kind."+k), v.Val("kind") == k))
	}
	v.D = d
	return s.render(w, status, "ismsr_policies", v)
}

func (s *Server) ismsrPolicies(w http.ResponseWriter, r *http.Request) error {
	return s.ismsrPoliciesPage(w, r, http.StatusOK, nil)
}

func (s *Server) ismsrPolicyCreate(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	p := policy.Policy{Code: r.PostForm.Get("code"), Title: r.PostForm.Get("title"), Kind: r.PostForm.Get("kind")}
	var err error
	if p.ClientID, err = formInt(r, "client_id"); err == nil {
		if p.OwnerUserID, err = formInt(r, "owner_user_id"); err == nil {
			var months int64
			if months, err = formInt(r, "review_months"); err == nil {
				p.ReviewMonths = int(min(months, 1000))
			}
		}
	}
	if err == nil && p.ClientID != 0 && !principal(r).CanSeeClient(p.ClientID) {
		return errNotFound
	}
	if err == nil {
		err = s.ismsRisk.Store.ISMSPolicyCreate(r.Context(), scope(r), &p)
	}
	if err != nil {
		return s.ismsrPoliciesPage(w, r, http.StatusUnprocessableEntity, err)
	}
	return redirect(w, r, withFlash("/isms/policies/"+strconv.FormatInt(p.ID, 10), "saved"))
}

type ismsrPolicyData struct {
	Policy     *policy.Policy
	CanWrite   bool
	CanApprove bool
	Roles      []Option
	Sites      []Option
	Teams      []Option
	Clients    []Option
	Approvers  []Option
	Preview    template.HTML
}

// Render renders a version's Markdown (safe subset).
func (d *ismsrPolicyData) Render(body string) template.HTML { return policy.Render(body) }

// Pending reports whether userID is a pending approver of v.
func (d *ismsrPolicyData) Pending(v policy.Version, userID int64) bool {
	for _, a := range v.Approvals {
		if a.UserID == userID && a.ApprovedAt.IsZero() {
			return true
		}
	}
	return false
}

func (s *Server) ismsrPolicyPage(w http.ResponseWriter, r *http.Request, id int64, status int, err error) error {
	ctx := r.Context()
	p, lerr := s.ismsRisk.Store.ISMSPolicy(ctx, scope(r), id)
	if lerr != nil {
		return lerr
	}
	v := s.newView(r, "ismsrisk.policy.title", nil)
	if err != nil {
		if !v.setFieldErrors(err) {
			return err
		}
		v.Form = r.PostForm
	}
	d := &ismsrPolicyData{Policy: p, CanWrite: v.Can("admin", "security"), CanApprove: v.Can("admin", "security", "dpo")}
	for _, role := range identity.Roles {
		d.Roles = append(d.Roles, ismsrOpt(string(role), v.RoleName(role), v.Checked("roles", string(role))))
	}
	sites, lerr := s.store.Sites(ctx, org.SiteFilter{Scope: scope(r), Page: org.Page{Limit: org.MaxLimit}})
	if lerr != nil {
		return lerr
	}
	for _, st := range sites {
		id := strconv.FormatInt(st.ID, 10)
		d.Sites = append(d.Sites, ismsrOpt(id, st.Name, v.Checked("site_ids", id)))
	}
	teams, lerr := s.store.Teams(ctx, org.TeamFilter{Scope: scope(r), Page: org.Page{Limit: org.MaxLimit}})
	if lerr != nil {
		return lerr
	}
	for _, t := range teams {
		id := strconv.FormatInt(t.ID, 10)
		d.Teams = append(d.Teams, ismsrOpt(id, t.Name, v.Checked("team_ids", id)))
	}
	clients, lerr := s.store.Clients(ctx, org.ClientFilter{Scope: scope(r), Page: org.Page{Limit: org.MaxLimit}})
	if lerr != nil {
		return lerr
	}
	for _, c := range clients {
		id := strconv.FormatInt(c.ID, 10)
		d.Clients = append(d.Clients, ismsrOpt(id, c.Name, v.Checked("client_ids", id)))
	}
	users, lerr := s.ismsRisk.Store.RiskOwnerOptions(ctx)
	if lerr != nil {
		return lerr
	}
	for _, u := range users {
		id := strconv.FormatInt(u.ID, 10)
		d.Approvers = append(d.Approvers, ismsrOpt(id, u.Code, v.Checked("approvers", id)))
	}
	if body := v.Val("body"); body != "" {
		d.Preview = policy.Render(body)
	}
	v.D = d
	return s.render(w, status, "ismsr_policy", v)
}

func (s *Server) ismsrPolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return s.ismsrPolicyPage(w, r, id, http.StatusOK, nil)
}

func (s *Server) ismsrPolicyVersion(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	if _, err := s.ismsRisk.Store.ISMSPolicy(r.Context(), scope(r), id); err != nil {
		return err
	}
	v := policy.Version{Body: r.PostForm.Get("body"), ChangeNote: r.PostForm.Get("change_note"),
		Target: policy.Target{SiteIDs: ismsrIDs(r.PostForm["site_ids"]), TeamIDs: ismsrIDs(r.PostForm["team_ids"]), ClientIDs: ismsrIDs(r.PostForm["client_ids"])}}
	for _, role := range r.PostForm["roles"] {
		v.Target.Roles = append(v.Target.Roles, identity.Role(role))
	}
	for _, c := range v.Target.ClientIDs {
		if !principal(r).CanSeeClient(c) {
			return errNotFound
		}
	}
	if r.PostForm.Get("preview") != "" {
		return s.ismsrPolicyPage(w, r, id, http.StatusOK, nil)
	}
	if err := s.ismsRisk.Store.ISMSPolicyAddVersion(r.Context(), scope(r), id, &v, ismsrIDs(r.PostForm["approvers"]), principal(r).Username); err != nil {
		return s.ismsrPolicyPage(w, r, id, http.StatusUnprocessableEntity, err)
	}
	return redirect(w, r, withFlash("/isms/policies/"+strconv.FormatInt(id, 10), "saved"))
}

func (s *Server) ismsrVersionPolicy(r *http.Request) (int64, int64, error) {
	vid, err := pathID(r, "id")
	if err != nil {
		return 0, 0, err
	}
	if err := parseForm(r); err != nil {
		return 0, 0, err
	}
	p, _, err := s.ismsRisk.Store.ISMSPolicyVersion(r.Context(), scope(r), vid)
	if err != nil {
		return 0, 0, err
	}
	return vid, p.ID, nil
}

func (s *Server) ismsrPolicyApprove(w http.ResponseWriter, r *http.Request) error {
	vid, pid, err := s.ismsrVersionPolicy(r)
	if err != nil {
		return err
	}
	if err := s.ismsRisk.Store.ISMSPolicyApprove(r.Context(), principal(r), vid, r.PostForm.Get("note")); err != nil {
		return s.ismsrPolicyPage(w, r, pid, http.StatusUnprocessableEntity, err)
	}
	return redirect(w, r, withFlash("/isms/policies/"+strconv.FormatInt(pid, 10), "ismsrisk_approved"))
}

func (s *Server) ismsrPolicyPublish(w http.ResponseWriter, r *http.Request) error {
	vid, pid, err := s.ismsrVersionPolicy(r)
	if err != nil {
		return err
	}
	if err := s.ismsRisk.Store.ISMSPolicyPublish(r.Context(), scope(r), vid, s.now()); err != nil {
		return s.ismsrPolicyPage(w, r, pid, http.StatusUnprocessableEntity, err)
	}
	return redirect(w, r, withFlash("/isms/policies/"+strconv.FormatInt(pid, 10), "ismsrisk_published"))
}

type ismsrAcksData struct {
	Policy   *policy.Policy
	Version  *policy.Version
	Statuses []policy.AckStatus
	Done     int
	CanWrite bool
}

func (s *Server) ismsrPolicyAcks(w http.ResponseWriter, r *http.Request) error {
	vid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, ver, list, err := s.ismsRisk.Store.ISMSPolicyStatus(r.Context(), scope(r), vid)
	if err != nil {
		return err
	}
	v := s.newView(r, "ismsrisk.acks.title", nil)
	d := &ismsrAcksData{Policy: p, Version: ver, Statuses: list, CanWrite: v.Can("admin", "security")}
	for _, a := range list {
		if !a.AcknowledgedAt.IsZero() {
			d.Done++
		}
	}
	v.D = d
	return s.render(w, http.StatusOK, "ismsr_acks", v)
}

func (s *Server) ismsrPolicyAcksCSV(w http.ResponseWriter, r *http.Request) error {
	vid, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, ver, list, err := s.ismsRisk.Store.ISMSPolicyStatus(r.Context(), scope(r), vid)
	if err != nil {
		return err
	}
	pendingOnly := r.URL.Query().Get("pending") == "true"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="policy-%d-v%d-acknowledgements.csv"`, p.ID, ver.Version))
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"username", "display_name", "email", "role", "acknowledged_at", "reminders", "last_reminder_at"})
	for _, a := range list {
		if pendingOnly && !a.AcknowledgedAt.IsZero() {
			continue
		}
		ack, rem := "", ""
		if !a.AcknowledgedAt.IsZero() {
			ack = a.AcknowledgedAt.UTC().Format(time.RFC3339)
		}
		if !a.RemindedAt.IsZero() {
			rem = a.RemindedAt.UTC().Format(time.RFC3339)
		}
		_ = cw.Write([]string{ismsrCSVCell(a.Username), ismsrCSVCell(a.DisplayName), ismsrCSVCell(a.Email), string(a.Role), ack, strconv.Itoa(a.Reminders), rem})
	}
	cw.Flush()
	return cw.Error()
}

func ismsrCSVCell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

func (s *Server) ismsrPolicyRemind(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	if s.ismsRisk.Policies == nil || s.ismsRisk.Policies.Mailer == nil {
		return errStatus(http.StatusConflict, "ismsrisk.error.no_mailer")
	}
	n, err := s.ismsRisk.Policies.RemindOnce(r.Context())
	if err != nil {
		return err
	}
	_ = n
	return redirect(w, r, withFlash("/isms/policies", "ismsrisk_reminded"))
}

type ismsrMineData struct {
	Pending []policy.Pending
}

func (s *Server) ismsrMyPolicies(w http.ResponseWriter, r *http.Request) error {
	m, err := s.ismsRisk.Store.ISMSPolicyMember(r.Context(), principal(r).UserID)
	if err != nil {
		return err
	}
	list, err := s.ismsRisk.Store.ISMSPolicyPending(r.Context(), *m)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "ismsr_mine", s.newView(r, "ismsrisk.mine.title", &ismsrMineData{Pending: list}))
}

type ismsrReadData struct {
	Policy         *policy.Policy
	Version        *policy.Version
	HTML           template.HTML
	AcknowledgedAt time.Time
}

func (s *Server) ismsrReadable(r *http.Request) (*ismsrReadData, error) {
	vid, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	p, v, err := s.ismsRisk.Store.ISMSPolicyVersion(r.Context(), identity.Scope{All: true}, vid)
	if err != nil || v.Status != policy.StatusPublished {
		return nil, errNotFound
	}
	m, err := s.ismsRisk.Store.ISMSPolicyMember(r.Context(), principal(r).UserID)
	if err != nil {
		return nil, err
	}
	if !v.Target.Matches(*m, p.ClientID) {
		return nil, errNotFound
	}
	at, err := s.ismsRisk.Store.ISMSPolicyAckedAt(r.Context(), vid, principal(r).UserID)
	if err != nil {
		return nil, err
	}
	return &ismsrReadData{Policy: p, Version: v, HTML: policy.Render(v.Body), AcknowledgedAt: at}, nil
}

func (s *Server) ismsrMyPolicy(w http.ResponseWriter, r *http.Request) error {
	d, err := s.ismsrReadable(r)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "ismsr_read", s.newView(r, "ismsrisk.read.title", d))
}

func (s *Server) ismsrMyPolicyAck(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	d, err := s.ismsrReadable(r)
	if err != nil {
		return err
	}
	if err := s.ismsRisk.Store.ISMSPolicyAcknowledge(r.Context(), principal(r), d.Version.ID, s.now()); err != nil {
		return err
	}
	return redirect(w, r, withFlash("/policies/mine", "ismsrisk_acknowledged"))
}
