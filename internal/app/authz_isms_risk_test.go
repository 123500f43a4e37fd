package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/isms/auditprog"
	"github.com/custodia/custodia/internal/isms/catalog"
	"github.com/custodia/custodia/internal/isms/magerit"
	"github.com/custodia/custodia/internal/isms/policy"
	"github.com/custodia/custodia/internal/isms/risk"
	"github.com/custodia/custodia/internal/store"
)

// ismsrSeq makes the codes of resources created per request unique.
var ismsrSeq atomic.Int64

func init() {
	read := access{roles: []identity.Role{rAdmin, rSec, rDPO, rAud}}
	readID := access{roles: []identity.Role{rAdmin, rSec, rDPO, rAud}, scoped: true}
	write := access{roles: []identity.Role{rAdmin, rSec}}
	writeID := access{roles: []identity.Role{rAdmin, rSec}, scoped: true}
	ownerID := access{roles: []identity.Role{rAdmin, rSec, rDPO}, scoped: true}
	portal := access{roles: []identity.Role{rAud}}
	moduleTables["isms_risk"] = map[string]access{
		"GET /api/v1/isms/assets":                                    read,
		"GET /api/v1/isms/assets/{id}":                               readID,
		"POST /api/v1/isms/assets":                                   write,
		"PATCH /api/v1/isms/assets/{id}":                             writeID,
		"DELETE /api/v1/isms/assets/{id}":                            writeID,
		"GET /api/v1/isms/threats":                                   read,
		"POST /api/v1/isms/threats":                                  write,
		"PATCH /api/v1/isms/threats/{id}":                            write,
		"DELETE /api/v1/isms/threats/{id}":                           write,
		"GET /api/v1/isms/risks":                                     read,
		"GET /api/v1/isms/risks/{id}":                                readID,
		"POST /api/v1/isms/risks":                                    write,
		"PATCH /api/v1/isms/risks/{id}":                              writeID,
		"DELETE /api/v1/isms/risks/{id}":                             writeID,
		"POST /api/v1/isms/risks/{id}/sign-off":                      ownerID,
		"POST /api/v1/isms/risks/starter":                            write,
		"GET /api/v1/isms/risks/heatmap.svg":                         read,
		"GET /api/v1/isms/risks/report.pdf":                          read,
		"GET /api/v1/isms/risk-settings":                             read,
		"PATCH /api/v1/isms/risk-settings":                           write,
		"GET /api/v1/isms/policies":                                  read,
		"POST /api/v1/isms/policies":                                 write,
		"GET /api/v1/isms/policies/{id}":                             readID,
		"PATCH /api/v1/isms/policies/{id}":                           writeID,
		"POST /api/v1/isms/policies/{id}/versions":                   writeID,
		"POST /api/v1/isms/policy-versions/{id}/approve":             ownerID,
		"POST /api/v1/isms/policy-versions/{id}/publish":             writeID,
		"GET /api/v1/isms/policy-versions/{id}/acknowledgements":     readID,
		"GET /api/v1/isms/policy-versions/{id}/acknowledgements.csv": readID,
		"POST /api/v1/isms/policies/reminders":                       write,
		"GET /api/v1/me/policies":                                    signedIn,
		"GET /api/v1/me/policies/{id}":                               signedIn,
		"POST /api/v1/me/policies/{id}/acknowledge":                  signedIn,
		"GET /api/v1/isms/audits":                                    read,
		"POST /api/v1/isms/audits":                                   write,
		"GET /api/v1/isms/audits/{id}":                               readID,
		"PATCH /api/v1/isms/audits/{id}":                             writeID,
		"GET /api/v1/isms/audits/{id}/checklist":                     readID,
		"PATCH /api/v1/isms/audits/{id}/checklist/{item}":            writeID,
		"GET /api/v1/isms/audits/{id}/report.pdf":                    readID,
		"GET /api/v1/isms/audits/{id}/grants":                        readID,
		"POST /api/v1/isms/audits/{id}/auditors":                     writeID,
		"DELETE /api/v1/isms/audits/{id}/grants/{grant}":             writeID,
		"GET /api/v1/isms/findings":                                  read,
		"POST /api/v1/isms/audits/{id}/findings":                     writeID,
		"GET /api/v1/isms/findings/{id}":                             readID,
		"PATCH /api/v1/isms/findings/{id}":                           writeID,
		"POST /api/v1/isms/findings/{id}/capas":                      writeID,
		"PATCH /api/v1/isms/capas/{id}":                              writeID,
		"GET /api/v1/auditor/audits":                                 portal,
		"GET /api/v1/auditor/audits/{id}":                            portal,
		"GET /api/v1/auditor/audits/{id}/evidence/{evidence}/file":   portal,

		"GET /isms/risks":                                     read,
		"GET /isms/risks/new":                                 write,
		"POST /isms/risks":                                    write,
		"GET /isms/risks/{id}":                                readID,
		"POST /isms/risks/{id}":                               writeID,
		"POST /isms/risks/{id}/delete":                        writeID,
		"POST /isms/risks/{id}/sign-off":                      ownerID,
		"POST /isms/risks/starter":                            write,
		"POST /isms/risks/settings":                           write,
		"GET /isms/risks/report.pdf":                          read,
		"GET /isms/assets":                                    read,
		"GET /isms/assets/new":                                write,
		"POST /isms/assets":                                   write,
		"GET /isms/assets/{id}":                               readID,
		"POST /isms/assets/{id}":                              writeID,
		"POST /isms/assets/{id}/delete":                       writeID,
		"GET /isms/threats":                                   read,
		"POST /isms/threats":                                  write,
		"POST /isms/threats/{id}/delete":                      write,
		"GET /isms/policies":                                  read,
		"POST /isms/policies":                                 write,
		"GET /isms/policies/{id}":                             readID,
		"POST /isms/policies/{id}/versions":                   writeID,
		"POST /isms/policy-versions/{id}/approve":             ownerID,
		"POST /isms/policy-versions/{id}/publish":             writeID,
		"GET /isms/policy-versions/{id}/acknowledgements":     readID,
		"GET /isms/policy-versions/{id}/acknowledgements.csv": readID,
		"POST /isms/policies/reminders":                       write,
		"GET /policies/mine":                                  signedIn,
		"GET /policies/mine/{id}":                             signedIn,
		"POST /policies/mine/{id}":                            signedIn,
		"GET /isms/audits":                                    read,
		"POST /isms/audits":                                   write,
		"GET /isms/audits/{id}":                               readID,
		"POST /isms/audits/{id}":                              writeID,
		"POST /isms/audits/{id}/checklist/{item}":             writeID,
		"POST /isms/audits/{id}/findings":                     writeID,
		"POST /isms/findings/{id}":                            writeID,
		"POST /isms/findings/{id}/capas":                      writeID,
		"POST /isms/capas/{id}":                               writeID,
		"POST /isms/audits/{id}/auditors":                     writeID,
		"POST /isms/audits/{id}/grants/{grant}/revoke":        writeID,
		"GET /isms/audits/{id}/report.pdf":                    readID,
		"GET /auditor":                                        portal,
		"GET /auditor/audits/{id}":                            portal,
		"GET /auditor/audits/{id}/evidence/{evidence}/file":   portal,
	}
	moduleSeeders = append(moduleSeeders, ismsrSeed)
	moduleTargets = append(moduleTargets, ismsrTarget)
	moduleRequests = append(moduleRequests, ismsrRequest)
}

