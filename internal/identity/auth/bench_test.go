package auth

import (
	"context"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store/storetest"
)

// BenchmarkSessionPrincipal measures resolving a session cookie to a
// principal on SQLite (what every console request does).
func BenchmarkSessionPrincipal(b *testing.B) {
	ctx := context.Background()
	st := storetest.SQLite(b)
	keys, _ := secret.New(secret.Generate())
	svc := NewService(st, keys, Config{Password: fastParams}, nil)
	if _, _, err := svc.CreateUser(ctx, nil, NewUser{User: identity.User{Username: "sara", Role: identity.RoleSupervisor, AllClients: true}, Password: goodPassword}); err != nil {
		b.Fatal(err)
	}
	res, err := svc.PasswordLogin(ctx, "sara", goodPassword, "127.0.0.1", "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.SessionPrincipal(ctx, res.Token); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTokenPrincipal measures resolving an API token on SQLite.
func BenchmarkTokenPrincipal(b *testing.B) {
	ctx := context.Background()
	st := storetest.SQLite(b)
	keys, _ := secret.New(secret.Generate())
	svc := NewService(st, keys, Config{Password: fastParams}, nil)
	u, _, err := svc.CreateUser(ctx, nil, NewUser{User: identity.User{Username: "ada", Role: identity.RoleAdmin, AllClients: true}, Password: goodPassword})
	if err != nil {
		b.Fatal(err)
	}
	plain, _, err := svc.CreateAPIToken(ctx, u.Principal(), NewAPIToken{Name: "bench", Role: identity.RoleAuditor, AllClients: true, ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.TokenPrincipal(ctx, plain); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPasswordHash measures one argon2id hash with the default parameters.
func BenchmarkPasswordHash(b *testing.B) {
	for b.Loop() {
		identity.HashPassword(goodPassword, identity.DefaultPasswordParams)
	}
}
