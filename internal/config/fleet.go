package config

import "flag"

// FleetConfig holds the settings of the workstation fleet (enrollment, check-in).
// Flags are prefixed with the module's name so they never collide.
type FleetConfig struct{}

func defaultFleet() FleetConfig { return FleetConfig{} }

// register adds the module's flags to the serve command.
func (c *FleetConfig) register(fs *flag.FlagSet) { _ = fs }
