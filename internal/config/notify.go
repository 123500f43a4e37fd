package config

import (
	"flag"
	"time"
)

// NotifyConfig holds the settings of outgoing notifications (SMTP server for
// e-mail, webhook retries) and of the regulatory clocks (the default
// contractual deadline, whether NIS2 applies). Flags are prefixed with
// "notify-".
type NotifyConfig struct {
	// SMTPAddr is the relay (host:port); empty disables e-mail channels.
	SMTPAddr string
	// SMTPFrom is the sender address.
	SMTPFrom string
	// SMTPUsername and SMTPPassword authenticate (AUTH PLAIN, over TLS only);
	// give the password through CUSTODIA_NOTIFY_SMTP_PASSWORD.
	SMTPUsername string
	SMTPPassword string
	// SMTPRequireTLS refuses to send when the relay does not offer STARTTLS.
	SMTPRequireTLS bool
	// RetryBase is the first retry delay of a failed delivery (doubled each time).
	RetryBase time.Duration
	// RetryMax caps the delay between retries.
	RetryMax time.Duration
	// MaxAttempts before a delivery goes to the dead letters.
	MaxAttempts int
	// ClientDeadline is the breach-notification deadline for clients whose
	// contract settings do not say (GDPR Art. 33(2)).
	ClientDeadline time.Duration
	// NIS2 says the operator is an essential or important entity under NIS2
	// (its significant incidents start the NIS2 clocks).
	NIS2 bool
	// ClockCheck is how often the clock job looks for warnings to fire.
	ClockCheck time.Duration
}

func defaultNotify() NotifyConfig {
	return NotifyConfig{
		RetryBase:      30 * time.Second,
		RetryMax:       time.Hour,
		MaxAttempts:    8,
		ClientDeadline: 24 * time.Hour,
		ClockCheck:     time.Minute,
	}
}

// register adds the module's flags to the serve command.
func (c *NotifyConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.SMTPAddr, "notify-smtp-addr", c.SMTPAddr, "SMTP relay `host:port` for e-mail notifications (empty: e-mail channels are off)")
	fs.StringVar(&c.SMTPFrom, "notify-smtp-from", c.SMTPFrom, "sender `address` of e-mail notifications")
	fs.StringVar(&c.SMTPUsername, "notify-smtp-username", c.SMTPUsername, "SMTP `user` (AUTH PLAIN over TLS only)")
	fs.StringVar(&c.SMTPPassword, "notify-smtp-password", c.SMTPPassword, "SMTP `password` (prefer the environment variable CUSTODIA_NOTIFY_SMTP_PASSWORD)")
	fs.BoolVar(&c.SMTPRequireTLS, "notify-smtp-require-tls", c.SMTPRequireTLS, "refuse to send e-mail when the relay does not offer STARTTLS")
	fs.DurationVar(&c.RetryBase, "notify-retry-base", c.RetryBase, "first retry delay of a failed notification (`duration`, doubled on each attempt)")
	fs.DurationVar(&c.RetryMax, "notify-retry-max", c.RetryMax, "longest delay between notification retries (`duration`)")
	fs.IntVar(&c.MaxAttempts, "notify-max-attempts", c.MaxAttempts, "delivery `attempts` before a notification goes to the dead letters")
	fs.DurationVar(&c.ClientDeadline, "notify-client-deadline", c.ClientDeadline, "default contractual deadline to notify a client of a personal-data breach (`duration`)")
	fs.BoolVar(&c.NIS2, "notify-nis2", c.NIS2, "the operator is an essential or important entity under NIS2 (significant incidents start NIS2 clocks)")
	fs.DurationVar(&c.ClockCheck, "notify-clock-check", c.ClockCheck, "how often to check regulatory clocks for warnings (`duration`)")
}
