package web

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/custodia/custodia/internal/demo"
	"github.com/custodia/custodia/internal/identity"
)

// chromiumPath finds Chromium. The browser test runs when
// CUSTODIA_BROWSER_TEST=1 or CI=true; without Chromium it fails under CI
// and is skipped otherwise.
func chromiumPath(t *testing.T) string {
	t.Helper()
	ci := os.Getenv("CI") == "true"
	if os.Getenv("CUSTODIA_BROWSER_TEST") != "1" && !ci {
		t.Skip("browser test: set CUSTODIA_BROWSER_TEST=1 (or CI=true) to run it")
	}
	for _, p := range []string{os.Getenv("CUSTODIA_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	if ci {
		t.Fatal("browser test: Chromium not found (apt-get install chromium)")
	}
	t.Skip("browser test: Chromium not found")
	return ""
}

// TestBrowserSignInImportList drives headless Chromium through the real
// handler stack: sign in with password and TOTP, import people from a CSV
// (preview, confirm) and see them listed. It saves screenshots of the
// sign-in page on a phone and of the people list on a laptop.
func TestBrowserSignInImportList(t *testing.T) {
	exe := chromiumPath(t)
	e := newStack(t)
	if _, err := demo.Seed(context.Background(), e.st, demo.Options{}); err != nil {
		t.Fatalf("demo seed: %v", err)
	}
	e.addUser("alice", identity.RoleAdmin, true, nil)
	e.addUser("sec", identity.RoleSecurity, false, nil)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	// The first action starts the browser on ctx (no timeout there); every
	// later step gets its own deadline.
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
	location := func() string {
		t.Helper()
		l, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatalf("location: %v", err)
		}
		return l
	}
	shot := func(path string, full bool) {
		t.Helper()
		act := chromedp.CaptureScreenshot()
		if full {
			act = chromedp.FullScreenshot(100)
		}
		png, err := chromedp.Run(ctx, act)
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		writeShot(t, path, png)
	}
	base := e.srv.URL

	// The sign-in page on a phone (a console page sends an anonymous visitor there).
	step("open the sign-in page on a phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(base+"/people"),
		chromedp.WaitVisible(chromedp.CSS(`#f-username`)),
	)
	shot("/tmp/custodia-login-phone.png", false)

	// Password, then TOTP.
	step("sign in with password",
		chromedp.EmulateViewport(1280, 900),
		chromedp.SendKeys(chromedp.CSS(`#f-username`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), testPassword),
		chromedp.Click(chromedp.CSS(`main form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#f-code`)),
	)
	if l := location(); !strings.Contains(l, "/login/mfa") {
		t.Fatalf("after the password the browser is at %s, want /login/mfa", l)
	}
	step("second factor",
		chromedp.SendKeys(chromedp.CSS(`#f-code`), e.totp(e.seeds["alice"])),
		chromedp.Click(chromedp.CSS(`form[action="/login/mfa"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.people`)),
	)
	if h1, l := textOf("h1"), location(); h1 != "People" || !strings.HasSuffix(l, "/people") {
		t.Fatalf("after sign-in: h1 %q at %s, want People at /people", h1, l)
	}

	// Import: upload, preview, confirm.
	csvPath := filepath.Join(t.TempDir(), "people.csv")
	csv := "employee_id,full_name,email,site,team,clients\n" +
		"BT-001,Zacarías Browser,zacarias.browser@example.com,,,\n" +
		"BT-002,Yolanda Chromium,yolanda.chromium@example.com,,,\n" +
		"BT-003,Broken Row,not-an-email,,,\n"
	if err := os.WriteFile(csvPath, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	step("import preview",
		chromedp.Navigate(base+"/people/import"),
		chromedp.WaitVisible(chromedp.CSS(`#f-file`)),
		chromedp.SetUploadFiles(chromedp.CSS(`#f-file`), []string{csvPath}),
		chromedp.Click(chromedp.CSS(`form[action="/people/import"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.stats`)),
	)
	shot("/tmp/custodia-import-preview.png", true)
	if stats := textOf("ul.stats"); !strings.Contains(stats, "2 to create") || !strings.Contains(stats, "1 rows with errors") {
		t.Fatalf("preview counts %q, want 2 to create and 1 row with errors", stats)
	}
	if errRow := textOf("table.import-errors tbody tr"); !strings.HasPrefix(errRow, "4 BT-003") {
		t.Errorf("error row %q, want line 4, BT-003", errRow)
	}
	step("apply the import",
		chromedp.Click(chromedp.CSS(`input[name=accept_valid_rows]`)),
		chromedp.Click(chromedp.CSS(`form[action="/people/import/apply"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.flash`)),
	)
	if flash := textOf("p.flash"); !strings.Contains(flash, "2 created") {
		t.Errorf("flash %q, want 2 created", flash)
	}
	step("search the imported people",
		chromedp.Navigate(base+"/people?q=BT-"),
		chromedp.WaitVisible(chromedp.CSS(`table.people`)),
	)
	table := textOf("table.people tbody")
	for _, name := range []string{"Zacarías Browser", "Yolanda Chromium"} {
		if !strings.Contains(table, name) {
			t.Errorf("people list %q lacks %s", table, name)
		}
	}
	if strings.Contains(table, "Broken Row") {
		t.Errorf("the invalid row was imported")
	}
	step("people list", chromedp.Navigate(base+"/people"), chromedp.WaitVisible(chromedp.CSS(`table.people`)))
	shot("/tmp/custodia-people.png", true)
	step("people list on a phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(base+"/people"), chromedp.WaitVisible(chromedp.CSS(`table.people`)))
	shot("/tmp/custodia-people-phone.png", false)

	// Sign out; a security officer without MFA is made to enrol: the test
	// reads the secret the page shows and answers with a code from it.
	step("sign out and in as the security officer",
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#f-username`)),
		chromedp.SendKeys(chromedp.CSS(`#f-username`), "sec"),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), testPassword),
		chromedp.Click(chromedp.CSS(`main form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#totp-secret`)),
	)
	shot("/tmp/custodia-mfa-enrol-phone.png", true)
	seed := seedOf(t, textOf("#totp-secret"))
	step("confirm the enrolment",
		chromedp.SendKeys(chromedp.CSS(`#f-code`), e.totp(seed)),
		chromedp.Click(chromedp.CSS(`form[action="/profile/mfa"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#recovery-codes`)),
	)
	if codes := textOf("#recovery-codes"); len(strings.Fields(codes)) != identity.RecoveryCodeCount {
		t.Errorf("recovery codes %q, want %d", codes, identity.RecoveryCodeCount)
	}
}

func writeShot(t *testing.T, path string, png []byte) {
	t.Helper()
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}
