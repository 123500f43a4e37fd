package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC)

// testKey is a fixed key so exports are reproducible.
func testKey(tb testing.TB) *SigningKey {
	tb.Helper()
	k, err := NewSigningKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// chain builds n entries, with a checkpoint after every sealEvery-th entry and
// after the last one.
func chain(tb testing.TB, n int, sealEvery int) ([]Entry, map[int64]Checkpoint) {
	tb.Helper()
	key := testKey(tb)
	var out []Entry
	cps := map[int64]Checkpoint{}
	var prevSeq int64
	prev := ""
	for i := 0; i < n; i++ {
		rec := Record{
			Time: t0.Add(time.Duration(i) * time.Second), Actor: "ana", ActorUserID: 3,
			Action: "person.update", ObjectType: "person", ObjectID: fmt.Sprint(100 + i), ClientID: int64(i%3 + 1),
			RequestID: fmt.Sprintf("req-%d", i), IP: "10.0.0.7",
			Before: map[string]any{"name": "Ana", "n": i}, After: map[string]any{"name": "Ana B.", "n": i},
			Detail: "line\n\"quoted\" \x01 ñ",
		}
		e, err := NewEntry(rec, prevSeq, prev)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, e)
		prevSeq, prev = e.Seq, e.Hash
		if (sealEvery > 0 && (i+1)%sealEvery == 0) || i == n-1 {
			cps[e.Seq] = key.Sign(e.Seq, e.Hash, t0.Add(time.Hour))
		}
	}
	return out, cps
}

func verifyChain(entries []Entry, cps map[int64]Checkpoint, opts VerifyOptions) *Report {
	v := NewVerifier(opts)
	for _, e := range entries {
		v.Entry(e)
		if c, ok := cps[e.Seq]; ok {
			v.Checkpoint(c)
		}
	}
	return v.Finish()
}

func TestCanonicalEncoding(t *testing.T) {
	e := Entry{Seq: 7, At: t0, Actor: "ana", ActorUserID: 3, Action: "person.update", ObjectType: "person", ObjectID: "42",
		ClientID: 2, RequestID: "r1", IP: "::1", BeforeDigest: "b", AfterDigest: "a", Detail: "tab\t\"q\" \\ \x01 <ñ>", PrevHash: GenesisHash}
	want := `{"action":"person.update","actor":"ana","actor_user_id":3,"after_digest":"a","at":"2026-03-01T09:30:00.123456Z","before_digest":"b","client_id":2,"detail":"tab\t\"q\" \\ \u0001 <ñ>","ip":"::1","object_id":"42","object_type":"person","prev_hash":"` + GenesisHash + `","request_id":"r1","seq":7}`
	if got := string(e.Canonical()); got != want {
		t.Fatalf("Canonical() =\n%s\nwant\n%s", got, want)
	}
	if got, want := e.ComputeHash(), hashHex([]byte(want)); got != want {
		t.Errorf("ComputeHash() = %s, want %s", got, want)
	}
}

func TestDigest(t *testing.T) {
	type person struct {
		Name string `json:"name"`
		Age  int    `json:"age"`
	}
	a, err := Digest(person{"Ana", 30})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Digest(map[string]any{"age": 30, "name": "Ana"})
	if a != b || len(a) != 64 {
		t.Errorf("Digest(struct) = %s, Digest(map) = %s; want equal hex SHA-256", a, b)
	}
	c, _ := Digest(person{"Ana", 31})
	if c == a {
		t.Error("different values digest alike")
	}
	if d, _ := Digest(nil); d != "" {
		t.Errorf("Digest(nil) = %q, want empty", d)
	}
	if _, err := Digest(make(chan int)); err == nil {
		t.Error("Digest(chan) succeeded, want error")
	}
	canon, _ := CanonicalJSON(map[string]any{"b": "<&>", "a": []int{1, 2}})
	if got, want := string(canon), `{"a":[1,2],"b":"<&>"}`; got != want {
		t.Errorf("CanonicalJSON = %s, want %s", got, want)
	}
}

