package wire

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
)

func TestDecodeCheckin(t *testing.T) {
	for _, tc := range []struct {
		body string
		want string // "" = valid
	}{
		{`{"heartbeat":{"session_user":"ana","uptime_s":5},"policy_digest":"ab","results":[{"policy":"p","id":"c","result":"failed","evidence":[{"rule":"f:x"}]}]}`, ""},
		{`{}`, ""},
		{`{"heartbeat":`, "not valid JSON"},
		{`{} {}`, "data after"},
		{`{"results":[{"policy":"p","id":"c","result":"maybe"}]}`, "not one of"},
		{`{"results":[{"policy":"","id":"c","result":"passed"}]}`, "required"},
		{`{"heartbeat":{"uptime_s":-1}}`, "uptime_s"},
		{`{"results":[{"policy":"p","id":"` + strings.Repeat("x", 300) + `","result":"passed"}]}`, "at most"},
	} {
		_, err := DecodeCheckin([]byte(tc.body))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("DecodeCheckin(%.60s) = %v, want ok", tc.body, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("DecodeCheckin(%.60s) = %v, want error with %q", tc.body, err, tc.want)
		}
	}
}

func TestBundleAndCredential(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	b, err := SignBundle(priv, []Policy{{Name: "b", Source: "x"}, {Name: "a", Source: "y"}})
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := SignBundle(priv, []Policy{{Name: "a", Source: "y"}, {Name: "b", Source: "x"}})
	if b.Digest != b2.Digest {
		t.Error("digest depends on the order of the policies")
	}
	p, err := b.Verify(pub)
	if err != nil || p.Policies[0].Name != "a" {
		t.Fatalf("Verify = %+v, %v", p, err)
	}
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := b.Verify(other); err == nil {
		t.Error("bundle verified with another key")
	}
	cred := FormatCredential(42, make([]byte, CredentialLen))
	if id, err := ParseCredential(cred); err != nil || id != 42 {
		t.Errorf("ParseCredential(%q) = %d, %v", cred, id, err)
	}
	for _, bad := range []string{"", "cdv1.42", "cdv1.x.AAAA", "cdv2.42." + strings.Repeat("A", 43), "cdv1.42.AAAA"} {
		if _, err := ParseCredential(bad); err == nil {
			t.Errorf("ParseCredential(%q) accepted", bad)
		}
	}
}

func FuzzDecodeCheckin(f *testing.F) {
	f.Add([]byte(`{"heartbeat":{"session_user":"ana","agent_version":"1","uptime_s":5},"policy_digest":"ab","results":[{"policy":"p","id":"c","result":"failed","evidence":[{"rule":"f:x"}]}]}`))
	f.Add([]byte(`{"results":[{"policy":"p","id":"c","result":"passed","evidence":"x"}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"heartbeat":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeCheckin(b)
		if err != nil {
			return
		}
		for _, r := range req.Results {
			if !ValidResult(r.Result) || r.Policy == "" || r.ID == "" || len(r.Evidence) > MaxEvidence {
				t.Fatalf("accepted invalid result %+v", r)
			}
		}
	})
}

func FuzzDecodeReport(f *testing.F) {
	f.Add([]byte(`{"key":"k","text":"hello","category":"phishing"}`))
	f.Add([]byte(`{"text":"   "}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeReport(b)
		if err == nil && (req.Text == "" || len(req.Text) > MaxReportText) {
			t.Fatalf("accepted %+v", req)
		}
	})
}

func FuzzParseCredential(f *testing.F) {
	f.Add(FormatCredential(7, make([]byte, CredentialLen)))
	f.Add("cdv1..")
	f.Fuzz(func(t *testing.T, s string) {
		if id, err := ParseCredential(s); err == nil && id <= 0 {
			t.Fatalf("ParseCredential(%q) = %d", s, id)
		}
	})
}
