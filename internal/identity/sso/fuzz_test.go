package sso

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/custodia/custodia/internal/identity"
)

// FuzzParseRoleMap: any --oidc-role-map either fails or maps to real roles.
func FuzzParseRoleMap(f *testing.F) {
	for _, s := range []string{"", "a=admin", "cc-ciso=security, cc-sup=supervisor", "=", "a=b=c", ",,,", "x=agent,x=dpo"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseRoleMap(s)
		if err != nil {
			return
		}
		for k, r := range m {
			if k == "" || !slices.Contains(identity.Roles, r) {
				t.Fatalf("ParseRoleMap(%q) = %v", s, m)
			}
		}
	})
}

// FuzzMapClaims: any ID token payload either maps to a known role or is
// refused, without panicking.
func FuzzMapClaims(f *testing.F) {
	for _, s := range []string{
		`{"iss":"https://idp","sub":"1","roles":["Custodia.Admin"],"custodia_clients":"*"}`,
		`{"sub":"2","realm_access":{"roles":["custodia-sup","x"]},"custodia_clients":["bankx","telcoy"]}`,
		`{"sub":"3","roles":"auditor dpo","custodia_clients":"bankx, telcoy"}`,
		`{"roles":[1,2,{"a":null}],"custodia_clients":{"x":1}}`,
		`{}`,
	} {
		f.Add([]byte(s))
	}
	s := &SSO{cfg: Config{RoleClaim: "roles", ClientsClaim: "custodia_clients", RoleMap: map[string]identity.Role{"Custodia.Admin": identity.RoleAdmin}}}
	k := &SSO{cfg: Config{RoleClaim: "realm_access.roles", ClientsClaim: "custodia_clients", RoleMap: map[string]identity.Role{"custodia-sup": identity.RoleSupervisor}}}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c oidc.IDTokenClaims
		if err := json.Unmarshal(b, &c); err != nil {
			return
		}
		for _, m := range []*SSO{s, k} {
			id, err := m.Map(&c)
			if err != nil {
				continue
			}
			if !slices.Contains(identity.Roles, id.Role) || (id.AllClients && len(id.ClientCodes) > 0) {
				t.Fatalf("Map(%s) = %+v", b, id)
			}
		}
	})
}
