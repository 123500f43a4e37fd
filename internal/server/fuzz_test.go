package server

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzForwardedFor checks the client address chosen from any
// X-Forwarded-For value against a straightforward reference: the right-most
// hop that is not a trusted proxy, the walk stopping at a malformed hop.
func FuzzForwardedFor(f *testing.F) {
	for _, seed := range []string{"203.0.113.9, 10.0.0.7", "", "garbage", "::1, 10.0.0.1", "1.2.3.4,,5.6.7.8", "[::1]:80", strings.Repeat("10.0.0.1,", 50)} {
		f.Add(seed)
	}
	s := &Server{proxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	f.Fuzz(func(t *testing.T, xff string) {
		got, ok := s.forwardedFor([]string{xff})
		var want netip.Addr
		hops := strings.Split(xff, ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			want = a.Unmap()
			if !s.trusted(want) {
				break
			}
		}
		if ok != want.IsValid() || got != want {
			t.Fatalf("forwardedFor(%q) = %v, %v; want %v", xff, got, ok, want)
		}
	})
}

// FuzzRequestID checks that only plain, short ids are accepted.
func FuzzRequestID(f *testing.F) {
	for _, seed := range []string{"abc-123", "", "a b", "x\ny", strings.Repeat("a", 65), "ok_id.1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if validRequestID(id) && (len(id) > 64 || strings.ContainsAny(id, " \t\r\n\"'\\{}<>") || id == "") {
			t.Fatalf("validRequestID(%q) = true", id)
		}
	})
}
