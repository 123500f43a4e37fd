package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
)

// benchApp serves the demo organization at scale 10 (about 3,000 people) on
// SQLite and returns the handler and an administrator's API token.
func benchApp(b *testing.B) (http.Handler, string) {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	st, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	keys, err := secret.New(secret.Generate())
	if err != nil {
		b.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.DataDir, cfg.Demo = dir, true
	a, err := New(ctx, Options{Config: cfg, Store: st, Keys: keys, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), DemoScale: 10})
	if err != nil {
		b.Fatal(err)
	}
	admin, err := st.UserByUsername(ctx, "admin")
	if err != nil {
		b.Fatal(err)
	}
	tok, _, err := a.Identity.CreateAPIToken(ctx, admin.Principal(), auth.NewAPIToken{Name: "bench", Role: identity.RoleAdmin, AllClients: true})
	if err != nil {
		b.Fatal(err)
	}
	return a.Server, tok
}

func benchGet(b *testing.B, path string) {
	h, tok := benchApp(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("GET %s = %d", path, w.Code)
			}
		}
	})
}

func BenchmarkAPIPeopleList(b *testing.B)    { benchGet(b, "/api/v1/people?limit=50") }
func BenchmarkAPIPeopleSearch(b *testing.B)  { benchGet(b, "/api/v1/people?limit=50&q=garc") }
func BenchmarkPeoplePage(b *testing.B)       { benchGet(b, "/people") }
func BenchmarkPeopleSearchPage(b *testing.B) { benchGet(b, "/people?q=garc") }

func BenchmarkAPIPeopleList50(b *testing.B) {
	h, tok := benchApp(b)
	b.SetParallelism(25)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", "/api/v1/people?limit=50", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}