// ismsrRequest gives each destructive request (delete, revoke) a fresh
// resource of the same client as the target's, so every actor meets one.
func ismsrRequest(w *world, rt authz.Route, target string, a *actor) *http.Request {
	p := strings.TrimPrefix(rt.Path, "/api/v1")
	destructive := rt.Method == http.MethodDelete || strings.HasSuffix(p, "/delete") || strings.HasSuffix(p, "/revoke")
	mine := false
	for _, prefix := range []string{"/isms/assets/", "/isms/risks/", "/isms/threats/", "/isms/audits/"} {
		mine = mine || strings.HasPrefix(p, prefix)
	}
	if !destructive || !mine {
		return nil
	}
	ctx := context.Background()
	all := identity.Scope{All: true}
	segs := strings.Split(strings.TrimPrefix(strings.TrimPrefix(target, "/api/v1"), "/"), "/")
	id, _ := strconv.ParseInt(segs[2], 10, 64)
	fresh := id
	switch segs[1] {
	case "assets":
		if old, err := w.st.RiskAsset(ctx, all, id); err == nil {
			x := risk.Asset{Code: fmt.Sprintf("tmp-%d", ismsrSeq.Add(1)), Name: "Temp", Type: magerit.Hardware, ClientID: old.ClientID}
			if w.st.RiskCreateAsset(ctx, all, &x) == nil {
				fresh = x.ID
			}
		}
	case "risks":
		if old, err := w.st.RiskByID(ctx, all, id); err == nil {
			x := risk.Risk{Title: "Temp", AssetID: old.AssetID, ThreatID: old.ThreatID}
			if w.st.RiskCreate(ctx, all, &x) == nil {
				fresh = x.ID
			}
		}
	case "threats":
		x := risk.Threat{Code: fmt.Sprintf("E.%d", 100+ismsrSeq.Add(1)), Name: "Temp"}
		if w.st.RiskCreateThreat(ctx, all, &x) == nil {
			fresh = x.ID
		}
	case "audits": // /isms/audits/{id}/grants/{grant}[/revoke]
		g := ismsrGrant(w, id)
		segs[4] = fmt.Sprint(g)
	}
	segs[2] = fmt.Sprint(fresh)
	path := "/" + strings.Join(segs, "/")
	if rt.API() {
		path = "/api/v1" + path
	}
	var req *http.Request
	if rt.API() {
		req = httptest.NewRequest(rt.Method, path, nil)
	} else {
		form := url.Values{}
		if a != nil {
			form.Set(identity.CSRFField, a.csrf)
		}
		req = httptest.NewRequest(rt.Method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return w.authorize(req, rt, a)
}

// ismsrSeed creates, for client A and client B, an asset with a risk, a
// policy with a published version targeting everybody, an audit with its
// checklist, a finding and a corrective action; and a shared threat.
func ismsrSeed(t *testing.T, w *world) {
	ctx := context.Background()
	all := identity.Scope{All: true}
	st := w.st
	th := risk.Threat{Code: "A.24", Name: "Denial of service", Degradation: map[risk.Dimension]float64{"D": 0.5}, Frequency: 1}
	must(t, st.RiskCreateThreat(ctx, all, &th))
	w.ids["ismsr.threat"] = [2]int64{th.ID, th.ID}
	lib, err := catalog.Builtin()
	must(t, err)
	admin := w.actors[len(w.actors)-1].user // admin (all clients)
	put := func(key string, a, b int64) { w.ids[key] = [2]int64{a, b} }
	var ids [9][2]int64
	for i, c := range []int64{w.clientA.ID, w.clientB.ID} {
		a := risk.Asset{Code: fmt.Sprintf("srv-%d", i), Name: "Server", Type: magerit.Hardware, ClientID: c, Value: magerit.Values{"D": 6}}
		must(t, st.RiskCreateAsset(ctx, all, &a))
		r := risk.Risk{Title: "DoS", AssetID: a.ID, ThreatID: th.ID}
		must(t, st.RiskCreate(ctx, all, &r))
		p := policy.Policy{Code: fmt.Sprintf("pol-%d", i), Title: "Policy", ClientID: c}
		must(t, st.ISMSPolicyCreate(ctx, all, &p))
		v := policy.Version{Body: "# Rules"}
		must(t, st.ISMSPolicyAddVersion(ctx, all, p.ID, &v, []int64{admin.ID}, "seed"))
		must(t, st.ISMSPolicyApprove(ctx, admin.Principal(), v.ID, ""))
		must(t, st.ISMSPolicyPublish(ctx, all, v.ID, time.Now()))
		items, err := auditprog.Checklist(lib, catalog.ISO27001, []string{"A.5"}, nil, "en")
		must(t, err)
		au := auditprog.Audit{Title: "Audit", Kind: "internal", Framework: catalog.ISO27001, ClientID: c}
		must(t, st.ISMSAuditCreate(ctx, all, lib, &au, items))
		list, err := st.ISMSAuditChecklist(ctx, all, au.ID)
		must(t, err)
		f := auditprog.Finding{AuditID: au.ID, Kind: "nc_minor", Title: "Gap", Requirement: "A.5.1"}
		must(t, st.ISMSFindingCreate(ctx, all, &f))
		cp := auditprog.CAPA{FindingID: f.ID, Title: "Fix", DueDate: time.Now().AddDate(0, 1, 0)}
		must(t, st.ISMSCAPACreate(ctx, all, &cp))
		for j, id := range []int64{a.ID, r.ID, p.ID, v.ID, au.ID, list[0].ID, f.ID, cp.ID} {
			ids[j][i] = id
		}
	}
	for j, key := range []string{"ismsr.asset", "ismsr.risk", "ismsr.policy", "ismsr.version", "ismsr.audit", "ismsr.item", "ismsr.finding", "ismsr.capa"} {
		put(key, ids[j][0], ids[j][1])
	}
}

// ismsrTarget fills the module's paths; destructive routes get a fresh
// resource each time so that every actor meets one.
func ismsrTarget(w *world, rt authz.Route, inScope bool) (string, bool) {
	p := strings.TrimPrefix(rt.Path, "/api/v1")
	pick := func(key string) int64 {
		if inScope {
			return w.ids[key][0]
		}
		return w.ids[key][1]
	}
	var id int64
	switch {
	case strings.HasPrefix(p, "/isms/assets/{id}"):
		id = pick("ismsr.asset")
	case strings.HasPrefix(p, "/isms/threats/{id}"):
		id = pick("ismsr.threat")
	case strings.HasPrefix(p, "/isms/risks/{id}"):
		id = pick("ismsr.risk")
	case strings.HasPrefix(p, "/isms/policies/{id}"):
		id = pick("ismsr.policy")
	case strings.HasPrefix(p, "/isms/policy-versions/{id}"), strings.HasPrefix(p, "/me/policies/{id}"), strings.HasPrefix(p, "/policies/mine/{id}"):
		id = pick("ismsr.version")
	case strings.HasPrefix(p, "/isms/audits/{id}"), strings.HasPrefix(p, "/auditor/audits/{id}"):
		id = pick("ismsr.audit")
	case strings.HasPrefix(p, "/isms/findings/{id}"):
		id = pick("ismsr.finding")
	case strings.HasPrefix(p, "/isms/capas/{id}"):
		id = pick("ismsr.capa")
	default:
		return "", false
	}
	out := strings.ReplaceAll(rt.Path, "{id}", fmt.Sprint(id))
	out = strings.ReplaceAll(out, "{item}", fmt.Sprint(pick("ismsr.item")))
	out = strings.ReplaceAll(out, "{evidence}", fmt.Sprint(pick("isms.evidence")))
	if strings.Contains(out, "{grant}") {
		out = strings.ReplaceAll(out, "{grant}", fmt.Sprint(ismsrGrant(w, id)))
	}
	return out, true
}

// ismsrGrant creates an external auditor with a grant to audit and
// returns the grant's id (0 if it could not).
func ismsrGrant(w *world, auditID int64) int64 {
	ctx := context.Background()
	u := &identity.User{Username: fmt.Sprintf("ext-%d", ismsrSeq.Add(1)), Role: identity.RoleAuditor, ClientIDs: []int64{}, Active: true}
	if err := w.st.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, u, "", time.Now()) }); err != nil {
		return 0
	}
	g := auditprog.Grant{AuditID: auditID, UserID: u.ID, ExpiresAt: time.Now().Add(24 * time.Hour), CreatedBy: "test"}
	if err := w.st.ISMSAuditGrantCreate(ctx, identity.Scope{All: true}, &g); err != nil {
		return 0
	}
	return g.ID
}
