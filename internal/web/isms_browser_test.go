package web

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/i18n"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/identity/auth"
	"github.com/custodia/custodia/internal/isms/compliance/office"
	"github.com/custodia/custodia/internal/report"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/server"
	"github.com/custodia/custodia/internal/store/storetest"
)

// newISMSStack is newStack with the ISMS compliance module.
func newISMSStack(tb testing.TB) *env {
	tb.Helper()
	hs := httptest.NewUnstartedServer(nil)
	st := storetest.SQLite(tb)
	keys, err := secret.New(secret.Generate())
	if err != nil {
		tb.Fatal(err)
	}
	clock := &testClock{now: time.Now().UTC()}
	svc := auth.NewService(st, keys, auth.Config{
		Password:    identity.PasswordParams{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		SessionIdle: 1000 * time.Hour, SessionMax: 2000 * time.Hour,
	}, clock.Now)
	cat, err := i18n.Load()
	if err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	off, err := office.New(context.Background(), st, keys, clock.Now)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := config.Defaults()
	w, err := NewServer(Deps{Config: cfg, Store: st, Identity: svc, Catalog: cat, Logger: logger, Now: clock.Now,
		Modules: []Module{{Key: ModuleISMS, Path: "/isms", Roles: governance}}, ISMS: ISMSDeps{Office: off}})
	if err != nil {
		tb.Fatalf("NewServer: %v", err)
	}
	srv, err := server.New(server.Deps{Config: cfg, Store: st, Logger: logger, Auth: svc,
		NeedsMFAEnrolment: svc.NeedsMFAEnrolment, Deny: w.Deny, Registrars: []server.Registrar{w}})
	if err != nil {
		tb.Fatalf("server.New: %v", err)
	}
	e := &env{t: tb, st: st, svc: svc, web: w, clock: clock, seeds: map[string][]byte{}}
	hs.Config.Handler = srv
	hs.Start()
	e.srv = hs
	tb.Cleanup(e.srv.Close)
	return e
}

// TestBrowserISMSDeclaration drives headless Chromium through the ENS
// flow: value a system → its category and measures appear → mark a
// measure implemented with an evidence file → sign the Declaración de
// Aplicabilidad → its PDF lists the measure as implemented with the
// evidence.
func TestBrowserISMSDeclaration(t *testing.T) {
	exe := chromiumPath(t)
	e := newISMSStack(t)
	e.seedSmall()
	e.addUser("alice", identity.RoleAdmin, true, nil)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
			defer dcancel()
			l, _ := chromedp.Run(dctx, chromedp.Location())
			h, _ := chromedp.Run(dctx, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("%s: %v (at %s)\n%s", what, err, l, truncateForLog(h))
		}
	}
	textOf := func(sel string) string {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.Join(strings.Fields(s), " ")
	}
	base := e.srv.URL

	step("sign in",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(base+"/isms/ens"),
		chromedp.WaitVisible(chromedp.CSS(`#f-username`)),
		chromedp.SendKeys(chromedp.CSS(`#f-username`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), testPassword),
		chromedp.Click(chromedp.CSS(`main form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#f-code`)),
		chromedp.SendKeys(chromedp.CSS(`#f-code`), e.totp(e.seeds["alice"])),
		chromedp.Click(chromedp.CSS(`form[action="/login/mfa"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/isms/ens"]`)),
	)

	// Value a system: C=MEDIO, I=BAJO, T=n.a., A=ALTO, D=BAJO is ALTA.
	const name = "Plataforma de telefonía"
	step("value a system",
		chromedp.SendKeys(chromedp.CSS(`form[action="/isms/ens"] #f-name`), name),
		chromedp.SetValue(chromedp.CSS(`#f-level_C`), "MEDIO"),
		chromedp.SetValue(chromedp.CSS(`#f-level_I`), "BAJO"),
		chromedp.SetValue(chromedp.CSS(`#f-level_A`), "ALTO"),
		chromedp.SetValue(chromedp.CSS(`#f-level_D`), "BAJO"),
		chromedp.Click(chromedp.CSS(`form[action="/isms/ens"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#ens-category`)),
	)
	if got := textOf("#ens-category"); got != "ALTA" {
		t.Fatalf("category %q, want ALTA", got)
	}
	if row := textOf(`tr[data-measure="op.acc.6"]`); !strings.Contains(row, "yes") || !strings.Contains(row, "R9") || !strings.Contains(row, "[R1 o R2 o R3 o R4]") {
		t.Fatalf("op.acc.6 row %q, want it to apply with R5–R9 (and one of R1–R4)", row)
	}
	if row := textOf(`tr[data-measure="op.exp.8"]`); !strings.Contains(row, "no") {
		t.Fatalf("op.exp.8 row %q, want it not to apply (T is n.a.)", row)
	}

	// Mark op.acc.6 implemented and attach an evidence file.
	evPath := filepath.Join(t.TempDir(), "mfa-report.txt")
	if err := os.WriteFile(evPath, []byte("MFA enforced for every agent account\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	step("mark the measure implemented",
		chromedp.Click(chromedp.CSS(`tr[data-measure="op.acc.6"] a`)),
		chromedp.WaitVisible(chromedp.CSS(`#measure-save`)),
		chromedp.SetValue(chromedp.CSS(`#f-status`), "implemented"),
		chromedp.Click(chromedp.CSS(`#measure-save`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
	)
	if got := textOf("#measure-status"); got != "implemented" {
		t.Fatalf("measure status %q, want implemented", got)
	}
	step("attach the evidence",
		chromedp.Click(chromedp.CSS(`details.card summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#ev-title`)),
		chromedp.SendKeys(chromedp.CSS(`#ev-title`), "Informe MFA agentes"),
		chromedp.SetUploadFiles(chromedp.CSS(`#ev-file`), []string{evPath}),
		chromedp.Click(chromedp.CSS(`form[action="/isms/evidence"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.isms-evidence`)),
	)
	if table := textOf("table.isms-evidence"); !strings.Contains(table, "Informe MFA agentes") || !regexp.MustCompile(`[0-9a-f]{64}`).MatchString(table) {
		t.Fatalf("the evidence is not listed with its SHA-256: %q", table)
	}

	// Sign the declaration and read its PDF.
	step("sign the declaration",
		chromedp.Click(chromedp.CSS(`main p a[href^="/isms/ens/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#f-confirm`)),
		chromedp.Click(chromedp.CSS(`input[name=attest]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-confirm`), name),
		chromedp.Click(chromedp.CSS(`form[action$="/sign"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#isms-signed`)),
	)
	if row := textOf(`tr[data-measure="op.acc.6"]`); !strings.Contains(row, "implemented") || !strings.Contains(row, "Informe MFA agentes") {
		t.Fatalf("op.acc.6 after signing: %q", row)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	link, err := chromedp.Run(sctx, chromedp.AttributeValue(chromedp.CSS(`a[href*="declaration.pdf?version=1&lang=es"]`), "href"))
	if err != nil || !link.Exists {
		t.Fatalf("no link to the signed version's PDF (%v)", err)
	}
	// Fetch the PDF with the browser's session (the cookie is HttpOnly).
	b64, err := chromedp.Run(sctx, chromedp.Evaluate[string](`fetch(`+strconv.Quote(link.Value)+`).then(r => {
		if (r.status !== 200 || r.headers.get("Content-Type") !== "application/pdf") { throw new Error("status " + r.status); }
		return r.arrayBuffer();
	}).then(b => { const u = new Uint8Array(b); let s = ""; for (let i = 0; i < u.length; i++) { s += String.fromCharCode(u[i]); } return btoa(s); })`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch %s: %v", link.Value, err)
	}
	pdf, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	txt := report.PDFText(pdf)
	for _, want := range []string{"Declaración de Aplicabilidad", name, "ALTA", "op.acc.6", "implantado", "Informe MFA agentes", "Firmada v1"} {
		if !strings.Contains(txt, want) {
			t.Errorf("the signed Declaración PDF lacks %q", want)
		}
	}
}