func TestNewEntryNormalizes(t *testing.T) {
	e, err := NewEntry(Record{Action: "x", Actor: "bad\xffutf8", Time: t0.Add(999 * time.Nanosecond)}, 0, "ignored")
	if err != nil {
		t.Fatal(err)
	}
	if e.Seq != 1 || e.PrevHash != GenesisHash || e.Actor != "bad\uFFFDutf8" || !e.At.Equal(t0) {
		t.Errorf("NewEntry = %+v", e)
	}
	if _, err := NewEntry(Record{}, 0, ""); err == nil {
		t.Error("NewEntry without action succeeded")
	}
}

func TestVerifyValidChain(t *testing.T) {
	entries, cps := chain(t, 50, 10)
	rep := verifyChain(entries, cps, VerifyOptions{TrustedKeys: []ed25519.PublicKey{testKey(t).PublicKey()}, RequireSealed: true})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	if rep.Entries != 50 || rep.Checkpoints != 5 || rep.SealedSeq != 50 || rep.Keys[testKey(t).KeyID()] != 5 {
		t.Errorf("report = %+v", rep)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	other, _ := NewSigningKey(bytes.Repeat([]byte{9}, 32))
	tests := []struct {
		name   string
		tamper func(es []Entry, cps map[int64]Checkpoint) ([]Entry, map[int64]Checkpoint)
		opts   VerifyOptions
		kind   string
		seq    int64
		msg    string
	}{
		{"edited", func(es []Entry, c map[int64]Checkpoint) ([]Entry, map[int64]Checkpoint) {
			es[16].Actor = "mallory"
			return es, c
		}, VerifyOptions{}, KindAltered, 17, "entry 17: hash mismatch — altered"},
		{"edited with recomputed hash", func(es []Entry, c map[int64]Checkpoint) ([]Entry, map[int64]Checkpoint) {
			es[16].Detail = "nothing to see"
			es[16].Hash = es[16].ComputeHash()
			return es, c
		}, VerifyOptions{}, KindAltered, 17, "entry 17: altered"},
		{"deleted", func(es []Entry, c map[int64]Checkpoint) ([]Entry, map[int64]Checkpoint) {
			return append(es[:16:16], es[17:]...), c
		}, VerifyOptions{}, KindRemoved, 17, "entry 17 missing (sequence jumps 16 → 18) — removed"},
		{"two deleted", func(es []Entry, c map[int64]Checkpoint) ([]Entry, map[int64]Checkpoint) {
			return append(es[:16:16], es[18:]...), c
		}, VerifyOptions{}, KindRemoved, 17, "entries 17–18 missing"},
		{"swapped", func(es []Entry, c map[int64]Checkpoint) ([]Entry, map[int64]Checkpoint) {
			es[16], es[17] = es[17], es[16]
			return es, c
		}, VerifyOptions{}, KindReordered, 17, "entry 17 appears after entry 18 — reordered"},
		{"first removed", func(es []Entry, c map[int64]Checkpoint) ([]Entry, map[int64]Checkpoint) {
			return es[1:], c
		}, VerifyOptions{}, KindRemoved, 1, "entry 1 missing"},
		{"tail removed", func(es []Entry, c map[int64]Checkpoint) ([]Entry, map[int64]Checkpoint) {
			c[45] = c[50]
			delete(c, 50)
			return es[:45], c
		}, VerifyOptions{}, KindRemoved, 46, "entries 46–50 missing"},
		{"rewritten chain", func(es []Entry, c map[int64]Checkpoint) ([]Entry, map[int64]Checkpoint) {
			es[24].Detail = "rewritten"
			for i := 24; i < len(es); i++ {
				if i > 24 {
					es[i].PrevHash = es[i-1].Hash
				}
				es[i].Hash = es[i].ComputeHash()
			}
			return es, c
		}, VerifyOptions{}, KindRewritten, 21, "entries 21–30 were rewritten"},
		{"forged checkpoint", func(es []Entry, c map[int64]Checkpoint) ([]Entry, map[int64]Checkpoint) {
			cp := c[20]
			cp.Hash = es[18].Hash
			c[20] = cp
			return es, c
		}, VerifyOptions{}, KindForged, 20, "checkpoint at entry 20: bad signature — forged or altered"},
		{"untrusted key", func(es []Entry, c map[int64]Checkpoint) ([]Entry, map[int64]Checkpoint) {
			c[20] = other.Sign(20, es[19].Hash, t0)
			return es, c
		}, VerifyOptions{TrustedKeys: []ed25519.PublicKey{testKey(t).PublicKey()}}, KindForged, 20, "not trusted"},
		{"unsealed tail", func(es []Entry, c map[int64]Checkpoint) ([]Entry, map[int64]Checkpoint) {
			delete(c, 50)
			return es, c
		}, VerifyOptions{RequireSealed: true}, KindUnsealed, 41, "entries 41–50 are not covered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, cps := chain(t, 50, 10)
			es, cps = tt.tamper(es, cps)
			rep := verifyChain(es, cps, tt.opts)
			if rep.OK() {
				t.Fatal("verification passed, want failure")
			}
			p := rep.EntryProblem
			if tt.kind == KindForged {
				p = rep.CheckpointProblem
			}
			if p == nil || p.Kind != tt.kind || p.Seq != tt.seq || !strings.Contains(p.Message, tt.msg) {
				t.Fatalf("problem = %+v, want kind %s at %d containing %q (report %+v)", p, tt.kind, tt.seq, tt.msg, rep)
			}
		})
	}
}

