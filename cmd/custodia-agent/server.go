package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/fleet/wire"
	"github.com/custodia/custodia/internal/posture"
	"github.com/custodia/custodia/internal/posture/agentclient"
	"github.com/custodia/custodia/internal/posture/collect"
)

// credStore is where the device credential lives (replaced in tests).
var credStore = agentclient.DefaultCredStore

func cmdEnroll(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "enroll", "--server URL --secret S [flags]",
		`Register this workstation with a Custodia server using an enrollment
secret from the console (Workstations → Enrollment secrets). The server's
certificate key is pinned: later connections must present the same key.
On first contact the certificate must chain to the system's roots, to
--ca, or match --pin. The device credential is stored with the operating
system's protection (root-only file, DPAPI, or the System keychain).`)
	server := fs.String("server", "", "the Custodia server's `URL` (https://…)")
	secretFlag := fs.String("secret", "", "the enrollment `secret` (or set CUSTODIA_ENROLL_SECRET)")
	pin := fs.String("pin", "", "expected base64 SHA-256 of the server certificate's public key (`PIN`)")
	ca := fs.String("ca", "", "PEM `FILE` of the CA the server certificate chains to (first contact)")
	stateDir := fs.String("state-dir", defaultStateDir(), "`DIR` for the agent's state")
	if err := parse(fs, args); err != nil {
		return err
	}
	sec := *secretFlag
	if sec == "" {
		sec = env.Getenv("CUSTODIA_ENROLL_SECRET")
	}
	if *server == "" || sec == "" || *stateDir == "" {
		fmt.Fprintln(env.Stderr, "enroll: --server, --secret (or CUSTODIA_ENROLL_SECRET) and --state-dir are required")
		return errUsage
	}
	facts, err := hostFacts(ctx)
	if err != nil {
		return err
	}
	c, err := agentclient.Enroll(ctx, *stateDir, credStore(*stateDir), agentclient.EnrollOptions{Server: *server, Secret: sec, Pin: *pin, CAFile: *ca, Facts: facts})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Enrolled as device %d with %s. The agent checks in every %s when running (custodia-agent run or the service).\n",
		c.DeviceID(), *server, c.Interval())
	return nil
}

// hostFacts describes this machine for enrollment.
func hostFacts(ctx context.Context) (agentclient.Facts, error) {
	hw, err := agentclient.HardwareID()
	if err != nil {
		return agentclient.Facts{}, fmt.Errorf("identify this machine: %w", err)
	}
	host, _ := os.Hostname()
	f := agentclient.Facts{HardwareID: hw, Hostname: host, OS: runtime.GOOS, AgentVersion: version}
	h := collect.New()
	if h.OS != nil {
		if info, err := h.OS(ctx); err == nil {
			f.OSBuild = strings.TrimSpace(info.Name + " " + info.Build)
		}
	}
	return f, nil
}

func cmdReport(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "report", `"what happened" [--category C]`,
		`Send a suspicious-activity report from this desk to the security team,
with the device's context. Offline, the report is queued and sent as soon
as the server can be reached (by this command again or the running agent).`)
	category := fs.String("category", "", "a quick `category` (e.g. phishing, social_engineering, lost_device, malware)")
	stateDir := fs.String("state-dir", defaultStateDir(), "`DIR` of the agent's state")
	// Flags may come before or after the text.
	var words []string
	for {
		if err := parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		words = append(words, fs.Arg(0))
		args = fs.Args()[1:]
	}
	text := strings.TrimSpace(strings.Join(words, " "))
	if text == "" || len(text) > wire.MaxReportText {
		fmt.Fprintf(env.Stderr, "report: write what happened (1 to %d characters)\n", wire.MaxReportText)
		return errUsage
	}
	c, err := agentclient.Open(*stateDir, credStore(*stateDir))
	if err != nil {
		return err
	}
	var key [12]byte
	_, _ = rand.Read(key[:])
	user := currentUser(ctx)
	if err := c.Enqueue(agentclient.Message{Kind: "report", Report: &wire.ReportRequest{Key: hex.EncodeToString(key[:]), Text: text,
		Category: *category, SessionUser: user, ReportedAt: time.Now().UTC()}}); err != nil {
		return fmt.Errorf("queue the report: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, refs, err := c.Flush(sctx, wire.Heartbeat{SessionUser: user, AgentVersion: version})
	if err != nil {
		if errors.Is(err, agentclient.ErrRevoked) {
			return err
		}
		fmt.Fprintf(env.Stdout, "Your report is saved on this computer and will be sent as soon as the server can be reached (%v).\n", err)
		return nil
	}
	ref := ""
	if len(refs) > 0 {
		ref = refs[len(refs)-1]
	}
	if ref != "" {
		fmt.Fprintf(env.Stdout, "Thank you. Your report was received with the reference %s.\n", ref)
	} else {
		fmt.Fprintln(env.Stdout, "Thank you. Your report was received by the security team.")
	}
	return nil
}

// currentUser is the signed-in session user, as the checks see it.
func currentUser(ctx context.Context) string {
	h := collect.New()
	if u, err := posture.NewRun(h).Session(ctx); err == nil && u != nil {
		return u.Name
	}
	return ""
}

// backoff is the jittered exponential delay after n consecutive failures,
// capped at limit.
func backoff(n int, limit time.Duration) time.Duration {
	d := 5 * time.Second
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	var b [2]byte
	_, _ = rand.Read(b[:])
	// ±25 % jitter so a fleet that lost the server does not return at once.
	j := float64(int(b[0])<<8|int(b[1]))/65535*0.5 - 0.25
	return d + time.Duration(float64(d)*j)
}
