package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/custodia/custodia/internal/identity"
)

// TestISMSConsoleRefusals: a malformed import says where and why and
// changes nothing; deleting a control that evidence refers to lists it; a
// client-limited officer does not see another client's control.
func TestISMSConsoleRefusals(t *testing.T) {
	e := newISMSStack(t)
	e.seedSmall()
	e.addUser("alice", identity.RoleAdmin, true, nil)
	e.addUser("bank", identity.RoleSecurity, true, func(u *identity.User) { u.AllClients, u.ClientIDs = false, []int64{e.clientA.ID} })
	b := e.browser()
	b.signIn("alice")

	r := b.post("/isms/frameworks", url.Values{"key": {"acme"}, "format": {"oscal"}, "document": {"{\"catalog\": {\n  \"uuid\": 7}}"}})
	wantStatus(t, "malformed import", r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, "nothing changed") || !strings.Contains(r.body, "line 2") {
		t.Fatalf("malformed import page lacks where and why:\n%s", truncateForLog(r.body))
	}
	if r := b.get("/isms/frameworks"); strings.Contains(r.body, "<code>acme</code>") {
		t.Fatal("the refused import is listed")
	}

	r = b.post("/isms/controls", url.Values{"code": {"BANK-1"}, "title": {"Bank MFA"}, "status": {"implemented"}, "effectiveness": {"effective"},
		"client_id": {strconv.FormatInt(e.clientA.ID, 10)}, "requirements": {"iso27001-2022:A.8.5\nens-rd311-2022:op.acc.6"}})
	wantStatus(t, "create control", r, http.StatusSeeOther)
	ctl := strings.TrimSuffix(r.location, "?done=saved")
	r = b.post("/isms/controls", url.Values{"code": {"X"}, "title": {"X"}, "client_id": {"0"}, "requirements": {"iso27001-2022:Z.9"}})
	wantStatus(t, "control with an unknown requirement", r, http.StatusUnprocessableEntity)
	if !strings.Contains(r.body, "unknown requirement iso27001-2022:Z.9") {
		t.Fatalf("unknown requirement not reported:\n%s", truncateForLog(r.body))
	}
	r = b.post("/isms/evidence", url.Values{"kind": {"link"}, "title": {"IdP report"}, "url": {"https://idp.example/report"},
		"control_id": {strings.TrimPrefix(ctl, "/isms/controls/")}, "back": {ctl}})
	wantStatus(t, "add evidence", r, http.StatusSeeOther)
	r = b.post(ctl+"/delete", url.Values{})
	wantStatus(t, "delete control with evidence", r, http.StatusConflict)
	if !strings.Contains(r.body, "IdP report") {
		t.Fatalf("refusal does not list the evidence:\n%s", truncateForLog(r.body))
	}
	if r := b.get(ctl); !strings.Contains(r.body, "green") {
		t.Fatalf("control with fresh evidence is not green:\n%s", truncateForLog(r.body))
	}

	doc := `{"catalog": {"uuid": "u", "metadata": {"title": "ACME"}, "controls": [{"id": "r1", "title": "One"}, {"id": "r2", "title": "Two"}]}}`
	wantStatus(t, "import", b.post("/isms/frameworks", url.Values{"key": {"acme"}, "format": {"oscal"}, "document": {doc}}), http.StatusSeeOther)
	wantStatus(t, "control on acme", b.post("/isms/controls", url.Values{"code": {"ACME-1"}, "title": {"Acme"}, "client_id": {"0"}, "requirements": {"acme:r1"}}), http.StatusSeeOther)
	r = b.post("/isms/soa/acme/r1/delete", url.Values{})
	wantStatus(t, "delete referenced requirement", r, http.StatusConflict)
	if !strings.Contains(r.body, "ACME-1") {
		t.Fatalf("refusal does not list the control:\n%s", truncateForLog(r.body))
	}
	wantStatus(t, "delete free requirement", b.post("/isms/soa/acme/r2/delete", url.Values{}), http.StatusSeeOther)
	if r := b.get("/isms/soa/acme"); strings.Contains(r.body, ">r2<") || !strings.Contains(r.body, ">r1<") {
		t.Fatalf("after deleting r2 the SoA shows:\n%s", truncateForLog(r.body))
	}

	other := e.browser()
	other.signIn("bank")
	if r := other.get(ctl); r.status != http.StatusOK {
		t.Fatalf("client A's officer reads client A's control: %d", r.status)
	}
	b.post("/isms/controls", url.Values{"code": {"TEL-1"}, "title": {"Telco"}, "client_id": {strconv.FormatInt(e.clientB.ID, 10)}})
	if r := other.get("/isms/controls"); strings.Contains(r.body, "TEL-1") || !strings.Contains(r.body, "BANK-1") {
		t.Fatalf("client A's officer's list is not segregated:\n%s", truncateForLog(r.body))
	}
}
