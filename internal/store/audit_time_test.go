package store

import (
	"testing"
	"time"
)

func TestParseAuditTime(t *testing.T) {
	for _, s := range []string{"2026-03-01T09:30:00.123456Z", "2024-02-29T23:59:59.999999Z", "0001-01-01T00:00:00.000000Z"} {
		got, ok := parseAuditTime(s)
		want, err := time.Parse(TimeLayout, s)
		if !ok || err != nil || !got.Equal(want) || got.Format(TimeLayout) != s {
			t.Errorf("parseAuditTime(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"2026-02-29T00:00:00.000000Z", "2026-13-01T00:00:00.000000Z", "2026-03-01T24:00:00.000000Z",
		"2026-03-01T09:30:00.123456+00:00", "2026-03-01 09:30:00.123456Z", "2026-03-01T09:30:00.12345xZ", ""} {
		if got, ok := parseAuditTime(s); ok {
			t.Errorf("parseAuditTime(%q) = %v, want not ok", s, got)
		}
	}
	var a auditTime
	if err := a.Scan("2026-03-01T09:30:00Z"); err != nil || !time.Time(a).Equal(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)) {
		t.Errorf("Scan(RFC 3339) = %v, %v", time.Time(a), err)
	}
	if err := a.Scan("yesterday"); err == nil {
		t.Error("Scan(yesterday) succeeded")
	}
}
