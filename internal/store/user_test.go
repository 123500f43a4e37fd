package store_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// idFixture inserts a client, a site, a team and a person with raw SQL and
// returns their ids (client, team, person).
func idFixture(t *testing.T, s *store.Store) (clientID, teamID, personID int64) {
	t.Helper()
	ctx := context.Background()
	now := store.TimeArg(time.Now())
	err := s.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if clientID, err = tx.InsertID(ctx, "INSERT INTO clients (code, name, name_lower, created_at, updated_at) VALUES ('bankx', 'Bank X', 'bank x', ?, ?) RETURNING id", now, now); err != nil {
			return err
		}
		siteID, err := tx.InsertID(ctx, "INSERT INTO sites (code, name, created_at, updated_at) VALUES ('mad', 'Madrid', ?, ?) RETURNING id", now, now)
		if err != nil {
			return err
		}
		if teamID, err = tx.InsertID(ctx, "INSERT INTO teams (site_id, client_id, code, name, created_at, updated_at) VALUES (?, ?, 'bx1', 'BX 1', ?, ?) RETURNING id", siteID, clientID, now, now); err != nil {
			return err
		}
		personID, err = tx.InsertID(ctx, `INSERT INTO people (employee_id, full_name, email, search_text, site_id, team_id, created_at, updated_at)
			VALUES ('E1', 'Ana Ruiz', 'ana@example.com', 'e1 ana ruiz ana@example.com', ?, ?, ?, ?) RETURNING id`, siteID, teamID, now, now)
		return err
	})
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return clientID, teamID, personID
}

func createTestUser(t *testing.T, s *store.Store, u *identity.User) {
	t.Helper()
	u.Normalize()
	if err := u.Validate(); err != nil {
		t.Fatalf("validate %s: %v", u.Username, err)
	}
	err := s.InTx(context.Background(), func(tx *store.Tx) error {
		return tx.CreateUser(context.Background(), u, "$argon2id$fake", time.Now())
	})
	if err != nil {
		t.Fatalf("create user %s: %v", u.Username, err)
	}
}

func TestUserCreateUpdate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		clientID, teamID, personID := idFixture(t, s)
		u := &identity.User{Username: " Ana.Ruiz ", Email: "ANA@example.com", Role: identity.RoleSupervisor,
			ClientIDs: []int64{clientID}, TeamIDs: []int64{teamID}, PersonID: personID, Active: true}
		createTestUser(t, s, u)
		got, err := s.UserByUsername(ctx, "ana.ruiz")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || got.Email != "ana@example.com" || got.PersonID != personID || !got.HasPassword ||
			len(got.ClientIDs) != 1 || got.ClientIDs[0] != clientID || len(got.TeamIDs) != 1 {
			t.Fatalf("UserByUsername = %+v", got)
		}
		// Unknown client: field error, nothing written.
		bad := &identity.User{Username: "bob", Role: identity.RoleAgent, ClientIDs: []int64{9999}, Active: true}
		err = s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, bad, "", time.Now()) })
		var fe identity.FieldErrors
		if !errors.As(err, &fe) || fe["client_ids"] == "" {
			t.Fatalf("CreateUser(unknown client) = %v, want field error on client_ids", err)
		}
		dup := &identity.User{Username: "ana.ruiz", Role: identity.RoleAgent, Active: true}
		err = s.InTx(ctx, func(tx *store.Tx) error { return tx.CreateUser(ctx, dup, "", time.Now()) })
		if !errors.As(err, &fe) || fe["username"] == "" {
			t.Fatalf("CreateUser(duplicate) = %v, want field error on username", err)
		}
		// Role change is audited as such.
		got.Role = identity.RoleSecurity
		got.TeamIDs = nil
		got.AllClients, got.ClientIDs = true, nil
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateUser(ctx, got, time.Now()) }); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := s.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'user.role_change' AND object_id = ?", idStr(u.ID)).Scan(&n); err != nil || n != 1 {
			t.Fatalf("role_change entries = %d, %v; want 1", n, err)
		}
		list, total, err := s.Users(ctx, identity.UserFilter{Query: "ANA"})
		if err != nil || total != 1 || len(list) != 1 || list[0].Role != identity.RoleSecurity || !list[0].AllClients {
			t.Fatalf("Users = %+v, %d, %v", list, total, err)
		}
	})
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func TestRevokePersonAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, _, personID := idFixture(t, s)
		u := &identity.User{Username: "leaver", Role: identity.RoleAgent, PersonID: personID, Active: true}
		createTestUser(t, s, u)
		other := &identity.User{Username: "stayer", Role: identity.RoleAgent, Active: true}
		createTestUser(t, s, other)
		now := time.Now()
		err := s.InTx(ctx, func(tx *store.Tx) error {
			for _, uid := range []int64{u.ID, other.ID} {
				if err := tx.CreateSession(ctx, &identity.Session{ID: "sess-" + itoa(uid), UserID: uid, CreatedAt: now, LastSeenAt: now,
					ExpiresAt: now.Add(time.Hour), CSRFSecret: []byte("0123456789abcdef")}); err != nil {
					return err
				}
				tok := &identity.APIToken{Name: "t" + itoa(uid), Prefix: "cust_x", Role: identity.RoleAgent, CreatedBy: uid, CreatedAt: now}
				if err := tx.CreateAPIToken(ctx, tok, "hash-"+itoa(uid)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.RevokePersonAccess(ctx, personID) }); err != nil {
			t.Fatalf("RevokePersonAccess: %v", err)
		}
		got, _ := s.User(ctx, u.ID)
		if got.Active {
			t.Errorf("leaver still active")
		}
		if _, err := s.Session(ctx, "sess-"+itoa(u.ID)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("leaver's session: err = %v, want ErrNotFound", err)
		}
		if tok, err := s.APITokenByHash(ctx, "hash-"+itoa(u.ID)); err != nil || tok.RevokedAt.IsZero() {
			t.Errorf("leaver's token = %+v, %v; want revoked", tok, err)
		}
		if _, err := s.Session(ctx, "sess-"+itoa(other.ID)); err != nil {
			t.Errorf("other's session: %v", err)
		}
		if tok, err := s.APITokenByHash(ctx, "hash-"+itoa(other.ID)); err != nil || !tok.RevokedAt.IsZero() {
			t.Errorf("other's token = %+v, %v; want not revoked", tok, err)
		}
		var n int
		if err := s.QueryRow(ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'user.deactivate' AND object_id = ?", itoa(u.ID)).Scan(&n); err != nil || n != 1 {
			t.Errorf("user.deactivate entries = %d, %v; want 1", n, err)
		}
		// Idempotent: a second call changes nothing.
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.RevokePersonAccess(ctx, personID) }); err != nil {
			t.Fatalf("RevokePersonAccess again: %v", err)
		}
	})
}
