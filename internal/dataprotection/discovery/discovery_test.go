package discovery

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/dataprotection"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

const pan = "4111 1111 1111 1111"

func newService(t testing.TB, st *store.Store, cfg config.DataProtectionConfig) *Service {
	t.Helper()
	keys, err := secret.New(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(context.Background(), st, keys, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func write(t *testing.T, path, content string, mod time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
}

func TestDiscoveryScheduler(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	client := org.Client{Code: "acme", Name: "Acme"}
	if err := st.CreateClient(ctx, &client); err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	share, cde := filepath.Join(base, "share"), filepath.Join(base, "cde")
	old := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	newer := time.Date(2026, 5, 2, 11, 30, 0, 0, time.UTC)
	write(t, filepath.Join(share, "notes.txt"), "Cliente: tarjeta "+pan+", correo ana@example.com\n", old)
	write(t, filepath.Join(share, "sub", "export.csv"), "name,cvv,email\nAna García,123,ana@example.com\n", newer)
	write(t, filepath.Join(share, "clean.txt"), "pedido 12345 entregado el martes.\n", old)
	write(t, filepath.Join(share, "image.bin"), "\x00\x01PNG "+pan, old)
	mail := "Subject: x\nContent-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString([]byte("Card "+pan+" thanks")) + "\n"
	write(t, filepath.Join(share, "mail.eml"), mail, old)
	write(t, filepath.Join(share, "big.txt"), strings.Repeat("x", 5000)+pan, old)
	write(t, filepath.Join(base, "outside.txt"), pan, old)
	if err := os.Symlink(filepath.Join(base, "outside.txt"), filepath.Join(share, "link.txt")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(cde, "vault.txt"), "PAN "+pan+"\n", old)

	cfg := config.DataProtectionConfig{Interval: time.Hour, Tick: time.Hour, MaxFileBytes: 4096, MaxFiles: 100, APIMaxBytes: 1 << 20, APIMaxItems: 10,
		Locations: config.DataProtectionLocations{
			{Path: share, Name: "Share", Client: "acme"},
			{Path: cde, Name: "Vault", Client: "acme", CDE: true},
		}}
	s := newService(t, st, cfg)
	if err := s.SyncConfig(ctx); err != nil {
		t.Fatal(err)
	}
	s.RunDue(ctx)

	locs, err := st.DPLocations(ctx, allScope)
	if err != nil || len(locs) != 2 {
		t.Fatalf("locations = %+v, %v", locs, err)
	}
	latest, err := st.DPLatestRuns(ctx, allScope)
	if err != nil {
		t.Fatal(err)
	}
	var shareRun, cdeRun store.DPRun
	for _, l := range locs {
		if l.Path == share {
			shareRun = latest[l.ID]
		} else {
			cdeRun = latest[l.ID]
		}
	}
	if shareRun.Status != store.DPRunComplete || cdeRun.Status != store.DPRunComplete {
		t.Fatalf("runs: share %+v, cde %+v", shareRun, cdeRun)
	}
	// notes, export, clean, mail; the image (binary), big.txt and the link are skipped.
	if shareRun.FilesScanned != 4 || shareRun.FilesSkipped != 3 {
		t.Errorf("share: scanned %d skipped %d, want 4 and 3", shareRun.FilesScanned, shareRun.FilesSkipped)
	}
	if shareRun.FilesWithFindings != 3 {
		fs, _ := st.DPRunFiles(ctx, allScope, shareRun.ID, 100, 0)
		t.Errorf("share: %d files with findings, want 3 (notes, export, mail): %+v", shareRun.FilesWithFindings, fs)
	}
	if shareRun.Counts["CREDIT_CARD"] != 2 || shareRun.Counts["CARD_CVV"] != 1 || shareRun.Counts["EMAIL_ADDRESS"] != 2 {
		t.Errorf("share counts = %v, want 2 cards (text and base64 e-mail), 1 CVV, 2 e-mails", shareRun.Counts)
	}
	if shareRun.NewestFindingAt == nil || !shareRun.NewestFindingAt.Equal(newer) {
		t.Errorf("newest finding = %v, want %v", shareRun.NewestFindingAt, newer)
	}
	files, err := st.DPRunFiles(ctx, allScope, shareRun.ID, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]store.DPRunFile{}
	for _, f := range files {
		paths[f.Path] = f
	}
	if f, ok := paths["sub/export.csv"]; !ok || f.Counts["CARD_CVV"] != 1 || f.ModifiedAt == nil || !f.ModifiedAt.Equal(newer) {
		t.Errorf("files = %+v", files)
	}

	alerts, err := st.Alerts(ctx, allScope, alert.Filter{Source: AlertSource})
	if err != nil {
		t.Fatal(err)
	}
	bySev := map[string]int{}
	for _, a := range alerts {
		if a.ClientID != client.ID || a.Kind != AlertCardOutsideCDE {
			t.Errorf("alert %+v: wrong client or kind", a)
		}
		if strings.Contains(a.Title, "vault") {
			t.Errorf("alert for the CDE: %+v", a)
		}
		for _, v := range a.Detail {
			if strings.Contains(strings.ReplaceAll(toString(v), " ", ""), "4111111111111111") {
				t.Errorf("alert detail holds the PAN: %+v", a.Detail)
			}
		}
		bySev[a.Severity]++
	}
	// notes.txt and mail.eml (PAN: high); export.csv (CVV: critical).
	if len(alerts) != 3 || bySev[alert.SeverityCritical] != 1 || bySev[alert.SeverityHigh] != 2 {
		t.Fatalf("alerts = %d by severity %v, want 3 (1 critical)", len(alerts), bySev)
	}

	// Nothing is due now; "scan now" makes it due, and the alerts deduplicate.
	if due, _ := st.DPDueLocations(ctx, time.Now()); len(due) != 0 {
		t.Fatalf("%d locations due right after their scans", len(due))
	}
	admin := &identity.Principal{Role: identity.RoleAdmin, AllClients: true}
	shareID := shareRun.LocationID
	if err := s.ScanNow(ctx, admin, shareID); err != nil {
		t.Fatal(err)
	}
	s.RunDue(ctx)
	again, _ := st.Alerts(ctx, allScope, alert.Filter{Source: AlertSource})
	if len(again) != 3 || again[0].Occurrences != 2 {
		t.Fatalf("after a second scan: %d alerts, occurrences %d; want 3 and 2", len(again), again[0].Occurrences)
	}

	// One scan of a location at a time.
	s.running.Store(shareID, struct{}{})
	loc, _ := st.DPLocation(ctx, allScope, shareID)
	if _, err := s.ScanLocation(ctx, *loc); !errors.Is(err, ErrBusy) {
		t.Fatalf("concurrent scan: err = %v, want ErrBusy", err)
	}
	s.running.Delete(shareID)

	// A scan cut short (shutdown) is recorded as interrupted and stays due.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	run, err := s.ScanLocation(cctx, *loc)
	if err != nil || run.Status != store.DPRunInterrupted {
		t.Fatalf("interrupted scan = %+v, %v", run, err)
	}
	if err := s.ScanNow(ctx, admin, shareID); err != nil {
		t.Fatal(err)
	}
	cctx2, cancel2 := context.WithCancel(ctx)
	cancel2()
	_, _ = s.ScanLocation(cctx2, *loc)
	if l, _ := st.DPLocation(ctx, allScope, shareID); !l.ScanNow {
		t.Fatal("an interrupted scan cleared the scan-now flag")
	}

	// Configured locations are read-only.
	if _, err := s.UpdateLocation(ctx, admin, shareID, LocationInput{Name: "x", Path: share}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("update of a configured location: %v", err)
	}
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		var b strings.Builder
		for k, v := range x {
			b.WriteString(k + "=" + toString(v) + ";")
		}
		return b.String()
	}
	return ""
}

func TestLocationsValidationAndScope(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	a, b := org.Client{Code: "a", Name: "A"}, org.Client{Code: "b", Name: "B"}
	for _, c := range []*org.Client{&a, &b} {
		if err := st.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := newService(t, st, config.DataProtectionConfig{AllowedRoots: root, Interval: time.Hour})
	dpoA := &identity.Principal{Role: identity.RoleDPO, ClientIDs: []int64{a.ID}}
	dpoB := &identity.Principal{Role: identity.RoleDPO, ClientIDs: []int64{b.ID}}

	bad := []struct {
		in    LocationInput
		field string
	}{
		{LocationInput{Name: "", Path: filepath.Join(root, "a"), ClientID: a.ID}, "name"},
		{LocationInput{Name: "x", Path: "relative", ClientID: a.ID}, "path"},
		{LocationInput{Name: "x", Path: "/etc", ClientID: a.ID}, "path"},
		{LocationInput{Name: "x", Path: filepath.Join(root, "missing"), ClientID: a.ID}, "path"},
		{LocationInput{Name: "x", Path: filepath.Join(root, "a"), ClientID: b.ID}, "client_id"},
		{LocationInput{Name: "x", Path: filepath.Join(root, "a")}, "client_id"},
		{LocationInput{Name: "x", Path: filepath.Join(root, "a"), ClientID: a.ID, IntervalMinutes: 1}, "interval_minutes"},
	}
	for _, c := range bad {
		_, err := s.CreateLocation(ctx, dpoA, c.in)
		var fe FieldErrors
		if !errors.As(err, &fe) || fe[0].Field != c.field {
			t.Errorf("CreateLocation(%+v) = %v, want an error on %s", c.in, err, c.field)
		}
	}
	l, err := s.CreateLocation(ctx, dpoA, LocationInput{Name: "A docs", Path: filepath.Join(root, "a"), ClientID: a.ID, IntervalMinutes: 60})
	if err != nil {
		t.Fatal(err)
	}
	if l.IntervalSeconds != 3600 || !l.Enabled || l.ManagedBy != store.DPManagedConsole {
		t.Errorf("created %+v", l)
	}
	if _, err := s.Location(ctx, dpoB, l.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("B's DPO sees A's location: %v", err)
	}
	if err := s.ScanNow(ctx, dpoB, l.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("B's DPO scans A's location: %v", err)
	}
	if err := s.DeleteLocation(ctx, dpoB, l.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("B's DPO deletes A's location: %v", err)
	}
	if _, err := s.CreateLocation(ctx, dpoA, LocationInput{Name: "again", Path: filepath.Join(root, "a"), ClientID: a.ID}); err == nil {
		t.Error("a second location on the same path was accepted")
	}
	upd, err := s.UpdateLocation(ctx, dpoA, l.ID, LocationInput{Name: "A docs", Path: filepath.Join(root, "a"), ClientID: a.ID, CDE: true})
	if err != nil || !upd.CDE {
		t.Fatalf("update = %+v, %v", upd, err)
	}
	// A folder no longer under the allowed roots is not scanned.
	narrowed := &Service{st: s.st, log: s.log, now: s.now, ops: s.ops, masker: s.masker, scanners: map[string]*dataprotection.Scanner{},
		kick: make(chan struct{}, 1), cfg: config.DataProtectionConfig{AllowedRoots: filepath.Join(root, "elsewhere")}}
	run, err := narrowed.ScanLocation(ctx, *upd)
	if err != nil || run.Status != store.DPRunFailed || !strings.Contains(run.Error, "allowed-roots") {
		t.Errorf("scan outside the allowed roots = %+v, %v; want a failed run", run, err)
	}
	if err := s.DeleteLocation(ctx, dpoA, l.ID); err != nil {
		t.Fatal(err)
	}

	none := newService(t, storetest.SQLite(t), config.DataProtectionConfig{})
	_, err = none.CreateLocation(ctx, dpoA, LocationInput{Name: "x", Path: filepath.Join(root, "a"), ClientID: a.ID})
	if err == nil || !strings.Contains(err.Error(), "allowed-roots") {
		t.Errorf("without allowed roots: %v", err)
	}
}

func TestProcess(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	s := newService(t, st, config.DataProtectionConfig{APIMaxBytes: 4096, APIMaxItems: 3})
	text := "Mi tarjeta es " + pan + " y mi DNI 12345678Z."
	res, err := s.Process(ctx, Request{Texts: []string{text, "nada"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts["CREDIT_CARD"] != 1 || res.Counts["ES_NIF"] != 1 || len(res.Findings) != 2 {
		t.Fatalf("scan = %+v", res)
	}
	for _, f := range res.Findings {
		if strings.Contains(f.Masked, "1111 1111 1111") || strings.Contains(f.Masked, "12345678") {
			t.Errorf("masked value shows too much: %q", f.Masked)
		}
		if text[f.Start:f.End] == "" {
			t.Errorf("bad offsets %+v", f)
		}
	}
	if got := text[res.Findings[0].Start:res.Findings[0].End]; got != pan {
		t.Errorf("offsets point at %q, want the PAN", got)
	}
	for _, op := range []string{"redact", "mask", "hash", "token", "encrypt", "encrypt-siv", "fpe"} {
		res, err := s.Process(ctx, Request{Texts: []string{text}, Operator: op}, true)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if strings.Contains(res.Redacted[0], pan) || strings.Contains(res.Redacted[0], "12345678Z") {
			t.Errorf("%s left the values: %q", op, res.Redacted[0])
		}
		if op == "encrypt-siv" {
			back, err := s.ops[op].Reveal([]byte(strings.Fields(res.Redacted[0])[3]))
			if err != nil || string(back) != pan {
				t.Errorf("encrypt-siv reveal = %q, %v", back, err)
			}
		}
	}
	// Records keep their format.
	res, err = s.Process(ctx, Request{Texts: []string{`{"note":"tarjeta ` + pan + `","cvv":"123"}`}, Format: "json"}, true)
	if err != nil || !strings.Contains(res.Redacted[0], `"cvv":"<CARD_CVV>"`) {
		t.Errorf("json redact = %+v, %v", res, err)
	}
	// An e-mail with a base64 part: found, and redacted in base64 again.
	mail := "Subject: x\nContent-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString([]byte("Card "+pan+" thanks")) + "\n"
	res, err = s.Process(ctx, Request{Texts: []string{mail}, Format: "eml"}, true)
	if err != nil || res.Counts["CREDIT_CARD"] != 1 {
		t.Fatalf("eml redact = %+v, %v", res, err)
	}
	body := strings.TrimSpace(res.Redacted[0][strings.Index(res.Redacted[0], "\n\n")+2:])
	if dec, err := base64.StdEncoding.DecodeString(body); err != nil || string(dec) != "Card <CREDIT_CARD> thanks" {
		t.Errorf("redacted part = %q (%q, %v)", body, dec, err)
	}
	bad := []Request{
		{},
		{Texts: []string{"a"}, ScanOptions: ScanOptions{Lang: "fr"}},
		{Texts: []string{"a"}, ScanOptions: ScanOptions{Entities: []string{"NOPE"}}},
		{Texts: []string{"a"}, ScanOptions: ScanOptions{MinScore: 2}},
		{Texts: []string{"a"}, Format: "pdf"},
		{Texts: []string{"a", "b", "c", "d"}},
		{Texts: []string{"a"}, Operator: "rot13"},
	}
	for _, r := range bad {
		var ie *InputError
		if _, err := s.Process(ctx, r, r.Operator != ""); !errors.As(err, &ie) {
			t.Errorf("Process(%+v) err = %v, want an InputError", r, err)
		}
	}
	var tl *TooLargeError
	if _, err := s.Process(ctx, Request{Texts: []string{strings.Repeat("a", 5000)}}, false); !errors.As(err, &tl) {
		t.Errorf("oversized: %v", err)
	}
	// Scanners are reused.
	a, _ := s.Scanner(ScanOptions{Lang: "es", Entities: []string{"CREDIT_CARD", "ES_NIF"}})
	b, _ := s.Scanner(ScanOptions{Lang: "ES", Entities: []string{"ES_NIF", "CREDIT_CARD"}})
	if a != b {
		t.Error("equal options built two scanners")
	}
	// The key survives a restart (same store, same master key): hashes join.
	keys, _ := secret.New(secret.Generate())
	st2 := storetest.SQLite(t)
	s1, err := New(ctx, st2, keys, config.DataProtectionConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := New(ctx, st2, keys, config.DataProtectionConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h1, _ := s1.ops["hash"].Apply("CREDIT_CARD", []byte(pan))
	h2, _ := s2.ops["hash"].Apply("CREDIT_CARD", []byte(pan))
	if string(h1) != string(h2) {
		t.Error("the data-protection key changed across restarts")
	}
}

func TestLocationFlag(t *testing.T) {
	var l config.DataProtectionLocations
	if err := l.Set("/srv/calls;client=acme;cde;every=12h;name=Calls,/srv/other"); err != nil {
		t.Fatal(err)
	}
	if err := l.Set("/srv/third;cde=false"); err != nil {
		t.Fatal(err)
	}
	want := config.DataProtectionLocations{
		{Path: "/srv/calls", Client: "acme", CDE: true, Every: 12 * time.Hour, Name: "Calls"},
		{Path: "/srv/other", Name: "/srv/other"},
		{Path: "/srv/third", Name: "/srv/third"},
	}
	if len(l) != len(want) {
		t.Fatalf("parsed %+v", l)
	}
	for i := range want {
		if l[i] != want[i] {
			t.Errorf("location %d = %+v, want %+v", i, l[i], want[i])
		}
	}
	for _, bad := range []string{"relative/path", "/srv/x;every=1s", "/srv/x;cde=maybe", "/srv/x;color=blue", "/srv/x;every=soon"} {
		var l config.DataProtectionLocations
		if err := l.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}

func FuzzLocationFlag(f *testing.F) {
	f.Add("/srv/calls;client=acme;cde;every=12h;name=Calls,/srv/other")
	f.Add(";;,=;")
	f.Fuzz(func(t *testing.T, v string) {
		var l config.DataProtectionLocations
		if err := l.Set(v); err != nil {
			return
		}
		for _, x := range l {
			if !filepath.IsAbs(x.Path) || x.Name == "" || (x.Every != 0 && x.Every < time.Minute) {
				t.Fatalf("Set(%q) accepted %+v", v, x)
			}
		}
	})
}
