package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	auditsvc "github.com/custodia/custodia/internal/isms/auditprog/service"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/policy/reminder"
	"github.com/custodia/custodia/internal/isms/risk"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
)

// ISMSRiskDeps are the services the asset, risk, policy and audit pages
// need; with Store unset they register no pages.
type ISMSRiskDeps struct {
	Store    *store.Store
	Library  *catalog.Library
	Policies *reminder.Service
	Audits   *auditsvc.Service
}

// Role groups of the risk, policy and audit pages.
var (
	ismsrReaders = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO, identity.RoleAuditor}
	ismsrWriters = []identity.Role{identity.RoleAdmin, identity.RoleSecurity}
	ismsrOwners  = []identity.Role{identity.RoleAdmin, identity.RoleSecurity, identity.RoleDPO}
)

// ismsRiskRoutes lists the asset, risk, policy and audit console routes.
func (s *Server) ismsRiskRoutes() []route {
	if s.ismsRisk.Store == nil {
		return nil
	}
	read := authz.Roles(ismsrReaders...).WithClientScoped()
	write := authz.Roles(ismsrWriters...).WithClientScoped()
	owners := authz.Roles(ismsrOwners...).WithClientScoped()
	self := authz.Authenticated()
	// The portal is the one place external (invited) auditor accounts reach.
	portal := authz.Roles(identity.RoleAuditor).WithExternal()
	return []route{
		{"GET /isms/risks", read, s.ismsrRisks},
		{"GET /isms/risks/new", write, s.ismsrRiskNew},
		{"POST /isms/risks", write, s.ismsrRiskCreate},
		{"GET /isms/risks/{id}", read, s.ismsrRisk},
		{"POST /isms/risks/{id}", write, s.ismsrRiskUpdate},
		{"POST /isms/risks/{id}/delete", write, s.ismsrRiskDelete},
		{"POST /isms/risks/{id}/sign-off", owners, s.ismsrRiskSignOff},
		{"POST /isms/risks/starter", write, s.ismsrStarter},
		{"POST /isms/risks/settings", write, s.ismsrSettings},
		{"GET /isms/risks/report.pdf", read, s.ismsrRiskReport},
		{"GET /isms/assets", read, s.ismsrAssets},
		{"GET /isms/assets/new", write, s.ismsrAssetNew},
		{"POST /isms/assets", write, s.ismsrAssetCreate},
		{"GET /isms/assets/{id}", read, s.ismsrAsset},
		{"POST /isms/assets/{id}", write, s.ismsrAssetUpdate},
		{"POST /isms/assets/{id}/delete", write, s.ismsrAssetDelete},
		{"GET /isms/threats", read, s.ismsrThreats},
		{"POST /isms/threats", write, s.ismsrThreatCreate},
		{"POST /isms/threats/{id}/delete", write, s.ismsrThreatDelete},

		{"GET /isms/policies", read, s.ismsrPolicies},
		{"POST /isms/policies", write, s.ismsrPolicyCreate},
		{"GET /isms/policies/{id}", read, s.ismsrPolicy},
		{"POST /isms/policies/{id}/versions", write, s.ismsrPolicyVersion},
		{"POST /isms/policy-versions/{id}/approve", owners, s.ismsrPolicyApprove},
		{"POST /isms/policy-versions/{id}/publish", write, s.ismsrPolicyPublish},
		{"GET /isms/policy-versions/{id}/acknowledgements", read, s.ismsrPolicyAcks},
		{"GET /isms/policy-versions/{id}/acknowledgements.csv", read, s.ismsrPolicyAcksCSV},
		{"POST /isms/policies/reminders", write, s.ismsrPolicyRemind},
		{"GET /policies/mine", self, s.ismsrMyPolicies},
		{"GET /policies/mine/{id}", self, s.ismsrMyPolicy},
		{"POST /policies/mine/{id}", self, s.ismsrMyPolicyAck},

		{"GET /isms/audits", read, s.ismsrAudits},
		{"POST /isms/audits", write, s.ismsrAuditCreate},
		{"GET /isms/audits/{id}", read, s.ismsrAudit},
		{"POST /isms/audits/{id}", write, s.ismsrAuditUpdate},
		{"POST /isms/audits/{id}/checklist/{item}", write, s.ismsrChecklistResult},
		{"POST /isms/audits/{id}/findings", write, s.ismsrFindingCreate},
		{"POST /isms/findings/{id}", write, s.ismsrFindingUpdate},
		{"POST /isms/findings/{id}/capas", write, s.ismsrCAPACreate},
		{"POST /isms/capas/{id}", write, s.ismsrCAPAUpdate},
		{"POST /isms/audits/{id}/auditors", write, s.ismsrInviteAuditor},
		{"POST /isms/audits/{id}/grants/{grant}/revoke", write, s.ismsrRevokeGrant},
		{"GET /isms/audits/{id}/report.pdf", read, s.ismsrAuditReport},
		{"GET /auditor", portal, s.ismsrPortal},
		{"GET /auditor/audits/{id}", portal, s.ismsrPortalAudit},
		{"GET /auditor/audits/{id}/evidence/{evidence}/file", portal, s.ismsrPortalEvidence},
	}
}

