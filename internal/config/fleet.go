package config

import (
	"flag"
	"time"
)

// FleetConfig holds the settings of the workstation fleet (enrollment, check-in).
// Flags are prefixed with the module's name so they never collide.
type FleetConfig struct {
	// CheckinInterval is how often agents check in (they add ±10 % jitter).
	CheckinInterval time.Duration
	// StaleAfter is how many check-in intervals without news flag a device
	// stale and raise a device_silent alert.
	StaleAfter int
	// Grace is how long a check may fail before its alert escalates.
	Grace time.Duration
	// GraceOverrides tunes the grace per check: "check_id=duration,…"
	// (for example "usb-storage-blocked=4h,os-updates=720h").
	GraceOverrides string
	// MaxCheckinBytes bounds a check-in or report body (413 beyond).
	MaxCheckinBytes int64
	// ClockSkew is how far a device's request time may be from the server's.
	ClockSkew time.Duration
}

func defaultFleet() FleetConfig {
	return FleetConfig{
		CheckinInterval: 5 * time.Minute,
		StaleAfter:      3,
		Grace:           72 * time.Hour,
		MaxCheckinBytes: 1 << 20,
		ClockSkew:       5 * time.Minute,
	}
}

// register adds the module's flags to the serve command.
func (c *FleetConfig) register(fs *flag.FlagSet) {
	fs.DurationVar(&c.CheckinInterval, "fleet-checkin-interval", c.CheckinInterval, "how often workstation agents check in (`duration`, ±10 % jitter)")
	fs.IntVar(&c.StaleAfter, "fleet-stale-after", c.StaleAfter, "flag a device stale and raise a device_silent alert after this `many` missed check-in intervals")
	fs.DurationVar(&c.Grace, "fleet-grace", c.Grace, "how long a posture check may fail before its alert escalates (`duration`)")
	fs.StringVar(&c.GraceOverrides, "fleet-grace-overrides", c.GraceOverrides, "per-check grace periods, `check=duration,…`")
	fs.Int64Var(&c.MaxCheckinBytes, "fleet-max-checkin-bytes", c.MaxCheckinBytes, "largest check-in or desk report body accepted, in `bytes`")
	fs.DurationVar(&c.ClockSkew, "fleet-clock-skew", c.ClockSkew, "how far an agent's clock may be from the server's (`duration`)")
}
