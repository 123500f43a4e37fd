package config

import "flag"

// DataProtectionConfig holds the settings of data protection (scheduled discovery scans).
// Flags are prefixed with the module's name so they never collide.
type DataProtectionConfig struct{}

func defaultDataProtection() DataProtectionConfig { return DataProtectionConfig{} }

// register adds the module's flags to the serve command.
func (c *DataProtectionConfig) register(fs *flag.FlagSet) { _ = fs }
