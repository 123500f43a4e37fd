package config

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/custodia/custodia/internal/incident/desk"
)

// IncidentsConfig holds the settings of incident intake and response (SMTP/IMAP intake, notifications).
// Flags are prefixed with the module's name so they never collide.
type IncidentsConfig struct {
	// SMTPAddr is where the report listener listens ("" = no e-mail intake),
	// e.g. ":2525" behind the organisation's MX.
	SMTPAddr string
	// ReportAddress lists the addresses people forward suspicious e-mail to
	// (comma-separated); the listener accepts no other recipient.
	ReportAddress string
	// SMTPHostname is the name the listener gives in its greeting.
	SMTPHostname string
	// SMTPTLSCert and SMTPTLSKey enable STARTTLS on the listener (PEM files).
	SMTPTLSCert string
	SMTPTLSKey  string
	// SMTPMaxBytes caps one reported message.
	SMTPMaxBytes int
	// SMTPIPRate and SMTPSenderRate are messages per second allowed per
	// client IP and per sender (bursts of 20 and 10).
	SMTPIPRate     float64
	SMTPSenderRate float64

	// MailRelay is the SMTP server acknowledgements and thank-you notes go
	// through (host:port; "" = no e-mail to reporters, recorded on each report).
	MailRelay string
	MailFrom  string
	MailUser  string
	// MailPassword is read from the environment (CUSTODIA_INCIDENTS_MAIL_PASSWORD) or YAML.
	MailPassword   string
	MailRequireTLS bool

	// SLA overrides the per-severity targets: "critical=15m/1h/4h,high=30m/4h/24h"
	// (acknowledge/triage/contain).
	SLA string
	// SLACheckInterval is how often SLAs are checked and escalated.
	SLACheckInterval time.Duration
	// EscalateTo receive an e-mail when an SLA is breached (comma-separated).
	EscalateTo string
	// ClusterWindow: reports of the same e-mail within it join one incident.
	ClusterWindow time.Duration
}

func defaultIncidents() IncidentsConfig {
	return IncidentsConfig{
		SMTPHostname:     "custodia",
		SMTPMaxBytes:     25 << 20,
		SMTPIPRate:       100,
		SMTPSenderRate:   1,
		SLACheckInterval: time.Minute,
		ClusterWindow:    72 * time.Hour,
	}
}

// register adds the module's flags to the serve command.
func (c *IncidentsConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.SMTPAddr, "incidents-smtp-addr", c.SMTPAddr, "listen `address` of the built-in SMTP listener for reported e-mail (empty: off)")
	fs.StringVar(&c.ReportAddress, "incidents-report-address", c.ReportAddress, "the `addresses` people forward suspicious e-mail to (comma-separated); no other recipient is accepted")
	fs.StringVar(&c.SMTPHostname, "incidents-smtp-hostname", c.SMTPHostname, "`name` the SMTP listener gives in its greeting")
	fs.StringVar(&c.SMTPTLSCert, "incidents-smtp-tls-cert", c.SMTPTLSCert, "PEM certificate `file` enabling STARTTLS on the SMTP listener")
	fs.StringVar(&c.SMTPTLSKey, "incidents-smtp-tls-key", c.SMTPTLSKey, "PEM private key `file` for STARTTLS")
	fs.IntVar(&c.SMTPMaxBytes, "incidents-smtp-max-bytes", c.SMTPMaxBytes, "largest reported message accepted, in `bytes`")
	fs.Float64Var(&c.SMTPIPRate, "incidents-smtp-ip-rate", c.SMTPIPRate, "reported messages per second allowed per client IP (`rate`)")
	fs.Float64Var(&c.SMTPSenderRate, "incidents-smtp-sender-rate", c.SMTPSenderRate, "reported messages per second allowed per sender (`rate`)")
	fs.StringVar(&c.MailRelay, "incidents-mail-relay", c.MailRelay, "SMTP relay `host:port` for acknowledgements to reporters (empty: no e-mail)")
	fs.StringVar(&c.MailFrom, "incidents-mail-from", c.MailFrom, "sender `address` of acknowledgements and thank-you notes")
	fs.StringVar(&c.MailUser, "incidents-mail-user", c.MailUser, "relay `username` (AUTH PLAIN over TLS only)")
	fs.StringVar(&c.MailPassword, "incidents-mail-password", c.MailPassword, "relay `password` (prefer the environment variable)")
	fs.BoolVar(&c.MailRequireTLS, "incidents-mail-require-tls", c.MailRequireTLS, "refuse to send to a relay without STARTTLS")
	fs.StringVar(&c.SLA, "incidents-sla", c.SLA, "per-severity SLA targets `sev=ack/triage/contain,…` (e.g. critical=15m/1h/4h)")
	fs.DurationVar(&c.SLACheckInterval, "incidents-sla-check-interval", c.SLACheckInterval, "how often SLAs are checked and escalated (`duration`)")
	fs.StringVar(&c.EscalateTo, "incidents-escalate-to", c.EscalateTo, "`addresses` e-mailed when an SLA is breached (comma-separated)")
	fs.DurationVar(&c.ClusterWindow, "incidents-cluster-window", c.ClusterWindow, "reports of the same e-mail within this `duration` join one incident")
}

// ReportAddresses returns the configured report addresses.
func (c *IncidentsConfig) ReportAddresses() []string { return incidentsSplit(c.ReportAddress) }

// EscalationAddresses returns the SLA escalation addresses.
func (c *IncidentsConfig) EscalationAddresses() []string { return incidentsSplit(c.EscalateTo) }

func incidentsSplit(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// SLAPolicy returns the default SLA targets with the configured overrides.
func (c *IncidentsConfig) SLAPolicy() (desk.SLAPolicy, error) {
	p := desk.DefaultSLAs()
	for _, item := range incidentsSplit(c.SLA) {
		sev, spec, ok := strings.Cut(item, "=")
		sev = strings.TrimSpace(sev)
		parts := strings.Split(spec, "/")
		if !ok || !desk.ValidSeverity(sev) || len(parts) != 3 {
			return nil, fmt.Errorf("incidents-sla: %q: want severity=ack/triage/contain (e.g. high=30m/4h/24h)", item)
		}
		var ds [3]time.Duration
		for i, s := range parts {
			d, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("incidents-sla: %q: %w", item, err)
			}
			ds[i] = d
		}
		p[sev] = desk.SLA{Ack: ds[0], Triage: ds[1], Contain: ds[2]}
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("incidents-sla: %w", err)
	}
	return p, nil
}

// Validate checks the incident settings (called when the module starts).
func (c *IncidentsConfig) Validate() error {
	if c.SMTPAddr != "" && len(c.ReportAddresses()) == 0 {
		return fmt.Errorf("incidents-smtp-addr is set but incidents-report-address is empty: the listener would accept nothing")
	}
	if (c.SMTPTLSCert == "") != (c.SMTPTLSKey == "") {
		return fmt.Errorf("incidents-smtp-tls-cert and incidents-smtp-tls-key go together")
	}
	if c.MailRelay != "" && c.MailFrom == "" {
		return fmt.Errorf("incidents-mail-relay needs incidents-mail-from")
	}
	_, err := c.SLAPolicy()
	return err
}
