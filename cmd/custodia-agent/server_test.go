package main

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/authz"
	"github.com/custodia/custodia/internal/config"
	"github.com/custodia/custodia/internal/fleet"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/secret"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

type reportIntake struct{}

func (reportIntake) DeviceReport(context.Context, fleet.DeviceReport) (string, error) {
	return "INC-2026-0001", nil
}

// TestEnrollRunReport drives the real commands against a real server over
// TLS: enroll (CA on first contact), run (the server's signed baseline,
// results sent), report (answered with the incident's reference).
func TestEnrollRunReport(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	keys, _ := secret.New(secret.Generate())
	svc, err := fleet.New(ctx, st, keys, config.Defaults().Fleet, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	svc.SetReportIntake(reportIntake{})
	c := &org.Client{Code: "bank", Name: "Bank"}
	if err := st.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	sec, _, err := svc.CreateSecret(ctx, identity.Scope{All: true}, fleet.SecretInput{Name: "bank", ClientID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	router := authz.NewRouter(authz.Options{})
	svc.Protocol().Register(router)
	srv := httptest.NewUnstartedServer(router)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	dir := t.TempDir()

	if code, _, errOut := runCmd(t, "enroll", "--server", srv.URL, "--secret", "ces_wrong", "--ca", ca, "--state-dir", dir); code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("enroll with a wrong secret = %d %q, want 1 and a 401", code, errOut)
	}
	code, out, errOut := runCmd(t, "enroll", "--server", srv.URL, "--secret", sec, "--ca", ca, "--state-dir", dir)
	if code != 0 || !strings.Contains(out, "Enrolled as device") {
		t.Fatalf("enroll = %d %q %q", code, out, errOut)
	}
	devs, _ := st.FleetDevices(ctx, identity.Scope{All: true}, store.FleetDeviceFilter{})
	if len(devs) != 1 || devs[0].ClientID != c.ID {
		t.Fatalf("devices = %+v", devs)
	}

	// run: fetches the signed baseline, checks, sends the results.
	var stdout, stderr syncBuffer
	env := &Env{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	done := make(chan int)
	go func() { done <- run(rctx, env, []string{"run", "--state-dir", dir, "--poll", "1s"}) }()
	deadline := time.Now().Add(20 * time.Second)
	var results []store.FleetResult
	for time.Now().Before(deadline) {
		if results, _ = st.FleetResults(ctx, devs[0].ID); len(results) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	<-done
	if len(results) == 0 {
		t.Fatalf("no results reached the server; stderr: %s", stderr.String())
	}
	if !strings.HasPrefix(results[0].Policy, "custodia") && results[0].Policy == "" {
		t.Errorf("result policy = %q", results[0].Policy)
	}

	// report: sent with the device's context, answered with the reference.
	code, out, errOut = runCmd(t, "report", "A caller asked for my password", "--category", "social_engineering", "--state-dir", dir)
	if code != 0 || !strings.Contains(out, "INC-2026-0001") {
		t.Errorf("report = %d %q %q", code, out, errOut)
	}
	reps, _ := st.FleetReports(ctx, identity.Scope{All: true}, 0, 10, 0)
	if len(reps) != 1 || reps[0].Category != "social_engineering" || reps[0].Reference != "INC-2026-0001" {
		t.Errorf("stored reports = %+v", reps)
	}
	// The server gone: the report is kept for later.
	srv.Close()
	code, out, _ = runCmd(t, "report", "USB stick on the desk", "--state-dir", dir)
	if code != 0 || !strings.Contains(out, "saved on this computer") {
		t.Errorf("offline report = %d %q", code, out)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "queue")); len(entries) != 1 {
		t.Errorf("queue holds %d messages, want 1", len(entries))
	}
}