func export(tb testing.TB, entries []Entry, cps map[int64]Checkpoint) []byte {
	tb.Helper()
	var buf bytes.Buffer
	x, err := NewExportWriter(&buf, entries[0].Seq)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range entries {
		if err := x.Entry(&entries[i]); err != nil {
			tb.Fatal(err)
		}
		if c, ok := cps[entries[i].Seq]; ok {
			if err := x.Checkpoint(&c); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := x.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func strictOptions(tb testing.TB) ExportOptions {
	return ExportOptions{Full: true, VerifyOptions: VerifyOptions{TrustedKeys: []ed25519.PublicKey{testKey(tb).PublicKey()}, RequireSealed: true}}
}

func TestExportRoundTrip(t *testing.T) {
	entries, cps := chain(t, 30, 7)
	data := export(t, entries, cps)
	rep, err := VerifyExport(bytes.NewReader(data), strictOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	if rep.Entries != 30 || rep.Checkpoints != 5 || rep.LastHash != entries[29].Hash {
		t.Errorf("report = %+v", rep)
	}
	// Partial exports verify on their own, without the first link.
	part := export(t, entries[10:], cps)
	rep, _ = VerifyExport(bytes.NewReader(part), ExportOptions{})
	if err := rep.Err(); err != nil || rep.FirstSeq != 11 {
		t.Fatalf("partial export: %v, %+v", err, rep)
	}
	rep, _ = VerifyExport(bytes.NewReader(part), ExportOptions{Full: true})
	if rep.OK() {
		t.Error("partial export accepted as full")
	}
}

func TestExportTampering(t *testing.T) {
	entries, cps := chain(t, 30, 7)
	data := export(t, entries, cps)
	lines := strings.SplitAfter(string(data), "\n")
	tests := []struct {
		name string
		edit func() string
		want string
	}{
		{"edited field", func() string { return strings.Replace(string(data), `"object_id":"105"`, `"object_id":"999"`, 1) }, "entry 6: hash mismatch — altered"},
		{"removed line", func() string { return strings.Join(append(lines[:5:5], lines[6:]...), "") }, "removed"},
		{"swapped lines", func() string {
			l := append([]string(nil), lines...)
			l[2], l[3] = l[3], l[2]
			return strings.Join(l, "")
		}, "entry 2 appears after entry 3 — reordered"},
		{"non-canonical escape", func() string { return strings.Replace(string(data), `"actor":"ana"`, `"actor":"\u0061na"`, 1) }, "malformed"},
		{"whitespace", func() string { return strings.Replace(string(data), `"actor":"ana"`, `"actor": "ana"`, 1) }, "malformed"},
		{"crlf", func() string { return strings.Replace(string(data), "\n", "\r\n", 1) }, "malformed"},
		{"truncated", func() string { return strings.Join(lines[:len(lines)-2], "") }, "truncated"},
		{"empty", func() string { return "" }, "no header"},
		{"garbage", func() string { return "{\n" }, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := VerifyExport(strings.NewReader(tt.edit()), strictOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() || !strings.Contains(rep.Err().Error(), tt.want) {
				t.Fatalf("VerifyExport = %v, want an error containing %q", rep.Err(), tt.want)
			}
		})
	}
}

// FuzzVerifyJSONL edits a valid export (replacing cut bytes at pos with
// insert) and also reads raw as an export of its own. The reader and verifier
// must never panic, and must accept nothing but the original valid export or
// that export cut at one of its checkpoints (a genuine shorter export). The
// edit is described by small arguments rather than a whole file so that the
// fuzzer's minimization of interesting inputs stays quick.
func FuzzVerifyJSONL(f *testing.F) {
	entries, cps := chain(f, 5, 2)
	valid := export(f, entries, cps)
	acceptable := map[string]bool{}
	for seq := range cps {
		acceptable[string(export(f, entries[:seq], cps))] = true
	}
	header := `{"type":"header","format":"custodia-audit-export","version":1,"from_seq":1}` + "\n"
	f.Add(uint16(0), uint16(0), []byte(nil), []byte(header+`{"type":"end","entries":0,"checkpoints":0}`+"\n"))
	f.Add(uint16(120), uint16(3), []byte("eve"), []byte("\n\n\x00"))
	f.Add(uint16(400), uint16(1), []byte(`\u0061`), []byte(header+`{"type":"entry","entry":{"action":"a"}}`+"\n"))
	f.Add(uint16(len(valid)-60), uint16(60), []byte(nil), []byte(`{"type":"checkpoint","checkpoint":{"at":"x"}}`))
	opts := strictOptions(f)
	// Ed25519 verification dominates a run; remember results (keyed by
	// everything the check reads) so the fuzzer explores the parser instead.
	seen := map[string]error{}
	opts.checkSignature = func(c *Checkpoint) error {
		k := string(c.SignedMessage()) + string(c.PublicKey) + string(c.Signature)
		if err, ok := seen[k]; ok {
			return err
		}
		err := c.CheckSignature()
		if len(seen) > 10000 {
			clear(seen)
		}
		seen[k] = err
		return err
	}
	f.Fuzz(func(t *testing.T, pos, cut uint16, insert, raw []byte) {
		p := min(int(pos), len(valid))
		q := min(p+int(cut), len(valid))
		edited := append(append(append([]byte(nil), valid[:p]...), insert...), valid[q:]...)
		for _, data := range [][]byte{edited, raw} {
			rep, err := VerifyExport(bytes.NewReader(data), opts)
			if err != nil {
				t.Fatalf("VerifyExport error on an in-memory reader: %v", err)
			}
			if rep.OK() && rep.Entries > 0 && !acceptable[string(data)] {
				t.Fatalf("modified export accepted: %q", data)
			}
		}
	})
}

func TestSigningKeyFile(t *testing.T) {
	dir := t.TempDir()
	noEnv := func(string) string { return "" }
	if _, err := LoadSigningKey(dir, noEnv, false); err == nil {
		t.Fatal("LoadSigningKey without create on an empty dir succeeded")
	}
	k1, err := LoadSigningKey(dir, noEnv, true)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, SigningKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, st.Mode())
	}
	k2, err := LoadSigningKey(dir, noEnv, true)
	if err != nil || k2.KeyID() != k1.KeyID() {
		t.Fatalf("reload: %v, id %s want %s", err, k2.KeyID(), k1.KeyID())
	}
	if strings.Contains(fmt.Sprint(k1), base64.StdEncoding.EncodeToString(k1.priv.Seed())) {
		t.Error("String() reveals the key")
	}
	env := func(k string) string {
		if k == SigningKeyEnv {
			return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
		}
		return ""
	}
	k3, err := LoadSigningKey(dir, env, true)
	if err != nil || k3.KeyID() != testKey(t).KeyID() {
		t.Fatalf("env key: %v", err)
	}
	os.Chmod(filepath.Join(dir, SigningKeyFile), 0o644)
	if _, err := LoadSigningKey(dir, noEnv, false); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key accepted: %v", err)
	}
	if _, err := ParsePublicKey(base64.StdEncoding.EncodeToString(k1.PublicKey())); err != nil {
		t.Error(err)
	}
	if _, err := ParsePublicKey("nope"); err == nil {
		t.Error("ParsePublicKey(nope) succeeded")
	}
}

// memStore is a SealStore over a slice, for the sealer tests.
type memStore struct {
	entries []Entry
	cps     []Checkpoint
}

func (m *memStore) AuditHead(ctx context.Context) (Head, error) {
	var h Head
	if n := len(m.entries); n > 0 {
		h.Seq, h.Hash = m.entries[n-1].Seq, m.entries[n-1].Hash
	}
	if n := len(m.cps); n > 0 {
		h.Sealed = m.cps[n-1]
	}
	return h, nil
}

func (m *memStore) EachAuditEntry(ctx context.Context, from, to int64, fn func(*Entry) error) error {
	for i := range m.entries {
		if e := &m.entries[i]; e.Seq >= from && (to == 0 || e.Seq <= to) {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *memStore) AddAuditCheckpoint(ctx context.Context, c Checkpoint) error {
	m.cps = append(m.cps, c)
	return nil
}

func TestSeal(t *testing.T) {
	ctx := context.Background()
	entries, _ := chain(t, 10, 0)
	m := &memStore{entries: entries[:6]}
	key := testKey(t)
	c, sealed, err := Seal(ctx, m, key, t0)
	if err != nil || !sealed || c.Seq != 6 {
		t.Fatalf("Seal = %+v, %v, %v", c, sealed, err)
	}
	if _, sealed, _ := Seal(ctx, m, key, t0); sealed {
		t.Error("sealed twice at the same head")
	}
	m.entries = entries[:8]
	forged := m.cps[0]
	forged.Hash = entries[4].Hash
	m.cps = append(m.cps, forged)
	if _, _, err := Seal(ctx, m, key, t0); err == nil || !strings.Contains(err.Error(), "last checkpoint (entry 6) does not verify") {
		t.Fatalf("Seal after a forged checkpoint = %v, want refusal", err)
	}
	m.cps = m.cps[:1]
	m.entries = entries
	m.entries[7].Detail = "tampered"
	if _, _, err := Seal(ctx, m, key, t0); err == nil || !strings.Contains(err.Error(), "entry 8: hash mismatch") {
		t.Fatalf("Seal over a tampered chain = %v, want refusal", err)
	}
}

func TestSealerRunAndShutdown(t *testing.T) {
	entries, _ := chain(t, 5, 0)
	m := &memStore{entries: entries}
	s := NewSealer(m, testKey(t), SealerOptions{Every: 1000, Interval: time.Hour, Poll: time.Millisecond}, nil)
	s.Start(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if len(m.cps) != 1 || m.cps[0].Seq != 5 {
		t.Fatalf("checkpoints after shutdown = %+v, want one at 5", m.cps)
	}
}
