package config

import "flag"

// IncidentsConfig holds the settings of incident intake and response (SMTP/IMAP intake, notifications).
// Flags are prefixed with the module's name so they never collide.
type IncidentsConfig struct{}

func defaultIncidents() IncidentsConfig { return IncidentsConfig{} }

// register adds the module's flags to the serve command.
func (c *IncidentsConfig) register(fs *flag.FlagSet) { _ = fs }
