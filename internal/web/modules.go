package web

import (
	"slices"
	"strings"

	"github.com/custodia/custodia/internal/identity"
)

// Module is a product module's entry in the console navigation. Modules
// that are not built into this binary are not listed at all, so the
// navigation never links to a page that does not exist.
type Module struct {
	// Key names the module in the catalogue: "nav.<Key>" is its label.
	Key string
	// Path is the module's home page, e.g. "/isms".
	Path string
	// Roles may see the link (the module's routes enforce their own policies).
	Roles []identity.Role
	// External: external accounts (invited auditors) see the link too;
	// they see no other.
	External bool
}

// The module keys the navigation knows (labels exist in the catalogue).
// A module registers itself by being passed in Deps.Modules.
const (
	ModuleISMS           = "isms"
	ModuleIncidents      = "incidents"
	ModuleCulture        = "culture"
	ModuleWorkstations   = "workstations"
	ModuleDataProtection = "dataprotection"
	ModuleSupervision    = "supervision"
)

type navLink struct {
	Key    string // message key
	Path   string
	Active bool
}

// foundation lists the foundation's own sections, in navigation order.
var foundation = []Module{
	{Key: "home", Path: "/", Roles: staff},
	{Key: "people", Path: "/people", Roles: staff},
	{Key: "teams", Path: "/teams", Roles: staff},
	{Key: "sites", Path: "/sites", Roles: staff},
	{Key: "clients", Path: "/clients", Roles: staff},
	{Key: "users", Path: "/users", Roles: admins},
	{Key: "tokens", Path: "/tokens", Roles: admins},
	{Key: "audit", Path: "/audit", Roles: governance},
}

// nav returns the links p may follow: the foundation's sections, then the
// modules present in this build. Agents get only their portal.
func (s *Server) nav(p *identity.Principal) []navLink {
	var out []navLink
	add := func(m Module) {
		if p.External && !m.External {
			return
		}
		if slices.Contains(m.Roles, p.Role) {
			out = append(out, navLink{Key: "nav." + m.Key, Path: m.Path})
		}
	}
	for _, m := range foundation {
		add(m)
	}
	for _, m := range s.modules {
		add(m)
	}
	return out
}

// markActive flags the link whose section contains path.
func markActive(links []navLink, path string) []navLink {
	best := -1
	for i, l := range links {
		if l.Path == path || (l.Path != "/" && strings.HasPrefix(path, l.Path+"/")) {
			if best < 0 || len(l.Path) > len(links[best].Path) {
				best = i
			}
		}
	}
	if best >= 0 {
		links[best].Active = true
	}
	return links
}