// ismsrOpt builds select options from values and labels.
func ismsrOpt(value, label string, selected bool) Option {
	return Option{Value: value, Label: label, Selected: selected}
}

// ismsrClientOptions lists the clients in the caller's scope, with
// "operator-wide" first for callers who see every client.
func (s *Server) ismsrClientOptions(r *http.Request, v *view, selected int64) ([]Option, error) {
	p := principal(r)
	var out []Option
	if p.AllClients {
		out = append(out, ismsrOpt("0", v.T("ismsrisk.operator_wide"), selected == 0))
	}
	clients, err := s.store.Clients(r.Context(), org.ClientFilter{Scope: scope(r), Page: org.Page{Limit: org.MaxLimit}})
	if err != nil {
		return nil, err
	}
	for _, c := range clients {
		out = append(out, ismsrOpt(strconv.FormatInt(c.ID, 10), c.Name, c.ID == selected))
	}
	return out, nil
}

// ismsrUserOptions lists the possible owners, with "none" first.
func (s *Server) ismsrUserOptions(r *http.Request, v *view, selected int64) ([]Option, error) {
	users, err := s.ismsRisk.Store.RiskOwnerOptions(r.Context())
	if err != nil {
		return nil, err
	}
	out := []Option{ismsrOpt("0", v.T("ismsrisk.none"), selected == 0)}
	for _, u := range users {
		label := u.Code
		if u.Title != "" {
			label = u.Title + " (" + u.Code + ")"
		}
		out = append(out, ismsrOpt(strconv.FormatInt(u.ID, 10), label, u.ID == selected))
	}
	return out, nil
}

func formInt(r *http.Request, name string) (int64, error) {
	v := strings.TrimSpace(r.PostForm.Get(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, identity.FieldErrors{name: "must be a whole number"}
	}
	return n, nil
}

func formFloat(r *http.Request, name string) (float64, error) {
	v := strings.TrimSpace(strings.ReplaceAll(r.PostForm.Get(name), ",", "."))
	if v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, identity.FieldErrors{name: "must be a number"}
	}
	return f, nil
}

// formDims reads one number per dimension from fields prefix+C … prefix+D.
func formDims(r *http.Request, prefix string) (map[risk.Dimension]float64, error) {
	out := map[risk.Dimension]float64{}
	for _, d := range risk.Dimensions {
		f, err := formFloat(r, prefix+string(d))
		if err != nil {
			return nil, err
		}
		if f != 0 {
			out[d] = f
		}
	}
	return out, nil
}

// ismsrPercent shows a 0–1 fraction as a percentage for a form.
func ismsrPercent(f float64) string {
	if f == 0 {
		return ""
	}
	return strconv.FormatFloat(f*100, 'f', -1, 64)
}

func ismsrNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func ismsrIDs(vals []string) []int64 {
	var out []int64
	for _, v := range vals {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

func ismsrPDF(w http.ResponseWriter, name string, pdf []byte) error {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	w.Header().Set("Cache-Control", "no-store")
	_, err := w.Write(pdf)
	return err
}

func ismsrFieldErr(field, msg string) error { return identity.FieldErrors{field: msg} }
