package config

import (
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DataProtectionConfig holds the settings of data protection: the scan and
// redact API and the scheduled discovery scans. Flags are prefixed with the
// module's name so they never collide.
type DataProtectionConfig struct {
	// Locations are folders scanned on a schedule, declared in the
	// configuration (read-only in the console).
	Locations DataProtectionLocations
	// AllowedRoots are the folders under which locations added in the
	// console or the API may lie (comma-separated). Empty: such locations
	// are refused; only configured ones are scanned.
	AllowedRoots string
	// Interval is the default time between two scans of a location.
	Interval time.Duration
	// Tick is how often the scheduler looks for due scans.
	Tick time.Duration
	// MaxFileBytes: bigger files are skipped (counted, not scanned).
	MaxFileBytes int64
	// MaxFiles caps the files visited in one run.
	MaxFiles int
	// APIMaxBytes caps the text of one scan or redact request (413 beyond).
	APIMaxBytes int64
	// APIMaxItems caps the texts of one request.
	APIMaxItems int
}

func defaultDataProtection() DataProtectionConfig {
	return DataProtectionConfig{
		Interval:     24 * time.Hour,
		Tick:         time.Minute,
		MaxFileBytes: 256 << 20,
		MaxFiles:     1_000_000,
		APIMaxBytes:  1 << 20,
		APIMaxItems:  1000,
	}
}

// register adds the module's flags to the serve command.
func (c *DataProtectionConfig) register(fs *flag.FlagSet) {
	fs.Var(&c.Locations, "dataprotection-location",
		"folder scanned on a schedule for personal and card data: `PATH[;client=CODE][;cde][;every=DURATION][;name=NAME]`; repeat the flag or give a YAML list")
	fs.StringVar(&c.AllowedRoots, "dataprotection-allowed-roots", c.AllowedRoots,
		"comma-separated `folders` under which locations added in the console or API may lie (empty: only configured locations)")
	fs.DurationVar(&c.Interval, "dataprotection-interval", c.Interval, "default time between two discovery scans of a location (`duration`)")
	fs.DurationVar(&c.Tick, "dataprotection-tick", c.Tick, "how often the discovery scheduler looks for due scans (`duration`)")
	fs.Int64Var(&c.MaxFileBytes, "dataprotection-max-file-bytes", c.MaxFileBytes, "discovery skips files larger than this many `bytes`")
	fs.IntVar(&c.MaxFiles, "dataprotection-max-files", c.MaxFiles, "discovery visits at most this `many` files per run")
	fs.Int64Var(&c.APIMaxBytes, "dataprotection-api-max-bytes", c.APIMaxBytes, "largest text accepted by the scan and redact API, in `bytes` (413 beyond)")
	fs.IntVar(&c.APIMaxItems, "dataprotection-api-max-items", c.APIMaxItems, "most texts in one scan or redact API request")
}

// Roots returns the allowed roots, cleaned.
func (c *DataProtectionConfig) Roots() []string {
	var out []string
	for _, r := range strings.Split(c.AllowedRoots, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, filepath.Clean(r))
		}
	}
	return out
}

// DataProtectionLocation is one configured discovery location.
type DataProtectionLocation struct {
	Path   string
	Name   string
	Client string // client code; empty = operator-wide
	CDE    bool
	Every  time.Duration // 0 = the default interval
}

// DataProtectionLocations is the repeated --dataprotection-location flag.
type DataProtectionLocations []DataProtectionLocation

// String implements flag.Value.
func (l *DataProtectionLocations) String() string {
	if l == nil {
		return ""
	}
	parts := make([]string, 0, len(*l))
	for _, x := range *l {
		s := x.Path
		if x.Client != "" {
			s += ";client=" + x.Client
		}
		if x.CDE {
			s += ";cde"
		}
		if x.Every != 0 {
			s += ";every=" + x.Every.String()
		}
		if x.Name != "" {
			s += ";name=" + x.Name
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value: it adds the comma-separated locations in v.
func (l *DataProtectionLocations) Set(v string) error {
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		loc, err := parseDPLocation(item)
		if err != nil {
			return err
		}
		*l = append(*l, loc)
	}
	return nil
}

func parseDPLocation(item string) (DataProtectionLocation, error) {
	fields := strings.Split(item, ";")
	loc := DataProtectionLocation{Path: strings.TrimSpace(fields[0])}
	if !filepath.IsAbs(loc.Path) {
		return loc, fmt.Errorf("location %q: the path must be absolute", item)
	}
	loc.Path = filepath.Clean(loc.Path)
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		switch strings.ToLower(k) {
		case "client":
			loc.Client = strings.TrimSpace(v)
		case "name":
			loc.Name = strings.TrimSpace(v)
		case "cde":
			loc.CDE = true
			if v != "" {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return loc, fmt.Errorf("location %q: cde=%q is not true or false", item, v)
				}
				loc.CDE = b
			}
		case "every":
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d < time.Minute {
				return loc, fmt.Errorf("location %q: every=%q is not a duration of at least 1m", item, v)
			}
			loc.Every = d
		case "":
		default:
			return loc, fmt.Errorf("location %q: unknown setting %q (want client, cde, every or name)", item, k)
		}
	}
	if loc.Name == "" {
		loc.Name = loc.Path
	}
	return loc, nil
}
