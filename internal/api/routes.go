package api

import (
	"net/http"
	"slices"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
)

// declare lists every API operation: all routes in one place.
func (s *Server) declare() {
	get, post, patch, del := http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
	read := func(rs []identity.Role) authz.Policy { return authz.Roles(roles(rs)...).WithClientScoped() }
	write := read
	id := pathParam("id", "the resource's id")

	// Meta.
	s.add(&operation{Method: get, Path: "/openapi.json", Policy: authz.Public(), ID: "getOpenAPI", Tag: "meta",
		Summary: "The OpenAPI 3.1 document of this API.", Response: map[string]any{}, Handler: s.openAPIHandler})
	s.add(&operation{Method: get, Path: "/me", Policy: authz.Authenticated().WithMFAOptional(), ID: "getMe", Tag: "me",
		Summary: "The caller: user, role, client scope and language.", Response: Me{}, Handler: s.getMe})

	// Organization.
	orgList := append([]param{queryParam("q", "string", "search text")}, pageParams...)
	s.add(&operation{Method: get, Path: "/clients", Policy: read(staff), ID: "listClients", Tag: "organization",
		Summary: "List the clients in the caller's scope.", Params: slices.Concat(orgList, []param{queryParam("active", "boolean", "only active (true) or inactive (false) clients")}),
		Response: List[org.Client]{}, Handler: s.listClients})
	s.add(&operation{Method: get, Path: "/clients/{id}", Policy: read(staff), ID: "getClient", Tag: "organization",
		Summary: "Get a client.", Params: []param{id}, Response: org.Client{}, Handler: s.getClient})
	s.add(&operation{Method: post, Path: "/clients", Policy: write(admins), ID: "createClient", Tag: "organization",
		Summary: "Create a client (callers who see every client).", Request: ClientInput{}, Status: http.StatusCreated, Response: org.Client{}, Handler: s.createClient})
	s.add(&operation{Method: patch, Path: "/clients/{id}", Policy: write(admins), ID: "updateClient", Tag: "organization",
		Summary: "Change a client's code, name, sector or active flag.", Params: []param{id}, Request: ClientInput{}, Response: org.Client{}, Handler: s.updateClient})

	s.add(&operation{Method: get, Path: "/sites", Policy: read(staff), ID: "listSites", Tag: "organization",
		Summary: "List the sites.", Params: orgList, Response: List[org.Site]{}, Handler: s.listSites})
	s.add(&operation{Method: get, Path: "/sites/{id}", Policy: read(staff), ID: "getSite", Tag: "organization",
		Summary: "Get a site.", Params: []param{id}, Response: org.Site{}, Handler: s.getSite})
	s.add(&operation{Method: post, Path: "/sites", Policy: write(admins), ID: "createSite", Tag: "organization",
		Summary: "Create a site.", Request: SiteInput{}, Status: http.StatusCreated, Response: org.Site{}, Handler: s.createSite})
	s.add(&operation{Method: patch, Path: "/sites/{id}", Policy: write(admins), ID: "updateSite", Tag: "organization",
		Summary: "Change a site.", Params: []param{id}, Request: SiteInput{}, Response: org.Site{}, Handler: s.updateSite})

	s.add(&operation{Method: get, Path: "/teams", Policy: read(staff), ID: "listTeams", Tag: "organization",
		Summary:  "List the teams of the caller's clients and the internal teams.",
		Params:   slices.Concat(orgList, []param{queryParam("site_id", "integer", "only this site's teams"), queryParam("client_id", "integer", "only this client's teams")}),
		Response: List[org.Team]{}, Handler: s.listTeams})
	s.add(&operation{Method: get, Path: "/teams/{id}", Policy: read(staff), ID: "getTeam", Tag: "organization",
		Summary: "Get a team.", Params: []param{id}, Response: org.Team{}, Handler: s.getTeam})
	s.add(&operation{Method: post, Path: "/teams", Policy: write(admins), ID: "createTeam", Tag: "organization",
		Summary: "Create a team.", Request: TeamInput{}, Status: http.StatusCreated, Response: org.Team{}, Handler: s.createTeam})
	s.add(&operation{Method: patch, Path: "/teams/{id}", Policy: write(admins), ID: "updateTeam", Tag: "organization",
		Summary: "Change a team.", Params: []param{id}, Request: TeamInput{}, Response: org.Team{}, Handler: s.updateTeam})

	// People.
	s.add(&operation{Method: get, Path: "/people", Policy: read(staff), ID: "listPeople", Tag: "people",
		Summary: "List and search the people in the caller's scope (supervisors: their teams).",
		Params: append([]param{
			queryParam("q", "string", "search employee id, name or email (accent-insensitive)"),
			queryParam("client_id", "integer", "only people working for this client"),
			queryParam("site_id", "integer", "only this site"),
			queryParam("team_id", "integer", "only this team"),
			queryParam("active", "boolean", "only active (true) or inactive (false) people"),
		}, pageParams...),
		Response: List[Person]{}, Handler: s.listPeople})
	s.add(&operation{Method: get, Path: "/people/{id}", Policy: read(staff), ID: "getPerson", Tag: "people",
		Summary: "Get a person.", Params: []param{id}, Response: Person{}, Handler: s.getPerson})
	s.add(&operation{Method: post, Path: "/people", Policy: write(peopleManagers), ID: "createPerson", Tag: "people",
		Summary: "Create a person.", Request: PersonInput{}, Status: http.StatusCreated, Response: Person{}, Handler: s.createPerson})
	s.add(&operation{Method: patch, Path: "/people/{id}", Policy: write(peopleManagers), ID: "updatePerson", Tag: "people",
		Summary: "Change a person; setting active to false deactivates them and revokes their accounts' sessions and tokens.",
		Params:  []param{id}, Request: PersonInput{}, Response: Person{}, Handler: s.updatePerson})
	s.add(&operation{Method: post, Path: "/people/{id}/deactivate", Policy: write(peopleManagers), ID: "deactivatePerson", Tag: "people",
		Summary: "Deactivate a leaver (never deleted) and revoke their accounts' sessions and tokens at once.",
		Params:  []param{id}, Request: DeactivateInput{}, Response: Person{}, Handler: s.deactivatePerson})
	s.add(&operation{Method: post, Path: "/people/import", Policy: write(peopleManagers), ID: "importPeople", Tag: "people",
		Summary: "Import people from CSV, idempotent on employee_id: dry_run=true previews; invalid rows need accept_valid_rows=true.",
		Params: []param{
			queryParam("dry_run", "boolean", "only report what would change"),
			queryParam("accept_valid_rows", "boolean", "import the valid rows even though some rows are invalid"),
			queryParam("deactivate_missing", "boolean", "deactivate active people (in scope) missing from the file"),
		},
		RequestCSV: true, Response: ImportResponse{}, Handler: s.importPeople})
	s.add(&operation{Method: get, Path: "/me/person", Policy: authz.Authenticated(), ID: "getMyPerson", Tag: "me",
		Summary: "The caller's own person record (the agents' portal).", Response: Person{}, Handler: s.getMyPerson})

	// Audit trail.
	s.add(&operation{Method: get, Path: "/audit", Policy: read(governance), ID: "listAudit", Tag: "audit",
		Summary: "List audit trail entries, newest first, filtered by actor, object, client, action and time.",
		Params:  auditParams, Response: AuditPage{}, Handler: s.listAudit})
	s.add(&operation{Method: get, Path: "/audit/export", Policy: read(governance), ID: "exportAudit", Tag: "audit",
		Summary:  "Export the audit trail and its signed checkpoints as JSON Lines (verify with custodia audit verify --file).",
		Params:   []param{queryParam("from_seq", "integer", "first entry (default 1)"), queryParam("to_seq", "integer", "last entry (default the head)")},
		Response: "", ResponseType: "application/x-ndjson", Handler: s.exportAudit})

	// Me: the caller's own profile and sessions.
	s.add(&operation{Method: patch, Path: "/me", Policy: authz.Authenticated().WithMFAOptional(), ID: "updateMe", Tag: "me",
		Summary: "Change the caller's display name or language (en, es, or empty for the browser's).", Request: MeInput{}, Response: Me{}, Handler: s.updateMe})
	sid := param{Name: "sid", In: "path", Type: "string", Required: true, Doc: "the session's id as listed"}
	s.add(&operation{Method: get, Path: "/me/sessions", Policy: authz.Authenticated().WithMFAOptional(), ID: "listMySessions", Tag: "me",
		Summary: "List the caller's sessions.", Params: pageParams, Response: List[Session]{}, Handler: s.mySessions})
	s.add(&operation{Method: del, Path: "/me/sessions/{sid}", Policy: authz.Authenticated().WithMFAOptional(), ID: "revokeMySession", Tag: "me",
		Summary: "Sign out one of the caller's sessions.", Params: []param{sid}, Handler: s.revokeMySession})

	// Users (administrators).
	s.add(&operation{Method: get, Path: "/users", Policy: authz.Roles(roles(admins)...), ID: "listUsers", Tag: "users",
		Summary: "List users.",
		Params: append([]param{
			queryParam("q", "string", "search username, email or name"),
			queryParam("role", "string", "only this role"),
			queryParam("active", "boolean", "only active (true) or disabled (false) users"),
		}, pageParams...),
		Response: List[User]{}, Handler: s.listUsers})
	s.add(&operation{Method: get, Path: "/users/{id}", Policy: authz.Roles(roles(admins)...), ID: "getUser", Tag: "users",
		Summary: "Get a user.", Params: []param{id}, Response: User{}, Handler: s.getUser})
	s.add(&operation{Method: post, Path: "/users", Policy: authz.Roles(roles(admins)...), ID: "createUser", Tag: "users",
		Summary: "Create a user; the one-time password, if generated, is in the answer only.", Request: NewUserInput{}, Status: http.StatusCreated, Response: CreatedUser{}, Handler: s.createUser})
	s.add(&operation{Method: patch, Path: "/users/{id}", Policy: authz.Roles(roles(admins)...), ID: "updateUser", Tag: "users",
		Summary: "Change a user's profile, role, client scope, teams, language or active flag.", Params: []param{id}, Request: UserInput{}, Response: User{}, Handler: s.updateUser})
	s.add(&operation{Method: post, Path: "/users/{id}/deactivate", Policy: authz.Roles(roles(admins)...), ID: "deactivateUser", Tag: "users",
		Summary: "Disable a user: their sessions end and their tokens are revoked at once.", Params: []param{id}, Response: User{}, Handler: s.deactivateUser})
	s.add(&operation{Method: get, Path: "/users/{id}/sessions", Policy: authz.Roles(roles(admins)...), ID: "listUserSessions", Tag: "users",
		Summary: "List a user's sessions.", Params: append([]param{id}, pageParams...), Response: List[Session]{}, Handler: s.userSessions})
	s.add(&operation{Method: del, Path: "/users/{id}/sessions/{sid}", Policy: authz.Roles(roles(admins)...), ID: "revokeUserSession", Tag: "users",
		Summary: "Sign out one of a user's sessions.", Params: []param{id, sid}, Handler: s.revokeUserSession})

	// API tokens (administrators).
	s.add(&operation{Method: get, Path: "/tokens", Policy: authz.Roles(roles(admins)...), ID: "listTokens", Tag: "tokens",
		Summary: "List API tokens (never their secrets).", Params: append([]param{queryParam("include_revoked", "boolean", "also list revoked tokens")}, pageParams...),
		Response: List[APIToken]{}, Handler: s.listTokens})
	s.add(&operation{Method: post, Path: "/tokens", Policy: authz.Roles(roles(admins)...), ID: "createToken", Tag: "tokens",
		Summary: "Create an API token with a role, client scope and expiry; its secret is in this answer only.",
		Request: TokenInput{}, Status: http.StatusCreated, Response: CreatedToken{}, Handler: s.createToken})
	s.add(&operation{Method: del, Path: "/tokens/{id}", Policy: authz.Roles(roles(admins)...), ID: "revokeToken", Tag: "tokens",
		Summary: "Revoke an API token at once.", Params: []param{id}, Handler: s.revokeToken})

	// Passwords and two-factor authentication.
	selfMFA := authz.Authenticated().WithMFAOptional()
	s.add(&operation{Method: post, Path: "/me/password", Policy: selfMFA, ID: "changeMyPassword", Tag: "me",
		Summary: "Change the caller's password (the other sessions end).", Request: PasswordChange{}, Handler: s.changeMyPassword})
	s.add(&operation{Method: post, Path: "/me/mfa", Policy: selfMFA, ID: "beginMyTOTP", Tag: "me",
		Summary: "Start TOTP enrolment: a new seed for an authenticator app, active once confirmed.", Response: TOTPEnrolment{}, Handler: s.beginMyTOTP})
	s.add(&operation{Method: post, Path: "/me/mfa/confirm", Policy: selfMFA, ID: "confirmMyTOTP", Tag: "me",
		Summary: "Confirm TOTP enrolment with a code; answers the recovery codes, once.", Request: TOTPCode{}, Response: RecoveryCodes{}, Handler: s.confirmMyTOTP})
	s.add(&operation{Method: post, Path: "/me/recovery-codes", Policy: authz.Authenticated(), ID: "regenerateMyRecoveryCodes", Tag: "me",
		Summary: "Replace the caller's recovery codes; answers the new ones, once.", Response: RecoveryCodes{}, Handler: s.regenerateMyRecoveryCodes})
	s.add(&operation{Method: post, Path: "/users/{id}/password", Policy: authz.Roles(roles(admins)...), ID: "resetUserPassword", Tag: "users",
		Summary: "Set a user's password, or generate a one-time one (answered once); their sessions end.",
		Params:  []param{id}, Request: PasswordReset{}, Response: OneTimePassword{}, Handler: s.resetUserPassword})
	s.add(&operation{Method: post, Path: "/users/{id}/mfa/reset", Policy: authz.Roles(roles(admins)...), ID: "resetUserMFA", Tag: "users",
		Summary: "Remove a user's TOTP and recovery codes (lost phone); their sessions end.", Params: []param{id}, Handler: s.resetUserMFA})

	// Product modules.
	s.declareFleet()
	s.declareIncidents()
	s.declareISMS()
	s.declareDataProtection()
	s.declareIncidentResponse()
	s.declareISMSRisk()
}
