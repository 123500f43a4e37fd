package config

import (
	"testing"
	"time"
)

func TestIncidentsSLAPolicy(t *testing.T) {
	c := defaultIncidents()
	c.SLA = "critical=10m/30m/2h, low=48h/96h/240h"
	p, err := c.SLAPolicy()
	if err != nil {
		t.Fatal(err)
	}
	if p["critical"].Ack != 10*time.Minute || p["low"].Contain != 240*time.Hour || p["high"].Ack != 30*time.Minute {
		t.Errorf("SLAPolicy = %+v", p)
	}
	for _, bad := range []string{"urgent=1m/2m/3m", "high=1m/2m", "high=5m/1m/2h", "high=x/1h/2h"} {
		c.SLA = bad
		if _, err := c.SLAPolicy(); err == nil {
			t.Errorf("SLAPolicy(%q) accepted", bad)
		}
	}
	c = defaultIncidents()
	c.SMTPAddr = ":2525"
	if err := c.Validate(); err == nil {
		t.Error("a listener without report addresses was accepted")
	}
	c.ReportAddress = "phishing@example.com, report@example.com"
	if err := c.Validate(); err != nil || len(c.ReportAddresses()) != 2 {
		t.Errorf("Validate = %v, addresses %v", err, c.ReportAddresses())
	}
}
