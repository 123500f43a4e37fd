package config

import (
	"flag"
	"time"
)

// ISMSConfig holds the settings of the ISMS compliance module (snapshots,
// evidence). Flags are prefixed with the module's name so they never
// collide.
type ISMSConfig struct {
	// SnapshotInterval is how often the compliance snapshot of the day is
	// (re)written; the dashboard's trend reads one snapshot per day.
	SnapshotInterval time.Duration
}

func defaultISMS() ISMSConfig { return ISMSConfig{SnapshotInterval: time.Hour} }

// register adds the module's flags to the serve command.
func (c *ISMSConfig) register(fs *flag.FlagSet) {
	fs.DurationVar(&c.SnapshotInterval, "isms-snapshot-interval", c.SnapshotInterval, "how often the day's compliance snapshot is written for the dashboard's trend (`duration`)")
}
