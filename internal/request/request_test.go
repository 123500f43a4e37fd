package request

import (
	"context"
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

func TestInfo(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if ID(r) != "" || IP(r) != "" || Secure(r) {
		t.Errorf("outside the server: id %q ip %q secure %v", ID(r), IP(r), Secure(r))
	}
	r = r.WithContext(WithInfo(context.Background(), &Info{ID: "x", IP: "192.0.2.1", Secure: true}))
	if ID(r) != "x" || IP(r) != "192.0.2.1" || !Secure(r) {
		t.Errorf("with info: id %q ip %q secure %v", ID(r), IP(r), Secure(r))
	}
	r2 := httptest.NewRequest("GET", "/", nil)
	r2.TLS = &tls.ConnectionState{}
	if !Secure(r2) {
		t.Error("a TLS request is not secure")
	}
}
