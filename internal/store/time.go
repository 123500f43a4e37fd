package store

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// TimeLayout is how timestamps are stored: UTC text that sorts in time order
// on both dialects (columns are TEXT).
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// TimeArg formats t for a TEXT timestamp column; the zero time becomes NULL.
func TimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(TimeLayout)
}

// ScanTime scans a TEXT timestamp column into *T; NULL leaves the zero time.
// Use it as rows.Scan(store.ScanTime(&p.StartedAt)).
func ScanTime(t *time.Time) interface{ Scan(any) error } { return (*scanTime)(t) }

type scanTime time.Time

func (s *scanTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*s = scanTime(time.Time{})
		return nil
	case string:
		return s.parse(x)
	case []byte:
		return s.parse(string(x))
	case time.Time:
		*s = scanTime(x.UTC())
		return nil
	default:
		return fmt.Errorf("scan time: unsupported type %T", v)
	}
}

func (s *scanTime) parse(x string) error {
	t, err := time.Parse(TimeLayout, x)
	if err != nil {
		t, err = time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return fmt.Errorf("scan time %q: %w", x, err)
		}
	}
	*s = scanTime(t.UTC())
	return nil
}

// Value implements driver.Valuer so a *scanTime can also be passed as an argument.
func (s *scanTime) Value() (driver.Value, error) { return TimeArg(time.Time(*s)), nil }
