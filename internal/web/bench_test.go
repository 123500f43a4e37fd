package web

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/custodia/custodia/internal/demo"
	"github.com/custodia/custodia/internal/identity"
)

// BenchmarkPeoplePage renders the people list (50 rows of the demo's ~300
// people) through the whole handler stack over loopback.
func BenchmarkPeoplePage(b *testing.B) {
	e := newStack(b)
	if _, err := demo.Seed(context.Background(), e.st, demo.Options{}); err != nil {
		b.Fatal(err)
	}
	e.addUser("alice", identity.RoleAdmin, true, nil)
	br := e.browser()
	br.signIn("alice")
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/people", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := br.c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}
