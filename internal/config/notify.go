package config

import "flag"

// NotifyConfig holds the settings of outgoing notifications (SMTP server for
// e-mail, webhook defaults). Flags are prefixed with "notify-".
type NotifyConfig struct{}

func defaultNotify() NotifyConfig { return NotifyConfig{} }

// register adds the module's flags to the serve command.
func (c *NotifyConfig) register(fs *flag.FlagSet) { _ = fs }
