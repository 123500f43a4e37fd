package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/custodia/custodia/internal/identity"
	"github.com/custodia/custodia/internal/org"
	"github.com/custodia/custodia/internal/store"
	"github.com/custodia/custodia/internal/store/storetest"
)

// TestFleetBeat checks the one-statement heartbeat: it stores the heartbeat
// and answers the device's state only for the current credential of a
// device not revoked with a sequence above the last one, exactly once per
// sequence even when the same one arrives concurrently.
func TestFleetBeat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		cl := &org.Client{Code: "a", Name: "A"}
		if err := st.CreateClient(ctx, cl); err != nil {
			t.Fatal(err)
		}
		var id int64
		err := st.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.FleetSecretCreate(ctx, &store.FleetEnrollSecret{Name: "s", ClientID: cl.ID}, "hash-s"); err != nil {
				return err
			}
			dev, _, err := tx.FleetEnroll(ctx, "hash-s", store.FleetDeviceFacts{HardwareID: "hw-1", Hostname: "PC-1", OS: "linux"}, "cred-1", now)
			if err != nil {
				return err
			}
			id = dev.ID
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		hb := store.FleetHeartbeat{SessionUser: "ana", AgentVersion: "2.0", UptimeS: 77, PolicyDigest: "d1"}
		later := now.Add(time.Minute)
		dc, err := st.FleetBeat(ctx, id, "cred-1", 10, hb, later)
		if err != nil {
			t.Fatalf("FleetBeat: %v", err)
		}
		if dc.ID != id || dc.ClientID != cl.ID || dc.OS != "linux" || dc.Hostname != "PC-1" || dc.LastSeq != 10 || dc.Digest != "d1" || dc.Revoked {
			t.Errorf("FleetBeat state = %+v, want device %d of client %d, linux, PC-1, seq 10, digest d1", dc, id, cl.ID)
		}
		dev, err := st.FleetDevice(ctx, identity.Scope{All: true}, id)
		if err != nil {
			t.Fatal(err)
		}
		if dev.SessionUser != "ana" || dev.AgentVersion != "2.0" || dev.UptimeS != 77 || dev.PolicyDigest != "d1" || !dev.LastSeenAt.Equal(later) {
			t.Errorf("device after heartbeat = %+v, want ana, 2.0, 77 s, d1, seen %v", dev, later)
		}
		for _, tc := range []struct {
			name string
			id   int64
			cred string
			seq  int64
		}{
			{"same sequence", id, "cred-1", 10},
			{"lower sequence", id, "cred-1", 9},
			{"wrong credential", id, "cred-x", 11},
			{"unknown device", id + 1000, "cred-1", 11},
		} {
			if _, err := st.FleetBeat(ctx, tc.id, tc.cred, tc.seq, hb, later); !errors.Is(err, store.ErrFleetReplay) {
				t.Errorf("FleetBeat(%s) = %v, want ErrFleetReplay", tc.name, err)
			}
		}
		// The same sequence sent concurrently is accepted once.
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, replays := 0, 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := st.FleetBeat(ctx, id, "cred-1", 20, hb, later)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, store.ErrFleetReplay):
					replays++
				default:
					t.Errorf("concurrent FleetBeat: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 || replays != 7 {
			t.Errorf("8 concurrent heartbeats with one sequence: %d accepted, %d replays; want 1 and 7", ok, replays)
		}
		// A synchronous check-in after the heartbeat sees its sequence.
		err = st.InTx(ctx, func(tx *store.Tx) error { return tx.FleetCheckin(ctx, id, "cred-1", 20, hb, later) })
		if !errors.Is(err, store.ErrFleetReplay) {
			t.Errorf("FleetCheckin with the heartbeat's sequence = %v, want ErrFleetReplay", err)
		}
		if st.Dialect() == store.Postgres {
			// The heartbeat's clause turns synchronous_commit off inside
			// the statement's own transaction only, not for the session.
			conn, err := st.DB().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var inside, after string
			q := "UPDATE fleet_devices SET uptime_s = uptime_s" + store.FleetBeatAsync + " WHERE id = $1 RETURNING current_setting('synchronous_commit')"
			if err := conn.QueryRowContext(ctx, q, id).Scan(&inside); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if err := conn.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&after); err != nil {
				t.Fatal(err)
			}
			conn.Close()
			if inside != "off" || after != "on" {
				t.Errorf("synchronous_commit in the heartbeat's transaction = %q, after it = %q; want off, then on", inside, after)
			}
		}
		// Revocation takes effect on the next heartbeat.
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.FleetDeviceRevoke(ctx, identity.Scope{All: true}, id) }); err != nil {
			t.Fatal(err)
		}
		if _, err := st.FleetBeat(ctx, id, "cred-1", 30, hb, later); !errors.Is(err, store.ErrFleetReplay) {
			t.Errorf("FleetBeat of a revoked device = %v, want ErrFleetReplay", err)
		}
	})
}
