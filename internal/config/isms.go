package config

import "flag"

// ISMSConfig holds the settings of the ISMS (evidence storage, reports).
// Flags are prefixed with the module's name so they never collide.
type ISMSConfig struct{}

func defaultISMS() ISMSConfig { return ISMSConfig{} }

// register adds the module's flags to the serve command.
func (c *ISMSConfig) register(fs *flag.FlagSet) { _ = fs }
