package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/alert"
	"github.com/custodia/custodia/internal/audit"
	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

func TestDPLocationsAndRuns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := org.Client{Code: "a", Name: "A"}, org.Client{Code: "b", Name: "B"}
		for _, c := range []*org.Client{&a, &b} {
			if err := st.CreateClient(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		all := identity.Scope{All: true}
		onlyA := identity.Scope{ClientIDs: []int64{a.ID}}
		la := store.DPLocation{Name: "A share", Path: "/srv/a", ClientID: a.ID, IntervalSeconds: 3600, Enabled: true}
		lb := store.DPLocation{Name: "B share", Path: "/srv/b", ClientID: b.ID, CDE: true, IntervalSeconds: 60, Enabled: true}
		for _, l := range []*store.DPLocation{&la, &lb} {
			if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DPCreateLocation(ctx, l) }); err != nil {
				t.Fatal(err)
			}
		}
		dup := store.DPLocation{Name: "again", Path: "/srv/a", IntervalSeconds: 60, Enabled: true}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DPCreateLocation(ctx, &dup) }); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate path: err = %v, want ErrConflict", err)
		}

		got, err := st.DPLocations(ctx, onlyA)
		if err != nil || len(got) != 1 || got[0].ID != la.ID || got[0].ClientCode != "a" {
			t.Fatalf("DPLocations(onlyA) = %+v, %v; want only A's", got, err)
		}
		if _, err := st.DPLocation(ctx, onlyA, lb.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("DPLocation(onlyA, B's) err = %v, want ErrNotFound", err)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DPRequestScan(ctx, onlyA, lb.ID) }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("DPRequestScan(onlyA, B's) err = %v, want ErrNotFound", err)
		}

		now := time.Now().UTC().Truncate(time.Second)
		due, err := st.DPDueLocations(ctx, now)
		if err != nil || len(due) != 2 {
			t.Fatalf("DPDueLocations before any run = %d, %v; want 2", len(due), err)
		}

		newest := now.Add(-time.Hour)
		run := store.DPRun{StartedAt: now.Add(-time.Second), FinishedAt: now, Status: store.DPRunComplete, FilesScanned: 3, Bytes: 300,
			FilesWithFindings: 1, FileErrors: 1, Counts: store.DPCounts{"CREDIT_CARD": 2, "EMAIL_ADDRESS": 1}, NewestFindingAt: &newest}
		files := []store.DPRunFile{
			{Path: "notes/a.txt", Bytes: 100, Findings: 3, Counts: store.DPCounts{"CREDIT_CARD": 2, "EMAIL_ADDRESS": 1}, ModifiedAt: &newest},
			{Path: "broken.csv", Error: "permission denied"},
		}
		al := &alert.Alert{Source: "dataprotection", Kind: "card_outside_cde", Severity: alert.SeverityCritical, ClientID: a.ID,
			Title: "Card data outside the CDE", DedupKey: "loc/notes/a.txt"}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DPRecordRun(ctx, &la, &run, files, []*alert.Alert{al}) }); err != nil {
			t.Fatal(err)
		}
		if run.ID == 0 || al.ID == 0 {
			t.Fatalf("run id %d alert id %d, want both set", run.ID, al.ID)
		}
		due, err = st.DPDueLocations(ctx, now.Add(time.Minute))
		if err != nil || len(due) != 1 || due[0].ID != lb.ID {
			t.Fatalf("DPDueLocations after A's run = %+v, %v; want only B", due, err)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DPRequestScan(ctx, onlyA, la.ID) }); err != nil {
			t.Fatal(err)
		}
		due, _ = st.DPDueLocations(ctx, now.Add(time.Minute))
		if len(due) != 2 {
			t.Fatalf("after scan now: %d due, want 2", len(due))
		}

		latest, err := st.DPLatestRuns(ctx, onlyA)
		if err != nil {
			t.Fatal(err)
		}
		lr, ok := latest[la.ID]
		if !ok || len(latest) != 1 || lr.Counts["CREDIT_CARD"] != 2 || lr.NewestFindingAt == nil || !lr.NewestFindingAt.Equal(newest) {
			t.Fatalf("DPLatestRuns = %+v", latest)
		}
		if _, err := st.DPRun(ctx, identity.Scope{ClientIDs: []int64{b.ID}}, run.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("DPRun(B's scope, A's run) err = %v, want ErrNotFound", err)
		}
		fs, err := st.DPRunFiles(ctx, onlyA, run.ID, 10, 0)
		if err != nil || len(fs) != 2 || fs[0].Path != "notes/a.txt" || fs[0].Counts["EMAIL_ADDRESS"] != 1 || fs[1].Error == "" {
			t.Fatalf("DPRunFiles = %+v, %v", fs, err)
		}
		if fs, _ := st.DPRunFiles(ctx, identity.Scope{ClientIDs: []int64{b.ID}}, run.ID, 10, 0); len(fs) != 0 {
			t.Fatalf("B's scope sees %d of A's files", len(fs))
		}
		runs, err := st.DPRuns(ctx, all, 0, 10, 0)
		if err != nil || len(runs) != 1 {
			t.Fatalf("DPRuns = %d, %v", len(runs), err)
		}

		entries, err := st.AuditEntries(ctx, audit.Filter{AllClients: true, Action: "dataprotection.scan"})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || !strings.Contains(entries[0].Detail, "CREDIT_CARD=2") {
			t.Fatalf("scan audit entries = %+v", entries)
		}

		// Configured locations are matched by path and kept in sync.
		cfg := store.DPLocation{Name: "Config", Path: "/srv/a", ClientID: a.ID, CDE: true, IntervalSeconds: 120}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DPSyncConfigLocation(ctx, &cfg) }); err != nil {
			t.Fatal(err)
		}
		l, err := st.DPLocation(ctx, all, la.ID)
		if err != nil || cfg.ID != la.ID || !l.CDE || l.ManagedBy != store.DPManagedConfig || l.IntervalSeconds != 120 {
			t.Fatalf("after sync: %+v, %v", l, err)
		}

		upd := *l
		upd.Name, upd.CDE = "Renamed", false
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DPUpdateLocation(ctx, onlyA, &upd) }); err != nil {
			t.Fatal(err)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DPDeleteLocation(ctx, onlyA, lb.ID) }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete B's location from A's scope: %v", err)
		}
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DPDeleteLocation(ctx, onlyA, la.ID) }); err != nil {
			t.Fatal(err)
		}
		if runs, _ := st.DPRuns(ctx, all, la.ID, 10, 0); len(runs) != 0 {
			t.Fatalf("runs of a deleted location: %d", len(runs))
		}
	})
}
