package triage

import (
	"time"

	"github.com/custodia/custodia/internal/fleet"
)

func fleetReport(f *fixture) fleet.DeviceReport {
	return fleet.DeviceReport{ID: 9, DeviceID: 42, Hostname: "PC-ANA-01", ClientID: f.clientA, PersonID: f.ana.ID, SessionUser: "ana",
		OS: "windows", AgentVersion: "1.0.0", Category: "malware", Text: "A window asks me to pay in bitcoin", ReportedAt: time.Now()}
}
